//! What the web screen's page is sent: a [`View`] turned into a small JSON
//! document with every amount already formatted and every QR code already
//! drawn, so the page only places text. Pure; tested without a server.

use kassa_hal::{Money, View};
use qrcode::{EcLevel, QrCode};
use serde_json::{Value, json};

use super::language::Languages;

/// What the idle screen shows, from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Branding {
    /// The merchant's name.
    pub merchant: String,
    /// Whether a logo is served at `/logo`.
    pub logo: bool,
}

/// The JSON document for `view` on a screen in the default languages
/// (English with Chinese headlines); `seq` numbers the views so the page
/// can tell a replay from an update.
pub fn view_json(view: &View, branding: &Branding, seq: u64) -> Value {
    view_json_in(view, branding, &Languages::default(), seq)
}

/// The JSON document for `view` on a screen in `languages`: amounts and
/// the item count written for the first language's customers.
pub fn view_json_in(view: &View, branding: &Branding, languages: &Languages, seq: u64) -> Value {
    let language = languages.first;
    let money = |m: &Money| language.format_money(m);
    let mut doc = match view {
        View::Idle => json!({
            "view": "idle",
            "merchant": branding.merchant,
            "logo": branding.logo,
        }),
        View::Text(lines) => json!({ "view": "text", "lines": lines }),
        View::Prompt { text, amount } => json!({
            "view": "prompt",
            "text": text,
            "amount": amount.as_ref().map(money),
        }),
        View::Order(order) => {
            let cur = order.currency;
            let lines: Vec<Value> = order
                .items
                .iter()
                .map(|item| {
                    json!({
                        "name": item.name,
                        "quantity": language.format_quantity(&item.quantity),
                        "unit": item.unit,
                        "unit_price": money(&Money::new(item.unit_price, cur)),
                        "total": money(&Money::new(item.total, cur)),
                    })
                })
                .collect();
            let adjustment = |minor: i64| (minor != 0).then(|| money(&Money::new(minor, cur)));
            json!({
                "view": "order",
                "merchant": branding.merchant,
                "order_id": order.id,
                "currency": cur.code,
                "lines": lines,
                "count": order.items.len(),
                "count_text": language.count_items(order.items.len()),
                "discount": adjustment(-order.discount.abs()),
                "tax": adjustment(order.tax),
                "total": money(&order.total_money()),
                "note": order.note,
                "qr": order.payment_qr.as_deref().map(qr_svg),
            })
        }
        View::PaymentQr { uri, amount } => json!({
            "view": "qr",
            "qr": qr_svg(uri),
            "amount": amount.as_ref().map(money),
        }),
        View::Result { status, message } => json!({
            "view": "result",
            "status": status.as_str(),
            "message": message,
        }),
    };
    doc["seq"] = json!(seq);
    doc
}

/// `data` as an SVG QR code (medium error correction, quiet zone of four
/// modules), or `None` if it is too long for a QR code.
pub fn qr_svg(data: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let size = width + 8;
    let mut path = String::new();
    for (i, colour) in code.to_colors().iter().enumerate() {
        if *colour == qrcode::Color::Dark {
            let (x, y) = (i % width + 4, i / width + 4);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"payment QR code\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use kassa_hal::{Currency, Item, Order, PaymentStatus};

    use super::*;

    fn order() -> Order {
        let cny = Currency::from_code("CNY").unwrap();
        Order {
            id: "A-1".into(),
            currency: cny,
            items: vec![Item {
                name: "拿铁 Latte".into(),
                quantity: "2".into(),
                unit: Some("cup".into()),
                unit_price: 1800,
                total: 3600,
            }],
            discount: 200,
            tax: 0,
            total: 3400,
            payment_qr: Some("https://qr.example/pay?o=A-1".into()),
            note: None,
        }
    }

    #[test]
    fn an_order_arrives_formatted() {
        let doc = view_json(&View::Order(order()), &Branding::default(), 7);
        assert_eq!(doc["view"], "order");
        assert_eq!(doc["seq"], 7);
        assert_eq!(doc["lines"][0]["name"], "拿铁 Latte");
        assert_eq!(doc["lines"][0]["unit_price"], "¥18.00");
        assert_eq!(doc["lines"][0]["total"], "¥36.00");
        assert_eq!(doc["discount"], "-¥2.00");
        assert_eq!(doc["tax"], Value::Null);
        assert_eq!(doc["total"], "¥34.00");
        assert!(doc["qr"].as_str().unwrap().starts_with("<svg"));
    }

    #[test]
    fn an_order_is_written_for_the_screens_market() {
        use crate::web::{Language, Languages};
        let mut euros = order();
        euros.currency = Currency::from_code("EUR").unwrap();
        euros.note = Some("Table 12 <b>".into());
        let french = Languages {
            first: Language::Fr,
            second: None,
        };
        let doc = view_json_in(&View::Order(euros), &Branding::default(), &french, 1);
        assert_eq!(doc["lines"][0]["unit_price"], "18,00\u{a0}€");
        assert_eq!(doc["discount"], "-2,00\u{a0}€");
        assert_eq!(doc["total"], "34,00\u{a0}€");
        assert_eq!(doc["count_text"], "1 article");
        // The note goes to the page as text, as the POS wrote it.
        assert_eq!(doc["note"], "Table 12 <b>");
        let prompt = View::Prompt {
            text: "Présentez votre code".into(),
            amount: Some(Money::new(120_000, Currency::from_code("JPY").unwrap())),
        };
        let japanese = Languages {
            first: Language::Ja,
            second: None,
        };
        let doc = view_json_in(&prompt, &Branding::default(), &japanese, 2);
        assert_eq!(doc["amount"], "¥120,000");
        // The default is the screen as it was.
        let doc = view_json(&View::Order(order()), &Branding::default(), 3);
        assert_eq!(doc["count_text"], "1 item");
    }

    #[test]
    fn the_result_and_idle_views_carry_only_what_they_show() {
        let branding = Branding {
            merchant: "Café Kassa".into(),
            logo: true,
        };
        let paid = View::Result {
            status: PaymentStatus::Paid,
            message: "Thank you".into(),
        };
        let doc = view_json(&paid, &branding, 1);
        assert_eq!(
            doc,
            json!({"view": "result", "status": "paid", "message": "Thank you", "seq": 1})
        );
        let idle = view_json(&View::Idle, &branding, 2);
        assert_eq!(idle["merchant"], "Café Kassa");
        assert_eq!(idle["logo"], true);
    }

    #[test]
    fn the_qr_code_has_a_dark_module_per_finder_pattern_corner() {
        let svg = qr_svg("https://qr.example/pay?o=A-1").unwrap();
        // 28 bytes at level M need version 3 (29 modules; version 2 holds
        // 26): with a quiet zone of 4, 37 wide. The top-left finder
        // pattern starts at (4,4).
        assert!(svg.contains("viewBox=\"0 0 37 37\""), "{svg}");
        assert!(svg.contains("M4 4h1v1h-1z"));
        assert!(qr_svg(&"x".repeat(8000)).is_none());
    }
}
