//! Cameras: codes from the customer's phone, and faces for `CaptureFace`.
//!
//! A camera runs on the scanner worker like any scanner; what this family
//! adds is the face capture on the same frames. The device is open
//! (streaming, LED on) only while a checkout or claim wants codes
//! (`set_trigger`) or a `CaptureFace` wants a face; idle, it counts as
//! connected while its device node is there.
//!
//! Decoding and face detection run on the worker's thread, never on the
//! async runtime; the capture thread inside [`CameraScanner`] keeps only
//! the newest frame, so the worker never works on a stale one.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kassa_drivers::camera::face::{BestFace, CapturedFace, FaceDetector};
#[cfg(feature = "v4l2")]
use kassa_drivers::camera::v4l2::V4l2Camera;
use kassa_drivers::camera::v4l2::V4l2Config;
use kassa_drivers::camera::{
    CameraScanner, CaptureError, CodeFormat, Frame, FrameSource, PipelineConfig, Player,
};
use kassa_hal::blocking::Scanner;
use kassa_hal::{ErrorKind, ErrorType, Scan, mask};
use tokio::sync::{oneshot, watch};
use tracing::{debug, info, warn};

use super::worker::{Backoff, Open, Pause};

/// What a face request is answered with.
pub type FaceReply = Result<Option<CapturedFace>, String>;

struct FaceRequest {
    until: Instant,
    best: BestFace,
    reply: oneshot::Sender<FaceReply>,
}

/// Face requests waiting for a camera worker.
#[derive(Default)]
pub struct FaceQueue {
    requests: Mutex<Vec<FaceRequest>>,
    changed: Condvar,
}

impl std::fmt::Debug for FaceQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceQueue").finish_non_exhaustive()
    }
}

impl FaceQueue {
    fn lock(&self) -> MutexGuard<'_, Vec<FaceRequest>> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks for the best face within `window`; the answer arrives on the
    /// returned receiver when the window ends (`None`: no face seen).
    pub fn request(&self, window: Duration) -> oneshot::Receiver<FaceReply> {
        let (reply, rx) = oneshot::channel();
        let mut requests = self.lock();
        // A request whose caller has gone costs the camera thread for
        // nothing: it goes now, so the queue cannot grow with callers that
        // ask and leave.
        requests.retain(|r| !r.reply.is_closed());
        requests.push(FaceRequest {
            until: Instant::now() + window,
            best: BestFace::new(),
            reply,
        });
        drop(requests);
        self.changed.notify_all();
        rx
    }

    /// Wakes the worker after a change outside the queue (the trigger, the
    /// stop flag). The lock is taken first, so the wake-up cannot fall
    /// between the worker's last look at that state and its wait.
    pub fn wake(&self) {
        let _queue = self.lock();
        self.changed.notify_all();
    }

    /// Waits up to `timeout` unless a request waits or `woken()` says
    /// something else changed. `woken` is asked under the queue's lock,
    /// which whoever changes it takes to wake the queue ([`FaceQueue::wake`]),
    /// so no wake-up falls between the look and the wait.
    fn wait_for_request(&self, timeout: Duration, woken: impl Fn() -> bool) {
        let requests = self.lock();
        if requests.is_empty() && !woken() {
            drop(
                self.changed
                    .wait_timeout(requests, timeout)
                    .unwrap_or_else(|p| p.into_inner()),
            );
        }
    }

    /// Answers the requests whose window has ended, and drops those whose
    /// caller has gone.
    fn answer_due(&self, what: &str) {
        let now = Instant::now();
        let due: Vec<FaceRequest> = {
            let mut requests = self.lock();
            let (due, waiting) = std::mem::take(&mut *requests)
                .into_iter()
                .filter(|r| !r.reply.is_closed())
                .partition(|r| r.until <= now);
            *requests = waiting;
            due
        };
        for request in due {
            let frames = request.best.frames();
            let answer = request.best.finish().map_err(|e| e.to_string());
            match &answer {
                Ok(Some(face)) => info!(
                    "{what}: face {}x{} chosen from {frames} frames (score {:.2})",
                    face.face.width, face.face.height, face.scores.overall
                ),
                Ok(None) => info!("{what}: no face in {frames} frames"),
                Err(e) => warn!("{what}: {e}"),
            }
            let _ = request.reply.send(answer);
        }
    }

    /// Answers every waiting request with `why`.
    fn fail_all(&self, why: &str) {
        for request in std::mem::take(&mut *self.lock()) {
            let _ = request.reply.send(Err(why.to_string()));
        }
    }
}

/// A V4L2 camera.
#[cfg(feature = "v4l2")]
fn v4l2_camera(capture: &V4l2Config) -> Result<Box<dyn FrameSource>, CaptureError> {
    Ok(Box::new(V4l2Camera::new(capture.clone())))
}

