//! The POS API's messages: JSON in WebSocket text frames, read into the
//! core's typed requests, and the replies and events written back.
//!
//! A request is `{"id": 1, "method": "BeginCheckout", "params": {…}}`; its
//! answer is `{"id": 1, "result": {…}}` or `{"id": 1, "error": {"name":
//! "org.kassa.Error.Busy", "message": "…"}}`. Events carry no id:
//! `{"event": "CodeScanned", "checkout": 3, …}`. The methods, their
//! parameters and their errors are those of the D-Bus interfaces; options
//! are the D-Bus options as a JSON object, read by the same reader.

use std::time::Duration;

use kassa_hal::PaymentStatus;
use serde_json::{Map, Value, json};
use zbus::zvariant::{self, OwnedValue};

use crate::core::{CheckoutOptions, ClaimOptions, CodeScan, CoreError, SessionEvent};
use crate::dbus::options::{self, Options, quote};
use crate::devices::Device;

/// Largest message a client may send: an order document (256 KiB) and its
/// envelope.
pub const MAX_MESSAGE: usize = kassa_hal::order::MAX_DOCUMENT_BYTES + 16 * 1024;

/// Largest request id: JavaScript numbers are exact up to 2^53 - 1.
const MAX_ID: u64 = (1 << 53) - 1;

/// Most entries in an `options` object (the longest list of known keys
/// has six).
const MAX_OPTIONS: usize = 16;

/// A request, read and checked.
#[derive(Debug)]
pub struct Request {
    /// Echoed in the answer.
    pub id: u64,
    /// What is asked.
    pub call: Call,
}

/// What a request asks, with its parameters typed as the core takes them.
#[derive(Debug)]
pub enum Call {
    ScanPaymentCode(CheckoutOptions),
    BeginCheckout(CheckoutOptions),
    Cancel {
        checkout: u64,
    },
    Finish {
        checkout: u64,
        status: PaymentStatus,
        message: String,
    },
    TakeCode {
        checkout: u64,
    },
    ShowOrder {
        order_json: String,
    },
    ShowOrderForCode {
        code: String,
        timeout: Option<Duration>,
    },
    ShowPaymentResult {
        status: PaymentStatus,
        message: String,
    },
    ShowText {
        lines: Vec<String>,
    },
    ClearDisplay,
    ClaimScanner(ClaimOptions),
    Release {
        claim: u64,
    },
    Enable {
        claim: u64,
    },
    GetTerminal,
}

/// A request that cannot be read: its id, if it had a readable one, and
/// why.
#[derive(Debug)]
pub struct Refused {
    /// The request's id, echoed so that the client can match the error.
    pub id: Option<u64>,
    /// Always `InvalidArgument`.
    pub error: CoreError,
}

fn invalid(message: String) -> CoreError {
    CoreError::InvalidArgument(message)
}

/// Reads one text message into a request.
///
/// # Errors
///
/// [`Refused`] with `InvalidArgument` naming the first thing wrong.
pub fn parse(text: &str) -> Result<Request, Refused> {
    let refuse = |id, message| Refused {
        id,
        error: invalid(message),
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| refuse(id_of(text), format!("not a JSON message: {e}")))?;
    let Value::Object(mut envelope) = value else {
        return Err(refuse(
            None,
            "a request is an object {\"id\", \"method\", \"params\"}".into(),
        ));
    };
    let id = match envelope.remove("id") {
        Some(Value::Number(n)) => n.as_u64().filter(|id| *id <= MAX_ID),
        _ => None,
    }
    .ok_or_else(|| refuse(None, format!("id: an integer from 0 to {MAX_ID}")))?;
    let method = match envelope.remove("method") {
        Some(Value::String(method)) => method,
        _ => return Err(refuse(Some(id), "method: a string".into())),
    };
    let params = match envelope.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(params)) => params,
        Some(_) => return Err(refuse(Some(id), "params: an object".into())),
    };
    if let Some(key) = envelope.keys().next() {
        return Err(refuse(
            Some(id),
            format!(
                "unknown key {}; a request has id, method and params",
                quote(key)
            ),
        ));
    }
    let call = Params::new(params).call(&method).map_err(|error| Refused {
        id: Some(id),
        error,
    })?;
    Ok(Request { id, call })
}

