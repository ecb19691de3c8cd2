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

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kassa_hal::{Channel, Money, Order, PaymentCode, PaymentStatus, Scan, SourceKind, View, mask};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backend::{Backend, BackendError};
use crate::checkout::{CheckoutState, Event};
use crate::config::Config;
use crate::devices::{Device, Devices, RoutedScan, ScannerControl};
use crate::log_limit::{LogLimit, suppressed_note};
use kassa_drivers::camera::face::CapturedFace;

/// A failure, by the names of the D-Bus contract (`org.kassa.Error.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// A deadline passed.
    Timeout(String),
    /// The operation was cancelled.
    Cancelled(String),
    /// A checkout is already running, or the scanner is claimed.
    Busy(String),
    /// An order document was rejected; the message names the field.
    InvalidOrder(String),
    /// An option or argument was wrong.
    InvalidArgument(String),
    /// No device can do it.
    NoDevice(String),
    /// The backend failed.
    Backend(String),
    /// The backend bound no order before the deadline.
    NotBound(String),
    /// The caller does not own the session or claim.
    AccessDenied(String),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, message) = match self {
            CoreError::Timeout(m) => ("timeout", m),
            CoreError::Cancelled(m) => ("cancelled", m),
            CoreError::Busy(m) => ("busy", m),
            CoreError::InvalidOrder(m) => ("invalid order", m),
            CoreError::InvalidArgument(m) => ("invalid argument", m),
            CoreError::NoDevice(m) => ("no device", m),
            CoreError::Backend(m) => ("backend", m),
            CoreError::NotBound(m) => ("not bound", m),
            CoreError::AccessDenied(m) => ("access denied", m),
        };
        write!(f, "{name}: {message}")
    }
}

impl std::error::Error for CoreError {}

impl From<BackendError> for CoreError {
    fn from(e: BackendError) -> CoreError {
        match e {
            BackendError::NotBound(_) => CoreError::NotBound(e.to_string()),
            other => CoreError::Backend(other.to_string()),
        }
    }
}

/// What the terminal as a whole is doing (the `State` property).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalState {
    /// Nothing under way.
    Idle,
    /// Waiting for a payment code.
    Scanning,
    /// A checkout waits for the backend to bind an order.
    WaitingForOrder,
    /// An order is on the display.
    ShowingOrder,
    /// A payment result is on the display.
    ShowingResult,
}

impl TerminalState {
    /// The name on the bus.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminalState::Idle => "idle",
            TerminalState::Scanning => "scanning",
            TerminalState::WaitingForOrder => "waiting_for_order",
            TerminalState::ShowingOrder => "showing_order",
            TerminalState::ShowingResult => "showing_result",
        }
    }
}

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

/// Who is asking: an opaque name (on D-Bus, the caller's unique bus name)
/// and a token that is cancelled when the caller goes away. Whatever a
/// caller starts (a wait, a checkout, a claim, a backend query) ends when
/// its token is cancelled, so a caller that leaves holds nothing.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Compared to decide who owns a checkout or a claim.
    pub name: String,
    /// Cancelled when the caller has left.
    pub gone: CancellationToken,
}

impl Caller {
    /// A caller named `name`, present until `gone` is cancelled.
    pub fn new(name: impl Into<String>, gone: CancellationToken) -> Caller {
        Caller {
            name: name.into(),
            gone,
        }
    }
}

/// Options of `ScanPaymentCode` and `BeginCheckout`.
#[derive(Debug, Clone, Default)]
pub struct CheckoutOptions {
    /// How long to wait for the code.
    pub timeout: Option<Duration>,
    /// What the display asks.
    pub prompt: Option<String>,
    /// Amount due, in minor units of `currency`.
    pub amount: Option<i64>,
    /// The currency of `amount`.
    pub currency: Option<kassa_hal::Currency>,
    /// Only these sources may deliver the code.
    pub sources: Option<Vec<SourceKind>>,
    /// How long to wait for the bound order (checkouts only).
    pub order_timeout: Option<Duration>,
}

/// Options of `ClaimScanner`.
#[derive(Debug, Clone, Default)]
pub struct ClaimOptions {
    /// Disable the claim after each scan until `Enable` (UnifiedPOS AutoDisable).
    pub auto_disable: bool,
    /// Only scans from these sources.
    pub sources: Option<Vec<SourceKind>>,
}

/// A checkout's visible state (the Checkout1 properties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// Where it is.
    pub state: CheckoutState,
    /// The code's channel, once scanned.
    pub channel: String,
    /// The order shown, as JSON, once there is one.
    pub order_json: String,
}

