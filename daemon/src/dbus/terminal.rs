//! `org.kassa.Terminal1` on the root object, and the task that sends its
//! `State` changes.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt as _;

use tokio_util::sync::CancellationToken;
use tracing::info;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};
use zbus::{Connection, interface};

use super::ROOT;
use super::caller::{Presence, sender};
use super::checkout::{Finished, code_reply, serve_checkout};
use super::claim::serve_claim;
use super::error::KassaError;
use super::options::{self, Options, quote};
use super::properties::properties_changed;
use crate::core::{CoreError, FaceCapture, Terminal};

/// `org.kassa.Terminal1` on the root object.
pub struct TerminalIface {
    pub(super) terminal: Terminal,
    pub(super) presence: Presence,
    /// Cancelled when kassad stops, ending every task it spawned.
    pub(super) stop: CancellationToken,
    pub(super) finished: Finished,
}

#[interface(name = "org.kassa.Terminal1")]
impl TerminalIface {
    /// Prompt, trigger, and wait for one payment code.
    #[zbus(out_args("code", "channel", "source"))]
    async fn scan_payment_code(
        &self,
        options: Options,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(String, String, String), KassaError> {
        let options = options::scan(&options)?;
        let caller = self.presence.caller(&header);
        Ok(code_reply(
            &self.terminal.scan_payment_code(&caller, options).await?,
        ))
    }

    /// The whole flow as a session object.
    #[zbus(out_args("session"))]
    async fn begin_checkout(
        &self,
        options: Options,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<OwnedObjectPath, KassaError> {
        let options = options::checkout(&options)?;
        let caller = self.presence.caller(&header);
        let handle = self.terminal.begin_checkout(&caller, options)?;
        Ok(serve_checkout(conn, handle, self.stop.clone(), self.finished.clone()).await?)
    }

    /// Validate and display an order document.
    async fn show_order(
        &self,
        order_json: String,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), KassaError> {
        self.terminal
            .show_order(&sender(&header), &order_json)
            .await?;
        Ok(())
    }

    /// Query the backend for the order bound to `code`, show and return it.
    #[zbus(out_args("order_json"))]
    async fn show_order_for_code(
        &self,
        code: String,
        options: Options,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<String, KassaError> {
        let timeout = options::order_wait(&options)?;
        let caller = self.presence.caller(&header);
        let order = self
            .terminal
            .show_order_for_code(&caller, &code, timeout)
            .await?;
        Ok(order.to_json())
    }

    /// Show the payment result: `paid`, `failed` or `cancelled`.
    async fn show_payment_result(
        &self,
        status: String,
        message: String,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), KassaError> {
        let status = options::payment_status(&status)?;
        Ok(self
            .terminal
            .show_payment_result(&sender(&header), status, &message)
            .await?)
    }

    /// Show plain text.
    async fn show_text(
        &self,
        lines: Vec<String>,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), KassaError> {
        Ok(self.terminal.show_text(&sender(&header), lines)?)
    }

    /// Show the idle screen.
    async fn clear_display(&self, #[zbus(header)] header: Header<'_>) -> Result<(), KassaError> {
        Ok(self.terminal.clear_display(&sender(&header))?)
    }

    /// The best face frame within `timeout_ms`.
    #[zbus(out_args("jpeg", "info"))]
    async fn capture_face(
        &self,
        options: Options,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(Vec<u8>, HashMap<String, OwnedValue>), KassaError> {
        let timeout = options::face_wait(&options)?;
        let caller = self.presence.caller(&header);
        let capture = self.terminal.capture_face(&caller, timeout).await?;
        Ok((capture.face.jpeg.clone(), face_info(&capture)))
    }

    /// An exclusive stream of every scan until `Release()`.
    #[zbus(out_args("claim"))]
    async fn claim_scanner(
        &self,
        options: Options,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<OwnedObjectPath, KassaError> {
        let options = options::claim(&options)?;
        let caller = self.presence.caller(&header);
        let handle = self.terminal.claim_scanner(&caller, options)?;
        Ok(serve_claim(conn, self.terminal.clone(), handle, self.stop.clone()).await?)
    }

    /// Changes what kassad logs, at run time (root, or kassad's own user,
    /// only): an `EnvFilter` directive such as `debug` or
    /// `info,kassa_daemon::core=debug`. Codes stay masked at every level.
    async fn set_log_level(
        &self,
        filter: String,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), KassaError> {
        let own = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
        let caller = self.presence.unix_user(&header).await;
        if caller.is_none() || (caller != Some(0) && caller != own) {
            return Err(
                CoreError::AccessDenied("only root may change kassad's log level".into()).into(),
            );
        }
        crate::logging::set_filter(&filter).map_err(CoreError::InvalidArgument)?;
        info!(
            "log level set to {} by uid {}",
            quote(&filter),
            caller.unwrap_or_default()
        );
        Ok(())
    }

    /// What kassad logs now (`KASSA_LOG`, or the last `SetLogLevel`).
    #[zbus(property(emits_changed_signal = "false"))]
    async fn log_level(&self) -> String {
        crate::logging::filter().unwrap_or_default()
    }

    /// kassad's version.
    #[zbus(property)]
    async fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }

    /// `idle`, `scanning`, `waiting_for_order`, `showing_order`, `showing_result`.
    #[zbus(property)]
    async fn state(&self) -> String {
        self.terminal.state().borrow().as_str().to_string()
    }
}

/// The `info` of `CaptureFace`: box, crop and scores (docs/dbus-api.md).
fn face_info(capture: &FaceCapture) -> HashMap<String, OwnedValue> {
    let face = &capture.face;
    let px = |v: usize| Value::from(u32::try_from(v).unwrap_or(u32::MAX));
    let entries: [(&str, Value<'_>); 17] = [
        ("device", Value::from(capture.device.as_str())),
        ("x", px(face.face.x)),
        ("y", px(face.face.y)),
        ("width", px(face.face.width)),
        ("height", px(face.face.height)),
        ("crop_x", px(face.crop.x)),
        ("crop_y", px(face.crop.y)),
        ("crop_width", px(face.crop.width)),
        ("crop_height", px(face.crop.height)),
        ("frame_width", px(face.frame_width)),
        ("frame_height", px(face.frame_height)),
        ("frames", Value::from(face.frames)),
        ("score", Value::from(face.scores.overall)),
        ("confidence", Value::from(face.scores.confidence)),
        ("size", Value::from(face.scores.size)),
        ("sharpness", Value::from(face.scores.sharpness)),
        ("frontal", Value::from(face.scores.frontal)),
    ];
    let face_auth = capture
        .face_auth
        .as_deref()
        .map(|outcome| ("face_auth", Value::from(outcome)));
    entries
        .into_iter()
        .chain(face_auth)
        .filter_map(|(k, v)| OwnedValue::try_from(v).ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// Sends `PropertiesChanged` for the root's `State` whenever the terminal's
/// state changes: each change the watch reports is sent as it is, without
/// comparing it with the last one sent.
pub(super) async fn watch_state(
    conn: &Connection,
    terminal: Terminal,
    stop: CancellationToken,
) -> zbus::Result<()> {
    let emitter = SignalEmitter::new(conn, ROOT)?;
    let mut state = terminal.state();
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        while state.changed().await.is_ok() {
            let now = state.borrow_and_update().as_str();
            let changed = HashMap::from([("State", Value::from(now))]);
            properties_changed(&emitter, "org.kassa.Terminal1", changed).await;
        }
    }));
    Ok(())
}
