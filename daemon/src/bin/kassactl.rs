//! kassactl: drive kassad from the command line or a script.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use kassa_daemon::client::{DeviceProxy, Options, TerminalProxy, error_message, error_name};
use kassa_hal::{Currency, Money, Order, mask};
use serde_json::json;
use zbus::zvariant::Value;

/// Talk to kassad, the kassa device service, over D-Bus.
///
/// Exit codes: 0 ok (a checkout: paid), 1 other error, 2 usage, 3 timeout or
/// expired, 4 cancelled, 5 busy, 6 invalid order or argument, 7 no device,
/// 8 backend or not bound, 9 access denied (not in group kassa, or not the
/// checkout's owner), 10 kassad not reachable, 11 payment failed. Output
/// read no further (a pipe into head) ends kassactl quietly with 0.
/// Commands that wait (scan, show-order-for-code, capture-face) say on
/// standard error what they wait for.
#[derive(Parser)]
#[command(name = "kassactl", version)]
pub(crate) struct Cli {
    /// Use the system bus (the default; kassad installed as a service).
    #[arg(long, global = true, conflicts_with_all = ["session", "bus"])]
    system: bool,
    /// Use the session bus.
    #[arg(long, global = true, conflicts_with = "bus")]
    session: bool,
    /// Use the bus at this address (also $KASSA_BUS_ADDRESS).
    #[arg(long, global = true, value_name = "ADDRESS", env = "KASSA_BUS_ADDRESS")]
    bus: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// Amount and prompt options shared by `scan` and `checkout`.
#[derive(clap::Args)]
struct Prompt {
    /// Amount due, as a decimal (36.00).
    #[arg(long)]
    amount: Option<String>,
    /// ISO 4217 currency of --amount.
    #[arg(long, default_value = "CNY")]
    currency: String,
    /// What the display asks of the customer.
    #[arg(long)]
    prompt: Option<String>,
    /// How long to wait for the code, in milliseconds.
    #[arg(long)]
    timeout_ms: Option<u32>,
    /// Only accept codes from these sources (serial, wedge, hidpos, camera, face, mock).
    #[arg(long = "source")]
    sources: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// kassad's version, state and devices.
    Status,
    /// The devices and their health.
    Devices,
    /// Check one device.
    Health {
        /// Device name.
        name: String,
    },
    /// Wait for one payment code and print it.
    Scan(Prompt),
    /// Run a whole checkout, printing each step; Ctrl-C cancels it.
    Checkout {
        #[command(flatten)]
        prompt: Prompt,
        /// How long to wait for the backend to bind the order, in milliseconds.
        #[arg(long)]
        order_timeout_ms: Option<u32>,
        /// Print the payment code in full (it is masked by default).
        #[arg(long)]
        show_code: bool,
    },
    /// Show an order document (a file, or - for standard input).
    ShowOrder {
        /// The order JSON file.
        file: PathBuf,
    },
    /// Show the order the backend bound to a payment code.
    ShowOrderForCode {
        /// The payment code.
        code: String,
        /// How long to wait for the binding, in milliseconds.
        #[arg(long)]
        timeout_ms: Option<u32>,
    },
    /// Show a payment result: paid, failed or cancelled.
    Result {
        /// paid, failed or cancelled.
        status: String,
        /// A line for the customer.
        #[arg(default_value = "")]
        message: String,
    },
    /// Show lines of text.
    Text {
        /// The lines.
        lines: Vec<String>,
    },
    /// Show the idle screen.
    Clear,
    /// Claim the scanner and print every scan until Ctrl-C (or --count).
    Claim {
        /// Stop after this many scans.
        #[arg(long)]
        count: Option<usize>,
        /// Only scans from these sources.
        #[arg(long = "source")]
        sources: Vec<String>,
    },
    /// Capture the best face frame.
    CaptureFace {
        /// How long to look, in milliseconds.
        #[arg(long)]
        timeout_ms: Option<u32>,
        /// Where to write the JPEG.
        #[arg(long, default_value = "face.jpg")]
        output: PathBuf,
    },
}

/// A failure with the exit code scripts see.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<zbus::Error> for Failure {
    fn from(e: zbus::Error) -> Failure {
        let Some((name, text)) = dbus_error(&e) else {
            // Not an error reply: the connection itself failed.
            return match &e {
                zbus::Error::InputOutput(_) => {
                    Failure::new(10, format!("lost the connection to the bus: {e}"))
                }
                _ => Failure::new(1, e.to_string()),
            };
        };
        let code = match name.as_str() {
            "org.kassa.Error.Timeout" => 3,
            "org.kassa.Error.Cancelled" => 4,
            "org.kassa.Error.Busy" => 5,
            "org.kassa.Error.InvalidOrder" | "org.kassa.Error.InvalidArgument" => 6,
            "org.kassa.Error.NoDevice" => 7,
            "org.kassa.Error.Backend" | "org.kassa.Error.NotBound" => 8,
            "org.kassa.Error.AccessDenied" | "org.freedesktop.DBus.Error.AccessDenied" => 9,
            "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner"
            | "org.freedesktop.DBus.Error.NoReply"
            | "org.freedesktop.DBus.Error.Disconnected" => 10,
            n if n.starts_with("org.freedesktop.DBus.Error.Spawn.")
                || n.starts_with("org.freedesktop.systemd1.") =>
            {
                10
            }
            _ => 1,
        };
        let message = if let Some(short) = name.strip_prefix("org.kassa.Error.") {
            format!("{short}: {text}")
        } else if name == "org.freedesktop.DBus.Error.AccessDenied" {
            // The bus's policy refused the call (dbus-daemon's "Rejected
            // send message, …"): the user is not in group kassa.
            let user = std::env::var("USER").unwrap_or_else(|_| "this user".into());
            format!(
                "the bus does not let {user} call kassad: only root and members of group \
                 kassa may (sudo usermod -aG kassa {user}, then log in again)"
            )
        } else if code == 10 {
            match name.as_str() {
                "org.freedesktop.DBus.Error.NoReply"
                | "org.freedesktop.DBus.Error.Disconnected" => {
                    "kassad went away before it answered (systemctl status kassad; \
                     journalctl -u kassad)"
                        .to_string()
                }
                _ => "kassad is not running (no org.kassa.Terminal1 on this bus): \
                      sudo systemctl start kassad; systemctl status kassad"
                    .to_string(),
            }
        } else {
            format!("{text} ({name})")
        };
        Failure { code, message }
    }
}

