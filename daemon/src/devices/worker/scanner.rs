//! The scanner worker: keeps one scanner open, follows its trigger and
//! hands every scan to the core's sink.

use std::fmt;
use std::sync::Arc;

use kassa_hal::blocking::Scanner;
use kassa_hal::{Error as _, ErrorKind, Scan};
use tokio::sync::watch;
use tracing::debug;

use super::{Action, Backoff, Link, Open, Pause, lost, record_garbage, sleep_unless_stopped};
use crate::log_limit::LogLimit;

/// Where scanner workers hand their scans: called on the worker's own
/// thread, so a scan reaches the core without waiting for a scheduler.
pub type ScanSink = Arc<dyn Fn(RoutedScan) + Send + Sync>;

/// A scan with the device it came from.
#[derive(Debug)]
pub struct RoutedScan {
    /// Device name.
    pub device: String,
    /// The scan.
    pub scan: Scan,
}

enum Ended {
    Stopped,
    Lost(String),
}

/// Keeps one scanner open and reads it until kassad stops.
pub struct ScannerWorker<O> {
    /// Device name, on every scan it hands on.
    pub name: String,
    /// Identity, status, stop.
    pub link: Link,
    /// How to open it.
    pub opener: O,
    /// Whether a checkout or claim wants codes; followed with
    /// [`Scanner::set_trigger`].
    pub trigger: watch::Receiver<bool>,
    /// Where scans go.
    pub scans: ScanSink,
    /// Bounds the log lines about garbled reads.
    pub garbage_log: LogLimit,
}

impl<O> ScannerWorker<O>
where
    O: Open,
    O::Device: Scanner,
{
    /// Runs until kassad stops.
    pub fn run(mut self) {
        let mut backoff = Backoff::new();
        while !self.link.stopped() {
            let pause = match self.opener.open() {
                Ok(device) => {
                    backoff = Backoff::new();
                    self.link.report(true, None);
                    match self.serve(device) {
                        Ended::Stopped => return,
                        Ended::Lost(why) => {
                            self.link.report(false, Some(why));
                            Pause::Lost
                        }
                    }
                }
                Err(e) => {
                    let absent = e.kind() == ErrorKind::Disconnected;
                    self.link.report(false, Some(e.to_string()));
                    if absent { Pause::Absent } else { Pause::Failed }
                }
            };
            if !self.opener.pause(pause, &mut backoff, &self.link.stop) {
                return;
            }
        }
    }

    /// Reads until the device fails (says why) or the worker is stopped;
    /// the device is dropped on return.
    fn serve(&mut self, mut device: O::Device) -> Ended {
        // Put the scanner into a known state: it may have been left
        // triggered by a kassad that was killed before it could send the
        // trigger-off sequence.
        let wanted = *self.trigger.borrow_and_update();
        if let Err(e) = device.set_trigger(wanted)
            && let Some(ended) = self.failed(&e)
        {
            return ended;
        }
        let wait = self.opener.poll_wait();
        loop {
            if self.link.stopped() {
                if let Err(e) = device.set_trigger(false) {
                    debug!("{}: trigger off on stop: {e}", self.link.what);
                }
                return Ended::Stopped;
            }
            if self.trigger.has_changed().unwrap_or(false) {
                let on = *self.trigger.borrow_and_update();
                if let Err(e) = device.set_trigger(on)
                    && let Some(ended) = self.failed(&e)
                {
                    return ended;
                }
            }
            match device.poll_scan(wait) {
                Ok(Some(scan)) => (self.scans)(RoutedScan {
                    device: self.name.clone(),
                    scan,
                }),
                Ok(None) => {}
                Err(e) => {
                    if let Some(ended) = self.failed(&e) {
                        return ended;
                    }
                }
            }
        }
    }

    /// Acts on an error of the open device: `Some` when it must be
    /// reopened.
    fn failed<E: kassa_hal::Error + fmt::Display>(&mut self, e: &E) -> Option<Ended> {
        match Action::for_kind(e.kind()) {
            Action::Skip if e.kind() == ErrorKind::InvalidData => {
                record_garbage(&self.link.status, &mut self.garbage_log, &self.link.what, e);
                None
            }
            Action::Skip | Action::Retry => {
                // Still open, but it says no: say so, and do not ask again
                // at once.
                self.link.report(true, Some(e.to_string()));
                sleep_unless_stopped(&self.link.stop, self.opener.poll_wait());
                None
            }
            Action::Reopen => Some(Ended::Lost(lost(e, e.kind()))),
        }
    }
}

/// Starts the worker of a scanner on a thread of its own. `make` builds
/// the opener there.
///
/// # Errors
///
/// The thread could not be started.
pub fn spawn_scanner<O, F>(
    name: String,
    link: Link,
    trigger: watch::Receiver<bool>,
    scans: ScanSink,
    make: F,
) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> O + Send + 'static,
    O: Open,
    O::Device: Scanner,
{
    std::thread::Builder::new()
        .name(format!("scanner-{name}"))
        .spawn(move || {
            ScannerWorker {
                name,
                link,
                opener: make(),
                trigger,
                scans,
                garbage_log: LogLimit::new(),
            }
            .run();
        })
}
