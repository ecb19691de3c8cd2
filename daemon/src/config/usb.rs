//! The settings of USB scanners: keyboard-wedge (`driver = "wedge"`) and
//! HID POS (`driver = "hidpos"`).

use std::path::PathBuf;
use std::time::Duration;

use kassa_drivers::usb::UsbId;
use kassa_drivers::usb::linux::DeviceMatch;
use kassa_drivers::wedge::{DecoderConfig, Keymap, LayoutName, Terminator};

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
}

/// Settings of a HID POS scanner.
#[derive(Debug, Clone)]
pub struct HidPosSettings {
    /// Which device.
    pub device: DeviceMatch,
    /// Longest scan accepted.
    pub max_len: usize,
}

/// The keys of a `[[scanner]]` table that concern USB scanners.
#[derive(Debug, Default)]
pub(crate) struct UsbKeys {
    pub path: Option<PathBuf>,
    pub usb_id: Option<String>,
    pub device_name: Option<String>,
    pub layout: Option<String>,
    pub variant: Option<String>,
    pub terminator: Option<String>,
    pub idle_gap_ms: Option<u64>,
    pub aim_ids: Option<bool>,
    pub max_length: Option<usize>,
    pub grab: Option<bool>,
}

impl UsbKeys {
    fn device(&self) -> Result<DeviceMatch, String> {
        let given = [
            self.path.is_some(),
            self.usb_id.is_some(),
            self.device_name.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err("give one of path, usb_id and device_name, not several".into());
        }
        if let Some(path) = &self.path {
            return Ok(DeviceMatch::Path(path.clone()));
        }
        if let Some(id) = &self.usb_id {
            return UsbId::parse(id).map(DeviceMatch::UsbId).ok_or_else(|| {
                format!("usb_id {id:?} must be VVVV:PPPP in hex, e.g. \"05e0:1200\"")
            });
        }
        if let Some(name) = &self.device_name {
            if name.is_empty() {
                return Err("device_name must not be empty".into());
            }
            return Ok(DeviceMatch::Name(name.clone()));
        }
        Ok(DeviceMatch::Known)
    }

    fn max_len(&self, default: usize) -> Result<usize, String> {
        let max_len = self.max_length.unwrap_or(default);
        if !(1..=65536).contains(&max_len) {
            return Err("max_length must be 1 to 65536".into());
        }
        Ok(max_len)
    }

    /// Validates the settings of `driver = "wedge"`, compiling the layout
    /// once so that a misspelt one is refused at start.
    pub(crate) fn wedge(&self) -> Result<WedgeSettings, String> {
        let device = self.device()?;
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
            if !(5..=5000).contains(&gap) {
                return Err("idle_gap_ms must be 5 to 5000".into());
            }
            decoder.idle_gap = Duration::from_millis(gap);
        }
        decoder.aim_ids = self.aim_ids.unwrap_or(false);
        decoder.max_len = self.max_len(DecoderConfig::DEFAULT_MAX_LEN)?;
        let layout = LayoutName::with_variant(
            self.layout.as_deref().unwrap_or("us"),
            self.variant.as_deref().unwrap_or(""),
        );
        Keymap::new(&layout).map_err(|e| e.to_string())?;
        Ok(WedgeSettings {
            device,
            layout,
            decoder,
            grab: self.grab.unwrap_or(true),
        })
    }

    /// Validates the settings of `driver = "hidpos"`.
    pub(crate) fn hidpos(&self) -> Result<HidPosSettings, String> {
        for (key, given) in [
            ("layout", self.layout.is_some()),
            ("variant", self.variant.is_some()),
            ("terminator", self.terminator.is_some()),
            ("idle_gap_ms", self.idle_gap_ms.is_some()),
            ("aim_ids", self.aim_ids.is_some()),
            ("grab", self.grab.is_some()),
        ] {
            if given {
                return Err(format!(
                    "{key} is not a setting of driver \"hidpos\" (HID POS reports carry no keys)"
                ));
            }
        }
        Ok(HidPosSettings {
            device: self.device()?,
            max_len: self.max_len(kassa_drivers::hidpos::HidPosDecoder::DEFAULT_MAX_LEN)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> UsbKeys {
        UsbKeys::default()
    }

    #[test]
    fn wedge_defaults_and_device_matches() {
        let s = keys().wedge().unwrap();
        assert_eq!(s.device, DeviceMatch::Known);
        assert_eq!(s.layout, LayoutName::new("us"));
        assert_eq!(s.decoder.terminator, Terminator::Enter);
        assert!(s.grab);
        let s = UsbKeys {
            usb_id: Some("05E0:1200".into()),
            layout: Some("fr".into()),
            terminator: Some("none".into()),
            idle_gap_ms: Some(80),
            ..keys()
        }
        .wedge()
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
        let bad = |k: UsbKeys| k.wedge().unwrap_err();
        assert!(
            bad(UsbKeys {
                layout: Some("xx".into()),
                ..keys()
            })
            .contains("not in the xkb data")
        );
        assert!(
            bad(UsbKeys {
                terminator: Some("cr".into()),
                ..keys()
            })
            .contains("terminator")
        );
        assert!(
            bad(UsbKeys {
                usb_id: Some("05e0".into()),
                ..keys()
            })
            .contains("VVVV:PPPP")
        );
        assert!(
            bad(UsbKeys {
                usb_id: Some("05e0:1200".into()),
                device_name: Some("x".into()),
                ..keys()
            })
            .contains("not several")
        );
        assert!(
            bad(UsbKeys {
                idle_gap_ms: Some(1),
                ..keys()
            })
            .contains("idle_gap_ms")
        );
        let e = UsbKeys {
            layout: Some("us".into()),
            ..keys()
        }
        .hidpos()
        .unwrap_err();
        assert!(
            e.contains("layout is not a setting of driver \"hidpos\""),
            "{e}"
        );
    }
}
