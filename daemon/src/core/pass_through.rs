//! Which scans nobody at the till took may be typed into the desktop.
//!
//! A till's POS program may still read product barcodes as typed keys,
//! from the scanner kassad holds. kassad types such a scan through a
//! virtual keyboard when the scanner's `pass_through` setting allows it.
//! A payment code is never typed: no scan with a run of 10 or more digits
//! (any script's digits) is, unless the whole scan is a product barcode.
//! That covers codes no channel knows yet, codes a scanner wraps in a
//! prefix, suffix, AIM id or spaces, and the shortest codes a deployment's
//! channel table may take (10 digits).

use std::fmt;

use kassa_hal::{Channel, ChannelTable, PaymentCode};

use crate::config::PassThroughMode;

/// The longest text typed: a product code or member card, not a document.
pub const MAX_TYPED: usize = 128;

/// A run of this many digits makes a scan a possible payment code: the
/// shortest a payment code may be.
const PAYMENT_DIGITS: usize = PaymentCode::MIN_LEN;

/// Why a scan is not typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A payment code, or a scan holding digits as many as one.
    PaymentCode,
    /// Not a product barcode, and only those are passed through.
    NotAProduct,
    /// Not printable text (binary data, control, bidi, invisible or
    /// separator characters).
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
    let gtin = is_gtin(data);
    let known = PaymentCode::parse(data).is_ok_and(|c| channels.classify(&c) != Channel::UNKNOWN);
    let text = std::str::from_utf8(data).map_err(|_| Refused::NotText)?;
    if known || (!gtin && longest_digit_run(text) >= PAYMENT_DIGITS) {
        return Err(Refused::PaymentCode);
    }
    if text.is_empty() || text.chars().any(unsafe_to_type) {
        return Err(Refused::NotText);
    }
    if text.chars().count() > MAX_TYPED {
        return Err(Refused::TooLong);
    }
    match mode {
        PassThroughMode::Products if !gtin => Err(Refused::NotAProduct),
        _ => Ok(text),
    }
}

/// The longest run of digits in `text`, of any script (Arabic-Indic and
/// fullwidth digits count: a scanner may type them).
fn longest_digit_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c.is_numeric() { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// Characters that would do more than show in the focused field: control
/// and bidi characters, invisible ones, and any space but the plain one.
fn unsafe_to_type(c: char) -> bool {
    kassa_hal::order::is_forbidden_char(c)
        || (c.is_whitespace() && c != ' ')
        || matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2065}' | '\u{FEFF}')
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
            "134567890123456789",       // WeChat
            "2812345678901234",         // Alipay
            "6212345678901234567",      // UnionPay
            "999999999999999999",       // no channel, but wallet-long digits
            "1000000000",               // 10 digits, the shortest code
            " 134567890123456789",      // a space before it
            "]Q1134567890123456789",    // an AIM id the config does not strip
            "134567890123456789;",      // a suffix
            "PAY:13456789012345\t",     // a prefix, and a tab
            "١٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩",       // Arabic-Indic digits
            "１３４５６７８９０１２３", // fullwidth digits
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
            Err(Refused::PaymentCode)
        );
        assert_eq!(admit_as(products, "400638133"), Err(Refused::NotAProduct));
        assert_eq!(admit_as(products, "MEMBER-42"), Err(Refused::NotAProduct));
    }

    #[test]
    fn the_other_mode_types_member_cards_and_short_numbers() {
        let all = PassThroughMode::AllButPaymentCodes;
        assert_eq!(admit_as(all, "MEMBER-42"), Ok("MEMBER-42"));
        assert_eq!(admit_as(all, "400638133"), Ok("400638133"));
        // A product barcode stays a product, whatever its length.
        assert_eq!(admit_as(all, "4006381333931"), Ok("4006381333931"));
        assert_eq!(admit_as(all, "10614141000415"), Ok("10614141000415"));
        // 13 digits with a wrong check digit: a code, not a product.
        assert_eq!(admit_as(all, "4006381333932"), Err(Refused::PaymentCode));
        assert_eq!(admit_as(all, "Ünïcode ok"), Ok("Ünïcode ok"));
    }

    #[test]
    fn what_cannot_be_typed_safely_is_refused_by_name() {
        let all = PassThroughMode::AllButPaymentCodes;
        assert_eq!(admit_as(all, "line\nforged"), Err(Refused::NotText));
        assert_eq!(admit_as(all, "\u{1d}01ABC"), Err(Refused::NotText));
        assert_eq!(admit_as(all, ""), Err(Refused::NotText));
        for invisible in [
            "A\u{202E}B",
            "A\u{200B}B",
            "A\u{FEFF}",
            "A\u{2028}B",
            "A\u{00A0}B",
        ] {
            assert_eq!(
                admit_as(all, invisible),
                Err(Refused::NotText),
                "{invisible:?}"
            );
        }
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
