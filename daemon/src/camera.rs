//! The camera worker: one thread per camera that opens it only while a
//! checkout or claim wants codes or a `CaptureFace` wants a face, decodes
//! the newest frame, and picks the best face over a request's window.
//!
//! Decoding and face detection run on this thread, never on the async
//! runtime; the capture thread inside [`CameraScanner`] keeps only the
//! newest frame, so the worker never works on a stale one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kassa_drivers::camera::face::{BestFace, CapturedFace, FaceDetector};
use kassa_drivers::camera::v4l2::{V4l2Camera, V4l2Config};
use kassa_drivers::camera::{
    CameraScanner, CaptureError, CodeFormat, Frame, FrameSource, PipelineConfig, Player,
};
use kassa_hal::mask;
use tokio::sync::{oneshot, watch};
use tracing::{debug, info, warn};

use crate::devices::{Backoff, DeviceStatus, RoutedScan, ScanSink, report};

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
    fn wake(&self) {
        let _queue = self.lock();
        self.changed.notify_all();
    }
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
                Box::new(V4l2Camera::new(self.capture.clone()))
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

/// One camera's worker.
pub struct CameraWorker {
    /// Device name.
    pub name: String,
    /// For log lines: `scanner "door"`.
    pub what: String,
    /// What to open.
    pub capture: V4l2Config,
    /// Symbologies to read.
    pub formats: Vec<CodeFormat>,
    /// Whether a checkout or claim wants codes.
    pub trigger: watch::Receiver<bool>,
    /// Face requests.
    pub faces: Arc<FaceQueue>,
    /// Where scans go.
    pub scans: ScanSink,
    /// Device status.
    pub status: watch::Sender<DeviceStatus>,
    /// Set when kassad stops.
    pub stop: Arc<AtomicBool>,
}

const FRAME_WAIT: Duration = Duration::from_millis(100);
/// How often an idle camera's device node is looked for; an idle worker
/// sleeps this long unless woken (see [`wake_on_trigger`]).
const PRESENCE_CHECK: Duration = Duration::from_secs(1);

impl CameraWorker {
    /// Runs until kassad stops.
    pub fn run(self) {
        let mut scanner = CameraScanner::new(
            ByPath {
                capture: self.capture.clone(),
                open: None,
            },
            PipelineConfig {
                formats: self.formats.clone(),
                ..PipelineConfig::default()
            },
        );
        // Built on first use: loading the model takes a moment and most
        // deployments never capture faces.
        let mut detector: Option<FaceDetector> = None;
        let mut backoff = Backoff::new();
        let mut retry_at = Instant::now();
        let mut open_error = String::new();
        // Idle, the camera counts as connected while its device node is
        // there: it is opened only when wanted. Checked every second, and
        // reported when it changes (plugged in, unplugged).
        let mut present = self.report_presence();
        let mut checked = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            let want_codes = *self.trigger.borrow();
            let want_faces = !self.faces.lock().is_empty();
            if !want_codes && !want_faces {
                if scanner.is_open() {
                    let stats = scanner.stats();
                    let _ = scanner.set_armed(false);
                    debug!(
                        "{}: closed ({} frames captured, {} dropped as stale)",
                        self.what, stats.captured, stats.dropped
                    );
                    present = self.report_presence();
                    checked = Instant::now();
                }
                if checked.elapsed() >= PRESENCE_CHECK {
                    checked = Instant::now();
                    if self.capture.path.exists() != present {
                        present = self.report_presence();
                    }
                }
                self.idle();
                continue;
            }
            if !scanner.is_open() {
                if Instant::now() < retry_at {
                    // A face request is not kept waiting for the retry: it
                    // gets the error that closed the camera or made it fail
                    // to open.
                    if want_faces {
                        self.fail_faces(&open_error);
                    }
                    // Wanted but not openable: sleep towards the retry.
                    self.wait(FRAME_WAIT, false);
                    continue;
                }
                match scanner.set_armed(true) {
                    Ok(()) => {
                        backoff = Backoff::new();
                        report(&self.status, &self.what, true, None);
                    }
                    Err(e) => {
                        open_error = e.to_string();
                        report(&self.status, &self.what, false, Some(open_error.clone()));
                        retry_at = Instant::now() + backoff.next();
                        self.fail_faces(&open_error);
                        continue;
                    }
                }
            }
            match scanner.newest_frame(FRAME_WAIT) {
                Ok(Some(frame)) => {
                    if want_codes {
                        if let Some(scan) = scanner.decode(&frame) {
                            debug!("{} reads {}", self.what, mask(&scan.text()));
                            (self.scans)(RoutedScan {
                                device: self.name.clone(),
                                scan,
                            });
                        }
                    }
                    if want_faces {
                        self.look_for_faces(&mut detector, &frame);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    open_error = e.to_string();
                    report(&self.status, &self.what, false, Some(open_error.clone()));
                    retry_at = Instant::now() + backoff.next();
                }
            }
            self.answer_due_faces();
        }
        let _ = scanner.set_armed(false);
        self.fail_faces("kassad is stopping");
    }

