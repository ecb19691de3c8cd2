//! `kassa.toml`: parsing and validation.
//!
//! Every mistake is refused at start with the file, the line and the reason;
//! unknown keys are mistakes too (a misspelt `baud` must not silently mean
//! 9600). Each `[[scanner]]` and `[[display]]` is read by its driver's own
//! table of settings (`scanner`, `display`, `serial`, `usb`), which holds
//! its keys, limits and validation; the keys a driver accepts are the
//! fields of those tables (see `keys`), listed nowhere else.
//! docs/config.md is the reference; `kassa.toml.example` beside this crate
//! is a complete, commented example that the tests parse.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kassa_drivers::camera::CodeFormat;
use kassa_drivers::camera::v4l2::V4l2Config;
use kassa_drivers::lcd::LcdConfig;
use kassa_drivers::serial::ScannerConfig as Framing;
use kassa_drivers::serial::linux::PortSettings;
use kassa_drivers::vfd::VfdConfig;
use kassa_hal::{ChannelRule, ChannelTable, Currency, SourceKind};
use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

mod display;
mod keys;
mod scanner;
mod serial;
mod usb;

use display::RawDisplayCommon;
use keys::{Mistake, Table};
use scanner::RawScannerCommon;
pub use usb::{HidPosSettings, WedgeSettings};

use crate::text::MAX_LINE_CHARS;
use crate::web::WebConfig;

/// Where the daemon looks when no `--config` is given.
pub const DEFAULT_PATH: &str = "/etc/kassa/kassa.toml";

/// A configuration that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The 1-based line, where one applies.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Scanners, in file order.
    pub scanners: Vec<ScannerConfig>,
    /// Customer displays, in file order.
    pub displays: Vec<DisplayConfig>,
    /// The backend, if the deployment has one.
    pub backend: Option<BackendConfig>,
    /// Payment-code classification: configured rules before the built-in ones.
    pub channels: ChannelTable,
    /// Defaults of checkouts.
    pub checkout: CheckoutConfig,
    /// `allow_simulated = true`: simulated devices (`driver = "mock"`) may
    /// serve on the system bus, where kassad otherwise refuses them.
    pub allow_simulated: bool,
}

/// One scanner.
#[derive(Debug, Clone)]
pub struct ScannerConfig {
    /// Its name: the last element of its D-Bus object path.
    pub name: String,
    /// How to reach it.
    pub driver: ScannerDriver,
}

/// A scanner's driver and its settings.
#[derive(Debug, Clone)]
pub enum ScannerDriver {
    /// A scanner on a serial port.
    Serial {
        /// Device path (`/dev/ttyACM0`, `/dev/serial/by-id/…`).
        path: PathBuf,
        /// Line settings; the read timeout is the idle gap.
        port: PortSettings,
        /// Framing, AIM ids and trigger sequences.
        framing: Framing,
    },
    /// A camera reading codes from the customer's phone (and capturing
    /// faces for `CaptureFace`). A `path` that is a directory of frames
    /// (`.pgm`, `.jpg`) is played back instead, for tests and demos.
    Camera {
        /// Device, size, rate and pixel format.
        capture: V4l2Config,
        /// Symbologies to read.
        formats: Vec<CodeFormat>,
    },
    /// A USB scanner that types like a keyboard, read through evdev.
    Wedge(WedgeSettings),
    /// A USB scanner in HID POS mode, read through hidraw.
    HidPos(HidPosSettings),
    /// A simulated scanner: when triggered, it "reads" the next of `codes`
    /// after `delay`, as a customer holding up a phone would.
    Mock {
        /// Codes to read, in turn.
        codes: Vec<String>,
        /// Time from trigger to read.
        delay: Duration,
    },
}

impl ScannerConfig {
    /// The source kind its scans carry.
    pub fn source(&self) -> SourceKind {
        match self.driver {
            ScannerDriver::Serial { .. } => SourceKind::Serial,
            ScannerDriver::Camera { .. } => SourceKind::Camera,
            ScannerDriver::Wedge(_) => SourceKind::Wedge,
            ScannerDriver::HidPos(_) => SourceKind::HidPos,
            ScannerDriver::Mock { .. } => SourceKind::Mock,
        }
    }

