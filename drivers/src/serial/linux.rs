//! Real serial ports on Linux, opened through serialport.
//!
//! [`open`] applies the line settings and returns a [`TtyPort`], an
//! `embedded_io` transport whose read timeout is the scanner's idle gap.
//! USB CDC-ACM scanners (`/dev/ttyACM*`), USB serial adapters
//! (`/dev/ttyUSB*`), on-board UARTs and pseudo-terminals all go through the
//! kernel's tty layer the same way.

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use serialport::{DataBits, FlowControl, Parity, StopBits};
use serialport::{SerialPort as _, TTYPort};

/// Line settings of a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSettings {
    /// Baud rate.
    pub baud: u32,
    /// Data bits per character.
    pub data_bits: DataBits,
    /// Parity.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
    /// Flow control.
    pub flow_control: FlowControl,
    /// How long a read waits for a byte before it reports the line quiet;
    /// the idle gap that ends a scan from a scanner without a suffix.
    pub read_timeout: Duration,
}

impl Default for PortSettings {
    /// 9600 8N1 without flow control, the factory default of most scanners
    /// and displays; a 50 ms idle gap.
    fn default() -> Self {
        PortSettings {
            baud: 9600,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            flow_control: FlowControl::None,
            read_timeout: Duration::from_millis(50),
        }
    }
}

/// A port could not be opened.
#[derive(Debug)]
pub struct OpenError {
    /// The device path.
    pub path: PathBuf,
    /// What went wrong.
    pub source: io::Error,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed to open serial port {}: {}",
            self.path.display(),
            self.source
        )?;
        match self.source.kind() {
            io::ErrorKind::PermissionDenied => f.write_str(" (is kassad in group dialout?)"),
            io::ErrorKind::NotFound => f.write_str(" (is the device plugged in?)"),
            io::ErrorKind::ResourceBusy => f.write_str(" (is another program using it?)"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl kassa_hal::Error for OpenError {
    /// The kind, for `LastError` and retry decisions.
    fn kind(&self) -> kassa_hal::ErrorKind {
        crate::io::io_kind(port_error_kind(&self.source))
    }
}

/// Opens the tty at `path` with `settings`, exclusively.
///
/// # Errors
///
/// [`OpenError`] naming the path and the reason (not found, permission
/// denied, busy, not a tty).
pub fn open(path: &Path, settings: &PortSettings) -> Result<TtyPort, OpenError> {
    let fail = |source: io::Error| OpenError {
        path: path.to_path_buf(),
        source,
    };
    let builder = serialport::new(path.to_string_lossy(), settings.baud)
        .data_bits(settings.data_bits)
        .parity(settings.parity)
        .stop_bits(settings.stop_bits)
        .flow_control(settings.flow_control)
        .timeout(settings.read_timeout);
    let port = TTYPort::open(&builder).map_err(|e| {
        // serialport reports a port locked by another opener as "no device".
        if e.description.contains("lock") {
            fail(io::Error::new(io::ErrorKind::ResourceBusy, e.description))
        } else {
            fail(e.into())
        }
    })?;
    Ok(TtyPort {
        port,
        path: path.to_path_buf(),
    })
}

/// An open tty, as an `embedded_io` transport.
#[derive(Debug)]
pub struct TtyPort {
    port: TTYPort,
    path: PathBuf,
}

impl TtyPort {
    /// The path it was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes the read timeout (the idle gap).
    ///
    /// # Errors
    ///
    /// When the port rejects the setting.
    pub fn set_read_timeout(&mut self, timeout: Duration) -> Result<(), PortError> {
        self.port
            .set_timeout(timeout)
            .map_err(|e| PortError(e.into()))
    }
}

/// An I/O error on an open port.
#[derive(Debug)]
pub struct PortError(pub io::Error);

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for PortError {}

impl embedded_io::Error for PortError {
    fn kind(&self) -> embedded_io::ErrorKind {
        port_error_kind(&self.0)
    }
}

/// Maps an OS error on a tty to an `embedded_io` kind. A tty whose other
/// end went away (USB unplugged, pty master closed) reads as `EIO` or polls
/// as hung up: both are `BrokenPipe` here, which kassa counts as
/// disconnected.
fn port_error_kind(e: &io::Error) -> embedded_io::ErrorKind {
    use embedded_io::ErrorKind as K;
    const EIO: i32 = 5;
    const ENXIO: i32 = 6;
    const ENODEV: i32 = 19;
    if let Some(EIO | ENXIO | ENODEV) = e.raw_os_error() {
        return K::BrokenPipe;
    }
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => K::TimedOut,
        io::ErrorKind::Interrupted => K::Interrupted,
        io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof => K::BrokenPipe,
        io::ErrorKind::NotConnected => K::NotConnected,
        io::ErrorKind::NotFound => K::NotFound,
        io::ErrorKind::PermissionDenied => K::PermissionDenied,
        io::ErrorKind::ResourceBusy => K::AddrInUse,
        io::ErrorKind::InvalidInput => K::InvalidInput,
        // serialport's poll reports POLLERR without an errno, as "I/O error".
        io::ErrorKind::Other if e.to_string().contains("I/O error") => K::BrokenPipe,
        _ => K::Other,
    }
}

/// The timeout set at [`open`] or by [`TtyPort::set_read_timeout`].
impl crate::io::ReadTimeout for TtyPort {
    fn read_timeout(&self) -> Duration {
        self.port.timeout()
    }
}

impl embedded_io::ErrorType for TtyPort {
    type Error = PortError;
}

impl embedded_io::Read for TtyPort {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PortError> {
        self.port.read(buf).map_err(PortError)
    }
}

impl embedded_io::Write for TtyPort {
    fn write(&mut self, buf: &[u8]) -> Result<usize, PortError> {
        self.port.write(buf).map_err(PortError)
    }

    fn flush(&mut self) -> Result<(), PortError> {
        self.port.flush().map_err(PortError)
    }
}
