//! kassad: the kassa D-Bus service, and the parts of it that are not D-Bus.
//!
//! - [`config`] reads `kassa.toml`;
//! - [`checkout`] is the checkout state machine (pure);
//! - [`core`] is the terminal service — who gets a scan, sessions, claims,
//!   what the displays show — and knows nothing of D-Bus;
//! - [`devices`] keeps every scanner and display open through the HAL's
//!   traits, one generic worker per device and one module per family
//!   (serial, LCD, USB, camera, console, mock);
//! - [`backend`] asks the platform server for orders and payment status
//!   (the [`backend::Backend`] the core asks, answered over HTTP);
//! - [`http`] is the hardened HTTP server the web screen and the POS API
//!   run on;
//! - [`web`] serves the customer's second screen to a kiosk browser;
//! - [`pos_api`] serves the same contract to browser and Electron POS
//!   apps, as JSON over a WebSocket on loopback;
//! - [`metrics`] counts scans, drops, checkouts, backend errors and
//!   device connections, and serves them to Prometheus on loopback;
//! - [`dbus`] serves the `org.kassa.*` interfaces, which only translate,
//!   one file per interface, and reads the callers' options;
//! - [`service`] is kassad's life: build the terminal, serve the bus, stop.
//!
//! Typed proxies for the interfaces are in the `kassa-client` crate, which
//! kassactl, the tests and Rust POS programs use.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod backend;
pub mod checkout;
pub mod config;
pub mod core;
pub mod dbus;
pub mod devices;
pub mod http;
pub mod log_limit;
pub mod logging;
pub mod metrics;
pub mod pos_api;
pub mod service;
pub mod text;
pub mod web;
