//! Where frames come from: the [`FrameSource`] trait and its error.
//!
//! Two sources implement it: a V4L2 camera ([`super::v4l2`]) and a
//! [`Player`](super::player::Player) of generated or recorded frames. The
//! consumer code (the capture thread, the camera scanner, face capture) is
//! the same for both, so the tests that play frames exercise what runs
//! with a real camera.

use std::fmt;
use std::io;
use std::path::PathBuf;

use kassa_hal::ErrorKind;

use super::Frame;

/// A stream of frames that can be switched on and off.
///
/// `start` opens the device (a camera's LED goes on), `stop` closes it.
/// Between the two, `next_frame` blocks for at most a short poll interval
/// (about a frame time or two), so a caller can stop between frames.
pub trait FrameSource: Send {
    /// Opens the device and starts streaming.
    ///
    /// # Errors
    ///
    /// [`CaptureError`] naming the device and the reason.
    fn start(&mut self) -> Result<(), CaptureError>;

    /// The next frame, or `None` when none arrived within the poll
    /// interval.
    ///
    /// # Errors
    ///
    /// [`CaptureError`]: the stream failed and the source has stopped
    /// (call `start` again to retry).
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError>;

    /// Stops streaming and closes the device. Idempotent.
    fn stop(&mut self);

    /// The device, for messages (`/dev/video0`, a directory of frames).
    fn name(&self) -> String;
}

impl<T: FrameSource + ?Sized> FrameSource for Box<T> {
    fn start(&mut self) -> Result<(), CaptureError> {
        T::start(self)
    }
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        T::next_frame(self)
    }
    fn stop(&mut self) {
        T::stop(self);
    }
    fn name(&self) -> String {
        T::name(self)
    }
}

/// Why a camera could not deliver frames.
#[derive(Debug)]
pub enum CaptureError {
    /// The device could not be opened.
    Open {
        /// Device path.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The device exists but is not a video capture device with streaming
    /// I/O (a metadata node, an output device, not V4L2 at all).
    NotCapture {
        /// Device path.
        path: PathBuf,
        /// What it is instead.
        detail: String,
    },
    /// None of the wanted pixel formats is offered.
    Format {
        /// Device path.
        path: PathBuf,
        /// What was asked for and what the device offers.
        detail: String,
    },
    /// Streaming failed after the device was opened.
    Stream {
        /// Device path.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A frame could not be turned into luma (a corrupt MJPEG frame, a
    /// buffer shorter than the format says).
    Decode {
        /// What was wrong.
        detail: String,
    },
    /// Recorded frames could not be loaded.
    Recording {
        /// File or directory.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
}

/// Whether `e` says the device node is gone: missing (`ENOENT`), or
/// unplugged under an open descriptor (`ENODEV`, `ENXIO`; only V4L2
/// devices, feature `linux`, report those).
fn is_gone(e: &io::Error) -> bool {
    #[cfg(feature = "linux")]
    {
        use nix::errno::Errno;
        if e.raw_os_error()
            .is_some_and(|n| matches!(Errno::from_raw(n), Errno::ENODEV | Errno::ENXIO))
        {
            return true;
        }
    }
    e.kind() == io::ErrorKind::NotFound
}

/// A hint for the usual causes of an open failure.
fn hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::PermissionDenied => " (is kassad in group video?)",
        io::ErrorKind::ResourceBusy => " (is another program using the camera?)",
        _ if is_gone(e) => " (is the camera plugged in?)",
        _ => "",
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Open { path, source } => write!(
                f,
                "failed to open camera {}: {source}{}",
                path.display(),
                hint(source)
            ),
            CaptureError::NotCapture { path, detail } => write!(
                f,
                "camera {} is not a video capture device: {detail}",
                path.display()
            ),
            CaptureError::Format { path, detail } => {
                write!(f, "camera {}: {detail}", path.display())
            }
            CaptureError::Stream { path, source } => write!(
                f,
                "camera {} stopped streaming: {source}{}",
                path.display(),
                hint(source)
            ),
            CaptureError::Decode { detail } => write!(f, "bad camera frame: {detail}"),
            CaptureError::Recording { path, detail } => {
                write!(f, "cannot play frames from {}: {detail}", path.display())
            }
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureError::Open { source, .. } | CaptureError::Stream { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `Disconnected` for a camera that is not there or was unplugged, `Busy`
/// for one another program streams from, `Timeout` for one that stopped
/// delivering, `Unsupported` for a node that is no capture device or
/// offers none of the formats, `InvalidData` for a corrupt frame, `Other`
/// for the rest — a permission denied among them, whose message names the
/// fix.
impl kassa_hal::Error for CaptureError {
    fn kind(&self) -> ErrorKind {
        match self {
            CaptureError::Open { source, .. } | CaptureError::Stream { source, .. } => {
                if is_gone(source) {
                    return ErrorKind::Disconnected;
                }
                match source.kind() {
                    io::ErrorKind::ResourceBusy => ErrorKind::Busy,
                    io::ErrorKind::TimedOut => ErrorKind::Timeout,
                    _ => ErrorKind::Other,
                }
            }
            CaptureError::NotCapture { .. } | CaptureError::Format { .. } => ErrorKind::Unsupported,
            CaptureError::Decode { .. } => ErrorKind::InvalidData,
            CaptureError::Recording { .. } => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kassa_hal::Error as _;

    #[test]
    fn open_errors_name_the_device_and_hint_at_the_cause() {
        let path = PathBuf::from("/dev/video0");
        let denied = CaptureError::Open {
            path: path.clone(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(
            denied
                .to_string()
                .starts_with("failed to open camera /dev/video0: ")
                && denied.to_string().ends_with("(is kassad in group video?)"),
            "{denied}"
        );
        let missing = CaptureError::Open {
            path: path.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(missing.to_string().ends_with("(is the camera plugged in?)"));
        assert_eq!(missing.kind(), ErrorKind::Disconnected);
        let busy = CaptureError::Open {
            path: path.clone(),
            source: io::Error::from(io::ErrorKind::ResourceBusy),
        };
        assert!(
            busy.to_string()
                .ends_with("(is another program using the camera?)")
        );
        assert_eq!(busy.kind(), ErrorKind::Busy);
        assert_eq!(denied.kind(), ErrorKind::Other);
        let unplugged = CaptureError::Stream {
            path: path.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(unplugged.kind(), ErrorKind::Disconnected);
        let stalled = CaptureError::Stream {
            path,
            source: io::Error::from(io::ErrorKind::TimedOut),
        };
        assert_eq!(stalled.kind(), ErrorKind::Timeout);
    }

    #[cfg(feature = "linux")]
    #[test]
    fn an_unplugged_camera_is_disconnected() {
        use nix::errno::Errno;
        for errno in [Errno::ENODEV, Errno::ENXIO] {
            let e = CaptureError::Stream {
                path: "/dev/video0".into(),
                source: io::Error::from(errno),
            };
            assert_eq!(e.kind(), ErrorKind::Disconnected, "{errno}");
            assert!(
                e.to_string().ends_with("(is the camera plugged in?)"),
                "{e}"
            );
        }
    }
}
