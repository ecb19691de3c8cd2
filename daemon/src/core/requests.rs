//! Typed requests: what the D-Bus layer has parsed and checked, as the
//! core takes it; and the checks of display text every request shares.

use std::time::Duration;

use kassa_hal::{Currency, SourceKind};
use tokio_util::sync::CancellationToken;

use super::CoreError;
pub use crate::text::MAX_LINE_CHARS;

/// The most lines `ShowText` takes.
pub const MAX_TEXT_LINES: usize = 16;

/// Who is asking: an opaque name (on D-Bus, the caller's unique bus name)
/// and a token that is cancelled when the caller goes away. Whatever a
/// caller starts (a wait, a checkout, a claim, a backend query) ends when
/// its token is cancelled, so a caller that leaves holds nothing.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Compared to decide who owns a checkout or a claim.
    pub name: String,
    /// Cancelled when the caller has left.
    pub gone: CancellationToken,
}

impl Caller {
    /// A caller named `name`, present until `gone` is cancelled.
    pub fn new(name: impl Into<String>, gone: CancellationToken) -> Caller {
        Caller {
            name: name.into(),
            gone,
        }
    }
}

/// An amount due, in minor units: from 0 to
/// [`kassa_hal::order::MAX_AMOUNT`], the range an order's amounts have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(i64);

impl Amount {
    /// `None` outside 0 to [`kassa_hal::order::MAX_AMOUNT`].
    pub fn new(minor_units: i64) -> Option<Amount> {
        (0..=kassa_hal::order::MAX_AMOUNT)
            .contains(&minor_units)
            .then_some(Amount(minor_units))
    }

    /// In minor units.
    pub fn minor_units(self) -> i64 {
        self.0
    }
}

/// Options of `ScanPaymentCode` and `BeginCheckout`.
#[derive(Debug, Clone, Default)]
pub struct CheckoutOptions {
    /// How long to wait for the code.
    pub timeout: Option<Duration>,
    /// What the display asks.
    pub prompt: Option<String>,
    /// Amount due, in minor units of `currency`.
    pub amount: Option<Amount>,
    /// The currency of `amount`.
    pub currency: Option<Currency>,
    /// Only these sources may deliver the code.
    pub sources: Option<Vec<SourceKind>>,
    /// How long to wait for the bound order (checkouts only).
    pub order_timeout: Option<Duration>,
}

/// Options of `ClaimScanner`.
#[derive(Debug, Clone, Default)]
pub struct ClaimOptions {
    /// Disable the claim after each scan until `Enable` (UnifiedPOS AutoDisable).
    pub auto_disable: bool,
    /// Only scans from these sources.
    pub sources: Option<Vec<SourceKind>>,
}

/// One line of display text: bounded, no control or bidi characters.
pub fn check_line(field: &str, text: &str) -> Result<(), CoreError> {
    if text.chars().nth(MAX_LINE_CHARS).is_some() {
        return Err(CoreError::InvalidArgument(format!(
            "{field}: longer than {MAX_LINE_CHARS} characters"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| kassa_hal::order::is_forbidden_char(*c))
    {
        return Err(CoreError::InvalidArgument(format!(
            "{field}: contains U+{:04X}, a control or bidi character",
            u32::from(c)
        )));
    }
    Ok(())
}
