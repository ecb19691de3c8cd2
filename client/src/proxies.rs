//! Typed proxies for kassad's four interfaces.

use std::collections::HashMap;

use zbus::proxy;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

use crate::Options;

/// `org.kassa.Terminal1`.
#[proxy(
    interface = "org.kassa.Terminal1",
    default_service = "org.kassa.Terminal1",
    default_path = "/org/kassa/Terminal1"
)]
pub trait Terminal {
    /// Prompt, trigger, wait for one payment code.
    fn scan_payment_code(&self, options: Options<'_>) -> zbus::Result<(String, String, String)>;
    /// Start a checkout session.
    fn begin_checkout(&self, options: Options<'_>) -> zbus::Result<OwnedObjectPath>;
    /// Show an order document.
    fn show_order(&self, order_json: &str) -> zbus::Result<()>;
    /// Show the order the backend bound to `code`.
    fn show_order_for_code(&self, code: &str, options: Options<'_>) -> zbus::Result<String>;
    /// Show a payment result.
    fn show_payment_result(&self, status: &str, message: &str) -> zbus::Result<()>;
    /// Show text.
    fn show_text(&self, lines: &[&str]) -> zbus::Result<()>;
    /// Show the idle screen.
    fn clear_display(&self) -> zbus::Result<()>;
    /// Capture a face.
    fn capture_face(
        &self,
        options: Options<'_>,
    ) -> zbus::Result<(Vec<u8>, HashMap<String, OwnedValue>)>;
    /// Claim the scanner.
    fn claim_scanner(&self, options: Options<'_>) -> zbus::Result<OwnedObjectPath>;
    /// Change what kassad logs (root only): `debug`, `info`, …
    fn set_log_level(&self, filter: &str) -> zbus::Result<()>;
    /// What kassad logs now.
    #[zbus(property)]
    fn log_level(&self) -> zbus::Result<String>;
    /// kassad's version.
    #[zbus(property)]
    fn version(&self) -> zbus::Result<String>;
    /// The terminal's state.
    #[zbus(property)]
    fn state(&self) -> zbus::Result<String>;
}

/// `org.kassa.Checkout1`.
#[proxy(
    interface = "org.kassa.Checkout1",
    default_service = "org.kassa.Terminal1"
)]
pub trait Checkout {
    /// Cancel.
    fn cancel(&self) -> zbus::Result<()>;
    /// Finish with a result.
    fn finish(&self, status: &str, message: &str) -> zbus::Result<()>;
    /// The checkout's code, once (owner only): at once if it was read,
    /// else when it is; for a caller that may have missed `CodeScanned`.
    fn take_code(&self) -> zbus::Result<(String, String, String)>;
    /// The code was read.
    #[zbus(signal)]
    fn code_scanned(&self, code: String, channel: String, source: String) -> zbus::Result<()>;
    /// An order is shown.
    #[zbus(signal)]
    fn order_shown(&self, order_json: String) -> zbus::Result<()>;
    /// The checkout ended.
    #[zbus(signal)]
    fn finished(&self, state: String, message: String) -> zbus::Result<()>;
    /// State.
    #[zbus(property)]
    fn state(&self) -> zbus::Result<String>;
    /// Channel.
    #[zbus(property)]
    fn channel(&self) -> zbus::Result<String>;
    /// Order JSON.
    #[zbus(property)]
    fn order(&self) -> zbus::Result<String>;
}

/// `org.kassa.Claim1`.
#[proxy(
    interface = "org.kassa.Claim1",
    default_service = "org.kassa.Terminal1"
)]
pub trait Claim {
    /// Release the claim.
    fn release(&self) -> zbus::Result<()>;
    /// Re-enable after auto-disable.
    fn enable(&self) -> zbus::Result<()>;
    /// A scan.
    #[zbus(signal)]
    fn scanned(&self, data: String, symbology: String, source: String) -> zbus::Result<()>;
    /// Whether scans are delivered.
    #[zbus(property)]
    fn enabled(&self) -> zbus::Result<bool>;
}

/// `org.kassa.Device1`.
#[proxy(
    interface = "org.kassa.Device1",
    default_service = "org.kassa.Terminal1"
)]
pub trait Device {
    /// `ok` or why not.
    fn check_health(&self) -> zbus::Result<String>;
    /// Name.
    #[zbus(property)]
    fn name(&self) -> zbus::Result<String>;
    /// Role.
    #[zbus(property)]
    fn role(&self) -> zbus::Result<String>;
    /// Driver.
    #[zbus(property)]
    fn driver(&self) -> zbus::Result<String>;
    /// Path.
    #[zbus(property)]
    fn path(&self) -> zbus::Result<String>;
    /// Connected.
    #[zbus(property)]
    fn connected(&self) -> zbus::Result<bool>;
    /// Last error.
    #[zbus(property)]
    fn last_error(&self) -> zbus::Result<String>;
    /// Scan count.
    #[zbus(property)]
    fn scan_count(&self) -> zbus::Result<u64>;
    /// Reads dropped: garbled data, and scans nobody wanted.
    #[zbus(property)]
    fn dropped_count(&self) -> zbus::Result<u64>;
}

/// `org.kassa.Simulator1`, on the root where simulated devices are
/// allowed: drives kassad's simulated (`driver = "mock"`) devices.
#[proxy(
    interface = "org.kassa.Simulator1",
    default_service = "org.kassa.Terminal1",
    default_path = "/org/kassa/Terminal1"
)]
pub trait Simulator {
    /// The simulated scanner `device` reads `data`; `symbology` by name
    /// (`qr`, `ean13`, …) or empty.
    fn inject_scan(&self, device: &str, data: &str, symbology: &str) -> zbus::Result<()>;
    /// Plugs the simulated device in or unplugs it.
    fn set_connected(&self, device: &str, connected: bool) -> zbus::Result<()>;
    /// The simulated device's next call fails with `error` (`disconnected`,
    /// `timeout`, `busy`, `invalid data`, `unsupported`, `other`).
    fn fail_next(&self, device: &str, error: &str) -> zbus::Result<()>;
}
