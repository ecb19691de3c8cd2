//! The device worker: one thread per device that opens it, drives it
//! through the HAL's blocking traits, reopens it with backoff when it goes
//! away, and reports its status.
//!
//! Every family runs on the same two workers, [`ScannerWorker`] and
//! [`DisplayWorker`]; what a family adds is an [`Open`]: how to open one of
//! its devices (and, if it likes, how to wait before trying again). What
//! the worker does about an error is decided by its
//! [`ErrorKind`] alone, in [`Action`].
//!
//! This module is the leaf of `devices`: it knows the HAL's traits and
//! nothing of any family, of the configuration or of the core.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kassa_hal::blocking::{CustomerDisplay, Scanner};
use kassa_hal::{Error as _, ErrorKind, ErrorType, Scan, View};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::log_limit::{LogLimit, suppressed_note};

/// How long one poll of a scanner waits by default: also how soon a
/// trigger change or a stop is seen.
pub const POLL: Duration = Duration::from_millis(100);

/// What a device is doing now, as its worker reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceStatus {
    /// Whether the device is open and working.
    pub connected: bool,
    /// The last error, empty if none since it connected.
    pub last_error: String,
    /// Scans read since kassad started.
    pub scan_count: u64,
    /// Reads dropped since kassad started: garbled data from the device,
    /// and scans no checkout or claim wanted.
    pub dropped_count: u64,
    /// Whether the worker has reported at all: until then `connected` is
    /// only a default.
    pub known: bool,
}

/// Where scanner workers hand their scans: called on the worker's own
/// thread, so a scan reaches the core without waiting for a scheduler.
pub type ScanSink = Arc<dyn Fn(RoutedScan) + Send + Sync>;

/// A scan with the device it came from.
#[derive(Debug)]
pub struct RoutedScan {
    /// Device name.
    pub device: String,
    /// The scan.
    pub scan: Scan,
}

/// What a worker does about an error, by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The device is gone or broken: drop the handle, report it, and open
    /// it again after a pause.
    Reopen,
    /// The device sent something unusable (a garbled scan) or was asked
    /// for something it cannot do (a view it cannot render): count it or
    /// say so, keep the device, go on with the next read or view.
    Skip,
    /// The device is busy or refuses for now: report it, keep the device,
    /// try again after a moment.
    Retry,
}

impl Action {
    /// What to do about an error of `kind`.
    pub fn for_kind(kind: ErrorKind) -> Action {
        match kind {
            ErrorKind::InvalidData | ErrorKind::Unsupported => Action::Skip,
            ErrorKind::Busy => Action::Retry,
            // Disconnected, Timeout, Other, and kinds added later.
            _ => Action::Reopen,
        }
    }
}

/// Why a worker waits before opening its device again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// The device is not there (an open failed with `Disconnected`).
    Absent,
    /// Opening it failed otherwise (permission, busy, bad settings).
    Failed,
    /// It was open and went away.
    Lost,
}

/// How to open one device of a family: the piece a new family adds.
///
/// The opener is made on the worker's thread (see [`spawn_scanner`]), and
/// every device it opens lives and dies there: neither need be `Send`.
pub trait Open {
    /// The open device: a [`Scanner`] or a [`CustomerDisplay`].
    type Device: ErrorType<Error: fmt::Display>;
    /// Why it could not be opened; its kind says whether it is absent.
    type Error: kassa_hal::Error + fmt::Display;

    /// Opens the device.
    ///
    /// # Errors
    ///
    /// `Disconnected` when it is not there; any other kind when it is but
    /// cannot be opened.
    fn open(&mut self) -> Result<Self::Device, Self::Error>;

    /// Waits before the next attempt to open; false when asked to stop
    /// meanwhile. By default, the backoff: 250 ms doubling to 4 s.
    fn pause(&mut self, why: Pause, backoff: &mut Backoff, stop: &AtomicBool) -> bool {
        let _ = why;
        sleep_unless_stopped(stop, backoff.next_wait())
    }

