//! Finding USB scanners on Linux, and noticing when they come and go.
//!
//! Discovery reads sysfs (`/sys/class/input`, `/sys/class/hidraw`): every
//! input device and HID device publishes its name and ids there, whether it
//! came from USB, uinput or uhid. The sysfs root is a parameter, so the
//! tests build a tree of their own. Hot-plug is a libudev monitor: the
//! worker sleeps on its socket and looks again when udev says a device was
//! added or removed — no polling.

use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{UsbId, known_scanner};

/// Which device a scanner is, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceMatch {
    /// A device node or a link to one (`/dev/input/by-id/…`,
    /// `/dev/kassa/…`). Taken whatever it is: the integrator named it.
    Path(PathBuf),
    /// A USB vendor:product pair.
    UsbId(UsbId),
    /// The device's name as the kernel reports it (`evtest` shows it),
    /// exactly.
    Name(String),
    /// Any scanner on kassa's list of known models.
    Known,
}

impl std::fmt::Display for DeviceMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceMatch::Path(p) => write!(f, "{}", p.display()),
            DeviceMatch::UsbId(id) => write!(f, "usb id {id}"),
            DeviceMatch::Name(n) => write!(f, "device name {n:?}"),
            DeviceMatch::Known => f.write_str("any known scanner"),
        }
    }
}

/// Bus type of the PC's own keyboard controller (`BUS_I8042`).
pub const BUS_I8042: u16 = 0x11;

/// An input event device as sysfs describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputNode {
    /// `/dev/input/eventN`.
    pub devnode: PathBuf,
    /// The device's name.
    pub name: String,
    /// Its vendor:product.
    pub id: UsbId,
    /// Its bus type (`BUS_USB` 3, `BUS_VIRTUAL` 6, `BUS_I8042` 0x11).
    pub bustype: u16,
    /// Whether it has the keys a scanner types (digits and Enter).
    pub types_digits: bool,
}

/// A hidraw device as sysfs describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HidrawNode {
    /// `/dev/hidrawN`.
    pub devnode: PathBuf,
    /// The HID device's name.
    pub name: String,
    /// Its vendor:product.
    pub id: UsbId,
    /// Its report descriptor.
    pub descriptor: Vec<u8>,
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim_end_matches('\n').to_string())
}

fn hex16(text: Option<String>) -> Option<u16> {
    u16::from_str_radix(text?.trim(), 16).ok()
}

/// Whether an input device's `capabilities/key` bitmap (hex words, most
/// significant first, each a `long`) has KEY_1 … KEY_0 and KEY_ENTER.
pub fn has_scanner_keys(bitmap: &str) -> bool {
    let words: Vec<u64> = bitmap
        .split_whitespace()
        .rev()
        .filter_map(|w| u64::from_str_radix(w, 16).ok())
        .collect();
    let bits = usize::BITS as usize;
    let has = |code: usize| {
        words
            .get(code / bits)
            .is_some_and(|w| w >> (code % bits) & 1 == 1)
    };
    (2..=11).all(has) && has(28)
}

fn event_nodes(sys: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sys.join("class/input"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("event"))
        .collect();
    names.sort_by_key(|n| n[5..].parse::<u32>().unwrap_or(u32::MAX));
    names
}

/// Every input event device under `sys` (normally `/sys`).
pub fn input_nodes(sys: &Path) -> Vec<InputNode> {
    event_nodes(sys)
        .into_iter()
        .filter_map(|event| {
            let dev = sys.join("class/input").join(&event).join("device");
            Some(InputNode {
                devnode: Path::new("/dev/input").join(&event),
                name: read_trimmed(&dev.join("name")).unwrap_or_default(),
                id: UsbId {
                    vendor: hex16(read_trimmed(&dev.join("id/vendor")))?,
                    product: hex16(read_trimmed(&dev.join("id/product")))?,
                },
                bustype: hex16(read_trimmed(&dev.join("id/bustype"))).unwrap_or(0),
                types_digits: has_scanner_keys(
                    &read_trimmed(&dev.join("capabilities/key")).unwrap_or_default(),
                ),
            })
        })
        .collect()
}

