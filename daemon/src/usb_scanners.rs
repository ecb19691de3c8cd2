//! USB scanners: keyboard-wedge (`driver = "wedge"`) and HID POS
//! (`driver = "hidpos"`), their settings and their workers.
//!
//! A worker follows the serial worker's model: it owns its device on a
//! thread, reports through [`DeviceStatus`], hands scans to the sink and
//! reconnects with backoff. What differs is finding the device: unless the
//! configuration names a path, the worker looks for it in sysfs, and when
//! it is not there it sleeps on a libudev monitor until udev says an input
//! or hidraw device was added, so a scanner plugged in after start is
//! opened within a second. An unplugged device fails its read at once
//! (`ENODEV`), so `Connected` drops just as fast.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kassa_drivers::hidpos::linux::HidrawDevice;
use kassa_drivers::usb::UsbId;
use kassa_drivers::usb::linux::{
    DeviceMatch, HotplugMonitor, hidraw_nodes, input_nodes, select_hidraw, select_input,
};
use kassa_drivers::wedge::linux::{ReadError, WedgeDevice};
use kassa_drivers::wedge::{DecoderConfig, Keymap, LayoutName, Terminator, WedgeDecoder};
use kassa_hal::Scan;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::config::{ScannerConfig, ScannerDriver};
use crate::devices::{Backoff, DeviceStatus, RoutedScan, ScanSink, report, sleep_unless_stopped};
use crate::log_limit::LogLimit;

/// Where sysfs is.
const SYS: &str = "/sys";
/// Longest wait on the udev monitor before looking again anyway.
const HOTPLUG_WAIT: Duration = Duration::from_secs(30);
/// How often a reading worker checks that it should stop.
const PUMP: Duration = Duration::from_millis(100);

/// Settings of a keyboard-wedge scanner.
#[derive(Debug, Clone)]
pub struct WedgeSettings {
    /// Which device.
    pub device: DeviceMatch,
    /// The layout the scanner types in.
    pub layout: LayoutName,
    /// Terminator, idle gap, AIM ids, length limit.
    pub decoder: DecoderConfig,
    /// Whether to hold the device exclusively (EVIOCGRAB).
    pub grab: bool,
}

/// Settings of a HID POS scanner.
#[derive(Debug, Clone)]
pub struct HidPosSettings {
    /// Which device.
    pub device: DeviceMatch,
    /// Longest scan accepted.
    pub max_len: usize,
}

/// The keys of a `[[scanner]]` table that concern USB scanners.
#[derive(Debug, Default)]
pub(crate) struct UsbKeys {
    pub path: Option<PathBuf>,
    pub usb_id: Option<String>,
    pub device_name: Option<String>,
    pub layout: Option<String>,
    pub variant: Option<String>,
    pub terminator: Option<String>,
    pub idle_gap_ms: Option<u64>,
    pub aim_ids: Option<bool>,
    pub max_length: Option<usize>,
    pub grab: Option<bool>,
}

impl UsbKeys {
    fn device(&self) -> Result<DeviceMatch, String> {
        let given = [
            self.path.is_some(),
            self.usb_id.is_some(),
            self.device_name.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err("give one of path, usb_id and device_name, not several".into());
        }
        if let Some(path) = &self.path {
            return Ok(DeviceMatch::Path(path.clone()));
        }
        if let Some(id) = &self.usb_id {
            return UsbId::parse(id).map(DeviceMatch::UsbId).ok_or_else(|| {
                format!("usb_id {id:?} must be VVVV:PPPP in hex, e.g. \"05e0:1200\"")
            });
        }
        if let Some(name) = &self.device_name {
            if name.is_empty() {
                return Err("device_name must not be empty".into());
            }
            return Ok(DeviceMatch::Name(name.clone()));
        }
        Ok(DeviceMatch::Known)
    }

    fn max_len(&self, default: usize) -> Result<usize, String> {
        let max_len = self.max_length.unwrap_or(default);
        if !(1..=65536).contains(&max_len) {
            return Err("max_length must be 1 to 65536".into());
        }
        Ok(max_len)
    }