    /// The driver's name as in the file.
    pub fn driver_name(&self) -> &'static str {
        match self.driver {
            ScannerDriver::Serial { .. } => "serial",
            ScannerDriver::Camera { .. } => "camera",
            ScannerDriver::Wedge(_) => "wedge",
            ScannerDriver::HidPos(_) => "hidpos",
            ScannerDriver::Mock { .. } => "mock",
        }
    }

    /// The device path, or empty.
    pub fn path(&self) -> String {
        match &self.driver {
            ScannerDriver::Serial { path, .. } => path.display().to_string(),
            ScannerDriver::Camera { capture, .. } => capture.path.display().to_string(),
            ScannerDriver::Wedge(w) => w.device.to_string(),
            ScannerDriver::HidPos(h) => h.device.to_string(),
            ScannerDriver::Mock { .. } => String::new(),
        }
    }
}

/// One customer display.
#[derive(Debug, Clone)]
pub struct DisplayConfig {
    /// Its name.
    pub name: String,
    /// How to reach it.
    pub driver: DisplayDriver,
    /// How long showing one view may take before the display counts as
    /// hung: it is then reported and reconnected, and never holds up the
    /// other displays.
    pub deadline: Duration,
}

/// A display's driver and its settings.
#[derive(Debug, Clone)]
pub enum DisplayDriver {
    /// A pole or LED display on a serial port.
    Vfd {
        /// Device path.
        path: PathBuf,
        /// Line settings.
        port: PortSettings,
        /// Command set, code page, width.
        vfd: VfdConfig,
    },
    /// Draws the customer's screen in a terminal (the demo's display).
    Console {
        /// Where to draw: a file or tty; standard output when absent.
        path: Option<PathBuf>,
        /// Width of the drawing in columns.
        columns: usize,
    },
    /// A character LCD (HD44780) on an I2C bus.
    Lcd {
        /// The I2C bus device, e.g. `/dev/i2c-1`.
        path: PathBuf,
        /// Address, size, glyphs.
        lcd: LcdConfig,
    },
    /// The web second screen, served by kassad.
    Web(WebConfig),
    /// Records views in the log only.
    Mock,
}

impl DisplayConfig {
    /// The driver's name as in the file.
    pub fn driver_name(&self) -> &'static str {
        match self.driver {
            DisplayDriver::Vfd { .. } => "vfd",
            DisplayDriver::Console { .. } => "console",
            DisplayDriver::Lcd { .. } => "lcd",
            DisplayDriver::Web(_) => "web",
            DisplayDriver::Mock => "mock",
        }
    }

    /// The device path, or empty.
    pub fn path(&self) -> String {
        match &self.driver {
            DisplayDriver::Vfd { path, .. } | DisplayDriver::Lcd { path, .. } => {
                path.display().to_string()
            }
            DisplayDriver::Console { path, .. } => path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "stdout".into()),
            DisplayDriver::Web(web) => format!("http://{}/", web.listen),
            DisplayDriver::Mock => String::new(),
        }
    }
}

/// How the order query is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET` the URL with `{code}` filled in.
    Get,
    /// `POST` `{"payment_code": "…"}` to the URL.
    Post,
}

/// The backend that binds orders to payment codes.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Order query URL; `{code}` is replaced by the payment code.
    pub order_query_url: String,
    /// GET or POST.
    pub order_query_method: Method,
    /// Payment status URL; `{code}` and `{order_id}` are replaced.
    pub payment_status_url: Option<String>,
    /// Face authentication URL: `CaptureFace` posts the face (JPEG) here
    /// and delivers the payment code it answers as a scan with source
    /// `face`.
    pub face_auth_url: Option<String>,
    /// File holding a bearer token (read at start).
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates trusted besides the system's (a
    /// platform server with a private CA).
    pub ca_file: Option<PathBuf>,
    /// Longest single request.
    pub request_timeout: Duration,
    /// First wait between polls; it doubles up to [`BackendConfig::poll_max`].
    pub poll_interval: Duration,
    /// Longest wait between polls.
    pub poll_max: Duration,
}

/// Defaults of checkouts, overridable per call where the API says so.
#[derive(Debug, Clone)]
pub struct CheckoutConfig {
    /// Currency of `amount` options.
    pub currency: Currency,
    /// What the display asks of the customer.
    pub prompt: String,
    /// How long to wait for a payment code.
    pub code_timeout: Duration,
    /// How long to wait for the backend to bind an order.
    pub order_timeout: Duration,
    /// How long to wait for the payment result.
    pub result_timeout: Duration,
    /// How long a result stays on the display before the idle screen.
    pub result_display: Duration,
}

