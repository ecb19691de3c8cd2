//! HID POS parsing and decoding from bytes. The descriptors are written
//! item by item from the HID 1.11 item encoding and the Bar Code Scanner
//! page of the HID Usage Tables, not taken from the parser.

use std::time::Duration;

use kassa_hal::Symbology;

use super::*;

/// A scanner laid out the way Honeywell's HID POS scanners are: report 2,
/// Byte Count, three symbology bytes, 56 bytes of data as buffered bytes,
/// two vendor bytes, the continued flag and 7 bits of padding.
const HONEYWELL_STYLE: &[u8] = &[
    0x06, 0x8C, 0x00, // Usage Page (Bar Code Scanner)
    0x09, 0x02, // Usage (Bar Code Scanner)
    0xA1, 0x01, // Collection (Application)
    0x09, 0x12, //   Usage (Scanned Data Report)
    0xA1, 0x02, //   Collection (Logical)
    0x85, 0x02, //     Report ID (2)
    0x15, 0x00, //     Logical Minimum (0)
    0x26, 0xFF, 0x00, //     Logical Maximum (255)
    0x75, 0x08, //     Report Size (8)
    0x95, 0x01, //     Report Count (1)
    0x05, 0x01, //     Usage Page (Generic Desktop)
    0x09, 0x3B, //     Usage (Byte Count)
    0x81, 0x02, //     Input (Data, Variable, Absolute)
    0x95, 0x03, //     Report Count (3)
    0x06, 0x8C, 0x00, //     Usage Page (Bar Code Scanner)
    0x09, 0xFB, //     Usage (Symbology Identifier 1)
    0x09, 0xFC, //     Usage (Symbology Identifier 2)
    0x09, 0xFD, //     Usage (Symbology Identifier 3)
    0x81, 0x02, //     Input (Data, Variable, Absolute)
    0x95, 0x38, //     Report Count (56)
    0x09, 0xFE, //     Usage (Decoded Data)
    0x82, 0x02, 0x01, //     Input (Data, Variable, Absolute, Buffered Bytes)
    0x06, 0x66, 0xFF, //     Usage Page (vendor)
    0x95, 0x02, //     Report Count (2)
    0x09, 0x04, //     Usage (vendor 4)
    0x09, 0x00, //     Usage (vendor 0)
    0x81, 0x02, //     Input (Data, Variable, Absolute)
    0x06, 0x8C, 0x00, //     Usage Page (Bar Code Scanner)
    0x25, 0x01, //     Logical Maximum (1)
    0x75, 0x01, //     Report Size (1)
    0x95, 0x01, //     Report Count (1)
    0x09, 0xFF, //     Usage (Decode Data Continued)
    0x81, 0x02, //     Input (Data, Variable, Absolute)
    0x95, 0x07, //     Report Count (7)
    0x81, 0x03, //     Input (Constant): padding
    0xC0, //   End Collection
    0xC0, // End Collection
];

/// A 62-byte report 2 of the layout above.
fn honeywell_report(aim: &[u8; 3], data: &[u8], continued: bool) -> Vec<u8> {
    let mut r = vec![0x02, data.len() as u8];
    r.extend_from_slice(aim);
    let mut field = data.to_vec();
    field.resize(56, 0);
    r.extend_from_slice(&field);
    r.extend_from_slice(&[0x31, 0x00]);
    r.push(u8::from(continued));
    r
}

#[test]
fn the_honeywell_style_layout_is_found() {
    let layout = descriptor::parse(HONEYWELL_STYLE).unwrap();
    assert_eq!(layout.report_id, Some(2));
    assert_eq!(layout.body_len, 1 + 3 + 56 + 2 + 1);
    assert_eq!(layout.byte_count, Some(Field { bit: 0, bits: 8 }));
    assert_eq!(layout.symbology[0], Some(Field { bit: 8, bits: 8 }));
    assert_eq!(layout.symbology[2], Some(Field { bit: 24, bits: 8 }));
    assert_eq!(layout.data.len(), 56);
    assert_eq!(layout.data[0], Field { bit: 32, bits: 8 });
    assert_eq!(
        layout.continued,
        Some(Field {
            bit: 32 + 56 * 8 + 16,
            bits: 1
        })
    );
}

#[test]
fn a_report_decodes_with_its_symbology_and_nuls_kept_by_byte_count() {
    let mut d = HidPosDecoder::new(descriptor::parse(HONEYWELL_STYLE).unwrap());
    let t = Duration::from_secs(7);
    let scan = d
        .push(&honeywell_report(b"]Q1", b"134567890123456789", false), t)
        .unwrap()
        .unwrap();
    assert_eq!(scan.data, b"134567890123456789");
    assert_eq!(scan.symbology, Symbology::Qr);
    assert_eq!(scan.source, kassa_hal::SourceKind::HidPos);
    assert_eq!(scan.at, kassa_hal::Timestamp(t));
    // Byte Count keeps a NUL that is part of the data.
    let scan = d
        .push(&honeywell_report(b"]C0", b"AB\0", false), t)
        .unwrap()
        .unwrap();
    assert_eq!(
        (scan.data.as_slice(), scan.symbology),
        (&b"AB\0"[..], Symbology::Code128)
    );
    // Reports with another ID (a status report, say) are not scans.
    assert!(d.push(&[0x04, 1, 2, 3], t).is_none());
}

