//! Device workers: each configured scanner and display is kept connected by
//! a worker of its own, reconnecting with backoff when it goes away.
//!
//! A serial device lives on a thread (its port is blocking); the mock scanner
//! is a task. A worker reports through a `watch` of [`DeviceStatus`], which the
//! D-Bus layer turns into `PropertiesChanged`. Scanners send their scans to one
//! channel that the core routes; displays take the newest view from a
//! [`ViewSlot`], so a slow display skips stale views instead of queueing them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kassa_drivers::lcd;
use kassa_drivers::serial::linux::{self, PortSettings, TtyPort};
use kassa_drivers::serial::{Error as SerialError, ScannerConfig as Framing, SerialScanner};
use kassa_drivers::vfd::VfdDisplay;
use kassa_hal::{Error as _, ErrorKind, Scan, SourceKind, Timestamp, View, mask};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::camera::{CameraWorker, FaceQueue};
use crate::config::{DisplayConfig, DisplayDriver, ScannerConfig, ScannerDriver};
use crate::console::ConsoleDisplay;
use crate::log_limit::{LogLimit, suppressed_note};
use crate::web::WebSink;

/// How long [`Devices::stop`] waits for the worker threads.
pub const STOP_WAIT: Duration = Duration::from_secs(3);

/// What a device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads codes.
    Scanner,
    /// Shows the customer views.
    Display,
    /// Reads codes from frames and captures faces.
    Camera,
}

impl Role {
    /// The name on the bus.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Scanner => "scanner",
            Role::Display => "display",
            Role::Camera => "camera",
        }
    }
}

/// What does not change about a device.
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    /// Configured name.
    pub name: String,
    /// Scanner or display.
    pub role: Role,
    /// Driver name (`serial`, `vfd`, …).
    pub driver: &'static str,
    /// Device path, if it has one.
    pub path: String,
}

/// What does.
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

/// A device as the rest of kassad sees it.
#[derive(Debug, Clone)]
pub struct Device {
    /// Fixed facts.
    pub info: DeviceInfo,
    /// Live status.
    pub status: watch::Receiver<DeviceStatus>,
}

impl Device {
    /// A one-line health report: `ok` or why not.
    pub fn health(&self) -> String {
        let status = self.status.borrow();
        if status.connected {
            "ok".into()
        } else if status.last_error.is_empty() {
            "disconnected".into()
        } else {
            format!("disconnected: {}", status.last_error)
        }
    }
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

/// The core's grip on a scanner worker.
#[derive(Debug)]
pub struct ScannerControl {
    /// The device.
    pub device: Device,
    /// Kind of its scans.
    pub source: SourceKind,
    /// Desired trigger state; the worker follows it.
    pub trigger: watch::Sender<bool>,
    /// Face requests, for a camera.
    pub faces: Option<Arc<FaceQueue>>,
    status: watch::Sender<DeviceStatus>,
    /// Bounds the log lines about its scans.
    scan_log: Mutex<LogLimit>,
}

impl ScannerControl {
    /// Counts a scan that reached the core.
    pub fn count_scan(&self) {
        self.status.send_modify(|s| s.scan_count += 1);
    }

    /// Counts a scan nobody took, and logs why at a bounded rate.
    pub fn drop_scan(&self, scan: &str, why: &str) {
        self.status.send_modify(|s| s.dropped_count += 1);
        self.log_scan(format_args!(
            "scan {} from {:?} dropped: {why}",
            mask(scan),
            self.device.info.name
        ));
    }

