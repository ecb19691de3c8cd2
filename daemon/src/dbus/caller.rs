//! Who is calling: the sender of a message, the callers that must be
//! noticed when they leave the bus, and signals addressed to one caller
//! alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::warn;
use zbus::Connection;
use zbus::message::Header;
use zbus::names::{BusName, UniqueName};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedObjectPath;

use crate::core::Caller;

/// The callers kassad has handed something that must end when they leave
/// (a wait, a checkout, a claim), by unique name. A name is added before
/// the bus is asked whether its owner is still there, and removed when it
/// leaves: so a caller that disconnects right after its call is noticed
/// whichever comes first, the call or the news that it left.
#[derive(Clone)]
pub(super) struct Presence {
    callers: Arc<Mutex<HashMap<String, CancellationToken>>>,
    bus: zbus::fdo::DBusProxy<'static>,
}

impl Presence {
    pub(super) async fn new(conn: &Connection) -> zbus::Result<Presence> {
        Ok(Presence {
            callers: Arc::default(),
            bus: zbus::fdo::DBusProxy::new(conn).await?,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.callers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The caller of the message with `header`, tracked until it leaves.
    pub(super) fn caller(&self, header: &Header<'_>) -> Caller {
        let name = sender(header);
        let gone = self.lock().entry(name.clone()).or_default().clone();
        let this = self.clone();
        let check = name.clone();
        tokio::spawn(async move {
            let present = match zbus::names::BusName::try_from(check.as_str()) {
                Ok(bus_name) => this.bus.name_has_owner(bus_name).await.unwrap_or(true),
                Err(_) => false,
            };
            if !present {
                this.left(&check);
            }
        });
        Caller::new(name, gone)
    }

    /// The user id the caller runs as, as the bus knows it.
    pub(super) async fn unix_user(&self, header: &Header<'_>) -> Option<u32> {
        let name = BusName::try_from(sender(header)).ok()?;
        self.bus.get_connection_unix_user(name).await.ok()
    }

    /// `name` left the bus: end what it started.
    fn left(&self, name: &str) {
        if let Some(gone) = self.lock().remove(name) {
            gone.cancel();
        }
    }
}

/// The unique name of the message's sender (empty if it has none).
pub(super) fn sender(header: &Header<'_>) -> String {
    header.sender().map(|s| s.to_string()).unwrap_or_default()
}

/// An emitter that sends only to `owner` (unicast), never broadcast.
pub(super) fn emitter_for(
    conn: &Connection,
    path: &OwnedObjectPath,
    owner: &str,
) -> zbus::Result<SignalEmitter<'static>> {
    let emitter = SignalEmitter::new(conn, path.clone())?;
    Ok(match UniqueName::try_from(owner.to_string()) {
        Ok(name) => emitter.set_destination(BusName::Unique(name)),
        Err(_) => emitter,
    })
}

/// Callers that leave the bus lose their waits, checkouts and claims.
pub(super) async fn watch_owners(
    conn: &Connection,
    presence: Presence,
    stop: CancellationToken,
) -> zbus::Result<()> {
    let proxy = zbus::fdo::DBusProxy::new(conn).await?;
    let mut changes = proxy.receive_name_owner_changed().await?;
    let stopping = stop.clone();
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        while let Some(change) = changes.next().await {
            let Ok(args) = change.args() else { continue };
            if args.new_owner().is_none() && args.name().starts_with(':') {
                presence.left(args.name());
            }
        }
        if !stopping.is_cancelled() {
            warn!("stopped watching bus clients");
        }
    }));
    Ok(())
}
