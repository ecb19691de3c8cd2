//! The USB scanners kassa knows by vendor:product.
//!
//! Every pair here is taken from the USB ID database (usb.ids, as compiled
//! into systemd's `hwdb.d/20-usb-vendor-model.hwdb`, Debian bookworm's
//! `udev` 252), where its model name says it is a barcode scanner in
//! keyboard or HID POS mode, or a scanner whose mode the name does not say.
//! Pairs the database lists in a serial mode (CDC-ACM, RS-232 emulation)
//! are left out: those are ttys, for the serial driver. Makers whose USB ids
//! the database does not list (Zebex, Netum, Sunmi, many unbranded
//! scanners) are matched by configuration instead (`usb_id`, `device_name`
//! or a `/dev/input/by-id` path).
//!
//! `udev/70-kassa-scanners.rules` tags the same pairs; a test checks that
//! the two lists agree, and another that each pair is in the database.

use std::fmt;

#[cfg(feature = "usb-linux")]
pub mod linux;

/// Why a USB scanner (wedge or HID POS) read no scan; `D` says why a scan
/// was dropped (the wedge decoder's or the HID POS report decoder's error).
#[cfg(feature = "usb-linux")]
#[derive(Debug)]
pub enum ScanError<D> {
    /// The device went away (unplugged): drop it and open it again. Every
    /// later call says so too.
    Disconnected,
    /// Reading the device failed otherwise.
    Io(std::io::Error),
    /// A scan or report was dropped; the decoder has resynchronised and the
    /// next scan decodes normally.
    Dropped(D),
}

#[cfg(feature = "usb-linux")]
impl<D: fmt::Display> fmt::Display for ScanError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Disconnected => f.write_str("device disconnected"),
            ScanError::Io(e) => write!(f, "read failed: {e}"),
            ScanError::Dropped(e) => fmt::Display::fmt(e, f),
        }
    }
}

#[cfg(feature = "usb-linux")]
impl<D: std::error::Error + 'static> std::error::Error for ScanError<D> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScanError::Disconnected => None,
            ScanError::Io(e) => Some(e),
            ScanError::Dropped(e) => Some(e),
        }
    }
}

/// `Disconnected`, `Other` for an I/O error, `InvalidData` for a dropped
/// scan.
#[cfg(feature = "usb-linux")]
impl<D: fmt::Debug> kassa_hal::Error for ScanError<D> {
    fn kind(&self) -> kassa_hal::ErrorKind {
        match self {
            ScanError::Disconnected => kassa_hal::ErrorKind::Disconnected,
            ScanError::Io(_) => kassa_hal::ErrorKind::Other,
            ScanError::Dropped(_) => kassa_hal::ErrorKind::InvalidData,
        }
    }
}

/// A USB vendor:product pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsbId {
    /// idVendor.
    pub vendor: u16,
    /// idProduct.
    pub product: u16,
}

impl UsbId {
    /// Parses `vvvv:pppp` (hex, either case).
    pub fn parse(text: &str) -> Option<UsbId> {
        let (v, p) = text.split_once(':')?;
        if v.len() != 4 || p.len() != 4 {
            return None;
        }
        Some(UsbId {
            vendor: u16::from_str_radix(v, 16).ok()?,
            product: u16::from_str_radix(p, 16).ok()?,
        })
    }
}

impl fmt::Display for UsbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vendor, self.product)
    }
}

/// A scanner model kassa takes without being told its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownScanner {
    /// Its USB ids.
    pub id: UsbId,
    /// The maker, as the database names the vendor.
    pub maker: &'static str,
    /// The model, as the database names it.
    pub model: &'static str,
}

const fn known(
    vendor: u16,
    product: u16,
    maker: &'static str,
    model: &'static str,
) -> KnownScanner {
    KnownScanner {
        id: UsbId { vendor, product },
        maker,
        model,
    }
}

