//! `kassa-vm-guest CHECK...`: device checks that run as root inside the VM of
//! `scripts/vm/run-guest` (a Debian kernel with uinput, uhid, evdev, hidraw
//! and a running systemd-udevd), against the real kernel interfaces.
//!
//! Prints one line per check (`ok   NAME: detail` or `FAIL NAME: reason`)
//! and exits 0 only if every named check passed. `all` runs every check,
//! `--list` names them. To add a check: write a `fn(&Rig) -> Outcome` below
//! and give it a line in [`CHECKS`]. docs/vm-tests.md has the details.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use evdev::raw_stream::RawDevice;
use evdev::uinput::VirtualDevice;
use evdev::{AttributeSet, BusType, EventType, InputEvent, InputId, KeyCode};
use kassa_drivers::camera::v4l2::{PixelFormat, V4l2Camera, V4l2Config};
use kassa_drivers::camera::{CameraScanner, CaptureStats, Frame, PipelineConfig};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// What a check found: a one-line detail on success, the reason on failure.
type Outcome = Result<String, String>;

/// Context shared by the checks (room to grow: e.g. a path to kassad).
struct Rig {
    /// How long a check waits for the kernel or udev to act.
    patience: Duration,
}

/// A check's function.
type Check = fn(&Rig) -> Outcome;

/// Every check: name, what it proves, the function.
const CHECKS: &[(&str, &str, Check)] = &[
    (
        "uinput",
        "a uinput keyboard 05e0:1200 types a code, read back (grabbed) through evdev",
        check_uinput,
    ),
    (
        "uhid",
        "a uhid HID POS scanner (usage page 0x8C) delivers a report through hidraw",
        check_uhid,
    ),
    (
        "udev",
        "systemd-udevd applies rules and a libudev-style monitor sees add/remove",
        check_udev,
    ),
    (
        "wedge",
        "kassa's wedge driver reads a uinput scanner in us and fr through evdev, grabbed",
        check_wedge,
    ),
    (
        "links",
        "udev/70-kassa-scanners.rules: group kassad, libinput ignores, /dev/kassa/ links",
        check_links,
    ),
    (
        "hotplug",
        "kassa's udev monitor and discovery see a scanner come and go within 1 s",
        check_hotplug,
    ),
    (
        "kassad",
        "kassad's own wedge worker opens a scanner plugged in after start, reads it, sees it pulled and plugged again, each within 1 s",
        check_kassad_hotplug,
    ),
    (
        "passthrough",
        "kassad types an unclaimed product code from a grabbed uinput scanner on its virtual keyboard, in us and fr, and never the payment code",
        check_passthrough,
    ),
    (
        "layout",
        "kassactl detect-layout's path: a uinput scanner types the test code in fr; its raw keys, read grabbed, read back as fr, not us or de",
        check_layout,
    ),
    (
        "hidpos",
        "kassa's hidpos driver decodes a uhid scanner's report from hidraw, with symbology",
        check_hidpos,
    ),
    (
        "v4l2",
        "the vivid test camera streams YUYV luma frames of the asked size, seq rising, through kassa's capture code; closed when disarmed",
        check_v4l2,
    ),
    (
        "serial",
        "kassad's serial workers read a scanner and drive a pole display over ptys; a hang-up is seen",
        check_serial,
    ),
    (
        "privusers",
        "as in PrivateUsers=yes: user kassad in a user namespace still opens its group-owned event, hidraw, tty and video nodes and hears udev",
        check_privusers,
    ),
    (
        "i2c",
        "kassad's LCD worker opens an I2C bus (i2c-stub, loaded by scripts/vm/trace-syscalls) and writes to it",
        check_i2c,
    ),
];

