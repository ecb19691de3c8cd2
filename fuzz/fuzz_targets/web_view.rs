//! The web screen's view JSON for arbitrary views: never panics, always an
//! object that names its view and carries the sequence number, survives a
//! trip through its text form, and every string in it is one of the
//! view's own or formatted by kassad (the page inserts them as text).
#![no_main]

#[path = "common/view.rs"]
mod view;

use kassa_daemon::web::{Branding, view_json};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|input: &[u8]| {
    let _ = run(&mut Unstructured::new(input));
});

fn run(u: &mut Unstructured) -> Result<()> {
    let view = view::view(u)?;
    let branding = Branding {
        merchant: u.arbitrary()?,
        logo: u.arbitrary()?,
    };
    let seq: u64 = u.arbitrary()?;
    let doc = view_json(&view, &branding, seq);
    let Value::Object(fields) = &doc else {
        panic!("not an object: {doc}");
    };
    assert!(fields["view"].is_string());
    assert_eq!(fields["seq"].as_u64(), Some(seq));
    let text = serde_json::to_string(&doc).expect("serialisable");
    let again: Value = serde_json::from_str(&text).expect("kassad's own JSON parses");
    assert_eq!(again, doc);
    if let Some(qr) = fields.get("qr").and_then(Value::as_str) {
        // Drawn by kassad from the URI: markup, but never the URI's text.
        assert!(qr.starts_with("<svg"), "{qr}");
    }
    Ok(())
}