    /// Validates the settings of `driver = "wedge"`, compiling the layout
    /// once so that a misspelt one is refused at start.
    pub(crate) fn wedge(&self) -> Result<WedgeSettings, String> {
        let device = self.device()?;
        let terminator = match self.terminator.as_deref().unwrap_or("enter") {
            "enter" => Terminator::Enter,
            "tab" => Terminator::Tab,
            "none" => Terminator::None,
            other => {
                return Err(format!(
                    "terminator {other:?} must be \"enter\", \"tab\" or \"none\""
                ));
            }
        };
        let mut decoder = DecoderConfig::new(terminator);
        if let Some(gap) = self.idle_gap_ms {
            if !(5..=5000).contains(&gap) {
                return Err("idle_gap_ms must be 5 to 5000".into());
            }
            decoder.idle_gap = Duration::from_millis(gap);
        }
        decoder.aim_ids = self.aim_ids.unwrap_or(false);
        decoder.max_len = self.max_len(DecoderConfig::DEFAULT_MAX_LEN)?;
        let layout = LayoutName::with_variant(
            self.layout.as_deref().unwrap_or("us"),
            self.variant.as_deref().unwrap_or(""),
        );
        Keymap::new(&layout).map_err(|e| e.to_string())?;
        Ok(WedgeSettings {
            device,
            layout,
            decoder,
            grab: self.grab.unwrap_or(true),
        })
    }

    /// Validates the settings of `driver = "hidpos"`.
    pub(crate) fn hidpos(&self) -> Result<HidPosSettings, String> {
        for (key, given) in [
            ("layout", self.layout.is_some()),
            ("variant", self.variant.is_some()),
            ("terminator", self.terminator.is_some()),
            ("idle_gap_ms", self.idle_gap_ms.is_some()),
            ("aim_ids", self.aim_ids.is_some()),
            ("grab", self.grab.is_some()),
        ] {
            if given {
                return Err(format!(
                    "{key} is not a setting of driver \"hidpos\" (HID POS reports carry no keys)"
                ));
            }
        }
        Ok(HidPosSettings {
            device: self.device()?,
            max_len: self.max_len(kassa_drivers::hidpos::HidPosDecoder::DEFAULT_MAX_LEN)?,
        })
    }
}

/// What a USB worker shares with the serial one.
pub(crate) struct WorkerContext {
    name: String,
    what: String,
    scans: ScanSink,
    status: watch::Sender<DeviceStatus>,
    stop: Arc<AtomicBool>,
    /// Bounds the log lines about garbled reads.
    garbage_log: Mutex<LogLimit>,
}

impl WorkerContext {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn deliver(&self, scan: Scan) {
        debug!("{}: scan of {} bytes", self.what, scan.data.len());
        (self.scans)(RoutedScan {
            device: self.name.clone(),
            scan,
        });
    }

    fn dropped(&self, error: &dyn std::fmt::Display) {
        let mut limit = self.garbage_log.lock().unwrap_or_else(|p| p.into_inner());
        crate::devices::record_garbage(&self.status, &mut limit, &self.what, error);
    }

    /// Waits before looking for the device again: until udev reports a
    /// device coming or going when the device was simply absent, after the
    /// backoff when opening it failed (or udev cannot be listened to).
    /// False when asked to stop.
    fn wait(
        &self,
        monitor: &mut Option<HotplugMonitor>,
        absent: bool,
        backoff: &mut Backoff,
    ) -> bool {
        let total = if absent && monitor.is_some() {
            HOTPLUG_WAIT
        } else {
            backoff.next()
        };
        let Some(m) = monitor.as_mut() else {
            return sleep_unless_stopped(&self.stop, total);
        };
        let step = Duration::from_millis(100);
        let mut left = total;
        while !left.is_zero() {
            if self.stopped() {
                return false;
            }
            let now = left.min(step);
            match m.wait(now) {
                Ok(true) => return !self.stopped(),
                Ok(false) => left = left.saturating_sub(now),
                Err(e) => {
                    warn!(
                        "{}: udev monitor failed, retrying without it: {e}",
                        self.what
                    );
                    *monitor = None;
                    return sleep_unless_stopped(&self.stop, left);
                }
            }
        }
        !self.stopped()
    }
}