    /// Logs a line about one of this scanner's scans, at most
    /// [`LogLimit::PER_SECOND`] a second: a stream of scans cannot flood
    /// the log.
    pub fn log_scan(&self, line: std::fmt::Arguments<'_>) {
        let admitted = self
            .scan_log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(Instant::now());
        if let Some(suppressed) = admitted {
            info!("{line}{}", suppressed_note(suppressed));
        }
    }
}

/// Counts garbled data from a device, keeps it as the last error, and logs
/// it at a bounded rate.
pub(crate) fn record_garbage(
    status: &watch::Sender<DeviceStatus>,
    limit: &mut LogLimit,
    what: &str,
    error: &dyn std::fmt::Display,
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

    fn wake(&self) {
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

/// The core's grip on a display worker.
#[derive(Debug)]
pub struct DisplayControl {
    /// The device.
    pub device: Device,
    /// Where views go.
    pub slot: Arc<ViewSlot>,
}

/// All workers, and the means to stop them.
#[derive(Debug)]
pub struct Devices {
    /// Scanners, in configuration order.
    pub scanners: Vec<ScannerControl>,
    /// Displays, in configuration order.
    pub displays: Vec<DisplayControl>,
    stop: Arc<AtomicBool>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Every device's status, as its worker reports it, for the start-up
    /// deadline.
    reporters: Vec<(String, watch::Sender<DeviceStatus>)>,
}

/// Waits between reconnection attempts: 250 ms, doubling to 4 s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(4);

    pub(crate) fn new() -> Backoff {
        Backoff(Self::FIRST)
    }

    pub(crate) fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        wait
    }
}

/// Sleeps `total` in short steps, returning early (false) when asked to stop.
pub(crate) fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) -> bool {
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
pub(crate) fn report(
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

impl Devices {
    /// Starts a worker for every configured device. Scans go to `scans`.
    /// Must be called inside a tokio runtime (the mock scanner is a task).
    pub fn start(
        scanners: &[ScannerConfig],
        displays: &[DisplayConfig],
        scans: ScanSink,
    ) -> Devices {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut scanner_controls = Vec::new();
        let mut reporters = Vec::new();
        for config in scanners {
            let (status_tx, status_rx) = watch::channel(DeviceStatus::default());
            let (trigger_tx, trigger_rx) = watch::channel(false);
            let what = format!("scanner {:?}", config.name);
            let mut faces = None;
            match &config.driver {
                ScannerDriver::Camera { capture, formats } => {
                    let queue = Arc::new(FaceQueue::default());
                    faces = Some(queue.clone());
                    tokio::spawn(crate::camera::wake_on_trigger(
                        trigger_rx.clone(),
                        queue.clone(),
                    ));
                    let worker = CameraWorker {
                        name: config.name.clone(),
                        what: what.clone(),
                        capture: capture.clone(),
                        formats: formats.clone(),
                        trigger: trigger_rx,
                        faces: queue,
                        scans: scans.clone(),
                        status: status_tx.clone(),
                        stop: stop.clone(),
                    };
                    let spawned = std::thread::Builder::new()
                        .name(format!("camera-{}", config.name))
                        .spawn(move || worker.run());
                    match spawned {
                        Ok(handle) => threads.push(handle),
                        Err(e) => report(
                            &status_tx,
                            &what,
                            false,
                            Some(format!("cannot start worker: {e}")),
                        ),
                    }
                }
                ScannerDriver::Serial {
                    path,
                    port,
                    framing,
                } => {
                    let worker = SerialScannerWorker {
                        name: config.name.clone(),
                        what,
                        path: path.clone(),
                        port: port.clone(),
                        framing: framing.clone(),
                        trigger: trigger_rx,
                        scans: scans.clone(),
                        status: status_tx.clone(),
                        stop: stop.clone(),
                        garbage_log: LogLimit::new(),
                    };
                    let spawned = std::thread::Builder::new()
                        .name(format!("scanner-{}", config.name))
                        .spawn(move || worker.run());
                    match spawned {
                        Ok(handle) => threads.push(handle),
                        Err(e) => report(
                            &status_tx,
                            &format!("scanner {:?}", config.name),
                            false,
                            Some(format!("cannot start worker: {e}")),
                        ),
                    }
                }
                ScannerDriver::Wedge(_) | ScannerDriver::HidPos(_) => {
                    if let Some(handle) = crate::usb_scanners::spawn(
                        config,
                        what,
                        scans.clone(),
                        status_tx.clone(),
                        stop.clone(),
                    ) {
                        threads.push(handle);
                    }
                }
                ScannerDriver::Mock { codes, delay } => {
                    report(&status_tx, &what, true, None);
                    tokio::spawn(mock_scanner(
                        config.name.clone(),
                        codes.clone(),
                        *delay,
                        trigger_rx,
                        scans.clone(),
                    ));
                }
            }
            scanner_controls.push(ScannerControl {
                device: Device {
                    info: DeviceInfo {
                        name: config.name.clone(),
                        role: if faces.is_some() {
                            Role::Camera
                        } else {
                            Role::Scanner
                        },
                        driver: config.driver_name(),
                        path: config.path(),
                    },
                    status: status_rx,
                },
                source: config.source(),
                trigger: trigger_tx,
                faces,
                status: status_tx,
                scan_log: Mutex::new(LogLimit::new()),
            });
        }
        let mut display_controls = Vec::new();
        for config in displays {
            let (status_tx, status_rx) = watch::channel(DeviceStatus::default());
            reporters.push((format!("display {:?}", config.name), status_tx.clone()));
            let slot = Arc::new(ViewSlot::default());
            let sink: Box<dyn DisplaySink> = match &config.driver {
                DisplayDriver::Vfd { path, port, vfd } => {
                    let (path, port, vfd) = (path.clone(), port.clone(), vfd.clone());
                    Box::new(DeviceSink {
                        open: Box::new(move || {
                            let tty = linux::open(&path, &port).map_err(|e| e.to_string())?;
                            Ok(VfdDisplay::new(tty, vfd.clone()))
                        }),
                        show: |d: &mut VfdDisplay<TtyPort>, view| {
                            d.show_blocking(view).map_err(|e| e.to_string())
                        },
                        display: None,
                    })
                }
                DisplayDriver::Console { path, columns } => {
                    Box::new(ConsoleDisplay::new(path.clone(), *columns))
                }
                DisplayDriver::Lcd { path, lcd } => {
                    let (path, lcd) = (path.clone(), lcd.clone());
                    Box::new(DeviceSink {
                        open: Box::new(move || {
                            lcd::linux::open(&path, lcd.clone()).map_err(|e| e.to_string())
                        }),
                        show: |d: &mut lcd::LcdDisplay<_, _>, view| {
                            d.show_blocking(view).map_err(|e| e.to_string())
                        },
                        display: None,
                    })
                }
                DisplayDriver::Web(web) => {
                    Box::new(WebSink::new(web.clone(), tokio::runtime::Handle::current()))
                }
                DisplayDriver::Mock => Box::new(MockSink {
                    name: config.name.clone(),
                }),
            };
            let busy = Busy::default();
            tokio::spawn(watch_deadline(
                busy.watch(),
                config.deadline,
                status_tx.clone(),
                config.name.clone(),
            ));
            let worker = DisplayWorker {
                what: format!("display {:?}", config.name),
                sink,
                slot: slot.clone(),
                status: status_tx,
                stop: stop.clone(),
                busy,
            };
            match std::thread::Builder::new()
                .name(format!("display-{}", config.name))
                .spawn(move || worker.run())
            {
                Ok(handle) => threads.push(handle),
                Err(e) => warn!("display {:?}: cannot start worker: {e}", config.name),
            }
            display_controls.push(DisplayControl {
                device: Device {
                    info: DeviceInfo {
                        name: config.name.clone(),
                        role: Role::Display,
                        driver: config.driver_name(),
                        path: config.path(),
                    },
                    status: status_rx,
                },
                slot,
            });
        }
        Devices {
            scanners: scanner_controls,
            displays: display_controls,
            stop,
            threads: Mutex::new(threads),
            reporters,
        }
    }

    /// Waits until every device has reported its first status (connected,
    /// or absent with its reason), at most `deadline`. A device still
    /// silent then is reported as not connected, with a reason that says
    /// so; its worker goes on and reports the truth when it knows it.
    pub async fn first_status(&self, deadline: Duration) {
        let all = self.reporters.iter().map(|(_, status)| {
            let mut status = status.subscribe();
            async move {
                let _ = status.wait_for(|s| s.known).await;
            }
        });
        let all = futures_util::future::join_all(all);
        if tokio::time::timeout(deadline, all).await.is_ok() {
            return;
        }
        for (what, status) in &self.reporters {
            if !status.borrow().known {
                report(
                    status,
                    what,
                    false,
                    Some(format!(
                        "still opening: no status within {} ms of start",
                        deadline.as_millis()
                    )),
                );
            }
        }
    }

    /// Every device, scanners first.
    pub fn all(&self) -> impl Iterator<Item = &Device> {
        self.scanners
            .iter()
            .map(|s| &s.device)
            .chain(self.displays.iter().map(|d| &d.device))
    }

    /// Stops every worker: triggers off, ports closed. Blocks until the
    /// worker threads have ended (normally one read timeout), at most
    /// [`STOP_WAIT`].
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        for display in &self.displays {
            display.slot.wake();
        }
        for faces in self.scanners.iter().filter_map(|s| s.faces.as_ref()) {
            crate::camera::wake(faces);
        }
        let threads: Vec<_> = self
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        // A worker stuck in a driver call that cannot be interrupted (a
        // serial flush held by flow control, a console FIFO nobody reads)
        // is left behind after a while rather than holding up the stop.
        let deadline = Instant::now() + STOP_WAIT;
        for handle in threads {
            while !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if !handle.is_finished() {
                warn!(
                    "device worker {} did not stop within {STOP_WAIT:?}; left behind",
                    handle.thread().name().unwrap_or("?")
                );
                continue;
            }
            if handle.join().is_err() {
                warn!("a device worker panicked while stopping");
            }
        }
    }
}

impl Drop for Devices {
    fn drop(&mut self) {
        self.stop();
    }
}

struct SerialScannerWorker {
    name: String,
    what: String,
    path: PathBuf,
    port: PortSettings,
    framing: Framing,
    trigger: watch::Receiver<bool>,
    scans: ScanSink,
    status: watch::Sender<DeviceStatus>,
    stop: Arc<AtomicBool>,
    garbage_log: LogLimit,
}

impl SerialScannerWorker {
    fn run(mut self) {
        let mut backoff = Backoff::new();
        while !self.stop.load(Ordering::Relaxed) {
            match linux::open(&self.path, &self.port) {
                Ok(port) => {
                    backoff = Backoff::new();
                    report(&self.status, &self.what, true, None);
                    let error = self.serve(SerialScanner::new(port, self.framing.clone()));
                    match error {
                        Some(e) => report(&self.status, &self.what, false, Some(e)),
                        None => return,
                    }
                }
                Err(e) => report(&self.status, &self.what, false, Some(e.to_string())),
            }
            if !sleep_unless_stopped(&self.stop, backoff.next()) {
                return;
            }
        }
    }

    /// Reads until the port fails (returns why) or the worker is stopped.
    fn serve(&mut self, mut scanner: SerialScanner<TtyPort>) -> Option<String> {
        // Put the scanner into a known state: it may have been left
        // triggered by a kassad that was killed before it could send the
        // trigger-off sequence.
        let wanted = *self.trigger.borrow_and_update();
        if let Err(e) = scanner.set_trigger(wanted) {
            return Some(e.to_string());
        }
        loop {
            if self.stop.load(Ordering::Relaxed) {
                if let Err(e) = scanner.set_trigger(false) {
                    debug!("{}: trigger off on stop: {e}", self.what);
                }
                return None;
            }
            if self.trigger.has_changed().unwrap_or(false) {
                let on = *self.trigger.borrow_and_update();
                if let Err(e) = scanner.set_trigger(on) {
                    return Some(e.to_string());
                }
            }
            match scanner.poll_scan() {
                Ok(Some(scan)) => (self.scans)(RoutedScan {
                    device: self.name.clone(),
                    scan,
                }),
                Ok(None) => {}
                Err(SerialError::Frame(e)) => {
                    record_garbage(&self.status, &mut self.garbage_log, &self.what, &e);
                }
                Err(e) if e.kind() == ErrorKind::Disconnected => {
                    return Some(format!("device disconnected ({e})"));
                }
                Err(e) => return Some(e.to_string()),
            }
        }
    }
}

/// A simulated scanner: on every trigger, after `delay`, it reads the next
/// code, as a customer holding up a phone would.
async fn mock_scanner(
    name: String,
    codes: Vec<String>,
    delay: Duration,
    mut trigger: watch::Receiver<bool>,
    scans: ScanSink,
) {
    let mut next = codes.iter().cycle();
    loop {
        if trigger.wait_for(|on| *on).await.is_err() {
            return;
        }
        let fired = tokio::select! {
            () = tokio::time::sleep(delay) => true,
            off = trigger.wait_for(|on| !*on) => {
                if off.is_err() {
                    return;
                }
                false
            }
        };
        if !fired {
            continue;
        }
        if let Some(code) = next.next() {
            debug!("mock scanner {name:?} reads {}", mask(code));
            let scan = Scan::new(code.as_bytes(), SourceKind::Mock, Timestamp::now());
            scans(RoutedScan {
                device: name.clone(),
                scan,
            });
        }
        // One read per trigger: wait for it to go off first.
        if trigger.wait_for(|on| !*on).await.is_err() {
            return;
        }
    }
}

/// A display as its worker drives it.
pub(crate) trait DisplaySink: Send {
    /// Opens the device.
    fn open(&mut self) -> Result<(), String>;
    /// Shows a view; on error the device is considered closed.
    fn show(&mut self, view: &View) -> Result<(), String>;
}

/// A display driven through a blocking device handle: opened by `open`,
/// dropped after a failed show so that the next open starts afresh.
struct DeviceSink<D> {
    open: Box<dyn FnMut() -> Result<D, String> + Send>,
    show: fn(&mut D, &View) -> Result<(), String>,
    display: Option<D>,
}

impl<D: Send> DisplaySink for DeviceSink<D> {
    fn open(&mut self) -> Result<(), String> {
        self.display = Some((self.open)()?);
        Ok(())
    }

    fn show(&mut self, view: &View) -> Result<(), String> {
        let display = self.display.as_mut().ok_or("not open")?;
        (self.show)(display, view).inspect_err(|_| self.display = None)
    }
}

struct MockSink {
    name: String,
}

impl DisplaySink for MockSink {
    fn open(&mut self) -> Result<(), String> {
        Ok(())
    }

    fn show(&mut self, view: &View) -> Result<(), String> {
        info!(
            "mock display {:?} shows {}",
            self.name,
            crate::console::summary(view)
        );
        Ok(())
    }
}

struct DisplayWorker {
    what: String,
    sink: Box<dyn DisplaySink>,
    slot: Arc<ViewSlot>,
    status: watch::Sender<DeviceStatus>,
    stop: Arc<AtomicBool>,
    busy: Busy,
}

/// Since when a display worker has been inside its driver, for the
/// deadline watchdog; and whether the watchdog gave up on it.
#[derive(Debug)]
struct Busy {
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

    /// What the watchdog of this display needs: it must not keep the
    /// `Busy` itself alive, so that it ends with the display's worker.
    fn watch(&self) -> (watch::Receiver<Option<Instant>>, Arc<AtomicBool>) {
        (self.since.subscribe(), self.timed_out.clone())
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
    status: watch::Sender<DeviceStatus>,
    name: String,
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
                report(
                    &status,
                    &format!("display {name:?}"),
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

impl DisplayWorker {
    fn run(mut self) {
        let mut backoff = Backoff::new();
        let mut open = false;
        let mut shown = 0u64;
        while !self.stop.load(Ordering::Relaxed) {
            if !open {
                let (opened, _) = self.busy.run(|| self.sink.open());
                match opened {
                    Ok(()) => {
                        open = true;
                        backoff = Backoff::new();
                        report(&self.status, &self.what, true, None);
                        shown = 0; // show the current view again on the fresh device
                    }
                    Err(e) => {
                        report(&self.status, &self.what, false, Some(e));
                        if !sleep_unless_stopped(&self.stop, backoff.next()) {
                            return;
                        }
                        continue;
                    }
                }
            }
            let Some((generation, view)) = self.slot.wait_newer(shown, Duration::from_millis(500))
            else {
                continue;
            };
            let (result, hung) = self.busy.run(|| self.sink.show(&view));
            match result {
                // A display that hung and came back is opened afresh, and
                // shown the newest view whole.
                Ok(()) if hung => open = false,
                Ok(()) => shown = generation,
                Err(e) => {
                    open = false;
                    report(&self.status, &self.what, false, Some(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A display whose first `show` blocks until released, as a driver
    /// with no timeout of its own would on a hung device.
    struct Stuck {
        released: Arc<(Mutex<bool>, Condvar)>,
        shown: Arc<Mutex<Vec<View>>>,
        opens: Arc<AtomicUsize>,
    }

    impl DisplaySink for Stuck {
        fn open(&mut self) -> Result<(), String> {
            self.opens.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }

        fn show(&mut self, view: &View) -> Result<(), String> {
            let (lock, cvar) = &*self.released;
            let guard = lock.lock().unwrap();
            drop(cvar.wait_while(guard, |released| !*released).unwrap());
            self.shown.lock().unwrap().push(view.clone());
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hung_driver_is_reported_at_its_deadline_and_reopened_when_it_returns() {
        let released = Arc::new((Mutex::new(false), Condvar::new()));
        let shown = Arc::new(Mutex::new(Vec::new()));
        let opens = Arc::new(AtomicUsize::new(0));
        let (status, mut status_rx) = watch::channel(DeviceStatus::default());
        let stop = Arc::new(AtomicBool::new(false));
        let slot = Arc::new(ViewSlot::default());
        let busy = Busy::default();
        let watch = busy.watch();
        let worker = DisplayWorker {
            what: "display \"stuck\"".into(),
            sink: Box::new(Stuck {
                released: released.clone(),
                shown: shown.clone(),
                opens: opens.clone(),
            }),
            slot: slot.clone(),
            status: status.clone(),
            stop: stop.clone(),
            busy,
        };
        let thread = std::thread::spawn(move || worker.run());
        let watchdog = tokio::spawn(watch_deadline(
            watch,
            Duration::from_millis(200),
            status,
            "stuck".into(),
        ));

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
        stop.store(true, Ordering::Relaxed);
        slot.wake();
        thread.join().unwrap();
        // The watchdog ends with its worker.
        let ended = tokio::time::timeout(Duration::from_secs(5), watchdog).await;
        assert!(ended.is_ok(), "the watchdog outlived its worker");
    }
}
