//! The settings of USB scanners: keyboard-wedge (`driver = "wedge"`) and
//! HID POS (`driver = "hidpos"`).

use std::path::PathBuf;

use kassa_drivers::usb::UsbId;
use kassa_drivers::usb::linux::DeviceMatch;
use kassa_drivers::wedge::{DecoderConfig, Keymap, LayoutName, Terminator};
use serde::Deserialize;

use super::PassThroughMode;

/// Settings of a keyboard-wedge scanner.
#[derive(Debug, Clone)]
pub struct WedgeSettings {
    /// Which device.
    pub device: DeviceMatch,
    /// The layout the scanner types in.
    pub layout: LayoutName,
    /// Terminator, idle gap, AIM ids, length limit.
    pub decoder: DecoderConfig,
    /// Whether to hold the device exclusively (EVIOCGRAB).
    pub grab: bool,
    /// Which unclaimed scans are typed into the desktop; `None` for none.
    pub pass_through: Option<PassThroughSettings>,
}

/// Settings of a HID POS scanner.
#[derive(Debug, Clone)]
pub struct HidPosSettings {
    /// Which device.
    pub device: DeviceMatch,
    /// Longest scan accepted.
    pub max_len: usize,
    /// Which unclaimed scans are typed into the desktop; `None` for none.
    pub pass_through: Option<PassThroughSettings>,
}

/// How scans are passed through to the desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassThroughSettings {
    /// Which scans.
    pub mode: PassThroughMode,
    /// The desktop's keyboard layout, which the keys are chosen for.
    pub layout: LayoutName,
    /// What is pressed after each scan.
    pub terminator: Terminator,
}

/// The pass-through keys `wedge` and `hidpos` share.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPassThrough {
    pass_through: Option<String>,
    pass_through_layout: Option<String>,
    pass_through_variant: Option<String>,
}

impl RawPassThrough {
    /// Validates the settings: the layout defaults to `layout` (the one the
    /// scanner types in; `None`, for a HID POS scanner, makes
    /// `pass_through_layout` required), the terminator is `terminator`.
    fn settings(
        self,
        layout: Option<&LayoutName>,
        terminator: Terminator,
    ) -> Result<Option<PassThroughSettings>, String> {
        let mode = match self.pass_through.as_deref().unwrap_or("off") {
            "off" => None,
            "products" => Some(PassThroughMode::Products),
            "all-but-payment-codes" => Some(PassThroughMode::AllButPaymentCodes),
            other => {
                return Err(format!(
                    "pass_through {other:?} must be \"off\", \"products\" or \"all-but-payment-codes\""
                ));
            }
        };
        let Some(mode) = mode else {
            if self.pass_through_layout.is_some() || self.pass_through_variant.is_some() {
                return Err(
                    "pass_through_layout is set but pass_through is off: set pass_through = \"products\" or \"all-but-payment-codes\", or remove it".into(),
                );
            }
            return Ok(None);
        };
        let layout = match self.pass_through_layout {
            Some(name) => {
                let layout = LayoutName::with_variant(
                    &name,
                    self.pass_through_variant.as_deref().unwrap_or(""),
                );
                Keymap::new(&layout).map_err(|e| format!("pass_through_layout: {e}"))?;
                layout
            }
            None if self.pass_through_variant.is_some() => {
                return Err("pass_through_variant needs pass_through_layout".into());
            }
            // The scanner's own, compiled once already.
            None => layout.cloned().ok_or(
                "pass_through needs pass_through_layout, the desktop's keyboard layout (us, de, \
                 fr, …): a HID POS scanner does not say it",
            )?,
        };
        // A scan that ended at a pause may be half a code: never typed.
        if terminator == Terminator::None {
            return Err(
                "pass_through needs a terminator (enter or tab): without one, a scan cut by a \
                 pause would be typed in parts"
                    .into(),
            );
        }
        Ok(Some(PassThroughSettings {
            mode,
            layout,
            terminator,
        }))
    }
}

/// How a USB scanner is found: the keys `wedge` and `hidpos` share.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUsbDevice {
    path: Option<PathBuf>,
    usb_id: Option<String>,
    device_name: Option<String>,
}

impl RawUsbDevice {
    fn device(self) -> Result<DeviceMatch, String> {
        let given = [
            self.path.is_some(),
            self.usb_id.is_some(),
            self.device_name.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err("give one of path, usb_id and device_name, not several".into());
        }
        if let Some(path) = self.path {
            return Ok(DeviceMatch::Path(path));
        }
        if let Some(id) = &self.usb_id {
            return UsbId::parse(id).map(DeviceMatch::UsbId).ok_or_else(|| {
                format!("usb_id {id:?} must be VVVV:PPPP in hex, e.g. \"05e0:1200\"")
            });
        }
        if let Some(name) = self.device_name {
            if name.is_empty() {
                return Err("device_name must not be empty".into());
            }
            return Ok(DeviceMatch::Name(name));
        }
        Ok(DeviceMatch::Known)
    }
}

/// The settings of `driver = "wedge"` besides the device.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWedgeScanner {
    layout: Option<String>,
    variant: Option<String>,
    terminator: Option<String>,
    idle_gap_ms: Option<u64>,
    aim_ids: Option<bool>,
    max_length: Option<usize>,
    grab: Option<bool>,
}