/// The name and text of a D-Bus error reply, whichever way zbus carries
/// it: a method's error, or one of the bus's own (a property read, the
/// object manager).
fn dbus_error(e: &zbus::Error) -> Option<(String, String)> {
    use zbus::DBusError as _;
    match e {
        zbus::Error::MethodError(..) => Some((error_name(e).unwrap_or_default(), error_message(e))),
        zbus::Error::FDO(fdo) => Some((
            fdo.name().to_string(),
            fdo.description().unwrap_or_default().to_string(),
        )),
        _ => None,
    }
}

type Outcome = Result<u8, Failure>;

/// `text` with control, bidi and line-separator characters escaped
/// (`\u{1b}`), but for those in `keep`: what kassad passes on from
/// scanners, the backend or another caller cannot drive the terminal.
fn escaped(text: &str, keep: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if kassa_hal::order::is_forbidden_char(c) && !keep.contains(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `line` to standard output. When no one reads it any more (a
/// pipe into `head` that has closed), kassactl ends at once, quietly, with
/// 0: what it printed was wanted only that far. Its bus connection closes
/// with it, and kassad ends whatever kassactl had started.
fn out(line: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        note(&format!("kassactl: standard output: {e}"));
        std::process::exit(1);
    }
}

/// Writes `line` to standard error, never failing (a closed standard error
/// is no reason to stop a checkout).
fn note(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            note(&format!("kassactl: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            note(&format!("kassactl: {}", escaped(&failure.message, "")));
            ExitCode::from(failure.code)
        }
    }
}

async fn connect(cli: &Cli) -> Result<zbus::Connection, Failure> {
    let builder = match (&cli.bus, cli.session) {
        (Some(address), _) => zbus::connection::Builder::address(address.as_str()),
        (None, true) => zbus::connection::Builder::session(),
        (None, false) => zbus::connection::Builder::system(),
    };
    let connection = match builder {
        Ok(builder) => builder.build().await,
        Err(e) => Err(e),
    };
    connection.map_err(|e| Failure::new(10, format!("cannot connect to the bus: {e}")))
}

fn minor_units(amount: &str, currency: &str) -> Result<(i64, Currency), Failure> {
    let currency = Currency::from_code(currency).ok_or_else(|| {
        Failure::new(
            6,
            format!("--currency {currency:?} is not a supported ISO 4217 code"),
        )
    })?;
    let digits = usize::from(currency.minor_units);
    let bad = || {
        Failure::new(
            6,
            format!(
                "--amount {amount:?} is not an amount in {} (like 36.00)",
                currency.code
            ),
        )
    };
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if whole.is_empty()
        || fraction.len() > digits
        || !format!("{whole}{fraction}")
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let padded = format!("{whole}{fraction:0<digits$}");
    let minor = padded.parse::<i64>().map_err(|_| bad())?;
    Ok((minor, currency))
}

/// ": ¥36.00, at most 30 s" for a prompt with an amount and a timeout; only
/// what was given.
fn details(amount: Option<Money>, timeout_ms: Option<u32>) -> String {
    let mut parts = Vec::new();
    if let Some(amount) = amount {
        parts.push(amount.to_string());
    }
    match timeout_ms {
        Some(ms) if ms % 1000 == 0 => parts.push(format!("at most {} s", ms / 1000)),
        Some(ms) => parts.push(format!("at most {ms} ms")),
        None => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    }
}

/// The amount of a prompt, if it has one.
fn amount(prompt: &Prompt) -> Result<Option<Money>, Failure> {
    match &prompt.amount {
        Some(amount) => {
            let (minor, currency) = minor_units(amount, &prompt.currency)?;
            Ok(Some(Money::new(minor, currency)))
        }
        None => Ok(None),
    }
}

fn prompt_options(prompt: &Prompt) -> Result<Options<'_>, Failure> {
    let mut options: Options<'_> = HashMap::new();
    if let Some(amount) = &prompt.amount {
        let (minor, currency) = minor_units(amount, &prompt.currency)?;
        options.insert("amount", Value::I64(minor));
        options.insert("currency", Value::from(currency.code));
    }
    if let Some(text) = &prompt.prompt {
        options.insert("prompt", Value::from(text.as_str()));
    }
    if let Some(ms) = prompt.timeout_ms {
        options.insert("timeout_ms", Value::U32(ms));
    }
    if !prompt.sources.is_empty() {
        let sources: Vec<&str> = prompt.sources.iter().map(String::as_str).collect();
        options.insert("sources", Value::from(sources));
    }
    Ok(options)
}

async fn run(cli: Cli) -> Outcome {
    let conn = connect(&cli).await?;
    let terminal = TerminalProxy::builder(&conn)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await?;
    let print = |text: String, value: serde_json::Value| {
        if cli.json {
            out(&value.to_string());
        } else if !text.is_empty() {
            out(&escaped(&text, "\n\t"));
        }
    };
    // What a waiting command waits for, on standard error (standard output
    // is the result's); not with --json, whose callers are programs.
    let waiting = |text: String| {
        if !cli.json {
            note(&format!("kassactl: {text}"));
        }
    };
    match &cli.command {
        Command::Status => {
            let version = terminal.version().await?;
            let state = terminal.state().await?;
            let devices = devices(&conn).await?;
            let mut text = format!("kassad {version}: {state}");
            for d in &devices {
                text.push_str(&format!("\n  {}", device_line(d)));
            }
            print(
                text,
                json!({"version": version, "state": state, "devices": devices}),
            );
            Ok(0)
        }
        Command::Devices => {
            let devices = devices(&conn).await?;
            let text = devices
                .iter()
                .map(device_line)
                .collect::<Vec<_>>()
                .join("\n");
            print(text, json!(devices));
            Ok(0)
        }
        Command::Health { name } => {
            let device = DeviceProxy::builder(&conn)
                .path(format!("/org/kassa/Terminal1/devices/{name}"))?
                .build()
                .await?;
            let health =
                device
                    .check_health()
                    .await
                    .map_err(|e| match error_name(&e).as_deref() {
                        Some(
                            "org.freedesktop.DBus.Error.UnknownObject"
                            | "org.freedesktop.DBus.Error.UnknownMethod",
                        ) => Failure::new(7, format!("no device named {name:?}")),
                        _ => Failure::from(e),
                    })?;
            print(health.clone(), json!({"name": name, "health": health}));
            Ok(if health == "ok" { 0 } else { 7 })
        }
        Command::Scan(prompt) => {
            let options = prompt_options(prompt)?;
            waiting(format!(
                "waiting for the customer's payment code{} (Ctrl-C gives up)",
                details(amount(prompt)?, prompt.timeout_ms)
            ));
            let (code, channel, source) = terminal.scan_payment_code(options).await?;
            print(
                format!("{code} {channel} {source}"),
                json!({"code": code, "channel": channel, "source": source}),
            );
            Ok(0)
        }
        Command::Checkout {
            prompt,
            order_timeout_ms,
            show_code,
        } => {
            let mut options = prompt_options(prompt)?;
            if let Some(ms) = order_timeout_ms {
                options.insert("order_timeout_ms", Value::U32(*ms));
            }
            checkout(&conn, &terminal, options, *show_code, cli.json).await
        }
        Command::ShowOrder { file } => {
            let text = if file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| Failure::new(1, format!("reading standard input: {e}")))?;
                text
            } else {
                std::fs::read_to_string(file)
                    .map_err(|e| Failure::new(1, format!("{}: {e}", file.display())))?
            };
            terminal.show_order(&text).await?;
            print(String::new(), json!({"shown": true}));
            Ok(0)
        }
        Command::ShowOrderForCode { code, timeout_ms } => {
            let mut options: Options<'_> = HashMap::new();
            if let Some(ms) = timeout_ms {
                options.insert("timeout_ms", Value::U32(*ms));
            }
            waiting(format!(
                "waiting for the backend to bind an order to payment code {}{} (Ctrl-C gives up)",
                mask(code),
                details(None, *timeout_ms)
            ));
            let order = terminal.show_order_for_code(code, options).await?;
            let value: serde_json::Value =
                serde_json::from_str(&order).unwrap_or(serde_json::Value::Null);
            print(order_line(&order), value);
            Ok(0)
        }
        Command::Result { status, message } => {
            terminal.show_payment_result(status, message).await?;
            print(String::new(), json!({"shown": true}));
            Ok(0)
        }
        Command::Text { lines } => {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            terminal.show_text(&lines).await?;
            print(String::new(), json!({"shown": true}));
            Ok(0)
        }
        Command::Clear => {
            terminal.clear_display().await?;
            print(String::new(), json!({"shown": true}));
            Ok(0)
        }
        Command::Claim { count, sources } => {
            claim(&conn, &terminal, *count, sources, cli.json).await
        }
        Command::CaptureFace { timeout_ms, output } => {
            let mut options: Options<'_> = HashMap::new();
            if let Some(ms) = timeout_ms {
                options.insert("timeout_ms", Value::U32(*ms));
            }
            waiting(format!(
                "looking for the customer's face in front of the camera{} (Ctrl-C gives up)",
                details(None, *timeout_ms)
            ));
            let (jpeg, _info) = terminal.capture_face(options).await?;
            std::fs::write(output, &jpeg)
                .map_err(|e| Failure::new(1, format!("{}: {e}", output.display())))?;
            print(
                format!("{} bytes written to {}", jpeg.len(), output.display()),
                json!({"bytes": jpeg.len(), "output": output}),
            );
            Ok(0)
        }
    }
}

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

