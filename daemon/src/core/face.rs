//! `CaptureFace`: the best face a camera sees over a window, and, with a
//! `face_auth_url`, paying by face into the caller's own code wait.

use std::time::Duration;

use kassa_drivers::camera::face::CapturedFace;
use kassa_hal::SourceKind;
use tracing::{info, warn};

use super::{Caller, CoreError, OneAtATime, Terminal};

/// How long `CaptureFace` looks for the best face by default.
pub const FACE_TIMEOUT: Duration = Duration::from_secs(3);

/// A face `CaptureFace` chose.
#[derive(Debug, Clone)]
pub struct FaceCapture {
    /// The camera's configured name.
    pub device: String,
    /// The picture, its box and scores.
    pub face: CapturedFace,
    /// With a `face_auth_url`: `delivered` (the payment code went to the
    /// waiting checkout or claim as a `face` scan) or `failed: why`.
    pub face_auth: Option<String>,
}

impl Terminal {
    /// `CaptureFace`: the best face a camera sees within `timeout`
    /// (default [`FACE_TIMEOUT`]).
    ///
    /// # Errors
    ///
    /// `NoDevice` (no camera configured or none connected, or it failed
    /// while capturing), `Timeout` (no face within the window),
    /// `AccessDenied` (another caller's checkout runs), `Cancelled` (the
    /// caller left, or kassad is stopping).
    pub async fn capture_face(
        &self,
        caller: &Caller,
        timeout: Option<Duration>,
    ) -> Result<FaceCapture, CoreError> {
        let window = timeout.unwrap_or(FACE_TIMEOUT);
        // A face can pay (face_auth_url): not for another caller's checkout.
        self.check_display_rights(&caller.name)?;
        let _capturing = OneAtATime::take_if(&self.shared.face_captures, &caller.name, true)
            .ok_or_else(|| CoreError::Busy("a face capture is under way already".into()))?;
        let cameras: Vec<_> = self
            .shared
            .devices
            .scanners
            .iter()
            .filter(|s| s.faces.is_some())
            .collect();
        let Some(camera) = cameras
            .iter()
            .find(|s| s.device.status.borrow().connected)
            .or(cameras.first())
        else {
            return Err(CoreError::NoDevice("no camera is configured".into()));
        };
        let Some(faces) = &camera.faces else {
            return Err(CoreError::NoDevice("no camera is configured".into()));
        };
        let device = camera.device.info.name.clone();
        let answer = faces.request(window);
        // The worker answers at the end of the window; the margin covers
        // one frame's detection.
        let answer = tokio::select! {
            answer = tokio::time::timeout(window + Duration::from_secs(5), answer) => answer,
            () = caller.gone.cancelled() => return Err(CoreError::Cancelled("the caller left".into())),
        };
        match answer {
            Ok(Ok(Ok(Some(face)))) => {
                let face_auth = self.face_auth(caller, &device, &face.jpeg).await;
                Ok(FaceCapture {
                    device,
                    face,
                    face_auth,
                })
            }
            Ok(Ok(Ok(None))) => Err(CoreError::Timeout(format!(
                "camera {device:?} saw no face within {} ms",
                window.as_millis()
            ))),
            Ok(Ok(Err(e))) => Err(CoreError::NoDevice(format!("camera {device:?}: {e}"))),
            Ok(Err(_)) => Err(CoreError::Cancelled("kassad is stopping".into())),
            Err(_) => Err(CoreError::Timeout(format!(
                "camera {device:?} did not answer within {} ms",
                window.as_millis()
            ))),
        }
    }

    /// With a `face_auth_url`, posts the face, and hands the payment code
    /// the backend answers to `caller`'s own code wait (a checkout or
    /// `ScanPaymentCode` of that caller, checked when the answer comes),
    /// as a scan with source `face`; never to a claim or another caller.
    /// Returns what happened, for `CaptureFace`'s info; the code itself
    /// never leaves the routing.
    pub(super) async fn face_auth(
        &self,
        caller: &Caller,
        device: &str,
        jpeg: &[u8],
    ) -> Option<String> {
        let backend = self.shared.backend.as_ref().filter(|b| b.has_face_auth())?;
        let answer = tokio::select! {
            answer = backend.face_auth(jpeg.to_vec()) => answer,
            () = caller.gone.cancelled() => return Some("failed: the caller left".into()),
            () = self.shared.stopping.cancelled() => return Some("failed: kassad is stopping".into()),
        };
        let code = match answer {
            Ok(code) => code,
            Err(e) => {
                warn!("face of camera {device:?} not authenticated: {e}");
                return Some(format!("failed: {e}"));
            }
        };
        info!(
            "face of camera {device:?} matched payment code {}",
            code.masked()
        );
        let entered = std::time::Instant::now();
        if let Some(s) = self.scanner(device) {
            s.count_scan();
        }
        let mut inner = self.lock();
        let wait = if caller.gone.is_cancelled() {
            None
        } else {
            inner
                .router
                .deliver_to_own_wait(&caller.name, SourceKind::Face, &code, entered)
        };
        if let Some(wait) = wait {
            self.deliver(&mut inner, wait, code, SourceKind::Face, device, entered);
            Some("delivered".into())
        } else {
            drop(inner);
            info!(
                "face code {} not delivered: the caller waits for no payment code",
                code.masked()
            );
            Some("failed: no payment code wait of this caller takes a face".into())
        }
    }
}
