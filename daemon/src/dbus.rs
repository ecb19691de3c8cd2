//! The D-Bus face of kassad: `org.kassa.Terminal1`, `org.kassa.Checkout1`,
//! `org.kassa.Claim1` and `org.kassa.Device1`, plus the ObjectManager on
//! the root. These types only translate between the bus and
//! [`crate::core::Terminal`]; signals that carry a payment code or a scan go
//! to the owning caller alone.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use zbus::message::Header;
use zbus::names::{BusName, UniqueName};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};
use zbus::{Connection, connection, interface};

use crate::config::Config;
use crate::core::{
    Caller, CheckoutHandle, ClaimHandle, CoreError, SessionControl, SessionEvent, Terminal,
};
use crate::devices::{Device, DeviceStatus};
use crate::options::{self, Options};

/// The well-known name.
pub const BUS_NAME: &str = "org.kassa.Terminal1";
/// The root object.
pub const ROOT: &str = "/org/kassa/Terminal1";
/// How many finished checkouts stay on the bus for their owners to read;
/// older ones are removed, so memory does not grow with the checkout rate.
const KEEP_FINISHED: usize = 8;

/// Finished checkout objects still on the bus, oldest first.
#[derive(Clone, Default)]
struct Finished(Arc<Mutex<VecDeque<OwnedObjectPath>>>);

impl Finished {
    /// Records a finished session; returns the one to remove, if any.
    fn retire(&self, path: OwnedObjectPath) -> Option<OwnedObjectPath> {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        list.push_back(path);
        if list.len() > KEEP_FINISHED {
            list.pop_front()
        } else {
            None
        }
    }
}