#[test]
fn continued_reports_make_one_scan() {
    let mut d = HidPosDecoder::new(descriptor::parse(HONEYWELL_STYLE).unwrap());
    let first: Vec<u8> = (0..56).map(|i| b'a' + (i % 26)).collect();
    let t = Duration::ZERO;
    assert!(d.push(&honeywell_report(b"]d2", &first, true), t).is_none());
    let scan = d
        .push(&honeywell_report(b"]d2", b"END", false), t)
        .unwrap()
        .unwrap();
    let mut expected = first.clone();
    expected.extend_from_slice(b"END");
    assert_eq!(scan.data, expected);
    assert_eq!(scan.symbology, Symbology::DataMatrix);
    // Over the limit: dropped, and the next scan decodes.
    let mut d = HidPosDecoder::new(descriptor::parse(HONEYWELL_STYLE).unwrap()).with_max_len(60);
    assert!(d.push(&honeywell_report(b"]Q1", &first, true), t).is_none());
    assert_eq!(
        d.push(&honeywell_report(b"]Q1", &first, true), t),
        Some(Err(ReportError::Overlong { limit: 60 }))
    );
    assert!(
        d.push(&honeywell_report(b"]Q1", b"tail", false), t)
            .is_none()
    );
    let ok = d.push(&honeywell_report(b"]E0", b"4006381333931", false), t);
    assert_eq!(ok.unwrap().unwrap().symbology, Symbology::Ean13);
}

#[test]
fn short_reports_are_named_errors_not_panics() {
    let mut d = HidPosDecoder::new(descriptor::parse(HONEYWELL_STYLE).unwrap());
    assert_eq!(
        d.push(&[0x02, 5, b']'], Duration::ZERO),
        Some(Err(ReportError::Short {
            len: 2,
            expected: 60
        }))
    );
    assert!(d.push(&[], Duration::ZERO).is_none());
}

#[test]
fn a_layout_without_ids_count_or_symbology() {
    // No report IDs, data as a plain variable field, no byte count: the
    // padding NULs come off the end.
    let descriptor = [
        0x05, 0x8C, // Usage Page (Bar Code Scanner)
        0x09, 0x02, // Usage (Bar Code Scanner)
        0xA1, 0x01, // Collection (Application)
        0x75, 0x08, //   Report Size (8)
        0x95, 0x10, //   Report Count (16)
        0x09, 0xFE, //   Usage (Decoded Data)
        0x81, 0x02, //   Input (Data, Variable, Absolute)
        0xC0, // End Collection
    ];
    let layout = descriptor::parse(&descriptor).unwrap();
    assert_eq!((layout.report_id, layout.data.len()), (None, 16));
    let mut d = HidPosDecoder::new(layout);
    let mut report = b"2812345678901234".to_vec();
    report[10..].fill(0);
    let scan = d.push(&report, Duration::ZERO).unwrap().unwrap();
    assert_eq!(
        (scan.data.as_slice(), scan.symbology),
        (&b"2812345678"[..], Symbology::Unknown)
    );
}

#[test]
fn descriptors_that_are_not_scanners_or_are_cut_short() {
    // A boot keyboard's first items: no barcode page.
    let keyboard = [
        0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7, 0x15, 0x00, 0x25,
        0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0xC0,
    ];
    assert_eq!(
        descriptor::parse(&keyboard),
        Err(DescriptorError::NotAScanner)
    );
    assert_eq!(
        descriptor::parse(&HONEYWELL_STYLE[..HONEYWELL_STYLE.len() - 60]),
        Err(DescriptorError::NotAScanner)
    );
    assert_eq!(
        descriptor::parse(&[0x05, 0x8C, 0x26, 0xFF]),
        Err(DescriptorError::Truncated { at: 2 })
    );
    assert!(descriptor::parse(&[]).is_err());
}

#[test]
fn symbology_identifiers() {
    assert_eq!(symbology_of(*b"]Q1"), Symbology::Qr);
    assert_eq!(symbology_of(*b"]E4"), Symbology::Ean8);
    assert_eq!(symbology_of(*b"C0\0"), Symbology::Code128);
    assert_eq!(symbology_of([0, 0, 0]), Symbology::Unknown);
}

proptest::proptest! {
    /// Any bytes as a descriptor, any bytes as a report: an answer, never a
    /// panic.
    #[test]
    fn arbitrary_bytes_never_panic(descriptor: Vec<u8>, report: Vec<u8>) {
        if let Ok(layout) = descriptor::parse(&descriptor) {
            let _ = HidPosDecoder::new(layout).push(&report, Duration::ZERO);
        }
        let mut d = HidPosDecoder::new(descriptor::parse(HONEYWELL_STYLE).unwrap());
        let _ = d.push(&report, Duration::ZERO);
    }
}

