//! Wedge scanners on Linux: evdev devices, grabbed.
//!
//! [`WedgeDevice`] reads raw `input_event` records from the device node and
//! feeds their key events to a [`WedgeDecoder`]: the same records, parser
//! and decoder as a replayed stream, which is why a FIFO carrying recorded
//! records opens here too (without a grab: a FIFO has none). On a real
//! evdev device it holds `EVIOCGRAB`, so while kassad has the scanner no
//! code reaches the focused window; the grab ends when the device is
//! dropped (stop, error or unplug).

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::decoder::WedgeDecoder;
use super::keys::{EV_SYN, SYN_DROPPED};
use super::record::{RECORD_LEN, RecordParser};

/// A device that could not be opened.
#[derive(Debug)]
pub struct OpenError {
    /// The path.
    pub path: PathBuf,
    /// What failed.
    pub reason: OpenFailure,
}

/// Why a device could not be opened.
#[derive(Debug)]
pub enum OpenFailure {
    /// Opening the node failed.
    Open(io::Error),
    /// The node is not an evdev device, so it cannot be grabbed.
    NotEvdev(io::Error),
    /// Another program holds the grab.
    Grab(io::Error),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.reason {
            OpenFailure::Open(e) => {
                write!(f, "failed to open input device {path}: {e}")?;
                match e.kind() {
                    io::ErrorKind::PermissionDenied => f.write_str(
                        " (is kassad in group kassa, and are the udev rules installed?)",
                    ),
                    io::ErrorKind::NotFound => f.write_str(" (is the scanner plugged in?)"),
                    _ => Ok(()),
                }
            }
            OpenFailure::NotEvdev(e) => write!(
                f,
                "{path} is not an evdev input device ({e}); set grab = false to read a recorded stream"
            ),
            OpenFailure::Grab(e) => write!(
                f,
                "cannot grab input device {path}: {e} (does another program hold it?)"
            ),
        }
    }
}

impl std::error::Error for OpenError {}

/// A read that failed.
#[derive(Debug)]
pub enum ReadError {
    /// The device went away (unplugged), or the stream's writer closed it.
    Disconnected,
    /// Another I/O error.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Disconnected => f.write_str("device disconnected"),
            ReadError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// An open wedge scanner.
pub struct WedgeDevice {
    file: File,
    /// The evdev handle holding the grab; `None` for a recorded stream.
    evdev: Option<evdev::raw_stream::RawDevice>,
    path: PathBuf,
    parser: RecordParser,
    /// The newest event's timestamp and when it was read: maps "now" into
    /// the events' clock for the idle gap, for real and replayed streams.
    last: Option<(Duration, Instant)>,
}

impl fmt::Debug for WedgeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WedgeDevice")
            .field("path", &self.path)
            .field("grabbed", &self.is_grabbed())
            .finish_non_exhaustive()
    }
}

impl WedgeDevice {
    /// Opens `path` (an evdev node, a link to one, or a FIFO of records)
    /// and, if `grab`, takes the device exclusively.
    ///
    /// # Errors
    ///
    /// [`OpenError`] naming the path and what failed.
    pub fn open(path: &Path, grab: bool) -> Result<WedgeDevice, OpenError> {
        let fail = |reason| OpenError {
            path: path.to_path_buf(),
            reason,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)
            .map_err(|e| fail(OpenFailure::Open(e)))?;
        let is_char_device = file
            .metadata()
            .map(|m| m.file_type().is_char_device())
            .unwrap_or(false);
        let evdev = if grab || is_char_device {
            let clone = file.try_clone().map_err(|e| fail(OpenFailure::Open(e)))?;
            match evdev::raw_stream::RawDevice::from_fd(clone.into()) {
                Ok(mut device) => {
                    if grab {
                        device.grab().map_err(|e| fail(OpenFailure::Grab(e)))?;
                    }
                    Some(device)
                }
                Err(e) if grab => return Err(fail(OpenFailure::NotEvdev(e))),
                Err(_) => None,
            }
        } else {
            None
        };
        Ok(WedgeDevice {
            file,
            evdev,
            path: path.to_path_buf(),
            parser: RecordParser::new(),
            last: None,
        })
    }

    /// Whether kassa holds the device exclusively.
    pub fn is_grabbed(&self) -> bool {
        self.evdev.as_ref().is_some_and(|d| d.is_grabbed())
    }

    /// The device's name as the kernel reports it, for a real device.
    pub fn name(&self) -> Option<&str> {
        self.evdev.as_ref().and_then(|d| d.name())
    }

    /// The path it was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits up to `timeout` for events and feeds every key event to
    /// `decoder`; when none came, tells the decoder the time (for the idle
    /// gap). Scans and errors are then waiting in `decoder.pop()`.
    ///
    /// # Errors
    ///
    /// [`ReadError::Disconnected`] when the device is gone; the decoder
    /// should then be reset.
    pub fn pump(&mut self, decoder: &mut WedgeDecoder, timeout: Duration) -> Result<(), ReadError> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        // Wake in time for a pending idle gap.
        let mut wait = timeout;
        if let (Some(deadline), Some((time, at))) = (decoder.deadline(), self.last) {
            let now = time + at.elapsed();
            wait = wait.min(deadline.saturating_sub(now) + Duration::from_millis(1));
        }
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        let ready = match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(n) => n > 0,
            Err(nix::errno::Errno::EINTR) => false,
            Err(e) => return Err(ReadError::Io(e.into())),
        };
        let revents = fds[0].revents().unwrap_or(PollFlags::empty());
        if ready && revents.intersects(PollFlags::POLLIN) {
            let mut buf = [0u8; 64 * RECORD_LEN];
            loop {
                match self.file.read(&mut buf) {
                    Ok(0) => return Err(ReadError::Disconnected),
                    Ok(n) => {
                        let last = &mut self.last;
                        self.parser.feed(&buf[..n], |raw| {
                            if let Some(key) = raw.key() {
                                *last = Some((raw.time, Instant::now()));
                                decoder.push(key);
                            } else if raw.kind == EV_SYN && raw.code == SYN_DROPPED {
                                decoder.lost();
                            }
                        });
                        if n < buf.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // ENODEV: the device was unplugged.
                    Err(e) if e.raw_os_error() == Some(19) => return Err(ReadError::Disconnected),
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
        } else if ready && revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
            return Err(ReadError::Disconnected);
        }
        if let Some((time, at)) = self.last {
            decoder.idle(time + at.elapsed());
        }
        Ok(())
    }
}

impl Drop for WedgeDevice {
    fn drop(&mut self) {
        // Closing the last descriptor would end the grab too; letting go
        // first keeps that true even while a clone of the fd lives on.
        if let Some(device) = self.evdev.as_mut() {
            let _ = device.ungrab();
        }
    }
}