    /// Waits for someone to want the camera: woken by a face request, by
    /// the trigger (see [`wake_on_trigger`]) or by the stop, else after
    /// [`PRESENCE_CHECK`].
    fn idle(&self) {
        self.wait(PRESENCE_CHECK, true);
    }

    /// Waits up to `timeout` unless a face request waits (or, with
    /// `for_trigger`, the trigger is on or kassad stops), then answers the
    /// face requests that are due.
    fn wait(&self, timeout: Duration, for_trigger: bool) {
        {
            let requests = self.faces.lock();
            let wanted =
                for_trigger && (*self.trigger.borrow() || self.stop.load(Ordering::Relaxed));
            if requests.is_empty() && !wanted {
                // The guard comes back from the wait and is dropped here,
                // before `answer_due_faces` takes the lock again.
                drop(
                    self.faces
                        .changed
                        .wait_timeout(requests, timeout)
                        .unwrap_or_else(|p| p.into_inner()),
                );
            }
        }
        self.answer_due_faces();
    }

    /// Reports whether the device node is there; returns it.
    fn report_presence(&self) -> bool {
        let present = self.capture.path.exists();
        let error = (!present).then(|| {
            format!(
                "camera {} is not there (is the camera plugged in?)",
                self.capture.path.display()
            )
        });
        report(&self.status, &self.what, present, error);
        present
    }

    fn look_for_faces(&self, detector: &mut Option<FaceDetector>, frame: &Frame) {
        if detector.is_none() {
            match FaceDetector::new() {
                Ok(d) => *detector = Some(d),
                Err(e) => {
                    self.fail_faces(&e.to_string());
                    return;
                }
            }
        }
        let Some(detector) = detector.as_mut() else {
            return;
        };
        let faces = detector.detect(frame);
        for request in self.faces.lock().iter_mut() {
            request.best.offer(frame, faces.clone());
        }
    }

    fn answer_due_faces(&self) {
        let now = Instant::now();
        let due: Vec<FaceRequest> = {
            let mut requests = self.faces.lock();
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
                    "{}: face {}x{} chosen from {frames} frames (score {:.2})",
                    self.what, face.face.width, face.face.height, face.scores.overall
                ),
                Ok(None) => info!("{}: no face in {frames} frames", self.what),
                Err(e) => warn!("{}: {e}", self.what),
            }
            let _ = request.reply.send(answer);
        }
    }

    fn fail_faces(&self, why: &str) {
        for request in std::mem::take(&mut *self.faces.lock()) {
            let _ = request.reply.send(Err(why.to_string()));
        }
    }
}

/// Wakes a camera worker that waits for work, so it sees the stop flag.
pub fn wake(faces: &FaceQueue) {
    faces.wake();
}

/// Wakes the worker waiting on `faces` whenever `trigger` changes, so an
/// idle camera needs no polling; ends when the trigger's sender is gone.
pub async fn wake_on_trigger(mut trigger: watch::Receiver<bool>, faces: Arc<FaceQueue>) {
    while trigger.changed().await.is_ok() {
        faces.wake();
    }
}
