//! `org.kassa.Checkout1`, one object per checkout session, and the task
//! that forwards the session's events to its owner as signals and its
//! snapshot as `PropertiesChanged`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use tracing::debug;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedObjectPath, Value};
use zbus::{Connection, interface};

use super::ROOT;
use super::caller::{emitter_for, sender};
use super::error::KassaError;
use super::options;
use super::properties::{Property, Published};
use crate::core::{CheckoutHandle, CodeScan, SessionControl, SessionEvent, SessionSnapshot};

/// How many finished checkouts stay on the bus for their owners to read;
/// older ones are removed, so memory does not grow with the checkout rate.
const KEEP_FINISHED: usize = 8;

/// Finished checkout objects still on the bus, oldest first.
#[derive(Clone, Default)]
pub(super) struct Finished(Arc<Mutex<VecDeque<OwnedObjectPath>>>);

impl Finished {
    /// Records a finished session; returns the one to remove, if any.
    fn retire(&self, path: OwnedObjectPath) -> Option<OwnedObjectPath> {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        list.push_back(path);
        if list.len() > KEEP_FINISHED {
            list.pop_front()
        } else {
            None
        }
    }
}

/// A payment code as `ScanPaymentCode` and `TakeCode` return it: code,
/// channel, source.
pub(super) fn code_reply(scan: &CodeScan) -> (String, String, String) {
    (
        scan.code.as_str().to_string(),
        scan.channel.to_string(),
        scan.source.as_str().to_string(),
    )
}

/// `org.kassa.Checkout1`.
pub struct CheckoutIface {
    control: SessionControl,
}

impl CheckoutIface {
    fn asked_by_owner(&self, header: Option<&Header<'_>>) -> bool {
        header.is_some_and(|h| self.control.is_owner(&sender(h)))
    }
}

#[interface(name = "org.kassa.Checkout1")]
impl CheckoutIface {
    /// Cancel the checkout (owner only).
    async fn cancel(&self, #[zbus(header)] header: Header<'_>) -> Result<(), KassaError> {
        Ok(self.control.cancel(&sender(&header)).await?)
    }

    /// End the checkout with a result (owner only).
    async fn finish(
        &self,
        status: String,
        message: String,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), KassaError> {
        let status = options::payment_status(&status)?;
        Ok(self
            .control
            .finish(&sender(&header), status, message)
            .await?)
    }

    /// The checkout's payment code, once (owner only): at once if it was
    /// read, else when it is. For an owner that subscribed to
    /// `CodeScanned` only after `BeginCheckout` returned.
    #[zbus(out_args("code", "channel", "source"))]
    async fn take_code(
        &self,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(String, String, String), KassaError> {
        Ok(code_reply(&self.control.take_code(&sender(&header)).await?))
    }

    /// Where the checkout is.
    #[zbus(property)]
    async fn state(&self) -> String {
        self.control.snapshot.borrow().state.as_str().to_string()
    }

    /// The payment code's channel, once scanned; empty for anyone but the
    /// owner.
    #[zbus(property)]
    async fn channel(&self, #[zbus(header)] header: Option<Header<'_>>) -> String {
        if !self.asked_by_owner(header.as_ref()) {
            return String::new();
        }
        self.control.snapshot.borrow().channel.clone()
    }

    /// The order shown, as JSON; empty for anyone but the owner.
    #[zbus(property)]
    async fn order(&self, #[zbus(header)] header: Option<Header<'_>>) -> String {
        if !self.asked_by_owner(header.as_ref()) {
            return String::new();
        }
        self.control.snapshot.borrow().order_json.clone()
    }

    /// The payment code was read (sent to the owner only).
    #[zbus(signal)]
    async fn code_scanned(
        emitter: &SignalEmitter<'_>,
        code: &str,
        channel: &str,
        source: &str,
    ) -> zbus::Result<()>;

    /// An order went on the display (sent to the owner only).
    #[zbus(signal)]
    async fn order_shown(emitter: &SignalEmitter<'_>, order_json: &str) -> zbus::Result<()>;

    /// The checkout ended (sent to the owner only).
    #[zbus(signal)]
    async fn finished(emitter: &SignalEmitter<'_>, state: &str, message: &str) -> zbus::Result<()>;
}

/// The properties of `org.kassa.Checkout1` that change, as read from the
/// session's snapshot. `PropertiesChanged` goes to the owner alone, so it
/// carries `Channel` and `Order` too.
const CHECKOUT_PROPERTIES: &[Property<SessionSnapshot>] = &[
    ("State", |s| Value::from(s.state.as_str())),
    ("Channel", |s| Value::from(s.channel.as_str())),
    ("Order", |s| Value::from(s.order_json.as_str())),
];

/// Serves the session of `handle` on a new object, forwards its events
/// until it finishes, then keeps the object for [`KEEP_FINISHED`] more
/// sessions.
pub(super) async fn serve_checkout(
    conn: &Connection,
    mut handle: CheckoutHandle,
    stop: CancellationToken,
    finished: Finished,
) -> zbus::Result<OwnedObjectPath> {
    let path = OwnedObjectPath::try_from(format!("{ROOT}/checkout/{}", handle.id))?;
    let server = conn.object_server();
    server
        .at(
            path.clone(),
            CheckoutIface {
                control: handle.control.clone(),
            },
        )
        .await?;
    let emitter = emitter_for(conn, &path, &handle.owner)?;
    let conn = conn.clone();
    let removal_path = path.clone();
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        let mut snapshot = handle.control.snapshot.clone();
        let mut published = Published::new(
            "org.kassa.Checkout1",
            CHECKOUT_PROPERTIES,
            snapshot.borrow_and_update().clone(),
        );
        let mut snapshot_open = true;
        loop {
            tokio::select! {
                event = handle.events.recv() => {
                    let Some(event) = event else { break };
                    let sent = match &event {
                        SessionEvent::CodeScanned(scan) => {
                            CheckoutIface::code_scanned(&emitter, scan.code.as_str(), scan.channel.as_str(), scan.source.as_str()).await
                        }
                        SessionEvent::OrderShown(json) => CheckoutIface::order_shown(&emitter, json).await,
                        SessionEvent::Finished { state, message } => {
                            // Properties first, so a client reacting to
                            // Finished reads the final state.
                            let now = snapshot.borrow().clone();
                            published.publish(&emitter, now).await;
                            CheckoutIface::finished(&emitter, state.as_str(), message).await
                        }
                    };
                    match sent {
                        Ok(()) => debug!("{}: sent {event:?} to {}", removal_path.as_str(), handle.owner),
                        Err(e) => debug!("checkout signal not delivered: {e}"),
                    }
                    if matches!(event, SessionEvent::Finished { .. }) {
                        break;
                    }
                }
                // The session drops its snapshot sender when it ends, with
                // Finished still queued: stop watching, keep draining events.
                changed = snapshot.changed(), if snapshot_open => {
                    match changed {
                        Ok(()) => {
                            let now = snapshot.borrow().clone();
                            published.publish(&emitter, now).await;
                        }
                        Err(_) => snapshot_open = false,
                    }
                }
            }
        }
        if let Some(oldest) = finished.retire(removal_path) {
            if let Err(e) = conn.object_server().remove::<CheckoutIface, _>(oldest).await {
                debug!("removing checkout object: {e}");
            }
        }
    }));
    Ok(path)
}
