//! How a [`View`] fits a character display of a few rows and columns.
//!
//! The policy (docs/rendering.md), the same for a 2×20 VFD and a 16×2 or
//! 20×4 LCD: the last row carries the amount, flush right, and is never
//! cut; the rows above say what is happening. An order shows its latest
//! lines above the total (the most recent item right above it). Text that
//! does not fit is cut, never wrapped into the amount's row.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use kassa_hal::{Money, PaymentStatus, View};

use super::text::{Encoded, Rom, can_show, encode, left_right, width};

/// An amount as the display can show it in `columns`: `¥36.00` where the
/// ROM has the sign, else `CNY 36.00`, else the bare number.
pub fn amount_text<R: Rom + ?Sized>(money: &Money, rom: &R, columns: usize) -> String {
    let signed = money.to_string();
    if can_show(money.currency.symbol, rom) && width(&signed, rom) <= columns {
        return signed;
    }
    let coded = format!("{} {}", money.currency.code, money.number());
    if coded.len() <= columns {
        coded
    } else {
        money.number()
    }
}

/// The text of the first line before it is cut to the display's width,
/// for displays that can scroll it.
pub fn headline(view: &View) -> String {
    match view {
        View::Idle => String::new(),
        View::Text(lines) => lines.first().cloned().unwrap_or_default(),
        View::Prompt { text, .. } => text.clone(),
        View::Order(order) => order
            .items
            .last()
            .map(|i| i.name.clone())
            .unwrap_or_default(),
        View::PaymentQr { .. } => "SCAN TO PAY".into(),
        View::Result { status, .. } => match status {
            PaymentStatus::Paid => "PAID - THANK YOU",
            PaymentStatus::Failed => "PAYMENT FAILED",
            PaymentStatus::Cancelled => "CANCELLED",
        }
        .into(),
    }
}

/// The rows of `view` on a display of `rows` × `columns` in `rom`;
/// `idle` is what the idle screen says. Always exactly `rows` rows, none
/// wider than `columns`; the amount of a prompt, an order or a payment QR
/// always on the last.
pub fn lines<R: Rom + ?Sized>(
    view: &View,
    idle: &[String],
    rom: &R,
    columns: usize,
    rows: usize,
) -> Vec<Encoded> {
    let cut = |text: &str| encode(text, rom, columns);
    // The rows above the amount, and the amount; the amount always takes
    // the last row.
    let (mut body, amount): (Vec<Encoded>, Option<Money>) = match view {
        View::Idle => (idle.iter().map(|l| cut(l)).collect(), None),
        View::Text(lines) => (lines.iter().take(rows).map(|l| cut(l)).collect(), None),
        View::Prompt { text, amount } => {
            let room = rows.saturating_sub(usize::from(amount.is_some()));
            (wrap(text, rom, columns, room), *amount)
        }
        View::Order(order) => {
            let shown = order.items.len().min(rows.saturating_sub(1));
            let items = order.items[order.items.len() - shown..].iter().map(|item| {
                let total = Money::new(item.total, order.currency).number();
                left_right(&item.name, &total, rom, columns)
            });
            (items.collect(), Some(order.total_money()))
        }
        View::PaymentQr { amount, .. } => (vec![cut(&headline(view))], *amount),
        View::Result { message, .. } => {
            let mut body = vec![cut(&headline(view))];
            body.extend(wrap(message, rom, columns, rows.saturating_sub(1)));
            (body, None)
        }
    };
    match amount {
        Some(amount) if rows > 0 => {
            let keep = rows - 1;
            body.truncate(keep);
            body.resize(keep, Encoded::default());
            let total = amount_text(&amount, rom, columns);
            body.push(left_right("TOTAL", &total, rom, columns));
        }
        _ => {
            body.truncate(rows);
            body.resize(rows, Encoded::default());
        }
    }
    body
}

/// `text` over at most `rows` rows: cut on one row, broken at spaces on
/// more (a word longer than a row is cut).
fn wrap<R: Rom + ?Sized>(text: &str, rom: &R, columns: usize, rows: usize) -> Vec<Encoded> {
    if rows <= 1 {
        return (rows == 1)
            .then(|| encode(text, rom, columns))
            .into_iter()
            .collect();
    }
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, rom) <= columns || line.is_empty() {
            line = candidate;
        } else {
            out.push(core::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out.iter()
        .take(rows)
        .map(|l| encode(l, rom, columns))
        .collect()
}

/// What an 8-digit price display shows for `view`: the lamp to light and
/// the amount, or `None` to blank it. `last_amount` is the amount of the
/// previous view, which a paid result keeps on show under the "collect"
/// lamp.
pub fn price(view: &View, last_amount: Option<&Money>) -> Option<(PriceLamp, Money)> {
    match view {
        View::Prompt {
            amount: Some(m), ..
        }
        | View::PaymentQr {
            amount: Some(m), ..
        } => Some((PriceLamp::Total, *m)),
        View::Order(order) => Some((PriceLamp::Total, order.total_money())),
        View::Result {
            status: PaymentStatus::Paid,
            ..
        } => last_amount.map(|m| (PriceLamp::Collect, *m)),
        _ => None,
    }
}

/// The indicator lamps of an 8-digit price display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceLamp {
    /// All lamps off.
    Off,
    /// 单价 — unit price.
    Price,
    /// 总计 — total.
    Total,
    /// 收款 — amount collected.
    Collect,
    /// 找零 — change.
    Change,
}

#[cfg(test)]
mod tests {
    use kassa_hal::Currency;

    use super::*;
    use crate::vfd::CodePage;

    #[test]
    fn the_amount_keeps_the_last_row_of_a_tall_display() {
        let cny = Currency::from_code("CNY").unwrap();
        let prompt = View::Prompt {
            text: "Pay".into(),
            amount: Some(Money::new(3600, cny)),
        };
        let rows: Vec<Vec<u8>> = lines(&prompt, &[], &CodePage::Cp437, 12, 4)
            .into_iter()
            .map(|l| l.bytes)
            .collect();
        let expected: [&[u8]; 4] = [b"Pay", b"", b"", b"TOTAL \x9d36.00"];
        assert_eq!(rows, expected);
        assert!(lines(&prompt, &[], &CodePage::Cp437, 12, 0).is_empty());
        assert_eq!(lines(&prompt, &[], &CodePage::Cp437, 12, 1).len(), 1);
    }
}
