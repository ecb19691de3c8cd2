//! The terminal service: who gets a scan, checkout sessions, claims, and
//! what the displays show. It knows nothing of D-Bus: a [`Caller`] is an
//! opaque name (the D-Bus layer passes the unique bus name) and a token
//! cancelled when it leaves, and results come back as values, events and
//! `watch` snapshots.
//!
//! Rules:
//! - one checkout (or `ScanPaymentCode`) at a time; a second gets `Busy`;
//! - while a checkout waits for a code it takes the payment codes; a claim
//!   gets every other scan; a scan nobody wants is counted and dropped;
//! - during a checkout only its owner may change the display, bind an
//!   order or end it (`AccessDenied` for anyone else);
//! - a payment code goes only to the owner of the wait, and is logged
//!   masked;
//! - a caller leaving ends whatever it started: its wait, its checkout,
//!   its claim, its backend query.
//!
//! The parts, each in its own file:
//! - [`router`]: where a scan goes and which scanners are triggered
//!   (synchronous, no I/O);
//! - [`screen`]: the only writer of the displays and of the terminal's
//!   state;
//! - `session.rs`: a checkout from code to result, every event through
//!   the checkout state machine;
//! - `requests.rs`: the typed requests the D-Bus layer hands in;
//! - `face.rs`: `CaptureFace` and paying by face;
//! - `tests.rs`: every rule on fake devices, with paused time;
//! - this file: the [`Terminal`] that holds them together, built from
//!   injected parts ([`Parts`]) so that tests can hand it fake devices.

mod error;
mod face;
mod requests;
pub mod router;
pub mod screen;
mod session;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use kassa_hal::{
    Channel, ChannelTable, Money, Order, PaymentCode, PaymentStatus, Scan, SourceKind, View, mask,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::backend::Backend;
use crate::checkout::CheckoutState;
use crate::config::{CheckoutConfig, Config};
use crate::devices::{Device, Devices, RoutedScan, ScannerControl};
use crate::log_limit::{LogLimit, suppressed_note};
pub use error::CoreError;
pub use face::{FACE_TIMEOUT, FaceCapture};
pub use requests::{
    Caller, CheckoutOptions, ClaimOptions, MAX_LINE_CHARS, MAX_TEXT_LINES, check_line,
};
pub use router::REREAD_WINDOW;
use router::{Claim, CodeWait, Route, Router, Sources, allows};
use screen::Screen;
pub use screen::TerminalState;
use session::{Control, Deadlines, Session};
pub use session::{SessionControl, SessionEvent, SessionSnapshot};

/// How many `ShowOrderForCode` calls may wait on the backend at once; one
/// more gets `Busy`. A till has one POS program asking at a time.
pub const MAX_ORDER_QUERIES: usize = 4;
/// Log lines a second about checkouts, waits and claims; a till makes a
/// few a minute.
const LIFECYCLE_LINES: u32 = 10;
/// Scans a claim may have waiting for delivery; a scanner that outpaces
/// the claimant loses the excess (counted in the device's `DroppedCount`)
/// rather than growing kassad's memory.
pub const CLAIM_QUEUE: usize = 256;

/// A payment code delivered to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeScan {
    /// The code (masked in `Debug`).
    pub code: PaymentCode,
    /// Its channel.
    pub channel: Channel,
    /// The source kind that read it.
    pub source: SourceKind,
}

/// A started checkout, handed to whoever serves it to the owner.
#[derive(Debug)]
pub struct CheckoutHandle {
    /// Sequence number, unique in this run.
    pub id: u64,
    /// The caller that owns it.
    pub owner: String,
    /// Signals for the owner, in order; ends after `Finished`.
    pub events: mpsc::UnboundedReceiver<SessionEvent>,
    /// Commands and state.
    pub control: SessionControl,
}

/// Scans delivered to a claim.
#[derive(Debug)]
pub struct ClaimHandle {
    /// Sequence number, unique in this run.
    pub id: u64,
    /// The claimant.
    pub owner: String,
    /// The scans; ends when the claim is released. At most
    /// [`CLAIM_QUEUE`] wait here; more are dropped and counted.
    pub scans: mpsc::Receiver<Scan>,
}

/// What the terminal is made of.
#[derive(Debug)]
pub struct Parts {
    /// The scanners and displays, running.
    pub devices: Devices,
    /// Defaults and deadlines of checkouts.
    pub checkout: CheckoutConfig,
    /// How payment codes are told apart.
    pub channels: ChannelTable,
    /// The platform server, if there is one.
    pub backend: Option<Backend>,
}

