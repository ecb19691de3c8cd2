//! The order document v1 and its validator.
//!
//! ```json
//! {"id": "A-1001", "currency": "CNY",
//!  "items": [{"name": "拿铁 Latte", "quantity": "2", "unit_price": 1800, "total": 3600}],
//!  "discount": 0, "tax": 0, "total": 3600}
//! ```
//!
//! Every rejection names the offending field by its path (`items[3].total`)
//! so that a POS integrator can find it. The rules, which
//! `docs/order-schema.json` restates as a JSON Schema (sums aside, which JSON
//! Schema cannot express):
//!
//! - the document is a JSON object of at most [`MAX_DOCUMENT_BYTES`] with only
//!   the fields below;
//! - `id` (1–64 characters), `currency` (a code of [`crate::money::CURRENCIES`]),
//!   `items` (1–[`MAX_ITEMS`]) and `total` are required;
//! - money is an integer of minor units from 0 to [`MAX_AMOUNT`];
//! - `quantity` is a positive decimal string with at most 6 integer and 3
//!   fraction digits (`"2"`, `"0.455"`); `unit` (1–8 characters) is optional;
//! - an item's `total` is `quantity × unit_price`, rounded either way to a
//!   whole minor unit; the order's `total` is the sum of item totals minus
//!   `discount` plus `tax`;
//! - text has no control characters, no bidirectional embeddings, overrides
//!   or isolates, and no line or paragraph separators;
//! - no object has the same key twice (JSON parsers disagree on which one
//!   wins, so the POS and kassa could read different orders).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::money::{Currency, Money};

/// Largest accepted document, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Most items in one order.
pub const MAX_ITEMS: usize = 500;
/// Longest item name, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest order id, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest unit (`kg`), in characters.
pub const MAX_UNIT_CHARS: usize = 8;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 512;
/// Longest payment QR URI, in characters.
pub const MAX_QR_CHARS: usize = 1024;
/// Largest amount of money, in minor units (just under a trillion).
pub const MAX_AMOUNT: i64 = 999_999_999_999;

/// Why an order was rejected: the field, by path, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderError {
    /// Path of the offending field: `total`, `items[3].name`, or `document`
    /// for the document as a whole.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl OrderError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> OrderError {
        OrderError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OrderError {}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// What the customer buys, as it should appear on the display.
    pub name: String,
    /// A positive decimal string: `"2"`, `"0.455"`.
    pub quantity: String,
    /// The unit of a weighed quantity (`kg`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Price of one unit, in minor units.
    pub unit_price: i64,
    /// The line's total, in minor units.
    pub total: i64,
}

/// A validated order document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// The POS's id for the order.
    pub id: String,
    /// The currency of every amount.
    #[serde(serialize_with = "serialize_currency")]
    pub currency: Currency,
    /// The lines, in the order the POS rang them up.
    pub items: Vec<Item>,
    /// Discount over the whole order, in minor units.
    pub discount: i64,
    /// Tax added to the whole order, in minor units.
    pub tax: i64,
    /// What the customer pays, in minor units.
    pub total: i64,
    /// A URI to show as a QR code for the customer to pay with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_qr: Option<String>,
    /// A free-text note to show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn serialize_currency<S: serde::Serializer>(c: &Currency, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.code)
}

