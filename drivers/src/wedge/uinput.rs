//! A virtual keyboard on Linux (uinput), for passing scans through to the
//! desktop: the compositor or the console reads it like any keyboard.
//!
//! Each key event goes in a report of its own, a stroke at a time with a
//! pause after it, as a USB keyboard delivers them at its polling rate: a
//! burst of hundreds of events could overflow a slow reader's buffer and
//! lose keys (`SYN_DROPPED`).

use std::fmt;
use std::io;
use std::time::Duration;

use evdev::uinput::VirtualDevice;
use evdev::{AttributeSet, BusType, EventType, InputEvent, InputId, KeyCode};

use super::typist::KeyStroke;

/// A virtual keyboard could not be made or written to.
#[derive(Debug)]
pub struct UinputError {
    /// What was being done.
    pub doing: &'static str,
    /// The system's error.
    pub error: io::Error,
}

impl fmt::Display for UinputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "virtual keyboard: {}: {}", self.doing, self.error)?;
        match self.error.kind() {
            io::ErrorKind::PermissionDenied => {
                f.write_str(" (kassad needs write access to /dev/uinput; see the install guide)")
            }
            io::ErrorKind::NotFound => f.write_str(" (is the uinput module loaded?)"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for UinputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

fn failed(doing: &'static str) -> impl FnOnce(io::Error) -> UinputError {
    move |error| UinputError { doing, error }
}

/// A keyboard that exists only in the kernel, typing what kassad gives it.
pub struct VirtualKeyboard {
    device: VirtualDevice,
}

impl fmt::Debug for VirtualKeyboard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualKeyboard").finish_non_exhaustive()
    }
}

impl VirtualKeyboard {
    /// The device's name, as `/proc/bus/input/devices` and the desktop
    /// show it.
    pub const NAME: &'static str = "kassa pass-through keyboard";
    /// Its id: a virtual bus, vendor and product 0, which no scanner
    /// match of kassa's takes for a scanner.
    pub const ID: (u16, u16) = (0, 0);

    /// Creates the keyboard through `/dev/uinput`: the main block of a PC
    /// keyboard and AltGr, the keys a typist presses (so udev and the
    /// desktop class it as a keyboard), and no power, media or SysRq key.
    ///
    /// # Errors
    ///
    /// [`UinputError`] when `/dev/uinput` cannot be opened (permissions,
    /// module) or the device cannot be made.
    pub fn create() -> Result<VirtualKeyboard, UinputError> {
        let mut keys = AttributeSet::<KeyCode>::new();
        for code in (1..=88).chain([super::keys::KEY_RIGHTALT]) {
            keys.insert(KeyCode::new(code));
        }
        let device = VirtualDevice::builder()
            .map_err(failed("open /dev/uinput"))?
            .name(Self::NAME)
            .input_id(InputId::new(
                BusType::BUS_VIRTUAL,
                Self::ID.0,
                Self::ID.1,
                1,
            ))
            .with_keys(&keys)
            .map_err(failed("declare its keys"))?
            .build()
            .map_err(failed("create it"))?;
        Ok(VirtualKeyboard { device })
    }

    /// Types `strokes`, pausing `pace` after each.
    ///
    /// # Errors
    ///
    /// [`UinputError`] when a write fails; the keys already typed stay
    /// typed.
    pub fn type_strokes(
        &mut self,
        strokes: &[KeyStroke],
        pace: Duration,
    ) -> Result<(), UinputError> {
        for stroke in strokes {
            for (code, action) in stroke.actions() {
                let event = InputEvent::new(EventType::KEY.0, code, action.value());
                // emit() ends the report with SYN_REPORT.
                self.device.emit(&[event]).map_err(failed("write a key"))?;
            }
            if !pace.is_zero() {
                std::thread::sleep(pace);
            }
        }
        Ok(())
    }
}
