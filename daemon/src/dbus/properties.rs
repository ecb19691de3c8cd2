//! `PropertiesChanged` for objects whose properties are read from a
//! snapshot (a checkout's [`SessionSnapshot`](crate::core::SessionSnapshot),
//! a device's [`DeviceStatus`](crate::devices::DeviceStatus)): the one
//! piece of code that compares the snapshot last published with the new one
//! and sends what differs.
//!
//! The signal is built from the snapshot itself rather than through the
//! interface, so it never waits on the object server's lock of the
//! interface (which a method call awaiting this very session may hold).

use std::collections::HashMap;

use tracing::debug;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::Value;

/// One property of an interface whose properties are read from a snapshot
/// `S`: its D-Bus name, and its value in a snapshot.
pub(super) type Property<S> = (&'static str, fn(&S) -> Value<'_>);

/// The snapshot of one object last published on the bus.
pub(super) struct Published<S: 'static> {
    interface: &'static str,
    properties: &'static [Property<S>],
    last: S,
}

impl<S: 'static> Published<S> {
    /// `first` is what the bus has seen (read through the interface) so far.
    pub(super) fn new(
        interface: &'static str,
        properties: &'static [Property<S>],
        first: S,
    ) -> Published<S> {
        Published {
            interface,
            properties,
            last: first,
        }
    }

    /// The snapshot last published.
    pub(super) fn last(&self) -> &S {
        &self.last
    }

    /// Emits `PropertiesChanged` for what differs between the last snapshot
    /// and `now`, which becomes the last.
    pub(super) async fn publish(&mut self, emitter: &SignalEmitter<'_>, now: S) {
        let changed: HashMap<&str, Value<'_>> = self
            .properties
            .iter()
            .filter_map(|(name, value)| {
                let new = value(&now);
                (new != value(&self.last)).then_some((*name, new))
            })
            .collect();
        properties_changed(emitter, self.interface, changed).await;
        self.last = now;
    }
}

/// Emits one `PropertiesChanged` signal, if anything changed.
pub(super) async fn properties_changed(
    emitter: &SignalEmitter<'_>,
    interface: &'static str,
    changed: HashMap<&str, Value<'_>>,
) {
    if changed.is_empty() {
        return;
    }
    let Ok(name) = zbus::names::InterfaceName::try_from(interface) else {
        return;
    };
    let sent = zbus::fdo::Properties::properties_changed(
        emitter,
        name,
        changed,
        std::borrow::Cow::Borrowed(&[]),
    )
    .await;
    if let Err(e) = sent {
        debug!("PropertiesChanged on {interface} not sent: {e}");
    }
}