/// Starts the worker of a wedge or HID POS scanner on a thread of its own.
/// A thread that cannot start is reported on the device.
pub(crate) fn spawn(
    config: &ScannerConfig,
    what: String,
    scans: ScanSink,
    status: watch::Sender<DeviceStatus>,
    stop: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    let ctx = WorkerContext {
        name: config.name.clone(),
        what: what.clone(),
        scans,
        status: status.clone(),
        stop,
        garbage_log: Mutex::new(LogLimit::new()),
    };
    let driver = config.driver.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("scanner-{}", config.name))
        .spawn(move || match driver {
            ScannerDriver::Wedge(settings) => run_wedge(ctx, settings),
            ScannerDriver::HidPos(settings) => run_hidpos(ctx, settings),
            _ => {}
        });
    match spawned {
        Ok(handle) => Some(handle),
        Err(e) => {
            report(
                &status,
                &what,
                false,
                Some(format!("cannot start worker: {e}")),
            );
            None
        }
    }
}

fn hotplug_monitor(what: &str) -> Option<HotplugMonitor> {
    match HotplugMonitor::new() {
        Ok(m) => Some(m),
        Err(e) => {
            warn!(
                "{what}: cannot listen to udev ({e}); a scanner plugged in later is found by retrying"
            );
            None
        }
    }
}

/// Keeps one USB scanner connected until stopped: finds its node (a fixed
/// path, or discovery through sysfs), opens it, serves it until it fails,
/// and waits for udev or the backoff before looking again.
fn keep_connected<D>(
    ctx: &WorkerContext,
    wanted: &DeviceMatch,
    find: impl Fn(&DeviceMatch) -> Option<PathBuf>,
    what_is_missing: &str,
    mut open: impl FnMut(&Path) -> Result<D, String>,
    mut serve: impl FnMut(D) -> Option<String>,
) {
    let mut monitor = match wanted {
        DeviceMatch::Path(_) => None,
        _ => hotplug_monitor(&ctx.what),
    };
    let mut backoff = Backoff::new();
    while !ctx.stopped() {
        let found = match wanted {
            DeviceMatch::Path(p) => Some(p.clone()),
            wanted => find(wanted),
        };
        let absent = found.is_none();
        match found {
            None => report(
                &ctx.status,
                &ctx.what,
                false,
                Some(format!(
                    "no {what_is_missing} matching {wanted} is plugged in"
                )),
            ),
            Some(path) => match open(&path) {
                Ok(device) => {
                    backoff = Backoff::new();
                    report(&ctx.status, &ctx.what, true, None);
                    match serve(device) {
                        Some(e) => report(&ctx.status, &ctx.what, false, Some(e)),
                        None => return,
                    }
                    // Gone: look again straight away when it is found by
                    // discovery (it may be back already); a fixed path waits
                    // its backoff.
                    if !matches!(wanted, DeviceMatch::Path(_)) {
                        continue;
                    }
                }
                Err(e) => report(&ctx.status, &ctx.what, false, Some(e)),
            },
        }
        if !ctx.wait(&mut monitor, absent, &mut backoff) {
            return;
        }
    }
}

/// Reads a keyboard-wedge scanner until stopped.
pub(crate) fn run_wedge(ctx: WorkerContext, settings: WedgeSettings) {
    // libxkbcommon's objects stay on the thread that made them.
    let keymap = match Keymap::new(&settings.layout) {
        Ok(k) => k,
        Err(e) => return report(&ctx.status, &ctx.what, false, Some(e.to_string())),
    };
    let mut decoder = WedgeDecoder::new(keymap, settings.decoder.clone());
    keep_connected(
        &ctx,
        &settings.device,
        |wanted| select_input(&input_nodes(Path::new(SYS)), wanted).map(|n| n.devnode.clone()),
        "input device",
        |path| WedgeDevice::open(path, settings.grab).map_err(|e| e.to_string()),
        |device| {
            decoder.reset();
            serve_wedge(&ctx, device, &mut decoder)
        },
    );
}

