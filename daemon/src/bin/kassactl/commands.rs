//! One function per subcommand that makes one call (or a few) and prints
//! its answer; `checkout` and `claim`, which follow signals, are in
//! `session`.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use kassa_client::{DeviceProxy, Options, SimulatorProxy, TerminalProxy, error_name};
use kassa_hal::mask;
use serde_json::json;
use zbus::zvariant::Value;

use crate::cli::{Cli, Command, Prompt, Simulate};
use crate::output::{Failure, Outcome, device_line, escaped, note, order_line, out};
use crate::prompt::{amount, details, prompt_options};
use crate::session;

/// Where a command's answer goes: text, or one JSON value per line with
/// `--json`.
#[derive(Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) json: bool,
}

impl Printer {
    /// The answer: `text` (nothing if empty), or `value` with `--json`.
    pub(crate) fn print(self, text: String, value: serde_json::Value) {
        if self.json {
            out(&value.to_string());
        } else if !text.is_empty() {
            out(&escaped(&text, "\n\t"));
        }
    }

    /// What a waiting command waits for, on standard error (standard
    /// output is the result's); not with `--json`, whose callers are
    /// programs.
    pub(crate) fn waiting(self, text: String) {
        if !self.json {
            note(&format!("kassactl: {text}"));
        }
    }
}

/// Runs the command `cli` names on `conn`.
pub(crate) async fn run(cli: &Cli, conn: &zbus::Connection) -> Outcome {
    let terminal = TerminalProxy::builder(conn)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    let printer = Printer { json: cli.json };
    let shown = || {
        printer.print(String::new(), json!({"shown": true}));
        Ok(0)
    };
    match &cli.command {
        Command::Status => status(conn, &terminal, printer).await,
        Command::Devices => {
            let devices = devices(conn).await?;
            let lines: Vec<String> = devices.iter().map(device_line).collect();
            printer.print(lines.join("\n"), json!(devices));
            Ok(0)
        }
        Command::Health { name } => health(conn, name, printer).await,
        Command::Scan(prompt) => scan(&terminal, prompt, printer).await,
        Command::Checkout {
            prompt,
            order_timeout_ms,
            show_code,
        } => {
            let mut options = prompt_options(prompt)?;
            if let Some(ms) = order_timeout_ms {
                options.insert("order_timeout_ms", Value::U32(*ms));
            }
            session::checkout(conn, &terminal, options, *show_code, printer).await
        }
        Command::ShowOrder { file } => {
            terminal.show_order(&read_order(file)?).await?;
            shown()
        }
        Command::ShowOrderForCode { code, timeout_ms } => {
            show_order_for_code(&terminal, code, *timeout_ms, printer).await
        }
        Command::Result { status, message } => {
            terminal.show_payment_result(status, message).await?;
            shown()
        }
        Command::Text { lines } => {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            terminal.show_text(&lines).await?;
            shown()
        }
        Command::Clear => {
            terminal.clear_display().await?;
            shown()
        }
        Command::Claim { count, sources } => {
            session::claim(conn, &terminal, *count, sources, printer).await
        }
        Command::CaptureFace { timeout_ms, output } => {
            capture_face(&terminal, *timeout_ms, output, printer).await
        }
        Command::Simulate(what) => simulate(conn, what, printer).await,
        Command::LogLevel { filter } => {
            if let Some(filter) = filter {
                terminal.set_log_level(filter).await?;
            }
            let now = terminal.log_level().await?;
            printer.print(format!("log level: {now}"), json!({"log_level": now}));
            Ok(0)
        }
        // Run by main before any bus is reached.
        Command::Discover | Command::DetectLayout { .. } => Ok(0),
    }
}

/// `kassactl simulate …`: one call on `org.kassa.Simulator1`.
async fn simulate(conn: &zbus::Connection, what: &Simulate, printer: Printer) -> Outcome {
    let simulator = SimulatorProxy::new(conn).await?;
    let (device, done) = match what {
        Simulate::Scan {
            device,
            data,
            symbology,
        } => {
            simulator.inject_scan(device, data, symbology).await?;
            (device, "scanned")
        }
        Simulate::Disconnect { device } => {
            simulator.set_connected(device, false).await?;
            (device, "disconnected")
        }
        Simulate::Connect { device } => {
            simulator.set_connected(device, true).await?;
            (device, "connected")
        }
        Simulate::Fail { device, error } => {
            simulator.fail_next(device, error).await?;
            (device, "fails next")
        }
    };
    printer.print(
        format!("{device}: {done}"),
        json!({"device": device, "simulated": done}),
    );
    Ok(0)
}