/// The `info` of `CaptureFace`: box, crop and scores (docs/dbus-api.md).
fn face_info(capture: &crate::core::FaceCapture) -> HashMap<String, OwnedValue> {
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

/// Errors on the bus: `org.kassa.Error.*`.
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.kassa.Error")]
pub enum KassaError {
    /// A transport error inside zbus.
    #[zbus(error)]
    ZBus(zbus::Error),
    /// A deadline passed.
    Timeout(String),
    /// Cancelled.
    Cancelled(String),
    /// A checkout is already running or the scanner is claimed.
    Busy(String),
    /// The order was rejected; the message names the field.
    InvalidOrder(String),
    /// A bad option or argument.
    InvalidArgument(String),
    /// No device can do it.
    NoDevice(String),
    /// The backend failed.
    Backend(String),
    /// The backend bound no order before the deadline.
    NotBound(String),
    /// Not the caller's session or claim.
    AccessDenied(String),
}

impl From<CoreError> for KassaError {
    fn from(e: CoreError) -> KassaError {
        match e {
            CoreError::Timeout(m) => KassaError::Timeout(m),
            CoreError::Cancelled(m) => KassaError::Cancelled(m),
            CoreError::Busy(m) => KassaError::Busy(m),
            CoreError::InvalidOrder(m) => KassaError::InvalidOrder(m),
            CoreError::InvalidArgument(m) => KassaError::InvalidArgument(m),
            CoreError::NoDevice(m) => KassaError::NoDevice(m),
            CoreError::Backend(m) => KassaError::Backend(m),
            CoreError::NotBound(m) => KassaError::NotBound(m),
            CoreError::AccessDenied(m) => KassaError::AccessDenied(m),
        }
    }
}

/// The callers kassad has handed something that must end when they leave
/// (a wait, a checkout, a claim), by unique name. A name is added before
/// the bus is asked whether its owner is still there, and removed when it
/// leaves: so a caller that disconnects right after its call is noticed
/// whichever comes first, the call or the news that it left.
#[derive(Clone)]
struct Presence {
    callers: Arc<Mutex<HashMap<String, CancellationToken>>>,
    bus: zbus::fdo::DBusProxy<'static>,
}

impl Presence {
    async fn new(conn: &Connection) -> zbus::Result<Presence> {
        Ok(Presence {
            callers: Arc::default(),
            bus: zbus::fdo::DBusProxy::new(conn).await?,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.callers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The caller of the message with `header`, tracked until it leaves.
    fn caller(&self, header: &Header<'_>) -> Caller {
        let name = sender(header);
        let gone = self.lock().entry(name.clone()).or_default().clone();
        let this = self.clone();
        let check = name.clone();
        tokio::spawn(async move {
            let present = match zbus::names::BusName::try_from(check.as_str()) {
                Ok(bus_name) => this.bus.name_has_owner(bus_name).await.unwrap_or(true),
                Err(_) => false,
            };
            if !present {
                this.left(&check);
            }
        });
        Caller::new(name, gone)
    }

    /// `name` left the bus: end what it started.
    fn left(&self, name: &str) {
        if let Some(gone) = self.lock().remove(name) {
            gone.cancel();
        }
    }
}

fn sender(header: &Header<'_>) -> String {
    header.sender().map(|s| s.to_string()).unwrap_or_default()
}

/// An emitter that sends only to `owner` (unicast), never broadcast.
fn emitter_for(
    conn: &Connection,
    path: &OwnedObjectPath,
    owner: &str,
) -> zbus::Result<SignalEmitter<'static>> {
    let emitter = SignalEmitter::new(conn, path.clone())?;
    Ok(match UniqueName::try_from(owner.to_string()) {
        Ok(name) => emitter.set_destination(BusName::Unique(name)),
        Err(_) => emitter,
    })
}

/// `org.kassa.Terminal1` on the root object.
pub struct TerminalIface {
    terminal: Terminal,
    presence: Presence,
    /// Cancelled when kassad stops, ending every task it spawned.
    stop: CancellationToken,
    finished: Finished,
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
        let scan = self.terminal.scan_payment_code(&caller, options).await?;
        Ok((
            scan.code.as_str().to_string(),
            scan.channel.to_string(),
            scan.source.as_str().to_string(),
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

/// `org.kassa.Checkout1`.
pub struct CheckoutIface {
    control: SessionControl,
}

impl CheckoutIface {
    fn asked_by_owner(&self, header: Option<&Header<'_>>) -> bool {
        header.is_some_and(|h| self.control.is_owner(&sender(h)))
    }
}

#[interface(name = "org.kassa.Checkout1")]
impl CheckoutIface {
    /// Cancel the checkout (owner only).
    async fn cancel(&self, #[zbus(header)] header: Header<'_>) -> Result<(), KassaError> {
        Ok(self.control.cancel(&sender(&header)).await?)
    }

    /// End the checkout with a result (owner only).
    async fn finish(
        &self,
        status: String,
        message: String,
        #[zbus(header)] header: Header<'_>,
    ) -> Result<(), KassaError> {
        let status = options::payment_status(&status)?;
        Ok(self
            .control
            .finish(&sender(&header), status, message)
            .await?)
    }

    /// Where the checkout is.
    #[zbus(property)]
    async fn state(&self) -> String {
        self.control.snapshot.borrow().state.as_str().to_string()
    }

    /// The payment code's channel, once scanned; empty for anyone but the
    /// owner.
    #[zbus(property)]
    async fn channel(&self, #[zbus(header)] header: Option<Header<'_>>) -> String {
        if !self.asked_by_owner(header.as_ref()) {
            return String::new();
        }
        self.control.snapshot.borrow().channel.clone()
    }

    /// The order shown, as JSON; empty for anyone but the owner.
    #[zbus(property)]
    async fn order(&self, #[zbus(header)] header: Option<Header<'_>>) -> String {
        if !self.asked_by_owner(header.as_ref()) {
            return String::new();
        }
        self.control.snapshot.borrow().order_json.clone()
    }

    /// The payment code was read (sent to the owner only).
    #[zbus(signal)]
    async fn code_scanned(
        emitter: &SignalEmitter<'_>,
        code: &str,
        channel: &str,
        source: &str,
    ) -> zbus::Result<()>;

    /// An order went on the display (sent to the owner only).
    #[zbus(signal)]
    async fn order_shown(emitter: &SignalEmitter<'_>, order_json: &str) -> zbus::Result<()>;

    /// The checkout ended (sent to the owner only).
    #[zbus(signal)]
    async fn finished(emitter: &SignalEmitter<'_>, state: &str, message: &str) -> zbus::Result<()>;
}

async fn serve_checkout(
    conn: &Connection,
    mut handle: CheckoutHandle,
    stop: CancellationToken,
    finished: Finished,
) -> zbus::Result<OwnedObjectPath> {
    let path = OwnedObjectPath::try_from(format!("{ROOT}/checkout/{}", handle.id))?;
    let server = conn.object_server();
    server
        .at(
            path.clone(),
            CheckoutIface {
                control: handle.control.clone(),
            },
        )
        .await?;
    let emitter = emitter_for(conn, &path, &handle.owner)?;
    let conn = conn.clone();
    let removal_path = path.clone();
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        let mut snapshot = handle.control.snapshot.clone();
        let mut last = snapshot.borrow_and_update().clone();
        let mut snapshot_open = true;
        loop {
            tokio::select! {
                event = handle.events.recv() => {
                    let Some(event) = event else { break };
                    let sent = match &event {
                        SessionEvent::CodeScanned(scan) => {
                            CheckoutIface::code_scanned(&emitter, scan.code.as_str(), scan.channel.as_str(), scan.source.as_str()).await
                        }
                        SessionEvent::OrderShown(json) => CheckoutIface::order_shown(&emitter, json).await,
                        SessionEvent::Finished { state, message } => {
                            // Properties first, so a client reacting to
                            // Finished reads the final state.
                            publish_session_changes(&emitter, &mut last, &snapshot).await;
                            CheckoutIface::finished(&emitter, state.as_str(), message).await
                        }
                    };
                    match sent {
                        Ok(()) => debug!("{}: sent {event:?} to {}", removal_path.as_str(), handle.owner),
                        Err(e) => debug!("checkout signal not delivered: {e}"),
                    }
                    if matches!(event, SessionEvent::Finished { .. }) {
                        break;
                    }
                }
                // The session drops its snapshot sender when it ends, with
                // Finished still queued: stop watching, keep draining events.
                changed = snapshot.changed(), if snapshot_open => {
                    match changed {
                        Ok(()) => publish_session_changes(&emitter, &mut last, &snapshot).await,
                        Err(_) => snapshot_open = false,
                    }
                }
            }
        }
        if let Some(oldest) = finished.retire(removal_path) {
            if let Err(e) = conn.object_server().remove::<CheckoutIface, _>(oldest).await {
                debug!("removing checkout object: {e}");
            }
        }
    }));
    Ok(path)
}

/// Emits `PropertiesChanged` for what differs between `last` and now.
/// Built from the snapshot itself rather than through the interface, so it
/// never waits on the object server's lock of the interface (which a
/// method call awaiting this very session may hold).
async fn publish_session_changes(
    emitter: &SignalEmitter<'_>,
    last: &mut crate::core::SessionSnapshot,
    snapshot: &watch::Receiver<crate::core::SessionSnapshot>,
) {
    let now = snapshot.borrow().clone();
    let mut changed: HashMap<&str, Value<'_>> = HashMap::new();
    if now.state != last.state {
        changed.insert("State", Value::from(now.state.as_str()));
    }
    if now.channel != last.channel {
        changed.insert("Channel", Value::from(now.channel.as_str()));
    }
    if now.order_json != last.order_json {
        changed.insert("Order", Value::from(now.order_json.as_str()));
    }
    properties_changed(emitter, "org.kassa.Checkout1", changed).await;
    *last = now;
}

/// Emits one `PropertiesChanged` signal, if anything changed.
async fn properties_changed(
    emitter: &SignalEmitter<'_>,
    interface: &'static str,
    changed: HashMap<&str, Value<'_>>,
) {
    if changed.is_empty() {
        return;
    }
    let Ok(name) = zbus::names::InterfaceName::try_from(interface) else {
        return;
    };
    let sent = zbus::fdo::Properties::properties_changed(
        emitter,
        name,
        changed,
        std::borrow::Cow::Borrowed(&[]),
    )
    .await;
    if let Err(e) = sent {
        debug!("PropertiesChanged on {interface} not sent: {e}");
    }
}

/// `org.kassa.Claim1`.
pub struct ClaimIface {
    terminal: Terminal,
    id: u64,
}

#[interface(name = "org.kassa.Claim1")]
impl ClaimIface {
    /// Give the scanner back.
    async fn release(&self, #[zbus(header)] header: Header<'_>) -> Result<(), KassaError> {
        Ok(self.terminal.release_claim(self.id, &sender(&header))?)
    }

    /// Take scans again after an auto-disable.
    async fn enable(&self, #[zbus(header)] header: Header<'_>) -> Result<(), KassaError> {
        Ok(self.terminal.enable_claim(self.id, &sender(&header))?)
    }

    /// Whether scans are delivered now.
    #[zbus(property)]
    async fn enabled(&self) -> bool {
        self.terminal.claim_enabled(self.id)
    }

    /// A scan (sent to the claimant only).
    #[zbus(signal)]
    async fn scanned(
        emitter: &SignalEmitter<'_>,
        data: &str,
        symbology: &str,
        source: &str,
    ) -> zbus::Result<()>;
}

async fn serve_claim(
    conn: &Connection,
    terminal: Terminal,
    mut handle: ClaimHandle,
    stop: CancellationToken,
) -> zbus::Result<OwnedObjectPath> {
    let path = OwnedObjectPath::try_from(format!("{ROOT}/claim/{}", handle.id))?;
    conn.object_server()
        .at(
            path.clone(),
            ClaimIface {
                terminal,
                id: handle.id,
            },
        )
        .await?;
    let emitter = emitter_for(conn, &path, &handle.owner)?;
    let conn = conn.clone();
    let removal_path = path.clone();
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        while let Some(scan) = handle.scans.recv().await {
            let text = scan.text();
            if let Err(e) = ClaimIface::scanned(
                &emitter,
                &text,
                scan.symbology.as_str(),
                scan.source.as_str(),
            )
            .await
            {
                debug!("claim signal not delivered: {e}");
            }
        }
        if let Err(e) = conn
            .object_server()
            .remove::<ClaimIface, _>(removal_path)
            .await
        {
            debug!("removing claim object: {e}");
        }
    }));
    Ok(path)
}

/// `org.kassa.Device1`.
pub struct DeviceIface {
    device: Device,
}

#[interface(name = "org.kassa.Device1")]
impl DeviceIface {
    /// `ok`, or why not.
    async fn check_health(&self) -> String {
        self.device.health()
    }

    /// Configured name.
    #[zbus(property)]
    async fn name(&self) -> String {
        self.device.info.name.clone()
    }

    /// `scanner`, `display` or `camera`.
    #[zbus(property)]
    async fn role(&self) -> String {
        self.device.info.role.as_str().to_string()
    }

    /// Driver name.
    #[zbus(property)]
    async fn driver(&self) -> String {
        self.device.info.driver.to_string()
    }

    /// Device path.
    #[zbus(property)]
    async fn path(&self) -> String {
        self.device.info.path.clone()
    }

    /// Whether it is open and working.
    #[zbus(property)]
    async fn connected(&self) -> bool {
        self.device.status.borrow().connected
    }

    /// The last error.
    #[zbus(property)]
    async fn last_error(&self) -> String {
        self.device.status.borrow().last_error.clone()
    }

    /// Scans read since start.
    #[zbus(property)]
    async fn scan_count(&self) -> u64 {
        self.device.status.borrow().scan_count
    }

    /// Reads dropped since start: garbled data, and scans nobody wanted.
    #[zbus(property)]
    async fn dropped_count(&self) -> u64 {
        self.device.status.borrow().dropped_count
    }
}

async fn serve_device(
    conn: &Connection,
    device: Device,
    stop: CancellationToken,
) -> zbus::Result<()> {
    let path = OwnedObjectPath::try_from(format!("{ROOT}/devices/{}", device.info.name))?;
    let mut status = device.status.clone();
    conn.object_server()
        .at(path.clone(), DeviceIface { device })
        .await?;
    let emitter = SignalEmitter::new(conn, path)?;
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        let mut last: DeviceStatus = status.borrow_and_update().clone();
        let mut sent = tokio::time::Instant::now();
        while status.changed().await.is_ok() {
            let mut now = status.borrow_and_update().clone();
            if now.connected == last.connected && now.last_error == last.last_error {
                // Only counters moved: a scanner spewing reads must not
                // flood the bus, so their changes are sent at most a few
                // times a second (a connection change still goes at once).
                tokio::time::sleep_until(sent + COUNTER_SIGNAL_GAP).await;
                now = status.borrow_and_update().clone();
            }
            sent = tokio::time::Instant::now();
            let mut changed: HashMap<&str, Value<'_>> = HashMap::new();
            if now.connected != last.connected {
                changed.insert("Connected", Value::from(now.connected));
            }
            if now.last_error != last.last_error {
                changed.insert("LastError", Value::from(now.last_error.as_str()));
            }
            if now.scan_count != last.scan_count {
                changed.insert("ScanCount", Value::from(now.scan_count));
            }
            if now.dropped_count != last.dropped_count {
                changed.insert("DroppedCount", Value::from(now.dropped_count));
            }
            properties_changed(&emitter, "org.kassa.Device1", changed).await;
            last = now;
        }
    }));
    Ok(())
}