impl Order {
    /// Parses and validates an order document.
    ///
    /// # Errors
    ///
    /// [`OrderError`] naming the first field found at fault, or `document`
    /// for a document that is too large or not JSON.
    pub fn from_json(text: &str) -> Result<Order, OrderError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(OrderError::new(
                "document",
                alloc::format!("is {} bytes, more than {MAX_DOCUMENT_BYTES}", text.len()),
            ));
        }
        let value = unique_keys::parse(text)?;
        Order::from_value(&value)
    }

    /// Validates an already-parsed order document.
    ///
    /// # Errors
    ///
    /// As [`Order::from_json`].
    pub fn from_value(value: &Value) -> Result<Order, OrderError> {
        let doc = Fields::of(value, "document")?;
        doc.only(&[
            "id",
            "currency",
            "items",
            "discount",
            "tax",
            "total",
            "payment_qr",
            "note",
        ])?;
        let currency_code = doc.string("currency")?;
        let currency = Currency::from_code(&currency_code).ok_or_else(|| {
            OrderError::new(
                "currency",
                alloc::format!("{currency_code:?} is not a supported ISO 4217 code"),
            )
        })?;
        let items_value = doc.required("items")?;
        let items = items_value
            .as_array()
            .ok_or_else(|| OrderError::new("items", "must be an array"))?
            .iter()
            .enumerate()
            .map(|(i, v)| Item::from_value(v, &alloc::format!("items[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let order = Order {
            id: doc.string("id")?,
            currency,
            items,
            discount: doc.optional_amount("discount")?.unwrap_or(0),
            tax: doc.optional_amount("tax")?.unwrap_or(0),
            total: doc.amount("total")?,
            payment_qr: doc.optional_string("payment_qr")?,
            note: doc.optional_string("note")?,
        };
        order.validate()?;
        Ok(order)
    }

    /// Checks sizes, text and sums of an order however it was built.
    ///
    /// # Errors
    ///
    /// [`OrderError`] naming the first field at fault.
    pub fn validate(&self) -> Result<(), OrderError> {
        check_text("id", &self.id, 1, MAX_ID_CHARS)?;
        if self.items.is_empty() || self.items.len() > MAX_ITEMS {
            return Err(OrderError::new(
                "items",
                alloc::format!("must hold 1 to {MAX_ITEMS} items, has {}", self.items.len()),
            ));
        }
        for (i, item) in self.items.iter().enumerate() {
            item.validate(&alloc::format!("items[{i}]"))?;
        }
        check_amount("discount", self.discount)?;
        check_amount("tax", self.tax)?;
        check_amount("total", self.total)?;
        if let Some(qr) = &self.payment_qr {
            check_text("payment_qr", qr, 1, MAX_QR_CHARS)?;
        }
        if let Some(note) = &self.note {
            check_text("note", note, 0, MAX_NOTE_CHARS)?;
        }
        let expected = self.subtotal() - i128::from(self.discount) + i128::from(self.tax);
        if i128::from(self.total) != expected {
            return Err(OrderError::new(
                "total",
                alloc::format!(
                    "is {}, but items sum to {} and with discount {} and tax {} the total is {expected}",
                    self.total,
                    self.subtotal(),
                    self.discount,
                    self.tax
                ),
            ));
        }
        Ok(())
    }

    /// Sum of the item totals, in minor units.
    pub fn subtotal(&self) -> i128 {
        self.items.iter().map(|i| i128::from(i.total)).sum()
    }

    /// The total as [`Money`].
    pub fn total_money(&self) -> Money {
        Money::new(self.total, self.currency)
    }

    /// The order as a JSON document (the form [`Order::from_json`] reads).
    pub fn to_json(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Item {
    fn from_value(value: &Value, path: &str) -> Result<Item, OrderError> {
        let fields = Fields::of(value, path)?;
        fields.only(&["name", "quantity", "unit", "unit_price", "total"])?;
        Ok(Item {
            name: fields.string("name")?,
            quantity: fields.string("quantity")?,
            unit: fields.optional_string("unit")?,
            unit_price: fields.amount("unit_price")?,
            total: fields.amount("total")?,
        })
    }

    fn validate(&self, path: &str) -> Result<(), OrderError> {
        let field = |name: &str| alloc::format!("{path}.{name}");
        check_text(&field("name"), &self.name, 1, MAX_NAME_CHARS)?;
        let thousandths = parse_quantity(&self.quantity).ok_or_else(|| {
            OrderError::new(
                field("quantity"),
                alloc::format!(
                    "{:?} is not a positive decimal string like \"2\" or \"0.455\" (at most 6 integer and 3 fraction digits)",
                    self.quantity
                ),
            )
        })?;
        if let Some(unit) = &self.unit {
            check_text(&field("unit"), unit, 1, MAX_UNIT_CHARS)?;
        }
        check_amount(&field("unit_price"), self.unit_price)?;
        check_amount(&field("total"), self.total)?;
        let exact = i128::from(thousandths) * i128::from(self.unit_price);
        let floor = exact / 1000;
        let ceil = floor + i128::from(exact % 1000 != 0);
        let total = i128::from(self.total);
        if total != floor && total != ceil {
            return Err(OrderError::new(
                field("total"),
                alloc::format!(
                    "is {}, but quantity {} × unit_price {} is {}",
                    self.total,
                    self.quantity,
                    self.unit_price,
                    if floor == ceil {
                        floor.to_string()
                    } else {
                        alloc::format!("{floor} or {ceil}")
                    }
                ),
            ));
        }
        Ok(())
    }

    /// The quantity in thousandths (`"0.455"` is 455), for display code.
    pub fn quantity_thousandths(&self) -> Option<u64> {
        parse_quantity(&self.quantity)
    }
}

/// `"2"` → 2000, `"0.455"` → 455; `None` unless a positive decimal of at
/// most 6 integer digits (no leading zero) and 3 fraction digits.
fn parse_quantity(text: &str) -> Option<u64> {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || int.len() > 6 || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    let mut value: u64 = int.parse::<u64>().ok()? * 1000;
    if let Some(frac) = frac {
        if !digits(frac) || frac.len() > 3 {
            return None;
        }
        let scale = [100, 10, 1];
        for (digit, scale) in frac.bytes().zip(scale) {
            value += u64::from(digit - b'0') * scale;
        }
    }
    (value > 0).then_some(value)
}

/// Whether `c` may not appear in order text: control characters, bidi
/// embeddings/overrides/isolates, line and paragraph separators.
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || c == '\u{2028}'
        || c == '\u{2029}'
}

fn check_text(field: &str, text: &str, min: usize, max: usize) -> Result<(), OrderError> {
    if let Some((i, c)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| is_forbidden_char(*c))
    {
        return Err(OrderError::new(
            field,
            alloc::format!(
                "character {i} is U+{:04X}, a control or bidi character",
                u32::from(c)
            ),
        ));
    }
    let count = text.chars().count();
    if count < min || count > max {
        return Err(OrderError::new(
            field,
            alloc::format!("must be {min} to {max} characters, is {count}"),
        ));
    }
    Ok(())
}

fn check_amount(field: &str, amount: i64) -> Result<(), OrderError> {
    if (0..=MAX_AMOUNT).contains(&amount) {
        Ok(())
    } else {
        Err(OrderError::new(
            field,
            alloc::format!("{amount} is outside 0 to {MAX_AMOUNT} minor units"),
        ))
    }
}

/// A JSON object being read, with its path for error messages.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, path: &'a str) -> Result<Fields<'a>, OrderError> {
        value
            .as_object()
            .map(|map| Fields { map, path })
            .ok_or_else(|| OrderError::new(path, "must be a JSON object"))
    }

    fn field(&self, name: &str) -> String {
        if self.path == "document" {
            name.to_string()
        } else {
            alloc::format!("{}.{name}", self.path)
        }
    }

    fn only(&self, known: &[&str]) -> Result<(), OrderError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => Err(OrderError::new(self.field(unknown), "unknown field")),
            None => Ok(()),
        }
    }

    fn required(&self, name: &str) -> Result<&'a Value, OrderError> {
        self.map
            .get(name)
            .ok_or_else(|| OrderError::new(self.field(name), "is required"))
    }

    fn string(&self, name: &str) -> Result<String, OrderError> {
        self.required(name)?
            .as_str()
            .map(String::from)
            .ok_or_else(|| OrderError::new(self.field(name), "must be a string"))
    }

    fn optional_string(&self, name: &str) -> Result<Option<String>, OrderError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(_) => self.string(name).map(Some),
        }
    }

    /// An integer amount. JSON numbers with a zero fraction (`3600.0`) count
    /// as integers, as in JSON Schema.
    fn amount(&self, name: &str) -> Result<i64, OrderError> {
        let value = self.required(name)?;
        let not_integer = || {
            OrderError::new(
                self.field(name),
                "must be an integer number of minor units (3600 for 36.00)",
            )
        };
        if let Some(n) = value.as_i64() {
            return Ok(n);
        }
        if value.as_u64().is_some() {
            return Ok(i64::MAX); // out of range; check_amount names it
        }
        match value.as_f64() {
            // Beyond 1e15 the amount is out of range whatever its fraction.
            Some(f) if f.abs() >= 1e15 => Ok(if f < 0.0 { i64::MIN } else { i64::MAX }),
            Some(f) if f == (f as i64) as f64 => Ok(f as i64),
            _ => Err(not_integer()),
        }
    }

    fn optional_amount(&self, name: &str) -> Result<Option<i64>, OrderError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(_) => self.amount(name).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_repeated_key_is_refused_by_its_path() {
        let e = Order::from_json(
            r#"{"id":"FIRST","id":"SECOND","currency":"CNY","items":[],"total":0}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.reason.as_str()),
            ("id", "appears more than once")
        );
        let e = Order::from_json(
            r#"{"id":"A","currency":"CNY","items":[{"name":"a","name":"b","quantity":"1","unit_price":1,"total":1}],"total":1}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "items[0].name");
        // Only keys of one object are compared.
        assert!(
            Order::from_json(
                r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1},{"name":"b","quantity":"1","unit_price":1,"total":1}],"total":2}"#
            )
            .is_ok()
        );
        let e = Order::from_json("{\"i\\nd\":1,\"i\\nd\":2}").unwrap_err();
        assert_eq!(e.field, "i\\nd");
        assert_eq!(Order::from_json("{} x").unwrap_err().field, "document");
    }

    use super::*;

    const LATTE: &str = r#"{"id": "A-1001", "currency": "CNY",
        "items": [{"name": "拿铁 Latte", "quantity": "2", "unit_price": 1800, "total": 3600}],
        "discount": 0, "tax": 0, "total": 3600}"#;

    fn rejected(doc: &str) -> OrderError {
        Order::from_json(doc).expect_err("document should be rejected")
    }

    #[test]
    fn the_design_example_is_valid() {
        let order = Order::from_json(LATTE).unwrap();
        assert_eq!(order.items[0].name, "拿铁 Latte");
        assert_eq!(order.total_money().to_string(), "¥36.00");
        assert_eq!(Order::from_json(&order.to_json()).unwrap(), order);
    }

    #[test]
    fn quantities_are_positive_decimals() {
        assert_eq!(parse_quantity("2"), Some(2000));
        assert_eq!(parse_quantity("0.455"), Some(455));
        assert_eq!(parse_quantity("0.5"), Some(500));
        assert_eq!(parse_quantity("0.05"), Some(50));
        assert_eq!(parse_quantity("999999.999"), Some(999_999_999));
        for bad in [
            "0", "0.000", "", ".5", "5.", "-1", "1.2345", "01", "1e3", "1,5", "1234567", " 1",
        ] {
            assert_eq!(parse_quantity(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn weighed_items_round_either_way() {
        let doc = |total: i64| {
            alloc::format!(
                r#"{{"id":"W","currency":"CNY","items":[{{"name":"apples","quantity":"0.455","unit":"kg","unit_price":1800,"total":{total}}}],"total":{total}}}"#
            )
        };
        // 0.455 × 1800 = 819 exactly; 0.455 × 1799 = 818.545.
        assert!(Order::from_json(&doc(819)).is_ok());
        assert_eq!(rejected(&doc(820)).field, "items[0].total");
        let uneven = |total: i64| {
            alloc::format!(
                r#"{{"id":"W","currency":"CNY","items":[{{"name":"apples","quantity":"0.455","unit_price":1799,"total":{total}}}],"total":{total}}}"#
            )
        };
        assert!(Order::from_json(&uneven(818)).is_ok());
        assert!(Order::from_json(&uneven(819)).is_ok());
        assert_eq!(rejected(&uneven(817)).field, "items[0].total");
    }

    #[test]
    fn errors_name_the_field_path() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1},{"name":"b","quantity":"1","unit_price":1,"total":2}],"total":3}"#,
                "items[1].total",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1}],"total":2}"#,
                "total",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a\u0007","quantity":"1","unit_price":1,"total":1}],"total":1}"#,
                "items[0].name",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a\u202Eb","quantity":"1","unit_price":1,"total":1}],"total":1}"#,
                "items[0].name",
            ),
            (
                r#"{"id":"A","currency":"XYZ","items":[{"name":"a","quantity":"1","unit_price":1,"total":1}],"total":1}"#,
                "currency",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":1,"unit_price":1,"total":1}],"total":1}"#,
                "items[0].quantity",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1.5,"total":1}],"total":1}"#,
                "items[0].unit_price",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1,"colour":"red"}],"total":1}"#,
                "items[0].colour",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[],"total":0}"#,
                "items",
            ),
            (
                r#"{"currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1}],"total":1}"#,
                "id",
            ),
            (
                r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1}],"total":1,"discount":-1}"#,
                "discount",
            ),
            (r#"[1,2]"#, "document"),
            (r#"{"id":"A","#, "document"),
        ];
        for (doc, field) in cases {
            let err = rejected(doc);
            assert_eq!(&err.field, field, "{doc}: {err}");
        }
    }

    #[test]
    fn size_bounds_are_enforced() {
        let big = alloc::format!("{{\"id\":\"{}\"}}", "x".repeat(MAX_DOCUMENT_BYTES));
        assert_eq!(rejected(&big).field, "document");
        let long_name = "长".repeat(MAX_NAME_CHARS + 1);
        let doc = alloc::format!(
            r#"{{"id":"A","currency":"CNY","items":[{{"name":"{long_name}","quantity":"1","unit_price":1,"total":1}}],"total":1}}"#
        );
        assert_eq!(rejected(&doc).field, "items[0].name");
    }

    #[test]
    fn discount_and_tax_enter_the_total() {
        let doc = r#"{"id":"A","currency":"JPY","items":[{"name":"お茶","quantity":"3","unit_price":150,"total":450}],"discount":50,"tax":40,"total":440}"#;
        let order = Order::from_json(doc).unwrap();
        assert_eq!(order.total_money().to_string(), "¥440");
        let over = r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1}],"discount":2,"total":0}"#;
        assert_eq!(rejected(over).field, "total");
    }
}