/// Without V4L2 in this build, only recordings play.
#[cfg(not(feature = "v4l2"))]
fn v4l2_camera(capture: &V4l2Config) -> Result<Box<dyn FrameSource>, CaptureError> {
    Err(CaptureError::NotCapture {
        path: capture.path.clone(),
        detail: "V4L2 cameras are not in this build of kassad (built without cargo feature \
                 v4l2); a directory of frames still plays"
            .into(),
    })
}

/// A camera's frame source, chosen at every open by what `path` is then:
/// a directory of frames is played back, anything else is a V4L2 device.
struct ByPath {
    capture: V4l2Config,
    open: Option<Box<dyn FrameSource>>,
}

impl FrameSource for ByPath {
    fn start(&mut self) -> Result<(), CaptureError> {
        self.stop();
        let mut source: Box<dyn FrameSource> =
            if kassa_drivers::camera::v4l2::is_recording(&self.capture.path) {
                Box::new(Player::from_dir(
                    self.capture.path.clone(),
                    self.capture.fps,
                ))
            } else {
                v4l2_camera(&self.capture)?
            };
        source.start()?;
        self.open = Some(source);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        match self.open.as_mut() {
            Some(source) => source.next_frame(),
            None => Ok(None),
        }
    }

    fn stop(&mut self) {
        if let Some(mut source) = self.open.take() {
            source.stop();
        }
    }

    fn name(&self) -> String {
        self.capture.path.display().to_string()
    }
}

/// How long an armed camera waits for a frame in one poll.
const FRAME_WAIT: Duration = Duration::from_millis(100);
/// How long an idle camera sleeps unless woken (a face request, the
/// trigger, the stop), and how often it looks for its device node.
const PRESENCE_CHECK: Duration = Duration::from_secs(1);

/// A camera's error.
#[derive(Debug)]
pub enum Error {
    /// The device node is not there.
    Absent(PathBuf),
    /// The driver failed: the camera could not be opened or stopped
    /// streaming.
    Camera(kassa_drivers::camera::ScannerError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Absent(path) => write!(
                f,
                "camera {} is not there (is the camera plugged in?)",
                path.display()
            ),
            Error::Camera(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl kassa_hal::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Absent(_) => ErrorKind::Disconnected,
            Error::Camera(e) => kassa_hal::Error::kind(e),
        }
    }
}

/// Opens a camera: checks that its node is there; the device itself is
/// opened when wanted.
pub struct CameraOpen {
    /// For log lines: `scanner "door"`.
    what: String,
    capture: V4l2Config,
    formats: Vec<CodeFormat>,
    faces: Arc<FaceQueue>,
    trigger: watch::Receiver<bool>,
    stop: Arc<AtomicBool>,
    /// Why the last open failed: face requests made while the camera is
    /// not there get it at once.
    last_error: String,
}

impl CameraOpen {
    /// A camera capturing as `capture` says and reading `formats`; face
    /// requests come through `faces`, the worker's trigger and stop wake
    /// it when idle.
    pub fn new(
        what: &str,
        capture: &V4l2Config,
        formats: &[CodeFormat],
        faces: Arc<FaceQueue>,
        trigger: watch::Receiver<bool>,
        stop: Arc<AtomicBool>,
    ) -> CameraOpen {
        CameraOpen {
            what: what.into(),
            capture: capture.clone(),
            formats: formats.to_vec(),
            faces,
            trigger,
            stop,
            last_error: String::new(),
        }
    }
}

impl Open for CameraOpen {
    type Device = CameraDevice;
    type Error = Error;

    fn open(&mut self) -> Result<CameraDevice, Error> {
        if !self.capture.path.exists() {
            let e = Error::Absent(self.capture.path.clone());
            self.last_error = e.to_string();
            self.faces.fail_all(&self.last_error);
            return Err(e);
        }
        Ok(CameraDevice {
            scanner: CameraScanner::new(
                ByPath {
                    capture: self.capture.clone(),
                    open: None,
                },
                PipelineConfig {
                    formats: self.formats.clone(),
                    ..PipelineConfig::default()
                },
            ),
            path: self.capture.path.clone(),
            what: self.what.clone(),
            faces: self.faces.clone(),
            trigger: self.trigger.clone(),
            stop: self.stop.clone(),
            detector: None,
            want_codes: false,
            checked: Instant::now(),
        })
    }

    /// Waits out the backoff (the presence check when absent), answering
    /// face requests meanwhile with the reason the camera is not open.
    fn pause(&mut self, why: Pause, backoff: &mut Backoff, stop: &AtomicBool) -> bool {
        let total = match why {
            Pause::Absent => PRESENCE_CHECK,
            Pause::Failed | Pause::Lost => backoff.next_wait(),
        };
        let until = Instant::now() + total;
        loop {
            self.faces.fail_all(&self.last_error);
            let now = Instant::now();
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            if now >= until {
                return true;
            }
            self.faces
                .wait_for_request(until - now, || stop.load(Ordering::Relaxed));
        }
    }

