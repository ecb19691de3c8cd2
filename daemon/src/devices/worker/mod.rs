//! The device worker: one thread per device that opens it, drives it
//! through the HAL's blocking traits, reopens it with backoff when it goes
//! away, and reports its status.
//!
//! Every family runs on the same two workers, [`ScannerWorker`] and
//! [`DisplayWorker`]; what a family adds is an [`Open`]: how to open one of
//! its devices (and, if it likes, how to wait before trying again). What
//! the worker does about an error is decided by its
//! [`ErrorKind`] alone, in [`Action`].
//!
//! - [`backoff`]: the waits between attempts to open a device;
//! - [`link`]: what a worker shares with the rest of kassad (its status,
//!   the stop flag) and how it reports;
//! - [`scanner`]: the scanner worker and where its scans go;
//! - [`display`]: the display worker, its view slot and its deadline
//!   watchdog.
//!
//! This module is the leaf of `devices`: it knows the HAL's traits and
//! nothing of any family, of the configuration or of the core.

pub mod backoff;
pub mod display;
pub mod link;
pub mod scanner;

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use kassa_hal::{ErrorKind, ErrorType};

pub use backoff::{Backoff, sleep_unless_stopped};
pub use display::{Busy, DisplayWorker, ViewSlot, spawn_display};
pub use link::{DeviceStatus, Link, record_garbage, report};
pub use scanner::{RoutedScan, ScanSink, ScannerWorker, spawn_scanner};

/// How long one poll of a scanner waits by default: also how soon a
/// trigger change or a stop is seen.
pub const POLL: Duration = Duration::from_millis(100);

/// What a worker does about an error, by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The device is gone or broken: drop the handle, report it, and open
    /// it again after a pause.
    Reopen,
    /// The device sent something unusable (a garbled scan) or was asked
    /// for something it cannot do (a view it cannot render): count it or
    /// say so, keep the device, go on with the next read or view.
    Skip,
    /// The device is busy or refuses for now: report it, keep the device,
    /// try again after a moment.
    Retry,
}

impl Action {
    /// What to do about an error of `kind`.
    pub fn for_kind(kind: ErrorKind) -> Action {
        match kind {
            ErrorKind::InvalidData | ErrorKind::Unsupported => Action::Skip,
            ErrorKind::Busy => Action::Retry,
            // Disconnected, Timeout, Other, and kinds added later.
            _ => Action::Reopen,
        }
    }
}

/// Why a worker waits before opening its device again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// The device is not there (an open failed with `Disconnected`).
    Absent,
    /// Opening it failed otherwise (permission, busy, bad settings).
    Failed,
    /// It was open and went away.
    Lost,
}

/// How to open one device of a family: the piece a new family adds.
///
/// The opener is made on the worker's thread (see [`spawn_scanner`]), and
/// every device it opens lives and dies there: neither need be `Send`.
pub trait Open {
    /// The open device: a [`Scanner`](kassa_hal::blocking::Scanner) or a
    /// [`CustomerDisplay`](kassa_hal::blocking::CustomerDisplay).
    type Device: ErrorType<Error: fmt::Display>;
    /// Why it could not be opened; its kind says whether it is absent.
    type Error: kassa_hal::Error + fmt::Display;

    /// Opens the device.
    ///
    /// # Errors
    ///
    /// `Disconnected` when it is not there; any other kind when it is but
    /// cannot be opened.
    fn open(&mut self) -> Result<Self::Device, Self::Error>;

    /// Waits before the next attempt to open; false when asked to stop
    /// meanwhile. By default, the backoff: 250 ms doubling to 4 s.
    fn pause(&mut self, why: Pause, backoff: &mut Backoff, stop: &AtomicBool) -> bool {
        let _ = why;
        sleep_unless_stopped(stop, backoff.next_wait())
    }

    /// How long one poll of a scanner waits.
    fn poll_wait(&self) -> Duration {
        POLL
    }
}

/// Why a device that was open is not any more, in the words of its error.
fn lost(error: &impl fmt::Display, kind: ErrorKind) -> String {
    let text = error.to_string();
    if kind == ErrorKind::Disconnected && !text.contains("disconnected") {
        format!("device disconnected ({text})")
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
