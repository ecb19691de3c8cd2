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
//!
//! - `load` reads the file and puts the sections together;
//! - `device` holds the validated scanner and display types, `backend` and
//!   `checkout` their sections (as written and validated);
//! - `values` has the checks of single values the driver tables share.

use std::fmt;

use kassa_hal::ChannelTable;

mod backend;
mod checkout;
mod device;
mod display;
mod keys;
mod load;
mod metrics;
mod pass_through;
mod pos_api;
mod scanner;
mod serial;
#[cfg(feature = "usb")]
mod usb;
mod values;

pub use backend::{BackendConfig, Method, check_url};
pub use checkout::CheckoutConfig;
pub use device::{DisplayConfig, DisplayDriver, ScannerConfig, ScannerDriver};
pub use metrics::DEFAULT_LISTEN as DEFAULT_METRICS_LISTEN;
pub use pass_through::PassThroughMode;
pub use pos_api::{DEFAULT_LISTEN as DEFAULT_POS_API_LISTEN, PosApiConfig};
#[cfg(feature = "usb")]
pub use usb::{HidPosSettings, PassThroughSettings, WedgeSettings};

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
    /// `[pos_api]`: the WebSocket API for browser POS apps, if configured.
    pub pos_api: Option<PosApiConfig>,
    /// `[metrics]`: the Prometheus endpoint on loopback, if configured.
    pub metrics: Option<crate::metrics::MetricsConfig>,
}

#[cfg(test)]
mod tests;