/// Reads until the device fails (returns why) or the worker is stopped.
/// The device, and with it the grab, is dropped on return.
fn serve_wedge(
    ctx: &WorkerContext,
    mut device: WedgeDevice,
    decoder: &mut WedgeDecoder,
) -> Option<String> {
    if device.is_grabbed() {
        debug!("{}: {} grabbed", ctx.what, device.path().display());
    }
    loop {
        if ctx.stopped() {
            return None;
        }
        let pumped = device.pump(decoder, PUMP);
        while let Some(result) = decoder.pop() {
            match result {
                Ok(scan) => ctx.deliver(scan),
                Err(e) => ctx.dropped(&e),
            }
        }
        match pumped {
            Ok(()) => {}
            Err(ReadError::Disconnected) => return Some("device disconnected".into()),
            Err(e) => return Some(e.to_string()),
        }
    }
}

/// Reads a HID POS scanner until stopped.
pub(crate) fn run_hidpos(ctx: WorkerContext, settings: HidPosSettings) {
    keep_connected(
        &ctx,
        &settings.device,
        |wanted| select_hidraw(&hidraw_nodes(Path::new(SYS)), wanted).map(|n| n.devnode.clone()),
        "HID POS device",
        |path| HidrawDevice::open(path, Path::new(SYS)).map_err(|e| e.to_string()),
        |device| serve_hidpos(&ctx, device),
    );
}

fn serve_hidpos(ctx: &WorkerContext, mut device: HidrawDevice) -> Option<String> {
    loop {
        if ctx.stopped() {
            return None;
        }
        match device.poll_scan(PUMP) {
            Ok(Some(scan)) => ctx.deliver(scan),
            Ok(None) => {}
            Err(Ok(dropped)) => ctx.dropped(&dropped),
            Err(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                return Some("device disconnected".into());
            }
            Err(Err(e)) => return Some(format!("read failed: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> UsbKeys {
        UsbKeys::default()
    }

    #[test]
    fn wedge_defaults_and_device_matches() {
        let s = keys().wedge().unwrap();
        assert_eq!(s.device, DeviceMatch::Known);
        assert_eq!(s.layout, LayoutName::new("us"));
        assert_eq!(s.decoder.terminator, Terminator::Enter);
        assert!(s.grab);
        let s = UsbKeys {
            usb_id: Some("05E0:1200".into()),
            layout: Some("fr".into()),
            terminator: Some("none".into()),
            idle_gap_ms: Some(80),
            ..keys()
        }
        .wedge()
        .unwrap();
        assert_eq!(
            s.device,
            DeviceMatch::UsbId(UsbId::parse("05e0:1200").unwrap())
        );
        assert_eq!(s.decoder.idle_gap, Duration::from_millis(80));
        assert_eq!(s.decoder.terminator, Terminator::None);
    }

    #[test]
    fn wedge_mistakes_are_named() {
        let bad = |k: UsbKeys| k.wedge().unwrap_err();
        assert!(
            bad(UsbKeys {
                layout: Some("xx".into()),
                ..keys()
            })
            .contains("not in the xkb data")
        );
        assert!(
            bad(UsbKeys {
                terminator: Some("cr".into()),
                ..keys()
            })
            .contains("terminator")
        );
        assert!(
            bad(UsbKeys {
                usb_id: Some("05e0".into()),
                ..keys()
            })
            .contains("VVVV:PPPP")
        );
        assert!(
            bad(UsbKeys {
                usb_id: Some("05e0:1200".into()),
                device_name: Some("x".into()),
                ..keys()
            })
            .contains("not several")
        );
        assert!(
            bad(UsbKeys {
                idle_gap_ms: Some(1),
                ..keys()
            })
            .contains("idle_gap_ms")
        );
        let e = UsbKeys {
            layout: Some("us".into()),
            ..keys()
        }
        .hidpos()
        .unwrap_err();
        assert!(
            e.contains("layout is not a setting of driver \"hidpos\""),
            "{e}"
        );
    }
}
