//! `kassa.toml`: parsing and validation.
//!
//! Every mistake is refused at start with the file, the line and the reason;
//! unknown keys are mistakes too (a misspelt `baud` must not silently mean
//! 9600). docs/config.md is the reference; `kassa.toml.example` beside this
//! crate is a complete, commented example that the tests parse.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kassa_drivers::camera::CodeFormat;
use kassa_drivers::camera::v4l2::{PixelFormat, V4l2Config};
use kassa_drivers::lcd::LcdConfig;
use kassa_drivers::serial::linux::{DataBits, FlowControl, Parity, PortSettings, StopBits};
use kassa_drivers::serial::{FramingConfig, ScannerConfig as Framing, Terminator};
use kassa_drivers::vfd::{CodePage, CommandSet, ScrollMode, VfdConfig};
use kassa_hal::{ChannelRule, ChannelTable, Currency, SourceKind};
use serde::Deserialize;

mod usb;

use toml::Spanned;
use usb::UsbKeys;
pub use usb::{HidPosSettings, WedgeSettings};

use crate::web::{AllowedHost, WebConfig};

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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    scanner: Vec<Spanned<RawScanner>>,
    #[serde(default)]
    display: Vec<Spanned<RawDisplay>>,
    backend: Option<Spanned<RawBackend>>,
    #[serde(default)]
    channel: Vec<Spanned<ChannelRule>>,
    checkout: Option<Spanned<RawCheckout>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ScannerDriverName {
    Serial,
    Camera,
    Wedge,
    Hidpos,
    Mock,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawPixelFormat {
    Auto,
    Yuyv,
    Mjpeg,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawCodeFormat {
    Qr,
    Code128,
    Datamatrix,
    Pdf417,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum DisplayDriverName {
    Vfd,
    Lcd,
    Web,
    Console,
    Mock,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawParity {
    None,
    Odd,
    Even,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawFlow {
    None,
    Software,
    Hardware,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawCommandSet {
    Escpos,
    Cd5220,
    Led8,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawCodePage {
    Cp437,
    Pc858,
    Gb18030,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawScroll {
    Overwrite,
    Vertical,
    Horizontal,
}

/// Line settings shared by serial scanners and displays.
struct RawPort {
    path: Option<PathBuf>,
    baud: Option<u32>,
    data_bits: Option<u8>,
    parity: Option<RawParity>,
    stop_bits: Option<u8>,
    flow_control: Option<RawFlow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScanner {
    name: String,
    driver: ScannerDriverName,
    path: Option<PathBuf>,
    baud: Option<u32>,
    data_bits: Option<u8>,
    parity: Option<RawParity>,
    stop_bits: Option<u8>,
    flow_control: Option<RawFlow>,
    suffix: Option<String>,
    prefix: Option<String>,
    idle_gap_ms: Option<u64>,
    aim_ids: Option<bool>,
    max_length: Option<usize>,
    trigger_on: Option<String>,
    trigger_off: Option<String>,
    codes: Option<Vec<String>>,
    delay_ms: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<u32>,
    format: Option<RawPixelFormat>,
    formats: Option<Vec<RawCodeFormat>>,
    usb_id: Option<String>,
    device_name: Option<String>,
    layout: Option<String>,
    variant: Option<String>,
    terminator: Option<String>,
    grab: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDisplay {
    name: String,
    driver: DisplayDriverName,
    path: Option<PathBuf>,
    baud: Option<u32>,
    data_bits: Option<u8>,
    parity: Option<RawParity>,
    stop_bits: Option<u8>,
    flow_control: Option<RawFlow>,
    command_set: Option<RawCommandSet>,
    code_page: Option<RawCodePage>,
    columns: Option<u8>,
    idle_text: Option<Vec<String>>,
    marquee: Option<bool>,
    scroll: Option<RawScroll>,
    deadline_ms: Option<u64>,
    listen: Option<String>,
    token_file: Option<PathBuf>,
    merchant: Option<String>,
    logo: Option<PathBuf>,
    allowed_hosts: Option<Vec<String>>,
    address: Option<u8>,
    rows: Option<u8>,
    glyphs: Option<Vec<char>>,
    backlight: Option<bool>,
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
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end().to_string();
            at(e.span().map(|s| s.start), message)
        })?;

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
        for spanned in raw.scanner {
            let start = spanned.span().start;
            let s = spanned.into_inner();
            check_name(&s.name, start, "scanner")?;
            let scanner = scanner(s).map_err(|m| at(Some(start), m))?;
            scanners.push(scanner);
        }
        let mut displays = Vec::new();
        for spanned in raw.display {
            let start = spanned.span().start;
            let d = spanned.into_inner();
            check_name(&d.name, start, "display")?;
            displays.push(display(d).map_err(|m| at(Some(start), m))?);
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

/// Refuses a setting given (`given`: key, whether set) that driver
/// `driver` does not take (`accepted`).
fn refuse_unused(
    what: &str,
    driver: &str,
    given: &[(&str, bool)],
    accepted: &[&str],
) -> Result<(), String> {
    match given.iter().find(|(k, set)| *set && !accepted.contains(k)) {
        Some((key, _)) => Err(format!(
            "{what}: {key} is not a setting of driver {driver:?}"
        )),
        None => Ok(()),
    }
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

fn port(raw: &RawPort, what: &str) -> Result<(PathBuf, PortSettings), String> {
    let path = raw
        .path
        .clone()
        .ok_or_else(|| format!("{what}: path is required"))?;
    let mut port = PortSettings::default();
    if let Some(baud) = raw.baud {
        if !(50..=4_000_000).contains(&baud) {
            return Err(format!("{what}: baud {baud} is not a serial speed"));
        }
        port.baud = baud;
    }
    if let Some(bits) = raw.data_bits {
        port.data_bits = match bits {
            5 => DataBits::Five,
            6 => DataBits::Six,
            7 => DataBits::Seven,
            8 => DataBits::Eight,
            _ => return Err(format!("{what}: data_bits must be 5, 6, 7 or 8")),
        };
    }
    if let Some(parity) = raw.parity {
        port.parity = match parity {
            RawParity::None => Parity::None,
            RawParity::Odd => Parity::Odd,
            RawParity::Even => Parity::Even,
        };
    }
    if let Some(stop) = raw.stop_bits {
        port.stop_bits = match stop {
            1 => StopBits::One,
            2 => StopBits::Two,
            _ => return Err(format!("{what}: stop_bits must be 1 or 2")),
        };
    }
    if let Some(flow) = raw.flow_control {
        port.flow_control = match flow {
            RawFlow::None => FlowControl::None,
            RawFlow::Software => FlowControl::Software,
            RawFlow::Hardware => FlowControl::Hardware,
        };
    }
    Ok((path, port))
}

fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

fn scanner(mut s: RawScanner) -> Result<ScannerConfig, String> {
    let port_settings = RawPort {
        path: s.path.take(),
        baud: s.baud,
        data_bits: s.data_bits,
        parity: s.parity,
        stop_bits: s.stop_bits,
        flow_control: s.flow_control,
    };
    let what = format!("scanner {:?}", s.name);
    let p = &port_settings;
    let given = [
        ("path", p.path.is_some()),
        ("baud", p.baud.is_some()),
        ("data_bits", p.data_bits.is_some()),
        ("parity", p.parity.is_some()),
        ("stop_bits", p.stop_bits.is_some()),
        ("flow_control", p.flow_control.is_some()),
        ("suffix", s.suffix.is_some()),
        ("prefix", s.prefix.is_some()),
        ("idle_gap_ms", s.idle_gap_ms.is_some()),
        ("aim_ids", s.aim_ids.is_some()),
        ("max_length", s.max_length.is_some()),
        ("trigger_on", s.trigger_on.is_some()),
        ("trigger_off", s.trigger_off.is_some()),
        ("codes", s.codes.is_some()),
        ("delay_ms", s.delay_ms.is_some()),
        ("width", s.width.is_some()),
        ("height", s.height.is_some()),
        ("fps", s.fps.is_some()),
        ("format", s.format.is_some()),
        ("formats", s.formats.is_some()),
        ("usb_id", s.usb_id.is_some()),
        ("device_name", s.device_name.is_some()),
        ("layout", s.layout.is_some()),
        ("variant", s.variant.is_some()),
        ("terminator", s.terminator.is_some()),
        ("grab", s.grab.is_some()),
    ];
    // hidpos refuses the keyboard keys itself, saying why (UsbKeys::hidpos).
    const USB: &[&str] = &[
        "path",
        "usb_id",
        "device_name",
        "idle_gap_ms",
        "aim_ids",
        "max_length",
        "layout",
        "variant",
        "terminator",
        "grab",
    ];
    let (name, accepted): (&str, &[&str]) = match s.driver {
        ScannerDriverName::Serial => (
            "serial",
            &[
                "path",
                "baud",
                "data_bits",
                "parity",
                "stop_bits",
                "flow_control",
                "suffix",
                "prefix",
                "idle_gap_ms",
                "aim_ids",
                "max_length",
                "trigger_on",
                "trigger_off",
            ],
        ),
        ScannerDriverName::Camera => (
            "camera",
            &["path", "width", "height", "fps", "format", "formats"],
        ),
        ScannerDriverName::Wedge => ("wedge", USB),
        ScannerDriverName::Hidpos => ("hidpos", USB),
        ScannerDriverName::Mock => ("mock", &["codes", "delay_ms"]),
    };
    refuse_unused(&what, name, &given, accepted)?;
    let driver = match s.driver {
        ScannerDriverName::Serial => {
            let (path, mut port) = port(&port_settings, &what)?;
            let suffix = bytes("suffix", s.suffix.as_deref().unwrap_or("\r"))
                .map_err(|m| format!("{what}: {m}"))?;
            let gap = s.idle_gap_ms.unwrap_or(50);
            if !(5..=5000).contains(&gap) {
                return Err(format!("{what}: idle_gap_ms must be 5 to 5000"));
            }
            // With a suffix the read timeout only paces trigger and shutdown
            // checks; without one it is the gap that ends a scan.
            port.read_timeout = if suffix.is_empty() { ms(gap) } else { ms(100) };
            let max_len = s.max_length.unwrap_or(FramingConfig::DEFAULT_MAX_LEN);
            if !(1..=65536).contains(&max_len) {
                return Err(format!("{what}: max_length must be 1 to 65536"));
            }
            let framing = Framing {
                framing: FramingConfig {
                    prefix: bytes("prefix", s.prefix.as_deref().unwrap_or(""))
                        .map_err(|m| format!("{what}: {m}"))?,
                    terminator: if suffix.is_empty() {
                        Terminator::IdleGap
                    } else {
                        Terminator::Suffix(suffix)
                    },
                    max_len,
                },
                aim_ids: s.aim_ids.unwrap_or(false),
                trigger_on: bytes("trigger_on", s.trigger_on.as_deref().unwrap_or(""))
                    .map_err(|m| format!("{what}: {m}"))?,
                trigger_off: bytes("trigger_off", s.trigger_off.as_deref().unwrap_or(""))
                    .map_err(|m| format!("{what}: {m}"))?,
            };
            ScannerDriver::Serial {
                path,
                port,
                framing,
            }
        }
        ScannerDriverName::Camera => {
            camera(&s, &port_settings).map_err(|m| format!("{what}: {m}"))?
        }
        ScannerDriverName::Wedge | ScannerDriverName::Hidpos => {
            let keys = UsbKeys {
                path: port_settings.path.clone(),
                usb_id: s.usb_id.take(),
                device_name: s.device_name.take(),
                layout: s.layout.take(),
                variant: s.variant.take(),
                terminator: s.terminator.take(),
                idle_gap_ms: s.idle_gap_ms,
                aim_ids: s.aim_ids,
                max_length: s.max_length,
                grab: s.grab,
            };
            if s.driver == ScannerDriverName::Wedge {
                ScannerDriver::Wedge(keys.wedge().map_err(|m| format!("{what}: {m}"))?)
            } else {
                ScannerDriver::HidPos(keys.hidpos().map_err(|m| format!("{what}: {m}"))?)
            }
        }
        ScannerDriverName::Mock => ScannerDriver::Mock {
            codes: s.codes.unwrap_or_default(),
            delay: ms(s.delay_ms.unwrap_or(1000)),
        },
    };
    Ok(ScannerConfig {
        name: s.name,
        driver,
    })
}

fn camera(s: &RawScanner, p: &RawPort) -> Result<ScannerDriver, String> {
    let defaults = V4l2Config::default();
    let path = p.path.clone().ok_or("path is required")?;
    let width = s.width.unwrap_or(defaults.width);
    let height = s.height.unwrap_or(defaults.height);
    if !(16..=7680).contains(&width) || !(16..=4320).contains(&height) {
        return Err(format!(
            "{width}x{height} is not a camera resolution (16x16 to 7680x4320)"
        ));
    }
    let fps = s.fps.unwrap_or(defaults.fps);
    if !(1..=240).contains(&fps) {
        return Err("fps must be 1 to 240".into());
    }
    let format = match s.format.unwrap_or(RawPixelFormat::Auto) {
        RawPixelFormat::Auto => PixelFormat::Auto,
        RawPixelFormat::Yuyv => PixelFormat::Yuyv,
        RawPixelFormat::Mjpeg => PixelFormat::Mjpeg,
    };
    let formats: Vec<CodeFormat> = match &s.formats {
        None => vec![CodeFormat::Qr, CodeFormat::Code128],
        Some(list) => list
            .iter()
            .map(|f| match f {
                RawCodeFormat::Qr => CodeFormat::Qr,
                RawCodeFormat::Code128 => CodeFormat::Code128,
                RawCodeFormat::Datamatrix => CodeFormat::DataMatrix,
                RawCodeFormat::Pdf417 => CodeFormat::Pdf417,
            })
            .collect(),
    };
    if formats.is_empty() {
        return Err("formats must name at least one of qr, code128, datamatrix, pdf417".into());
    }
    Ok(ScannerDriver::Camera {
        capture: V4l2Config {
            path,
            width,
            height,
            fps,
            format,
        },
        formats,
    })
}

/// Most `allowed_hosts` entries of a web screen: a few names per kiosk is
/// all there is to list.
const MAX_ALLOWED_HOSTS: usize = 32;

fn display(mut d: RawDisplay) -> Result<DisplayConfig, String> {
    let what = format!("display {:?}", d.name);
    let given = [
        ("path", d.path.is_some()),
        ("baud", d.baud.is_some()),
        ("data_bits", d.data_bits.is_some()),
        ("parity", d.parity.is_some()),
        ("stop_bits", d.stop_bits.is_some()),
        ("flow_control", d.flow_control.is_some()),
        ("command_set", d.command_set.is_some()),
        ("code_page", d.code_page.is_some()),
        ("columns", d.columns.is_some()),
        ("idle_text", d.idle_text.is_some()),
        ("marquee", d.marquee.is_some()),
        ("scroll", d.scroll.is_some()),
        ("deadline_ms", d.deadline_ms.is_some()),
        ("listen", d.listen.is_some()),
        ("token_file", d.token_file.is_some()),
        ("merchant", d.merchant.is_some()),
        ("logo", d.logo.is_some()),
        ("allowed_hosts", d.allowed_hosts.is_some()),
        ("address", d.address.is_some()),
        ("rows", d.rows.is_some()),
        ("glyphs", d.glyphs.is_some()),
        ("backlight", d.backlight.is_some()),
    ];
    let (name, accepted): (&str, &[&str]) = match d.driver {
        DisplayDriverName::Vfd => (
            "vfd",
            &[
                "path",
                "baud",
                "data_bits",
                "parity",
                "stop_bits",
                "flow_control",
                "command_set",
                "code_page",
                "columns",
                "idle_text",
                "marquee",
                "scroll",
                "deadline_ms",
            ],
        ),
        DisplayDriverName::Lcd => (
            "lcd",
            &[
                "path",
                "address",
                "rows",
                "columns",
                "idle_text",
                "glyphs",
                "backlight",
                "deadline_ms",
            ],
        ),
        DisplayDriverName::Web => (
            "web",
            &[
                "listen",
                "token_file",
                "merchant",
                "logo",
                "allowed_hosts",
                "deadline_ms",
            ],
        ),
        DisplayDriverName::Console => ("console", &["path", "columns", "deadline_ms"]),
        DisplayDriverName::Mock => ("mock", &["deadline_ms"]),
    };
    refuse_unused(&what, name, &given, accepted)?;
    let deadline = d.deadline_ms.unwrap_or(2000);
    if !(100..=60_000).contains(&deadline) {
        return Err(format!("{what}: deadline_ms must be 100 to 60000"));
    }
    let deadline = ms(deadline);
    let driver = match d.driver {
        DisplayDriverName::Vfd => {
            let port_settings = RawPort {
                path: d.path.take(),
                baud: d.baud,
                data_bits: d.data_bits,
                parity: d.parity,
                stop_bits: d.stop_bits,
                flow_control: d.flow_control,
            };
            let (path, mut port) = port(&port_settings, &what)?;
            // A write that cannot start within the deadline fails.
            port.read_timeout = deadline;
            let command_set = match d.command_set {
                Some(RawCommandSet::Escpos) => CommandSet::EscPos,
                Some(RawCommandSet::Cd5220) => CommandSet::Cd5220,
                Some(RawCommandSet::Led8) => CommandSet::LedPrice8,
                None => {
                    return Err(format!(
                        "{what}: command_set is required (escpos, cd5220 or led8)"
                    ));
                }
            };
            let mut vfd = VfdConfig::new(command_set);
            vfd.code_page = match d.code_page {
                Some(RawCodePage::Cp437) | None => CodePage::Cp437,
                Some(RawCodePage::Pc858) => CodePage::Pc858,
                Some(RawCodePage::Gb18030) => CodePage::Gb18030,
            };
            if let Some(columns) = d.columns {
                if !(8..=40).contains(&columns) {
                    return Err(format!("{what}: columns must be 8 to 40"));
                }
                vfd.columns = columns;
            }
            if let Some(idle) = d.idle_text {
                if idle.len() > 2 {
                    return Err(format!("{what}: idle_text has at most 2 lines"));
                }
                let mut lines = idle.into_iter();
                vfd.idle = [
                    lines.next().unwrap_or_default(),
                    lines.next().unwrap_or_default(),
                ];
            }
            vfd.marquee = d.marquee.unwrap_or(false);
            vfd.scroll = match d.scroll {
                Some(RawScroll::Overwrite) | None => ScrollMode::Overwrite,
                Some(RawScroll::Vertical) => ScrollMode::Vertical,
                Some(RawScroll::Horizontal) => ScrollMode::Horizontal,
            };
            DisplayDriver::Vfd { path, port, vfd }
        }
        DisplayDriverName::Lcd => {
            let path = d.path.ok_or_else(|| {
                format!("{what}: path is required (the I2C bus, e.g. /dev/i2c-1)")
            })?;
            let mut lcd = LcdConfig::new(d.rows.unwrap_or(2), d.columns.unwrap_or(16));
            if let Some(address) = d.address {
                lcd.address = address;
            }
            if let Some(glyphs) = d.glyphs {
                lcd.glyphs = glyphs;
            }
            if let Some(idle) = d.idle_text {
                for line in &idle {
                    check_text_line(&what, "idle_text", line)?;
                }
                lcd.idle = idle;
            }
            lcd.backlight = d.backlight.unwrap_or(true);
            lcd.validate().map_err(|e| format!("{what}: {e}"))?;
            DisplayDriver::Lcd { path, lcd }
        }
        DisplayDriverName::Web => {
            let listen = d.listen.as_deref().unwrap_or("127.0.0.1:8787");
            let listen: SocketAddr = listen.parse().map_err(|_| {
                format!(
                    "{what}: listen {listen:?} is not an address and port like \"127.0.0.1:8787\""
                )
            })?;
            if !listen.ip().is_loopback() && d.token_file.is_none() {
                return Err(format!(
                    "{what}: listen {listen} is reachable from other machines: set token_file \
                     (the kiosk then opens the page with ?token=…)"
                ));
            }
            let merchant = d.merchant.unwrap_or_default();
            check_text_line(&what, "merchant", &merchant)?;
            let entries = d.allowed_hosts.unwrap_or_default();
            if entries.len() > MAX_ALLOWED_HOSTS {
                return Err(format!(
                    "{what}: allowed_hosts has at most {MAX_ALLOWED_HOSTS} entries"
                ));
            }
            let allowed_hosts = entries
                .iter()
                .map(|entry| {
                    AllowedHost::parse(entry, listen.port()).map_err(|e| {
                        format!(
                            "{what}: allowed_hosts entry {entry:?} {e}; write a name the kiosk \
                             opens the screen by, like \"kiosk.local:{}\"",
                            listen.port()
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
            DisplayDriver::Web(WebConfig {
                listen,
                token_file: d.token_file,
                merchant,
                logo: d.logo,
                allowed_hosts,
            })
        }
        DisplayDriverName::Console => {
            let columns = usize::from(d.columns.unwrap_or(40));
            if !(20..=120).contains(&columns) {
                return Err(format!(
                    "{what}: columns must be 20 to 120 for a console display"
                ));
            }
            DisplayDriver::Console {
                path: d.path,
                columns,
            }
        }
        DisplayDriverName::Mock => DisplayDriver::Mock,
    };
    Ok(DisplayConfig {
        name: d.name,
        driver,
        deadline,
    })
}

/// A line of text for a display: no control characters, at most 128.
fn check_text_line(what: &str, key: &str, text: &str) -> Result<(), String> {
    if text.chars().count() > 128 || text.chars().any(kassa_hal::order::is_forbidden_char) {
        return Err(format!(
            "{what}: {key} must be at most 128 characters without control characters"
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
}
