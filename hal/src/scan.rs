//! What a scanner read.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

/// The barcode symbology of a scan, from the AIM identifier the scanner sent
/// (ISO/IEC 15424) or from the decoder that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Symbology {
    /// QR Code (`]Q`).
    Qr,
    /// Code 128 (`]C0`); GS1-128 is `]C1`.
    Code128,
    /// GS1-128 (`]C1`).
    Gs1_128,
    /// EAN-13, UPC-A and their add-ons (`]E0`, `]E3`).
    Ean13,
    /// EAN-8 (`]E4`).
    Ean8,
    /// Data Matrix (`]d`).
    DataMatrix,
    /// PDF417 and MicroPDF417 (`]L`).
    Pdf417,
    /// Code 39 (`]A`).
    Code39,
    /// Interleaved 2 of 5 (`]I`).
    Itf,
    /// Aztec Code (`]z`).
    Aztec,
    /// GS1 DataBar (`]e`).
    DataBar,
    /// Not known: no AIM identifier, or one this list does not name.
    Unknown,
}

impl Symbology {
    /// A short lower-case name, stable on the bus (`qr`, `code128`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Symbology::Qr => "qr",
            Symbology::Code128 => "code128",
            Symbology::Gs1_128 => "gs1-128",
            Symbology::Ean13 => "ean13",
            Symbology::Ean8 => "ean8",
            Symbology::DataMatrix => "datamatrix",
            Symbology::Pdf417 => "pdf417",
            Symbology::Code39 => "code39",
            Symbology::Itf => "itf",
            Symbology::Aztec => "aztec",
            Symbology::DataBar => "databar",
            Symbology::Unknown => "unknown",
        }
    }

    /// Every symbology, in the order above.
    pub const ALL: [Symbology; 12] = [
        Symbology::Qr,
        Symbology::Code128,
        Symbology::Gs1_128,
        Symbology::Ean13,
        Symbology::Ean8,
        Symbology::DataMatrix,
        Symbology::Pdf417,
        Symbology::Code39,
        Symbology::Itf,
        Symbology::Aztec,
        Symbology::DataBar,
        Symbology::Unknown,
    ];

    /// The symbology named `name` ([`as_str`](Symbology::as_str)).
    pub fn from_name(name: &str) -> Option<Symbology> {
        Symbology::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The symbology an AIM identifier names: `code` is the character after
    /// `]`, `modifier` the one after that.
    pub fn from_aim(code: u8, modifier: u8) -> Symbology {
        match (code, modifier) {
            (b'Q', _) => Symbology::Qr,
            (b'C', b'1') => Symbology::Gs1_128,
            (b'C', _) => Symbology::Code128,
            (b'E', b'4') => Symbology::Ean8,
            (b'E', _) => Symbology::Ean13,
            (b'd', _) => Symbology::DataMatrix,
            (b'L', _) => Symbology::Pdf417,
            (b'A', _) => Symbology::Code39,
            (b'I', _) => Symbology::Itf,
            (b'z', _) => Symbology::Aztec,
            (b'e', _) => Symbology::DataBar,
            _ => Symbology::Unknown,
        }
    }
}

impl fmt::Display for Symbology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Splits a leading AIM symbology identifier (`]` + code character +
/// modifier character) off `data`.
///
/// Returns the symbology and the data without the identifier, or `None` when
/// `data` does not start with a well-formed identifier (the data are then
/// left as they are).
pub fn split_aim(data: &[u8]) -> Option<(Symbology, &[u8])> {
    match data {
        [b']', code, modifier, rest @ ..]
            if code.is_ascii_alphabetic() && modifier.is_ascii_alphanumeric() =>
        {
            Some((Symbology::from_aim(*code, *modifier), rest))
        }
        _ => None,
    }
}

/// The driver family a scan came from. The names are the `source` words of
/// the D-Bus contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceKind {
    /// A scanner on a serial port (RS-232, USB CDC-ACM, USB serial).
    Serial,
    /// A USB scanner that types like a keyboard.
    Wedge,
    /// A USB scanner in HID POS mode (usage page 0x8C).
    HidPos,
    /// A camera reading codes from frames.
    Camera,
    /// A payment code obtained from face capture.
    Face,
    /// A simulated scanner.
    Mock,
}

impl SourceKind {
    /// The stable lower-case name (`serial`, `wedge`, `hidpos`, `camera`,
    /// `face`, `mock`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Serial => "serial",
            SourceKind::Wedge => "wedge",
            SourceKind::HidPos => "hidpos",
            SourceKind::Camera => "camera",
            SourceKind::Face => "face",
            SourceKind::Mock => "mock",
        }
    }

    /// Every source kind, for option validation.
    pub const ALL: [SourceKind; 6] = [
        SourceKind::Serial,
        SourceKind::Wedge,
        SourceKind::HidPos,
        SourceKind::Camera,
        SourceKind::Face,
        SourceKind::Mock,
    ];

    /// Parses a stable name back.
    pub fn from_name(name: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Wall-clock time of a scan, as time since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub Duration);

