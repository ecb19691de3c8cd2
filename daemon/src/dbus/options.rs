//! Caller options (`a{sv}` on D-Bus) read into typed requests.
//!
//! Every option a caller may give is read here, once: its type, its range
//! and, for durations, its cap. Unknown keys are an error, so a misspelt
//! option never silently falls back to a default. Error messages quote at
//! most a short, escaped prefix of what the caller sent.

use std::collections::HashMap;
use std::time::Duration;

use kassa_hal::{Currency, PaymentStatus, SourceKind};
use zbus::zvariant::{OwnedValue, Value};

use crate::core::{Amount, CheckoutOptions, ClaimOptions, CoreError};
pub use crate::text::quote;

/// An options dictionary as it arrives from the bus.
pub type Options = HashMap<String, OwnedValue>;

/// The longest `timeout_ms` of `ScanPaymentCode` and `BeginCheckout`, and
/// the longest `order_timeout_ms`: 10 minutes. No customer stands at a
/// till longer; a caller that wants more calls again.
pub const MAX_WAIT: Duration = Duration::from_secs(600);
/// The longest `timeout_ms` of `ShowOrderForCode`: 10 minutes.
pub const MAX_ORDER_WAIT: Duration = Duration::from_secs(600);
/// The longest `timeout_ms` of `CaptureFace`: 1 minute.
pub const MAX_FACE_WAIT: Duration = Duration::from_secs(60);
/// At most this many entries in `sources` (there are six source kinds).
const MAX_SOURCES: usize = 8;

/// The keys of `ScanPaymentCode`.
const SCAN: &[&str] = &["timeout_ms", "prompt", "amount", "currency", "sources"];
/// The keys of `BeginCheckout`.
const CHECKOUT: &[&str] = &[
    "timeout_ms",
    "prompt",
    "amount",
    "currency",
    "sources",
    "order_timeout_ms",
];
/// The keys of `ClaimScanner`.
const CLAIM: &[&str] = &["auto_disable", "sources"];
/// The keys of `ShowOrderForCode` and `CaptureFace`.
const TIMEOUT_ONLY: &[&str] = &["timeout_ms"];

/// `ScanPaymentCode`'s options.
///
/// # Errors
///
/// `InvalidArgument` naming the option.
pub fn scan(options: &Options) -> Result<CheckoutOptions, CoreError> {
    Reader::new(options, SCAN)?.checkout()
}

/// `BeginCheckout`'s options.
///
/// # Errors
///
/// `InvalidArgument` naming the option.
pub fn checkout(options: &Options) -> Result<CheckoutOptions, CoreError> {
    Reader::new(options, CHECKOUT)?.checkout()
}

/// `ClaimScanner`'s options.
///
/// # Errors
///
/// `InvalidArgument` naming the option.
pub fn claim(options: &Options) -> Result<ClaimOptions, CoreError> {
    let reader = Reader::new(options, CLAIM)?;
    Ok(ClaimOptions {
        auto_disable: reader.boolean("auto_disable")?.unwrap_or(false),
        sources: reader.sources()?,
    })
}

/// `ShowOrderForCode`'s `timeout_ms`, at most [`MAX_ORDER_WAIT`].
///
/// # Errors
///
/// `InvalidArgument` naming the option.
pub fn order_wait(options: &Options) -> Result<Option<Duration>, CoreError> {
    Reader::new(options, TIMEOUT_ONLY)?.millis("timeout_ms", MAX_ORDER_WAIT)
}

/// `CaptureFace`'s `timeout_ms`, at most [`MAX_FACE_WAIT`].
///
/// # Errors
///
/// `InvalidArgument` naming the option.
pub fn face_wait(options: &Options) -> Result<Option<Duration>, CoreError> {
    Reader::new(options, TIMEOUT_ONLY)?.millis("timeout_ms", MAX_FACE_WAIT)
}

/// A payment status word: `paid`, `failed` or `cancelled`.
///
/// # Errors
///
/// `InvalidArgument` for any other word.
pub fn payment_status(word: &str) -> Result<PaymentStatus, CoreError> {
    PaymentStatus::from_name(word).ok_or_else(|| {
        CoreError::InvalidArgument(format!(
            "status: {} is not paid, failed or cancelled",
            quote(word)
        ))
    })
}