    fn poll_wait(&self) -> Duration {
        PRESENCE_CHECK
    }
}

impl Drop for CameraOpen {
    fn drop(&mut self) {
        self.faces.fail_all("kassad is stopping");
    }
}

/// An open camera: the scanner, and the face requests it serves.
pub struct CameraDevice {
    scanner: CameraScanner<ByPath>,
    path: PathBuf,
    what: String,
    faces: Arc<FaceQueue>,
    trigger: watch::Receiver<bool>,
    stop: Arc<AtomicBool>,
    /// Built on first use: loading the model takes a moment and most
    /// deployments never capture faces.
    detector: Option<FaceDetector>,
    want_codes: bool,
    /// When the idle camera last looked for its device node.
    checked: Instant,
}

impl CameraDevice {
    /// Opens or closes the device as codes or faces are wanted.
    fn follow(&mut self) -> Result<(), Error> {
        let wanted = self.want_codes || !self.faces.lock().is_empty();
        if wanted == self.scanner.is_open() {
            return Ok(());
        }
        if !wanted {
            let stats = self.scanner.stats();
            let _ = self.scanner.set_armed(false);
            debug!(
                "{}: closed ({} frames captured, {} dropped as stale)",
                self.what, stats.captured, stats.dropped
            );
            return Ok(());
        }
        self.scanner.set_armed(true).map_err(|e| {
            // A face request is not kept waiting for the retry: it gets
            // the error that made the camera fail to open.
            let e = Error::Camera(e);
            self.faces.fail_all(&e.to_string());
            e
        })
    }

    /// Idle: waits for a face request, the trigger or the stop, at most
    /// `wait`; says whether the node is still there once a second.
    fn idle(&mut self, wait: Duration) -> Result<(), Error> {
        let (trigger, stop, codes) = (&self.trigger, &self.stop, self.want_codes);
        // A trigger the worker has not passed on yet, or the stop, ends
        // the wait; both wake the queue when they change.
        self.faces.wait_for_request(wait, || {
            *trigger.borrow() != codes || stop.load(Ordering::Relaxed)
        });
        if self.checked.elapsed() >= PRESENCE_CHECK {
            self.checked = Instant::now();
            if !self.path.exists() {
                return Err(Error::Absent(self.path.clone()));
            }
        }
        Ok(())
    }

    fn look_for_faces(&mut self, frame: &Frame) {
        if self.detector.is_none() {
            match FaceDetector::new() {
                Ok(d) => self.detector = Some(d),
                Err(e) => {
                    self.faces.fail_all(&e.to_string());
                    return;
                }
            }
        }
        let Some(detector) = self.detector.as_mut() else {
            return;
        };
        let faces = detector.detect(frame);
        for request in self.faces.lock().iter_mut() {
            request.best.offer(frame, faces.clone());
        }
    }
}

impl Drop for CameraDevice {
    fn drop(&mut self) {
        let _ = self.scanner.set_armed(false);
        let why = if self.stop.load(Ordering::Relaxed) {
            "kassad is stopping"
        } else {
            "the camera was closed"
        };
        self.faces.fail_all(why);
    }
}

impl ErrorType for CameraDevice {
    type Error = Error;
}

impl Scanner for CameraDevice {
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Error> {
        self.follow()?;
        if !self.scanner.is_open() {
            self.idle(wait)?;
            self.faces.answer_due(&self.what);
            return Ok(None);
        }
        let frame = match self.scanner.newest_frame(FRAME_WAIT.min(wait)) {
            Ok(frame) => frame,
            Err(e) => {
                let e = Error::Camera(e);
                self.faces.fail_all(&e.to_string());
                return Err(e);
            }
        };
        let mut scan = None;
        if let Some(frame) = frame {
            if self.want_codes {
                scan = self.scanner.decode(&frame);
                if let Some(scan) = &scan {
                    debug!("{} reads {}", self.what, mask(&scan.text()));
                }
            }
            if !self.faces.lock().is_empty() {
                self.look_for_faces(&frame);
            }
        }
        self.faces.answer_due(&self.what);
        Ok(scan)
    }

    fn set_trigger(&mut self, on: bool) -> Result<(), Error> {
        self.want_codes = on;
        self.follow()
    }
}

/// Wakes the worker waiting on `faces` whenever `trigger` changes, so an
/// idle camera needs no polling; ends when the trigger's sender is gone.
pub async fn wake_on_trigger(mut trigger: watch::Receiver<bool>, faces: Arc<FaceQueue>) {
    while trigger.changed().await.is_ok() {
        faces.wake();
    }
}