/// The scanner the checks pretend to be: Zebra/Symbol's vendor:product.
const SCANNER_VENDOR: u16 = 0x05e0;
const SCANNER_PRODUCT: u16 = 0x1200;
/// The barcode typed and sent (an EAN-13).
const CODE: &str = "4006381333931";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        eprintln!("usage: kassa-vm-guest CHECK... | all | --list");
        return if args.is_empty() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    if args.iter().any(|a| a == "--list") {
        for (name, what, _) in CHECKS {
            println!("{name:8} {what}");
        }
        return ExitCode::SUCCESS;
    }
    let mut wanted: Vec<&str> = Vec::new();
    for arg in &args {
        if arg == "all" {
            wanted.extend(CHECKS.iter().map(|(name, _, _)| *name));
        } else if CHECKS.iter().any(|(name, _, _)| name == arg) {
            wanted.push(arg);
        } else {
            eprintln!("kassa-vm-guest: no check named {arg:?} (--list names them)");
            return ExitCode::from(2);
        }
    }
    let rig = Rig {
        patience: Duration::from_secs(10),
    };
    let mut failed = 0;
    for name in &wanted {
        let Some((_, _, check)) = CHECKS.iter().find(|(n, _, _)| n == name) else {
            continue;
        };
        let started = Instant::now();
        // A panicking check fails alone; the others still run.
        let outcome = std::panic::catch_unwind(|| check(&rig))
            .unwrap_or_else(|_| Err("panicked (see above)".to_string()));
        let ms = started.elapsed().as_millis();
        match outcome {
            Ok(detail) => println!("ok   {name}: {detail} ({ms} ms)"),
            Err(reason) => {
                failed += 1;
                println!("FAIL {name}: {reason} ({ms} ms)");
            }
        }
    }
    println!(
        "kassa-vm-guest: {} passed, {failed} failed",
        wanted.len() - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

// ---- helpers ----------------------------------------------------------------

/// Polls `probe` every 10 ms until it yields a value or `patience` runs out.
fn wait_for<T>(
    patience: Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {patience:?} waiting for {what}"));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `fd` is readable; false on timeout.
fn readable(fd: &impl AsFd, patience: Duration) -> Result<bool, String> {
    let ms = u16::try_from(patience.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(ms)) {
        Ok(n) => Ok(n > 0),
        Err(e) => Err(format!("poll: {e}")),
    }
}

fn err(what: &str) -> impl FnOnce(io::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The evdev key code that types `c` on a US layout (digits and Enter only).
fn key_for(c: char) -> Option<KeyCode> {
    Some(match c {
        '1' => KeyCode::KEY_1,
        '2' => KeyCode::KEY_2,
        '3' => KeyCode::KEY_3,
        '4' => KeyCode::KEY_4,
        '5' => KeyCode::KEY_5,
        '6' => KeyCode::KEY_6,
        '7' => KeyCode::KEY_7,
        '8' => KeyCode::KEY_8,
        '9' => KeyCode::KEY_9,
        '0' => KeyCode::KEY_0,
        '\n' => KeyCode::KEY_ENTER,
        _ => return None,
    })
}

fn char_for(key: KeyCode) -> Option<char> {
    "1234567890\n".chars().find(|&c| key_for(c) == Some(key))
}

/// A uinput keyboard that claims to be the scanner, and its evdev node.
struct VirtualScanner {
    device: VirtualDevice,
    /// `eventN`
    event: String,
}

impl VirtualScanner {
    fn create(rig: &Rig, name: &str) -> Result<VirtualScanner, String> {
        // The keys of a boot-protocol keyboard, KEY_ESC up to KEY_F12, as
        // scanners in keyboard mode declare them; udev's input_id then
        // classes the device as a keyboard (ID_INPUT_KEYBOARD=1).
        let mut keys = AttributeSet::<KeyCode>::new();
        // … and the right-hand modifiers, AltGr among them (KEY_RIGHTALT).
        for code in (1..=88).chain(96..=100) {
            keys.insert(KeyCode::new(code));
        }
        let mut device = VirtualDevice::builder()
            .map_err(err("open /dev/uinput"))?
            .name(name)
            .input_id(InputId::new(
                BusType::BUS_USB,
                SCANNER_VENDOR,
                SCANNER_PRODUCT,
                1,
            ))
            .with_keys(&keys)
            .map_err(err("UI_SET_KEYBIT"))?
            .build()
            .map_err(err("UI_DEV_CREATE"))?;
        let syspath = device.get_syspath().map_err(err("UI_GET_SYSNAME"))?;
        // The evdev handler's child of /sys/devices/virtual/input/inputN.
        let event = wait_for(rig.patience, "the uinput device's eventN in sysfs", || {
            fs::read_dir(&syspath).ok()?.flatten().find_map(|e| {
                let n = e.file_name().into_string().ok()?;
                n.starts_with("event").then_some(n)
            })
        })?;
        let id = |attr: &str| {
            fs::read_to_string(syspath.join("id").join(attr)).map(|s| s.trim().to_string())
        };
        let (vendor, product) = (id("vendor"), id("product"));
        if vendor.as_deref().ok() != Some("05e0") || product.as_deref().ok() != Some("1200") {
            return Err(format!(
                "sysfs says {vendor:?}:{product:?} for {}, not 05e0:1200",
                syspath.display()
            ));
        }
        Ok(VirtualScanner { device, event })
    }

    fn node(&self) -> PathBuf {
        Path::new("/dev/input").join(&self.event)
    }

    fn type_text(&mut self, text: &str) -> Result<(), String> {
        for key in text.chars().filter_map(key_for) {
            for value in [1, 0] {
                self.device
                    .emit(&[InputEvent::new(EventType::KEY.0, key.code(), value)])
                    .map_err(err("write to uinput"))?;
            }
        }
        Ok(())
    }
}

// ---- uinput -----------------------------------------------------------------

fn check_uinput(rig: &Rig) -> Outcome {
    let mut scanner = VirtualScanner::create(rig, "kassa-vm scanner (uinput)")?;
    let node = scanner.node();
    wait_for(rig.patience, "the evdev node", || {
        node.exists().then_some(())
    })?;
    let mut input = RawDevice::open(&node).map_err(err("open the evdev node"))?;
    input.grab().map_err(err("EVIOCGRAB"))?;
    scanner.type_text(&format!("{CODE}\n"))?;
    let mut got = String::new();
    let deadline = Instant::now() + rig.patience;
    while !got.ends_with('\n') {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(&input, left)? {
            return Err(format!("read {got:?} before the reads timed out"));
        }
        for event in input.fetch_events().map_err(err("read evdev"))? {
            if event.event_type() == EventType::KEY && event.value() == 1 {
                got.push(char_for(KeyCode::new(event.code())).unwrap_or('?'));
            }
        }
    }
    input.ungrab().map_err(err("EVIOCGRAB release"))?;
    if got.trim_end() != CODE {
        return Err(format!("typed {CODE:?}, read {got:?}"));
    }
    Ok(format!(
        "{} typed and read back {CODE}+Enter",
        node.display()
    ))
}

// ---- uhid -------------------------------------------------------------------

/// `struct uhid_event` is a u32 type and a packed union whose largest member
/// is `uhid_create2_req` (linux/uhid.h).
const UHID_EVENT_SIZE: usize = 4 + 128 + 64 + 64 + 2 + 2 + 4 * 4 + 4096;
const UHID_CREATE2: u32 = 11;
const UHID_INPUT2: u32 = 12;
const BUS_USB: u16 = 0x03;

/// A HID POS bar code scanner (HUT usage page 0x8C, usage 0x02) with one
/// input report, ID 2: three symbology identifier bytes (usages 0xFB-0xFD)
/// and 56 bytes of decoded data (0xFE), NUL-padded.
const HID_POS_DESCRIPTOR: &[u8] = &[
    0x06, 0x8C, 0x00, // Usage Page (Bar Code Scanner)
    0x09, 0x02, // Usage (Bar Code Scanner)
    0xA1, 0x01, // Collection (Application)
    0x09, 0x12, //   Usage (Scanned Data Report)
    0xA1, 0x02, //   Collection (Logical)
    0x85, 0x02, //     Report ID (2)
    0x15, 0x00, //     Logical Minimum (0)
    0x26, 0xFF, 0x00, //     Logical Maximum (255)
    0x75, 0x08, //     Report Size (8)
    0x19, 0xFB, //     Usage Minimum (Symbology Identifier 1)
    0x29, 0xFD, //     Usage Maximum (Symbology Identifier 3)
    0x95, 0x03, //     Report Count (3)
    0x81, 0x02, //     Input (Data, Var, Abs)
    0x09, 0xFE, //     Usage (Decoded Data)
    0x95, 0x38, //     Report Count (56)
    0x82, 0x02, 0x01, //     Input (Data, Var, Abs, Buffered Bytes)
    0xC0, //   End Collection
    0xC0, // End Collection
];
const HID_POS_REPORT_LEN: usize = 1 + 3 + 56;

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn uhid_create2(name: &str, uniq: &str) -> Vec<u8> {
    let mut ev = vec![0u8; UHID_EVENT_SIZE];
    put(&mut ev, 0, &UHID_CREATE2.to_ne_bytes());
    put(&mut ev, 4, name.as_bytes()); // name[128]
    put(&mut ev, 4 + 128, b"kassa-vm/uhid"); // phys[64]
    put(&mut ev, 4 + 192, uniq.as_bytes()); // uniq[64]
    let rd_size = HID_POS_DESCRIPTOR.len() as u16;
    put(&mut ev, 260, &rd_size.to_ne_bytes());
    put(&mut ev, 262, &BUS_USB.to_ne_bytes());
    put(&mut ev, 264, &u32::from(SCANNER_VENDOR).to_ne_bytes());
    put(&mut ev, 268, &u32::from(SCANNER_PRODUCT).to_ne_bytes());
    put(&mut ev, 272, &1u32.to_ne_bytes()); // version
    put(&mut ev, 276, &0u32.to_ne_bytes()); // country
    put(&mut ev, 280, HID_POS_DESCRIPTOR);
    ev
}

fn uhid_input2(report: &[u8]) -> Vec<u8> {
    let mut ev = vec![0u8; UHID_EVENT_SIZE];
    put(&mut ev, 0, &UHID_INPUT2.to_ne_bytes());
    put(&mut ev, 4, &(report.len() as u16).to_ne_bytes());
    put(&mut ev, 6, report);
    ev
}

/// One uhid event is one write(); a short write would be a broken event.
fn write_event(uhid: &mut File, ev: &[u8], what: &str) -> Result<(), String> {
    match uhid.write(ev) {
        Ok(n) if n == ev.len() => Ok(()),
        Ok(n) => Err(format!("{what}: short write ({n} of {} bytes)", ev.len())),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn check_uhid(rig: &Rig) -> Outcome {
    let (mut uhid, node) = uhid_scanner(rig, "uhid")?;
    let hidraw = node
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sys = Path::new("/sys/class/hidraw").join(&hidraw).join("device");
    let descriptor = fs::read(sys.join("report_descriptor")).map_err(err("report_descriptor"))?;
    if descriptor != HID_POS_DESCRIPTOR {
        return Err(format!(
            "the kernel holds another descriptor: {descriptor:02x?}"
        ));
    }
    let driver = fs::read_link(sys.join("driver"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut raw = File::open(&node).map_err(err("open the hidraw node"))?;

    let mut report = vec![0u8; HID_POS_REPORT_LEN];
    report[0] = 2;
    put(&mut report, 1, b"]E0");
    put(&mut report, 4, CODE.as_bytes());
    write_event(&mut uhid, &uhid_input2(&report), "UHID_INPUT2")?;
    if !readable(&raw, rig.patience)? {
        return Err("no report arrived on hidraw".to_string());
    }
    let mut got = vec![0u8; 256];
    let n = raw.read(&mut got).map_err(err("read hidraw"))?;
    got.truncate(n);
    if got != report {
        return Err(format!("sent {report:02x?}, hidraw read {got:02x?}"));
    }
    Ok(format!(
        "{} ({driver}) delivered report 2: ]E0 {CODE}",
        node.display()
    ))
}

// ---- udev -------------------------------------------------------------------

/// A netlink socket on udevd's multicast group: what a libudev monitor
/// (`udev_monitor_new_from_netlink(udev, "udev")`) reads, without libudev.
struct UdevMonitor {
    socket: OwnedFd,
}

/// One processed event as udevd broadcasts it to libudev monitors.
struct UdevEvent {
    properties: Vec<(String, String)>,
}

impl UdevEvent {
    fn get(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl UdevMonitor {
    fn open() -> Result<UdevMonitor, String> {
        use nix::sys::socket::{
            AddressFamily, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, socket,
        };
        const UDEV_GROUP: u32 = 2;
        let socket = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkKObjectUEvent,
        )
        .map_err(|e| format!("netlink socket: {e}"))?;
        bind(socket.as_raw_fd(), &NetlinkAddr::new(0, UDEV_GROUP))
            .map_err(|e| format!("bind to udev's netlink group: {e}"))?;
        Ok(UdevMonitor { socket })
    }

    /// The next event, or None on timeout. Messages that are not libudev's
    /// (`libudev\0` + magic 0xfeedcafe, big-endian) are skipped.
    fn next(&self, patience: Duration) -> Result<Option<UdevEvent>, String> {
        let deadline = Instant::now() + patience;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !readable(&self.socket, left)? {
                return Ok(None);
            }
            let n = nix::sys::socket::recv(
                self.socket.as_raw_fd(),
                &mut buf,
                nix::sys::socket::MsgFlags::empty(),
            )
            .map_err(|e| format!("recv: {e}"))?;
            if let Some(event) = parse_libudev(&buf[..n]) {
                return Ok(Some(event));
            }
        }
    }

    /// Waits for ACTION=`action` on DEVNAME=`devname`.
    fn expect(&self, action: &str, devname: &str, patience: Duration) -> Result<UdevEvent, String> {
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left)? {
                Some(ev)
                    if ev.get("ACTION") == Some(action) && ev.get("DEVNAME") == Some(devname) =>
                {
                    return Ok(ev);
                }
                Some(_) => continue,
                None => {
                    return Err(format!(
                        "no udev {action} event for {devname} within {patience:?}"
                    ));
                }
            }
        }
    }
}

fn parse_libudev(msg: &[u8]) -> Option<UdevEvent> {
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(msg.get(at..at + 4)?.try_into().ok()?))
    };
    if msg.get(..8)? != b"libudev\0" || msg.get(8..12)? != 0xfeed_cafe_u32.to_be_bytes() {
        return None;
    }
    let off = usize::try_from(u32_at(16)?).ok()?;
    let len = usize::try_from(u32_at(20)?).ok()?;
    let props = msg.get(off..off.checked_add(len)?)?;
    let properties = props
        .split(|&b| b == 0)
        .filter_map(|kv| {
            let kv = std::str::from_utf8(kv).ok()?;
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect();
    Some(UdevEvent { properties })
}

fn check_udev(rig: &Rig) -> Outcome {
    if !Path::new("/run/udev/control").exists() {
        return Err("systemd-udevd is not running (no /run/udev/control)".to_string());
    }
    let monitor = UdevMonitor::open()?;
    let scanner = VirtualScanner::create(rig, "kassa-vm scanner (udev)")?;
    let node = scanner.node();
    let devname = node.to_string_lossy().into_owned();
    let added = monitor.expect("add", &devname, rig.patience)?;
    // Set by systemd's 60-input-id.rules (input_id builtin): udevd ran the
    // rules before it told the monitors.
    if added.get("ID_INPUT_KEYBOARD") != Some("1") {
        return Err(format!(
            "the add event of {devname} lacks ID_INPUT_KEYBOARD=1"
        ));
    }
    // The harness's rule in /etc/udev/rules.d (where the repo's rules go).
    let link = Path::new("/dev/kassa-vm").join(format!("05e0-1200-{}", scanner.event));
    let target = wait_for(rig.patience, "the rule's symlink", || {
        fs::canonicalize(&link).ok()
    })?;
    if target != node {
        return Err(format!(
            "{} points to {}, not {devname}",
            link.display(),
            target.display()
        ));
    }
    let in_db = fs::read_to_string(format!("/run/udev/data/c{}", dev_numbers(&node)?))
        .map_err(err("udev database entry"))?;
    if !in_db.lines().any(|l| l == "E:ID_INPUT_KEYBOARD=1") {
        return Err("the udev database entry lacks ID_INPUT_KEYBOARD=1".to_string());
    }
    drop(scanner);
    monitor.expect("remove", &devname, rig.patience)?;
    wait_for(rig.patience, "the symlink to go", || {
        (!link.exists()).then_some(())
    })?;
    Ok(format!(
        "add ({devname}, ID_INPUT_KEYBOARD=1), {} -> {devname}, remove",
        link.display()
    ))
}

/// `MAJOR:MINOR` of a device node, from sysfs's `dev` beside its uevent.
fn dev_numbers(node: &Path) -> Result<String, String> {
    let name = node
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    fs::read_to_string(format!("/sys/class/input/{name}/dev"))
        .map(|s| s.trim().to_string())
        .map_err(err("the node's dev numbers"))
}

// ---- kassa's own drivers ----------------------------------------------------

use kassa_drivers::hidpos::linux::HidrawDevice;
use kassa_drivers::usb::linux::{
    DeviceMatch, HotplugMonitor, hidraw_nodes, input_nodes, select_hidraw, select_input,
};
use kassa_drivers::wedge::linux::{ReadError, WedgeDevice};
use kassa_drivers::wedge::{DecoderConfig, Keymap, LayoutName, WedgeDecoder};

/// An Alipay-style code with two letters in front, which AZERTY moves.
const WEDGE_CODE: &str = "az2812345678901234";

/// Key presses that type `text` on `layout` (`us` or `fr`), written from
/// the keyboards: on AZERTY a and z swap with q and w and digits need Shift.
fn keystrokes(layout: &str, text: &str) -> Vec<(KeyCode, bool)> {
    let digit = |c: char| key_for(c).unwrap_or(KeyCode::KEY_ENTER);
    text.chars()
        .map(|c| match (layout, c) {
            ("fr", 'a') => (KeyCode::KEY_Q, false),
            ("fr", 'z') => (KeyCode::KEY_W, false),
            ("fr", '0'..='9') => (digit(c), true),
            (_, 'a') => (KeyCode::KEY_A, false),
            (_, 'z') => (KeyCode::KEY_Z, false),
            _ => (digit(c), false),
        })
        .collect()
}

fn emit(scanner: &mut VirtualScanner, strokes: &[(KeyCode, bool)]) -> Result<(), String> {
    for &(key, shift) in strokes {
        let mut events = Vec::new();
        if shift {
            events.push(InputEvent::new(
                EventType::KEY.0,
                KeyCode::KEY_LEFTSHIFT.code(),
                1,
            ));
        }
        events.push(InputEvent::new(EventType::KEY.0, key.code(), 1));
        events.push(InputEvent::new(EventType::KEY.0, key.code(), 0));
        if shift {
            events.push(InputEvent::new(
                EventType::KEY.0,
                KeyCode::KEY_LEFTSHIFT.code(),
                0,
            ));
        }
        scanner
            .device
            .emit(&events)
            .map_err(err("write to uinput"))?;
    }
    Ok(())
}

/// Types `strokes` on another thread, one key a millisecond as a USB
/// scanner does (its reports come at the USB polling rate), while the
/// caller reads: evdev's buffer for a reader is a few dozen events, and a
/// burst nobody reads overflows it (SYN_DROPPED).
fn type_paced(
    mut scanner: VirtualScanner,
    strokes: Vec<(KeyCode, bool)>,
) -> thread::JoinHandle<(VirtualScanner, Result<(), String>)> {
    thread::spawn(move || {
        for stroke in strokes {
            if let Err(e) = emit(&mut scanner, &[stroke]) {
                return (scanner, Err(e));
            }
            thread::sleep(Duration::from_millis(1));
        }
        (scanner, Ok(()))
    })
}

fn decoder(layout: &str) -> Result<WedgeDecoder, String> {
    let keymap = Keymap::new(&LayoutName::new(layout)).map_err(|e| e.to_string())?;
    Ok(WedgeDecoder::new(keymap, DecoderConfig::default()))
}

/// Pumps `device` until a scan or an error comes out, or `patience` ends.
fn next_scan(
    device: &mut WedgeDevice,
    decoder: &mut WedgeDecoder,
    patience: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        device
            .pump(decoder, Duration::from_millis(50))
            .map_err(|e| e.to_string())?;
        if let Some(result) = decoder.pop() {
            let scan = result.map_err(|e| e.to_string())?;
            return Ok(String::from_utf8_lossy(&scan.data).into_owned());
        }
    }
    Err(format!("no scan within {patience:?}"))
}

/// Whether an un-grabbed reader of `node` sees any key event within `wait`.
fn sees_keys(reader: &mut RawDevice, wait: Duration) -> Result<bool, String> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(reader, left)? {
            return Ok(false);
        }
        match reader.fetch_events() {
            Ok(events) => {
                if events.into_iter().any(|e| e.event_type() == EventType::KEY) {
                    return Ok(true);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("second reader: {e}")),
        }
    }
}

/// The scanner node kassa's discovery picks (any known scanner), which
/// must be this uinput device and not the VM's i8042 keyboard.
fn discovered(rig: &Rig, scanner: &VirtualScanner) -> Result<PathBuf, String> {
    let node = scanner.node();
    wait_for(rig.patience, "discovery to find the scanner", || {
        let nodes = input_nodes(Path::new("/sys"));
        let found = select_input(&nodes, &DeviceMatch::Known)?.devnode.clone();
        (found == node && node.exists()).then_some(found)
    })
}

fn check_wedge(rig: &Rig) -> Outcome {
    let mut scanner = VirtualScanner::create(rig, "kassa-vm wedge scanner")?;
    let node = discovered(rig, &scanner)?;
    let keyboards = input_nodes(Path::new("/sys"))
        .into_iter()
        .filter(|n| n.types_digits && n.devnode != node)
        .map(|n| n.name)
        .collect::<Vec<_>>();
    let mut device = WedgeDevice::open(&node, true).map_err(|e| e.to_string())?;
    if !device.is_grabbed() {
        return Err("the device says it is not grabbed".into());
    }
    let mut other = RawDevice::open(&node).map_err(err("open a second reader"))?;
    let mut seen = Vec::new();
    for layout in ["us", "fr"] {
        let mut decoder = decoder(layout)?;
        let typing = type_paced(scanner, keystrokes(layout, &format!("{WEDGE_CODE}\n")));
        let got = next_scan(&mut device, &mut decoder, rig.patience);
        let (back, typed) = typing.join().map_err(|_| "typing thread panicked")?;
        scanner = back;
        typed?;
        let got = got?;
        if got != WEDGE_CODE {
            return Err(format!("{layout}: typed {WEDGE_CODE:?}, decoded {got:?}"));
        }
        seen.push(layout);
    }
    if sees_keys(&mut other, Duration::from_millis(300))? {
        return Err("a second reader saw keys while the grab was held".into());
    }
    drop(device);
    emit(&mut scanner, &keystrokes("us", "1\n"))?;
    if !sees_keys(&mut other, rig.patience)? {
        return Err("the second reader saw nothing after the grab was released".into());
    }
    Ok(format!(
        "{} decoded {WEDGE_CODE} in {}; a second reader saw nothing while grabbed, keys after Drop; other keyboards left alone: {keyboards:?}",
        node.display(),
        seen.join(" and ")
    ))
}

fn gid_of(group: &str) -> Result<u32, String> {
    let text = fs::read_to_string("/etc/group").map_err(err("/etc/group"))?;
    text.lines()
        .find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(group)).then(|| f.nth(1)?.parse().ok())?
        })
        .ok_or_else(|| format!("no group {group} in /etc/group"))
}