/// The list. Keep it sorted; add only pairs from the USB ID database.
pub const KNOWN_SCANNERS: &[KnownScanner] = &[
    known(0x03f0, 0x0139, "HP", "Barcode Scanner 4430"),
    known(0x03f0, 0x1d24, "HP", "Barcode scanner"),
    known(
        0x0581,
        0x0107,
        "Racal Data Group (Tera)",
        "Tera Barcode Scanner 2.4 GHz Receiver",
    ),
    known(
        0x0581,
        0x020c,
        "Racal Data Group (Tera)",
        "Tera 2D Barcode Scanner EVHK0012",
    ),
    known(
        0x05e0,
        0x1200,
        "Symbol Technologies (Zebra)",
        "Bar Code Scanner",
    ),
    known(
        0x05e0,
        0x1a00,
        "Symbol Technologies (Zebra)",
        "CS4070 Barcode Scanner",
    ),
    known(
        0x05f9,
        0x2202,
        "PSC Scanning (Datalogic)",
        "Point of Sale Handheld Scanner",
    ),
    known(
        0x05f9,
        0x2206,
        "PSC Scanning (Datalogic)",
        "Gryphon series (keyboard emulation mode)",
    ),
    known(
        0x05f9,
        0x220c,
        "PSC Scanning (Datalogic)",
        "Datalogic Gryphon GD4430",
    ),
    known(
        0x05f9,
        0x2601,
        "PSC Scanning (Datalogic)",
        "Datalogic Magellan 1000i Barcode Scanner",
    ),
    known(
        0x05f9,
        0x2602,
        "PSC Scanning (Datalogic)",
        "Datalogic Magellan 1100i Barcode Scanner",
    ),
    known(
        0x065a,
        0x0001,
        "Optoelectronics (Opticon)",
        "Opticon OPR-2001 / NLV-1001 (keyboard mode)",
    ),
    known(
        0x067e,
        0x0801,
        "Intermec Technologies",
        "HID Keyboard, Barcode scanner",
    ),
    known(
        0x080c,
        0x0300,
        "Datalogic S.p.A.",
        "Gryphon D120 Barcode Scanner",
    ),
    known(
        0x080c,
        0x0400,
        "Datalogic S.p.A.",
        "Gryphon D120 Barcode Scanner",
    ),
    known(
        0x080c,
        0x0500,
        "Datalogic S.p.A.",
        "Gryphon D120 Barcode Scanner",
    ),
    known(
        0x080c,
        0x0600,
        "Datalogic S.p.A.",
        "Gryphon M100 Barcode Scanner",
    ),
    known(
        0x0c2e,
        0x0200,
        "Metrologic Instruments (Honeywell)",
        "MS7120 Barcode Scanner",
    ),
    known(
        0x0c2e,
        0x0204,
        "Metrologic Instruments (Honeywell)",
        "Metrologic MS7120 Barcode Scanner (keyboard mode)",
    ),
    known(
        0x0c2e,
        0x0206,
        "Metrologic Instruments (Honeywell)",
        "Metrologic MS4980 Barcode Scanner",
    ),
    known(
        0x0c2e,
        0x0b61,
        "Metrologic Instruments (Honeywell)",
        "Vuquest 3310g",
    ),
    known(
        0x0c2e,
        0x0b6a,
        "Metrologic Instruments (Honeywell)",
        "Vuquest 3310 Area-Imaging Scanner",
    ),
    known(
        0x0c2e,
        0x0b81,
        "Metrologic Instruments (Honeywell)",
        "Barcode scanner Voyager 1400g Series",
    ),
    known(
        0x1eab,
        0x0103,
        "Newland",
        "HR200 Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x0110,
        "Newland",
        "HR200 Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x0c03,
        "Newland",
        "HR100/HR3260 cordless/HR3290 cordless/BS80 Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x0c10,
        "Newland",
        "HR100/HR3260 cordless/HR3290 cordless/BS80 Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x0d03,
        "Newland",
        "EM2028 Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x0d10,
        "Newland",
        "EM2028 Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x1303,
        "Newland",
        "EM30xx/EM20xx/HR3260 corded/HR200C Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x1310,
        "Newland",
        "EM30xx/EM20xx/HR3260 corded/HR200C Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x1403,
        "Newland",
        "HR15-xx Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x1410,
        "Newland",
        "HR15-xx Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x1603,
        "Newland",
        "FM100-M/3250 Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x1610,
        "Newland",
        "FM100-M/3250 Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x1903,
        "Newland",
        "EM1300 Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x1910,
        "Newland",
        "EM1300 Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x1a03,
        "Newland",
        "HR3290 corded/HR22 Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x1a10,
        "Newland",
        "HR3290 corded/HR22 Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x1c03,
        "Newland",
        "HR2150 Barcode scanner engine (HID keyboard)",
    ),
    known(
        0x1eab,
        0x1c10,
        "Newland",
        "HR2150 Barcode scanner engine (HID Pos)",
    ),
    known(
        0x1eab,
        0x1d03,
        "Newland",
        "FM430 Barcode scanner engine (HID keyboard)",
    ),
];

/// The known scanner with these ids, if any.
pub fn known_scanner(id: UsbId) -> Option<&'static KnownScanner> {
    KNOWN_SCANNERS.iter().find(|k| k.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_print() {
        let id = UsbId::parse("05E0:1200").unwrap();
        assert_eq!(
            id,
            UsbId {
                vendor: 0x05e0,
                product: 0x1200
            }
        );
        assert_eq!(id.to_string(), "05e0:1200");
        for bad in ["05e0", "5e0:1200", "05e0:12000", "zzzz:1200", ""] {
            assert_eq!(UsbId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_list_is_sorted_without_duplicates() {
        assert!(KNOWN_SCANNERS.windows(2).all(|w| w[0].id < w[1].id));
        assert!(
            known_scanner(UsbId {
                vendor: 0x05e0,
                product: 0x1200
            })
            .is_some()
        );
        // The i8042 keyboard of a PC (bus 0x11, 0001:0001) is nobody's scanner.
        assert!(
            known_scanner(UsbId {
                vendor: 0x0001,
                product: 0x0001
            })
            .is_none()
        );
    }

    /// Every pair is in the USB ID database the udev package ships, with
    /// the model name written here: the list is taken from it, not made up.
    #[test]
    fn every_pair_is_in_the_usb_id_database() {
        let path = "/usr/lib/udev/hwdb.d/20-usb-vendor-model.hwdb";
        let db = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e} (scripts/setup-debian.sh installs udev)"));
        for k in KNOWN_SCANNERS {
            let key = format!(
                "usb:v{:04X}p{:04X}*\n ID_MODEL_FROM_DATABASE={}\n",
                k.id.vendor, k.id.product, k.model
            );
            assert!(db.contains(&key), "{} {:?} is not in {path}", k.id, k.model);
        }
    }
}
