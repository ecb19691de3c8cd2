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
//! - `code_wait.rs`: `ScanPaymentCode` and `BeginCheckout`;
//! - `session.rs`: a checkout from code to result, every event through
//!   the checkout state machine;
//! - `display.rs`: orders, results and text the callers show;
//! - `claims.rs`: `ClaimScanner` and its claim;
//! - `face.rs`: `CaptureFace` and paying by face;
//! - `requests.rs`: the typed requests the D-Bus layer hands in;
//! - `tests/`: every rule on fake devices and a scripted backend, with
//!   paused time;
//! - this file: the [`Terminal`] that holds them together, built from
//!   injected parts ([`Parts`]: devices, settings, a [`Backend`]) so that
//!   tests can hand it fakes; and the routing of each scan.

mod claims;
mod code_wait;
mod display;
mod error;
mod face;
mod handoff;
pub mod pass_through;
mod requests;
pub mod router;
mod scrape;
pub mod screen;
mod session;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kassa_hal::{Channel, ChannelTable, PaymentCode, Scan, SourceKind, mask};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::backend::Backend;
use crate::config::CheckoutConfig;
use crate::devices::mock::Simulator;
use crate::devices::{Device, Devices, RoutedScan, ScannerControl};
use crate::log_limit::{LogLimit, suppressed_note};
use crate::metrics::{DropReason, Metrics, Recipient};
pub use error::CoreError;
pub use face::{FACE_TIMEOUT, FaceCapture};
pub use requests::{
    Amount, Caller, CheckoutOptions, ClaimOptions, MAX_LINE_CHARS, MAX_TEXT_LINES, check_line,
};
pub use router::REREAD_WINDOW;
use router::{Route, Router};
use screen::Screen;
pub use screen::TerminalState;
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
    pub backend: Option<Arc<dyn Backend>>,
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
    backend: Option<Arc<dyn Backend>>,
    screen: Arc<Screen>,
    /// Counters and timings, for the metrics endpoint.
    metrics: Arc<Metrics>,
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

/// A [`Terminal`] that does not keep it alive: what a device's scan sink
/// holds, so that dropping the last `Terminal` still stops the devices.
#[derive(Debug, Clone, Default)]
pub struct WeakTerminal {
    shared: std::sync::Weak<Shared>,
}

impl WeakTerminal {
    /// The terminal, while it lives.
    pub fn upgrade(&self) -> Option<Terminal> {
        self.shared.upgrade().map(|shared| Terminal { shared })
    }
}

impl fmt::Debug for Terminal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Terminal").finish_non_exhaustive()
    }
}

impl Terminal {
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
        let scanners = parts.devices.scanners.iter();
        let metrics = Arc::new(Metrics::new(scanners.map(|s| s.device.info.name.as_str())));
        let backend = parts
            .backend
            .map(|b| crate::backend::counted(b, metrics.clone()));
        Terminal {
            shared: Arc::new(Shared {
                checkout: parts.checkout,
                channels: parts.channels,
                devices: parts.devices,
                backend,
                screen,
                metrics,
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

    /// A handle that does not keep the terminal alive.
    pub fn downgrade(&self) -> WeakTerminal {
        WeakTerminal {
            shared: Arc::downgrade(&self.shared),
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

    /// The simulator's controls of the simulated device `name`; `None` for
    /// a real device or no device of that name.
    pub fn simulator(&self, name: &str) -> Option<Arc<Simulator>> {
        let devices = &self.shared.devices;
        let scanners = devices.scanners.iter().map(|s| (&s.device, &s.simulator));
        let displays = devices.displays.iter().map(|d| (&d.device, &d.simulator));
        scanners
            .chain(displays)
            .find(|(device, _)| device.info.name == name)
            .and_then(|(_, simulator)| simulator.clone())
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
        let entered = std::time::Instant::now();
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
        let route = inner
            .router
            .route(&scan.data, scan.source, entered, has_room);
        match route {
            Route::Code { wait, code } => {
                self.deliver(&mut inner, wait, code, scan.source, &device, entered);
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
                        self.shared
                            .metrics
                            .scan_delivered(Recipient::Claim, entered);
                        if let Some(s) = scanner {
                            s.log_scan(format_args!(
                                "scan {} from {device:?} to claim {id}",
                                mask(&text)
                            ));
                        }
                    }
                    // Room was checked under the lock: the claim ended.
                    Err((scan, why)) => {
                        let reason = DropReason::ClaimReleased;
                        self.dropped(scanner, &device, &scan, reason, &why);
                    }
                }
            }
            Route::Dropped(reason, why) => {
                drop(inner);
                let why = match self.pass_through(scanner, &device, &scan, reason, entered) {
                    Ok(()) => return,
                    Err(Some(refused)) => format!("{why}; {refused}"),
                    Err(None) => why,
                };
                self.dropped(scanner, &device, &scan, reason, &why);
            }
        }
    }

    /// Sends `code`, which entered the core at `entered`, to wait `wait`'s
    /// owner alone; the router has ended the wait.
    fn deliver(
        &self,
        inner: &mut Inner,
        wait: u64,
        code: PaymentCode,
        source: SourceKind,
        device: &str,
        entered: std::time::Instant,
    ) {
        let channel = self.shared.channels.classify(&code);
        info!("payment code {} ({channel}) from {device:?}", code.masked());
        if let Some((id, tx)) = inner.code_tx.take() {
            if id == wait {
                let sent = tx.send(CodeScan {
                    code,
                    channel,
                    source,
                });
                if sent.is_ok() {
                    self.shared.metrics.scan_delivered(Recipient::Code, entered);
                }
            } else {
                inner.code_tx = Some((id, tx));
            }
        }
        self.update_triggers(inner);
    }

    /// Types a scan nobody took into the desktop, where its scanner passes
    /// such scans through and [`pass_through::admit`] lets it. `Err` with
    /// why not (`None` where the scanner passes nothing through).
    fn pass_through(
        &self,
        scanner: Option<&ScannerControl>,
        device: &str,
        scan: &Scan,
        reason: DropReason,
        entered: std::time::Instant,
    ) -> Result<(), Option<String>> {
        let out = scanner.and_then(|s| s.pass_through.as_ref()).ok_or(None)?;
        // Only scans nobody wanted: not one that a checkout or claim of
        // another caller might have taken.
        if !matches!(reason, DropReason::Unwanted | DropReason::NotAPaymentCode) {
            return Err(None);
        }
        let text = pass_through::admit(out.mode, &scan.data, &self.shared.channels)
            .map_err(|refused| Some(refused.to_string()))?;
        out.send(text, entered).map_err(|e| Some(e.to_string()))?;
        self.shared
            .metrics
            .scan_delivered(Recipient::Desktop, entered);
        if let Some(s) = scanner {
            s.log_scan(format_args!(
                "scan {} from {device:?} passed through to the desktop",
                mask(text)
            ));
        }
        Ok(())
    }

    /// Counts and logs a scan nobody took.
    fn dropped(
        &self,
        scanner: Option<&ScannerControl>,
        device: &str,
        scan: &Scan,
        reason: DropReason,
        why: &str,
    ) {
        self.shared.metrics.scan_dropped(device, reason);
        match scanner {
            Some(s) => s.drop_scan(&scan.text(), why),
            None => info!("scan {} from {device:?} dropped: {why}", mask(&scan.text())),
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