    /// How long one poll of a scanner waits.
    fn poll_wait(&self) -> Duration {
        POLL
    }
}

/// Waits between attempts to open a device: 250 ms, doubling to 4 s.
#[derive(Debug, Clone, Copy)]
pub struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(4);

    /// A fresh backoff.
    pub fn new() -> Backoff {
        Backoff(Self::FIRST)
    }

    /// The next wait.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        wait
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// Sleeps `total` in short steps, returning early (false) when asked to stop.
pub fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) -> bool {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !left.is_zero() {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = left.min(step);
        std::thread::sleep(now);
        left -= now;
    }
    !stop.load(Ordering::Relaxed)
}

/// Records a connection change, logging only transitions and new errors.
pub fn report(
    status: &watch::Sender<DeviceStatus>,
    what: &str,
    connected: bool,
    error: Option<String>,
) {
    status.send_if_modified(|s| {
        let changed = !s.known
            || s.connected != connected
            || error.as_ref().is_some_and(|e| *e != s.last_error);
        s.known = true;
        if changed {
            match (&error, connected) {
                (None, true) => info!("{what} connected"),
                (Some(e), true) => warn!("{what}: {e}"),
                (Some(e), false) => warn!("{what} unavailable: {e}"),
                (None, false) => info!("{what} disconnected"),
            }
        }
        s.connected = connected;
        // The last error stays after the device comes back: a display that
        // hung for a moment still says why.
        if let Some(e) = error {
            s.last_error = e;
        }
        changed
    });
}

/// Counts garbled data from a device, keeps it as the last error, and logs
/// it at a bounded rate.
pub fn record_garbage(
    status: &watch::Sender<DeviceStatus>,
    limit: &mut LogLimit,
    what: &str,
    error: &dyn fmt::Display,
) {
    let text = error.to_string();
    status.send_modify(|s| {
        s.dropped_count += 1;
        if s.last_error != text {
            s.last_error = text;
        }
    });
    if let Some(suppressed) = limit.admit(Instant::now()) {
        warn!("{what}: {error}{}", suppressed_note(suppressed));
    }
}

/// Why a device that was open is not any more, in the words of its error.
fn lost(error: &impl fmt::Display, kind: ErrorKind) -> String {
    let text = error.to_string();
    if kind == ErrorKind::Disconnected && !text.contains("disconnected") {
        format!("device disconnected ({text})")
    } else {
        text
    }
}

/// What every worker shares: who it is, where it reports, when it stops.
#[derive(Debug, Clone)]
pub struct Link {
    /// For log lines: `scanner "till"`.
    pub what: String,
    /// Its status, as the rest of kassad sees it.
    pub status: watch::Sender<DeviceStatus>,
    /// Set when kassad stops.
    pub stop: Arc<AtomicBool>,
}

impl Link {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn report(&self, connected: bool, error: Option<String>) {
        report(&self.status, &self.what, connected, error);
    }
}

enum Ended {
    Stopped,
    Lost(String),
}

/// Keeps one scanner open and reads it until kassad stops.
pub struct ScannerWorker<O> {
    /// Device name, on every scan it hands on.
    pub name: String,
    /// Identity, status, stop.
    pub link: Link,
    /// How to open it.
    pub opener: O,
    /// Whether a checkout or claim wants codes; followed with
    /// [`Scanner::set_trigger`].
    pub trigger: watch::Receiver<bool>,
    /// Where scans go.
    pub scans: ScanSink,
    /// Bounds the log lines about garbled reads.
    pub garbage_log: LogLimit,
}

