//! The backend's replies, as an HTTP body from a server that may be
//! compromised or confused: the payment-status, face-auth and order
//! parsers never panic, and what they accept is exactly what they would
//! accept again from a clean re-encoding of it. The status message is
//! shown to the customer, so it must be free of control and bidi
//! characters and short.
#![no_main]

use kassa_daemon::backend::{parse_face_answer, parse_status};
use kassa_hal::{Order, PaymentCode};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|body: &[u8]| {
    match parse_status(body) {
        Ok(Some(outcome)) => {
            assert!(
                !outcome
                    .message
                    .chars()
                    .any(kassa_hal::order::is_forbidden_char)
            );
            assert!(outcome.message.chars().count() <= 200);
            let again = json!({ "status": outcome.status.as_str(), "message": outcome.message });
            let again = parse_status(again.to_string().as_bytes());
            assert_eq!(again, Ok(Some(outcome)));
        }
        Ok(None) => {
            let value: serde_json::Value = serde_json::from_slice(body).expect("it was JSON");
            assert_eq!(value["status"], "pending");
        }
        Err(_) => {}
    }

    if let Ok(code) = parse_face_answer(body) {
        assert!(PaymentCode::parse(code.as_str().as_bytes()).is_ok());
        let again = json!({ "payment_code": code.as_str() }).to_string();
        assert_eq!(parse_face_answer(again.as_bytes()), Ok(code));
    }

    // kassad reads the order reply as UTF-8 first, as here.
    if let Ok(text) = std::str::from_utf8(body) {
        if let Ok(order) = Order::from_json(text) {
            assert!(order.validate().is_ok());
            assert_eq!(Order::from_json(&order.to_json()), Ok(order));
        }
    }
});