/// Something the owner of a checkout is told (the Checkout1 signals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The payment code was read.
    CodeScanned(CodeScan),
    /// An order went on the display.
    OrderShown(String),
    /// The checkout ended.
    Finished {
        /// Final state.
        state: CheckoutState,
        /// Why, for the POS's log.
        message: String,
    },
}

enum Control {
    Cancel(oneshot::Sender<Result<(), CoreError>>),
    Finish(
        PaymentStatus,
        String,
        oneshot::Sender<Result<(), CoreError>>,
    ),
    Order(Order, oneshot::Sender<Result<(), CoreError>>),
}

/// Commands into a running checkout.
#[derive(Debug, Clone)]
pub struct SessionControl {
    owner: String,
    tx: mpsc::UnboundedSender<Control>,
    /// Current visible state.
    pub snapshot: watch::Receiver<SessionSnapshot>,
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Control::Cancel(_) => "Cancel",
            Control::Finish(..) => "Finish",
            Control::Order(..) => "Order",
        })
    }
}

impl SessionControl {
    /// Whether `caller` owns the checkout.
    pub fn is_owner(&self, caller: &str) -> bool {
        caller == self.owner
    }

    fn check_owner(&self, caller: &str) -> Result<(), CoreError> {
        if caller == self.owner {
            Ok(())
        } else {
            Err(CoreError::AccessDenied(
                "this checkout belongs to another caller".into(),
            ))
        }
    }

    async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), CoreError>>) -> Control,
    ) -> Result<(), CoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .map_err(|_| CoreError::InvalidArgument("the checkout has ended".into()))?;
        rx.await
            .unwrap_or_else(|_| Err(CoreError::InvalidArgument("the checkout has ended".into())))
    }

    /// Cancels the checkout (owner only).
    ///
    /// # Errors
    ///
    /// `AccessDenied` for another caller; `InvalidArgument` once it ended.
    pub async fn cancel(&self, caller: &str) -> Result<(), CoreError> {
        self.check_owner(caller)?;
        self.ask(Control::Cancel).await
    }

    /// Ends the checkout with a payment result (owner only).
    ///
    /// # Errors
    ///
    /// `AccessDenied` for another caller; `InvalidArgument` for a message
    /// that is not one line of display text, before a code was read or
    /// once it ended.
    pub async fn finish(
        &self,
        caller: &str,
        status: PaymentStatus,
        message: String,
    ) -> Result<(), CoreError> {
        self.check_owner(caller)?;
        check_line("message", &message)?;
        self.ask(|tx| Control::Finish(status, message, tx)).await
    }
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

struct CodeWait {
    id: u64,
    /// Who waits: a checkout's owner or a `ScanPaymentCode` caller.
    owner: String,
    sources: Option<Vec<SourceKind>>,
    tx: Option<oneshot::Sender<CodeScan>>,
}

struct ClaimSlot {
    id: u64,
    owner: String,
    /// Cancelled when the claim ends, which ends its watch on the owner.
    released: CancellationToken,
    sources: Option<Vec<SourceKind>>,
    auto_disable: bool,
    enabled: bool,
    tx: mpsc::Sender<Scan>,
}

struct ActiveCheckout {
    id: u64,
    owner: String,
    control: SessionControl,
}

#[derive(Default)]
struct State {
    /// Who waits for a payment code (a checkout or `ScanPaymentCode`).
    code_wait: Option<CodeWait>,
    claim: Option<ClaimSlot>,
    checkout: Option<ActiveCheckout>,
    /// The payment code last delivered to a wait, and when: the same code
    /// read again soon after (the phone still in front of the scanner)
    /// goes to no claim.
    last_code: Option<(PaymentCode, Instant)>,
    /// Bumped whenever the display changes, so a delayed return to idle
    /// does not wipe a newer view.
    display_generation: u64,
}

impl State {
    /// The owner of the running checkout or payment-code wait, if any.
    fn session_owner(&self) -> Option<&str> {
        self.checkout
            .as_ref()
            .map(|c| c.owner.as_str())
            .or(self.code_wait.as_ref().map(|w| w.owner.as_str()))
    }
}