impl<O> ScannerWorker<O>
where
    O: Open,
    O::Device: Scanner,
{
    /// Runs until kassad stops.
    pub fn run(mut self) {
        let mut backoff = Backoff::new();
        while !self.link.stopped() {
            let pause = match self.opener.open() {
                Ok(device) => {
                    backoff = Backoff::new();
                    self.link.report(true, None);
                    match self.serve(device) {
                        Ended::Stopped => return,
                        Ended::Lost(why) => {
                            self.link.report(false, Some(why));
                            Pause::Lost
                        }
                    }
                }
                Err(e) => {
                    let absent = e.kind() == ErrorKind::Disconnected;
                    self.link.report(false, Some(e.to_string()));
                    if absent { Pause::Absent } else { Pause::Failed }
                }
            };
            if !self.opener.pause(pause, &mut backoff, &self.link.stop) {
                return;
            }
        }
    }

    /// Reads until the device fails (says why) or the worker is stopped;
    /// the device is dropped on return.
    fn serve(&mut self, mut device: O::Device) -> Ended {
        // Put the scanner into a known state: it may have been left
        // triggered by a kassad that was killed before it could send the
        // trigger-off sequence.
        let wanted = *self.trigger.borrow_and_update();
        if let Err(e) = device.set_trigger(wanted)
            && let Some(ended) = self.failed(&e)
        {
            return ended;
        }
        let wait = self.opener.poll_wait();
        loop {
            if self.link.stopped() {
                if let Err(e) = device.set_trigger(false) {
                    debug!("{}: trigger off on stop: {e}", self.link.what);
                }
                return Ended::Stopped;
            }
            if self.trigger.has_changed().unwrap_or(false) {
                let on = *self.trigger.borrow_and_update();
                if let Err(e) = device.set_trigger(on)
                    && let Some(ended) = self.failed(&e)
                {
                    return ended;
                }
            }
            match device.poll_scan(wait) {
                Ok(Some(scan)) => (self.scans)(RoutedScan {
                    device: self.name.clone(),
                    scan,
                }),
                Ok(None) => {}
                Err(e) => {
                    if let Some(ended) = self.failed(&e) {
                        return ended;
                    }
                }
            }
        }
    }

    /// Acts on an error of the open device: `Some` when it must be
    /// reopened.
    fn failed<E: kassa_hal::Error + fmt::Display>(&mut self, e: &E) -> Option<Ended> {
        match Action::for_kind(e.kind()) {
            Action::Skip if e.kind() == ErrorKind::InvalidData => {
                record_garbage(&self.link.status, &mut self.garbage_log, &self.link.what, e);
                None
            }
            Action::Skip | Action::Retry => {
                // Still open, but it says no: say so, and do not ask again
                // at once.
                self.link.report(true, Some(e.to_string()));
                sleep_unless_stopped(&self.link.stop, self.opener.poll_wait());
                None
            }
            Action::Reopen => Some(Ended::Lost(lost(e, e.kind()))),
        }
    }
}

/// The newest view for a display, and a generation number that says
/// whether the worker has shown it.
#[derive(Debug, Default)]
pub struct ViewSlot {
    state: Mutex<(u64, Option<View>)>,
    changed: Condvar,
}

impl ViewSlot {
    fn lock(&self) -> MutexGuard<'_, (u64, Option<View>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the view to show.
    pub fn set(&self, view: View) {
        let mut state = self.lock();
        state.0 += 1;
        state.1 = Some(view);
        self.changed.notify_all();
    }

    /// The view to show now, if any.
    pub fn current(&self) -> Option<View> {
        self.lock().1.clone()
    }

    /// Wakes the worker (to see the stop flag).
    pub fn wake(&self) {
        self.changed.notify_all();
    }

    /// Waits up to `timeout` for a view newer than `seen`.
    fn wait_newer(&self, seen: u64, timeout: Duration) -> Option<(u64, View)> {
        let guard = self.lock();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |(generation, _)| *generation == seen)
            .unwrap_or_else(|p| p.into_inner());
        match &guard.1 {
            Some(view) if guard.0 != seen => Some((guard.0, view.clone())),
            _ => None,
        }
    }
}