fn check_node(link: &Path, node: &Path, gid: u32, rig: &Rig) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let target = wait_for(rig.patience, "the /dev/kassa link", || {
        fs::canonicalize(link).ok()
    })?;
    if target != node {
        return Err(format!(
            "{} -> {}, not {}",
            link.display(),
            target.display(),
            node.display()
        ));
    }
    // Settle first: a link can show before the last of udevd's work.
    let _ = wait_for(rig.patience, "group kassad on the node", || {
        let meta = fs::metadata(node).ok()?;
        (meta.gid() == gid && meta.mode() & 0o777 == 0o660).then_some(())
    });
    let meta = fs::metadata(node).map_err(err("stat the node"))?;
    if meta.gid() != gid || meta.mode() & 0o777 != 0o660 {
        return Err(format!(
            "{} is gid {} mode {:o}, not group kassad ({gid}) 0660",
            node.display(),
            meta.gid(),
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

fn check_links(rig: &Rig) -> Outcome {
    // The service's own group owns the nodes; group kassa (the POS
    // programs') must not.
    let gid = gid_of("kassad")?;
    let scanner = VirtualScanner::create(rig, "kassa-vm links scanner")?;
    let node = scanner.node();
    check_node(Path::new("/dev/kassa/wedge-05e0-1200"), &node, gid, rig)?;
    // udevd makes the links before it writes the database entry.
    let db_path = format!("/run/udev/data/c{}", dev_numbers(&node)?);
    wait_for(
        rig.patience,
        "LIBINPUT_IGNORE_DEVICE=1 in the udev database",
        || {
            let db = fs::read_to_string(&db_path).ok()?;
            db.lines()
                .any(|l| l == "E:LIBINPUT_IGNORE_DEVICE=1")
                .then_some(())
        },
    )?;
    let (_uhid, hidraw) = uhid_scanner(rig, "pos")?;
    check_node(Path::new("/dev/kassa/hidraw-05e0-1200"), &hidraw, gid, rig)?;
    Ok(format!(
        "/dev/kassa/wedge-05e0-1200 -> {}, /dev/kassa/hidraw-05e0-1200 -> {}, both group kassad 0660; LIBINPUT_IGNORE_DEVICE=1",
        node.display(),
        hidraw.display()
    ))
}

fn check_hotplug(rig: &Rig) -> Outcome {
    let second = Duration::from_secs(1);
    let mut monitor = HotplugMonitor::new().map_err(err("udev monitor"))?;
    let plugged = Instant::now();
    let mut scanner = VirtualScanner::create(rig, "kassa-vm hotplug scanner")?;
    // What the wedge worker does: sleep on the monitor, then look.
    let node = loop {
        let left = second.saturating_sub(plugged.elapsed());
        if left.is_zero() {
            return Err("not found within 1 s of plugging in".into());
        }
        if monitor.wait(left).map_err(err("monitor"))? {
            let nodes = input_nodes(Path::new("/sys"));
            if let Some(n) = select_input(&nodes, &DeviceMatch::Known) {
                if n.devnode == scanner.node() && n.devnode.exists() {
                    break n.devnode.clone();
                }
            }
        }
    };
    let mut device = WedgeDevice::open(&node, true).map_err(|e| e.to_string())?;
    let found_in = plugged.elapsed();
    let mut decoder = decoder("us")?;
    emit(&mut scanner, &keystrokes("us", "42\n"))?;
    let got = next_scan(&mut device, &mut decoder, rig.patience)?;
    if got != "42" {
        return Err(format!("decoded {got:?}"));
    }
    let pulled = Instant::now();
    drop(scanner);
    let gone = loop {
        match device.pump(&mut decoder, Duration::from_millis(50)) {
            Err(ReadError::Disconnected) => break pulled.elapsed(),
            Err(e) => return Err(format!("read after unplug: {e}")),
            Ok(()) if pulled.elapsed() > second => {
                return Err("no disconnect within 1 s of unplugging".into());
            }
            Ok(()) => {}
        }
    };
    let removed = monitor.wait(second).map_err(err("monitor"))?;
    if !removed {
        return Err("udev reported no removal within 1 s".into());
    }
    Ok(format!(
        "{} opened {} ms after plug-in; disconnected {} ms after unplug, udev remove seen",
        node.display(),
        found_in.as_millis(),
        gone.as_millis()
    ))
}

/// A uhid HID POS scanner 05e0:1200 and its hidraw node, ready to read;
/// `tag` tells the checks' devices apart.
fn uhid_scanner(rig: &Rig, tag: &str) -> Result<(File, PathBuf), String> {
    let uniq = format!("kassa-vm-{tag}-{}", std::process::id());
    let mut uhid = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/uhid")
        .map_err(err("open /dev/uhid"))?;
    write_event(
        &mut uhid,
        &uhid_create2(&format!("kassa-vm HID POS scanner ({tag})"), &uniq),
        "UHID_CREATE2",
    )?;
    let hidraw = wait_for(rig.patience, "a hidraw node for the uhid device", || {
        fs::read_dir("/sys/class/hidraw")
            .ok()?
            .flatten()
            .find_map(|e| {
                let uevent = fs::read_to_string(e.path().join("device/uevent")).ok()?;
                let ours = uevent.lines().any(|l| l == format!("HID_UNIQ={uniq}"));
                ours.then(|| Path::new("/dev").join(e.file_name()))
            })
    })?;
    wait_for(rig.patience, "the hidraw node", || {
        hidraw.exists().then_some(())
    })?;
    Ok((uhid, hidraw))
}

fn check_hidpos(rig: &Rig) -> Outcome {
    let (mut uhid, node) = uhid_scanner(rig, "pos")?;
    let found = select_hidraw(&hidraw_nodes(Path::new("/sys")), &DeviceMatch::Known)
        .map(|n| n.devnode.clone())
        .ok_or("discovery found no HID POS scanner")?;
    if found != node {
        return Err(format!(
            "discovery found {}, not {}",
            found.display(),
            node.display()
        ));
    }
    let mut device = HidrawDevice::open(&node, Path::new("/sys")).map_err(|e| e.to_string())?;
    let mut report = vec![0u8; HID_POS_REPORT_LEN];
    report[0] = 2;
    put(&mut report, 1, b"]Q1");
    put(&mut report, 4, WEDGE_CODE.as_bytes());
    write_event(&mut uhid, &uhid_input2(&report), "UHID_INPUT2")?;
    let deadline = Instant::now() + rig.patience;
    let scan = loop {
        match kassa_hal::blocking::Scanner::poll_scan(&mut device, Duration::from_millis(50)) {
            Ok(Some(scan)) => break scan,
            Ok(None) if Instant::now() < deadline => {}
            Ok(None) => return Err("no scan from hidraw".into()),
            Err(e) => return Err(format!("read: {e} ({})", kassa_hal::Error::kind(&e))),
        }
    };
    let data = String::from_utf8_lossy(&scan.data).into_owned();
    if data != WEDGE_CODE || scan.symbology != kassa_hal::Symbology::Qr {
        return Err(format!("decoded {data:?} as {}", scan.symbology));
    }
    Ok(format!(
        "{} decoded {data} as {} ({} data bytes a report, from the descriptor)",
        node.display(),
        scan.symbology,
        device.decoder().layout().data.len()
    ))
}

// ---- v4l2 (vivid) -------------------------------------------------------------

/// Captures `count` frames from `config` through the camera scanner (the
/// capture thread and newest-frame slot kassad uses) and checks them.
fn capture_frames(
    rig: &Rig,
    config: &V4l2Config,
    count: usize,
) -> Result<(Vec<Frame>, CaptureStats, Duration), String> {
    let mut scanner =
        CameraScanner::new(V4l2Camera::new(config.clone()), PipelineConfig::default());
    scanner.set_armed(true).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut frames: Vec<Frame> = Vec::new();
    let deadline = started + rig.patience * 4;
    while frames.len() < count {
        if Instant::now() > deadline {
            return Err(format!(
                "only {} frames within {:?}",
                frames.len(),
                rig.patience * 4
            ));
        }
        if let Some(frame) = scanner
            .newest_frame(Duration::from_millis(500))
            .map_err(|e| e.to_string())?
        {
            frames.push(frame);
        }
    }
    let elapsed = started.elapsed();
    let stats = scanner.stats();
    scanner.set_armed(false).map_err(|e| e.to_string())?;
    Ok((frames, stats, elapsed))
}

fn check_v4l2(rig: &Rig) -> Outcome {
    let node = Path::new("/dev/video0");
    wait_for(rig.patience, "/dev/video0 (vivid)", || {
        node.exists().then_some(())
    })?;
    let config = V4l2Config {
        path: node.into(),
        width: 640,
        height: 360,
        fps: 30,
        format: PixelFormat::Yuyv,
    };
    let (frames, stats, elapsed) = capture_frames(rig, &config, 8)?;
    // Newest frames only: the sequence never goes back and moves on over
    // the run. Two frames in a row may carry the same number: vivid
    // stamps its buffers from the kernel's clock, and on a loaded TCG
    // guest its thread can fill two buffers within one frame period
    // (seen as "1 -> 1").
    for pair in frames.windows(2) {
        if pair[1].seq < pair[0].seq {
            return Err(format!("seq went back {} -> {}", pair[0].seq, pair[1].seq));
        }
    }
    if let (Some(first), Some(last)) = (frames.first(), frames.last())
        && last.seq <= first.seq
    {
        return Err(format!(
            "seq stayed at {} over {} frames",
            first.seq,
            frames.len()
        ));
    }
    for frame in &frames {
        if (frame.width, frame.height, frame.stride) != (640, 360, 640)
            || frame.luma.len() != 640 * 360
        {
            return Err(format!(
                "frame {}x{} stride {} with {} bytes, not 640x360 luma",
                frame.width,
                frame.height,
                frame.stride,
                frame.luma.len()
            ));
        }
    }
    // vivid draws a test pattern: a frame of one grey is not luma.
    let first = &frames[0].luma;
    let (min, max) = (first.iter().min(), first.iter().max());
    if min == max {
        return Err(format!("a flat frame ({min:?}): luma not extracted"));
    }
    // Closed when disarmed: it opens again at once, not busy.
    let (_, _, _) = capture_frames(
        rig,
        &V4l2Config {
            format: PixelFormat::Auto,
            ..config.clone()
        },
        2,
    )?;
    // MJPEG: vivid offers no compressed format, so asking for it is a
    // named error listing what it offers.
    let mjpeg = match capture_frames(
        rig,
        &V4l2Config {
            format: PixelFormat::Mjpeg,
            ..config
        },
        2,
    ) {
        Ok(_) => "MJPEG offered and captured".to_string(),
        Err(e) if e.contains("format mjpeg is not offered") => {
            "MJPEG not offered (vivid has no compressed formats; asking for it is a named error)"
                .to_string()
        }
        Err(e) => return Err(format!("mjpeg: {e}")),
    };
    Ok(format!(
        "8 YUYV frames 640x360, seq {}..{}, {:.1} frames/s delivered to the consumer, {} captured, {} dropped as stale; {mjpeg}",
        frames[0].seq,
        frames[frames.len() - 1].seq,
        frames.len() as f64 / elapsed.as_secs_f64(),
        stats.captured,
        stats.dropped
    ))
}

// ---- kassad's device layer ---------------------------------------------------

/// Polls a device's status until `want` holds, up to `limit`; how long it took.
fn status_within(
    status: &tokio::sync::watch::Receiver<kassa_daemon::devices::DeviceStatus>,
    limit: Duration,
    what: &str,
    want: impl Fn(&kassa_daemon::devices::DeviceStatus) -> bool,
) -> Result<Duration, String> {
    let since = Instant::now();
    while !want(&status.borrow()) {
        if since.elapsed() > limit {
            return Err(format!(
                "{what}: not within {limit:?}; status {:?}",
                *status.borrow()
            ));
        }
        thread::sleep(Duration::from_millis(5));
    }
    Ok(since.elapsed())
}

/// kassad's configuration of one wedge scanner, "usb", the uinput
/// scanner's id, typing in `layout`, with `extra` lines.
fn wedge_config(layout: &str, extra: &str) -> Result<kassa_daemon::config::Config, String> {
    kassa_daemon::config::Config::parse(
        &format!(
            "[[scanner]]\nname = \"usb\"\ndriver = \"wedge\"\nusb_id = \"05e0:1200\"\n\
             layout = \"{layout}\"\n{extra}"
        ),
        "vm.toml",
    )
    .map_err(|e| e.to_string())
}

/// The runtime kassad's device layer and core run in, as in kassad.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(err("tokio runtime"))
}

fn check_kassad_hotplug(rig: &Rig) -> Outcome {
    use kassa_daemon::devices::{Devices, RoutedScan};

    let second = Duration::from_secs(1);
    let config = wedge_config("us", "")?;
    let runtime = runtime()?;
    let _entered = runtime.enter();
    let (tx, scans) = std::sync::mpsc::channel::<RoutedScan>();
    let devices = Devices::start(
        &config.scanners,
        &[],
        std::sync::Arc::new(move |scan| {
            let _ = tx.send(scan);
        }),
    );
    let status = devices.scanners[0].device.status.clone();
    status_within(
        &status,
        rig.patience,
        "looked for and missed the scanner",
        |s| !s.connected && s.last_error.contains("no input device"),
    )?;

    let scanner = VirtualScanner::create(rig, "kassa-vm kassad scanner")?;
    let opened = status_within(&status, second, "opened after plug-in", |s| s.connected)?;
    let typing = type_paced(scanner, keystrokes("us", "2812345678901234\n"));
    let scan = scans
        .recv_timeout(rig.patience)
        .map_err(|e| format!("no scan from kassad's worker: {e}"))?;
    let (scanner, typed) = typing.join().map_err(|_| "the typing thread panicked")?;
    typed?;
    if scan.scan.data != b"2812345678901234" || scan.device != "usb" {
        return Err(format!(
            "{} gave {:?}",
            scan.device,
            String::from_utf8_lossy(&scan.scan.data)
        ));
    }
    drop(scanner);
    let pulled = status_within(&status, second, "disconnected after unplug", |s| {
        !s.connected
    })?;
    let _again = VirtualScanner::create(rig, "kassa-vm kassad scanner again")?;
    let back = status_within(&status, second, "opened after plugging in again", |s| {
        s.connected
    })?;
    devices.stop();
    Ok(format!(
        "opened {} ms after plug-in, read the code, disconnected {} ms after unplug, back {} ms after replug",
        opened.as_millis(),
        pulled.as_millis(),
        back.as_millis()
    ))
}

// ---- pass-through, through kassad's core -----------------------------------

/// A product code (EAN-13) and a WeChat payment code, as a customer and a
/// cashier scan them.
const PRODUCT: &str = "4006381333931";
const PAYMENT: &str = "134567890123456789";

/// The next scan typed on `reader`, decoded in `layout`, and when its
/// terminator arrived; `None` when nothing came within `patience`.
fn read_typed(
    reader: &mut RawDevice,
    decoder: &mut WedgeDecoder,
    patience: Duration,
) -> Result<Option<(String, Instant)>, String> {
    use kassa_drivers::wedge::{KeyAction, KeyEvent};
    let deadline = Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(reader, left)? {
            return Ok(None);
        }
        let events = match reader.fetch_events() {
            Ok(events) => events.collect::<Vec<_>>(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(format!("read kassa's virtual keyboard: {e}")),
        };
        for event in events {
            if event.event_type() != EventType::KEY {
                continue;
            }
            let Some(action) = KeyAction::from_value(event.value()) else {
                continue;
            };
            let time = event
                .timestamp()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            decoder.push(KeyEvent {
                time,
                code: event.code(),
                action,
            });
        }
        if let Some(scan) = decoder.pop() {
            let scan = scan.map_err(|e| format!("kassa's virtual keyboard typed garbage: {e}"))?;
            return Ok(Some((
                String::from_utf8_lossy(&scan.data).into_owned(),
                Instant::now(),
            )));
        }
    }
}

/// One layout's round: kassad (its core, as the daemon runs it) holds the
/// scanner grabbed and passes scans through in `layout`; the scanner types
/// a payment code and product codes; a reader of kassa's virtual keyboard
/// decodes them in `layout`. The delays, from the scanner's last key to the
/// product code read back, are returned.
fn pass_through_round(rig: &Rig, layout: &str) -> Result<Vec<Duration>, String> {
    use kassa_drivers::wedge::uinput::VirtualKeyboard;

    let config = wedge_config(layout, "pass_through = \"products\"\n")?;
    let runtime = runtime()?;
    let _entered = runtime.enter();
    let mut scanner = VirtualScanner::create(rig, &format!("kassa-vm pass-through {layout}"))?;
    let terminal = kassa_daemon::service::start_terminal(config)?;
    let result = (|| {
        let keyboard = wait_for(rig.patience, "kassa's virtual keyboard", || {
            input_nodes(Path::new("/sys"))
                .into_iter()
                .find(|n| n.name == VirtualKeyboard::NAME && n.devnode.exists())
        })?;
        let mut reader =
            RawDevice::open(&keyboard.devnode).map_err(err("open kassa's keyboard"))?;
        let mut other =
            RawDevice::open(scanner.node()).map_err(err("open the scanner as a second reader"))?;
        let status = terminal.devices()[0].status.clone();
        wait_for(rig.patience, "kassad to open the scanner", || {
            status.borrow().connected.then_some(())
        })?;
        let mut decoder = decoder(layout)?;
        // The payment code: kassad reads it (nobody asked for it) and
        // types nothing.
        let typing = type_paced(scanner, keystrokes(layout, &format!("{PAYMENT}\n")));
        let (back, typed) = typing.join().map_err(|_| "typing thread panicked")?;
        scanner = back;
        typed?;
        if let Some((text, _)) = read_typed(&mut reader, &mut decoder, Duration::from_millis(500))?
        {
            return Err(format!(
                "{layout}: the virtual keyboard typed {} after a payment code",
                kassa_hal::mask(&text)
            ));
        }
        let mut delays = Vec::new();
        for _ in 0..5 {
            let typing = type_paced(scanner, keystrokes(layout, &format!("{PRODUCT}\n")));
            let (back, typed) = typing.join().map_err(|_| "typing thread panicked")?;
            let sent = Instant::now();
            scanner = back;
            typed?;
            match read_typed(&mut reader, &mut decoder, rig.patience)? {
                Some((text, at)) if text == PRODUCT => {
                    delays.push(at.saturating_duration_since(sent))
                }
                Some((text, _)) => {
                    return Err(format!(
                        "{layout}: typed {PRODUCT}, the desktop got {text:?}"
                    ));
                }
                None => return Err(format!("{layout}: the product code was not typed")),
            }
        }
        if sees_keys(&mut other, Duration::from_millis(200))? {
            return Err(format!(
                "{layout}: a second reader of the scanner saw keys: the grab did not hold"
            ));
        }
        Ok(delays)
    })();
    terminal.shutdown();
    result
}

fn check_passthrough(rig: &Rig) -> Outcome {
    let mut report = Vec::new();
    for layout in ["us", "fr"] {
        let mut delays = pass_through_round(rig, layout)?;
        delays.sort();
        report.push(format!(
            "{layout}: 5 of 5 typed, payment code not, delay min/median/max {:.1}/{:.1}/{:.1} ms",
            delays[0].as_secs_f64() * 1e3,
            delays[2].as_secs_f64() * 1e3,
            delays[4].as_secs_f64() * 1e3
        ));
    }
    Ok(format!("{}; the scanner stayed grabbed", report.join("; ")))
}

// ---- detect-layout -----------------------------------------------------------

fn check_layout(rig: &Rig) -> Outcome {
    use kassa_drivers::wedge::detect::{CANDIDATES, TEST_TEXT, layouts_typing};
    use kassa_drivers::wedge::{Terminator, Typist};

    let scanner = VirtualScanner::create(rig, "kassa-vm layout scanner")?;
    let node = discovered(rig, &scanner)?;
    let mut device = WedgeDevice::open(&node, true).map_err(|e| e.to_string())?;
    let keymap = Keymap::new(&LayoutName::new("fr")).map_err(|e| e.to_string())?;
    // The key presses kassa's typist picks for fr, modifiers included.
    let strokes = Typist::new(&keymap)
        .strokes(TEST_TEXT, Terminator::Enter)
        .map_err(|e| e.to_string())?;
    let typing = thread::spawn(move || {
        let mut scanner = scanner;
        for stroke in strokes {
            for (code, action) in stroke.actions() {
                let event = InputEvent::new(EventType::KEY.0, code, action.value());
                if let Err(e) = scanner.device.emit(&[event]) {
                    return (scanner, Err(format!("write to uinput: {e}")));
                }
            }
            thread::sleep(Duration::from_millis(1));
        }
        (scanner, Ok(()))
    });
    let keys = device
        .scan_keys(rig.patience, Duration::from_millis(300))
        .map_err(|e| e.to_string())?;
    let (_scanner, typed) = typing.join().map_err(|_| "typing thread panicked")?;
    typed?;
    let keys = keys.ok_or("no keys came")?;
    let found = layouts_typing(&keys, TEST_TEXT, CANDIDATES);
    let names: Vec<String> = found.iter().map(ToString::to_string).collect();
    if names.first().map(String::as_str) != Some("fr")
        || names.iter().any(|n| n == "us" || n == "de")
    {
        return Err(format!("typed in fr, detected {names:?}"));
    }
    Ok(format!(
        "{} key events read grabbed; detected {names:?}",
        keys.len()
    ))
}

// ---- serial, through kassad's device layer -------------------------------------

/// kassad's serial workers, a scanner and a pole display, on ptys: the
/// serial path as kassad runs it, here so that scripts/vm/trace-syscalls
/// traces it with the other device paths (tests/tests/serial_pty.rs covers
/// the driver itself on the host).
fn check_serial(rig: &Rig) -> Outcome {
    use kassa_daemon::config::Config;
    use kassa_daemon::devices::{Devices, RoutedScan};

    let mut scanner_pty = kassa_tests::Pty::open();
    let mut display_pty = kassa_tests::Pty::open();
    let config = Config::parse(
        &format!(
            "[[scanner]]\nname = \"counter\"\ndriver = \"serial\"\npath = \"{}\"\nsuffix = \"\\r\"\n\n\
             [[display]]\nname = \"pole\"\ndriver = \"vfd\"\npath = \"{}\"\ncommand_set = \"escpos\"\nidle_text = [\"WELCOME\", \"\"]\n",
            scanner_pty.path().display(),
            display_pty.path().display()
        ),
        "vm.toml",
    )
    .map_err(|e| e.to_string())?;
    let runtime = runtime()?;
    let _entered = runtime.enter();
    let (tx, scans) = std::sync::mpsc::channel::<RoutedScan>();
    let devices = Devices::start(
        &config.scanners,
        &config.displays,
        std::sync::Arc::new(move |scan| {
            let _ = tx.send(scan);
        }),
    );
    let status = devices.scanners[0].device.status.clone();
    status_within(&status, rig.patience, "opened the serial scanner", |s| {
        s.connected
    })?;
    scanner_pty.release_slave();
    let display_status = devices.displays[0].device.status.clone();
    status_within(
        &display_status,
        rig.patience,
        "opened the pole display",
        |s| s.connected,
    )?;
    display_pty.release_slave();
    devices.displays[0]
        .slot
        .set(kassa_hal::View::Text(vec!["TOTAL 36.00".into()]));
    let shown = display_pty
        .receive(1, rig.patience)
        .map_err(err("read what the display was sent"))?;
    if shown.is_empty() {
        return Err("the display worker wrote nothing for a view".into());
    }
    scanner_pty.send(b"134567890123456789\r");
    let scan = scans
        .recv_timeout(rig.patience)
        .map_err(|e| format!("no scan from kassad's serial worker: {e}"))?;
    if scan.scan.data != b"134567890123456789" || scan.device != "counter" {
        return Err(format!(
            "{} gave {:?}",
            scan.device,
            String::from_utf8_lossy(&scan.scan.data)
        ));
    }
    scanner_pty.unplug();
    let gone = status_within(&status, rig.patience, "saw the hang-up", |s| !s.connected)?;
    devices.stop();
    Ok(format!(
        "kassad's serial worker read the code from a pty, its display worker wrote a view ({} bytes) to another; hang-up seen {} ms after the master closed",
        shown.len(),
        gone.as_millis()
    ))
}

// ---- PrivateUsers= --------------------------------------------------------------

/// Stand-ins for Debian's dialout and video groups and the kassad user,
/// which the guest's /etc/group and /etc/passwd do not have.
const DIALOUT_GID: u32 = 950;
const VIDEO_GID: u32 = 951;
const KASSAD_UID: u32 = 960;

/// Set in the child `privusers` starts: the nodes to open, `:`-separated.
const PRIVUSERS_NODES: &str = "KASSA_VM_PRIVUSERS_NODES";
/// Set in the child too: which step of becoming kassad it is at.
const PRIVUSERS_STAGE: &str = "KASSA_VM_PRIVUSERS_STAGE";
/// A file only root may read, which the child must fail to open.
const PRIVUSERS_SECRET: &str = "/tmp/kassa-vm-root-only";

/// Sets `node` to root:`gid` 0660, as udev's rules do on a till.
fn give_to_group(node: &Path, gid: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::chown(node, Some(0), Some(gid))
        .map_err(|e| format!("chown {}: {e}", node.display()))?;
    fs::set_permissions(node, fs::Permissions::from_mode(0o660))
        .map_err(|e| format!("chmod {}: {e}", node.display()))
}

/// Waits for udev to give `node` to group `gid`, read and write.
fn owned_by_group(rig: &Rig, node: &Path, gid: u32) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    wait_for(
        rig.patience,
        "udev to give the node to group kassad",
        || {
            let meta = fs::metadata(node).ok()?;
            (meta.gid() == gid && meta.mode() & 0o060 == 0o060).then_some(())
        },
    )
}

/// The child's side, in systemd's order for PrivateUsers=yes: supplementary
/// groups and group first, then the user namespace (whose maps the parent
/// writes, as systemd's helper does), then the user. Without fork or
/// unshare in this crate's reach, the steps are execs of this program:
/// `groups` (as root) sets the groups and execs busybox `unshare -U` into
/// `inside`, which waits for the maps and execs itself again into `user`
/// (an exec with the maps in place gives it the namespace's root, so it
/// may change user), which becomes kassad and tries the nodes. Talks to
/// the parent over stdin/stdout: "unshared", "monitoring", then the outcome
/// line.
fn privusers_child(stage: &str, nodes: &str, rig: &Rig) -> Outcome {
    use nix::unistd::{Gid, Uid, getgroups, setgroups, setresgid, setresuid};
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    let exe = std::env::current_exe().map_err(err("current_exe"))?;
    match stage {
        "groups" => {
            let kassa = Gid::from_raw(gid_of("kassad")?);
            setgroups(&[Gid::from_raw(DIALOUT_GID), Gid::from_raw(VIDEO_GID)])
                .map_err(|e| format!("setgroups: {e}"))?;
            setresgid(kassa, kassa, kassa).map_err(|e| format!("setresgid: {e}"))?;
            let e = Command::new("unshare")
                .arg("-U")
                .arg(&exe)
                .arg("privusers")
                .env(PRIVUSERS_STAGE, "inside")
                .exec();
            Err(format!("exec unshare -U: {e}"))
        }
        "inside" => {
            println!("unshared");
            io::stdout().flush().map_err(err("stdout"))?;
            let mut go = String::new();
            io::stdin()
                .read_line(&mut go)
                .map_err(err("wait for the maps"))?;
            let e = Command::new(&exe)
                .arg("privusers")
                .env(PRIVUSERS_STAGE, "user")
                .exec();
            Err(format!("exec {}: {e}", exe.display()))
        }
        "user" => {
            let kassad = Uid::from_raw(KASSAD_UID);
            setresuid(kassad, kassad, kassad).map_err(|e| format!("setresuid: {e}"))?;
            let seen_groups: Vec<u32> = getgroups()
                .map_err(|e| format!("getgroups: {e}"))?
                .iter()
                .map(|g| g.as_raw())
                .collect();
            let mut opened = Vec::new();
            for node in nodes.split(':') {
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(node)
                    .map_err(|e| format!("open {node} as kassad: {e}"))?;
                opened.push(node);
            }
            match File::open(PRIVUSERS_SECRET) {
                Ok(_) => return Err("read a root-only file: not unprivileged".into()),
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
                Err(e) => return Err(format!("open the root-only file: {e}")),
            }
            let mut monitor = HotplugMonitor::new().map_err(err("udev monitor"))?;
            println!("monitoring");
            io::stdout().flush().map_err(err("stdout"))?;
            if !monitor.wait(rig.patience).map_err(err("monitor"))? {
                return Err(
                    "heard nothing from udev (are its messages from a mapped root?)".into(),
                );
            }
            Ok(format!(
                "opened {} as uid {KASSAD_UID} in a user namespace (its groups seen there as {seen_groups:?}), was refused a root-only file, heard udev",
                opened.join(", ")
            ))
        }
        other => Err(format!("no stage {other:?}")),
    }
}

fn check_privusers(rig: &Rig) -> Outcome {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    if let (Ok(stage), Ok(nodes)) = (
        std::env::var(PRIVUSERS_STAGE),
        std::env::var(PRIVUSERS_NODES),
    ) {
        return privusers_child(&stage, &nodes, rig);
    }
    // The group the unit runs in, which owns the scanners' nodes.
    let kassa = gid_of("kassad")?;
    let scanner = VirtualScanner::create(rig, "kassa-vm privusers scanner")?;
    let event = scanner.node();
    owned_by_group(rig, &event, kassa)?;
    let (_uhid, hidraw) = uhid_scanner(rig, "privusers")?;
    owned_by_group(rig, &hidraw, kassa)?;
    let serial = kassa_tests::Pty::open();
    give_to_group(serial.path(), DIALOUT_GID)?;
    let camera = PathBuf::from("/dev/video0");
    give_to_group(&camera, VIDEO_GID)?;
    fs::write(PRIVUSERS_SECRET, "root only\n").map_err(err("write the root-only file"))?;
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(PRIVUSERS_SECRET, fs::Permissions::from_mode(0o600))
            .map_err(err("chmod the root-only file"))?;
    }
    let nodes = [&event, &hidraw, serial.path(), &camera]
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let exe = std::env::current_exe().map_err(err("current_exe"))?;
    let mut child = Command::new(exe)
        .arg("privusers")
        .env(PRIVUSERS_NODES, nodes)
        .env(PRIVUSERS_STAGE, "groups")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(err("start the child"))?;
    let pid = child.id();
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let mut lines = io::BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let mut said = |what: &str| -> Result<(), String> {
        match lines.next() {
            Some(Ok(line)) if line == what => Ok(()),
            other => Err(format!("the child said {other:?}, not {what:?}")),
        }
    };
    let steps = (|| -> Result<VirtualScanner, String> {
        said("unshared")?;
        // What systemd writes for PrivateUsers=yes: root and the service's
        // own user and group mapped to themselves, setgroups() denied.
        let proc = Path::new("/proc").join(pid.to_string());
        fs::write(proc.join("setgroups"), "deny").map_err(err("setgroups"))?;
        fs::write(
            proc.join("uid_map"),
            format!("0 0 1\n{KASSAD_UID} {KASSAD_UID} 1\n"),
        )
        .map_err(err("uid_map"))?;
        fs::write(proc.join("gid_map"), format!("0 0 1\n{kassa} {kassa} 1\n"))
            .map_err(err("gid_map"))?;
        stdin.write_all(b"go\n").map_err(err("let the child go"))?;
        said("monitoring")?;
        // A device for the child's monitor to hear about.
        VirtualScanner::create(rig, "kassa-vm privusers second")
    })();
    drop(stdin);
    let outcome = lines.find_map(|l| {
        let l = l.ok()?;
        l.strip_prefix("ok   privusers: ")
            .map(|d| Ok(d.to_string()))
            .or_else(|| {
                l.strip_prefix("FAIL privusers: ")
                    .map(|r| Err(r.to_string()))
            })
    });
    let _ = child.wait();
    let _ = fs::remove_file(PRIVUSERS_SECRET);
    drop((steps?, scanner, serial));
    let outcome = outcome.unwrap_or_else(|| Err("the child reported nothing".into()))?;
    // The child's line ends with its own time; this check reports its own.
    Ok(outcome
        .rsplit_once(" (")
        .map_or(outcome.clone(), |(d, _)| d.to_string()))
}

