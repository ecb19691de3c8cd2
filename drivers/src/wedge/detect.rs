//! Which keyboard layout a scanner types in: it reads a test code whose
//! text is known, and the key presses are decoded through each candidate
//! layout; the layouts that give the text back are the scanner's.
//!
//! The test text holds what tells common layouts apart: `a`/`q` and `z`/`w`
//! (AZERTY), `y`/`z` (QWERTZ), digits (shifted on AZERTY), `-` and `/`
//! (elsewhere on German, Nordic and Latin layouts), `@` (Shift+2 on US,
//! Shift+' on UK, AltGr elsewhere).

use super::decoder::{DecoderConfig, KeyEvent, WedgeDecoder};
use super::keymap::{Keymap, LayoutName};

/// The text of the test code.
pub const TEST_TEXT: &str = "KASSA-aqwyz-1234567890/@";

/// The layouts tried, most common on tills first.
pub const CANDIDATES: &[&str] = &[
    "us", "gb", "de", "fr", "be", "ch", "es", "it", "pt", "nl", "se", "no", "dk", "fi", "jp", "br",
    "latam", "ca", "pl", "cz", "hu", "tr", "ru",
];

/// The layouts among `candidates` (xkb names) in which `keys`, one scan
/// ending with Enter, read as `expected`. Layouts xkb does not have are
/// skipped.
pub fn layouts_typing(keys: &[KeyEvent], expected: &str, candidates: &[&str]) -> Vec<LayoutName> {
    candidates
        .iter()
        .map(|name| LayoutName::new(name))
        .filter(|name| {
            let Ok(keymap) = Keymap::new(name) else {
                return false;
            };
            let mut decoder = WedgeDecoder::new(keymap, DecoderConfig::default());
            for &key in keys {
                decoder.push(key);
            }
            matches!(decoder.pop(), Some(Ok(scan)) if scan.data == expected.as_bytes())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::wedge::Typist;
    use crate::wedge::decoder::Terminator;

    fn typed_in(layout: &str) -> Vec<KeyEvent> {
        let typist = Typist::new(&Keymap::new(&LayoutName::new(layout)).unwrap());
        let strokes = typist.strokes(TEST_TEXT, Terminator::Enter).unwrap();
        Typist::events(&strokes, Duration::from_secs(1), Duration::from_millis(1))
    }

    #[test]
    fn each_common_layout_is_told_from_the_others() {
        for layout in ["us", "gb", "de", "fr", "be", "es", "it", "se"] {
            let found = layouts_typing(&typed_in(layout), TEST_TEXT, CANDIDATES);
            assert!(
                found.contains(&LayoutName::new(layout)),
                "{layout}: {found:?}"
            );
            // Told apart from the layouts a till is most often set up with.
            for other in ["us", "gb", "de", "fr", "be"] {
                if other != layout {
                    assert!(
                        !found.contains(&LayoutName::new(other)),
                        "{layout} read as {other}"
                    );
                }
            }
        }
    }

    #[test]
    fn keys_of_another_text_match_no_layout() {
        assert!(layouts_typing(&typed_in("us"), "something else", CANDIDATES).is_empty());
        assert!(layouts_typing(&[], TEST_TEXT, CANDIDATES).is_empty());
    }
}
