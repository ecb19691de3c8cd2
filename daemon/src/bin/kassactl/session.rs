//! The commands that follow kassad's signals: a whole checkout, and a
//! claim on the scanner.

use std::collections::HashMap;

use futures_util::StreamExt;
use kassa_client::{CheckoutProxy, ClaimProxy, Options, TerminalProxy};
use kassa_hal::{Currency, Money, mask};
use serde_json::json;
use zbus::zvariant::{OwnedObjectPath, Value};

use crate::commands::Printer;
use crate::output::{Failure, Outcome, escaped, order_line, out};

/// Runs a whole checkout with `options`, printing each step, until it
/// finishes; Ctrl-C cancels it. The exit code says how it ended.
pub(crate) async fn checkout(
    conn: &zbus::Connection,
    terminal: &TerminalProxy<'_>,
    options: Options<'_>,
    show_code: bool,
    printer: Printer,
) -> Outcome {
    // Subscribe before starting, so no signal can slip past.
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .interface("org.kassa.Checkout1")?
        .path_namespace("/org/kassa/Terminal1/checkout")?
        .build();
    let mut signals = zbus::MessageStream::for_match_rule(rule, conn, Some(16)).await?;
    let amount = match (options.get("amount"), options.get("currency")) {
        (Some(Value::I64(minor)), Some(Value::Str(code))) => {
            Currency::from_code(code.as_str()).map(|c| Money::new(*minor, c).to_string())
        }
        _ => None,
    };
    let path = terminal.begin_checkout(options).await?;
    printer.print(
        format!(
            "checkout started: waiting for the customer's payment code{}",
            amount.map(|a| format!(" ({a})")).unwrap_or_default()
        ),
        json!({"event": "started", "session": path.as_str()}),
    );
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    loop {
        let message = tokio::select! {
            m = signals.next() => m,
            _ = &mut interrupt => {
                let session = CheckoutProxy::builder(conn).path(path.clone())?.build().await?;
                session.cancel().await?;
                continue;
            }
        };
        let Some(Ok(message)) = message else {
            return Err(Failure::new(10, "lost the connection to kassad"));
        };
        if !is_from(&message, &path) {
            continue;
        }
        if let Some(step) = checkout_step(&message, show_code)? {
            printer.print(step.text, step.value);
            if let Some(code) = step.exit {
                return Ok(code);
            }
        }
    }
}

/// Whether `message` was sent by the object at `path`.
fn is_from(message: &zbus::Message, path: &OwnedObjectPath) -> bool {
    message.header().path().map(|p| p.as_str()) == Some(path.as_str())
}

/// One step of a checkout, as kassactl shows it.
struct Step {
    text: String,
    value: serde_json::Value,
    /// The exit code, for the last step (`Finished`).
    exit: Option<u8>,
}

/// What a checkout's signal says; `None` for a signal kassactl does not
/// show.
fn checkout_step(message: &zbus::Message, show_code: bool) -> Result<Option<Step>, Failure> {
    let member = message
        .header()
        .member()
        .map(|m| m.to_string())
        .unwrap_or_default();
    Ok(Some(match member.as_str() {
        "CodeScanned" => {
            let (code, channel, source): (String, String, String) = message.body().deserialize()?;
            let shown = if show_code { code } else { mask(&code) };
            let text =
                format!("payment code {shown} ({channel}, from {source}); waiting for the order");
            let value = json!({"event": "code_scanned", "code": shown, "channel": channel, "source": source});
            Step {
                text,
                value,
                exit: None,
            }
        }
        "OrderShown" => {
            let (order,): (String,) = message.body().deserialize()?;
            let value: serde_json::Value =
                serde_json::from_str(&order).unwrap_or(serde_json::Value::Null);
            let text = format!("order shown: {}", order_line(&order));
            Step {
                text,
                value: json!({"event": "order_shown", "order": value}),
                exit: None,
            }
        }
        "Finished" => {
            let (state, why): (String, String) = message.body().deserialize()?;
            let text = if why.is_empty() {
                format!("finished: {state}")
            } else {
                format!("finished: {state} ({why})")
            };
            let code = match state.as_str() {
                "paid" => 0,
                "expired" => 3,
                "cancelled" => 4,
                _ => 11,
            };
            let value = json!({"event": "finished", "state": state, "message": why});
            Step {
                text,
                value,
                exit: Some(code),
            }
        }
        _ => return Ok(None),
    }))
}

/// Claims the scanner and prints every scan, one per line, until Ctrl-C
/// or `count` scans; then releases it.
pub(crate) async fn claim(
    conn: &zbus::Connection,
    terminal: &TerminalProxy<'_>,
    count: Option<usize>,
    sources: &[String],
    printer: Printer,
) -> Outcome {
    let rule = zbus::MatchRule::builder()
        .msg_type(zbus::message::Type::Signal)
        .interface("org.kassa.Claim1")?
        .member("Scanned")?
        .build();
    let mut signals = zbus::MessageStream::for_match_rule(rule, conn, Some(64)).await?;
    let mut options: Options<'_> = HashMap::new();
    if !sources.is_empty() {
        options.insert(
            "sources",
            Value::from(sources.iter().map(String::as_str).collect::<Vec<_>>()),
        );
    }
    let path = terminal.claim_scanner(options).await?;
    let claim = ClaimProxy::builder(conn)
        .path(path.clone())?
        .build()
        .await?;
    printer.waiting("scanner claimed; scans follow (Ctrl-C to release)".into());
    let mut seen = 0;
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    while count.is_none_or(|c| seen < c) {
        let message = tokio::select! {
            m = signals.next() => m,
            _ = &mut interrupt => break,
        };
        let Some(Ok(message)) = message else { break };
        if !is_from(&message, &path) {
            continue;
        }
        let (data, symbology, source): (String, String, String) = message.body().deserialize()?;
        if printer.json {
            out(&json!({"data": data, "symbology": symbology, "source": source}).to_string());
        } else {
            // One scan, one line: a scanned ESC or newline must not drive
            // the terminal or forge a line.
            out(&format!(
                "{}\t{}\t{}",
                escaped(&data, ""),
                escaped(&symbology, ""),
                escaped(&source, "")
            ));
        }
        seen += 1;
    }
    claim.release().await?;
    Ok(0)
}
