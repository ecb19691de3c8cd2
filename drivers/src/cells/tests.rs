//! The rendering policy's promises, for every size and code page.

use kassa_hal::money::CURRENCIES;
use kassa_hal::order::MAX_AMOUNT;
use kassa_hal::{Item, Money, Order, PaymentStatus, View};
use proptest::prelude::*;

use super::*;
use crate::testing::*;
use crate::vfd::CodePage;

const PAGES: [CodePage; 3] = [CodePage::Cp437, CodePage::Pc858, CodePage::Gb18030];

fn order(names: Vec<String>, currency: usize, total: i64) -> Order {
    let per_item = total / names.len().max(1) as i64;
    let items: Vec<Item> = names
        .into_iter()
        .map(|name| Item {
            name,
            quantity: "1".into(),
            unit: None,
            unit_price: per_item,
            total: per_item,
        })
        .collect();
    Order {
        id: "P-1".into(),
        currency: CURRENCIES[currency % CURRENCIES.len()],
        total: per_item * items.len() as i64,
        items,
        discount: 0,
        tax: 0,
        payment_qr: None,
        note: None,
    }
}

fn views(names: Vec<String>, currency: usize, total: i64) -> Vec<View> {
    let text = names.first().cloned().unwrap_or_default();
    let order = order(names.clone(), currency, total);
    let amount = Some(order.total_money());
    vec![
        View::Idle,
        View::Text(names),
        View::Prompt {
            text: text.clone(),
            amount,
        },
        View::PaymentQr {
            uri: "https://pay.example/x".into(),
            amount,
        },
        View::Result {
            status: PaymentStatus::Failed,
            message: text,
        },
        View::Order(order),
    ]
}

proptest! {
    /// Every view fills exactly the display's rows; no row is wider than
    /// its columns; no byte is a control byte; the amount is never dropped.
    #[test]
    fn every_view_fits_every_size(
        names in proptest::collection::vec(hostile_text(), 0..12),
        currency in 0usize..64,
        total in 0i64..=MAX_AMOUNT,
        rows in 1usize..=4,
        columns in 16usize..=40,
    ) {
        let idle = vec!["Welcome 欢迎光临".to_string(), "\x1b@".to_string()];
        for page in PAGES {
            for view in views(names.clone(), currency, total) {
                let out = lines(&view, &idle, &page, columns, rows);
                prop_assert_eq!(out.len(), rows);
                for row in &out {
                    prop_assert!(row.width <= columns);
                    prop_assert!(row.bytes.iter().all(|&b| b >= 0x20 && b != 0x7F));
                }
                let amount = match &view {
                    View::Order(o) => Some(o.total_money()),
                    View::Prompt { amount, .. } | View::PaymentQr { amount, .. } => *amount,
                    _ => None,
                };
                if let Some(amount) = amount {
                    let last = String::from_utf8_lossy(&out[rows - 1].bytes).into_owned();
                    prop_assert!(last.ends_with(&amount.number()), "{last:?} lacks {amount}");
                }
            }
        }
    }
}

#[test]
fn an_order_on_four_rows_shows_the_latest_three_items_above_the_total() {
    let names = ["Tea", "Bun", "Latte", "Cake"].map(String::from).to_vec();
    let view = View::Order(order(names, 0, 4 * 1250));
    let rows = lines(&view, &[], &CodePage::Cp437, 20, 4);
    let rows: Vec<String> = rows
        .iter()
        .map(|r| String::from_utf8_lossy(&r.bytes).into_owned())
        .collect();
    let currency = CURRENCIES[0];
    let item = Money::new(1250, currency).number();
    assert_eq!(rows[0], format!("Bun{:>17}", item));
    assert_eq!(rows[2], format!("Cake{:>16}", item));
    assert!(
        rows[3].starts_with("TOTAL") && rows[3].ends_with(&Money::new(5000, currency).number())
    );
}

#[test]
fn a_prompt_wraps_at_spaces_above_the_amount() {
    let view = View::Prompt {
        text: "Please present your payment code".into(),
        amount: None,
    };
    let rows = lines(&view, &[], &CodePage::Cp437, 16, 4);
    let rows: Vec<&[u8]> = rows.iter().map(|r| r.bytes.as_slice()).collect();
    assert_eq!(
        rows,
        [&b"Please present"[..], b"your payment", b"code", b""]
    );
}

#[test]
fn an_amount_too_wide_for_its_sign_falls_back_to_the_code_then_the_number() {
    let cny = CURRENCIES
        .iter()
        .find(|c| c.code == "CNY")
        .copied()
        .unwrap();
    let money = Money::new(MAX_AMOUNT, cny);
    assert_eq!(amount_text(&money, &CodePage::Cp437, 40), money.to_string());
    assert_eq!(amount_text(&money, &CodePage::Cp437, 14), money.to_string());
    assert_eq!(amount_text(&money, &CodePage::Cp437, 13), money.number());
    let small = Money::new(3600, cny);
    assert_eq!(amount_text(&small, &CodePage::Pc858, 20), "¥36.00");
}

#[test]
fn a_prompt_on_the_one_row_above_the_amount_is_cut_not_wrapped() {
    let cny = CURRENCIES
        .iter()
        .find(|c| c.code == "CNY")
        .copied()
        .unwrap();
    let view = View::Prompt {
        text: "Please present your payment code".into(),
        amount: Some(Money::new(3600, cny)),
    };
    let rows = lines(&view, &[], &CodePage::Cp437, 20, 2);
    assert_eq!(rows[0].bytes, b"Please present your ");
    assert_eq!(rows[1].bytes, b"TOTAL         \x9d36.00");
}
