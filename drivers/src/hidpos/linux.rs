//! HID POS scanners on Linux, through hidraw.
//!
//! Each `read` of `/dev/hidrawN` returns one input report, with its report
//! ID byte first when the device numbers its reports. The report
//! descriptor is read from sysfs (`/sys/class/hidraw/hidrawN/device/
//! report_descriptor`), so no ioctl is needed.
//!
//! [`HidrawDevice`] is a [`kassa_hal::blocking::Scanner`]: its [`Error`]s
//! say by their [`kind`](kassa_hal::Error::kind) whether a scan was
//! dropped (`InvalidData`) or the device is gone (`Disconnected`).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kassa_hal::{ErrorKind, Scan, Timestamp};
use nix::errno::Errno;

use super::{DescriptorError, HidPosDecoder, ReportError, descriptor};

/// A HID POS scanner that could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// The device node could not be opened.
    Open(PathBuf, io::Error),
    /// Its report descriptor could not be read from sysfs.
    Descriptor(PathBuf, io::Error),
    /// Its report descriptor has no barcode report.
    NotHidPos(PathBuf, DescriptorError),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Open(p, e) => {
                write!(f, "failed to open hidraw device {}: {e}", p.display())?;
                if e.kind() == io::ErrorKind::PermissionDenied {
                    f.write_str(" (is kassad in group kassa, and are the udev rules installed?)")?;
                }
                Ok(())
            }
            OpenError::Descriptor(p, e) => {
                write!(
                    f,
                    "cannot read the report descriptor of {}: {e}",
                    p.display()
                )
            }
            OpenError::NotHidPos(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Open(_, e) | OpenError::Descriptor(_, e) => Some(e),
            OpenError::NotHidPos(_, e) => Some(e),
        }
    }
}

/// Whether `e` says the device node is gone: missing (`ENOENT`) or
/// unplugged under an open descriptor (`ENODEV`, `ENXIO`).
fn is_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
        || e.raw_os_error()
            .is_some_and(|n| matches!(Errno::from_raw(n), Errno::ENODEV | Errno::ENXIO))
}

/// `Disconnected` for a node (or its sysfs entry) that is not there,
/// `Busy` for a node another program holds, `Unsupported` for a node that
/// is not a HID POS scanner, `Other` for the rest — a permission denied
/// among them, whose message names the fix.
impl kassa_hal::Error for OpenError {
    fn kind(&self) -> ErrorKind {
        match self {
            OpenError::Open(_, e) | OpenError::Descriptor(_, e) if is_gone(e) => {
                ErrorKind::Disconnected
            }
            OpenError::Open(_, e) if e.kind() == io::ErrorKind::ResourceBusy => ErrorKind::Busy,
            OpenError::Descriptor(_, e) if e.kind() == io::ErrorKind::InvalidInput => {
                ErrorKind::Unsupported
            }
            OpenError::NotHidPos(..) => ErrorKind::Unsupported,
            OpenError::Open(..) | OpenError::Descriptor(..) => ErrorKind::Other,
        }
    }
}

/// Why a [`HidrawDevice`] read no scan: gone, a failed read, or a report
/// or scan dropped by the decoder.
pub type Error = crate::usb::ScanError<ReportError>;

/// The sysfs report descriptor of a hidraw node (`/dev/hidraw3` or a link
/// to it).
pub fn descriptor_path(sys: &Path, devnode: &Path) -> io::Result<PathBuf> {
    let real = std::fs::canonicalize(devnode)?;
    let name = real
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.starts_with("hidraw"))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a hidraw device"))?;
    Ok(sys
        .join("class/hidraw")
        .join(name)
        .join("device/report_descriptor"))
}

/// An open HID POS scanner.
#[derive(Debug)]
pub struct HidrawDevice {
    file: File,
    path: PathBuf,
    decoder: HidPosDecoder,
    /// The device is gone: every call says so.
    gone: bool,
}

impl HidrawDevice {
    /// Opens `path`, reading its report descriptor under `sys` (`/sys`).
    ///
    /// # Errors
    ///
    /// [`OpenError`] for a node that cannot be opened or is not a HID POS
    /// scanner.
    pub fn open(path: &Path, sys: &Path) -> Result<HidrawDevice, OpenError> {
        let descriptor_file =
            descriptor_path(sys, path).map_err(|e| OpenError::Descriptor(path.into(), e))?;
        let bytes =
            std::fs::read(&descriptor_file).map_err(|e| OpenError::Descriptor(path.into(), e))?;
        let layout = descriptor::parse(&bytes).map_err(|e| OpenError::NotHidPos(path.into(), e))?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)
            .map_err(|e| OpenError::Open(path.into(), e))?;
        Ok(HidrawDevice {
            file,
            path: path.into(),
            decoder: HidPosDecoder::new(layout),
            gone: false,
        })
    }

    /// Sets the longest scan accepted (default
    /// [`HidPosDecoder::DEFAULT_MAX_LEN`]).
    pub fn with_max_len(mut self, max_len: usize) -> HidrawDevice {
        self.decoder = self.decoder.with_max_len(max_len);
        self
    }

    /// The path it was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The decoder (to read the layout).
    pub fn decoder(&self) -> &HidPosDecoder {
        &self.decoder
    }

    /// Waits up to `timeout` for one report and decodes it.
    fn read_scan(&mut self, timeout: Duration) -> Result<Option<Scan>, Error> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        if self.gone {
            return Err(Error::Disconnected);
        }
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(Errno::EINTR) => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(Error::Io(e.into())),
        }
        let mut report = [0u8; 4096];
        let read = match self.file.read(&mut report) {
            Ok(0) => Err(Error::Disconnected),
            Ok(n) => match self.decoder.push(&report[..n], Timestamp::now().0) {
                Some(Ok(scan)) => Ok(Some(scan)),
                Some(Err(e)) => Err(Error::Dropped(e)),
                None => Ok(None),
            },
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) if is_gone(&e) => Err(Error::Disconnected),
            Err(e) => Err(Error::Io(e)),
        };
        if matches!(read, Err(Error::Disconnected)) {
            self.gone = true;
        }
        read
    }
}

impl kassa_hal::ErrorType for HidrawDevice {
    type Error = Error;
}

/// HID POS scanners read on their own: the trigger is accepted and does
/// nothing.
impl kassa_hal::blocking::Scanner for HidrawDevice {
    /// Waits up to about `wait` for a scan. A report that does not end a
    /// scan (the first of a continued scan, another report ID) is read
    /// and the wait goes on.
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Error> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Some(scan) = self.read_scan(left)? {
                return Ok(Some(scan));
            }
            if left.is_zero() || Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    fn set_trigger(&mut self, _on: bool) -> Result<(), Error> {
        if self.gone {
            return Err(Error::Disconnected);
        }
        Ok(())
    }
}
