//! The POS API's messages, as any client holding the token may send them:
//! the fuzz input is one text frame. Reading it never panics; a refusal
//! is `InvalidArgument` with a short message free of raw control
//! characters; and every answer kassad would write back is JSON that
//! carries the request's id.
#![no_main]

use kassa_daemon::core::CoreError;
use kassa_daemon::dbus::options::{MAX_ORDER_WAIT, MAX_WAIT};
use kassa_daemon::pos_api::protocol::{self, Call};
use libfuzzer_sys::fuzz_target;

/// Longer than any message the readers write.
const MAX_MESSAGE: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match protocol::parse(text) {
        Ok(request) => {
            // Durations within the D-Bus reader's caps.
            match &request.call {
                Call::ScanPaymentCode(o) | Call::BeginCheckout(o) => {
                    assert!(o.timeout.is_none_or(|t| t <= MAX_WAIT));
                    assert!(o.order_timeout.is_none_or(|t| t <= MAX_WAIT));
                }
                Call::ShowOrderForCode { timeout, .. } => {
                    assert!(timeout.is_none_or(|t| t <= MAX_ORDER_WAIT));
                }
                _ => {}
            }
            let answer: serde_json::Value =
                serde_json::from_str(&protocol::reply(request.id, serde_json::Value::Null))
                    .expect("JSON");
            assert_eq!(answer["id"], request.id);
        }
        Err(refused) => {
            let CoreError::InvalidArgument(message) = &refused.error else {
                panic!("not InvalidArgument: {:?}", refused.error);
            };
            assert!(message.len() <= MAX_MESSAGE, "{} bytes", message.len());
            assert!(!message.chars().any(char::is_control), "{message:?}");
            let answer: serde_json::Value =
                serde_json::from_str(&protocol::error(refused.id, &refused.error)).expect("JSON");
            assert_eq!(answer["error"]["name"], "org.kassa.Error.InvalidArgument");
        }
    }
});
