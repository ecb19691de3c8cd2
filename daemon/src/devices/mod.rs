//! The devices: each configured scanner and display is kept open by a
//! worker of its own, which drives it through the HAL's blocking traits.
//!
//! - [`worker`] is the one worker every device runs on (open, backoff,
//!   trigger, status, the policy for errors by kind); it knows no family.
//! - One module per family says how to open its devices: [`serial`]
//!   (serial scanners and VFDs), [`lcd`], [`usb`] (wedge and HID POS, with
//!   hot-plug; [`keyboard`] types their passed-through scans), [`camera`]
//!   (codes and faces), [`console`], [`mock`], and
//!   [`web`] (the second screen, whose server is `crate::web`).
//! - This module is the dispatcher on top, which only the core uses: it
//!   starts a worker per configured device and gives the core a grip on
//!   each ([`ScannerControl`], [`DisplayControl`]).
//!
//! A worker reports through a `watch` of [`DeviceStatus`], which the D-Bus
//! layer turns into `PropertiesChanged`. Scanners hand their scans to one
//! sink that the core routes; displays take the newest view from a
//! [`ViewSlot`], so a slow display skips stale views instead of queueing
//! them.

pub mod camera;
pub mod console;
pub mod keyboard;
pub mod lcd;
pub mod mock;
pub mod serial;
#[cfg(feature = "usb")]
pub mod usb;
pub mod web;
pub mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kassa_hal::{SourceKind, mask};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::{DisplayConfig, DisplayDriver, ScannerConfig, ScannerDriver};
use crate::log_limit::{LogLimit, suppressed_note};
use camera::FaceQueue;
pub use worker::{DeviceStatus, RoutedScan, ScanSink, ViewSlot};
use worker::{Link, report, spawn_display, spawn_scanner};

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
    /// The simulator's controls, for a simulated scanner.
    pub simulator: Option<Arc<mock::Simulator>>,
    /// The virtual keyboard unclaimed scans may be typed on.
    pub pass_through: Option<keyboard::PassThrough>,
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

/// The core's grip on a display worker.
#[derive(Debug)]
pub struct DisplayControl {
    /// The device.
    pub device: Device,
    /// Where views go.
    pub slot: Arc<ViewSlot>,
    /// The simulator's controls, for a simulated display.
    pub simulator: Option<Arc<mock::Simulator>>,
}

/// All workers, and the means to stop them.
#[derive(Debug)]
pub struct Devices {
    /// Scanners, in configuration order.
    pub scanners: Vec<ScannerControl>,
    /// Displays, in configuration order.
    pub displays: Vec<DisplayControl>,
    stop: Arc<AtomicBool>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Every device's status, as its worker reports it, for the start-up
    /// deadline.
    reporters: Vec<(String, watch::Sender<DeviceStatus>)>,
}

impl Devices {
    /// Starts a worker for every configured device. Scans go to `scans`.
    /// Must be called inside a tokio runtime (display watchdogs and the web
    /// screen are tasks).
    pub fn start(
        scanners: &[ScannerConfig],
        displays: &[DisplayConfig],
        scans: ScanSink,
    ) -> Devices {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let scanner_controls: Vec<ScannerControl> = scanners
            .iter()
            .map(|config| start_scanner(config, &stop, &scans, &mut threads))
            .collect();
        let (display_controls, display_status): (Vec<DisplayControl>, Vec<_>) = displays
            .iter()
            .map(|config| start_display(config, &stop, &mut threads))
            .unzip();
        let reporters = scanner_controls
            .iter()
            .map(|s| {
                (
                    format!("scanner {:?}", s.device.info.name),
                    s.status.clone(),
                )
            })
            .chain(
                display_controls
                    .iter()
                    .zip(display_status)
                    .map(|(d, status)| (format!("display {:?}", d.device.info.name), status)),
            )
            .collect();
        Devices {
            scanners: scanner_controls,
            displays: display_controls,
            stop,
            threads: Mutex::new(threads),
            reporters,
        }
    }