impl Default for CheckoutConfig {
    fn default() -> Self {
        CheckoutConfig {
            currency: Currency::from_code("CNY").unwrap_or(kassa_hal::money::CURRENCIES[0]),
            prompt: "Please present your payment code".into(),
            code_timeout: Duration::from_secs(60),
            order_timeout: Duration::from_secs(30),
            result_timeout: Duration::from_secs(120),
            result_display: Duration::from_secs(5),
        }
    }
}

// ---- the file as written -------------------------------------------------

/// The file's top level. `[[scanner]]` and `[[display]]` tables are read
/// one by one, each by its driver's own table of settings; they are here
/// only so that a misspelt top-level name lists them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    #[allow(dead_code)]
    scanner: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    display: Option<IgnoredAny>,
    backend: Option<Spanned<RawBackend>>,
    #[serde(default)]
    channel: Vec<Spanned<ChannelRule>>,
    checkout: Option<Spanned<RawCheckout>>,
    allow_simulated: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackend {
    order_query_url: String,
    order_query_method: Option<Method>,
    payment_status_url: Option<String>,
    face_auth_url: Option<String>,
    token_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    request_timeout_ms: Option<u64>,
    poll_interval_ms: Option<u64>,
    poll_max_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckout {
    currency: Option<String>,
    prompt: Option<String>,
    code_timeout_ms: Option<u64>,
    order_timeout_ms: Option<u64>,
    result_timeout_ms: Option<u64>,
    result_display_ms: Option<u64>,
}

// ---- loading -------------------------------------------------------------

impl Config {
    /// Reads and validates `path`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] with the file, line and reason.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] with the file, line and reason.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let at = |offset: Option<usize>, message: String| ConfigError {
            file: file.into(),
            line: offset.map(|o| line_of(text, o)),
            message,
        };
        let toml_error = |e: toml::de::Error| {
            let message = e.message().trim_end().to_string();
            at(e.span().map(|s| s.start), message)
        };
        let mistake = |m: Mistake| at(m.at, m.message);
        let root = DeTable::parse(text).map_err(toml_error)?;
        let span = root.span();
        let mut root = root.into_inner();
        let scanner_tables = tables(root.remove("scanner"), "scanner").map_err(mistake)?;
        let display_tables = tables(root.remove("display"), "display").map_err(mistake)?;
        let raw = RawFile::deserialize(toml::de::Deserializer::from(Spanned::new(span, root)))
            .map_err(toml_error)?;

        let mut names: Vec<String> = Vec::new();
        let mut check_name = |name: &str, start: usize, kind: &str| -> Result<(), ConfigError> {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(at(
                    Some(start),
                    format!(
                        "{kind} name {name:?} must be letters, digits and '_' (it becomes a D-Bus object path)"
                    ),
                ));
            }
            if names.iter().any(|n| n == name) {
                return Err(at(
                    Some(start),
                    format!("{kind} name {name:?} is used twice"),
                ));
            }
            names.push(name.into());
            Ok(())
        };

        let mut scanners = Vec::new();
        for mut table in scanner_tables {
            let start = table.start();
            let what = table
                .string("name")
                .map_or_else(|| "scanner".to_string(), |n| format!("scanner {n:?}"));
            let common: RawScannerCommon = table.take(&what).map_err(mistake)?;
            let raw = keys::read(table, &what, *common.driver.get_ref()).map_err(mistake)?;
            check_name(&common.name, start, "scanner")?;
            let driver = raw
                .settings()
                .map_err(|m| at(Some(start), format!("{what}: {m}")))?;
            scanners.push(ScannerConfig {
                name: common.name,
                driver,
            });
        }
        let mut displays = Vec::new();
        for mut table in display_tables {
            let start = table.start();
            let what = table
                .string("name")
                .map_or_else(|| "display".to_string(), |n| format!("display {n:?}"));
            let common: RawDisplayCommon = table.take(&what).map_err(mistake)?;
            let raw = keys::read(table, &what, *common.driver.get_ref()).map_err(mistake)?;
            check_name(&common.name, start, "display")?;
            let invalid = |m: String| at(Some(start), format!("{what}: {m}"));
            let deadline = common.deadline().map_err(invalid)?;
            let driver = raw.settings(deadline).map_err(invalid)?;
            displays.push(DisplayConfig {
                name: common.name,
                driver,
                deadline,
            });
        }
        let backend = match raw.backend {
            Some(spanned) => {
                let start = spanned.span().start;
                Some(
                    backend(spanned.into_inner())
                        .map_err(|m| at(Some(start), format!("[backend] {m}")))?,
                )
            }
            None => None,
        };
        let mut rules = Vec::new();
        for spanned in raw.channel {
            let start = spanned.span().start;
            let rule = spanned.into_inner();
            rule.validate().map_err(|m| {
                at(
                    Some(start),
                    format!("channel {:?}: {m}", rule.channel.as_str()),
                )
            })?;
            rules.push(rule);
        }
        let channels = ChannelTable::builtin_with(rules).map_err(|m| at(None, m))?;
        let checkout = match raw.checkout {
            Some(spanned) => {
                let start = spanned.span().start;
                checkout(spanned.into_inner())
                    .map_err(|m| at(Some(start), format!("[checkout] {m}")))?
            }
            None => CheckoutConfig::default(),
        };
        Ok(Config {
            scanners,
            displays,
            backend,
            channels,
            checkout,
            allow_simulated: raw.allow_simulated.unwrap_or(false),
        })
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The tables of `[[kind]]`, each to be read by its driver's settings.
fn tables<'i>(value: Option<Spanned<DeValue<'i>>>, kind: &str) -> Result<Vec<Table<'i>>, Mistake> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let span = value.span();
    let DeValue::Array(array) = value.into_inner() else {
        return Err(Mistake {
            at: Some(span.start),
            message: format!("{kind} must be a list of tables, each written [[{kind}]]"),
        });
    };
    array
        .into_iter()
        .map(|item| {
            let span = item.span();
            match item.into_inner() {
                DeValue::Table(table) => Ok(Table::new(span, table)),
                _ => Err(Mistake {
                    at: Some(span.start),
                    message: format!("each {kind} must be a table, written [[{kind}]]"),
                }),
            }
        })
        .collect()
}