/// The id of a request that does not parse as a whole (a string cut in
/// the middle of a character, say), so that its error still reaches the
/// call that waits for it.
fn id_of(text: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        id: u64,
    }
    serde_json::from_str::<Envelope>(text)
        .ok()
        .map(|envelope| envelope.id)
        .filter(|id| *id <= MAX_ID)
}

/// A request's parameters, taken one by one; whatever is left unread is
/// an unknown parameter.
struct Params(Map<String, Value>);

impl Params {
    fn new(params: Map<String, Value>) -> Params {
        Params(params)
    }

    fn call(mut self, method: &str) -> Result<Call, CoreError> {
        let call = match method {
            "ScanPaymentCode" => Call::ScanPaymentCode(options::scan(&self.options()?)?),
            "BeginCheckout" => Call::BeginCheckout(options::checkout(&self.options()?)?),
            "Cancel" => Call::Cancel {
                checkout: self.id("checkout")?,
            },
            "Finish" => Call::Finish {
                checkout: self.id("checkout")?,
                status: options::payment_status(&self.string("status")?)?,
                message: self.optional_string("message")?,
            },
            "TakeCode" => Call::TakeCode {
                checkout: self.id("checkout")?,
            },
            "ShowOrder" => Call::ShowOrder {
                order_json: self.order()?,
            },
            "ShowOrderForCode" => Call::ShowOrderForCode {
                code: self.string("code")?,
                timeout: options::order_wait(&self.options()?)?,
            },
            "ShowPaymentResult" => Call::ShowPaymentResult {
                status: options::payment_status(&self.string("status")?)?,
                message: self.optional_string("message")?,
            },
            "ShowText" => Call::ShowText {
                lines: self.lines()?,
            },
            "ClearDisplay" => Call::ClearDisplay,
            "ClaimScanner" => Call::ClaimScanner(options::claim(&self.options()?)?),
            "Release" => Call::Release {
                claim: self.id("claim")?,
            },
            "Enable" => Call::Enable {
                claim: self.id("claim")?,
            },
            "GetTerminal" => Call::GetTerminal,
            other => {
                return Err(invalid(format!(
                    "unknown method {}; the methods are those of org.kassa.Terminal1, \
                     org.kassa.Checkout1 and org.kassa.Claim1, and GetTerminal",
                    quote(other)
                )));
            }
        };
        match self.0.keys().next() {
            Some(key) => Err(invalid(format!(
                "{method} takes no parameter {}",
                quote(key)
            ))),
            None => Ok(call),
        }
    }

    fn id(&mut self, key: &str) -> Result<u64, CoreError> {
        match self.0.remove(key) {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .ok_or_else(|| invalid(format!("{key}: the id {key} was given as, an integer")))
    }

    fn string(&mut self, key: &str) -> Result<String, CoreError> {
        match self.0.remove(key) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(invalid(format!("{key}: a string"))),
        }
    }

    fn optional_string(&mut self, key: &str) -> Result<String, CoreError> {
        match self.0.remove(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(invalid(format!("{key}: a string"))),
        }
    }

    fn lines(&mut self) -> Result<Vec<String>, CoreError> {
        let want = || invalid("lines: an array of strings".into());
        match self.0.remove("lines") {
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(want()),
                })
                .collect(),
            _ => Err(want()),
        }
    }

    /// The order document: a JSON object, or the same as a string.
    fn order(&mut self) -> Result<String, CoreError> {
        match self.0.remove("order") {
            Some(Value::String(json)) => Ok(json),
            Some(order @ Value::Object(_)) => Ok(order.to_string()),
            _ => Err(invalid(
                "order: the order document, as an object or a JSON string".into(),
            )),
        }
    }

    /// `options`, as the D-Bus `a{sv}` it mirrors.
    fn options(&mut self) -> Result<Options, CoreError> {
        match self.0.remove("options") {
            None | Some(Value::Null) => Ok(Options::new()),
            Some(Value::Object(entries)) if entries.len() <= MAX_OPTIONS => entries
                .into_iter()
                .map(|(key, value)| {
                    let value = option_value(&key, value)?;
                    Ok((key, value))
                })
                .collect(),
            Some(Value::Object(_)) => {
                Err(invalid(format!("options: at most {MAX_OPTIONS} entries")))
            }
            Some(_) => Err(invalid("options: an object".into())),
        }
    }
}