impl RawWedgeScanner {
    /// Validates the settings, compiling the layout once so that a
    /// misspelt one is refused at start.
    pub(super) fn settings(
        self,
        device: RawUsbDevice,
        pass_through: RawPassThrough,
    ) -> Result<WedgeSettings, String> {
        let device = device.device()?;
        let terminator = match self.terminator.as_deref().unwrap_or("enter") {
            "enter" => Terminator::Enter,
            "tab" => Terminator::Tab,
            "none" => Terminator::None,
            other => {
                return Err(format!(
                    "terminator {other:?} must be \"enter\", \"tab\" or \"none\""
                ));
            }
        };
        let mut decoder = DecoderConfig::new(terminator);
        if let Some(gap) = self.idle_gap_ms {
            decoder.idle_gap = super::values::idle_gap(gap)?;
        }
        decoder.aim_ids = self.aim_ids.unwrap_or(false);
        decoder.max_len =
            super::values::max_length(self.max_length, DecoderConfig::DEFAULT_MAX_LEN)?;
        let layout = LayoutName::with_variant(
            self.layout.as_deref().unwrap_or("us"),
            self.variant.as_deref().unwrap_or(""),
        );
        Keymap::new(&layout).map_err(|e| e.to_string())?;
        let pass_through = pass_through.settings(Some(&layout), terminator)?;
        let grab = self.grab.unwrap_or(true);
        if pass_through.is_some() && !grab {
            return Err(
                "pass_through needs grab = true: without the grab every scan, payment \
                        codes included, reaches the desktop anyway"
                    .into(),
            );
        }
        Ok(WedgeSettings {
            device,
            layout,
            decoder,
            grab,
            pass_through,
        })
    }
}

/// The settings of `driver = "hidpos"` besides the device. HID POS
/// reports carry codes, not keys: no layout, terminator or idle gap.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHidPosScanner {
    max_length: Option<usize>,
}

impl RawHidPosScanner {
    /// Validates the settings.
    /// HID POS reports carry no layout: passing scans through needs
    /// `pass_through_layout`, and Enter ends each scan.
    pub(super) fn settings(
        self,
        device: RawUsbDevice,
        pass_through: RawPassThrough,
    ) -> Result<HidPosSettings, String> {
        Ok(HidPosSettings {
            device: device.device()?,
            max_len: super::values::max_length(
                self.max_length,
                kassa_drivers::hidpos::HidPosDecoder::DEFAULT_MAX_LEN,
            )?,
            pass_through: pass_through.settings(None, Terminator::Enter)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn wedge(device: RawUsbDevice, keys: RawWedgeScanner) -> Result<WedgeSettings, String> {
        keys.settings(device, RawPassThrough::default())
    }

    fn keys() -> RawWedgeScanner {
        RawWedgeScanner::default()
    }

    fn any() -> RawUsbDevice {
        RawUsbDevice::default()
    }

    #[test]
    fn wedge_defaults_and_device_matches() {
        let s = wedge(any(), keys()).unwrap();
        assert_eq!(s.device, DeviceMatch::Known);
        assert_eq!(s.layout, LayoutName::new("us"));
        assert_eq!(s.decoder.terminator, Terminator::Enter);
        assert!(s.grab);
        let s = wedge(
            RawUsbDevice {
                usb_id: Some("05E0:1200".into()),
                ..any()
            },
            RawWedgeScanner {
                layout: Some("fr".into()),
                terminator: Some("none".into()),
                idle_gap_ms: Some(80),
                ..keys()
            },
        )
        .unwrap();
        assert_eq!(
            s.device,
            DeviceMatch::UsbId(UsbId::parse("05e0:1200").unwrap())
        );
        assert_eq!(s.decoder.idle_gap, Duration::from_millis(80));
        assert_eq!(s.decoder.terminator, Terminator::None);
    }

    #[test]
    fn wedge_mistakes_are_named() {
        let bad = |k: RawWedgeScanner| wedge(any(), k).unwrap_err();
        let bad_device = |d: RawUsbDevice| wedge(d, keys()).unwrap_err();
        assert!(
            bad(RawWedgeScanner {
                layout: Some("xx".into()),
                ..keys()
            })
            .contains("not in the xkb data")
        );
        assert!(
            bad(RawWedgeScanner {
                terminator: Some("cr".into()),
                ..keys()
            })
            .contains("terminator")
        );
        assert!(
            bad_device(RawUsbDevice {
                usb_id: Some("05e0".into()),
                ..any()
            })
            .contains("VVVV:PPPP")
        );
        assert!(
            bad_device(RawUsbDevice {
                usb_id: Some("05e0:1200".into()),
                device_name: Some("x".into()),
                ..any()
            })
            .contains("not several")
        );
        assert!(
            bad(RawWedgeScanner {
                idle_gap_ms: Some(1),
                ..keys()
            })
            .contains("idle_gap_ms")
        );
        let e = super::super::Config::parse(
            "[[scanner]]\nname = \"h\"\ndriver = \"hidpos\"\nlayout = \"us\"\n",
            "kassa.toml",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("layout is not a setting of driver \"hidpos\""),
            "{e}"
        );
        assert!(e.message.contains("HID POS reports carry no keys"), "{e}");
        assert_eq!(e.line, Some(4), "{e}");
    }
}
