//! What a worker shares with the rest of kassad: its identity, the
//! status it reports (through a `watch` of [`DeviceStatus`]) and the flag
//! that stops it; and how it reports connection changes and garbled data.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::log_limit::{LogLimit, suppressed_note};

/// What a device is doing now, as its worker reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceStatus {
    /// Whether the device is open and working.
    pub connected: bool,
    /// The last error, empty if none since it connected.
    pub last_error: String,
    /// Scans read since kassad started.
    pub scan_count: u64,
    /// Reads dropped since kassad started: garbled data from the device,
    /// and scans no checkout or claim wanted.
    pub dropped_count: u64,
    /// Whether the worker has reported at all: until then `connected` is
    /// only a default.
    pub known: bool,
    /// Times the device connected since kassad started (for the metrics).
    pub connects: u64,
    /// Times it went away after it had connected.
    pub disconnects: u64,
    /// Of `dropped_count`, the reads that were garbled data, not scans.
    pub garbled_count: u64,
}

/// Records a connection change, logging only transitions and new errors.
pub fn report(
    status: &watch::Sender<DeviceStatus>,
    what: &str,
    connected: bool,
    error: Option<String>,
) {
    status.send_if_modified(|s| {
        let changed = !s.known
            || s.connected != connected
            || error.as_ref().is_some_and(|e| *e != s.last_error);
        s.connects += u64::from(connected && !(s.known && s.connected));
        s.disconnects += u64::from(s.known && s.connected && !connected);
        s.known = true;
        if changed {
            match (&error, connected) {
                (None, true) => info!("{what} connected"),
                (Some(e), true) => warn!("{what}: {e}"),
                (Some(e), false) => warn!("{what} unavailable: {e}"),
                (None, false) => info!("{what} disconnected"),
            }
        }
        s.connected = connected;
        // The last error stays after the device comes back: a display that
        // hung for a moment still says why.
        if let Some(e) = error {
            s.last_error = e;
        }
        changed
    });
}

/// Counts garbled data from a device, keeps it as the last error, and logs
/// it at a bounded rate.
pub fn record_garbage(
    status: &watch::Sender<DeviceStatus>,
    limit: &mut LogLimit,
    what: &str,
    error: &dyn fmt::Display,
) {
    let text = error.to_string();
    status.send_modify(|s| {
        s.dropped_count += 1;
        s.garbled_count += 1;
        if s.last_error != text {
            s.last_error = text;
        }
    });
    if let Some(suppressed) = limit.admit(Instant::now()) {
        warn!("{what}: {error}{}", suppressed_note(suppressed));
    }
}

/// What every worker shares: who it is, where it reports, when it stops.
#[derive(Debug, Clone)]
pub struct Link {
    /// For log lines: `scanner "till"`.
    pub what: String,
    /// Its status, as the rest of kassad sees it.
    pub status: watch::Sender<DeviceStatus>,
    /// Set when kassad stops.
    pub stop: Arc<AtomicBool>,
}

impl Link {
    pub(super) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub(super) fn report(&self, connected: bool, error: Option<String>) {
        report(&self.status, &self.what, connected, error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connects_and_disconnects_count_transitions_only() {
        let (status, rx) = watch::channel(DeviceStatus::default());
        // Absent at start: not a disconnect, it never connected.
        report(&status, "scanner \"t\"", false, Some("not there".into()));
        assert_eq!((rx.borrow().connects, rx.borrow().disconnects), (0, 0));
        report(&status, "scanner \"t\"", true, None);
        // An error while it stays connected, and the same state again.
        report(&status, "scanner \"t\"", true, Some("view skipped".into()));
        report(&status, "scanner \"t\"", true, None);
        assert_eq!((rx.borrow().connects, rx.borrow().disconnects), (1, 0));
        report(&status, "scanner \"t\"", false, Some("unplugged".into()));
        report(
            &status,
            "scanner \"t\"",
            false,
            Some("still unplugged".into()),
        );
        report(&status, "scanner \"t\"", true, None);
        assert_eq!((rx.borrow().connects, rx.borrow().disconnects), (2, 1));

        let mut limit = LogLimit::new();
        record_garbage(&status, &mut limit, "scanner \"t\"", &"bad frame");
        assert_eq!(
            (rx.borrow().garbled_count, rx.borrow().dropped_count),
            (1, 1)
        );
    }
}