/// One option as the D-Bus reader takes it: integers as `x` (or `t` past
/// its range), strings as `s`, booleans as `b`, arrays of strings as `as`.
fn option_value(key: &str, value: Value) -> Result<OwnedValue, CoreError> {
    let unsupported = || {
        invalid(format!(
            "option {}: an integer, string, boolean or array of strings",
            quote(key)
        ))
    };
    let value = match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(n), _) => zvariant::Value::I64(n),
            (None, Some(n)) => zvariant::Value::U64(n),
            _ => return Err(invalid(format!("option {}: an integer", quote(key)))),
        },
        Value::String(s) => zvariant::Value::from(s),
        Value::Bool(b) => zvariant::Value::Bool(b),
        Value::Array(items) => {
            let strings = items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(unsupported()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            zvariant::Value::from(strings)
        }
        Value::Null | Value::Object(_) => return Err(unsupported()),
    };
    OwnedValue::try_from(value).map_err(|_| unsupported())
}

/// The answer to request `id`.
pub fn reply(id: u64, result: Value) -> String {
    json!({ "id": id, "result": result }).to_string()
}

/// The error answer to request `id` (`null` when it had none).
pub fn error(id: Option<u64>, e: &CoreError) -> String {
    json!({ "id": id, "error": { "name": e.name(), "message": e.message() } }).to_string()
}

/// A code as `ScanPaymentCode` and `TakeCode` answer it.
pub fn code(scan: &CodeScan) -> Value {
    json!({
        "code": scan.code.as_str(),
        "channel": scan.channel.as_str(),
        "source": scan.source.as_str(),
    })
}

/// An order document kassad wrote, as an object.
pub fn order(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|_| Value::String(json.to_string()))
}

/// A checkout's event, for its owner alone.
pub fn checkout_event(checkout: u64, event: &SessionEvent) -> String {
    match event {
        SessionEvent::CodeScanned(scan) => {
            let mut body = code(scan);
            body["event"] = json!("CodeScanned");
            body["checkout"] = json!(checkout);
            body.to_string()
        }
        SessionEvent::OrderShown(json) => {
            json!({ "event": "OrderShown", "checkout": checkout, "order": order(json) }).to_string()
        }
        SessionEvent::Finished { state, message } => json!({
            "event": "Finished",
            "checkout": checkout,
            "state": state.as_str(),
            "message": message,
        })
        .to_string(),
    }
}

/// A checkout's state, for its owner alone.
pub fn checkout_state(checkout: u64, state: &str, channel: &str) -> String {
    json!({ "event": "CheckoutState", "checkout": checkout, "state": state, "channel": channel })
        .to_string()
}

/// A scan delivered to a claim, for its claimant alone.
pub fn scanned(claim: u64, data: &str, symbology: &str, source: &str) -> String {
    json!({
        "event": "Scanned",
        "claim": claim,
        "data": data,
        "symbology": symbology,
        "source": source,
    })
    .to_string()
}

/// The terminal's state, for every client.
pub fn terminal_state(state: &str) -> String {
    json!({ "event": "TerminalState", "state": state }).to_string()
}

/// A device and its status, as `GetTerminal` lists it and `DeviceStatus`
/// events repeat it.
pub fn device(device: &Device) -> Value {
    let status = device.status.borrow();
    json!({
        "name": device.info.name,
        "role": device.info.role.as_str(),
        "driver": device.info.driver,
        "path": device.info.path,
        "connected": status.connected,
        "last_error": status.last_error,
        "scan_count": status.scan_count,
        "dropped_count": status.dropped_count,
    })
}

