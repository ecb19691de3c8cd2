//! Camera scanning: payment codes read from the customer's phone screen,
//! and face capture, from V4L2 cameras.
//!
//! Frames arrive as [`Frame`]s (luma only); the decoding pipeline reads
//! codes from them and the face module picks the best face.

mod frame;

pub use frame::Frame;
