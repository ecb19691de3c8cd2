//! Typing text through a keyboard layout: the reverse of the decoder.
//!
//! A scan kassa passes through to the desktop (a product barcode nobody at
//! the till asked kassa for) must reach the focused window as the scanner
//! would have typed it. The desktop turns key codes into characters
//! through its own layout, so the key presses are found through the same
//! layout: for every character, the key and the modifiers (Shift, AltGr)
//! that type it there. A French desktop gets Shift+`&` for `1`; a US one
//! gets `1`.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use xkbcommon::xkb;

use super::decoder::{KeyAction, KeyEvent, Terminator};
use super::keymap::{Keymap, LayoutName};
use super::keys::{KEY_ENTER, KEY_LEFTSHIFT, KEY_RIGHTALT, KEY_TAB};

/// One character's key press: the key and the modifiers held around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyStroke {
    /// The Linux key code.
    pub code: u16,
    /// Shift held.
    pub shift: bool,
    /// AltGr held.
    pub altgr: bool,
}

impl KeyStroke {
    /// The press and release events of this stroke, modifiers around it.
    pub fn actions(self) -> impl Iterator<Item = (u16, KeyAction)> {
        let mods: Vec<u16> = [(self.shift, KEY_LEFTSHIFT), (self.altgr, KEY_RIGHTALT)]
            .into_iter()
            .filter_map(|(held, code)| held.then_some(code))
            .collect();
        let presses: Vec<_> = mods.iter().map(|&m| (m, KeyAction::Press)).collect();
        let releases: Vec<_> = mods
            .iter()
            .rev()
            .map(|&m| (m, KeyAction::Release))
            .collect();
        presses
            .into_iter()
            .chain([
                (self.code, KeyAction::Press),
                (self.code, KeyAction::Release),
            ])
            .chain(releases)
    }
}

/// Text with a character the layout has no key for (without dead keys or
/// compose sequences, which a typist does not use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untypable {
    /// The character's position in the text, counted in characters from 0.
    pub position: usize,
    /// The layout.
    pub layout: LayoutName,
}

impl fmt::Display for Untypable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "character {} has no key in keyboard layout {}",
            self.position + 1,
            self.layout
        )
    }
}

impl std::error::Error for Untypable {}

/// The keys a typist presses for characters, in the order tried: the
/// main block of a PC keyboard (Esc to F12), the ISO key left of Z (86,
/// absent from US keyboards) last. The keypad (its meaning depends on Num
/// Lock, which kassa cannot see on the desktop) and the media and extra
/// keys (which some consoles and models do not map) are never used.
fn character_keys() -> impl Iterator<Item = u16> {
    (1..=88u16)
        .filter(|&code| !matches!(code, 55 | 71..=83 | 86) && code != KEY_LEFTSHIFT)
        .chain([86])
}

/// The modifier combinations tried, fewest first: a character is typed
/// the plainest way the layout allows.
const COMBINATIONS: [(bool, bool); 4] =
    [(false, false), (true, false), (false, true), (true, true)];

/// Finds the key presses that type text in one layout.
#[derive(Debug, Clone)]
pub struct Typist {
    strokes: HashMap<char, KeyStroke>,
    layout: LayoutName,
}

impl Typist {
    /// The typist for `keymap`'s layout: every printable character the
    /// layout types with a key of the main block, Shift and AltGr (keypad
    /// keys, dead keys and control characters left out).
    pub fn new(keymap: &Keymap) -> Typist {
        let mut strokes = HashMap::new();
        let key = |code: u16| xkb::Keycode::new(u32::from(code) + 8);
        for (shift, altgr) in COMBINATIONS {
            let mut state = xkb::State::new(&keymap.keymap);
            if shift {
                state.update_key(key(KEY_LEFTSHIFT), xkb::KeyDirection::Down);
            }
            if altgr {
                state.update_key(key(KEY_RIGHTALT), xkb::KeyDirection::Down);
            }
            for code in character_keys() {
                let Some(c) = char::from_u32(state.key_get_utf32(key(code))) else {
                    continue;
                };
                if c == '\0' || c.is_control() {
                    continue;
                }
                strokes.entry(c).or_insert(KeyStroke { code, shift, altgr });
            }
        }
        Typist {
            strokes,
            layout: keymap.name().clone(),
        }
    }

    /// The layout typed in.
    pub fn layout(&self) -> &LayoutName {
        &self.layout
    }