/// Every hidraw device under `sys`.
pub fn hidraw_nodes(sys: &Path) -> Vec<HidrawNode> {
    let mut names: Vec<String> = std::fs::read_dir(sys.join("class/hidraw"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|raw| {
            let dev = sys.join("class/hidraw").join(&raw).join("device");
            let uevent = read_trimmed(&dev.join("uevent")).unwrap_or_default();
            let field = |key: &str| {
                uevent
                    .lines()
                    .find_map(|l| l.strip_prefix(key).map(str::to_string))
            };
            // HID_ID=0003:000005E0:00001200 (bus, vendor, product).
            let hid_id = field("HID_ID=")?;
            let mut parts = hid_id.split(':').skip(1);
            let vendor = u32::from_str_radix(parts.next()?, 16).ok()?;
            let product = u32::from_str_radix(parts.next()?, 16).ok()?;
            Some(HidrawNode {
                devnode: Path::new("/dev").join(&raw),
                name: field("HID_NAME=").unwrap_or_default(),
                id: UsbId {
                    vendor: u16::try_from(vendor).ok()?,
                    product: u16::try_from(product).ok()?,
                },
                descriptor: std::fs::read(dev.join("report_descriptor")).unwrap_or_default(),
            })
        })
        .collect()
}

/// The wedge scanner `wanted` names among `nodes`.
///
/// By id, name or the known list, only devices that type digits and Enter
/// are taken, and never the PC's own keyboard controller (i8042): a scanner
/// often shows up as several input devices (keyboard, consumer keys), and
/// a till's real keyboard must never be grabbed by mistake. A path is taken
/// as it is.
pub fn select_input<'a>(nodes: &'a [InputNode], wanted: &DeviceMatch) -> Option<&'a InputNode> {
    let scanner_like = |n: &&InputNode| n.types_digits && n.bustype != BUS_I8042;
    match wanted {
        DeviceMatch::Path(path) => {
            let real = std::fs::canonicalize(path).ok()?;
            nodes.iter().find(|n| n.devnode == real)
        }
        DeviceMatch::UsbId(id) => nodes.iter().filter(scanner_like).find(|n| n.id == *id),
        DeviceMatch::Name(name) => nodes
            .iter()
            .filter(|n| n.types_digits)
            .find(|n| n.name == *name),
        DeviceMatch::Known => nodes
            .iter()
            .filter(scanner_like)
            .find(|n| known_scanner(n.id).is_some()),
    }
}

/// The HID POS scanner `wanted` names among `nodes`: only devices whose
/// report descriptor has a barcode report, except by path.
pub fn select_hidraw<'a>(nodes: &'a [HidrawNode], wanted: &DeviceMatch) -> Option<&'a HidrawNode> {
    let pos = |n: &&HidrawNode| crate::hidpos::descriptor::parse(&n.descriptor).is_ok();
    match wanted {
        DeviceMatch::Path(path) => {
            let real = std::fs::canonicalize(path).ok()?;
            nodes.iter().find(|n| n.devnode == real)
        }
        DeviceMatch::UsbId(id) => nodes.iter().filter(pos).find(|n| n.id == *id),
        DeviceMatch::Name(name) => nodes.iter().filter(pos).find(|n| n.name == *name),
        DeviceMatch::Known => nodes
            .iter()
            .filter(pos)
            .find(|n| known_scanner(n.id).is_some()),
    }
}

/// udev's word that input or hidraw devices came or went.
pub struct HotplugMonitor {
    socket: udev::MonitorSocket,
}

impl std::fmt::Debug for HotplugMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotplugMonitor").finish_non_exhaustive()
    }
}

impl HotplugMonitor {
    /// Listens for udev's events (after its rules ran, so device nodes
    /// have their permissions and links) on the input and hidraw
    /// subsystems.
    ///
    /// # Errors
    ///
    /// When the netlink socket cannot be opened (no udev in a container).
    pub fn new() -> io::Result<HotplugMonitor> {
        let socket = udev::MonitorBuilder::new()?
            .match_subsystem("input")?
            .match_subsystem("hidraw")?
            .listen()?;
        Ok(HotplugMonitor { socket })
    }

