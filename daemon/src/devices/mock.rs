//! Simulated devices, for the demo and for tests: the drivers' scripted
//! mock scanner, and a display that writes what it shows to the log.

use std::convert::Infallible;
use std::time::Duration;

use kassa_drivers::mock::{self, MockScanner};
use kassa_hal::blocking::{CustomerDisplay, Scanner};
use kassa_hal::{Capabilities, ErrorType, Scan, View, mask};
use tracing::{info, warn};

use super::worker::Open;

/// Opens a simulated scanner: on every trigger, after `delay`, it reads
/// the next of its codes, as a customer holding up a phone would.
#[derive(Debug)]
pub struct ScannerOpen {
    codes: Vec<String>,
    delay: Duration,
}

impl ScannerOpen {
    /// A scanner reading `codes` in turn, `delay` after each trigger.
    pub fn new(codes: &[String], delay: Duration) -> ScannerOpen {
        ScannerOpen {
            codes: codes.to_vec(),
            delay,
        }
    }
}

impl Open for ScannerOpen {
    type Device = Simulated;
    type Error = Infallible;

    fn open(&mut self) -> Result<Simulated, Infallible> {
        Ok(Simulated(mock::scripted(self.codes.clone(), self.delay)))
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
}

impl DisplayOpen {
    /// The display called `name`.
    pub fn new(name: &str) -> DisplayOpen {
        DisplayOpen { name: name.into() }
    }
}

impl Open for DisplayOpen {
    type Device = LogDisplay;
    type Error = Infallible;

    fn open(&mut self) -> Result<LogDisplay, Infallible> {
        Ok(LogDisplay {
            name: self.name.clone(),
        })
    }
}

/// A display that shows its views in the log.
#[derive(Debug)]
pub struct LogDisplay {
    name: String,
}

impl ErrorType for LogDisplay {
    type Error = Infallible;
}

impl CustomerDisplay for LogDisplay {
    fn capabilities(&self) -> Capabilities {
        mock::web_like()
    }

    fn show(&mut self, view: &View) -> Result<(), Infallible> {
        info!(
            "mock display {:?} shows {}",
            self.name,
            super::console::summary(view)
        );
        Ok(())
    }
}
