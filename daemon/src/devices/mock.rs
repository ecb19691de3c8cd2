//! Simulated devices, for the demo, for tests and for developers without
//! hardware: the drivers' scripted mock scanner, and a display that writes
//! what it shows to the log. Each is driven from outside through its
//! [`Simulator`] (`org.kassa.Simulator1`): inject a scan, unplug and plug
//! it back, make its next call fail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kassa_drivers::mock::{self, MockError, MockScanner, MockScannerHandle};
use kassa_hal::blocking::{CustomerDisplay, Scanner};
use kassa_hal::{Capabilities, ErrorKind, ErrorType, Scan, View, mask};
use tracing::{info, warn};

use super::worker::Open;

/// A simulated device's controls, for the simulator.
#[derive(Debug)]
pub struct Simulator {
    reads_scans: bool,
    unplugged: AtomicBool,
    /// The open scanner's handle, while a scanner is open.
    scanner: Mutex<Option<MockScannerHandle>>,
    /// What the display's next view fails with.
    display_fails: Mutex<Option<ErrorKind>>,
}

/// Why the simulator could not do what it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulatorError {
    /// The device is unplugged, or not open yet.
    NotConnected,
    /// A display reads nothing.
    NotAScanner,
}

impl std::fmt::Display for SimulatorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SimulatorError::NotConnected => "the device is not connected",
            SimulatorError::NotAScanner => "the device is a display: it reads no scans",
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Simulator {
    /// The controls of a simulated scanner.
    pub fn scanner() -> Arc<Simulator> {
        Arc::new(Simulator::new(true))
    }

    /// The controls of a simulated display.
    pub fn display() -> Arc<Simulator> {
        Arc::new(Simulator::new(false))
    }

    fn new(reads_scans: bool) -> Simulator {
        Simulator {
            reads_scans,
            unplugged: AtomicBool::new(false),
            scanner: Mutex::new(None),
            display_fails: Mutex::new(None),
        }
    }

    /// The scanner reads `scan`, as if a customer had shown it.
    ///
    /// # Errors
    ///
    /// The device is a display, or not connected.
    pub fn inject(&self, scan: Scan) -> Result<(), SimulatorError> {
        if !self.reads_scans {
            return Err(SimulatorError::NotAScanner);
        }
        let pushed = !self.unplugged.load(Ordering::SeqCst)
            && lock(&self.scanner)
                .as_ref()
                .is_some_and(|handle| handle.push(scan));
        pushed.then_some(()).ok_or(SimulatorError::NotConnected)
    }

    /// Plugs the device in, or unplugs it: its worker sees it go at its
    /// next call (a scanner at once, a display at its next view) and
    /// reopens it once it is back.
    pub fn set_connected(&self, connected: bool) {
        self.unplugged.store(!connected, Ordering::SeqCst);
        if !connected {
            if let Some(handle) = lock(&self.scanner).as_ref() {
                handle.fail(ErrorKind::Disconnected);
            }
        }
    }

    /// The device's next call fails with `kind`: the scanner's next read,
    /// the display's next view.
    ///
    /// # Errors
    ///
    /// A scanner that is not connected makes no call.
    pub fn fail_next(&self, kind: ErrorKind) -> Result<(), SimulatorError> {
        if !self.reads_scans {
            *lock(&self.display_fails) = Some(kind);
            return Ok(());
        }
        let failed = lock(&self.scanner)
            .as_ref()
            .is_some_and(|handle| handle.fail(kind));
        failed.then_some(()).ok_or(SimulatorError::NotConnected)
    }

    fn unplugged(&self) -> Result<(), MockError> {
        match self.unplugged.load(Ordering::SeqCst) {
            true => Err(MockError(ErrorKind::Disconnected)),
            false => Ok(()),
        }
    }
}

/// Opens a simulated scanner: on every trigger, after `delay`, it reads
/// the next of its codes, as a customer holding up a phone would; and
/// whatever its [`Simulator`] injects.
#[derive(Debug)]
pub struct ScannerOpen {
    codes: Vec<String>,
    delay: Duration,
    simulator: Arc<Simulator>,
}

impl ScannerOpen {
    /// A scanner reading `codes` in turn, `delay` after each trigger,
    /// driven by `simulator`.
    pub fn new(codes: &[String], delay: Duration, simulator: Arc<Simulator>) -> ScannerOpen {
        ScannerOpen {
            codes: codes.to_vec(),
            delay,
            simulator,
        }
    }
}

impl Open for ScannerOpen {
    type Device = Simulated;
    type Error = MockError;

    fn open(&mut self) -> Result<Simulated, MockError> {
        self.simulator.unplugged()?;
        let (scanner, handle) = mock::scripted_with_handle(self.codes.clone(), self.delay);
        *lock(&self.simulator.scanner) = Some(handle);
        Ok(Simulated(scanner))
    }
}

/// The scripted scanner, saying in the log, at WARN, that every scan it
/// reads is simulated: a fake code must never pass for a customer's.
#[derive(Debug)]
pub struct Simulated(MockScanner);

impl ErrorType for Simulated {
    type Error = <MockScanner as ErrorType>::Error;
}

impl Scanner for Simulated {
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Self::Error> {
        let scan = self.0.poll_scan(wait)?;
        if let Some(scan) = &scan {
            warn!("simulated scan {} (driver \"mock\")", mask(&scan.text()));
        }
        Ok(scan)
    }

    fn set_trigger(&mut self, on: bool) -> Result<(), Self::Error> {
        self.0.set_trigger(on)
    }
}

/// Opens a display that writes a summary of every view to the log.
#[derive(Debug)]
pub struct DisplayOpen {
    name: String,
    simulator: Arc<Simulator>,
}

impl DisplayOpen {
    /// The display called `name`, driven by `simulator`.
    pub fn new(name: &str, simulator: Arc<Simulator>) -> DisplayOpen {
        DisplayOpen {
            name: name.into(),
            simulator,
        }
    }
}

impl Open for DisplayOpen {
    type Device = LogDisplay;
    type Error = MockError;

    fn open(&mut self) -> Result<LogDisplay, MockError> {
        self.simulator.unplugged()?;
        Ok(LogDisplay {
            name: self.name.clone(),
            simulator: self.simulator.clone(),
        })
    }
}

/// A display that shows its views in the log.
#[derive(Debug)]
pub struct LogDisplay {
    name: String,
    simulator: Arc<Simulator>,
}

impl ErrorType for LogDisplay {
    type Error = MockError;
}

impl CustomerDisplay for LogDisplay {
    fn capabilities(&self) -> Capabilities {
        mock::web_like()
    }

    fn show(&mut self, view: &View) -> Result<(), MockError> {
        self.simulator.unplugged()?;
        if let Some(kind) = lock(&self.simulator.display_fails).take() {
            return Err(MockError(kind));
        }
        info!(
            "mock display {:?} shows {}",
            self.name,
            super::console::summary(view)
        );
        Ok(())
    }
}