    /// Devices with no workers behind them, for tests of the core: every
    /// scanner (name, kind) and display is connected; scans are handed in
    /// through `Terminal::route`, and triggers and views are watched on
    /// the controls.
    #[cfg(test)]
    pub(crate) fn detached(scanners: &[(&str, SourceKind)], displays: &[&str]) -> Devices {
        let connected = || {
            watch::channel(DeviceStatus {
                connected: true,
                known: true,
                ..DeviceStatus::default()
            })
        };
        let scanners = scanners
            .iter()
            .map(|(name, source)| {
                let (status, status_rx) = connected();
                ScannerControl {
                    device: Device {
                        info: DeviceInfo {
                            name: (*name).into(),
                            role: Role::Scanner,
                            driver: "test",
                            path: String::new(),
                        },
                        status: status_rx,
                    },
                    source: *source,
                    trigger: watch::channel(false).0,
                    faces: None,
                    simulator: None,
                    pass_through: None,
                    status,
                    scan_log: Mutex::new(LogLimit::new()),
                }
            })
            .collect();
        let displays = displays
            .iter()
            .map(|name| DisplayControl {
                device: Device {
                    info: DeviceInfo {
                        name: (*name).into(),
                        role: Role::Display,
                        driver: "test",
                        path: String::new(),
                    },
                    status: connected().1,
                },
                slot: Arc::default(),
                simulator: None,
            })
            .collect();
        Devices {
            scanners,
            displays,
            stop: Arc::default(),
            threads: Mutex::default(),
            reporters: Vec::new(),
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
            faces.wake();
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

/// Starts the worker of the scanner `config` names (its thread joins
/// `threads`); the control the core drives it by.
fn start_scanner(
    config: &ScannerConfig,
    stop: &Arc<AtomicBool>,
    scans: &ScanSink,
    threads: &mut Vec<JoinHandle<()>>,
) -> ScannerControl {
    let (status_tx, status_rx) = watch::channel(DeviceStatus::default());
    let (trigger_tx, trigger) = watch::channel(false);
    let name = config.name.clone();
    let link = Link {
        what: format!("scanner {name:?}"),
        status: status_tx.clone(),
        stop: stop.clone(),
    };
    let mut faces = None;
    let mut simulator = None;
    #[cfg_attr(not(feature = "usb"), allow(unused_mut))]
    let mut pass_through = None;
    let sink = scans.clone();
    let spawned = match &config.driver {
        ScannerDriver::Serial {
            path,
            port,
            framing,
        } => {
            let open = serial::ScannerOpen::new(path, port, framing);
            spawn_scanner(name, link.clone(), trigger, sink, move || open)
        }
        ScannerDriver::Camera { capture, formats } => {
            let queue = Arc::new(FaceQueue::default());
            faces = Some(queue.clone());
            tokio::spawn(camera::wake_on_trigger(trigger.clone(), queue.clone()));
            let open = camera::CameraOpen::new(
                &link.what,
                capture,
                formats,
                queue,
                trigger.clone(),
                stop.clone(),
            );
            spawn_scanner(name, link.clone(), trigger, sink, move || open)
        }
        #[cfg(feature = "usb")]
        ScannerDriver::Wedge(settings) => {
            pass_through = start_pass_through(settings.pass_through.as_ref(), &link, threads);
            let (settings, what) = (settings.clone(), link.what.clone());
            spawn_scanner(name, link.clone(), trigger, sink, move || {
                usb::WedgeOpen::new(settings, &what)
            })
        }
        #[cfg(feature = "usb")]
        ScannerDriver::HidPos(settings) => {
            pass_through = start_pass_through(settings.pass_through.as_ref(), &link, threads);
            let (settings, what) = (settings.clone(), link.what.clone());
            spawn_scanner(name, link.clone(), trigger, sink, move || {
                usb::HidPosOpen::new(settings, &what)
            })
        }
        ScannerDriver::Mock { codes, delay } => {
            let controls = mock::Simulator::scanner();
            simulator = Some(controls.clone());
            let open = mock::ScannerOpen::new(codes, *delay, controls);
            spawn_scanner(name, link.clone(), trigger, sink, move || open)
        }
    };
    started(spawned, &link, threads);
    ScannerControl {
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
        simulator,
        pass_through,
        status: status_tx,
        scan_log: Mutex::new(LogLimit::new()),
    }
}

/// Starts the worker of the display `config` names (its thread joins
/// `threads`); the control the core drives it by, and where its status
/// is reported.
fn start_display(
    config: &DisplayConfig,
    stop: &Arc<AtomicBool>,
    threads: &mut Vec<JoinHandle<()>>,
) -> (DisplayControl, watch::Sender<DeviceStatus>) {
    let (status_tx, status_rx) = watch::channel(DeviceStatus::default());
    let name = config.name.clone();
    let link = Link {
        what: format!("display {name:?}"),
        status: status_tx.clone(),
        stop: stop.clone(),
    };
    let slot = Arc::new(ViewSlot::default());
    let mut simulator = None;
    let (to, deadline) = (slot.clone(), config.deadline);
    let spawned = match &config.driver {
        DisplayDriver::Vfd { path, port, vfd } => {
            let open = serial::VfdOpen::new(path, port, vfd);
            spawn_display(&name, link.clone(), to, deadline, move || open)
        }
        DisplayDriver::Console { path, columns } => {
            let open = console::ConsoleOpen::new(path.clone(), *columns);
            spawn_display(&name, link.clone(), to, deadline, move || open)
        }
        DisplayDriver::Lcd { path, lcd } => {
            let open = lcd::LcdOpen::new(path, lcd);
            spawn_display(&name, link.clone(), to, deadline, move || open)
        }
        DisplayDriver::Web(settings) => {
            let runtime = tokio::runtime::Handle::current();
            let open = web::WebOpen::new(settings.clone(), runtime);
            spawn_display(&name, link.clone(), to, deadline, move || open)
        }
        DisplayDriver::Mock => {
            let controls = mock::Simulator::display();
            simulator = Some(controls.clone());
            let open = mock::DisplayOpen::new(&name, controls);
            spawn_display(&name, link.clone(), to, deadline, move || open)
        }
    };
    started(spawned, &link, threads);
    let control = DisplayControl {
        device: Device {
            info: DeviceInfo {
                name,
                role: Role::Display,
                driver: config.driver_name(),
                path: config.path(),
            },
            status: status_rx,
        },
        slot,
        simulator,
    };
    (control, status_tx)
}

/// Starts the typing thread of a scanner whose scans may be passed
/// through; a thread that cannot start leaves the scanner without.
#[cfg(feature = "usb")]
fn start_pass_through(
    settings: Option<&crate::config::PassThroughSettings>,
    link: &Link,
    threads: &mut Vec<JoinHandle<()>>,
) -> Option<keyboard::PassThrough> {
    match keyboard::PassThrough::start(settings?, &link.what, &link.stop) {
        Ok((pass_through, thread)) => {
            threads.push(thread);
            Some(pass_through)
        }
        Err(e) => {
            warn!("{}: cannot start its virtual keyboard: {e}", link.what);
            None
        }
    }
}

/// Keeps a started worker's thread, or reports why it could not start.
fn started(
    spawned: std::io::Result<JoinHandle<()>>,
    link: &Link,
    threads: &mut Vec<JoinHandle<()>>,
) {
    match spawned {
        Ok(handle) => threads.push(handle),
        Err(e) => report(
            &link.status,
            &link.what,
            false,
            Some(format!("cannot start worker: {e}")),
        ),
    }
}
