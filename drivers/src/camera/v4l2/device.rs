//! The V4L2 device itself (feature `v4l2`).

use std::fmt;
use std::io;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use v4l::buffer::Type;
use v4l::capability::Flags;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture as _;
use v4l::video::capture::Parameters;
use v4l::{Device, Format, FourCC};

use super::{Negotiated, PixelFormat, V4l2Config};
use crate::camera::Frame;
use crate::camera::luma::{jpeg_to_frame, yuyv_to_frame};
use crate::camera::source::{CaptureError, FrameSource};

const YUYV: FourCC = FourCC { repr: *b"YUYV" };
const MJPG: FourCC = FourCC { repr: *b"MJPG" };

struct Open {
    /// Declared before the device so that it is dropped (streaming off,
    /// buffers unmapped) before the device is closed.
    stream: Stream<'static>,
    _device: Device,
    negotiated: Negotiated,
    started: bool,
}

/// A V4L2 camera.
pub struct V4l2Camera {
    config: V4l2Config,
    open: Option<Open>,
}

impl fmt::Debug for V4l2Camera {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V4l2Camera")
            .field("config", &self.config)
            .field("negotiated", &self.negotiated())
            .finish()
    }
}

/// How long the first frame may take after streaming starts, and any frame
/// after that: a camera silent for this long is reopened.
const FRAME_TIMEOUT: Duration = Duration::from_secs(3);
/// How long `next_frame` waits before it reports no frame yet.
const POLL: Duration = Duration::from_millis(200);
/// Buffers in flight: one being read, one being filled, one spare.
const BUFFERS: u32 = 3;
const POLLIN: i16 = 0x001;

impl V4l2Camera {
    /// A camera to be opened with `config` on `start`.
    pub fn new(config: V4l2Config) -> V4l2Camera {
        V4l2Camera { config, open: None }
    }

    /// What the open camera agreed to, if it is open.
    pub fn negotiated(&self) -> Option<Negotiated> {
        self.open.as_ref().map(|o| o.negotiated)
    }

    fn open(&self) -> Result<Open, CaptureError> {
        let path = &self.config.path;
        let device = Device::with_path(path).map_err(|source| CaptureError::Open {
            path: path.clone(),
            source,
        })?;
        let stream_error = |source: io::Error| CaptureError::Stream {
            path: path.clone(),
            source,
        };
        let caps = device
            .query_caps()
            .map_err(|source| CaptureError::NotCapture {
                path: path.clone(),
                detail: format!("not a V4L2 device ({source})"),
            })?;
        if !caps.capabilities.contains(Flags::VIDEO_CAPTURE)
            || !caps.capabilities.contains(Flags::STREAMING)
        {
            return Err(CaptureError::NotCapture {
                path: path.clone(),
                detail: format!(
                    "{} ({}) has no single-plane streaming capture (capabilities: {})",
                    caps.card, caps.driver, caps.capabilities
                ),
            });
        }
        let offered: Vec<FourCC> = device
            .enum_formats()
            .map_err(stream_error)?
            .into_iter()
            .map(|d| d.fourcc)
            .collect();
        let fourcc =
            choose_format(&device, &self.config, &offered).ok_or_else(|| CaptureError::Format {
                path: path.clone(),
                detail: format!(
                    "format {} is not offered (the camera offers {})",
                    self.config.format.as_str(),
                    list(&offered)
                ),
            })?;
        let wanted = Format::new(self.config.width, self.config.height, fourcc);
        let format = device.set_format(&wanted).map_err(stream_error)?;
        if format.fourcc != fourcc {
            return Err(CaptureError::Format {
                path: path.clone(),
                detail: format!("asked for {fourcc}, the camera set {}", format.fourcc),
            });
        }
        // Not every driver lets the rate be set; the rate it reports is
        // what counts.
        let params = device
            .set_params(&Parameters::with_fps(self.config.fps.max(1)))
            .or_else(|_| device.params())
            .ok();
        let fps = params.and_then(|p| {
            (p.interval.numerator > 0)
                .then(|| f64::from(p.interval.denominator) / f64::from(p.interval.numerator))
        });
        let mut stream =
            Stream::with_buffers(&device, Type::VideoCapture, BUFFERS).map_err(stream_error)?;
        stream.set_timeout(FRAME_TIMEOUT);
        Ok(Open {
            stream,
            _device: device,
            negotiated: Negotiated {
                format: if fourcc == MJPG {
                    PixelFormat::Mjpeg
                } else {
                    PixelFormat::Yuyv
                },
                width: format.width,
                height: format.height,
                stride: format.stride,
                fps,
            },
            started: false,
        })
    }
}