/// Each character U+0000–U+00FF of a TOML string is one byte (`"\r"`,
/// `"\u0016T\r"`, `"\u0002"`).
fn bytes(key: &str, text: &str) -> Result<Vec<u8>, String> {
    text.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .map_err(|_| format!("{key}: {c:?} is not a byte (use \\u0000 to \\u00ff)"))
        })
        .collect()
}

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

/// Silence that ends a scan, in milliseconds (serial and wedge scanners).
const IDLE_GAP_MS: std::ops::RangeInclusive<u64> = 5..=5000;
/// Longest scan a scanner may be set to accept, in bytes.
const MAX_SCAN_LEN: std::ops::RangeInclusive<usize> = 1..=65536;

fn idle_gap(gap: u64) -> Result<Duration, String> {
    if !IDLE_GAP_MS.contains(&gap) {
        return Err(format!(
            "idle_gap_ms must be {} to {}",
            IDLE_GAP_MS.start(),
            IDLE_GAP_MS.end()
        ));
    }
    Ok(ms(gap))
}

fn max_length(value: Option<usize>, default: usize) -> Result<usize, String> {
    let max_len = value.unwrap_or(default);
    if !MAX_SCAN_LEN.contains(&max_len) {
        return Err(format!(
            "max_length must be {} to {}",
            MAX_SCAN_LEN.start(),
            MAX_SCAN_LEN.end()
        ));
    }
    Ok(max_len)
}

/// A line of text for a display: no control or bidi characters, at most
/// [`MAX_LINE_CHARS`], the limit of text a caller sends.
fn check_text_line(key: &str, text: &str) -> Result<(), String> {
    if text.chars().nth(MAX_LINE_CHARS).is_some()
        || text.chars().any(kassa_hal::order::is_forbidden_char)
    {
        return Err(format!(
            "{key} must be at most {MAX_LINE_CHARS} characters without control characters"
        ));
    }
    Ok(())
}

