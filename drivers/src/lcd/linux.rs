//! Character LCDs on a Linux I2C bus (`/dev/i2c-N`, module i2c-dev).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use embedded_hal::i2c::{ErrorKind as I2cKind, I2c, NoAcknowledgeSource, Operation};
pub use linux_embedded_hal::Delay;
use linux_embedded_hal::i2cdev::linux::LinuxI2CError;
use linux_embedded_hal::{I2CError, I2cdev};
use nix::errno::Errno;

use super::{ConfigError, LcdConfig, LcdDisplay};

/// A Linux I2C bus, as linux-embedded-hal's `I2cdev` with one fix to its
/// error kinds: several bus drivers (the Raspberry Pi's among them) report
/// a missing device as `EREMOTEIO`, which linux-embedded-hal calls `Other`;
/// here it is a no-acknowledge, so an unplugged LCD is `Disconnected`.
pub struct I2cBus(I2cdev);

impl fmt::Debug for I2cBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("I2cBus")
    }
}

/// An error of an [`I2cBus`].
#[derive(Debug)]
pub struct BusError(pub I2CError);

impl embedded_hal::i2c::Error for BusError {
    fn kind(&self) -> I2cKind {
        let errno = match self.0.inner() {
            LinuxI2CError::Errno(n) => Some(*n),
            LinuxI2CError::Io(e) => e.raw_os_error(),
        };
        if errno == Some(Errno::EREMOTEIO as i32) {
            I2cKind::NoAcknowledge(NoAcknowledgeSource::Unknown)
        } else {
            self.0.kind()
        }
    }
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BusError {}

impl embedded_hal::i2c::ErrorType for I2cBus {
    type Error = BusError;
}

impl I2c for I2cBus {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), BusError> {
        self.0.transaction(address, operations).map_err(BusError)
    }
}

/// An LCD could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The settings are out of range.
    Config(ConfigError),
    /// The bus device could not be opened.
    Bus {
        /// The bus device (`/dev/i2c-1`).
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Config(e) => write!(f, "invalid character LCD settings: {e}"),
            OpenError::Bus { path, source } => {
                write!(f, "failed to open I2C bus {}: {source}", path.display())?;
                match source.kind() {
                    io::ErrorKind::NotFound => f.write_str(
                        " (is the module i2c-dev loaded, and the bus enabled? \
                         `ls /dev/i2c-*` lists the buses)",
                    ),
                    io::ErrorKind::PermissionDenied => f.write_str(" (is kassad in group i2c?)"),
                    _ => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Config(e) => Some(e),
            OpenError::Bus { source, .. } => Some(source),
        }
    }
}

impl kassa_hal::Error for OpenError {
    /// The kind, for `LastError` and retry decisions.
    fn kind(&self) -> kassa_hal::ErrorKind {
        match self {
            OpenError::Config(_) => kassa_hal::ErrorKind::Unsupported,
            OpenError::Bus { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => kassa_hal::ErrorKind::Disconnected,
                io::ErrorKind::PermissionDenied => kassa_hal::ErrorKind::Busy,
                _ => kassa_hal::ErrorKind::Other,
            },
        }
    }
}

/// Opens the LCD described by `config` on the I2C bus at `path`
/// (`/dev/i2c-1` on a Raspberry Pi). Nothing is sent before the first
/// view; a display that is not there shows as a `Disconnected` error then.
///
/// # Errors
///
/// [`OpenError::Config`] for settings out of range, [`OpenError::Bus`]
/// naming the path when the bus cannot be opened (not found, permission
/// denied).
pub fn open(path: &Path, config: LcdConfig) -> Result<LcdDisplay<I2cBus, Delay>, OpenError> {
    config.validate().map_err(OpenError::Config)?;
    let bus = I2cdev::new(path).map_err(|e| OpenError::Bus {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    LcdDisplay::new(I2cBus(bus), Delay, config).map_err(OpenError::Config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal::i2c::Error as _;
    use kassa_hal::Error as _;

    #[test]
    fn a_missing_bus_names_the_path_and_the_module() {
        let path = Path::new("/dev/i2c-kassa-test-none");
        let e = open(path, LcdConfig::new(2, 16)).unwrap_err();
        assert_eq!(e.kind(), kassa_hal::ErrorKind::Disconnected);
        let message = e.to_string();
        assert!(message.starts_with("failed to open I2C bus /dev/i2c-kassa-test-none: "));
        assert!(message.contains("i2c-dev"), "{message}");
    }

    #[test]
    fn settings_are_checked_before_the_bus_is_opened() {
        let e = open(Path::new("/dev/null"), LcdConfig::new(1, 16)).unwrap_err();
        assert!(matches!(
            e,
            OpenError::Config(ConfigError::Size { rows: 1, .. })
        ));
        assert_eq!(e.kind(), kassa_hal::ErrorKind::Unsupported);
    }

    #[test]
    fn remote_io_is_a_missing_device() {
        let errno = |n: Errno| BusError(I2CError::from(LinuxI2CError::Errno(n as i32)));
        assert!(matches!(
            errno(Errno::EREMOTEIO).kind(),
            I2cKind::NoAcknowledge(_)
        ));
        assert!(matches!(
            errno(Errno::ENXIO).kind(),
            I2cKind::NoAcknowledge(_)
        ));
        assert_eq!(errno(Errno::EIO).kind(), I2cKind::Bus);
    }
}