/// Where the router's decisions are delivered: the channels of the wait
/// and the claim, and the running checkout's controls.
#[derive(Default)]
struct Inner {
    router: Router,
    /// The wait's id and the sender its code goes to.
    code_tx: Option<(u64, oneshot::Sender<CodeScan>)>,
    /// The claim's id, the sender its scans go to, and the token that ends
    /// its watch on its owner.
    claim: Option<(u64, mpsc::Sender<Scan>, CancellationToken)>,
    /// The running checkout's id and controls.
    checkout: Option<(u64, SessionControl)>,
}

struct Shared {
    checkout: CheckoutConfig,
    channels: ChannelTable,
    devices: Devices,
    backend: Option<Backend>,
    screen: Arc<Screen>,
    inner: Mutex<Inner>,
    ids: AtomicU64,
    /// Bounds the log lines about checkouts, waits and claims starting and
    /// ending: a caller looping over them cannot flood the log.
    lifecycle_log: Mutex<LogLimit>,
    /// Permits for `ShowOrderForCode` calls waiting on the backend.
    order_queries: tokio::sync::Semaphore,
    /// Callers with a `ShowOrderForCode` waiting: one each.
    order_query_callers: Mutex<HashSet<String>>,
    /// Callers with a `CaptureFace` under way: one at a time, each costing
    /// the camera thread a JPEG and the backend a request.
    face_captures: Mutex<HashSet<String>>,
    /// Cancelled when kassad stops.
    stopping: CancellationToken,
}

/// The terminal service. Cheap to clone.
#[derive(Clone)]
pub struct Terminal {
    shared: Arc<Shared>,
}

impl fmt::Debug for Terminal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Terminal").finish_non_exhaustive()
    }
}

impl Terminal {
    /// Starts the devices of `config` and the terminal over them. Must be
    /// called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// A message when the backend cannot be set up (token file).
    pub fn start(config: Config) -> Result<Terminal, String> {
        let backend = config.backend.clone().map(Backend::new).transpose()?;
        // Scans are routed on the worker's thread, to a terminal that
        // exists only once the devices run: the sink finds it through a
        // weak reference set just after, so dropping the last Terminal
        // still stops the devices.
        let target: Arc<OnceLock<Weak<Shared>>> = Arc::default();
        let sink: crate::devices::ScanSink = {
            let target = target.clone();
            Arc::new(move |routed| {
                if let Some(shared) = target.get().and_then(Weak::upgrade) {
                    Terminal { shared }.route(routed);
                }
            })
        };
        let devices = Devices::start(&config.scanners, &config.displays, sink);
        let terminal = Terminal::new(Parts {
            devices,
            checkout: config.checkout,
            channels: config.channels,
            backend,
        });
        let _ = target.set(Arc::downgrade(&terminal.shared));
        Ok(terminal)
    }