/// Picks the fourcc for `config.format` among `offered`.
fn choose_format(device: &Device, config: &V4l2Config, offered: &[FourCC]) -> Option<FourCC> {
    let has = |f: FourCC| offered.contains(&f);
    match config.format {
        PixelFormat::Yuyv => has(YUYV).then_some(YUYV),
        PixelFormat::Mjpeg => has(MJPG).then_some(MJPG),
        PixelFormat::Auto => {
            let yuyv_fast_enough = has(YUYV)
                && device
                    .enum_frameintervals(YUYV, config.width, config.height)
                    .map(|intervals| {
                        intervals
                            .iter()
                            .any(|i| interval_allows(&i.interval, config.fps))
                    })
                    .unwrap_or(false);
            if yuyv_fast_enough || (has(YUYV) && !has(MJPG)) {
                Some(YUYV)
            } else {
                has(MJPG).then_some(MJPG)
            }
        }
    }
}

/// Whether a frame interval description allows `fps`.
fn interval_allows(interval: &v4l::frameinterval::FrameIntervalEnum, fps: u32) -> bool {
    use v4l::frameinterval::FrameIntervalEnum;
    let rate = |f: &v4l::Fraction| {
        (f.numerator > 0).then(|| f64::from(f.denominator) / f64::from(f.numerator))
    };
    let wanted = f64::from(fps) - 0.5;
    match interval {
        FrameIntervalEnum::Discrete(f) => rate(f).is_some_and(|r| r >= wanted),
        // The shortest interval is the highest rate.
        FrameIntervalEnum::Stepwise(s) => rate(&s.min).is_some_and(|r| r >= wanted),
    }
}

fn list(offered: &[FourCC]) -> String {
    if offered.is_empty() {
        return "nothing".into();
    }
    offered
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FrameSource for V4l2Camera {
    fn start(&mut self) -> Result<(), CaptureError> {
        self.stop();
        self.open = Some(self.open()?);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(None);
        };
        let path = &self.config.path;
        // Once streaming, wait for a filled buffer here, so that no frame
        // is reported as "none yet" while the stream holds a dequeued
        // buffer (the v4l crate cannot resume after its own timeout).
        if open.started {
            let ready = open
                .stream
                .handle()
                .poll(POLLIN, i32::try_from(POLL.as_millis()).unwrap_or(200))
                .map_err(|source| CaptureError::Stream {
                    path: path.clone(),
                    source,
                })?;
            if ready == 0 {
                return Ok(None);
            }
        }
        let negotiated = open.negotiated;
        let (buf, meta) = open.stream.next().map_err(|source| CaptureError::Stream {
            path: path.clone(),
            source,
        })?;
        open.started = true;
        let used = usize::try_from(meta.bytesused).unwrap_or(usize::MAX);
        let data = buf.get(..used).unwrap_or(buf);
        let seq = u64::from(meta.sequence);
        let frame = match negotiated.format {
            PixelFormat::Mjpeg => {
                let max = negotiated.width as usize * negotiated.height as usize;
                jpeg_to_frame(data, max, seq)?
            }
            _ => yuyv_to_frame(
                data,
                negotiated.width as usize,
                negotiated.height as usize,
                negotiated.stride as usize,
                seq,
            )?,
        };
        Ok(Some(frame))
    }

    fn stop(&mut self) {
        if let Some(open) = self.open.take() {
            // The v4l crate panics in Drop when the kernel refuses to stop
            // streaming or free the buffers for any reason but an unplugged
            // device; a camera must not take kassad down with it.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(open)));
        }
    }

    fn name(&self) -> String {
        self.config.path.display().to_string()
    }
}

impl Drop for V4l2Camera {
    fn drop(&mut self) {
        self.stop();
    }
}
