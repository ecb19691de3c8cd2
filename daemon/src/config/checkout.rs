//! The `[checkout]` section: the defaults of checkouts (currency, prompt,
//! timeouts).

use std::time::Duration;

use kassa_hal::Currency;
use serde::Deserialize;

use super::values::{check_text_line, ms};

/// Defaults of checkouts, overridable per call where the API says so.
#[derive(Debug, Clone)]
pub struct CheckoutConfig {
    /// Currency of `amount` options.
    pub currency: Currency,
    /// What the display asks of the customer.
    pub prompt: String,
    /// How long to wait for a payment code.
    pub code_timeout: Duration,
    /// How long to wait for the backend to bind an order.
    pub order_timeout: Duration,
    /// How long to wait for the payment result.
    pub result_timeout: Duration,
    /// How long a result stays on the display before the idle screen.
    pub result_display: Duration,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        CheckoutConfig {
            currency: Currency::from_code("CNY").unwrap_or(kassa_hal::money::CURRENCIES[0]),
            prompt: "Please present your payment code".into(),
            code_timeout: Duration::from_secs(60),
            order_timeout: Duration::from_secs(30),
            result_timeout: Duration::from_secs(120),
            result_display: Duration::from_secs(5),
        }
    }
}

/// `[checkout]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheckout {
    currency: Option<String>,
    prompt: Option<String>,
    code_timeout_ms: Option<u64>,
    order_timeout_ms: Option<u64>,
    result_timeout_ms: Option<u64>,
    result_display_ms: Option<u64>,
}

impl RawCheckout {
    /// The validated section.
    pub(super) fn settings(self) -> Result<CheckoutConfig, String> {
        let mut out = CheckoutConfig::default();
        if let Some(code) = self.currency {
            out.currency = Currency::from_code(&code)
                .ok_or_else(|| format!("currency {code:?} is not a supported ISO 4217 code"))?;
        }
        if let Some(prompt) = self.prompt {
            check_text_line("prompt", &prompt)?;
            out.prompt = prompt;
        }
        let positive = |key: &str, v: Option<u64>, default: Duration| match v {
            Some(0) => Err(format!("{key} must be positive")),
            Some(v) => Ok(ms(v)),
            None => Ok(default),
        };
        out.code_timeout = positive("code_timeout_ms", self.code_timeout_ms, out.code_timeout)?;
        out.order_timeout = positive("order_timeout_ms", self.order_timeout_ms, out.order_timeout)?;
        out.result_timeout = positive(
            "result_timeout_ms",
            self.result_timeout_ms,
            out.result_timeout,
        )?;
        out.result_display = positive(
            "result_display_ms",
            self.result_display_ms,
            out.result_display,
        )?;
        Ok(out)
    }
}
