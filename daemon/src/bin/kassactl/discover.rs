//! `kassactl discover`: the input and hidraw devices plugged in, read from
//! sysfs (no bus, no kassad), each with whether it looks like a scanner
//! kassa can use and the configuration lines that take it.

use std::path::Path;

use kassa_drivers::hidpos::descriptor;
use kassa_drivers::usb::known_scanner;
use kassa_drivers::usb::linux::{HidrawNode, InputNode, hidraw_nodes, input_nodes};
use kassa_drivers::wedge::uinput::VirtualKeyboard;
use serde_json::{Value, json};

/// `BUS_I8042`: the PC's own keyboard controller.
const BUS_I8042: u16 = 0x11;

/// What one device looks like to kassa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// `/dev/input/eventN` or `/dev/hidrawN`.
    pub(crate) node: String,
    /// `vvvv:pppp`.
    pub(crate) id: String,
    /// The kernel's name of the device.
    pub(crate) name: String,
    /// `wedge` or `hidpos` where kassa can read it, else `None`.
    pub(crate) driver: Option<&'static str>,
    /// Why, in a few words.
    pub(crate) verdict: String,
    /// The `[[scanner]]` lines that take it, where kassa can read it.
    pub(crate) config: Vec<String>,
}

impl Found {
    /// A device at `node` and what kassa makes of it; the configuration
    /// lines follow from the driver.
    fn new(
        node: &Path,
        id: String,
        name: &str,
        driver: Option<&'static str>,
        verdict: String,
    ) -> Found {
        let mut config = Vec::new();
        if let Some(driver) = driver {
            config.extend([
                "[[scanner]]".to_string(),
                "name = \"counter\"".to_string(),
                format!("driver = \"{driver}\""),
                format!("usb_id = \"{id}\""),
            ]);
        }
        if driver == Some("wedge") {
            config.push(
                "layout = \"us\"                # the layout it types in: kassactl detect-layout"
                    .into(),
            );
        }
        Found {
            node: node.display().to_string(),
            id,
            name: name.to_string(),
            driver,
            verdict,
            config,
        }
    }
}

/// An input (evdev) device, as kassa's wedge driver would see it.
pub(crate) fn input(node: &InputNode) -> Found {
    let id = node.id.to_string();
    let known = known_scanner(node.id);
    let (driver, verdict) = if node.name == VirtualKeyboard::NAME {
        (None, "kassa's own pass-through keyboard".to_string())
    } else if node.bustype == BUS_I8042 {
        (None, "the PC's keyboard: never taken".to_string())
    } else if !node.types_digits {
        (
            None,
            "has no digit and Enter keys: not a scanner".to_string(),
        )
    } else if let Some(k) = known {
        (
            Some("wedge"),
            format!("known scanner in keyboard mode: {} {}", k.maker, k.model),
        )
    } else {
        (
            Some("wedge"),
            "types digits and Enter: a keyboard, or a scanner kassa does not know (check the \
             name; it needs a udev rule, see docs/wedge-scanners.md)"
                .to_string(),
        )
    };
    Found::new(&node.devnode, id, &node.name, driver, verdict)
}

/// A hidraw device, as kassa's HID POS driver would see it.
pub(crate) fn hidraw(node: &HidrawNode) -> Found {
    let id = node.id.to_string();
    let (driver, verdict) = match descriptor::parse(&node.descriptor) {
        Ok(_) => (
            Some("hidpos"),
            match known_scanner(node.id) {
                Some(k) => format!("known scanner in HID POS mode: {} {}", k.maker, k.model),
                None => "HID POS scanner (barcode reports); it needs a udev rule, see \
                         docs/wedge-scanners.md"
                    .to_string(),
            },
        ),
        Err(_) => (
            None,
            "no barcode reports: not a HID POS scanner".to_string(),
        ),
    };
    Found::new(&node.devnode, id, &node.name, driver, verdict)
}

/// Every input and hidraw device under `sys` (normally `/sys`).
pub(crate) fn discover(sys: &Path) -> Vec<Found> {
    let inputs = input_nodes(sys);
    let raws = hidraw_nodes(sys);
    inputs
        .iter()
        .map(input)
        .chain(raws.iter().map(hidraw))
        .collect()
}