/// The shortest gap between two `PropertiesChanged` signals of one device
/// that only carry its counters.
const COUNTER_SIGNAL_GAP: Duration = Duration::from_millis(250);

/// Which bus to serve on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// The system bus (installed).
    System,
    /// The session bus.
    Session,
    /// A bus at this address.
    Address(String),
}

/// Why kassad could not run.
#[derive(Debug)]
pub enum RunError {
    /// The devices or backend could not be set up.
    Setup(String),
    /// The bus refused us.
    Bus(zbus::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Setup(m) => f.write_str(m),
            RunError::Bus(zbus::Error::NameTaken) => {
                write!(
                    f,
                    "the name {BUS_NAME} is taken: is another kassad running?"
                )
            }
            RunError::Bus(e) => write!(f, "D-Bus: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<zbus::Error> for RunError {
    fn from(e: zbus::Error) -> Self {
        RunError::Bus(e)
    }
}

/// How long kassad waits at start for its devices' first status before it
/// takes its name anyway; a device still silent then reports
/// `still opening` until its worker knows better.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(2);

/// Serves kassad on `bus` until `shutdown` completes. `ready` is called
/// once the name is owned and every object is served.
///
/// # Errors
///
/// [`RunError`] when the devices, the backend or the bus cannot be set up.
pub async fn run(
    config: Config,
    bus: Bus,
    ready: impl FnOnce(),
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let terminal = Terminal::start(config).map_err(RunError::Setup)?;
    // The name is taken (and systemd told we are ready) only once every
    // device has said whether it is there: a POS calling at once must not
    // get NoDevice for a scanner that is plugged in.
    terminal.devices_known(STARTUP_DEADLINE).await;
    let stop = CancellationToken::new();
    let conn = match serve(&bus, &terminal, &stop).await {
        Ok(conn) => conn,
        Err(e) => {
            // The devices are running already: stop them before failing.
            stop_devices(&terminal, &stop).await;
            return Err(e);
        }
    };
    info!(
        "kassad {} serving {BUS_NAME} on {bus:?}",
        env!("CARGO_PKG_VERSION")
    );
    ready();
    shutdown.await;
    info!("kassad stopping");
    let _ = conn.release_name(BUS_NAME).await;
    stop_devices(&terminal, &stop).await;
    // Calls still running are answered first, but a stop is not held up
    // for longer than systemd would wait.
    if tokio::time::timeout(Duration::from_secs(5), conn.graceful_shutdown())
        .await
        .is_err()
    {
        warn!("stopping with method calls still unanswered");
    }
    Ok(())
}

/// Ends the bus-side tasks and stops the device workers (off the runtime:
/// it blocks until they have ended).
async fn stop_devices(terminal: &Terminal, stop: &CancellationToken) {
    stop.cancel();
    let devices = terminal.clone();
    if tokio::task::spawn_blocking(move || devices.shutdown())
        .await
        .is_err()
    {
        warn!("stopping the devices failed");
    }
}

/// Serves every object on a new connection to `bus` and claims the name.
async fn serve(
    bus: &Bus,
    terminal: &Terminal,
    stop: &CancellationToken,
) -> Result<Connection, RunError> {
    let builder = match bus {
        Bus::System => connection::Builder::system()?,
        Bus::Session => connection::Builder::session()?,
        Bus::Address(address) => connection::Builder::address(address.as_str())?,
    };
    let conn = builder
        .serve_at(ROOT, zbus::fdo::ObjectManager)?
        .build()
        .await?;
    let presence = Presence::new(&conn).await?;
    watch_owners(&conn, presence.clone(), stop.clone()).await?;
    conn.object_server()
        .at(
            ROOT,
            TerminalIface {
                terminal: terminal.clone(),
                presence,
                stop: stop.clone(),
                finished: Finished::default(),
            },
        )
        .await?;
    for device in terminal.devices() {
        serve_device(&conn, device, stop.clone()).await?;
    }
    watch_state(&conn, terminal.clone(), stop.clone()).await?;
    // Claim the name last, so that a client that sees it finds every object.
    // Not queued behind another kassad: that would look ready and serve
    // nothing (NameTaken instead).
    conn.request_name_with_flags(BUS_NAME, zbus::fdo::RequestNameFlags::DoNotQueue.into())
        .await?;
    Ok(conn)
}

/// Callers that leave the bus lose their waits, checkouts and claims.
async fn watch_owners(
    conn: &Connection,
    presence: Presence,
    stop: CancellationToken,
) -> zbus::Result<()> {
    let proxy = zbus::fdo::DBusProxy::new(conn).await?;
    let mut changes = proxy.receive_name_owner_changed().await?;
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        while let Some(change) = changes.next().await {
            let Ok(args) = change.args() else { continue };
            if args.new_owner().is_none() && args.name().starts_with(':') {
                presence.left(args.name());
            }
        }
        warn!("stopped watching bus clients");
    }));
    Ok(())
}

async fn watch_state(
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