impl Timestamp {
    /// The system clock now (a clock before 1970 reads as the epoch).
    #[cfg(feature = "std")]
    pub fn now() -> Timestamp {
        Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default(),
        )
    }
}

/// One read from a scanner.
///
/// `data` are the bytes as the scanner sent them, with framing (prefix,
/// suffix) and the AIM identifier removed; nothing else is changed. Scanners
/// send binary payloads and legacy encodings too, so the text view is a
/// best-effort [`text`](Scan::text).
#[derive(Clone, PartialEq, Eq)]
pub struct Scan {
    /// The payload bytes.
    pub data: Vec<u8>,
    /// The symbology, where known.
    pub symbology: Symbology,
    /// The driver family that read it.
    pub source: SourceKind,
    /// When the scan completed.
    pub at: Timestamp,
}

impl Scan {
    /// A scan of `data` with an unknown symbology.
    pub fn new(data: impl Into<Vec<u8>>, source: SourceKind, at: Timestamp) -> Scan {
        Scan {
            data: data.into(),
            symbology: Symbology::Unknown,
            source,
            at,
        }
    }

    /// Like [`Scan::new`], but parses and strips a leading AIM identifier.
    pub fn with_aim(data: &[u8], source: SourceKind, at: Timestamp) -> Scan {
        match split_aim(data) {
            Some((symbology, rest)) => Scan {
                data: rest.into(),
                symbology,
                source,
                at,
            },
            None => Scan::new(data, source, at),
        }
    }

    /// The payload as text: UTF-8 where it is, with U+FFFD for bytes that are
    /// not.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }

    /// The payload as text, if it is valid UTF-8.
    pub fn utf8(&self) -> Option<&str> {
        core::str::from_utf8(&self.data).ok()
    }
}

/// Masks the payload: a scan may hold a payment code, which must never reach
/// a log in full.
impl fmt::Debug for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scan")
            .field("data", &crate::payment::mask(&self.text()))
            .field("symbology", &self.symbology)
            .field("source", &self.source)
            .field("at", &self.at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aim_identifiers_are_parsed_and_stripped() {
        let cases: [(&[u8], Symbology, &[u8]); 7] = [
            (
                b"]Q1134567890123456789",
                Symbology::Qr,
                b"134567890123456789",
            ),
            (b"]C0ABC-123", Symbology::Code128, b"ABC-123"),
            (
                b"]C10104012345012345",
                Symbology::Gs1_128,
                b"0104012345012345",
            ),
            (b"]E04006381333931", Symbology::Ean13, b"4006381333931"),
            (b"]E496385074", Symbology::Ean8, b"96385074"),
            (b"]d1hello", Symbology::DataMatrix, b"hello"),
            (b"]L0pdf", Symbology::Pdf417, b"pdf"),
        ];
        for (raw, symbology, data) in cases {
            let scan = Scan::with_aim(raw, SourceKind::Serial, Timestamp::default());
            assert_eq!(scan.symbology, symbology, "{raw:?}");
            assert_eq!(scan.data, data);
        }
    }

    #[test]
    fn data_without_identifier_are_kept_whole() {
        for raw in [
            &b"]"[..],
            b"]Q",
            b"]]Q1x",
            b"]Q\x01x",
            b"134567890123456789",
            b"",
        ] {
            let scan = Scan::with_aim(raw, SourceKind::Serial, Timestamp::default());
            assert_eq!(scan.symbology, Symbology::Unknown);
            assert_eq!(scan.data, raw);
        }
    }

    #[test]
    fn debug_masks_the_payload() {
        let scan = Scan::new(
            &b"134567890123456789"[..],
            SourceKind::Mock,
            Timestamp::default(),
        );
        let shown = alloc::format!("{scan:?}");
        assert!(!shown.contains("134567890123456789"), "{shown}");
        assert!(shown.contains("6789"), "{shown}");
    }

    #[test]
    fn non_utf8_bytes_are_kept() {
        let scan = Scan::new(
            &[0xB2u8, 0xE2, b'1'][..],
            SourceKind::Serial,
            Timestamp::default(),
        );
        assert_eq!(scan.data, [0xB2, 0xE2, b'1']);
        assert!(scan.utf8().is_none());
        assert_eq!(scan.text(), "\u{FFFD}\u{FFFD}1");
    }
}