/// `HidrawDevice` over a FIFO named like a hidraw node, with the report
/// descriptor in a sysfs tree of its own.
#[cfg(feature = "usb-linux")]
mod hidraw {
    use std::fs::File;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use kassa_hal::blocking::Scanner as _;
    use kassa_hal::{Error as _, ErrorKind};

    use super::*;
    use crate::hidpos::linux::{Error, HidrawDevice, OpenError};

    fn node(descriptor: &[u8]) -> (tempfile::TempDir, PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("sys/class/hidraw/hidraw7/device");
        std::fs::create_dir_all(&sys).unwrap();
        std::fs::write(sys.join("report_descriptor"), descriptor).unwrap();
        let path = dir.path().join("hidraw7");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let writer = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        (dir, path, writer)
    }

    /// Writes one report and waits until the device has read it, so that
    /// two reports never meet in one read of the FIFO.
    fn send(
        writer: &mut File,
        device: &mut HidrawDevice,
        report: &[u8],
    ) -> Result<Option<Scan>, Error> {
        writer.write_all(report).unwrap();
        kassa_hal::blocking::Scanner::poll_scan(device, Duration::from_secs(2))
    }

    #[test]
    fn reports_read_through_the_blocking_trait_with_error_kinds() {
        let (dir, path, mut writer) = node(HONEYWELL_STYLE);
        let mut device = HidrawDevice::open(&path, &dir.path().join("sys")).unwrap();
        device.set_trigger(true).unwrap();
        let asked = Instant::now();
        assert!(
            device
                .poll_scan(Duration::from_millis(50))
                .unwrap()
                .is_none()
        );
        assert!(asked.elapsed() >= Duration::from_millis(45));
        let scan = send(
            &mut writer,
            &mut device,
            &honeywell_report(b"]Q1", b"1345", false),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (scan.data.as_slice(), scan.symbology, scan.source),
            (&b"1345"[..], Symbology::Qr, kassa_hal::SourceKind::HidPos)
        );
        // A continued report ends no scan: the poll waits on for the rest.
        writer
            .write_all(&honeywell_report(b"]C0", b"AB", true))
            .unwrap();
        let rest = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            writer
                .write_all(&honeywell_report(b"]C0", b"CD", false))
                .unwrap();
            writer
        });
        let scan = kassa_hal::blocking::Scanner::poll_scan(&mut device, Duration::from_secs(2));
        assert_eq!(scan.unwrap().unwrap().data, b"ABCD");
        let mut writer = rest.join().unwrap();
        // A short report is dropped: InvalidData, and the next one decodes.
        let short = send(&mut writer, &mut device, &[0x02, 0x01, b']']).unwrap_err();
        assert_eq!(short.kind(), ErrorKind::InvalidData);
        assert!(matches!(short, Error::Dropped(ReportError::Short { .. })));
        let scan = send(
            &mut writer,
            &mut device,
            &honeywell_report(b"]E0", b"9", false),
        );
        assert_eq!(scan.unwrap().unwrap().data, b"9");
        // Unplugged: Disconnected, and it stays so.
        drop(writer);
        let gone = kassa_hal::blocking::Scanner::poll_scan(&mut device, Duration::from_secs(2))
            .unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::Disconnected);
        assert_eq!(
            device.set_trigger(false).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
        assert!(matches!(
            kassa_hal::blocking::Scanner::poll_scan(&mut device, Duration::ZERO),
            Err(Error::Disconnected)
        ));
    }

    #[test]
    fn open_errors_have_kinds() {
        let (dir, path, _writer) = node(&[0x05, 0x01, 0x09, 0x06]);
        let sys = dir.path().join("sys");
        let not_pos = HidrawDevice::open(&path, &sys).unwrap_err();
        assert!(matches!(not_pos, OpenError::NotHidPos(..)), "{not_pos:?}");
        assert_eq!(not_pos.kind(), ErrorKind::Unsupported);
        let missing = HidrawDevice::open(&dir.path().join("hidraw9"), &sys).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::Disconnected);
        let not_hidraw = HidrawDevice::open(Path::new("/dev/null"), &sys).unwrap_err();
        assert_eq!(not_hidraw.kind(), ErrorKind::Unsupported);
        let denied = OpenError::Open(
            "/dev/hidraw7".into(),
            std::io::ErrorKind::PermissionDenied.into(),
        );
        assert_eq!(denied.kind(), ErrorKind::Other);
        assert!(denied.to_string().contains("group kassa"), "{denied}");
        let unplugged = OpenError::Open(
            "/dev/hidraw7".into(),
            std::io::Error::from(nix::errno::Errno::ENODEV),
        );
        assert_eq!(unplugged.kind(), ErrorKind::Disconnected);
    }
}