    /// Waits up to `timeout` for devices to come or go; true if any did.
    /// Drains everything pending, so one plug-in wakes the caller once.
    ///
    /// # Errors
    ///
    /// When polling the socket fails.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
        let ready = match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(n) => n > 0,
            Err(nix::errno::Errno::EINTR) => false,
            Err(e) => return Err(e.into()),
        };
        let mut any = false;
        if ready {
            for _event in self.socket.iter() {
                any = true;
            }
        }
        Ok(any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes one input device into a fake sysfs tree.
    fn input(
        sys: &Path,
        event: &str,
        name: &str,
        bus: &str,
        vendor: &str,
        product: &str,
        keys: &str,
    ) {
        let dev = sys.join("class/input").join(event).join("device");
        std::fs::create_dir_all(dev.join("id")).unwrap();
        std::fs::create_dir_all(dev.join("capabilities")).unwrap();
        std::fs::write(dev.join("name"), format!("{name}\n")).unwrap();
        std::fs::write(dev.join("id/bustype"), format!("{bus}\n")).unwrap();
        std::fs::write(dev.join("id/vendor"), format!("{vendor}\n")).unwrap();
        std::fs::write(dev.join("id/product"), format!("{product}\n")).unwrap();
        std::fs::write(dev.join("capabilities/key"), format!("{keys}\n")).unwrap();
    }

    // capabilities/key of a full keyboard (the i8042 one of a PC and a
    // keyboard-mode scanner look alike) and of a consumer-keys device.
    const KEYBOARD: &str = "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe";
    const CONSUMER: &str = "1 0 0 0 0 0 0 0";

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path();
        input(
            sys,
            "event0",
            "AT Translated Set 2 keyboard",
            "0011",
            "0001",
            "0001",
            KEYBOARD,
        );
        input(
            sys,
            "event1",
            "vivid-000-keyboard",
            "0006",
            "0000",
            "0000",
            KEYBOARD,
        );
        input(
            sys,
            "event2",
            "Symbol Technologies Consumer Control",
            "0003",
            "05e0",
            "1200",
            CONSUMER,
        );
        input(
            sys,
            "event10",
            "Symbol Technologies Bar Code Scanner",
            "0003",
            "05e0",
            "1200",
            KEYBOARD,
        );
        dir
    }

    #[test]
    fn key_bitmaps_are_read_word_by_word() {
        assert!(has_scanner_keys(KEYBOARD));
        assert!(!has_scanner_keys(CONSUMER));
        assert!(!has_scanner_keys(""));
        // Digits and Enter only, in the lowest word: bits 2..=11 and 28.
        assert!(has_scanner_keys(&format!("{:x}", 0x1000_0ffc_u64)));
        assert!(!has_scanner_keys(&format!("{:x}", 0x0000_0ffc_u64)));
    }

    #[test]
    fn known_scanners_are_found_and_keyboards_are_not() {
        let dir = tree();
        let nodes = input_nodes(dir.path());
        assert_eq!(nodes.len(), 4);
        assert_eq!(nodes[3].devnode, Path::new("/dev/input/event10"));
        let found = select_input(&nodes, &DeviceMatch::Known).unwrap();
        assert_eq!(found.name, "Symbol Technologies Bar Code Scanner");
        let by_id = DeviceMatch::UsbId(UsbId::parse("05e0:1200").unwrap());
        assert_eq!(select_input(&nodes, &by_id), Some(found));
        // Neither the PC's keyboard nor vivid's is anybody's scanner …
        for n in &nodes[..2] {
            assert!(!std::ptr::eq(
                select_input(&nodes, &DeviceMatch::Known).unwrap(),
                n
            ));
        }
        let i8042 = DeviceMatch::UsbId(UsbId::parse("0001:0001").unwrap());
        assert_eq!(select_input(&nodes, &i8042), None);
        assert_eq!(select_input(&nodes[..2], &DeviceMatch::Known), None);
        // … unless named explicitly.
        let named = DeviceMatch::Name("AT Translated Set 2 keyboard".into());
        assert_eq!(
            select_input(&nodes, &named).unwrap().devnode,
            Path::new("/dev/input/event0")
        );
    }

    #[test]
    fn hidraw_nodes_need_a_barcode_report_unless_named_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let dev = dir.path().join("class/hidraw/hidraw0/device");
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::write(
            dev.join("uevent"),
            "DRIVER=hid-generic\nHID_ID=0003:00001EAB:00001310\nHID_NAME=Newland HID POS\n",
        )
        .unwrap();
        // Bar Code Scanner page, 4 bytes of Decoded Data.
        let pos = [
            0x05, 0x8C, 0x09, 0x02, 0xA1, 0x01, 0x75, 0x08, 0x95, 0x04, 0x09, 0xFE, 0x81, 0x02,
            0xC0,
        ];
        std::fs::write(dev.join("report_descriptor"), pos).unwrap();
        let nodes = hidraw_nodes(dir.path());
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].id, UsbId::parse("1eab:1310").unwrap());
        assert_eq!(nodes[0].name, "Newland HID POS");
        assert!(select_hidraw(&nodes, &DeviceMatch::Known).is_some());
        std::fs::write(dev.join("report_descriptor"), [0x05, 0x01, 0x09, 0x06]).unwrap();
        let nodes = hidraw_nodes(dir.path());
        assert!(select_hidraw(&nodes, &DeviceMatch::Known).is_none());
    }
}
