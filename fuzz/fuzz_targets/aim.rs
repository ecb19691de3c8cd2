//! AIM symbology identifiers and payment codes on arbitrary scanned bytes:
//! an identifier is only ever the first three bytes, the payload is the
//! input minus those, and a payment code is exactly the digits it was
//! read from.
#![no_main]

use kassa_hal::scan::split_aim;
use kassa_hal::{ChannelTable, PaymentCode, Scan, SourceKind, Symbology, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scan = Scan::with_aim(data, SourceKind::Serial, Timestamp::default());
    match split_aim(data) {
        Some((symbology, rest)) => {
            assert_eq!(data[0], b']');
            assert_eq!(rest, &data[3..]);
            assert_eq!(symbology, Symbology::from_aim(data[1], data[2]));
            assert_eq!(scan.data, rest);
            assert_eq!(scan.symbology, symbology);
        }
        None => {
            assert_eq!(scan.data, data);
            assert_eq!(scan.symbology, Symbology::Unknown);
        }
    }
    // The payment code is taken from the payload, as kassad does after
    // stripping the identifier.
    if let Ok(code) = PaymentCode::parse(&scan.data) {
        assert_eq!(code.as_str().as_bytes(), &scan.data[..]);
        assert!((PaymentCode::MIN_LEN..=PaymentCode::MAX_LEN).contains(&scan.data.len()));
        // A code has at least ten digits: exactly its last four stay in the
        // clear when it is masked for a log.
        let masked = code.masked();
        assert_eq!(masked.len(), scan.data.len());
        assert_eq!(masked.bytes().filter(u8::is_ascii_digit).count(), 4);
        assert!(code.as_str().ends_with(&masked[masked.len() - 4..]));
        let _ = ChannelTable::builtin().classify(&code);
        assert_eq!(PaymentCode::parse(code.as_str().as_bytes()), Ok(code));
    }
    // Lossy text never panics and a valid UTF-8 payload is kept as is.
    let text = scan.text();
    if let Some(utf8) = scan.utf8() {
        assert_eq!(text, utf8);
    }
});