/// Typed reading of one dictionary.
struct Reader<'a> {
    options: &'a Options,
}

impl<'a> Reader<'a> {
    fn new(options: &'a Options, known: &[&str]) -> Result<Self, CoreError> {
        if let Some(key) = options.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(CoreError::InvalidArgument(format!(
                "unknown option {}; known options: {}",
                quote(key),
                known.join(", ")
            )));
        }
        Ok(Reader { options })
    }

    fn bad(key: &str, want: &str) -> CoreError {
        CoreError::InvalidArgument(format!("option {key:?} must be {want}"))
    }

    fn get(&self, key: &str) -> Option<&Value<'static>> {
        self.options.get(key).map(|v| &**v)
    }

    fn integer(&self, key: &str) -> Result<Option<i128>, CoreError> {
        let n = match self.get(key) {
            None => return Ok(None),
            Some(Value::U8(n)) => i128::from(*n),
            Some(Value::U16(n)) => i128::from(*n),
            Some(Value::I16(n)) => i128::from(*n),
            Some(Value::U32(n)) => i128::from(*n),
            Some(Value::I32(n)) => i128::from(*n),
            Some(Value::U64(n)) => i128::from(*n),
            Some(Value::I64(n)) => i128::from(*n),
            Some(_) => return Err(Self::bad(key, "an integer")),
        };
        Ok(Some(n))
    }

    /// A duration in milliseconds, 1 to `max`.
    fn millis(&self, key: &str, max: Duration) -> Result<Option<Duration>, CoreError> {
        let Some(n) = self.integer(key)? else {
            return Ok(None);
        };
        match u64::try_from(n) {
            Ok(ms) if ms >= 1 && u128::from(ms) <= max.as_millis() => {
                Ok(Some(Duration::from_millis(ms)))
            }
            _ => Err(Self::bad(
                key,
                &format!("1 to {} milliseconds (u)", max.as_millis()),
            )),
        }
    }

    fn amount(&self, key: &str) -> Result<Option<Amount>, CoreError> {
        match self.integer(key)? {
            None => Ok(None),
            Some(n) => i64::try_from(n)
                .ok()
                .and_then(Amount::new)
                .map(Some)
                .ok_or_else(|| {
                    Self::bad(
                        key,
                        &format!(
                            "an amount in minor units from 0 to {} (x)",
                            kassa_hal::order::MAX_AMOUNT
                        ),
                    )
                }),
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>, CoreError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.to_string())),
            Some(_) => Err(Self::bad(key, "a string (s)")),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, CoreError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Self::bad(key, "a boolean (b)")),
        }
    }

    fn strings(&self, key: &str, max: usize) -> Result<Option<Vec<String>>, CoreError> {
        let want = || Self::bad(key, &format!("an array of at most {max} strings (as)"));
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) if items.len() <= max => items
                .iter()
                .map(|item| match item {
                    Value::Str(s) => Ok(s.to_string()),
                    _ => Err(want()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(want()),
        }
    }

    fn currency(&self) -> Result<Option<Currency>, CoreError> {
        let Some(code) = self.string("currency")? else {
            return Ok(None);
        };
        Currency::from_code(&code).map(Some).ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "currency: {} is not a supported ISO 4217 code",
                quote(&code)
            ))
        })
    }

    fn sources(&self) -> Result<Option<Vec<SourceKind>>, CoreError> {
        let Some(names) = self.strings("sources", MAX_SOURCES)? else {
            return Ok(None);
        };
        names
            .iter()
            .map(|n| {
                SourceKind::from_name(n).ok_or_else(|| {
                    CoreError::InvalidArgument(format!(
                        "sources: {} is not one of serial, wedge, hidpos, camera, face, mock",
                        quote(n)
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn checkout(&self) -> Result<CheckoutOptions, CoreError> {
        Ok(CheckoutOptions {
            timeout: self.millis("timeout_ms", MAX_WAIT)?,
            prompt: self.string("prompt")?,
            amount: self.amount("amount")?,
            currency: self.currency()?,
            sources: self.sources()?,
            order_timeout: self.millis("order_timeout_ms", MAX_WAIT)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(pairs: &[(&str, Value<'static>)]) -> Options {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OwnedValue::try_from(v.clone()).unwrap()))
            .collect()
    }

    fn invalid(result: Result<impl std::fmt::Debug, CoreError>) -> String {
        match result {
            Err(CoreError::InvalidArgument(m)) => m,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn durations_are_capped() {
        let ten_minutes = dict(&[("timeout_ms", Value::U32(600_000))]);
        assert_eq!(
            scan(&ten_minutes).unwrap().timeout,
            Some(Duration::from_secs(600))
        );
        let m = invalid(scan(&dict(&[("timeout_ms", Value::U32(u32::MAX))])));
        assert!(m.contains("1 to 600000 milliseconds"), "{m}");
        invalid(checkout(&dict(&[(
            "order_timeout_ms",
            Value::U32(600_001),
        )])));
        invalid(scan(&dict(&[("timeout_ms", Value::U32(0))])));
        invalid(scan(&dict(&[("timeout_ms", Value::I64(-5))])));
        invalid(order_wait(&dict(&[("timeout_ms", Value::U64(600_001))])));
        invalid(face_wait(&dict(&[("timeout_ms", Value::U32(60_001))])));
        assert_eq!(
            face_wait(&dict(&[("timeout_ms", Value::U32(60_000))])).unwrap(),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let m = invalid(scan(&dict(&[("order_timeout_ms", Value::U32(5))])));
        assert!(m.contains("order_timeout_ms"), "{m}");
        let m = invalid(claim(&dict(&[("auto_disable", Value::from("yes"))])));
        assert!(m.contains("auto_disable") && m.contains("boolean"), "{m}");
        let m = invalid(scan(&dict(&[("amount", Value::U64(u64::MAX))])));
        assert!(m.contains("amount"), "{m}");
    }

    #[test]
    fn amounts_are_minor_units_in_range() {
        let max = kassa_hal::order::MAX_AMOUNT;
        let ok = scan(&dict(&[("amount", Value::I64(max))])).unwrap();
        assert_eq!(ok.amount.map(Amount::minor_units), Some(max));
        let ok = scan(&dict(&[("amount", Value::U32(0))])).unwrap();
        assert_eq!(ok.amount.map(Amount::minor_units), Some(0));
        for bad in [Value::I64(-1), Value::I64(max + 1), Value::U64(u64::MAX)] {
            let m = invalid(scan(&dict(&[("amount", bad)])));
            assert!(m.contains("amount") && m.contains("from 0 to"), "{m}");
        }
    }

    #[test]
    fn a_huge_unknown_key_is_quoted_short_and_escaped() {
        let key = format!("evil\nINFO forged line{}", "x".repeat(1 << 20));
        let m = invalid(scan(&dict(&[(key.as_str(), Value::U32(1))])));
        assert!(m.len() < 200, "{} bytes", m.len());
        assert!(!m.contains('\n'), "{m}");
        assert!(m.contains(r"evil\nINFO"), "{m}");
    }

    #[test]
    fn sources_are_bounded() {
        let many: Vec<&str> = vec!["serial"; 9];
        invalid(claim(&dict(&[("sources", Value::from(many))])));
        let two = vec!["serial", "camera"];
        assert_eq!(
            claim(&dict(&[("sources", Value::from(two))]))
                .unwrap()
                .sources,
            Some(vec![SourceKind::Serial, SourceKind::Camera])
        );
        let m = invalid(scan(&dict(&[("sources", Value::from(vec!["serial\nx"]))])));
        assert!(m.contains(r"serial\nx"), "{m}");
        let m = invalid(scan(&dict(&[("currency", Value::from("E\u{202e}UR"))])));
        assert!(m.contains(r"\u{202e}"), "{m}");
        assert_eq!(
            scan(&dict(&[("currency", Value::from("EUR"))]))
                .unwrap()
                .currency,
            Currency::from_code("EUR")
        );
    }
}