// ---- I2C, through kassad's device layer -----------------------------------------

/// The bus of the kernel's i2c-stub module, which scripts/vm/trace-syscalls
/// loads (run-guest does not).
fn stub_bus() -> Option<PathBuf> {
    fs::read_dir("/sys/class/i2c-dev")
        .ok()?
        .flatten()
        .find_map(|e| {
            let name = fs::read_to_string(e.path().join("name")).ok()?;
            (name.trim() == "SMBus stub driver").then(|| Path::new("/dev").join(e.file_name()))
        })
}

/// kassad's LCD worker on the stub bus: the I2C path up to its first
/// write, as far as a bus without a real chip allows.
fn check_i2c(rig: &Rig) -> Outcome {
    use kassa_daemon::config::Config;
    use kassa_daemon::devices::Devices;

    let bus = stub_bus()
        .ok_or("no i2c-stub bus (scripts/vm/trace-syscalls loads i2c-dev and i2c-stub)")?;
    wait_for(rig.patience, "the bus's device node", || {
        bus.exists().then_some(())
    })?;
    let config = Config::parse(
        &format!(
            "[[display]]\nname = \"lcd\"\ndriver = \"lcd\"\npath = \"{}\"\naddress = 0x27\n",
            bus.display()
        ),
        "vm.toml",
    )
    .map_err(|e| e.to_string())?;
    let runtime = runtime()?;
    let _entered = runtime.enter();
    let devices = Devices::start(&[], &config.displays, std::sync::Arc::new(|_| {}));
    let status = devices.displays[0].device.status.clone();
    devices.displays[0]
        .slot
        .set(kassa_hal::View::Text(vec!["TOTAL 36.00".into()]));
    // i2c-stub emulates SMBus chips only: the plain I2C write a PCF8574
    // takes is refused (EOPNOTSUPP) after the same open and ioctls a real
    // bus gets. That refusal is what this waits for.
    status_within(&status, rig.patience, "the LCD worker's write", |s| {
        !s.last_error.is_empty()
    })?;
    let last = status.borrow().last_error.clone();
    devices.stop();
    // EOPNOTSUPP, as linux-embedded-hal spells it.
    if !last.contains("Errno(95)") && !last.to_lowercase().contains("not supported") {
        return Err(format!("the LCD worker says {last:?}"));
    }
    Ok(format!(
        "kassad's LCD worker opened {} and wrote to 0x27; i2c-stub refused the plain I2C transfer as expected: {last}",
        bus.display()
    ))
}