    /// The strokes that type `text`, then the terminator (Enter or Tab, or
    /// nothing).
    ///
    /// # Errors
    ///
    /// [`Untypable`] for the first character the layout has no key for;
    /// nothing is typed then.
    pub fn strokes(&self, text: &str, terminator: Terminator) -> Result<Vec<KeyStroke>, Untypable> {
        let mut strokes = text
            .chars()
            .enumerate()
            .map(|(position, c)| {
                self.strokes.get(&c).copied().ok_or_else(|| Untypable {
                    position,
                    layout: self.layout.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let end = match terminator {
            Terminator::Enter => Some(KEY_ENTER),
            Terminator::Tab => Some(KEY_TAB),
            Terminator::None => None,
        };
        strokes.extend(end.map(|code| KeyStroke {
            code,
            shift: false,
            altgr: false,
        }));
        Ok(strokes)
    }

    /// The key events of `strokes`, `pace` apart, from `start`: what a
    /// virtual keyboard writes, and what a decoder can read back.
    pub fn events(strokes: &[KeyStroke], start: Duration, pace: Duration) -> Vec<KeyEvent> {
        strokes
            .iter()
            .flat_map(|s| s.actions())
            .enumerate()
            .map(|(i, (code, action))| KeyEvent {
                time: start + pace * u32::try_from(i).unwrap_or(u32::MAX),
                code,
                action,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wedge::{DecoderConfig, WedgeDecoder};

    fn typist(layout: &str) -> Typist {
        Typist::new(&Keymap::new(&LayoutName::new(layout)).unwrap())
    }

    /// What a scanner's decoder in `layout` reads from the typed events.
    fn read_back(layout: &str, events: &[KeyEvent]) -> String {
        let keymap = Keymap::new(&LayoutName::new(layout)).unwrap();
        let mut decoder = WedgeDecoder::new(keymap, DecoderConfig::default());
        for &event in events {
            decoder.push(event);
        }
        let scan = decoder.pop().expect("a scan").expect("decoded");
        assert!(decoder.pop().is_none());
        String::from_utf8(scan.data).unwrap()
    }

    #[test]
    fn what_is_typed_in_a_layout_reads_back_in_that_layout() {
        let texts = [
            "4006381333931",
            "96385074",
            "az2812345678901234",
            "MEMBER-0042/x.y",
            "Qwertz Azerty 0123456789",
        ];
        for layout in ["us", "fr", "de", "gb", "be"] {
            let typist = typist(layout);
            for text in texts {
                let strokes = typist.strokes(text, Terminator::Enter).unwrap();
                let events =
                    Typist::events(&strokes, Duration::from_secs(1), Duration::from_millis(1));
                assert_eq!(read_back(layout, &events), text, "{layout}");
            }
        }
    }

    #[test]
    fn digits_take_shift_on_azerty_and_not_on_qwerty() {
        let one = |layout| typist(layout).strokes("1", Terminator::None).unwrap()[0];
        assert_eq!(
            one("us"),
            KeyStroke {
                code: 2,
                shift: false,
                altgr: false
            }
        );
        assert_eq!(
            one("fr"),
            KeyStroke {
                code: 2,
                shift: true,
                altgr: false
            }
        );
        // '@' is AltGr+à on a French keyboard.
        let at = typist("fr").strokes("@", Terminator::None).unwrap()[0];
        assert!(at.altgr && !at.shift, "{at:?}");
    }

    #[test]
    fn the_terminator_ends_the_strokes() {
        let t = typist("us");
        let last = |term| t.strokes("12", term).unwrap().last().copied().unwrap();
        assert_eq!(last(Terminator::Enter).code, KEY_ENTER);
        assert_eq!(last(Terminator::Tab).code, KEY_TAB);
        assert_eq!(t.strokes("12", Terminator::None).unwrap().len(), 2);
    }

    #[test]
    fn a_character_without_a_key_is_named_by_position_and_nothing_is_typed() {
        let e = typist("us").strokes("12é4", Terminator::Enter).unwrap_err();
        assert_eq!(e.position, 2);
        assert_eq!(
            e.to_string(),
            "character 3 has no key in keyboard layout us"
        );
        assert!(typist("us").strokes("a\nb", Terminator::None).is_err());
        assert!(typist("us").strokes("\u{1d}01", Terminator::None).is_err());
    }

    #[test]
    fn modifiers_wrap_the_key_in_order() {
        let stroke = KeyStroke {
            code: 16,
            shift: true,
            altgr: true,
        };
        let actions: Vec<_> = stroke.actions().collect();
        assert_eq!(
            actions,
            [
                (KEY_LEFTSHIFT, KeyAction::Press),
                (KEY_RIGHTALT, KeyAction::Press),
                (16, KeyAction::Press),
                (16, KeyAction::Release),
                (KEY_RIGHTALT, KeyAction::Release),
                (KEY_LEFTSHIFT, KeyAction::Release),
            ]
        );
    }
}