struct Shared {
    config: Config,
    devices: Devices,
    backend: Option<Backend>,
    state: Mutex<State>,
    terminal_state: watch::Sender<TerminalState>,
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
    /// When to return the display to idle, and the display generation that
    /// must still be showing for it to happen.
    idle_at: watch::Sender<Option<(Instant, u64)>>,
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

fn allows(sources: &Option<Vec<SourceKind>>, source: SourceKind) -> bool {
    sources.as_ref().is_none_or(|s| s.contains(&source))
}

impl Terminal {
    /// Starts the devices and the scan router.
    ///
    /// # Errors
    ///
    /// A message when the backend cannot be set up (token file).
    pub fn start(config: Config) -> Result<Terminal, String> {
        let backend = config.backend.clone().map(Backend::new).transpose()?;
        // Scans are routed on the worker's thread. The sink holds only a weak
        // reference, so dropping the last Terminal still stops the devices.
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| {
            let weak = weak.clone();
            let sink: crate::devices::ScanSink = Arc::new(move |routed| {
                if let Some(shared) = weak.upgrade() {
                    Terminal { shared }.route(routed);
                }
            });
            let devices = Devices::start(&config.scanners, &config.displays, sink);
            Shared {
                config,
                devices,
                backend,
                state: Mutex::new(State::default()),
                terminal_state: watch::channel(TerminalState::Idle).0,
                ids: AtomicU64::new(1),
                order_queries: tokio::sync::Semaphore::new(MAX_ORDER_QUERIES),
                order_query_callers: Mutex::default(),
                lifecycle_log: Mutex::new(LogLimit::per_second(LIFECYCLE_LINES)),
                face_captures: Mutex::default(),
                stopping: CancellationToken::new(),
                idle_at: watch::channel(None).0,
            }
        });
        let terminal = Terminal { shared };
        terminal.start_idle_timer();
        terminal.show(View::Idle);
        Ok(terminal)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_id(&self) -> u64 {
        self.shared.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Stops the device workers and cancels what is under way. Blocks
    /// until the device threads have ended, or at most
    /// [`crate::devices::STOP_WAIT`].
    pub fn shutdown(&self) {
        if let Some(claim) = self.lock().claim.take() {
            claim.released.cancel();
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
        self.shared.terminal_state.subscribe()
    }

    fn set_state(&self, state: TerminalState) {
        self.shared
            .terminal_state
            .send_if_modified(|s| std::mem::replace(s, state) != state);
    }

    /// Sends `view` to every display; returns its generation.
    fn show(&self, view: View) -> u64 {
        self.show_locked(&mut self.lock(), view)
    }

    /// [`Terminal::show`] with the state already locked.
    fn show_locked(&self, st: &mut State, view: View) -> u64 {
        st.display_generation += 1;
        for display in &self.shared.devices.displays {
            display.slot.set(view.clone());
        }
        st.display_generation
    }

    /// Shows a result, then the idle screen after `result_display` unless
    /// something else was shown meanwhile.
    fn show_result(&self, status: PaymentStatus, message: String) {
        let generation = self.show(View::Result { status, message });
        self.set_state(TerminalState::ShowingResult);
        let at = Instant::now() + self.shared.config.checkout.result_display;
        self.shared.idle_at.send_replace(Some((at, generation)));
    }

    /// The one task that returns the display to idle after a result (one
    /// timer, however many checkouts end).
    fn start_idle_timer(&self) {
        let weak = Arc::downgrade(&self.shared);
        let mut idle_at = self.shared.idle_at.subscribe();
        tokio::spawn(async move {
            loop {
                let next = *idle_at.borrow_and_update();
                match next {
                    Some((at, generation)) => {
                        tokio::select! {
                            () = tokio::time::sleep_until(at) => {
                                let Some(shared) = weak.upgrade() else { return };
                                let this = Terminal { shared };
                                if this.lock().display_generation == generation {
                                    this.show(View::Idle);
                                    this.set_state(TerminalState::Idle);
                                }
                                this.shared.idle_at.send_replace(None);
                            }
                            changed = idle_at.changed() => if changed.is_err() { return },
                        }
                    }
                    None => {
                        if idle_at.changed().await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }

    /// Turns each scanner's trigger on exactly when someone waits for it.
    fn update_triggers(&self, st: &State) {
        for scanner in &self.shared.devices.scanners {
            let wanted = st
                .code_wait
                .as_ref()
                .is_some_and(|w| allows(&w.sources, scanner.source))
                || st
                    .claim
                    .as_ref()
                    .is_some_and(|c| c.enabled && allows(&c.sources, scanner.source));
            scanner
                .trigger
                .send_if_modified(|on| std::mem::replace(on, wanted) != wanted);
        }
    }

    /// Ends the code wait with `code`, which goes to the wait's owner alone.
    fn deliver_code(&self, st: &mut State, code: PaymentCode, source: SourceKind, device: &str) {
        let channel = self.shared.config.channels.classify(&code);
        info!("payment code {} ({channel}) from {device:?}", code.masked());
        if let Some(mut wait) = st.code_wait.take() {
            if let Some(tx) = wait.tx.take() {
                let _ = tx.send(CodeScan {
                    code: code.clone(),
                    channel,
                    source,
                });
            }
            st.last_code = Some((code, Instant::now()));
        }
        self.update_triggers(st);
    }

    /// Hands a scan to whoever wants it: a payment code to the wait for
    /// one; anything else to the claim, and a payment code to the claim
    /// only when no other caller's checkout runs and it is not the code
    /// just delivered, read again; otherwise it is counted and dropped.
    fn route(&self, routed: RoutedScan) {
        let RoutedScan { device, scan } = routed;
        let scanner = self.scanner(&device);
        if let Some(s) = scanner {
            s.count_scan();
        }
        let code = PaymentCode::parse(&scan.data);
        let mut st = self.lock();
        let wanted = st
            .code_wait
            .as_ref()
            .is_some_and(|w| allows(&w.sources, scan.source));
        let not_a_code = match code {
            Ok(code) if wanted => {
                self.deliver_code(&mut st, code, scan.source, &device);
                return;
            }
            Ok(_) => None,
            // A member card or a coupon while the customer is asked for a
            // payment code: the claim may still want it.
            Err(e) => Some(e),
        };
        let is_code = not_a_code.is_none();
        let Err((scan, why)) = self.offer_to_claim(&mut st, scan, is_code, &device) else {
            return;
        };
        drop(st);
        let why = match not_a_code {
            _ if !why.is_empty() => why,
            Some(e) => format!("not a payment code ({e}), and no claim wants it"),
            None => "no checkout or claim wants it".into(),
        };
        self.dropped(scanner, &device, &scan, &why);
    }

    /// Whether `code` is the one just delivered to a wait, read again soon
    /// after.
    fn is_reread(&self, st: &State, code: &[u8]) -> bool {
        st.last_code.as_ref().is_some_and(|(last, at)| {
            last.as_str().as_bytes() == code && at.elapsed() < REREAD_WINDOW
        })
    }

    /// Gives `scan` to the claim, if it takes scans from that source; else
    /// hands it back with why not (empty: no claim wants it).
    fn offer_to_claim(
        &self,
        st: &mut State,
        scan: Scan,
        is_code: bool,
        device: &str,
    ) -> Result<(), (Scan, String)> {
        let Some(claim) = st
            .claim
            .as_ref()
            .filter(|c| c.enabled && allows(&c.sources, scan.source))
        else {
            return Err((scan, String::new()));
        };
        let session_owner = st.session_owner();
        if is_code && session_owner.is_some_and(|o| o != claim.owner) {
            return Err((
                scan,
                "a payment code during another caller's checkout".into(),
            ));
        }
        if is_code && self.is_reread(st, &scan.data) {
            return Err((scan, "a re-read of the payment code just delivered".into()));
        }
        let (id, text) = (claim.id, scan.text().into_owned());
        if let Err(full) = claim.tx.try_send(scan) {
            return Err((
                full.into_inner(),
                format!("claim {id} has {CLAIM_QUEUE} scans not yet delivered"),
            ));
        }
        if let Some(claim) = st.claim.as_mut().filter(|c| c.auto_disable) {
            claim.enabled = false;
            self.update_triggers(st);
        }
        if let Some(s) = self.scanner(device) {
            s.log_scan(format_args!(
                "scan {} from {device:?} to claim {id}",
                mask(&text)
            ));
        }
        Ok(())
    }

    /// Counts and logs a scan nobody took.
    fn dropped(&self, scanner: Option<&ScannerControl>, device: &str, scan: &Scan, why: &str) {
        match scanner {
            Some(s) => s.drop_scan(&scan.text(), why),
            None => info!("scan {} from {device:?} dropped: {why}", mask(&scan.text())),
        }
    }

    /// Checks that a connected scanner can serve `sources`.
    fn check_scanners(&self, sources: &Option<Vec<SourceKind>>) -> Result<(), CoreError> {
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

    fn amount(&self, options: &CheckoutOptions) -> Result<Option<Money>, CoreError> {
        let currency = options
            .currency
            .unwrap_or(self.shared.config.checkout.currency);
        match options.amount {
            Some(a) if !(0..=kassa_hal::order::MAX_AMOUNT).contains(&a) => Err(
                CoreError::InvalidArgument(format!("amount: {a} is out of range")),
            ),
            Some(a) => Ok(Some(Money::new(a, currency))),
            None => Ok(None),
        }
    }

    fn prompt_view(&self, options: &CheckoutOptions) -> Result<View, CoreError> {
        let text = options
            .prompt
            .clone()
            .unwrap_or_else(|| self.shared.config.checkout.prompt.clone());
        check_line("prompt", &text)?;
        Ok(View::Prompt {
            text,
            amount: self.amount(options)?,
        })
    }

    /// Checks the options both code-waiting calls share: the sources, and
    /// the prompt view they put on the display.
    fn prepare(
        &self,
        options: &CheckoutOptions,
    ) -> Result<(Option<Vec<SourceKind>>, View), CoreError> {
        Ok((options.sources.clone(), self.prompt_view(options)?))
    }

    /// Registers a wait for one payment code. Fails at once with `Busy` or
    /// `NoDevice`; the returned receiver gets the code.
    fn start_code_wait(
        &self,
        st: &mut State,
        owner: &str,
        sources: Option<Vec<SourceKind>>,
    ) -> Result<(u64, oneshot::Receiver<CodeScan>), CoreError> {
        if st.code_wait.is_some() || st.checkout.is_some() {
            return Err(CoreError::Busy("a checkout is already running".into()));
        }
        self.check_scanners(&sources)?;
        let id = self.next_id();
        let (tx, rx) = oneshot::channel();
        st.code_wait = Some(CodeWait {
            id,
            owner: owner.to_string(),
            sources,
            tx: Some(tx),
        });
        self.update_triggers(st);
        Ok((id, rx))
    }

    fn end_code_wait(&self, id: u64) {
        let mut st = self.lock();
        if st.code_wait.as_ref().is_some_and(|w| w.id == id) {
            st.code_wait = None;
            self.update_triggers(&st);
        }
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
        let (sources, view) = self.prepare(&options)?;
        let timeout = options
            .timeout
            .unwrap_or(self.shared.config.checkout.code_timeout);
        let (id, rx) = {
            let mut st = self.lock();
            self.start_code_wait(&mut st, &caller.name, sources)?
        };
        self.show(view);
        self.set_state(TerminalState::Scanning);
        let result = tokio::select! {
            code = rx => code.map_err(|_| CoreError::Cancelled("the wait was abandoned".into())),
            () = tokio::time::sleep(timeout) => Err(CoreError::Timeout(format!("no payment code within {} ms", timeout.as_millis()))),
            () = caller.gone.cancelled() => Err(CoreError::Cancelled("the caller left".into())),
            () = self.shared.stopping.cancelled() => Err(CoreError::Cancelled("kassad is stopping".into())),
        };
        if result.is_err() {
            self.log_lifecycle(format_args!(
                "payment code wait {id} ended: {}",
                result_text(&result)
            ));
        }
        let view = if result.is_ok() {
            code_received()
        } else {
            View::Idle
        };
        // Decided under the lock: a checkout that began the moment this
        // wait ended owns the display, and its prompt must not be
        // overwritten.
        let mut st = self.lock();
        if st.code_wait.as_ref().is_some_and(|w| w.id == id) {
            st.code_wait = None;
            self.update_triggers(&st);
        }
        if st.code_wait.is_none() && st.checkout.is_none() {
            self.show_locked(&mut st, view);
            self.set_state(TerminalState::Idle);
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
        let (sources, view) = self.prepare(&options)?;
        let defaults = &self.shared.config.checkout;
        let code_timeout = options.timeout.unwrap_or(defaults.code_timeout);
        let order_timeout = options.order_timeout.unwrap_or(defaults.order_timeout);
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
            let mut st = self.lock();
            let (wait_id, rx) = self.start_code_wait(&mut st, &owner, sources)?;
            st.checkout = Some(ActiveCheckout {
                id: wait_id,
                owner: owner.clone(),
                control: control.clone(),
            });
            (wait_id, rx)
        };
        self.show(view);
        self.set_state(TerminalState::Scanning);
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
        tokio::spawn(session.run(
            code_rx,
            control_rx,
            caller.gone.clone(),
            code_timeout,
            order_timeout,
        ));
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
        let st = self.lock();
        let owner = st.session_owner();
        match owner {
            Some(owner) if owner != caller => Err(CoreError::AccessDenied(
                "a checkout of another caller is running; only its owner may change the display"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// The running checkout, if `caller` owns it.
    fn own_checkout(&self, caller: &str) -> Option<SessionControl> {
        self.lock()
            .checkout
            .as_ref()
            .filter(|c| c.owner == caller)
            .map(|c| c.control.clone())
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
        if let Some(control) = self.own_checkout(caller) {
            let state = control.snapshot.borrow().state;
            if matches!(
                state,
                CheckoutState::WaitingForOrder | CheckoutState::ShowingOrder
            ) {
                let for_session = order.clone();
                if control
                    .ask(|tx| Control::Order(for_session, tx))
                    .await
                    .is_ok()
                {
                    return Ok(order);
                }
            }
        }
        self.show(View::Order(order.clone()));
        self.set_state(TerminalState::ShowingOrder);
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
        let timeout = timeout.unwrap_or(self.shared.config.checkout.order_timeout);
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
        self.show(View::Order(order.clone()));
        self.set_state(TerminalState::ShowingOrder);
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
        if let Some(control) = self.own_checkout(caller) {
            let state = control.snapshot.borrow().state;
            if matches!(
                state,
                CheckoutState::WaitingForOrder | CheckoutState::ShowingOrder
            ) {
                // If the checkout ended meanwhile (a deadline, the
                // backend), the caller hears so rather than a result shown
                // that the checkout does not have.
                return control.finish(caller, status, message.to_string()).await;
            }
        }
        self.show_result(status, message.to_string());
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
        self.show(View::Text(lines));
        Ok(())
    }

    /// `ClearDisplay`.
    ///
    /// # Errors
    ///
    /// `AccessDenied` during another caller's checkout.
    pub fn clear_display(&self, caller: &str) -> Result<(), CoreError> {
        self.check_display_rights(caller)?;
        self.show(View::Idle);
        if self.lock().checkout.is_none() {
            self.set_state(TerminalState::Idle);
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
        let mut st = self.lock();
        if st.claim.is_some() {
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
        st.claim = Some(ClaimSlot {
            id,
            owner: owner.to_string(),
            released: released.clone(),
            sources,
            auto_disable: options.auto_disable,
            enabled: true,
            tx,
        });
        self.update_triggers(&st);
        drop(st);
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
                let mut st = this.lock();
                if st.claim.as_ref().is_some_and(|c| c.id == id) {
                    this.log_lifecycle(format_args!("claim {id} released: its owner left"));
                    st.claim = None;
                    this.update_triggers(&st);
                }
            }
        });
        Ok(ClaimHandle {
            id,
            owner: owner.to_string(),
            scans: rx,
        })
    }

    fn with_claim<T>(
        &self,
        id: u64,
        caller: &str,
        f: impl FnOnce(&mut State) -> T,
    ) -> Result<T, CoreError> {
        let mut st = self.lock();
        match &st.claim {
            Some(c) if c.id == id && c.owner == caller => Ok(f(&mut st)),
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
        self.with_claim(id, caller, |st| {
            if let Some(claim) = st.claim.take() {
                claim.released.cancel();
            }
        })?;
        self.update_triggers(&self.lock());
        self.log_lifecycle(format_args!("claim {id} released"));
        Ok(())
    }

    /// `Claim1.Enable`: re-arms an auto-disabled claim.
    ///
    /// # Errors
    ///
    /// As [`Terminal::release_claim`].
    pub fn enable_claim(&self, id: u64, caller: &str) -> Result<(), CoreError> {
        self.with_claim(id, caller, |st| {
            if let Some(c) = st.claim.as_mut() {
                c.enabled = true;
            }
        })?;
        self.update_triggers(&self.lock());
        Ok(())
    }

    /// Whether claim `id` currently takes scans.
    pub fn claim_enabled(&self, id: u64) -> bool {
        self.lock()
            .claim
            .as_ref()
            .is_some_and(|c| c.id == id && c.enabled)
    }

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
}

impl Terminal {
    /// With a `face_auth_url`, posts the face, and hands the payment code
    /// the backend answers to `caller`'s own code wait (a checkout or
    /// `ScanPaymentCode` of that caller, checked when the answer comes),
    /// as a scan with source `face`; never to a claim or another caller.
    /// Returns what happened, for `CaptureFace`'s info; the code itself
    /// never leaves the routing.
    async fn face_auth(&self, caller: &Caller, device: &str, jpeg: &[u8]) -> Option<String> {
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
        if let Some(s) = self.scanner(device) {
            s.count_scan();
        }
        let mut st = self.lock();
        let own_wait = st
            .code_wait
            .as_ref()
            .is_some_and(|w| w.owner == caller.name && allows(&w.sources, SourceKind::Face));
        if own_wait && !caller.gone.is_cancelled() {
            self.deliver_code(&mut st, code, SourceKind::Face, device);
            Some("delivered".into())
        } else {
            drop(st);
            info!(
                "face code {} not delivered: the caller waits for no payment code",
                code.masked()
            );
            Some("failed: no payment code wait of this caller takes a face".into())
        }
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

/// How many `ShowOrderForCode` calls may wait on the backend at once; one
/// more gets `Busy`. A till has one POS program asking at a time.
pub const MAX_ORDER_QUERIES: usize = 4;
/// Log lines a second about checkouts, waits and claims; a till makes a
/// few a minute.
const LIFECYCLE_LINES: u32 = 10;
/// How long the payment code just delivered goes to no claim when it is
/// read again: a customer's phone stays in front of the scanner for a
/// moment.
pub const REREAD_WINDOW: Duration = Duration::from_secs(10);
/// Scans a claim may have waiting for delivery; a scanner that outpaces
/// the claimant loses the excess (counted in the device's `DroppedCount`)
/// rather than growing kassad's memory.
pub const CLAIM_QUEUE: usize = 256;
/// The most lines `ShowText` takes.
pub const MAX_TEXT_LINES: usize = 16;
pub use crate::text::MAX_LINE_CHARS;

/// A caller's place in a set of callers that may each do one thing at a
/// time; the place is given back when dropped.
struct OneAtATime<'a> {
    set: &'a Mutex<HashSet<String>>,
    caller: String,
}

impl<'a> OneAtATime<'a> {
    /// `None` if `caller` holds a place already (or, with `only_one`,
    /// anyone does).
    fn take(set: &'a Mutex<HashSet<String>>, caller: &str) -> Option<Self> {
        Self::take_if(set, caller, false)
    }

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

/// How a failed wait ended, for the log.
fn result_text<T>(result: &Result<T, CoreError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

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

/// What the customer sees between the code and the order.
fn code_received() -> View {
    View::Text(vec![
        "Payment code received".into(),
        "One moment, please".into(),
    ])
}

/// One line of display text: bounded, no control or bidi characters.
fn check_line(field: &str, text: &str) -> Result<(), CoreError> {
    if text.chars().nth(MAX_LINE_CHARS).is_some() {
        return Err(CoreError::InvalidArgument(format!(
            "{field}: longer than {MAX_LINE_CHARS} characters"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| kassa_hal::order::is_forbidden_char(*c))
    {
        return Err(CoreError::InvalidArgument(format!(
            "{field}: contains U+{:04X}, a control or bidi character",
            u32::from(c)
        )));
    }
    Ok(())
}

/// A running checkout.
struct Session {
    terminal: Terminal,
    id: u64,
    state: CheckoutState,
    code: Option<PaymentCode>,
    order_id: Option<String>,
    events: mpsc::UnboundedSender<SessionEvent>,
    snapshot: watch::Sender<SessionSnapshot>,
}

type Pending<T> = Option<std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>>;

/// Waits for a pending future, or forever if there is none.
async fn maybe<T>(pending: &mut Pending<T>) -> T {
    match pending {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

impl Session {
    async fn run(
        mut self,
        mut code_rx: oneshot::Receiver<CodeScan>,
        mut control: mpsc::UnboundedReceiver<Control>,
        cancel: CancellationToken,
        code_timeout: Duration,
        order_timeout: Duration,
    ) {
        let config = self.terminal.shared.config.checkout.clone();
        let backend = self.terminal.shared.backend.clone();
        let mut deadline = Instant::now() + code_timeout;
        let mut order_query: Pending<Result<Order, BackendError>> = None;
        let mut outcome: Pending<Result<crate::backend::PaymentOutcome, BackendError>> = None;
        let (final_state, message, reply) = loop {
            tokio::select! {
                code = &mut code_rx, if self.state == CheckoutState::WaitingForCode => {
                    let Ok(code) = code else {
                        break (CheckoutState::Cancelled, "the scanner wait was abandoned".to_string(), None);
                    };
                    self.advance(Event::Code);
                    self.snapshot.send_modify(|s| s.channel = code.channel.to_string());
                    self.code = Some(code.code.clone());
                    let _ = self.events.send(SessionEvent::CodeScanned(code.clone()));
                    self.terminal.show(code_received());
                    self.terminal.set_state(TerminalState::WaitingForOrder);
                    deadline = Instant::now() + order_timeout;
                    if let Some(backend) = backend.clone() {
                        let code = code.code;
                        order_query = Some(Box::pin(async move { backend.query_order(&code, deadline).await }));
                    }
                }
                found = maybe(&mut order_query) => {
                    order_query = None;
                    match found {
                        Ok(order) => self.take_order(order, &mut deadline, &mut outcome, config.result_timeout),
                        Err(BackendError::NotBound(_)) => {} // the deadline arm reports it
                        Err(e) => break (CheckoutState::Failed, e.to_string(), None),
                    }
                }
                result = maybe(&mut outcome) => {
                    outcome = None;
                    match result {
                        Ok(o) => {
                            let state = self.advance(Event::Result(o.status));
                            break (state, o.message, None);
                        }
                        Err(BackendError::NotBound(_)) => {}
                        Err(e) => break (CheckoutState::Failed, e.to_string(), None),
                    }
                }
                ctl = control.recv() => match ctl {
                    // The reply waits until the checkout is over, so that a
                    // caller may begin the next one the moment it returns.
                    Some(Control::Cancel(reply)) => {
                        break (CheckoutState::Cancelled, "cancelled by the POS".into(), Some(reply));
                    }
                    Some(Control::Finish(status, message, reply)) => match self.state.next(Event::Result(status)) {
                        Ok(state) => break (state, message, Some(reply)),
                        Err(e) => {
                            let _ = reply.send(Err(CoreError::InvalidArgument(e.to_string())));
                        }
                    },
                    Some(Control::Order(order, reply)) => match self.state.next(Event::Order) {
                        Ok(_) => {
                            order_query = None;
                            self.take_order(order, &mut deadline, &mut outcome, config.result_timeout);
                            let _ = reply.send(Ok(()));
                        }
                        Err(e) => {
                            let _ = reply.send(Err(CoreError::InvalidArgument(e.to_string())));
                        }
                    },
                    None => break (CheckoutState::Cancelled, "the checkout was abandoned".into(), None),
                },
                () = cancel.cancelled() => break (CheckoutState::Cancelled, "the caller left".into(), None),
                () = self.terminal.shared.stopping.cancelled() => break (CheckoutState::Cancelled, "kassad is stopping".into(), None),
                () = tokio::time::sleep_until(deadline) => {
                    let message = match self.state {
                        CheckoutState::WaitingForCode => format!("no payment code within {} ms", code_timeout.as_millis()),
                        CheckoutState::WaitingForOrder => format!("the backend bound no order within {} ms", order_timeout.as_millis()),
                        _ => format!("no payment result within {} ms", config.result_timeout.as_millis()),
                    };
                    break (CheckoutState::Expired, message, None);
                }
            }
        };
        self.finish(final_state, message);
        if let Some(reply) = reply {
            let _ = reply.send(Ok(()));
        }
    }

    /// Applies an event the caller has already checked.
    fn advance(&mut self, event: Event) -> CheckoutState {
        match self.state.next(event) {
            Ok(next) => {
                self.state = next;
                self.snapshot.send_modify(|s| s.state = next);
            }
            Err(e) => warn!("checkout {}: {e}", self.id),
        }
        self.state
    }

    fn take_order(
        &mut self,
        order: Order,
        deadline: &mut Instant,
        outcome: &mut Pending<Result<crate::backend::PaymentOutcome, BackendError>>,
        result_timeout: Duration,
    ) {
        let first = self.state == CheckoutState::WaitingForOrder;
        self.advance(Event::Order);
        let json = order.to_json();
        self.order_id = Some(order.id.clone());
        self.terminal.show(View::Order(order));
        self.terminal.set_state(TerminalState::ShowingOrder);
        self.snapshot.send_modify(|s| s.order_json = json.clone());
        let _ = self.events.send(SessionEvent::OrderShown(json));
        // The result is due within result_timeout of the first order: a
        // replaced order does not move the deadline, or the checkout could
        // hold the till for ever.
        if first {
            *deadline = Instant::now() + result_timeout;
        }
        if let (Some(backend), Some(code), Some(order_id)) = (
            self.terminal.shared.backend.clone(),
            self.code.clone(),
            self.order_id.clone(),
        ) {
            if backend.has_payment_status() {
                let until = *deadline;
                *outcome = Some(Box::pin(async move {
                    backend.payment_outcome(&code, &order_id, until).await
                }));
            }
        }
    }

    fn finish(mut self, state: CheckoutState, message: String) {
        self.state = state;
        self.snapshot.send_modify(|s| s.state = state);
        self.terminal
            .log_lifecycle(format_args!("checkout {} {state}: {message}", self.id));
        let (status, shown) = match state {
            CheckoutState::Paid => (
                PaymentStatus::Paid,
                if message.is_empty() {
                    "Thank you".into()
                } else {
                    message.clone()
                },
            ),
            CheckoutState::Cancelled => (PaymentStatus::Cancelled, String::new()),
            CheckoutState::Expired => {
                (PaymentStatus::Failed, "Timed out - please try again".into())
            }
            _ => (PaymentStatus::Failed, "Please try again".into()),
        };
        let shown: String = shown
            .chars()
            .filter(|c| !kassa_hal::order::is_forbidden_char(*c))
            .collect();
        // The result goes up while the checkout still holds the terminal,
        // so that the next checkout's prompt comes after it, never under.
        self.terminal.show_result(status, shown);
        {
            let mut st = self.terminal.lock();
            if st.checkout.as_ref().is_some_and(|c| c.id == self.id) {
                st.checkout = None;
            }
        }
        self.terminal.end_code_wait(self.id);
        let _ = self.events.send(SessionEvent::Finished { state, message });
    }
}
