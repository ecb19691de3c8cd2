//! The camera as a [`kassa_hal::blocking::Scanner`]: frames from a
//! [`FrameSource`] through the decoding pipeline, one scan per code held
//! in view.
//!
//! The device is open only while the scanner is armed (a checkout or a
//! claim wants it): `set_trigger(true)` opens it and starts the capture
//! thread, `set_trigger(false)` stops it and closes the device, so the
//! camera's LED is off while nobody pays.
//!
//! There is no async face: waiting for a frame and decoding it block the
//! calling thread, which belongs to the camera (kassad's camera worker),
//! never to an async runtime. The worker also takes the frames themselves
//! ([`CameraScanner::newest_frame`], then [`CameraScanner::decode`]) when
//! it looks for faces in the same frames.

use std::fmt;
use std::time::Duration;

use kassa_hal::{ErrorKind, Scan, SourceKind, Timestamp};

use super::Frame;
use super::capture::{Capture, CaptureStats};
use super::source::{CaptureError, FrameSource};
use super::{Pipeline, PipelineConfig};

/// A camera scanner's error.
#[derive(Debug)]
pub enum Error {
    /// The camera could not be opened or stopped streaming; it is closed
    /// now, and arming it again retries.
    Capture(CaptureError),
    /// The capture thread died and took the device handle with it: this
    /// scanner cannot open it again; make a new one.
    Lost,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Capture(e) => fmt::Display::fmt(e, f),
            Error::Lost => f.write_str("camera capture thread ended unexpectedly"),
        }
    }
}

impl std::error::Error for Error {}

/// The capture error's kind ([`CaptureError`]: a missing or unplugged
/// camera is `Disconnected`); a lost capture thread is `Disconnected`
/// too, as the only way on is a new scanner on a new source.
impl kassa_hal::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Capture(e) => kassa_hal::Error::kind(e),
            Error::Lost => ErrorKind::Disconnected,
        }
    }
}

enum State<S: FrameSource + 'static> {
    Closed(S),
    Open(Capture<S>),
    Lost,
}

/// A camera reading codes.
pub struct CameraScanner<S: FrameSource + 'static> {
    state: State<S>,
    pipeline: Pipeline,
    armed: bool,
    last_stats: CaptureStats,
}

impl<S: FrameSource + 'static> fmt::Debug for CameraScanner<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CameraScanner")
            .field("open", &self.is_open())
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

impl<S: FrameSource + 'static> kassa_hal::ErrorType for CameraScanner<S> {
    type Error = Error;
}

impl<S: FrameSource + 'static> CameraScanner<S> {
    /// A scanner on `source`, closed until armed.
    pub fn new(source: S, config: PipelineConfig) -> Self {
        CameraScanner {
            state: State::Closed(source),
            pipeline: Pipeline::new(config),
            armed: false,
            last_stats: CaptureStats::default(),
        }
    }

    /// Whether the device is open (streaming).
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open(_))
    }

    /// Whether someone wants the camera.
    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// Frames captured and dropped by the current (or last) capture.
    pub fn stats(&self) -> CaptureStats {
        match &self.state {
            State::Open(capture) => capture.stats(),
            _ => self.last_stats,
        }
    }

    /// Arms (opens the device, starts capturing) or disarms (stops and
    /// closes it). Arming an armed scanner whose device failed retries the
    /// open.
    ///
    /// # Errors
    ///
    /// [`Error::Capture`] when the device cannot be opened; the scanner
    /// stays armed and closed.
    pub fn set_armed(&mut self, on: bool) -> Result<(), Error> {
        self.armed = on;
        if on {
            self.open()
        } else {
            self.close();
            Ok(())
        }
    }

    fn open(&mut self) -> Result<(), Error> {
        match std::mem::replace(&mut self.state, State::Lost) {
            State::Closed(source) => match Capture::start(source) {
                Ok(capture) => {
                    self.pipeline.reset();
                    self.state = State::Open(capture);
                    Ok(())
                }
                Err((source, e)) => {
                    self.state = State::Closed(source);
                    Err(Error::Capture(e))
                }
            },
            open @ State::Open(_) => {
                self.state = open;
                Ok(())
            }
            State::Lost => Err(Error::Lost),
        }
    }

    fn close(&mut self) {
        if let State::Open(capture) = std::mem::replace(&mut self.state, State::Lost) {
            self.last_stats = capture.stats();
            self.state = match capture.stop() {
                Some(source) => State::Closed(source),
                None => State::Lost,
            };
        } else if let State::Lost = self.state {
            // Stays lost.
        }
    }

    /// The newest frame, waiting up to `wait` (sleeping `wait` when not
    /// armed, so a polling loop does not spin).
    ///
    /// # Errors
    ///
    /// [`Error::Capture`] when the stream failed; the device is closed
    /// now. [`Error::Lost`] when the capture thread died.
    pub fn newest_frame(&mut self, wait: Duration) -> Result<Option<Frame>, Error> {
        let capture = match &self.state {
            State::Open(capture) => capture,
            State::Closed(_) => {
                std::thread::sleep(wait);
                return Ok(None);
            }
            State::Lost => return Err(Error::Lost),
        };
        match capture.newest(wait) {
            Ok(frame) => Ok(frame),
            Err(e) => {
                self.close();
                Err(Error::Capture(e))
            }
        }
    }

    /// Decodes `frame`: a scan for a code newly in view.
    pub fn decode(&mut self, frame: &Frame) -> Option<Scan> {
        let decoded = self.pipeline.process(frame)?;
        Some(Scan {
            data: decoded.text.into_bytes(),
            symbology: decoded.symbology,
            source: SourceKind::Camera,
            at: Timestamp::now(),
        })
    }

    /// Closes the device and gives the source back (`None` if a capture
    /// thread died with it).
    pub fn release(mut self) -> Option<S> {
        self.close();
        match std::mem::replace(&mut self.state, State::Lost) {
            State::Closed(source) => Some(source),
            _ => None,
        }
    }
}

/// The camera read through the blocking trait: `set_trigger` arms and
/// disarms it ([`CameraScanner::set_armed`]), `poll_scan` decodes the
/// newest frame ([`CameraScanner::poll_scan`]).
impl<S: FrameSource + 'static> kassa_hal::blocking::Scanner for CameraScanner<S> {
    /// Decodes the newest frame that arrives within `wait`: `Ok(None)` when
    /// none came, or when it holds no code newly in view. Disarmed, it
    /// sleeps `wait` and returns `Ok(None)`.
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Error> {
        match self.newest_frame(wait)? {
            Some(frame) => Ok(self.decode(&frame)),
            None => Ok(None),
        }
    }

    fn set_trigger(&mut self, on: bool) -> Result<(), Error> {
        self.set_armed(on)
    }
}