/// JSON parsing that refuses an object with the same key twice, naming the
/// key by its path (`items[0].name`), where a plain parse keeps the last.
mod unique_keys {
    use alloc::format;
    use alloc::string::String;
    use core::cell::RefCell;
    use core::fmt;

    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};

    use super::OrderError;

    /// Parses `text`; a repeated key is an error on that key's path.
    pub(super) fn parse(text: &str) -> Result<Value, OrderError> {
        let repeated = RefCell::new(None);
        let mut parser = serde_json::Deserializer::from_str(text);
        let seed = Strict {
            path: String::new(),
            repeated: &repeated,
        };
        let parsed = seed.deserialize(&mut parser).and_then(|v| {
            parser.end()?;
            Ok(v)
        });
        match (parsed, repeated.into_inner()) {
            (Ok(value), _) => Ok(value),
            (Err(_), Some(path)) => Err(OrderError::new(path, "appears more than once")),
            (Err(e), None) => Err(OrderError::new("document", format!("not valid JSON: {e}"))),
        }
    }

    /// A value at `path`.
    struct Strict<'a> {
        path: String,
        repeated: &'a RefCell<Option<String>>,
    }

    impl Strict<'_> {
        fn child(&self, path: String) -> Self {
            Strict {
                path,
                repeated: self.repeated,
            }
        }
    }

    impl<'de> DeserializeSeed<'de> for Strict<'_> {
        type Value = Value;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Strict<'_> {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }

        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }

        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.into()))
        }

        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }

        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = alloc::vec::Vec::new();
            while let Some(item) =
                seq.next_element_seed(self.child(format!("{}[{}]", self.path, items.len())))?
            {
                items.push(item);
            }
            Ok(Value::Array(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut object = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.path.is_empty() {
                    key.clone()
                } else {
                    format!("{}.{key}", self.path)
                };
                if object.contains_key(&key) {
                    let shown = format!("{}", path.escape_debug());
                    let message = format!("duplicate key {shown}");
                    *self.repeated.borrow_mut() = Some(shown);
                    return Err(de::Error::custom(message));
                }
                let value = map.next_value_seed(self.child(path))?;
                object.insert(key, value);
            }
            Ok(Value::Object(object))
        }
    }
}