/// Options holding only `timeout_ms`, if one was given.
fn timeout_options(timeout_ms: Option<u32>) -> Options<'static> {
    let mut options: Options<'_> = HashMap::new();
    if let Some(ms) = timeout_ms {
        options.insert("timeout_ms", Value::U32(ms));
    }
    options
}

async fn status(
    conn: &zbus::Connection,
    terminal: &TerminalProxy<'_>,
    printer: Printer,
) -> Outcome {
    let version = terminal.version().await?;
    let state = terminal.state().await?;
    let devices = devices(conn).await?;
    let mut text = format!("kassad {version}: {state}");
    for d in &devices {
        text.push_str(&format!("\n  {}", device_line(d)));
    }
    printer.print(
        text,
        json!({"version": version, "state": state, "devices": devices}),
    );
    Ok(0)
}

async fn health(conn: &zbus::Connection, name: &str, printer: Printer) -> Outcome {
    let device = DeviceProxy::builder(conn)
        .path(format!("/org/kassa/Terminal1/devices/{name}"))?
        .build()
        .await?;
    let health = device
        .check_health()
        .await
        .map_err(|e| match error_name(&e).as_deref() {
            Some(
                "org.freedesktop.DBus.Error.UnknownObject"
                | "org.freedesktop.DBus.Error.UnknownMethod",
            ) => Failure::new(7, format!("no device named {name:?}")),
            _ => Failure::from(e),
        })?;
    printer.print(health.clone(), json!({"name": name, "health": health}));
    Ok(if health == "ok" { 0 } else { 7 })
}

async fn scan(terminal: &TerminalProxy<'_>, prompt: &Prompt, printer: Printer) -> Outcome {
    let options = prompt_options(prompt)?;
    printer.waiting(format!(
        "waiting for the customer's payment code{} (Ctrl-C gives up)",
        details(amount(prompt)?, prompt.timeout_ms)
    ));
    let (code, channel, source) = terminal.scan_payment_code(options).await?;
    printer.print(
        format!("{code} {channel} {source}"),
        json!({"code": code, "channel": channel, "source": source}),
    );
    Ok(0)
}

/// The order document in `file`, or on standard input for `-`.
fn read_order(file: &Path) -> Result<String, Failure> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::new(1, format!("reading standard input: {e}")))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| Failure::new(1, format!("{}: {e}", file.display())))
    }
}

async fn show_order_for_code(
    terminal: &TerminalProxy<'_>,
    code: &str,
    timeout_ms: Option<u32>,
    printer: Printer,
) -> Outcome {
    printer.waiting(format!(
        "waiting for the backend to bind an order to payment code {}{} (Ctrl-C gives up)",
        mask(code),
        details(None, timeout_ms)
    ));
    let order = terminal
        .show_order_for_code(code, timeout_options(timeout_ms))
        .await?;
    let value: serde_json::Value = serde_json::from_str(&order).unwrap_or(serde_json::Value::Null);
    printer.print(order_line(&order), value);
    Ok(0)
}

async fn capture_face(
    terminal: &TerminalProxy<'_>,
    timeout_ms: Option<u32>,
    output: &Path,
    printer: Printer,
) -> Outcome {
    printer.waiting(format!(
        "looking for the customer's face in front of the camera{} (Ctrl-C gives up)",
        details(None, timeout_ms)
    ));
    let (jpeg, _info) = terminal.capture_face(timeout_options(timeout_ms)).await?;
    std::fs::write(output, &jpeg)
        .map_err(|e| Failure::new(1, format!("{}: {e}", output.display())))?;
    printer.print(
        format!("{} bytes written to {}", jpeg.len(), output.display()),
        json!({"bytes": jpeg.len(), "output": output}),
    );
    Ok(0)
}

/// Every device kassad serves, with its health, sorted by path.
async fn devices(conn: &zbus::Connection) -> Result<Vec<serde_json::Value>, Failure> {
    let manager = zbus::fdo::ObjectManagerProxy::builder(conn)
        .destination("org.kassa.Terminal1")?
        .path("/org/kassa/Terminal1")?
        .build()
        .await?;
    let objects = manager
        .get_managed_objects()
        .await
        .map_err(zbus::Error::from)?;
    let mut out = Vec::new();
    let mut paths: Vec<_> = objects
        .keys()
        .filter(|p| p.as_str().contains("/devices/"))
        .cloned()
        .collect();
    paths.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    for path in paths {
        let device = DeviceProxy::builder(conn)
            .path(path.clone())?
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        out.push(json!({
            "name": device.name().await?,
            "role": device.role().await?,
            "driver": device.driver().await?,
            "path": device.path().await?,
            "connected": device.connected().await?,
            "last_error": device.last_error().await?,
            "scan_count": device.scan_count().await?,
        }));
    }
    Ok(out)
}
