//! Drivers for point-of-sale devices behind the [`kassa_hal`] traits.
//!
//! One module per device family, each behind a cargo feature:
//!
//! - [`serial`] (`serial`, `linux`): scanners on a serial port — framing
//!   (suffix, prefix, idle gap, AIM ids, length limit) and host trigger over
//!   `embedded_io`, and real ports opened through serialport on Linux.
//! - [`vfd`] (`vfd`): customer displays on a serial line — Epson ESC/POS
//!   customer-display mode, the CD5220 command set and the 8-digit LED price
//!   display — rendering a [`kassa_hal::View`] to bytes.
//! - [`wedge`] (`wedge`, `usb-linux`): keyboard-wedge scanners — a pure
//!   decoder from key events to scans through real keyboard layouts
//!   (xkbcommon), and evdev devices read with an exclusive grab on Linux.
//! - [`hidpos`] (`hidpos`, `usb-linux`): scanners in USB HID POS mode —
//!   report descriptor parsing and report decoding, hidraw on Linux.
//! - [`usb`] (`usb-linux`): the USB scanners kassa knows, discovery in sysfs
//!   and hot-plug through a libudev monitor.
//! - [`lcd`] (`lcd`, `linux`): character LCDs — an HD44780 behind a PCF8574
//!   I2C backpack, over `embedded_hal` I2C, with currency signs drawn in
//!   CGRAM — and real buses opened through linux-embedded-hal on Linux.
//! - [`mock`] (`mock`): a scanner fed through a handle and a display that
//!   records what it was asked to show, for tests and the demo.
//!
//! Protocol code is written against `embedded_io` and `embedded_hal` so that
//! it runs unchanged on a microcontroller: without the `std` feature (on by
//! default) the crate is `no_std` and needs only `core` and `alloc`, and
//! `serial`, `vfd` and `lcd` build for targets without an operating system.
//! The features that touch the operating system (`linux`, `wedge`, `hidpos`,
//! `usb-linux`, `camera`, `mock`) turn `std` on.
//!
//! Every device implements the blocking traits of
//! [`kassa_hal::blocking`]; the async ones only where its transport really
//! does not block (the serial scanner and the VFD over `embedded_io_async`).
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(feature = "camera")]
pub mod camera;
#[cfg(any(feature = "vfd", feature = "lcd"))]
pub mod cells;
#[cfg(feature = "hidpos")]
pub mod hidpos;
#[cfg(any(feature = "serial", feature = "vfd"))]
pub mod io;
#[cfg(feature = "lcd")]
pub mod lcd;
#[cfg(feature = "mock")]
pub mod mock;
#[cfg(feature = "serial")]
pub mod serial;
#[cfg(all(test, feature = "vfd", feature = "lcd"))]
mod testing;
#[cfg(any(feature = "wedge", feature = "hidpos"))]
pub mod usb;
#[cfg(feature = "vfd")]
pub mod vfd;
#[cfg(feature = "wedge")]
pub mod wedge;
