//! A client for kassad, the kassa D-Bus service for point-of-sale
//! scanners and customer displays: typed [zbus] proxies for its four
//! interfaces and a typed [`Error`] for its answers.
//!
//! - [`TerminalProxy`] (`org.kassa.Terminal1` at `/org/kassa/Terminal1`):
//!   scan a payment code, begin a checkout, show an order, a result or
//!   text, claim the scanner, capture a face;
//! - [`CheckoutProxy`] (`org.kassa.Checkout1`): one checkout session, its
//!   signals and its end;
//! - [`ClaimProxy`] (`org.kassa.Claim1`): a claim on the scanner and its
//!   scans;
//! - [`DeviceProxy`] (`org.kassa.Device1`): one scanner or display and its
//!   health.
//!
//! Methods take their `a{sv}` options as [`Options`] and return
//! [`zbus::Result`]; `?` into [`Error`] tells kassad's errors apart.
//!
//! # First call
//!
//! Wait for the customer's payment code for 36.00 CNY (amounts are in
//! minor units), on the system bus where kassad runs as a service (the
//! caller must be root or in group `kassa`):
//!
//! ```no_run
//! use kassa_client::zbus::{self, zvariant::Value};
//! use kassa_client::{Error, Options, TerminalProxy};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let connection = zbus::Connection::system().await?;
//!     let terminal = TerminalProxy::new(&connection).await?;
//!     let mut options = Options::new();
//!     options.insert("amount", Value::I64(3600));
//!     options.insert("currency", Value::from("CNY"));
//!     match terminal.scan_payment_code(options).await.map_err(Error::from) {
//!         Ok((code, channel, source)) => println!("{channel} code {code} from {source}"),
//!         Err(Error::Timeout(why)) => println!("no code: {why}"),
//!         Err(e) => return Err(e),
//!     }
//!     Ok(())
//! }
//! ```

use std::collections::HashMap;

use zbus::zvariant::Value;

mod error;
mod proxies;

pub use error::{Error, error_message, error_name};
// The proxies, and the signal streams and arguments zbus makes for them
// (`CodeScannedStream`, `FinishedArgs`, …).
pub use proxies::*;
/// The zbus these proxies are built with, for its `Connection` and
/// `zvariant::Value`.
pub use zbus;

/// `a{sv}` options, as the methods that take them send them: option name
/// to value (`"timeout_ms"` → `Value::U32(30_000)`).
pub type Options<'a> = HashMap<&'a str, Value<'a>>;