fn device_line(d: &serde_json::Value) -> String {
    let connected = d["connected"].as_bool().unwrap_or(false);
    let mut line = format!(
        "{:<12} {:<8} {:<8} {:<10} {}",
        d["name"].as_str().unwrap_or(""),
        d["role"].as_str().unwrap_or(""),
        d["driver"].as_str().unwrap_or(""),
        if connected { "connected" } else { "offline" },
        d["path"].as_str().unwrap_or("")
    );
    if d["role"] == "scanner" {
        line.push_str(&format!("  scans: {}", d["scan_count"]));
    }
    if let Some(e) = d["last_error"].as_str().filter(|e| !e.is_empty()) {
        line.push_str(&format!("  last error: {e}"));
    }
    line
}

fn order_line(json: &str) -> String {
    match Order::from_json(json) {
        Ok(order) => format!(
            "{}: {} item(s), total {}",
            order.id,
            order.items.len(),
            order.total_money()
        ),
        Err(_) => json.to_string(),
    }
}

async fn checkout(
    conn: &zbus::Connection,
    terminal: &TerminalProxy<'_>,
    options: Options<'_>,
    show_code: bool,
    as_json: bool,
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
    let say = |text: String, value: serde_json::Value| {
        if as_json {
            out(&value.to_string());
        } else {
            out(&escaped(&text, "\n\t"));
        }
    };
    say(
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
                let session = kassa_daemon::client::CheckoutProxy::builder(conn).path(path.clone())?.build().await?;
                session.cancel().await?;
                continue;
            }
        };
        let Some(Ok(message)) = message else {
            return Err(Failure::new(10, "lost the connection to kassad"));
        };
        let header = message.header();
        if header.path().map(|p| p.as_str()) != Some(path.as_str()) {
            continue;
        }
        let member = header.member().map(|m| m.to_string()).unwrap_or_default();
        match member.as_str() {
            "CodeScanned" => {
                let (code, channel, source): (String, String, String) =
                    message.body().deserialize()?;
                let shown = if show_code { code.clone() } else { mask(&code) };
                say(
                    format!(
                        "payment code {shown} ({channel}, from {source}); waiting for the order"
                    ),
                    json!({"event": "code_scanned", "code": shown, "channel": channel, "source": source}),
                );
            }
            "OrderShown" => {
                let (order,): (String,) = message.body().deserialize()?;
                let value: serde_json::Value =
                    serde_json::from_str(&order).unwrap_or(serde_json::Value::Null);
                say(
                    format!("order shown: {}", order_line(&order)),
                    json!({"event": "order_shown", "order": value}),
                );
            }
            "Finished" => {
                let (state, message): (String, String) = message.body().deserialize()?;
                say(
                    format!(
                        "finished: {state}{}",
                        if message.is_empty() {
                            String::new()
                        } else {
                            format!(" ({message})")
                        }
                    ),
                    json!({"event": "finished", "state": state, "message": message}),
                );
                return Ok(match state.as_str() {
                    "paid" => 0,
                    "expired" => 3,
                    "cancelled" => 4,
                    _ => 11,
                });
            }
            _ => {}
        }
    }
}