/// The text `kassactl discover` prints: one block per device, the usable
/// ones first, their configuration indented.
pub(crate) fn text(found: &[Found]) -> String {
    if found.is_empty() {
        return "no input or hidraw devices (is /sys mounted?)".into();
    }
    let mut sorted: Vec<&Found> = found.iter().collect();
    sorted.sort_by_key(|f| f.driver.is_none());
    let mut out = Vec::new();
    for f in sorted {
        out.push(format!(
            "{}  {}  {}\n    {}",
            f.node,
            f.id,
            crate::output::escaped(&format!("{:?}", f.name), ""),
            f.verdict
        ));
        for line in &f.config {
            out.push(format!("        {line}"));
        }
    }
    out.join("\n")
}

/// The JSON `kassactl --json discover` prints.
pub(crate) fn json(found: &[Found]) -> Value {
    Value::Array(
        found
            .iter()
            .map(|f| {
                json!({
                    "node": f.node,
                    "usb_id": f.id,
                    "name": f.name,
                    "driver": f.driver,
                    "verdict": f.verdict,
                    "config": f.config.join("\n"),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use kassa_drivers::usb::UsbId;

    use super::*;

    fn node(name: &str, bustype: u16, id: (u16, u16), types_digits: bool) -> InputNode {
        InputNode {
            devnode: PathBuf::from("/dev/input/event3"),
            name: name.into(),
            id: UsbId {
                vendor: id.0,
                product: id.1,
            },
            bustype,
            types_digits,
        }
    }

    #[test]
    fn a_known_keyboard_mode_scanner_gets_its_lines() {
        let f = input(&node("Symbol Bar Code Scanner", 3, (0x05e0, 0x1200), true));
        assert_eq!(f.driver, Some("wedge"));
        assert!(
            f.verdict.starts_with("known scanner in keyboard mode"),
            "{}",
            f.verdict
        );
        assert_eq!(f.config[2], "driver = \"wedge\"");
        assert_eq!(f.config[3], "usb_id = \"05e0:1200\"");
    }

    #[test]
    fn keyboards_and_kassas_own_device_are_never_offered() {
        let pc = input(&node(
            "AT Translated Set 2 keyboard",
            BUS_I8042,
            (1, 1),
            true,
        ));
        assert_eq!((pc.driver, pc.config.len()), (None, 0));
        let consumer = input(&node(
            "Scanner Consumer Control",
            3,
            (0x05e0, 0x1200),
            false,
        ));
        assert_eq!(consumer.driver, None);
        let own = input(&node(VirtualKeyboard::NAME, 6, (0, 0), true));
        assert_eq!(own.driver, None);
        assert!(own.verdict.contains("pass-through"));
        // An unknown USB keyboard might be a scanner: offered, with a warning.
        let unknown = input(&node("Logitech USB Keyboard", 3, (0x046d, 0xc31c), true));
        assert_eq!(unknown.driver, Some("wedge"));
        assert!(unknown.verdict.contains("does not know"));
    }

    #[test]
    fn a_hidraw_device_is_a_scanner_only_with_barcode_reports() {
        // Usage page 0x8C, a report with Decoded Data (0xFE).
        let pos = [
            0x06, 0x8C, 0x00, 0x09, 0x02, 0xA1, 0x01, 0x09, 0x12, 0xA1, 0x02, 0x85, 0x02, 0x15,
            0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x09, 0xFE, 0x95, 0x38, 0x82, 0x02, 0x01, 0xC0,
            0xC0,
        ];
        let raw = |descriptor: &[u8]| HidrawNode {
            devnode: PathBuf::from("/dev/hidraw0"),
            name: "Newland HID POS".into(),
            id: UsbId {
                vendor: 0x1eab,
                product: 0x1310,
            },
            descriptor: descriptor.to_vec(),
        };
        let f = hidraw(&raw(&pos));
        assert_eq!(f.driver, Some("hidpos"));
        assert_eq!(f.config[3], "usb_id = \"1eab:1310\"");
        let mouse = hidraw(&raw(&[0x05, 0x01, 0x09, 0x02, 0xA1, 0x01, 0xC0]));
        assert_eq!(mouse.driver, None);
    }

    #[test]
    fn a_name_cannot_forge_lines_in_the_listing() {
        let f = input(&node("evil\nFAKE  known scanner", 3, (1, 2), true));
        let shown = text(&[f]);
        assert!(!shown.contains("\nFAKE"), "{shown}");
        assert_eq!(text(&[]), "no input or hidraw devices (is /sys mounted?)");
    }
}
