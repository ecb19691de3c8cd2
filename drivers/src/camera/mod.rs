//! Camera scanning: payment codes read from the customer's phone screen,
//! and face capture, from V4L2 cameras.
//!
//! Frames arrive as [`Frame`]s (luma only) from a [`FrameSource`]: a V4L2
//! camera ([`v4l2`], feature `linux`) or a [`Player`] of generated or
//! recorded frames. A [`Capture`] thread keeps only the newest frame; the
//! [`CameraScanner`] decodes it off the async runtime and turns codes into
//! scans with source `camera`; [`face`] picks the best face over a time
//! window for `CaptureFace`.

mod capture;
pub mod decode;
pub mod face;
mod frame;
mod luma;
pub mod player;
mod scanner;
mod source;
pub mod synth;
pub mod v4l2;

#[cfg(test)]
mod tests;

pub use capture::{Capture, CaptureStats};
pub use decode::{CodeFormat, Decoded, Pipeline, PipelineConfig};
pub use frame::Frame;
pub use luma::{jpeg_to_frame, yuyv_to_frame};
pub use player::Player;
pub use scanner::{CameraScanner, Error as ScannerError};
pub use source::{CaptureError, FrameSource};
