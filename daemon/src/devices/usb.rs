//! USB scanners: keyboard-wedge (`driver = "wedge"`) and HID POS
//! (`driver = "hidpos"`).
//!
//! What this family adds to the worker is finding the device: unless the
//! configuration names a path, the opener looks for it in sysfs, and when
//! it is not there the worker sleeps on a libudev monitor until udev says
//! an input or hidraw device was added, so a scanner plugged in after start
//! is opened within a second. An unplugged device fails its read at once,
//! so `Connected` drops just as fast.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use kassa_drivers::hidpos::linux::HidrawDevice;
use kassa_drivers::usb::linux::{
    DeviceMatch, HotplugMonitor, hidraw_nodes, input_nodes, select_hidraw, select_input,
};
use kassa_drivers::wedge::linux::WedgeScanner;
use kassa_hal::ErrorKind;
use tracing::{debug, warn};

use super::worker::{Backoff, Open, Pause, sleep_unless_stopped};
use crate::config::{HidPosSettings, WedgeSettings};

/// Where sysfs is.
const SYS: &str = "/sys";
/// Longest wait on the udev monitor before looking again anyway.
const HOTPLUG_WAIT: Duration = Duration::from_secs(30);

/// Why a USB scanner could not be opened.
#[derive(Debug)]
pub enum OpenError<E> {
    /// No device matching the configuration is plugged in.
    Absent {
        /// What kind of device was looked for.
        what: &'static str,
        /// What it had to match.
        wanted: DeviceMatch,
    },
    /// It is there but the driver could not open it.
    Driver(E),
}

impl<E: fmt::Display> fmt::Display for OpenError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Absent { what, wanted } => {
                write!(f, "no {what} matching {wanted} is plugged in")
            }
            OpenError::Driver(e) => e.fmt(f),
        }
    }
}

impl<E: kassa_hal::Error> kassa_hal::Error for OpenError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            OpenError::Absent { .. } => ErrorKind::Disconnected,
            OpenError::Driver(e) => e.kind(),
        }
    }
}

/// Finds a USB scanner's node and waits for udev between attempts.
struct Finder {
    wanted: DeviceMatch,
    /// `None` for a fixed path, or when udev cannot be listened to.
    monitor: Option<HotplugMonitor>,
    what: String,
}

impl Finder {
    fn new(wanted: DeviceMatch, what: &str) -> Finder {
        let monitor = match wanted {
            DeviceMatch::Path(_) => None,
            _ => match HotplugMonitor::new() {
                Ok(m) => Some(m),
                Err(e) => {
                    warn!(
                        "{what}: cannot listen to udev ({e}); a scanner plugged in later is found by retrying"
                    );
                    None
                }
            },
        };
        Finder {
            wanted,
            monitor,
            what: what.into(),
        }
    }

    fn find<E>(
        &self,
        what: &'static str,
        discover: impl Fn(&DeviceMatch) -> Option<PathBuf>,
    ) -> Result<PathBuf, OpenError<E>> {
        match &self.wanted {
            DeviceMatch::Path(p) => Some(p.clone()),
            wanted => discover(wanted),
        }
        .ok_or_else(|| OpenError::Absent {
            what,
            wanted: self.wanted.clone(),
        })
    }

    /// Waits before looking again: until udev reports a device coming or
    /// going when the device was simply absent, not at all when a
    /// discovered device went away (it may be back already), after the
    /// backoff otherwise (or when udev cannot be listened to).
    fn pause(&mut self, why: Pause, backoff: &mut Backoff, stop: &AtomicBool) -> bool {
        let discovered = !matches!(self.wanted, DeviceMatch::Path(_));
        let total = match why {
            Pause::Lost if discovered => return sleep_unless_stopped(stop, Duration::ZERO),
            Pause::Absent if self.monitor.is_some() => HOTPLUG_WAIT,
            _ => backoff.next_wait(),
        };
        let Some(m) = self.monitor.as_mut() else {
            return sleep_unless_stopped(stop, total);
        };
        let step = Duration::from_millis(100);
        let mut left = total;
        while !left.is_zero() {
            if !sleep_unless_stopped(stop, Duration::ZERO) {
                return false;
            }
            let now = left.min(step);
            match m.wait(now) {
                Ok(true) => return sleep_unless_stopped(stop, Duration::ZERO),
                Ok(false) => left = left.saturating_sub(now),
                Err(e) => {
                    warn!(
                        "{}: udev monitor failed, retrying without it: {e}",
                        self.what
                    );
                    self.monitor = None;
                    return sleep_unless_stopped(stop, left);
                }
            }
        }
        sleep_unless_stopped(stop, Duration::ZERO)
    }
}

/// Opens a keyboard-wedge scanner, found by its settings.
pub struct WedgeOpen {
    settings: WedgeSettings,
    finder: Finder,
}

impl WedgeOpen {
    /// An opener for `settings`; `what` names it in log lines.
    pub fn new(settings: WedgeSettings, what: &str) -> WedgeOpen {
        WedgeOpen {
            finder: Finder::new(settings.device.clone(), what),
            settings,
        }
    }
}

impl Open for WedgeOpen {
    type Device = WedgeScanner;
    type Error = OpenError<kassa_drivers::wedge::linux::OpenError>;

    fn open(&mut self) -> Result<WedgeScanner, Self::Error> {
        let path = self.finder.find("input device", |wanted| {
            select_input(&input_nodes(Path::new(SYS)), wanted).map(|n| n.devnode.clone())
        })?;
        let scanner = WedgeScanner::open(
            &path,
            self.settings.grab,
            &self.settings.layout,
            self.settings.decoder.clone(),
        )
        .map_err(OpenError::Driver)?;
        if scanner.is_grabbed() {
            debug!("{}: {} grabbed", self.finder.what, path.display());
        }
        Ok(scanner)
    }

    fn pause(&mut self, why: Pause, backoff: &mut Backoff, stop: &AtomicBool) -> bool {
        self.finder.pause(why, backoff, stop)
    }
}

/// Opens a HID POS scanner, found by its settings.
pub struct HidPosOpen {
    finder: Finder,
}

impl HidPosOpen {
    /// An opener for `settings`; `what` names it in log lines.
    pub fn new(settings: HidPosSettings, what: &str) -> HidPosOpen {
        HidPosOpen {
            finder: Finder::new(settings.device, what),
        }
    }
}

impl Open for HidPosOpen {
    type Device = HidrawDevice;
    type Error = OpenError<kassa_drivers::hidpos::linux::OpenError>;

    fn open(&mut self) -> Result<HidrawDevice, Self::Error> {
        let path = self.finder.find("HID POS device", |wanted| {
            select_hidraw(&hidraw_nodes(Path::new(SYS)), wanted).map(|n| n.devnode.clone())
        })?;
        HidrawDevice::open(&path, Path::new(SYS)).map_err(OpenError::Driver)
    }

    fn pause(&mut self, why: Pause, backoff: &mut Backoff, stop: &AtomicBool) -> bool {
        self.finder.pause(why, backoff, stop)
    }
}
