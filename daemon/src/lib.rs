//! kassad: the kassa D-Bus service, and the parts of it that are not D-Bus.
//!
//! - [`config`] reads `kassa.toml`;
//! - [`checkout`] is the checkout state machine (pure);
//! - [`core`] is the terminal service — who gets a scan, sessions, claims,
//!   what the displays show — and knows nothing of D-Bus;
//! - [`usb_scanners`] finds, reads and hot-plugs wedge and HID POS scanners;
//! - [`devices`] keeps scanners and displays connected, with backoff;
//! - [`camera`] runs cameras: codes and faces, off the async runtime;
//! - [`backend`] asks the platform server for orders and payment status;
//! - [`console`] draws the customer's screen in a terminal;
//! - [`web`] serves the customer's second screen to a kiosk browser;
//! - [`dbus`] serves the `org.kassa.*` interfaces, which only translate;
//! - [`client`] has proxies for them (kassactl, tests, Rust POS programs).
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod backend;
pub mod camera;
pub mod checkout;
pub mod client;
pub mod config;
pub mod console;
pub mod core;
pub mod dbus;
pub mod devices;
pub mod log_limit;
pub mod logging;
pub mod options;
pub mod text;
pub mod usb_scanners;
pub mod web;