/// A device's status changed, for every client.
pub fn device_status(device: &Device) -> String {
    json!({ "event": "DeviceStatus", "device": self::device(device) }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> (Option<u64>, String) {
        match parse(text) {
            Err(Refused {
                id,
                error: CoreError::InvalidArgument(m),
            }) => (id, m),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_request_is_read_into_the_cores_typed_call() {
        let request = parse(
            r#"{"id": 7, "method": "BeginCheckout", "params": {"options":
               {"amount": 1250, "currency": "EUR", "timeout_ms": 30000, "sources": ["wedge"]}}}"#,
        )
        .unwrap();
        assert_eq!(request.id, 7);
        let Call::BeginCheckout(options) = request.call else {
            panic!("{:?}", request.call)
        };
        assert_eq!(options.amount.unwrap().minor_units(), 1250);
        assert_eq!(options.timeout, Some(Duration::from_secs(30)));
        assert_eq!(options.sources.unwrap().len(), 1);
        let request =
            parse(r#"{"id": 8, "method": "Finish", "params": {"checkout": 3, "status": "paid"}}"#)
                .unwrap();
        assert!(matches!(
            request.call,
            Call::Finish { checkout: 3, status: PaymentStatus::Paid, ref message } if message.is_empty()
        ));
        // An order as an object or as the JSON string D-Bus callers send.
        for given in [r#"{"currency": "EUR"}"#, r#""{\"currency\": \"EUR\"}""#] {
            let text =
                format!(r#"{{"id": 1, "method": "ShowOrder", "params": {{"order": {given}}}}}"#);
            let Call::ShowOrder { order_json } = parse(&text).unwrap().call else {
                panic!()
            };
            assert_eq!(order(&order_json)["currency"], "EUR");
        }
        assert!(matches!(
            parse(r#"{"id": 0, "method": "GetTerminal"}"#).unwrap().call,
            Call::GetTerminal
        ));
    }

    #[test]
    fn every_mistake_is_named_with_the_id_when_there_is_one() {
        assert_eq!(refused("{").0, None);
        // A lone surrogate (a JavaScript string cut inside an emoji) is
        // not JSON serde reads, but the call still gets its answer.
        let (id, m) =
            refused(r#"{"id": 12, "method": "ShowText", "params": {"lines": ["burger \ud83c"]}}"#);
        assert_eq!(id, Some(12), "{m}");
        assert_eq!(refused("[1]").0, None);
        assert!(refused(r#"{"method": "GetTerminal"}"#).1.contains("id"));
        assert!(
            refused(r#"{"id": -1, "method": "GetTerminal"}"#)
                .1
                .contains("id")
        );
        assert!(
            refused(r#"{"id": 9007199254740992, "method": "x"}"#)
                .1
                .contains("id")
        );
        let (id, m) = refused(r#"{"id": 4, "method": "Launch"}"#);
        assert_eq!(id, Some(4));
        assert!(m.contains("unknown method \"Launch\""), "{m}");
        let (_, m) = refused(r#"{"id": 4, "method": "ClearDisplay", "extra": 1}"#);
        assert!(m.contains("extra"), "{m}");
        let (_, m) = refused(r#"{"id": 4, "method": "ClearDisplay", "params": {"now": true}}"#);
        assert!(m.contains("ClearDisplay takes no parameter \"now\""), "{m}");
        let (_, m) = refused(r#"{"id": 4, "method": "Cancel", "params": {"checkout": "3"}}"#);
        assert!(m.contains("checkout"), "{m}");
        let (_, m) =
            refused(r#"{"id": 4, "method": "ShowPaymentResult", "params": {"status": "maybe"}}"#);
        assert!(m.contains("paid, failed or cancelled"), "{m}");
        // Options go through the D-Bus reader: its names, ranges and caps.
        let (_, m) = refused(
            r#"{"id": 4, "method": "ScanPaymentCode", "params": {"options": {"timout_ms": 5}}}"#,
        );
        assert!(m.contains("unknown option \"timout_ms\""), "{m}");
        let (_, m) = refused(
            r#"{"id": 4, "method": "ScanPaymentCode", "params": {"options": {"timeout_ms": 1e3}}}"#,
        );
        assert!(m.contains("timeout_ms"), "{m}");
        let (_, m) = refused(
            r#"{"id": 4, "method": "ScanPaymentCode", "params": {"options": {"amount": -1}}}"#,
        );
        assert!(m.contains("amount"), "{m}");
        let (_, m) = refused(
            r#"{"id": 4, "method": "ClaimScanner", "params": {"options": {"sources": [1]}}}"#,
        );
        assert!(m.contains("sources"), "{m}");
        let many: Vec<String> = (0..17).map(|i| format!("\"k{i}\": 1")).collect();
        let text = format!(
            r#"{{"id": 4, "method": "ScanPaymentCode", "params": {{"options": {{{}}}}}}}"#,
            many.join(",")
        );
        assert!(refused(&text).1.contains("at most 16"));
    }

    #[test]
    fn answers_carry_the_contracts_error_names() {
        let e = CoreError::Busy("a checkout is running".into());
        let answer: Value = serde_json::from_str(&error(Some(3), &e)).unwrap();
        assert_eq!(answer["id"], 3);
        assert_eq!(answer["error"]["name"], "org.kassa.Error.Busy");
        assert_eq!(answer["error"]["message"], "a checkout is running");
        let answer: Value = serde_json::from_str(&error(None, &e)).unwrap();
        assert!(answer["id"].is_null());
    }
}
