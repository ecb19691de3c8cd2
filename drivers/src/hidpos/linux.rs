//! HID POS scanners on Linux, through hidraw.
//!
//! Each `read` of `/dev/hidrawN` returns one input report, with its report
//! ID byte first when the device numbers its reports. The report
//! descriptor is read from sysfs (`/sys/class/hidraw/hidrawN/device/
//! report_descriptor`), so no ioctl is needed.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kassa_hal::{Scan, Timestamp};

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

impl std::error::Error for OpenError {}

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
        })
    }

    /// The path it was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The decoder (to read the layout).
    pub fn decoder(&self) -> &HidPosDecoder {
        &self.decoder
    }

    /// Waits up to `timeout` for one report; a scan if it ended one.
    ///
    /// # Errors
    ///
    /// `Err(Err(_))` when the device is gone or failed; `Err(Ok(e))` for a
    /// dropped scan (call again).
    #[allow(clippy::type_complexity)]
    pub fn poll_scan(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Scan>, Result<ReportError, io::Error>> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(Err(e.into())),
        }
        let mut report = [0u8; 4096];
        match self.file.read(&mut report) {
            Ok(0) => Err(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "device disconnected",
            ))),
            Ok(n) => match self.decoder.push(&report[..n], Timestamp::now().0) {
                Some(Ok(scan)) => Ok(Some(scan)),
                Some(Err(e)) => Err(Ok(e)),
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
            Err(e) if e.raw_os_error() == Some(19) => Err(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "device disconnected",
            ))),
            Err(e) => Err(Err(e)),
        }
    }
}