    /// A terminal over running devices. Scans reach it through
    /// [`Terminal::route`]. Must be called inside a tokio runtime (the
    /// screen's return-to-idle timer is a task).
    pub fn new(parts: Parts) -> Terminal {
        let slots = parts
            .devices
            .displays
            .iter()
            .map(|d| d.slot.clone())
            .collect();
        let screen = Screen::start(slots, parts.checkout.result_display);
        Terminal {
            shared: Arc::new(Shared {
                checkout: parts.checkout,
                channels: parts.channels,
                devices: parts.devices,
                backend: parts.backend,
                screen,
                inner: Mutex::default(),
                ids: AtomicU64::new(1),
                lifecycle_log: Mutex::new(LogLimit::per_second(LIFECYCLE_LINES)),
                order_queries: tokio::sync::Semaphore::new(MAX_ORDER_QUERIES),
                order_query_callers: Mutex::default(),
                face_captures: Mutex::default(),
                stopping: CancellationToken::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_id(&self) -> u64 {
        self.shared.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Stops the device workers and cancels what is under way. Blocks
    /// until the device threads have ended, or at most
    /// [`crate::devices::STOP_WAIT`].
    pub fn shutdown(&self) {
        if let Some((_, _, released)) = self.lock().claim.take() {
            released.cancel();
        }
        // Ends every wait, checkout and claim watch.
        self.shared.stopping.cancel();
        self.shared.devices.stop();
    }

    /// Waits until every device has reported its first status, at most
    /// `deadline` (see [`crate::devices::Devices::first_status`]).
    pub async fn devices_known(&self, deadline: Duration) {
        self.shared.devices.first_status(deadline).await;
    }

    /// The devices, scanners first.
    pub fn devices(&self) -> Vec<Device> {
        self.shared.devices.all().cloned().collect()
    }

    /// The terminal's state, live.
    pub fn state(&self) -> watch::Receiver<TerminalState> {
        self.shared.screen.state()
    }

    /// Turns each scanner's trigger on exactly when someone waits for it.
    fn update_triggers(&self, inner: &Inner) {
        for scanner in &self.shared.devices.scanners {
            let wanted = inner.router.wants(scanner.source);
            scanner
                .trigger
                .send_if_modified(|on| std::mem::replace(on, wanted) != wanted);
        }
    }

    /// Hands a scan to whoever the router says wants it; counts and logs
    /// it as dropped otherwise. Called on the scanner worker's thread.
    pub fn route(&self, routed: RoutedScan) {
        let RoutedScan { device, scan } = routed;
        let scanner = self.scanner(&device);
        if let Some(s) = scanner {
            s.count_scan();
        }
        let mut inner = self.lock();
        let has_room = inner
            .claim
            .as_ref()
            .is_some_and(|(_, tx, _)| tx.capacity() > 0);
        let route =
            inner
                .router
                .route(&scan.data, scan.source, std::time::Instant::now(), has_room);
        match route {
            Route::Code { wait, code } => {
                self.deliver(&mut inner, wait, code, scan.source, &device);
            }
            Route::Claim { id } => {
                let text = scan.text().into_owned();
                let sent = match &inner.claim {
                    Some((claim, tx, _)) if *claim == id => tx.try_send(scan).map_err(|e| {
                        let why = format!("claim {id} stopped taking scans");
                        (e.into_inner(), why)
                    }),
                    _ => Err((scan, format!("claim {id} was released"))),
                };
                self.update_triggers(&inner);
                drop(inner);
                match sent {
                    Ok(()) => {
                        if let Some(s) = scanner {
                            s.log_scan(format_args!(
                                "scan {} from {device:?} to claim {id}",
                                mask(&text)
                            ));
                        }
                    }
                    Err((scan, why)) => self.dropped(scanner, &device, &scan, &why),
                }
            }
            Route::Dropped(why) => {
                drop(inner);
                self.dropped(scanner, &device, &scan, &why);
            }
        }
    }

    /// Sends `code` to wait `wait`'s owner alone; the router has ended the
    /// wait.
    fn deliver(
        &self,
        inner: &mut Inner,
        wait: u64,
        code: PaymentCode,
        source: SourceKind,
        device: &str,
    ) {
        let channel = self.shared.channels.classify(&code);
        info!("payment code {} ({channel}) from {device:?}", code.masked());
        if let Some((id, tx)) = inner.code_tx.take() {
            if id == wait {
                let _ = tx.send(CodeScan {
                    code,
                    channel,
                    source,
                });
            } else {
                inner.code_tx = Some((id, tx));
            }
        }
        self.update_triggers(inner);
    }

    /// Counts and logs a scan nobody took.
    fn dropped(&self, scanner: Option<&ScannerControl>, device: &str, scan: &Scan, why: &str) {
        match scanner {
            Some(s) => s.drop_scan(&scan.text(), why),
            None => info!("scan {} from {device:?} dropped: {why}", mask(&scan.text())),
        }
    }

    /// Checks that a connected scanner can serve `sources`.
    fn check_scanners(&self, sources: &Sources) -> Result<(), CoreError> {
        let candidates: Vec<_> = self
            .shared
            .devices
            .scanners
            .iter()
            .filter(|s| allows(sources, s.source))
            .collect();
        if candidates.is_empty() {
            return Err(CoreError::NoDevice(
                "no scanner is configured for the requested sources".into(),
            ));
        }
        if candidates
            .iter()
            .any(|s| s.device.status.borrow().connected)
        {
            return Ok(());
        }
        let why: Vec<String> = candidates
            .iter()
            .map(|s| format!("{} {}", s.device.info.name, s.device.health()))
            .collect();
        Err(CoreError::NoDevice(format!(
            "no scanner is connected ({})",
            why.join("; ")
        )))
    }

    /// The prompt a code wait puts on the display.
    fn prompt_view(&self, options: &CheckoutOptions) -> Result<View, CoreError> {
        let text = options
            .prompt
            .clone()
            .unwrap_or_else(|| self.shared.checkout.prompt.clone());
        check_line("prompt", &text)?;
        let currency = options.currency.unwrap_or(self.shared.checkout.currency);
        let amount = match options.amount {
            Some(a) if !(0..=kassa_hal::order::MAX_AMOUNT).contains(&a) => {
                return Err(CoreError::InvalidArgument(format!(
                    "amount: {a} is out of range"
                )));
            }
            Some(a) => Some(Money::new(a, currency)),
            None => None,
        };
        Ok(View::Prompt { text, amount })
    }

    /// Registers a wait for one payment code (and with `checkout`, the
    /// checkout it begins). Fails at once with `Busy` or `NoDevice`; the
    /// returned receiver gets the code.
    fn start_code_wait(
        &self,
        inner: &mut Inner,
        owner: &str,
        sources: Sources,
        checkout: bool,
    ) -> Result<(u64, oneshot::Receiver<CodeScan>), CoreError> {
        if inner.router.busy() {
            return Err(CoreError::Busy("a checkout is already running".into()));
        }
        self.check_scanners(&sources)?;
        let id = self.next_id();
        let wait = CodeWait {
            id,
            owner: owner.to_string(),
            sources,
        };
        inner
            .router
            .begin_wait(wait, checkout)
            .map_err(|_| CoreError::Busy("a checkout is already running".into()))?;
        let (tx, rx) = oneshot::channel();
        inner.code_tx = Some((id, tx));
        self.update_triggers(inner);
        Ok((id, rx))
    }

    /// Gives the terminal back after checkout `id`.
    fn end_checkout(&self, id: u64) {
        let mut inner = self.lock();
        inner.router.end_checkout(id);
        if inner.checkout.as_ref().is_some_and(|(c, _)| *c == id) {
            inner.checkout = None;
        }
        if inner.code_tx.as_ref().is_some_and(|(w, _)| *w == id) {
            inner.code_tx = None;
        }
        self.update_triggers(&inner);
    }

    /// `ScanPaymentCode`: prompt, trigger, wait for one code.
    ///
    /// # Errors
    ///
    /// `Busy`, `NoDevice`, `InvalidArgument`, `Timeout`, `Cancelled`.
    pub async fn scan_payment_code(
        &self,
        caller: &Caller,
        options: CheckoutOptions,
    ) -> Result<CodeScan, CoreError> {
        let view = self.prompt_view(&options)?;
        let timeout = options.timeout.unwrap_or(self.shared.checkout.code_timeout);
        let (id, rx) = {
            let mut inner = self.lock();
            self.start_code_wait(&mut inner, &caller.name, options.sources, false)?
        };
        self.shared.screen.show_as(view, TerminalState::Scanning);
        let result = tokio::select! {
            code = rx => code.map_err(|_| CoreError::Cancelled("the wait was abandoned".into())),
            () = tokio::time::sleep(timeout) => Err(CoreError::Timeout(format!("no payment code within {} ms", timeout.as_millis()))),
            () = caller.gone.cancelled() => Err(CoreError::Cancelled("the caller left".into())),
            () = self.shared.stopping.cancelled() => Err(CoreError::Cancelled("kassad is stopping".into())),
        };
        if let Err(e) = &result {
            self.log_lifecycle(format_args!("payment code wait {id} ended: {e}"));
        }
        let view = if result.is_ok() {
            code_received()
        } else {
            View::Idle
        };
        // Decided under the lock: a checkout that began the moment this
        // wait ended owns the display, and its prompt must not be
        // overwritten.
        let mut inner = self.lock();
        if inner.router.end_wait(id) {
            inner.code_tx = None;
            self.update_triggers(&inner);
        }
        if !inner.router.busy() {
            self.shared.screen.show_as(view, TerminalState::Idle);
        }
        result
    }

    /// `BeginCheckout`: starts the whole flow (code, order, result) as a
    /// session.
    ///
    /// # Errors
    ///
    /// `Busy`, `NoDevice`, `InvalidArgument` at once; later outcomes arrive
    /// as [`SessionEvent`]s.
    pub fn begin_checkout(
        &self,
        caller: &Caller,
        options: CheckoutOptions,
    ) -> Result<CheckoutHandle, CoreError> {
        let view = self.prompt_view(&options)?;
        let defaults = &self.shared.checkout;
        let deadlines = Deadlines {
            code: options.timeout.unwrap_or(defaults.code_timeout),
            order: options.order_timeout.unwrap_or(defaults.order_timeout),
            result: defaults.result_timeout,
        };
        let owner = caller.name.clone();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (snapshot_tx, snapshot_rx) = watch::channel(SessionSnapshot {
            state: CheckoutState::WaitingForCode,
            channel: String::new(),
            order_json: String::new(),
        });
        let control = SessionControl {
            owner: owner.clone(),
            tx: control_tx,
            snapshot: snapshot_rx,
        };
        let (id, code_rx) = {
            let mut inner = self.lock();
            let (id, rx) = self.start_code_wait(&mut inner, &owner, options.sources, true)?;
            inner.checkout = Some((id, control.clone()));
            (id, rx)
        };
        self.shared.screen.show_as(view, TerminalState::Scanning);
        self.log_lifecycle(format_args!("checkout {id} started"));
        let session = Session {
            terminal: self.clone(),
            id,
            state: CheckoutState::WaitingForCode,
            code: None,
            order_id: None,
            events: events_tx,
            snapshot: snapshot_tx,
        };
        tokio::spawn(session.run(code_rx, control_rx, caller.gone.clone(), deadlines));
        Ok(CheckoutHandle {
            id,
            owner,
            events: events_rx,
            control,
        })
    }

    /// Refuses `caller` while a checkout or payment-code wait of another
    /// caller runs: during a checkout, only its owner decides what the
    /// customer sees and how it ends.
    fn check_display_rights(&self, caller: &str) -> Result<(), CoreError> {
        match self.lock().router.session_owner() {
            Some(owner) if owner != caller => Err(CoreError::AccessDenied(
                "a checkout of another caller is running; only its owner may change the display"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// The running checkout, if `caller` owns it.
    fn own_checkout(&self, caller: &str) -> Option<SessionControl> {
        let inner = self.lock();
        let id = inner.router.own_checkout(caller)?;
        inner
            .checkout
            .as_ref()
            .filter(|(c, _)| *c == id)
            .map(|(_, control)| control.clone())
    }

    /// The caller's own running checkout, once it has its code (an order
    /// or a result may go to it then).
    fn own_checkout_with_code(&self, caller: &str) -> Option<SessionControl> {
        self.own_checkout(caller).filter(|control| {
            matches!(
                control.snapshot.borrow().state,
                CheckoutState::WaitingForOrder | CheckoutState::ShowingOrder
            )
        })
    }

    /// `ShowOrder`: validates and displays an order. During the caller's
    /// own checkout, once it has its code, the order becomes the checkout's
    /// order.
    ///
    /// # Errors
    ///
    /// `InvalidOrder` naming the field (the display is left as it was);
    /// `AccessDenied` during another caller's checkout.
    pub async fn show_order(&self, caller: &str, json: &str) -> Result<Order, CoreError> {
        let order = Order::from_json(json).map_err(|e| CoreError::InvalidOrder(e.to_string()))?;
        self.check_display_rights(caller)?;
        if let Some(control) = self.own_checkout_with_code(caller) {
            let for_session = order.clone();
            if control
                .ask(|tx| Control::Order(for_session, tx))
                .await
                .is_ok()
            {
                return Ok(order);
            }
        }
        self.shared
            .screen
            .show_as(View::Order(order.clone()), TerminalState::ShowingOrder);
        Ok(order)
    }

    /// `ShowOrderForCode`: asks the backend for the order bound to `code`,
    /// shows it and returns it. At most [`MAX_ORDER_QUERIES`] run at once;
    /// each ends when its caller leaves.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for a malformed code, `Backend` when no backend is
    /// configured or it fails, `NotBound` at the deadline, `Busy` when too
    /// many queries run, `AccessDenied` during another caller's checkout,
    /// `Cancelled` when the caller leaves or kassad stops first.
    pub async fn show_order_for_code(
        &self,
        caller: &Caller,
        code: &str,
        timeout: Option<Duration>,
    ) -> Result<Order, CoreError> {
        let code = PaymentCode::parse(code.as_bytes())
            .map_err(|e| CoreError::InvalidArgument(format!("code: {e}")))?;
        let backend = self.shared.backend.as_ref().ok_or_else(|| {
            CoreError::Backend("no backend is configured ([backend] in kassa.toml)".into())
        })?;
        self.check_display_rights(&caller.name)?;
        let _permit = self.shared.order_queries.try_acquire().map_err(|_| {
            CoreError::Busy(format!(
                "{MAX_ORDER_QUERIES} ShowOrderForCode calls are waiting already"
            ))
        })?;
        let _own =
            OneAtATime::take(&self.shared.order_query_callers, &caller.name).ok_or_else(|| {
                CoreError::Busy("this caller's ShowOrderForCode is waiting already".into())
            })?;
        let timeout = timeout.unwrap_or(self.shared.checkout.order_timeout);
        let order = tokio::select! {
            order = backend.query_order(&code, Instant::now() + timeout) => order?,
            () = caller.gone.cancelled() => {
                return Err(CoreError::Cancelled("the caller left".into()));
            }
            () = self.shared.stopping.cancelled() => {
                return Err(CoreError::Cancelled("kassad is stopping".into()));
            }
        };
        // A checkout may have begun while the backend was asked.
        self.check_display_rights(&caller.name)?;
        self.shared
            .screen
            .show_as(View::Order(order.clone()), TerminalState::ShowingOrder);
        Ok(order)
    }

    /// `ShowPaymentResult`: shows the result; ends the caller's own running
    /// checkout with it if that checkout has its code.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for bad text; `AccessDenied` during another
    /// caller's checkout.
    pub async fn show_payment_result(
        &self,
        caller: &str,
        status: PaymentStatus,
        message: &str,
    ) -> Result<(), CoreError> {
        check_line("message", message)?;
        self.check_display_rights(caller)?;
        if let Some(control) = self.own_checkout_with_code(caller) {
            // If the checkout ended meanwhile (a deadline, the
            // backend), the caller hears so rather than a result shown
            // that the checkout does not have.
            return control.finish(caller, status, message.to_string()).await;
        }
        self.shared.screen.show_result(status, message.to_string());
        Ok(())
    }

    /// `ShowText`.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for more than [`MAX_TEXT_LINES`] lines, long lines
    /// or control characters; `AccessDenied` during another caller's
    /// checkout.
    pub fn show_text(&self, caller: &str, lines: Vec<String>) -> Result<(), CoreError> {
        if lines.len() > MAX_TEXT_LINES {
            return Err(CoreError::InvalidArgument(format!(
                "lines: at most {MAX_TEXT_LINES}"
            )));
        }
        for (i, line) in lines.iter().enumerate() {
            check_line(&format!("lines[{i}]"), line)?;
        }
        self.check_display_rights(caller)?;
        self.shared.screen.show(View::Text(lines));
        Ok(())
    }

    /// `ClearDisplay`.
    ///
    /// # Errors
    ///
    /// `AccessDenied` during another caller's checkout.
    pub fn clear_display(&self, caller: &str) -> Result<(), CoreError> {
        self.check_display_rights(caller)?;
        self.shared.screen.show(View::Idle);
        if !self.lock().router.has_checkout() {
            self.shared.screen.set_state(TerminalState::Idle);
        }
        Ok(())
    }

    /// `ClaimScanner`: every scan to `owner` until released.
    ///
    /// # Errors
    ///
    /// `Busy` if another caller holds the claim; `InvalidArgument`,
    /// `NoDevice` for the sources.
    pub fn claim_scanner(
        &self,
        caller: &Caller,
        options: ClaimOptions,
    ) -> Result<ClaimHandle, CoreError> {
        let owner = caller.name.as_str();
        let sources = options.sources;
        let mut inner = self.lock();
        if inner.router.claim().is_some() {
            return Err(CoreError::Busy(
                "the scanner is claimed by another caller".into(),
            ));
        }
        if !self
            .shared
            .devices
            .scanners
            .iter()
            .any(|s| allows(&sources, s.source))
        {
            return Err(CoreError::NoDevice(
                "no scanner is configured for the requested sources".into(),
            ));
        }
        let id = self.next_id();
        let (tx, rx) = mpsc::channel(CLAIM_QUEUE);
        let released = CancellationToken::new();
        inner
            .router
            .take_claim(Claim {
                id,
                owner: owner.to_string(),
                sources,
                auto_disable: options.auto_disable,
                enabled: true,
            })
            .map_err(|_| CoreError::Busy("the scanner is claimed by another caller".into()))?;
        inner.claim = Some((id, tx, released.clone()));
        self.update_triggers(&inner);
        drop(inner);
        self.log_lifecycle(format_args!("claim {id} taken"));
        // The claim ends with its owner.
        let weak = Arc::downgrade(&self.shared);
        let gone = caller.gone.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = gone.cancelled() => {}
                () = released.cancelled() => return,
            }
            if let Some(shared) = weak.upgrade() {
                let this = Terminal { shared };
                if this.end_claim(id) {
                    this.log_lifecycle(format_args!("claim {id} released: its owner left"));
                }
            }
        });
        Ok(ClaimHandle {
            id,
            owner: owner.to_string(),
            scans: rx,
        })
    }

    /// Ends claim `id`; true if it was held.
    fn end_claim(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let ended = inner.router.release_claim(id).is_some();
        if inner.claim.as_ref().is_some_and(|(c, _, _)| *c == id)
            && let Some((_, _, released)) = inner.claim.take()
        {
            released.cancel();
        }
        self.update_triggers(&inner);
        ended
    }

    /// Checks that claim `id` is held by `caller`.
    fn check_claim(&self, inner: &Inner, id: u64, caller: &str) -> Result<(), CoreError> {
        match inner.router.claim() {
            Some(c) if c.id == id && c.owner == caller => Ok(()),
            Some(c) if c.id == id => Err(CoreError::AccessDenied(
                "this claim belongs to another caller".into(),
            )),
            _ => Err(CoreError::InvalidArgument("the claim was released".into())),
        }
    }

    /// `Claim1.Release`.
    ///
    /// # Errors
    ///
    /// `AccessDenied` for another caller, `InvalidArgument` if already released.
    pub fn release_claim(&self, id: u64, caller: &str) -> Result<(), CoreError> {
        self.check_claim(&self.lock(), id, caller)?;
        self.end_claim(id);
        self.log_lifecycle(format_args!("claim {id} released"));
        Ok(())
    }

    /// `Claim1.Enable`: re-arms an auto-disabled claim.
    ///
    /// # Errors
    ///
    /// As [`Terminal::release_claim`].
    pub fn enable_claim(&self, id: u64, caller: &str) -> Result<(), CoreError> {
        let mut inner = self.lock();
        self.check_claim(&inner, id, caller)?;
        if let Some(claim) = inner.router.claim_mut(id) {
            claim.enabled = true;
        }
        self.update_triggers(&inner);
        Ok(())
    }

    /// Whether claim `id` currently takes scans.
    pub fn claim_enabled(&self, id: u64) -> bool {
        self.lock()
            .router
            .claim()
            .is_some_and(|c| c.id == id && c.enabled)
    }

    /// Logs a checkout, wait or claim starting or ending, at most
    /// [`LIFECYCLE_LINES`] a second.
    fn log_lifecycle(&self, line: fmt::Arguments<'_>) {
        let admitted = self
            .shared
            .lifecycle_log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(std::time::Instant::now());
        if let Some(suppressed) = admitted {
            info!("{line}{}", suppressed_note(suppressed));
        }
    }

    /// The scanner named `device`.
    fn scanner(&self, device: &str) -> Option<&ScannerControl> {
        self.shared
            .devices
            .scanners
            .iter()
            .find(|s| s.device.info.name == device)
    }
}

/// A caller's place in a set of callers that may each do one thing at a
/// time; the place is given back when dropped.
struct OneAtATime<'a> {
    set: &'a Mutex<HashSet<String>>,
    caller: String,
}

impl<'a> OneAtATime<'a> {
    /// `None` if `caller` holds a place already.
    fn take(set: &'a Mutex<HashSet<String>>, caller: &str) -> Option<Self> {
        Self::take_if(set, caller, false)
    }

    /// `None` if `caller` holds a place already (or, with `only_one`,
    /// anyone does).
    fn take_if(set: &'a Mutex<HashSet<String>>, caller: &str, only_one: bool) -> Option<Self> {
        let mut held = set.lock().unwrap_or_else(|p| p.into_inner());
        if (only_one && !held.is_empty()) || !held.insert(caller.to_string()) {
            return None;
        }
        Some(OneAtATime {
            set,
            caller: caller.to_string(),
        })
    }
}

impl Drop for OneAtATime<'_> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.caller);
    }
}

/// What the customer sees between the code and the order.
fn code_received() -> View {
    View::Text(vec![
        "Payment code received".into(),
        "One moment, please".into(),
    ])
}
