//! What pass-through would type into the desktop, on arbitrary scanned
//! bytes: only the scan itself, never a control, bidi or invisible
//! character, never more than its bound, never a run of 10 digits unless
//! the whole scan is a product barcode, and in `products` mode only those.
#![no_main]

use kassa_daemon::config::PassThroughMode;
use kassa_daemon::core::pass_through::{MAX_TYPED, admit, is_gtin};
use kassa_hal::ChannelTable;
use libfuzzer_sys::fuzz_target;

static CHANNELS: std::sync::LazyLock<ChannelTable> =
    std::sync::LazyLock::new(ChannelTable::builtin);

fuzz_target!(|data: &[u8]| {
    for mode in [
        PassThroughMode::Products,
        PassThroughMode::AllButPaymentCodes,
    ] {
        let Ok(text) = admit(mode, data, &CHANNELS) else {
            continue;
        };
        assert_eq!(text.as_bytes(), data);
        assert!(!text.is_empty() && text.chars().count() <= MAX_TYPED);
        assert!(
            text.chars()
                .all(|c| !c.is_control() && (c == ' ' || !c.is_whitespace()))
        );
        let mut run = 0;
        for c in text.chars() {
            run = if c.is_numeric() { run + 1 } else { 0 };
            assert!(run < 10 || is_gtin(data), "a payment-like run was admitted");
        }
        if mode == PassThroughMode::Products {
            assert!(is_gtin(data));
        }
    }
});
