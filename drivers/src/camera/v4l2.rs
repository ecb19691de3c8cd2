//! V4L2 cameras on Linux (UVC webcams, CSI cameras, the kernel's vivid test
//! camera), through the v4l crate's memory-mapped streaming.
//!
//! [`V4l2Camera`] is a [`FrameSource`]: `start` opens the device,
//! negotiates the pixel format, size and rate, and starts streaming;
//! `stop` closes the device (the LED goes off). Frames become luma
//! without converting colour: YUYV by taking every other byte, MJPEG by
//! decoding only the Y plane.
//!
//! The settings ([`V4l2Config`]) are here without feature `v4l2`, so a
//! configuration can name a camera in a build that cannot open one; the
//! camera itself needs the feature (the v4l crate, whose bindings are
//! generated with libclang).

use std::fmt;
use std::path::{Path, PathBuf};

#[cfg(feature = "v4l2")]
mod device;
#[cfg(feature = "v4l2")]
pub use device::V4l2Camera;

/// Which pixel format to ask the camera for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PixelFormat {
    /// YUYV when the camera offers it at the wanted size and rate (no
    /// decoding cost), MJPEG otherwise (USB 2.0 cameras offer raw
    /// 1280×720 at 10 fps or less).
    #[default]
    Auto,
    /// Uncompressed YUYV 4:2:2.
    Yuyv,
    /// Motion JPEG.
    Mjpeg,
}

impl PixelFormat {
    /// The name in the configuration (`auto`, `yuyv`, `mjpeg`).
    pub fn as_str(self) -> &'static str {
        match self {
            PixelFormat::Auto => "auto",
            PixelFormat::Yuyv => "yuyv",
            PixelFormat::Mjpeg => "mjpeg",
        }
    }
}

/// What to open and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4l2Config {
    /// Device path: `/dev/video0`, `/dev/v4l/by-id/…`.
    pub path: PathBuf,
    /// Wanted width in pixels (the driver may pick the nearest it has).
    pub width: u32,
    /// Wanted height in pixels.
    pub height: u32,
    /// Wanted frames per second.
    pub fps: u32,
    /// Wanted pixel format.
    pub format: PixelFormat,
}

impl Default for V4l2Config {
    /// `/dev/video0`, 1280×720 at 30 fps, format chosen automatically.
    fn default() -> Self {
        V4l2Config {
            path: PathBuf::from("/dev/video0"),
            width: 1280,
            height: 720,
            fps: 30,
            format: PixelFormat::Auto,
        }
    }
}

/// What the camera agreed to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Negotiated {
    /// Pixel format in use (never `Auto`).
    pub format: PixelFormat,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Bytes per row of a YUYV frame.
    pub stride: u32,
    /// Frames per second, if the driver reported an interval.
    pub fps: Option<f64>,
}

impl fmt::Display for Negotiated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}x{}", self.format.as_str(), self.width, self.height)?;
        if let Some(fps) = self.fps {
            write!(f, " at {fps:.1} fps")?;
        }
        Ok(())
    }
}

/// Whether `path` looks like a V4L2 device rather than a recording (a
/// directory of frames is played back instead).
pub fn is_recording(path: &Path) -> bool {
    path.is_dir()
}
