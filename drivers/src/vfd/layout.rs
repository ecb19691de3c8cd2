//! How a [`View`] fits a two-line character display.
//!
//! The policy (docs/displays.md): the first line says what is happening or
//! names the last item, the second line carries the amount, flush right.
//! An order shows its last line and its total; the total is never cut.

use kassa_hal::{Money, PaymentStatus, View};

use super::text::{CodePage, Encoded, can_show, encode, left_right};

/// An amount as the display can show it: `¥36.00` where the code page has
/// the sign, `CNY 36.00` where it does not.
pub fn amount_text(money: &Money, page: CodePage) -> String {
    if can_show(money.currency.symbol, page) {
        money.to_string()
    } else {
        format!("{} {}", money.currency.code, money.number())
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

/// The two lines of `view` on a display `columns` wide; `idle` is what the
/// idle screen says.
pub fn two_lines(view: &View, idle: &[String; 2], page: CodePage, columns: usize) -> [Encoded; 2] {
    let line = |text: &str| encode(text, page, columns);
    let total_line = |amount: Option<&Money>| match amount {
        Some(m) => left_right("TOTAL", &amount_text(m, page), page, columns),
        None => Encoded::default(),
    };
    match view {
        View::Idle => [line(&idle[0]), line(&idle[1])],
        View::Text(lines) => [
            line(lines.first().map_or("", String::as_str)),
            line(lines.get(1).map_or("", String::as_str)),
        ],
        View::Prompt { text, amount } => [line(text), total_line(amount.as_ref())],
        View::Order(order) => {
            let last = order.items.last().map(|item| {
                let total = Money::new(item.total, order.currency).number();
                left_right(&item.name, &total, page, columns)
            });
            [
                last.unwrap_or_default(),
                total_line(Some(&order.total_money())),
            ]
        }
        View::PaymentQr { amount, .. } => [line(&headline(view)), total_line(amount.as_ref())],
        View::Result { message, .. } => [line(&headline(view)), line(message)],
    }
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
