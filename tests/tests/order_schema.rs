//! The published JSON Schema and the Rust validator agree on every document
//! of the corpus under tests/data/orders.

use std::fs;
use std::path::{Path, PathBuf};

use kassa_hal::Order;
use kassa_hal::money::CURRENCIES;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema() -> Value {
    let text = fs::read_to_string(repo().join("docs/schema/order-v1.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema()).expect("the schema compiles")
}

fn corpus(folder: &str) -> Vec<(String, String)> {
    let dir = repo().join("tests/data/orders").join(folder);
    let mut docs: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&p).unwrap())
        })
        .collect();
    docs.sort();
    docs
}

fn schema_accepts(validator: &jsonschema::Validator, doc: &str) -> bool {
    serde_json::from_str::<Value>(doc).is_ok_and(|v| validator.is_valid(&v))
}

#[test]
fn the_corpus_is_large_enough() {
    let total: usize = ["valid", "invalid", "invalid-sums"]
        .iter()
        .map(|f| corpus(f).len())
        .sum();
    assert!(corpus("valid").len() >= 15 && corpus("invalid").len() >= 15);
    assert!(total >= 30, "{total} documents");
}

#[test]
fn valid_documents_pass_both() {
    let v = validator();
    for (name, doc) in corpus("valid") {
        assert!(schema_accepts(&v, &doc), "schema rejects {name}");
        if let Err(e) = Order::from_json(&doc) {
            panic!("kassa rejects {name}: {e}");
        }
    }
}

#[test]
fn invalid_documents_fail_both() {
    let v = validator();
    for (name, doc) in corpus("invalid") {
        assert!(!schema_accepts(&v, &doc), "schema accepts {name}");
        assert!(Order::from_json(&doc).is_err(), "kassa accepts {name}");
    }
}

/// What JSON Schema cannot express (sums, document size) kassa still
/// rejects, naming the field.
#[test]
fn sums_are_checked_by_kassa_alone() {
    let v = validator();
    let mut docs = corpus("invalid-sums");
    let big = r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":1,"total":1}],"total":1}"#;
    let padded = format!("{}{}}}", &big[..big.len() - 1], " ".repeat(256 * 1024));
    docs.push(("generated-oversized".into(), padded));
    for (name, doc) in docs {
        assert!(
            schema_accepts(&v, &doc),
            "schema rejects {name}, move it to invalid/"
        );
        let err = Order::from_json(&doc).expect_err(&name);
        let expected = match name.as_str() {
            "item-total-mismatch.json" | "weighed-off-by-two.json" => "items[0].total",
            "generated-oversized" => "document",
            _ => "total",
        };
        assert_eq!(err.field, expected, "{name}: {err}");
    }
}

#[test]
fn schema_currencies_are_the_validators() {
    let schema = schema();
    let listed: Vec<&str> = schema["properties"]["currency"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let known: Vec<&str> = CURRENCIES.iter().map(|c| c.code).collect();
    assert_eq!(listed, known);
}