/// Checks a backend URL: HTTPS, or plain HTTP to this machine only.
pub fn check_url(key: &str, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(&url.replace("{code}", "0").replace("{order_id}", "0"))
        .map_err(|e| format!("{key}: {url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(format!(
            "{key}: plain http is allowed only to this machine (127.0.0.1, ::1, localhost); use https"
        )),
        other => Err(format!("{key}: scheme {other:?} is not http or https")),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn backend(b: RawBackend) -> Result<BackendConfig, String> {
    let method = b.order_query_method.unwrap_or(Method::Get);
    check_url("order_query_url", &b.order_query_url)?;
    if method == Method::Get && !b.order_query_url.contains("{code}") {
        return Err("order_query_url: a GET query needs a {code} placeholder".into());
    }
    if let Some(url) = &b.payment_status_url {
        check_url("payment_status_url", url)?;
    }
    if let Some(url) = &b.face_auth_url {
        check_url("face_auth_url", url)?;
    }
    let request_timeout = ms(b.request_timeout_ms.unwrap_or(5000));
    let poll_interval = ms(b.poll_interval_ms.unwrap_or(250));
    let poll_max = ms(b.poll_max_ms.unwrap_or(2000));
    if request_timeout.is_zero() || poll_interval.is_zero() || poll_max < poll_interval {
        return Err("timeouts must be positive and poll_max_ms at least poll_interval_ms".into());
    }
    Ok(BackendConfig {
        order_query_url: b.order_query_url,
        order_query_method: method,
        payment_status_url: b.payment_status_url,
        face_auth_url: b.face_auth_url,
        token_file: b.token_file,
        ca_file: b.ca_file,
        request_timeout,
        poll_interval,
        poll_max,
    })
}

fn checkout(c: RawCheckout) -> Result<CheckoutConfig, String> {
    let mut out = CheckoutConfig::default();
    if let Some(code) = c.currency {
        out.currency = Currency::from_code(&code)
            .ok_or_else(|| format!("currency {code:?} is not a supported ISO 4217 code"))?;
    }
    if let Some(prompt) = c.prompt {
        check_text_line("prompt", &prompt)?;
        out.prompt = prompt;
    }
    let positive = |key: &str, v: Option<u64>, default: Duration| match v {
        Some(0) => Err(format!("{key} must be positive")),
        Some(v) => Ok(ms(v)),
        None => Ok(default),
    };
    out.code_timeout = positive("code_timeout_ms", c.code_timeout_ms, out.code_timeout)?;
    out.order_timeout = positive("order_timeout_ms", c.order_timeout_ms, out.order_timeout)?;
    out.result_timeout = positive("result_timeout_ms", c.result_timeout_ms, out.result_timeout)?;
    out.result_display = positive("result_display_ms", c.result_display_ms, out.result_display)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use kassa_drivers::serial::Terminator;

    use super::*;

    fn err(text: &str) -> ConfigError {
        Config::parse(text, "kassa.toml").expect_err("config should be refused")
    }

    #[test]
    fn the_example_config_is_valid() {
        let text = include_str!("../../kassa.toml.example");
        let config = Config::parse(text, "kassa.toml.example").unwrap();
        assert!(!config.scanners.is_empty() && !config.displays.is_empty());
        assert!(config.backend.is_some());
    }

    #[test]
    fn the_design_example_is_valid() {
        let text = r#"
[[scanner]]
name = "counter"
driver = "serial"
path = "/dev/ttyACM0"
baud = 9600
suffix = "\r"

[[display]]
name = "customer"
driver = "console"

[backend]
order_query_url = "https://pos.example/api/orders?payment_code={code}"
"#;
        let config = Config::parse(text, "kassa.toml").unwrap();
        match &config.scanners[0].driver {
            ScannerDriver::Serial { port, framing, .. } => {
                assert_eq!(port.baud, 9600);
                assert_eq!(
                    framing.framing.terminator,
                    Terminator::Suffix(b"\r".to_vec())
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn web_and_lcd_displays() {
        let config = Config::parse(
            "[[display]]\nname = \"screen\"\ndriver = \"web\"\nmerchant = \"Café\"\n\
             [[display]]\nname = \"lcd\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\naddress = 0x3F\nrows = 4\ncolumns = 20\nglyphs = [\"€\"]\n",
            "kassa.toml",
        )
        .unwrap();
        match &config.displays[0].driver {
            DisplayDriver::Web(web) => {
                assert_eq!(web.listen.to_string(), "127.0.0.1:8787");
                assert_eq!(web.merchant, "Café");
            }
            other => panic!("{other:?}"),
        }
        match &config.displays[1].driver {
            DisplayDriver::Lcd { lcd, .. } => {
                assert_eq!((lcd.address, lcd.rows, lcd.columns), (0x3F, 4, 20));
                assert_eq!(lcd.glyphs, ['€']);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(config.displays[1].deadline, Duration::from_secs(2));

        // Beyond loopback only with a token.
        let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlisten = \"0.0.0.0:8787\"\n");
        assert!(e.message.contains("set token_file"), "{e}");
        assert_eq!(e.line, Some(1), "{e}");
        Config::parse(
            "[[display]]\nname = \"s\"\ndriver = \"web\"\nlisten = \"0.0.0.0:8787\"\ntoken_file = \"/etc/kassa/screen.token\"\n",
            "kassa.toml",
        )
        .unwrap();
        let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nlisten = \"localhost\"\n");
        assert!(e.message.contains("not an address and port"), "{e}");
        let config = Config::parse(
            "[[display]]\nname = \"s\"\ndriver = \"web\"\nallowed_hosts = [\"kiosk.local\", \"till:9000\"]\n",
            "kassa.toml",
        )
        .unwrap();
        match &config.displays[0].driver {
            DisplayDriver::Web(web) => {
                let hosts: Vec<_> = web.allowed_hosts.iter().map(|h| h.to_string()).collect();
                assert_eq!(hosts, ["kiosk.local:8787", "till:9000"]);
            }
            other => panic!("{other:?}"),
        }
        let e = err(
            "[[display]]\nname = \"s\"\ndriver = \"web\"\nallowed_hosts = [\"kiosk local:8787\"]\n",
        );
        assert!(
            e.message.contains(
                "display \"s\": allowed_hosts entry \"kiosk local:8787\" is not a host name"
            ),
            "{e}"
        );
        let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\nallowed_hosts = [\"kiosk:0\"]\n");
        assert!(e.message.contains("has a port that is not"), "{e}");
        let e = err("[[display]]\nname = \"s\"\ndriver = \"mock\"\nallowed_hosts = []\n");
        assert!(
            e.message
                .contains("allowed_hosts is not a setting of driver \"mock\""),
            "{e}"
        );
        let e = err("[[display]]\nname = \"s\"\ndriver = \"web\"\ncommand_set = \"cd5220\"\n");
        assert!(
            e.message
                .contains("command_set is not a setting of driver \"web\""),
            "{e}"
        );
        let e =
            err("[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nrows = 3\n");
        assert!(e.message.contains("display \"l\""), "{e}");
        let e = err(
            "[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nglyphs = [\"x\"]\n",
        );
        assert!(e.message.contains("display \"l\""), "{e}");
        let e = err("[[display]]\nname = \"l\"\ndriver = \"lcd\"\n");
        assert!(e.message.contains("path is required"), "{e}");
        let e = err("[[display]]\nname = \"m\"\ndriver = \"mock\"\ndeadline_ms = 5\n");
        assert!(
            e.message.contains("deadline_ms must be 100 to 60000"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let e = err(
            "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nbaudrate = 9600\n",
        );
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("baudrate"), "{e}");
        assert!(e.to_string().starts_with("kassa.toml:5: "), "{e}");
        let e = err("\n\n[backend]\norder_query_url = \"https://x/{code}\"\ntimeout = 5\n");
        assert_eq!(e.line, Some(5), "{e}");
    }

    #[test]
    fn bad_values_are_refused_with_their_line() {
        let e = err(
            "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nparity = \"strange\"\n",
        );
        assert_eq!(e.line, Some(5), "{e}");
        let e = err("[[scanner]]\nname = \"a\"\ndriver = \"usb\"\n");
        assert_eq!(e.line, Some(3), "{e}");
        let e = err("\n[[scanner]]\nname = \"a\"\ndriver = \"serial\"\n");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("path is required"), "{e}");
        let e = err("[[scanner]]\nname = \"a\"\ndriver = \"mock\"\npath = \"/dev/x\"\n");
        assert!(
            e.message
                .contains("path is not a setting of driver \"mock\""),
            "{e}"
        );
        let e = err("[[scanner]]\nname = \"a b\"\ndriver = \"mock\"\n");
        assert!(e.message.contains("D-Bus object path"), "{e}");
        let e = err(
            "[[scanner]]\nname = \"a\"\ndriver = \"mock\"\n[[display]]\nname = \"a\"\ndriver = \"mock\"\n",
        );
        assert!(e.message.contains("used twice"), "{e}");
        assert_eq!(e.line, Some(4));
        let e = err(
            "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nsuffix = \"€\"\n",
        );
        assert!(e.message.contains("not a byte"), "{e}");
    }

    #[test]
    fn backend_urls_must_be_https_or_loopback() {
        let ok = |url: &str| {
            Config::parse(&format!("[backend]\norder_query_url = \"{url}\"\n"), "k").map(|_| ())
        };
        assert!(ok("https://pos.example/orders/{code}").is_ok());
        assert!(ok("http://127.0.0.1:8080/orders/{code}").is_ok());
        assert!(ok("http://[::1]:8080/orders/{code}").is_ok());
        assert!(ok("http://localhost/orders/{code}").is_ok());
        let e = ok("http://pos.example/orders/{code}").unwrap_err();
        assert!(e.message.contains("plain http"), "{e}");
        assert!(
            ok("https://pos.example/orders").is_err(),
            "GET needs {{code}}"
        );
        assert!(ok("ftp://pos.example/{code}").is_err());
    }

    #[test]
    fn channel_rules_extend_the_builtin_table() {
        let text = "[[channel]]\nname = \"jdpay\"\nprefixes = [\"18\"]\nmin_length = 18\nmax_length = 18\n";
        let config = Config::parse(text, "k").unwrap();
        let code = kassa_hal::PaymentCode::parse(b"184567890123456789").unwrap();
        assert_eq!(config.channels.classify(&code).as_str(), "jdpay");
        let bad =
            "\n[[channel]]\nname = \"x\"\nprefixes = [\"1x\"]\nmin_length = 18\nmax_length = 18\n";
        assert_eq!(err(bad).line, Some(2));
    }

    #[test]
    fn wedge_and_hidpos_scanners() {
        let text = "[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nusb_id = \"05e0:1200\"\nlayout = \"fr\"\n\
                    [[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\n";
        let config = Config::parse(text, "k").unwrap();
        assert_eq!(config.scanners[0].source(), SourceKind::Wedge);
        assert_eq!(config.scanners[0].driver_name(), "wedge");
        assert_eq!(config.scanners[0].path(), "usb id 05e0:1200");
        assert_eq!(config.scanners[1].source(), SourceKind::HidPos);
        match &config.scanners[0].driver {
            ScannerDriver::Wedge(w) => assert_eq!(w.layout.layout, "fr"),
            other => panic!("{other:?}"),
        }
        let e = err("[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nlayuot = \"fr\"\n");
        assert_eq!(e.line, Some(4), "{e}");
        let e = err("[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nbaud = 9600\n");
        assert!(
            e.message
                .contains("baud is not a setting of driver \"wedge\""),
            "{e}"
        );
        let e = err("[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nlayout = \"qq\"\n");
        assert!(e.message.contains("keyboard layout qq"), "{e}");
        let e = err(
            "[[scanner]]\nname = \"s\"\ndriver = \"serial\"\npath = \"/dev/x\"\nlayout = \"us\"\n",
        );
        assert!(
            e.message
                .contains("layout is not a setting of driver \"serial\""),
            "{e}"
        );
    }

    #[test]
    fn idle_gap_framing_when_the_suffix_is_empty() {
        let text = "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nsuffix = \"\"\nidle_gap_ms = 80\n";
        let config = Config::parse(text, "k").unwrap();
        match &config.scanners[0].driver {
            ScannerDriver::Serial { port, framing, .. } => {
                assert_eq!(framing.framing.terminator, Terminator::IdleGap);
                assert_eq!(port.read_timeout, Duration::from_millis(80));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_misspelt_key_gets_the_closest_of_its_driver() {
        let cases = [
            (
                "[[scanner]]\nname = \"till\"\ndriver = \"serial\"\npath = \"/dev/x\"\nbauds = 9600\n",
                5,
                "scanner \"till\": bauds is not a setting of driver \"serial\"; did you mean `baud`?",
            ),
            (
                "[[scanner]]\nname = \"c\"\ndriver = \"camera\"\npath = \"/dev/video0\"\n\nfsp = 30\n",
                6,
                "did you mean `fps`?",
            ),
            (
                "[[scanner]]\nname = \"w\"\ndriver = \"wedge\"\nlayuot = \"fr\"\n",
                4,
                "layuot is not a setting of driver \"wedge\"; did you mean `layout`?",
            ),
            (
                "[[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\nmax_lenght = 100\n",
                4,
                "did you mean `max_length`?",
            ),
            (
                "[[scanner]]\nname = \"m\"\ndriver = \"mock\"\ncode = [\"1\"]\n",
                4,
                "did you mean `codes`?",
            ),
            (
                "[[display]]\nname = \"p\"\ndriver = \"vfd\"\npath = \"/dev/x\"\ncommand_set = \"cd5220\"\ncodepage = \"cp437\"\n",
                6,
                "display \"p\": codepage is not a setting of driver \"vfd\"; did you mean `code_page`?",
            ),
            (
                "[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nrow = 4\n",
                5,
                "did you mean `rows`?",
            ),
            (
                "[[display]]\nname = \"s\"\ndriver = \"web\"\nmerchnat = \"Café\"\n",
                4,
                "did you mean `merchant`?",
            ),
            (
                "[[display]]\nname = \"c\"\ndriver = \"console\"\ncolumn = 40\n",
                4,
                "did you mean `columns`?",
            ),
            (
                "[[display]]\nname = \"m\"\ndriver = \"mock\"\ndeadline = 500\n",
                4,
                "did you mean `deadline_ms`?",
            ),
        ];
        for (text, line, message) in cases {
            let e = err(text);
            assert_eq!(e.line, Some(line), "{e}");
            assert!(e.message.contains(message), "{e}");
            assert!(
                e.to_string().starts_with(&format!("kassa.toml:{line}: ")),
                "{e}"
            );
        }
        // Nothing close: the keys the driver takes.
        let e = err("[[scanner]]\nname = \"m\"\ndriver = \"mock\"\ncolour = \"red\"\n");
        assert!(
            e.message.ends_with(
                "colour is not a setting of driver \"mock\"; it takes name, driver, codes, delay_ms"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_key_of_another_driver_names_the_drivers_that_take_it() {
        let e = err("[[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\n\nlayout = \"us\"\n");
        assert_eq!(e.line, Some(5), "{e}");
        assert!(
            e.message.contains(
                "scanner \"h\": layout is not a setting of driver \"hidpos\" but of driver \"wedge\""
            ),
            "{e}"
        );
        let e =
            err("[[scanner]]\nname = \"c\"\ndriver = \"camera\"\npath = \"/dev/v\"\nbaud = 9600\n");
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("but of driver \"serial\""), "{e}");
        let e = err(
            "[[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nmarquee = true\n",
        );
        assert_eq!(e.line, Some(5), "{e}");
        assert!(
            e.message
                .contains("marquee is not a setting of driver \"lcd\" but of driver \"vfd\""),
            "{e}"
        );
        let e = err("[[display]]\nname = \"m\"\ndriver = \"mock\"\npath = \"/dev/x\"\n");
        assert!(
            e.message
                .contains("path is not a setting of driver \"mock\" but of drivers \"vfd\", \"lcd\", \"console\""),
            "{e}"
        );
        // A bad value names its table and key, at its line.
        let e = err(
            "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nbaud = \"fast\"\n",
        );
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.starts_with("scanner \"a\": baud: "), "{e}");
        let e = err("[[display]]\nname = \"a\"\ndriver = \"fancy\"\n");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.starts_with("display \"a\": driver: "), "{e}");
        assert_eq!(err("[[display]]\nname = \"a\"\n").line, Some(1));
        assert!(err("scanner = 1\n").message.contains("[[scanner]]"));
        assert!(err("scanner = [1]\n").message.contains("[[scanner]]"));
    }

    #[test]
    fn display_text_is_at_most_max_line_chars() {
        let text = |merchant: &str, idle: &str, prompt: &str| {
            format!(
                "[checkout]\nprompt = \"{prompt}\"\n\
                 [[display]]\nname = \"s\"\ndriver = \"web\"\nmerchant = \"{merchant}\"\n\
                 [[display]]\nname = \"l\"\ndriver = \"lcd\"\npath = \"/dev/i2c-1\"\nidle_text = [\"{idle}\"]\n\
                 [[display]]\nname = \"p\"\ndriver = \"vfd\"\npath = \"/dev/x\"\ncommand_set = \"cd5220\"\nidle_text = [\"{idle}\"]\n"
            )
        };
        let ok = "é".repeat(MAX_LINE_CHARS);
        let long = "é".repeat(MAX_LINE_CHARS + 1);
        assert_eq!(MAX_LINE_CHARS, 256);
        Config::parse(&text(&ok, &ok, &ok), "kassa.toml").unwrap();
        let e = err(&text(&long, "", "Pay"));
        assert!(
            e.message
                .contains("display \"s\": merchant must be at most 256 characters"),
            "{e}"
        );
        assert_eq!(e.line, Some(3), "{e}");
        let e = err(&text("", &long, "Pay"));
        assert!(
            e.message
                .contains("display \"l\": idle_text must be at most 256 characters"),
            "{e}"
        );
        let e = err(&text("", "", &long));
        assert!(
            e.message
                .contains("[checkout] prompt must be at most 256 characters"),
            "{e}"
        );
        let e = err(&text("", "", "Pay\u{202e}"));
        assert!(e.message.contains("without control characters"), "{e}");
        // The VFD's idle lines too.
        let vfd_only = text("", "", "Pay").replace("idle_text = [\"\"]\n", "")
            + &format!("idle_text = [\"{long}\"]\n");
        let e = err(&vfd_only);
        assert!(e.message.contains("display \"p\": idle_text"), "{e}");
    }
}
