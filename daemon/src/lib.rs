//! kassad: the kassa D-Bus service, and the parts of it that are not D-Bus.
//!
//! - [`config`]: `kassa.toml`.
//! - [`checkout`]: the checkout state machine (pure).
//! - [`core`]: the terminal service — who gets a scan, sessions, claims,
//!   what the displays show — knowing nothing of D-Bus.
//! - [`devices`]: scanner and display workers, reconnecting with backoff.
//! - [`backend`]: the order query and payment status client.
//! - [`dbus`]: the `org.kassa.*` interfaces, which only translate.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod checkout;
pub mod config;
pub mod console;
pub mod devices;
