//! Serial devices: scanners and VFD pole displays on a tty.
//!
//! Opening is the whole family: the port's read timeout (the scanner's
//! idle gap) is also one poll of the worker, so a trigger change reaches
//! the scanner within one read timeout; the drivers do the rest.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kassa_drivers::serial::linux::{self, OpenError, PortSettings, TtyPort};
use kassa_drivers::serial::{ScannerConfig as Framing, SerialScanner};
use kassa_drivers::vfd::{VfdConfig, VfdDisplay};

use super::worker::Open;

/// Opens a serial scanner.
#[derive(Debug)]
pub struct ScannerOpen {
    path: PathBuf,
    port: PortSettings,
    framing: Framing,
}

impl ScannerOpen {
    /// The scanner on `path`, with its line settings and framing.
    pub fn new(path: &Path, port: &PortSettings, framing: &Framing) -> ScannerOpen {
        ScannerOpen {
            path: path.to_path_buf(),
            port: port.clone(),
            framing: framing.clone(),
        }
    }
}

impl Open for ScannerOpen {
    type Device = SerialScanner<TtyPort>;
    type Error = OpenError;

    fn open(&mut self) -> Result<Self::Device, OpenError> {
        let port = linux::open(&self.path, &self.port)?;
        Ok(SerialScanner::new(port, self.framing.clone()).with_port_timeout())
    }

    fn poll_wait(&self) -> Duration {
        self.port.read_timeout
    }
}

/// Opens a VFD pole display.
#[derive(Debug)]
pub struct VfdOpen {
    path: PathBuf,
    port: PortSettings,
    vfd: VfdConfig,
}

impl VfdOpen {
    /// The display on `path`, with its line settings and command set.
    pub fn new(path: &Path, port: &PortSettings, vfd: &VfdConfig) -> VfdOpen {
        VfdOpen {
            path: path.to_path_buf(),
            port: port.clone(),
            vfd: vfd.clone(),
        }
    }
}

impl Open for VfdOpen {
    type Device = VfdDisplay<TtyPort>;
    type Error = OpenError;

    fn open(&mut self) -> Result<Self::Device, OpenError> {
        let port = linux::open(&self.path, &self.port)?;
        Ok(VfdDisplay::new(port, self.vfd.clone()))
    }
}
