//! Keyboard-wedge scanners: USB scanners that type their scans as key
//! presses.
//!
//! The [`WedgeDecoder`] turns key events into scans through a real keyboard
//! layout ([`Keymap`], compiled by xkbcommon from the system's xkb data), so
//! a scanner set to the French AZERTY layout, which types shifted digits,
//! decodes as well as one set to US. It is a pure function of the events and
//! their timestamps: the tests replay recorded streams through it, and the
//! Linux side ([`linux`], feature `usb-linux`) feeds it the records read from
//! `/dev/input/event*` while holding the device grabbed. The [`Typist`] is
//! its reverse: the key presses that type a text in a layout, for passing
//! scans through to the desktop.

mod decoder;
pub mod detect;
pub mod keymap;
pub mod keys;
#[cfg(feature = "usb-linux")]
pub mod linux;
pub mod record;
#[cfg(test)]
mod tests;
pub mod typist;
#[cfg(feature = "usb-linux")]
pub mod uinput;

pub use decoder::{DecodeError, DecoderConfig, KeyAction, KeyEvent, Terminator, WedgeDecoder};
pub use keymap::{Keymap, LayoutError, LayoutName};
pub use record::{RawEvent, RecordParser, Recording};
pub use typist::{KeyStroke, Typist, Untypable};
