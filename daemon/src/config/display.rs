//! `[[display]]`: the keys every display takes, and one table of settings
//! per driver.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kassa_drivers::lcd::LcdConfig;
use kassa_drivers::vfd::{CodePage, CommandSet, ScrollMode, VfdConfig};
use serde::Deserialize;
use toml::Spanned;

use super::DisplayDriver;
use super::keys::{Drivers, Mistake, Table};
use super::serial::RawPort;
use super::values::{check_text_line, ms};
use crate::http::AllowedHost;
use crate::web::{Languages, WebConfig};

/// The values of `driver`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub(super) enum DisplayDriverName {
    Vfd,
    Lcd,
    Web,
    Console,
    Mock,
}

/// How long showing a view may take, in milliseconds.
const DEADLINE_MS: std::ops::RangeInclusive<u64> = 100..=60_000;

/// The keys every display takes, whatever its driver.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDisplayCommon {
    pub name: String,
    pub driver: Spanned<DisplayDriverName>,
    deadline_ms: Option<u64>,
}

impl RawDisplayCommon {
    /// How long showing one view may take.
    pub(super) fn deadline(&self) -> Result<Duration, String> {
        let deadline = self.deadline_ms.unwrap_or(2000);
        if !DEADLINE_MS.contains(&deadline) {
            return Err(format!(
                "deadline_ms must be {} to {}",
                DEADLINE_MS.start(),
                DEADLINE_MS.end()
            ));
        }
        Ok(ms(deadline))
    }
}

/// A display's settings as written: one table per driver.
pub(super) enum RawDisplay {
    Vfd(RawPort, RawVfdDisplay),
    Lcd(RawLcdDisplay),
    Web(RawWebDisplay),
    Console(RawConsoleDisplay),
    Mock(RawMockDisplay),
}

impl Drivers for DisplayDriverName {
    type Raw = RawDisplay;

    fn take(self, t: &mut Table<'_>, what: &str) -> Result<RawDisplay, Mistake> {
        Ok(match self {
            DisplayDriverName::Vfd => RawDisplay::Vfd(t.take(what)?, t.take(what)?),
            DisplayDriverName::Lcd => RawDisplay::Lcd(t.take(what)?),
            DisplayDriverName::Web => RawDisplay::Web(t.take(what)?),
            DisplayDriverName::Console => RawDisplay::Console(t.take(what)?),
            DisplayDriverName::Mock => RawDisplay::Mock(t.take(what)?),
        })
    }
}

impl RawDisplay {
    /// Validates the settings; `deadline` is the display's.
    pub(super) fn settings(self, deadline: Duration) -> Result<DisplayDriver, String> {
        match self {
            RawDisplay::Vfd(port, vfd) => vfd.settings(port, deadline),
            RawDisplay::Lcd(lcd) => lcd.settings(),
            RawDisplay::Web(web) => web.settings(),
            RawDisplay::Console(console) => console.settings(),
            RawDisplay::Mock(RawMockDisplay {}) => Ok(DisplayDriver::Mock),
        }
    }
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

/// The settings of `driver = "vfd"` besides the port.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVfdDisplay {
    command_set: Option<RawCommandSet>,
    code_page: Option<RawCodePage>,
    columns: Option<u8>,
    idle_text: Option<Vec<String>>,
    marquee: Option<bool>,
    scroll: Option<RawScroll>,
}

/// Columns of a VFD.
const VFD_COLUMNS: std::ops::RangeInclusive<u8> = 8..=40;
/// Lines of a VFD's idle text.
const VFD_IDLE_LINES: usize = 2;

impl RawVfdDisplay {
    fn settings(self, port: RawPort, deadline: Duration) -> Result<DisplayDriver, String> {
        let (path, mut port) = port.settings()?;
        // A write that cannot start within the deadline fails.
        port.read_timeout = deadline;
        let command_set = match self.command_set {
            Some(RawCommandSet::Escpos) => CommandSet::EscPos,
            Some(RawCommandSet::Cd5220) => CommandSet::Cd5220,
            Some(RawCommandSet::Led8) => CommandSet::LedPrice8,
            None => return Err("command_set is required (escpos, cd5220 or led8)".into()),
        };
        let mut vfd = VfdConfig::new(command_set);
        vfd.code_page = match self.code_page {
            Some(RawCodePage::Cp437) | None => CodePage::Cp437,
            Some(RawCodePage::Pc858) => CodePage::Pc858,
            Some(RawCodePage::Gb18030) => CodePage::Gb18030,
        };
        if let Some(columns) = self.columns {
            if !VFD_COLUMNS.contains(&columns) {
                return Err(format!(
                    "columns must be {} to {}",
                    VFD_COLUMNS.start(),
                    VFD_COLUMNS.end()
                ));
            }
            vfd.columns = columns;
        }
        if let Some(idle) = self.idle_text {
            if idle.len() > VFD_IDLE_LINES {
                return Err(format!("idle_text has at most {VFD_IDLE_LINES} lines"));
            }
            for line in &idle {
                check_text_line("idle_text", line)?;
            }
            let mut lines = idle.into_iter();
            vfd.idle = [
                lines.next().unwrap_or_default(),
                lines.next().unwrap_or_default(),
            ];
        }
        vfd.marquee = self.marquee.unwrap_or(false);
        vfd.scroll = match self.scroll {
            Some(RawScroll::Overwrite) | None => ScrollMode::Overwrite,
            Some(RawScroll::Vertical) => ScrollMode::Vertical,
            Some(RawScroll::Horizontal) => ScrollMode::Horizontal,
        };
        Ok(DisplayDriver::Vfd { path, port, vfd })
    }
}

