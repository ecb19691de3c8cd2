//! The amount, currency, prompt, timeout and sources a command passes on
//! to kassad as `a{sv}` options.

use std::collections::HashMap;

use kassa_client::Options;
use kassa_hal::{Currency, Money};
use zbus::zvariant::Value;

use crate::cli::Prompt;
use crate::output::Failure;

/// `amount` ("36.00") in minor units of `currency`.
pub(crate) fn minor_units(amount: &str, currency: &str) -> Result<(i64, Currency), Failure> {
    let currency = Currency::from_code(currency).ok_or_else(|| {
        Failure::new(
            6,
            format!("--currency {currency:?} is not a supported ISO 4217 code"),
        )
    })?;
    let digits = usize::from(currency.minor_units);
    let bad = || {
        Failure::new(
            6,
            format!(
                "--amount {amount:?} is not an amount in {} (like 36.00)",
                currency.code
            ),
        )
    };
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if whole.is_empty()
        || fraction.len() > digits
        || !format!("{whole}{fraction}")
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let padded = format!("{whole}{fraction:0<digits$}");
    let minor = padded.parse::<i64>().map_err(|_| bad())?;
    Ok((minor, currency))
}

/// ": ¥36.00, at most 30 s" for a prompt with an amount and a timeout; only
/// what was given.
pub(crate) fn details(amount: Option<Money>, timeout_ms: Option<u32>) -> String {
    let mut parts = Vec::new();
    if let Some(amount) = amount {
        parts.push(amount.to_string());
    }
    match timeout_ms {
        Some(ms) if ms % 1000 == 0 => parts.push(format!("at most {} s", ms / 1000)),
        Some(ms) => parts.push(format!("at most {ms} ms")),
        None => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    }
}

/// The amount of a prompt, if it has one.
pub(crate) fn amount(prompt: &Prompt) -> Result<Option<Money>, Failure> {
    match &prompt.amount {
        Some(amount) => {
            let (minor, currency) = minor_units(amount, &prompt.currency)?;
            Ok(Some(Money::new(minor, currency)))
        }
        None => Ok(None),
    }
}

pub(crate) fn prompt_options(prompt: &Prompt) -> Result<Options<'_>, Failure> {
    let mut options: Options<'_> = HashMap::new();
    if let Some(amount) = &prompt.amount {
        let (minor, currency) = minor_units(amount, &prompt.currency)?;
        options.insert("amount", Value::I64(minor));
        options.insert("currency", Value::from(currency.code));
    }
    if let Some(text) = &prompt.prompt {
        options.insert("prompt", Value::from(text.as_str()));
    }
    if let Some(ms) = prompt.timeout_ms {
        options.insert("timeout_ms", Value::U32(ms));
    }
    if !prompt.sources.is_empty() {
        let sources: Vec<&str> = prompt.sources.iter().map(String::as_str).collect();
        options.insert("sources", Value::from(sources));
    }
    Ok(options)
}
