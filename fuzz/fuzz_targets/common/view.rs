//! Views built from fuzz input, the way outside data reach a display:
//! free text from D-Bus callers (which the renderers must make safe
//! themselves), amounts in the range kassad accepts, and orders that
//! passed the order validator (as every order from the backend has).

use kassa_hal::money::CURRENCIES;
use kassa_hal::order::{MAX_AMOUNT, is_forbidden_char};
use kassa_hal::{Currency, Item, Money, Order, PaymentStatus, View};
use libfuzzer_sys::arbitrary::{Result, Unstructured};

pub fn view(u: &mut Unstructured) -> Result<View> {
    Ok(match u.int_in_range(0..=5)? {
        0 => View::Idle,
        1 => View::Text(u.arbitrary()?),
        2 => View::Prompt {
            text: u.arbitrary()?,
            amount: amount(u)?,
        },
        3 => View::Order(order(u)?),
        4 => View::PaymentQr {
            uri: u.arbitrary()?,
            amount: amount(u)?,
        },
        _ => View::Result {
            status: *u.choose(&[
                PaymentStatus::Paid,
                PaymentStatus::Failed,
                PaymentStatus::Cancelled,
            ])?,
            message: u.arbitrary()?,
        },
    })
}

pub fn currency(u: &mut Unstructured) -> Result<Currency> {
    u.choose(CURRENCIES).copied()
}

fn amount(u: &mut Unstructured) -> Result<Option<Money>> {
    if !u.arbitrary::<bool>()? {
        return Ok(None);
    }
    let currency = currency(u)?;
    Ok(Some(Money::new(minor(u, MAX_AMOUNT)?, currency)))
}

/// Mostly small amounts, sometimes up to the limit (the widest numbers).
fn minor(u: &mut Unstructured, max: i64) -> Result<i64> {
    if u.arbitrary::<bool>()? {
        u.int_in_range(0..=max.min(100_000))
    } else {
        u.int_in_range(0..=max)
    }
}

/// Text the validator lets through: at most `max` characters, none of
/// them control or bidi characters, at least one.
fn text(u: &mut Unstructured, max: usize) -> Result<String> {
    let raw: String = u.arbitrary()?;
    let clean: String = raw
        .chars()
        .filter(|c| !is_forbidden_char(*c))
        .take(max)
        .collect();
    Ok(if clean.is_empty() { "x".into() } else { clean })
}

/// A valid order: every total adds up, every amount in range.
fn order(u: &mut Unstructured) -> Result<Order> {
    let currency = currency(u)?;
    let count = u.int_in_range(1..=12)?;
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let whole: u64 = u.int_in_range(0..=999_999)?;
        let thousandths: u64 = u.int_in_range(0..=999)?;
        let whole = if whole == 0 && thousandths == 0 {
            1
        } else {
            whole
        };
        let quantity = if thousandths == 0 {
            whole.to_string()
        } else {
            format!("{whole}.{thousandths:03}")
        };
        // At most 999999.999 × 1000000: every line total is in range.
        let unit_price = minor(u, 1_000_000)?;
        let total = (whole * 1000 + thousandths) as i64 * unit_price / 1000;
        items.push(Item {
            name: text(u, kassa_hal::order::MAX_NAME_CHARS)?,
            quantity,
            unit: if u.arbitrary()? {
                Some(text(u, kassa_hal::order::MAX_UNIT_CHARS)?)
            } else {
                None
            },
            unit_price,
            total,
        });
    }
    let subtotal: i64 = items.iter().map(|i| i.total).sum();
    // Twelve lines may sum past the limit: the discount brings the total
    // back into range.
    let least = (subtotal - MAX_AMOUNT).max(0);
    if least > MAX_AMOUNT {
        // Not even the largest discount brings it into range.
        return Err(libfuzzer_sys::arbitrary::Error::IncorrectFormat);
    }
    let discount = u.int_in_range(least..=subtotal.min(MAX_AMOUNT))?;
    let tax = minor(u, MAX_AMOUNT - (subtotal - discount))?;
    let order = Order {
        id: text(u, kassa_hal::order::MAX_ID_CHARS)?,
        currency,
        items,
        discount,
        tax,
        total: subtotal - discount + tax,
        payment_qr: if u.arbitrary()? {
            Some(text(u, kassa_hal::order::MAX_QR_CHARS)?)
        } else {
            None
        },
        note: if u.arbitrary()? {
            Some(text(u, kassa_hal::order::MAX_NOTE_CHARS)?)
        } else {
            None
        },
    };
    if let Err(e) = order.validate() {
        panic!("the fuzz target built an invalid order: {e:?}");
    }
    Ok(order)
}