/// The settings of `driver = "lcd"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLcdDisplay {
    path: Option<PathBuf>,
    address: Option<u8>,
    rows: Option<u8>,
    columns: Option<u8>,
    idle_text: Option<Vec<String>>,
    glyphs: Option<Vec<char>>,
    backlight: Option<bool>,
}

impl RawLcdDisplay {
    /// Validates the settings; the size and glyphs by the driver's own
    /// rules.
    fn settings(self) -> Result<DisplayDriver, String> {
        let path = self
            .path
            .ok_or("path is required (the I2C bus, e.g. /dev/i2c-1)")?;
        let mut lcd = LcdConfig::new(self.rows.unwrap_or(2), self.columns.unwrap_or(16));
        if let Some(address) = self.address {
            lcd.address = address;
        }
        if let Some(glyphs) = self.glyphs {
            lcd.glyphs = glyphs;
        }
        if let Some(idle) = self.idle_text {
            for line in &idle {
                check_text_line("idle_text", line)?;
            }
            lcd.idle = idle;
        }
        lcd.backlight = self.backlight.unwrap_or(true);
        lcd.validate().map_err(|e| e.to_string())?;
        Ok(DisplayDriver::Lcd { path, lcd })
    }
}

/// The settings of `driver = "web"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebDisplay {
    listen: Option<String>,
    token_file: Option<PathBuf>,
    merchant: Option<String>,
    logo: Option<PathBuf>,
    allowed_hosts: Option<Vec<String>>,
    language: Option<RawLanguages>,
}

/// `language = "fr"` or `language = ["de", "en"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawLanguages {
    One(String),
    Two(Vec<String>),
}

/// Most `allowed_hosts` entries of a web screen: a few names per kiosk is
/// all there is to list.
const MAX_ALLOWED_HOSTS: usize = 32;

impl RawWebDisplay {
    fn settings(self) -> Result<DisplayDriver, String> {
        let listen = self.listen.as_deref().unwrap_or("127.0.0.1:8787");
        let listen: SocketAddr = listen.parse().map_err(|_| {
            format!("listen {listen:?} is not an address and port like \"127.0.0.1:8787\"")
        })?;
        if !listen.ip().is_loopback() && self.token_file.is_none() {
            return Err(format!(
                "listen {listen} is reachable from other machines: set token_file \
                 (the kiosk then opens the page with ?token=…)"
            ));
        }
        let merchant = self.merchant.unwrap_or_default();
        check_text_line("merchant", &merchant)?;
        let entries = self.allowed_hosts.unwrap_or_default();
        if entries.len() > MAX_ALLOWED_HOSTS {
            return Err(format!(
                "allowed_hosts has at most {MAX_ALLOWED_HOSTS} entries"
            ));
        }
        let allowed_hosts = entries
            .iter()
            .map(|entry| {
                AllowedHost::parse(entry, listen.port()).map_err(|e| {
                    format!(
                        "allowed_hosts entry {entry:?} {e}; write a name the kiosk \
                         opens the screen by, like \"kiosk.local:{}\"",
                        listen.port()
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let languages = match self.language {
            None => Languages::default(),
            Some(RawLanguages::One(code)) => Languages::parse(&[code])?,
            Some(RawLanguages::Two(codes)) => Languages::parse(&codes)?,
        };
        Ok(DisplayDriver::Web(WebConfig {
            listen,
            token_file: self.token_file,
            merchant,
            logo: self.logo,
            allowed_hosts,
            languages,
        }))
    }
}

/// The settings of `driver = "console"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConsoleDisplay {
    path: Option<PathBuf>,
    columns: Option<u8>,
}

/// Columns of a console display.
const CONSOLE_COLUMNS: std::ops::RangeInclusive<usize> = 20..=120;

impl RawConsoleDisplay {
    fn settings(self) -> Result<DisplayDriver, String> {
        let columns = usize::from(self.columns.unwrap_or(40));
        if !CONSOLE_COLUMNS.contains(&columns) {
            return Err(format!(
                "columns must be {} to {} for a console display",
                CONSOLE_COLUMNS.start(),
                CONSOLE_COLUMNS.end()
            ));
        }
        Ok(DisplayDriver::Console {
            path: self.path,
            columns,
        })
    }
}

/// The settings of `driver = "mock"`: none besides the common ones.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMockDisplay {}