/// Since when a display worker has been inside its driver, for the
/// deadline watchdog; and whether the watchdog gave up on it.
#[derive(Debug)]
pub struct Busy {
    since: watch::Sender<Option<Instant>>,
    timed_out: Arc<AtomicBool>,
}

impl Default for Busy {
    fn default() -> Self {
        Busy {
            since: watch::Sender::new(None),
            timed_out: Arc::default(),
        }
    }
}

impl Busy {
    /// Runs `f` as one call into the driver. Returns its result and whether
    /// the watchdog declared the display hung meanwhile.
    fn run<T>(&self, f: impl FnOnce() -> T) -> (T, bool) {
        self.since.send_replace(Some(Instant::now()));
        let out = f();
        self.since.send_replace(None);
        (out, self.timed_out.swap(false, Ordering::Relaxed))
    }

    /// Starts the watchdog of this display on the current tokio runtime:
    /// it reports a driver call that outlasts `deadline`. It does not keep
    /// the `Busy` itself alive, so it ends with the display's worker.
    pub fn watch(&self, deadline: Duration, link: &Link) -> tokio::task::JoinHandle<()> {
        tokio::spawn(watch_deadline(
            (self.since.subscribe(), self.timed_out.clone()),
            deadline,
            link.clone(),
        ))
    }
}