async fn claim(
    conn: &zbus::Connection,
    terminal: &TerminalProxy<'_>,
    count: Option<usize>,
    sources: &[String],
    as_json: bool,
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
    let claim = kassa_daemon::client::ClaimProxy::builder(conn)
        .path(path.clone())?
        .build()
        .await?;
    if !as_json {
        note("kassactl: scanner claimed; scans follow (Ctrl-C to release)");
    }
    let mut seen = 0;
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    while count.is_none_or(|c| seen < c) {
        let message = tokio::select! {
            m = signals.next() => m,
            _ = &mut interrupt => break,
        };
        let Some(Ok(message)) = message else { break };
        if message.header().path().map(|p| p.as_str()) != Some(path.as_str()) {
            continue;
        }
        let (data, symbology, source): (String, String, String) = message.body().deserialize()?;
        if as_json {
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

#[cfg(test)]
mod escaping {
    use super::escaped;

    #[test]
    fn scanned_escapes_cannot_drive_the_terminal() {
        let scan = "\u{1b}]52;c;aGk=\u{7}\u{1b}[2JMEMBER-1\n134567890123456789\tqr";
        let shown = escaped(scan, "");
        assert!(!shown.contains(['\u{1b}', '\u{7}', '\n', '\t']), "{shown}");
        assert!(shown.starts_with(r"\u{1b}]52;c;aGk=\u{7}"), "{shown}");
        assert_eq!(escaped("a\nb\tc\u{202e}", "\n\t"), "a\nb\tc\\u{202e}");
    }
}
