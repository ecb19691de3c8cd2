//! Keyboard layouts, compiled by xkbcommon from the system's xkb data.
//!
//! No X server is involved: libxkbcommon reads the layout files of
//! Debian's `xkb-data` (`/usr/share/X11/xkb`) and compiles them, exactly as
//! a Wayland compositor or the console does.

use std::fmt;

use xkbcommon::xkb;

/// A layout by its xkb names: `us`, `de`, `fr`, `gb`, `be`, `jp`, …, with an
/// optional variant (`nodeadkeys`, `azerty`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutName {
    /// The xkb layout (`/usr/share/X11/xkb/symbols/NAME`).
    pub layout: String,
    /// The variant within it; empty for the default.
    pub variant: String,
}

impl LayoutName {
    /// `layout` with its default variant.
    pub fn new(layout: &str) -> LayoutName {
        LayoutName {
            layout: layout.into(),
            variant: String::new(),
        }
    }

    /// `layout` with `variant`.
    pub fn with_variant(layout: &str, variant: &str) -> LayoutName {
        LayoutName {
            layout: layout.into(),
            variant: variant.into(),
        }
    }
}

impl Default for LayoutName {
    fn default() -> Self {
        LayoutName::new("us")
    }
}

impl fmt::Display for LayoutName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.variant.is_empty() {
            f.write_str(&self.layout)
        } else {
            write!(f, "{}({})", self.layout, self.variant)
        }
    }
}

/// A layout that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// The name has characters no xkb file name has.
    BadName(String),
    /// xkbcommon found no such layout or variant in the xkb data.
    Unknown(LayoutName),
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::BadName(name) => write!(
                f,
                "keyboard layout name {name:?} must be letters, digits, '_' and '-'"
            ),
            LayoutError::Unknown(name) => write!(
                f,
                "keyboard layout {name} is not in the xkb data (is xkb-data installed? \
                 see /usr/share/X11/xkb/symbols)"
            ),
        }
    }
}

impl std::error::Error for LayoutError {}

/// A compiled keyboard layout. Not `Send` (libxkbcommon's objects are not
/// thread-safe): compile it on the thread that decodes.
pub struct Keymap {
    pub(crate) keymap: xkb::Keymap,
    name: LayoutName,
}

impl fmt::Debug for Keymap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keymap").field("name", &self.name).finish()
    }
}

fn valid_name(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Keymap {
    /// Compiles `name` with the `evdev` rules and a 105-key PC model, the
    /// same keymap a Linux desktop builds for a USB keyboard. Environment
    /// variables (`XKB_DEFAULT_LAYOUT`, …) are ignored, so the result does
    /// not depend on who starts kassad.
    ///
    /// # Errors
    ///
    /// [`LayoutError`] for a malformed or unknown layout or variant.
    pub fn new(name: &LayoutName) -> Result<Keymap, LayoutError> {
        for part in [&name.layout, &name.variant] {
            if !valid_name(part) {
                return Err(LayoutError::BadName(part.clone()));
            }
        }
        if name.layout.is_empty() {
            return Err(LayoutError::BadName(String::new()));
        }
        let mut context = xkb::Context::new(xkb::CONTEXT_NO_ENVIRONMENT_NAMES);
        // A missing layout is an error we report; libxkbcommon's own log
        // lines on stderr would only repeat it.
        context.set_log_level(xkb::LogLevel::Critical);
        let keymap = xkb::Keymap::new_from_names(
            &context,
            "evdev",
            "pc105",
            &name.layout,
            &name.variant,
            Some(String::new()),
            xkb::KEYMAP_COMPILE_NO_FLAGS,
        )
        .ok_or_else(|| LayoutError::Unknown(name.clone()))?;
        Ok(Keymap {
            keymap,
            name: name.clone(),
        })
    }

    /// The layout's name.
    pub fn name(&self) -> &LayoutName {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_required_layouts_compile() {
        for layout in ["us", "de", "fr", "gb", "be", "jp"] {
            Keymap::new(&LayoutName::new(layout)).unwrap();
        }
        Keymap::new(&LayoutName::with_variant("de", "nodeadkeys")).unwrap();
    }

    #[test]
    fn unknown_and_malformed_layouts_are_named_errors() {
        assert_eq!(
            Keymap::new(&LayoutName::new("xx-no-such")).unwrap_err(),
            LayoutError::Unknown(LayoutName::new("xx-no-such"))
        );
        assert!(matches!(
            Keymap::new(&LayoutName::with_variant("de", "no_such_variant")).unwrap_err(),
            LayoutError::Unknown(_)
        ));
        assert!(matches!(
            Keymap::new(&LayoutName::new("us\0")).unwrap_err(),
            LayoutError::BadName(_)
        ));
        assert!(matches!(
            Keymap::new(&LayoutName::new("../us")).unwrap_err(),
            LayoutError::BadName(_)
        ));
        assert!(Keymap::new(&LayoutName::new("")).is_err());
    }
}