/// Reports a display whose driver call outlasts its deadline. A hung
/// driver call cannot be interrupted, but it holds up only its own worker:
/// the others take their views from their own slots. Sleeps between
/// calls and until a call's deadline (no polling); ends when the display's
/// worker has ended.
async fn watch_deadline(
    (mut since, timed_out): (watch::Receiver<Option<Instant>>, Arc<AtomicBool>),
    deadline: Duration,
    link: Link,
) {
    loop {
        let Some(started) = *since.borrow_and_update() else {
            if since.changed().await.is_err() {
                return;
            }
            continue;
        };
        let late = tokio::select! {
            () = tokio::time::sleep_until((started + deadline).into()) => true,
            changed = since.changed() => {
                if changed.is_err() {
                    return;
                }
                false
            }
        };
        // Still the same call: it is late.
        if late && *since.borrow() == Some(started) {
            if !timed_out.swap(true, Ordering::Relaxed) {
                link.report(
                    false,
                    Some(format!(
                        "timed out: the display took no data for {} ms",
                        deadline.as_millis()
                    )),
                );
            }
            // Wait for it to return (or the worker to end).
            if since.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Keeps one display open and shows it the newest view until kassad
/// stops.
pub struct DisplayWorker<O> {
    /// Identity, status, stop.
    pub link: Link,
    /// How to open it.
    pub opener: O,
    /// Where its views come from.
    pub slot: Arc<ViewSlot>,
    /// Tells the watchdog when a driver call began.
    pub busy: Busy,
}

impl<O> DisplayWorker<O>
where
    O: Open,
    O::Device: CustomerDisplay,
{
    /// Runs until kassad stops.
    pub fn run(mut self) {
        let mut backoff = Backoff::new();
        let mut device: Option<O::Device> = None;
        let mut shown = 0u64;
        while !self.link.stopped() {
            let Some(display) = device.as_mut() else {
                let (opened, _) = self.busy.run(|| self.opener.open());
                match opened {
                    Ok(d) => {
                        device = Some(d);
                        backoff = Backoff::new();
                        self.link.report(true, None);
                        shown = 0; // show the current view again on the fresh device
                    }
                    Err(e) => {
                        let absent = e.kind() == ErrorKind::Disconnected;
                        self.link.report(false, Some(e.to_string()));
                        let why = if absent { Pause::Absent } else { Pause::Failed };
                        if !self.opener.pause(why, &mut backoff, &self.link.stop) {
                            return;
                        }
                    }
                }
                continue;
            };
            let Some((generation, view)) = self.slot.wait_newer(shown, Duration::from_millis(500))
            else {
                continue;
            };
            let (result, hung) = self.busy.run(|| display.show(&view));
            match result {
                // A display that hung and came back is opened afresh, and
                // shown the newest view whole.
                Ok(()) if hung => device = None,
                Ok(()) => shown = generation,
                Err(e) => match Action::for_kind(e.kind()) {
                    Action::Reopen => {
                        device = None;
                        self.link.report(false, Some(lost(&e, e.kind())));
                    }
                    // This view cannot be shown here; the next one may.
                    Action::Skip => {
                        shown = generation;
                        self.link
                            .report(true, Some(format!("cannot show this view: {e}")));
                    }
                    Action::Retry => {
                        self.link.report(true, Some(e.to_string()));
                        sleep_unless_stopped(&self.link.stop, POLL);
                    }
                },
            }
        }
    }
}

/// Starts the worker of a scanner on a thread of its own. `make` builds
/// the opener there.
///
/// # Errors
///
/// The thread could not be started.
pub fn spawn_scanner<O, F>(
    name: String,
    link: Link,
    trigger: watch::Receiver<bool>,
    scans: ScanSink,
    make: F,
) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> O + Send + 'static,
    O: Open,
    O::Device: Scanner,
{
    std::thread::Builder::new()
        .name(format!("scanner-{name}"))
        .spawn(move || {
            ScannerWorker {
                name,
                link,
                opener: make(),
                trigger,
                scans,
                garbage_log: LogLimit::new(),
            }
            .run();
        })
}

/// Starts the worker of a display on a thread of its own, and its
/// deadline watchdog on the current tokio runtime. `make` builds the
/// opener on the worker's thread.
///
/// # Errors
///
/// The thread could not be started.
pub fn spawn_display<O, F>(
    name: &str,
    link: Link,
    slot: Arc<ViewSlot>,
    deadline: Duration,
    make: F,
) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> O + Send + 'static,
    O: Open,
    O::Device: CustomerDisplay,
{
    let busy = Busy::default();
    busy.watch(deadline, &link);
    std::thread::Builder::new()
        .name(format!("display-{name}"))
        .spawn(move || {
            DisplayWorker {
                link,
                opener: make(),
                slot,
                busy,
            }
            .run();
        })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use kassa_hal::Capabilities;

    use super::*;

    #[test]
    fn the_kind_decides_what_a_worker_does() {
        assert_eq!(Action::for_kind(ErrorKind::Disconnected), Action::Reopen);
        assert_eq!(Action::for_kind(ErrorKind::Timeout), Action::Reopen);
        assert_eq!(Action::for_kind(ErrorKind::Other), Action::Reopen);
        assert_eq!(Action::for_kind(ErrorKind::InvalidData), Action::Skip);
        assert_eq!(Action::for_kind(ErrorKind::Unsupported), Action::Skip);
        assert_eq!(Action::for_kind(ErrorKind::Busy), Action::Retry);
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        let mut b = Backoff::new();
        let waits: Vec<_> = (0..7).map(|_| b.next_wait().as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000, 4000]);
    }

    /// A display whose first `show` blocks until released, as a driver
    /// with no timeout of its own would on a hung device.
    struct Stuck {
        released: Arc<(Mutex<bool>, Condvar)>,
        shown: Arc<Mutex<Vec<View>>>,
    }

    impl ErrorType for Stuck {
        type Error = ErrorKind;
    }

    impl CustomerDisplay for Stuck {
        fn capabilities(&self) -> Capabilities {
            kassa_drivers::mock::web_like()
        }

        fn show(&mut self, view: &View) -> Result<(), ErrorKind> {
            let (lock, cvar) = &*self.released;
            let guard = lock.lock().unwrap();
            drop(cvar.wait_while(guard, |released| !*released).unwrap());
            self.shown.lock().unwrap().push(view.clone());
            Ok(())
        }
    }

    struct OpenStuck {
        released: Arc<(Mutex<bool>, Condvar)>,
        shown: Arc<Mutex<Vec<View>>>,
        opens: Arc<AtomicUsize>,
    }

    impl Open for OpenStuck {
        type Device = Stuck;
        type Error = ErrorKind;

        fn open(&mut self) -> Result<Stuck, ErrorKind> {
            self.opens.fetch_add(1, Ordering::Relaxed);
            Ok(Stuck {
                released: self.released.clone(),
                shown: self.shown.clone(),
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hung_driver_is_reported_at_its_deadline_and_reopened_when_it_returns() {
        let released = Arc::new((Mutex::new(false), Condvar::new()));
        let shown = Arc::new(Mutex::new(Vec::new()));
        let opens = Arc::new(AtomicUsize::new(0));
        let (status, mut status_rx) = watch::channel(DeviceStatus::default());
        let link = Link {
            what: "display \"stuck\"".into(),
            status,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let slot = Arc::new(ViewSlot::default());
        let busy = Busy::default();
        let watchdog = busy.watch(Duration::from_millis(200), &link);
        let worker = DisplayWorker {
            link: link.clone(),
            opener: OpenStuck {
                released: released.clone(),
                shown: shown.clone(),
                opens: opens.clone(),
            },
            slot: slot.clone(),
            busy,
        };
        let thread = std::thread::spawn(move || worker.run());

        slot.set(View::Text(vec!["first".into()]));
        let hung = tokio::time::timeout(
            Duration::from_secs(5),
            status_rx.wait_for(|s| !s.connected && s.last_error.contains("timed out")),
        )
        .await
        .map(|s| s.map(|s| s.last_error.clone()).unwrap_or_default());
        assert!(
            hung.as_ref()
                .is_ok_and(|e| e.contains("took no data for 200 ms")),
            "no timeout reported: {hung:?}"
        );

        // Meanwhile a newer view; then the device answers again.
        slot.set(View::Text(vec!["second".into()]));
        {
            let (lock, cvar) = &*released;
            *lock.lock().unwrap() = true;
            cvar.notify_all();
        }
        let back =
            tokio::time::timeout(Duration::from_secs(5), status_rx.wait_for(|s| s.connected))
                .await
                .is_ok();
        assert!(back, "not reconnected");
        let deadline = Instant::now() + Duration::from_secs(5);
        while shown.lock().unwrap().last() != Some(&View::Text(vec!["second".into()])) {
            assert!(
                Instant::now() < deadline,
                "shown: {:?}",
                shown.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Opened at start and again after the hang.
        assert_eq!(opens.load(Ordering::Relaxed), 2);
        link.stop.store(true, Ordering::Relaxed);
        slot.wake();
        thread.join().unwrap();
        // The watchdog ends with its worker.
        let ended = tokio::time::timeout(Duration::from_secs(5), watchdog).await;
        assert!(ended.is_ok(), "the watchdog outlived its worker");
    }

    /// A scanner reading from a shared script; records its triggers.
    #[derive(Clone, Default)]
    struct Script {
        reads: Arc<Mutex<std::collections::VecDeque<Result<Scan, ErrorKind>>>>,
        triggers: Arc<Mutex<Vec<bool>>>,
        opens: Arc<Mutex<Vec<Pause>>>,
        open_errors: Arc<Mutex<std::collections::VecDeque<ErrorKind>>>,
    }

    struct Scripted(Script);

    impl ErrorType for Scripted {
        type Error = ErrorKind;
    }

    impl Scanner for Scripted {
        fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, ErrorKind> {
            let next = self.0.reads.lock().unwrap().pop_front();
            match next {
                Some(read) => read.map(Some),
                None => {
                    std::thread::sleep(wait.min(Duration::from_millis(5)));
                    Ok(None)
                }
            }
        }

        fn set_trigger(&mut self, on: bool) -> Result<(), ErrorKind> {
            self.0.triggers.lock().unwrap().push(on);
            Ok(())
        }
    }

    impl Open for Script {
        type Device = Scripted;
        type Error = ErrorKind;

        fn open(&mut self) -> Result<Scripted, ErrorKind> {
            match self.open_errors.lock().unwrap().pop_front() {
                Some(kind) => Err(kind),
                None => Ok(Scripted(self.clone())),
            }
        }

        fn pause(&mut self, why: Pause, _: &mut Backoff, stop: &AtomicBool) -> bool {
            self.opens.lock().unwrap().push(why);
            sleep_unless_stopped(stop, Duration::from_millis(5))
        }
    }

    fn scan(text: &str) -> Scan {
        Scan::new(
            text.as_bytes(),
            kassa_hal::SourceKind::Mock,
            kassa_hal::Timestamp::now(),
        )
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    struct Running {
        link: Link,
        status: watch::Receiver<DeviceStatus>,
        trigger: watch::Sender<bool>,
        scans: Arc<Mutex<Vec<String>>>,
        thread: std::thread::JoinHandle<()>,
    }

    fn run_scanner(script: &Script) -> Running {
        let (status, status_rx) = watch::channel(DeviceStatus::default());
        let link = Link {
            what: "scanner \"test\"".into(),
            status,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (trigger, trigger_rx) = watch::channel(false);
        let scans = Arc::new(Mutex::new(Vec::new()));
        let sink: ScanSink = {
            let scans = scans.clone();
            Arc::new(move |routed: RoutedScan| {
                scans.lock().unwrap().push(routed.scan.text().into_owned());
            })
        };
        let opener = script.clone();
        let thread = spawn_scanner("test".into(), link.clone(), trigger_rx, sink, move || {
            opener
        })
        .unwrap();
        Running {
            link,
            status: status_rx,
            trigger,
            scans,
            thread,
        }
    }

    impl Running {
        fn stop(self) {
            self.link.stop.store(true, Ordering::Relaxed);
            self.thread.join().unwrap();
        }
    }

    #[test]
    fn a_garbled_read_is_counted_and_the_next_scan_still_arrives() {
        let script = Script::default();
        script
            .reads
            .lock()
            .unwrap()
            .extend([Err(ErrorKind::InvalidData), Ok(scan("after the garble"))]);
        let running = run_scanner(&script);
        wait_until("the good scan", || {
            !running.scans.lock().unwrap().is_empty()
        });
        let status = running.status.borrow().clone();
        assert!(status.connected);
        assert_eq!(status.dropped_count, 1);
        assert_eq!(status.last_error, "invalid data");
        // Not reopened for it.
        assert!(script.opens.lock().unwrap().is_empty());
        running.stop();
    }

    #[test]
    fn a_device_that_goes_away_is_reported_and_reopened() {
        let script = Script::default();
        script.reads.lock().unwrap().extend([
            Ok(scan("one")),
            Err(ErrorKind::Disconnected),
            Ok(scan("two")),
        ]);
        let running = run_scanner(&script);
        wait_until("both scans", || running.scans.lock().unwrap().len() == 2);
        assert_eq!(*running.scans.lock().unwrap(), ["one", "two"]);
        assert_eq!(*script.opens.lock().unwrap(), [Pause::Lost]);
        let status = running.status.borrow().clone();
        assert!(status.connected);
        assert_eq!(status.last_error, "disconnected");
        running.stop();
    }

    #[test]
    fn an_absent_device_pauses_as_absent_and_a_failing_one_as_failed() {
        let script = Script::default();
        script
            .open_errors
            .lock()
            .unwrap()
            .extend([ErrorKind::Disconnected, ErrorKind::Busy]);
        let mut status = None;
        let running = run_scanner(&script);
        wait_until("the open", || {
            status = Some(running.status.borrow().clone());
            status.as_ref().is_some_and(|s| s.connected)
        });
        assert_eq!(
            *script.opens.lock().unwrap(),
            [Pause::Absent, Pause::Failed]
        );
        // The last error stays after it connects.
        assert_eq!(status.unwrap().last_error, "busy");
        running.stop();
    }

    #[test]
    fn the_trigger_is_set_at_open_followed_and_turned_off_at_stop() {
        let script = Script::default();
        let running = run_scanner(&script);
        wait_until("the open", || script.triggers.lock().unwrap().len() == 1);
        running.trigger.send_replace(true);
        wait_until("trigger on", || {
            script.triggers.lock().unwrap().last() == Some(&true)
        });
        running.trigger.send_replace(false);
        wait_until("trigger off", || script.triggers.lock().unwrap().len() == 3);
        running.trigger.send_replace(true);
        wait_until("trigger on again", || {
            script.triggers.lock().unwrap().len() == 4
        });
        running.stop();
        // At open (the known state), on, off, on, and off at the stop.
        assert_eq!(
            *script.triggers.lock().unwrap(),
            [false, true, false, true, false]
        );
    }

    /// A display that fails as scripted, and records what it showed.
    #[derive(Clone, Default)]
    struct Screen {
        fails: Arc<Mutex<std::collections::VecDeque<ErrorKind>>>,
        shown: Arc<Mutex<Vec<View>>>,
        opens: Arc<AtomicUsize>,
    }

    impl ErrorType for Screen {
        type Error = ErrorKind;
    }

    impl CustomerDisplay for Screen {
        fn capabilities(&self) -> Capabilities {
            kassa_drivers::mock::web_like()
        }

        fn show(&mut self, view: &View) -> Result<(), ErrorKind> {
            if let Some(kind) = self.fails.lock().unwrap().pop_front() {
                return Err(kind);
            }
            self.shown.lock().unwrap().push(view.clone());
            Ok(())
        }
    }

    impl Open for Screen {
        type Device = Screen;
        type Error = ErrorKind;

        fn open(&mut self) -> Result<Screen, ErrorKind> {
            self.opens.fetch_add(1, Ordering::Relaxed);
            Ok(self.clone())
        }

        fn pause(&mut self, _: Pause, _: &mut Backoff, stop: &AtomicBool) -> bool {
            sleep_unless_stopped(stop, Duration::from_millis(5))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_view_the_display_refuses_is_skipped_and_a_lost_display_gets_the_newest_view() {
        let screen = Screen::default();
        let (status, status_rx) = watch::channel(DeviceStatus::default());
        let link = Link {
            what: "display \"test\"".into(),
            status,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let slot = Arc::new(ViewSlot::default());
        let opener = screen.clone();
        let thread = spawn_display(
            "test",
            link.clone(),
            slot.clone(),
            Duration::from_secs(5),
            move || opener,
        )
        .unwrap();
        let text = |t: &str| View::Text(vec![t.into()]);

        // Refused: skipped, the device kept.
        screen
            .fails
            .lock()
            .unwrap()
            .push_back(ErrorKind::Unsupported);
        slot.set(text("refused"));
        wait_until("the refusal", || {
            status_rx
                .borrow()
                .last_error
                .contains("cannot show this view")
        });
        slot.set(text("fine"));
        wait_until("the next view", || screen.shown.lock().unwrap().len() == 1);
        assert_eq!(screen.opens.load(Ordering::Relaxed), 1);

        // Gone: reopened, and shown the view it failed on.
        screen
            .fails
            .lock()
            .unwrap()
            .push_back(ErrorKind::Disconnected);
        slot.set(text("after the loss"));
        wait_until("the reshow", || screen.shown.lock().unwrap().len() == 2);
        assert_eq!(screen.opens.load(Ordering::Relaxed), 2);
        assert_eq!(
            *screen.shown.lock().unwrap(),
            [text("fine"), text("after the loss")]
        );
        assert!(status_rx.borrow().connected);

        link.stop.store(true, Ordering::Relaxed);
        slot.wake();
        thread.join().unwrap();
    }
}
