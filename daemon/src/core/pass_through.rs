//! Which scans nobody at the till took may be typed into the desktop.
//!
//! A till's POS program may still read product barcodes as typed keys,
//! from the scanner kassad holds. kassad types such a scan through a
//! virtual keyboard when the scanner's `pass_through` setting allows it.
//! A payment code is never typed: not one the channel table knows, and
//! not a string of digits as long as a wallet's codes (15 or more), which
//! may come from a wallet the table does not know yet.

use std::fmt;

use kassa_hal::{Channel, ChannelTable, PaymentCode};

use crate::config::PassThroughMode;

/// The longest text typed: a product code or member card, not a document.
pub const MAX_TYPED: usize = 128;

/// Digit strings this long or longer are taken for payment codes, known
/// channel or not (wallets' codes are 16 to 24 digits).
const PAYMENT_LIKE_DIGITS: usize = 15;

/// Why a scan is not typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A payment code, or digits as long as one.
    PaymentCode,
    /// Not a product barcode, and only those are passed through.
    NotAProduct,
    /// Not printable text (binary data, control characters).
    NotText,
    /// Longer than [`MAX_TYPED`] characters.
    TooLong,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::PaymentCode => "a payment code is never typed into the desktop",
            Refused::NotAProduct => {
                "not a product barcode (EAN/UPC), the only scans passed through"
            }
            Refused::NotText => "not printable text, so not typed into the desktop",
            Refused::TooLong => "too long to type into the desktop",
        })
    }
}

/// The text to type for `data` under `mode`, or why not.
///
/// # Errors
///
/// [`Refused`] saying why the scan stays with kassad.
pub fn admit<'a>(
    mode: PassThroughMode,
    data: &'a [u8],
    channels: &ChannelTable,
) -> Result<&'a str, Refused> {
    if looks_like_payment_code(data, channels) {
        return Err(Refused::PaymentCode);
    }
    let text = std::str::from_utf8(data).map_err(|_| Refused::NotText)?;
    if text.is_empty() || text.chars().any(char::is_control) {
        return Err(Refused::NotText);
    }
    if text.chars().count() > MAX_TYPED {
        return Err(Refused::TooLong);
    }
    match mode {
        PassThroughMode::Products if !is_gtin(data) => Err(Refused::NotAProduct),
        _ => Ok(text),
    }
}

/// Whether `data` are a payment code a channel knows, or digits as long
/// as a wallet's.
fn looks_like_payment_code(data: &[u8], channels: &ChannelTable) -> bool {
    let digits = data.iter().all(u8::is_ascii_digit);
    if digits && data.len() >= PAYMENT_LIKE_DIGITS {
        return true;
    }
    PaymentCode::parse(data).is_ok_and(|code| channels.classify(&code) != Channel::UNKNOWN)
}

/// Whether `data` are a GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) with a right
/// check digit.
pub fn is_gtin(data: &[u8]) -> bool {
    if !matches!(data.len(), 8 | 12 | 13 | 14) || !data.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (body, check) = data.split_at(data.len() - 1);
    // Weights 3 and 1 alternate from the digit next to the check digit.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(check[0] - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit_as(mode: PassThroughMode, data: &str) -> Result<&str, Refused> {
        admit(mode, data.as_bytes(), &ChannelTable::builtin())
    }

    #[test]
    fn product_barcodes_are_recognised_by_their_check_digit() {
        for good in [
            "4006381333931",
            "96385074",
            "036000291452",
            "10614141000415",
        ] {
            assert!(is_gtin(good.as_bytes()), "{good}");
        }
        for bad in [
            "4006381333932",
            "9638507",
            "03600029145x",
            "",
            "400638133393100",
        ] {
            assert!(!is_gtin(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn payment_codes_are_never_typed_in_any_mode() {
        let codes = [
            "134567890123456789",  // WeChat
            "2812345678901234",    // Alipay
            "6212345678901234567", // UnionPay
            "999999999999999999",  // no channel, but wallet-long digits
            "100000000000000",     // 15 digits
        ];
        for mode in [
            PassThroughMode::Products,
            PassThroughMode::AllButPaymentCodes,
        ] {
            for code in codes {
                assert_eq!(admit_as(mode, code), Err(Refused::PaymentCode), "{code}");
            }
        }
    }

    #[test]
    fn products_mode_types_product_barcodes_only() {
        let products = PassThroughMode::Products;
        assert_eq!(admit_as(products, "4006381333931"), Ok("4006381333931"));
        assert_eq!(
            admit_as(products, "4006381333932"),
            Err(Refused::NotAProduct)
        );
        assert_eq!(admit_as(products, "MEMBER-42"), Err(Refused::NotAProduct));
    }

    #[test]
    fn the_other_mode_types_member_cards_and_short_numbers() {
        let all = PassThroughMode::AllButPaymentCodes;
        assert_eq!(admit_as(all, "MEMBER-42"), Ok("MEMBER-42"));
        assert_eq!(admit_as(all, "4006381333932"), Ok("4006381333932"));
        assert_eq!(admit_as(all, "Ünïcode ok"), Ok("Ünïcode ok"));
    }

    #[test]
    fn what_cannot_be_typed_safely_is_refused_by_name() {
        let all = PassThroughMode::AllButPaymentCodes;
        assert_eq!(admit_as(all, "line\nforged"), Err(Refused::NotText));
        assert_eq!(
            admit_as(all, "\u{1d}0104006381333931"),
            Err(Refused::NotText)
        );
        assert_eq!(admit_as(all, ""), Err(Refused::NotText));
        assert_eq!(
            admit(all, b"\xff\xfe", &ChannelTable::builtin()),
            Err(Refused::NotText)
        );
        assert_eq!(
            admit_as(all, &"A".repeat(MAX_TYPED + 1)),
            Err(Refused::TooLong)
        );
        assert_eq!(
            admit_as(all, &"A".repeat(MAX_TYPED)).map(str::len),
            Ok(MAX_TYPED)
        );
    }
}
