//! What the display drivers' tests share: hostile item names and orders.

use kassa_hal::{Currency, Item, Order};
use proptest::prelude::*;

/// Names mixing printable text, spaces, katakana, CJK, emoji, controls,
/// ESC sequences, bidi overrides and the characters some ROMs lack.
pub fn hostile_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            any::<char>(),
            proptest::char::range('\0', '\x20'),
            Just('\x1b'),
            Just('\x7f'),
            Just('\u{202E}'),
            Just(' '),
            Just('\\'),
            Just('~'),
            proptest::char::range('ァ', 'ヶ'),
            proptest::char::range('一', '龥'),
            proptest::char::range('\u{1F300}', '\u{1F64F}'),
        ],
        0..80,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// An order of `names`, each two at 18.00 in `currency`.
pub fn order(names: &[&str], currency: &str) -> Order {
    let items: Vec<Item> = names
        .iter()
        .map(|name| Item {
            name: (*name).into(),
            quantity: "2".into(),
            unit: None,
            unit_price: 1800,
            total: 3600,
        })
        .collect();
    Order {
        id: "A-1".into(),
        currency: Currency::from_code(currency).expect("a known currency"),
        total: 3600 * items.len() as i64,
        items,
        discount: 0,
        tax: 0,
        payment_qr: None,
        note: None,
    }
}
