//! Text for a display's character ROM: sanitised, encoded, measured.
//!
//! Everything that reaches a character display as text passes through
//! [`encode`]: control characters (and bidi controls) become `?` before the
//! ROM is asked, and a character the ROM lacks becomes `?` instead of being
//! sent raw, so no byte of an item name can ever be read as a command.

use alloc::vec;
use alloc::vec::Vec;

use kassa_hal::order::is_forbidden_char;

/// A display's character ROM: which bytes draw a character.
pub trait Rom {
    /// The bytes that draw `c` and the columns they take, or `None` if the
    /// ROM lacks it. Never asked for a control character.
    fn glyph(&self, c: char) -> Option<(Vec<u8>, usize)>;
}

/// Text encoded for a display, with its width in display columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoded {
    /// The bytes to send. A serial display's code page never yields a
    /// byte below 0x20 or 0x7F (those are its commands); an LCD, whose
    /// commands travel apart from its text, draws its CGRAM glyphs with
    /// 0x00–0x07.
    pub bytes: Vec<u8>,
    /// Columns it takes: one per byte in single-byte code pages, two per
    /// double-byte (hanzi) character in GB 18030.
    pub width: usize,
}

const REPLACEMENT: u8 = b'?';

/// The bytes and width of one character, or `None` if `rom` lacks it or it
/// is a control character.
fn encode_char<R: Rom + ?Sized>(c: char, rom: &R) -> Option<(Vec<u8>, usize)> {
    if is_forbidden_char(c) {
        return None;
    }
    rom.glyph(c)
}

/// Whether every character of `text` exists in `rom` (to choose between
/// `¥36.00` and `CNY 36.00`).
pub fn can_show<R: Rom + ?Sized>(text: &str, rom: &R) -> bool {
    text.chars().all(|c| encode_char(c, rom).is_some())
}

/// Encodes `text` for `rom`, cut to at most `max_width` columns.
pub fn encode<R: Rom + ?Sized>(text: &str, rom: &R, max_width: usize) -> Encoded {
    let mut out = Encoded::default();
    for c in text.chars() {
        let (bytes, width) = encode_char(c, rom).unwrap_or_else(|| (vec![REPLACEMENT], 1));
        if out.width + width > max_width {
            break;
        }
        out.bytes.extend(bytes);
        out.width += width;
    }
    out
}

/// Width of `text` in `rom`, uncut.
pub fn width<R: Rom + ?Sized>(text: &str, rom: &R) -> usize {
    encode(text, rom, usize::MAX).width
}

/// `left` and `right` on one line of `columns`: `right` flush right and
/// kept whole where it fits, `left` cut to leave a space before it.
pub fn left_right<R: Rom + ?Sized>(left: &str, right: &str, rom: &R, columns: usize) -> Encoded {
    let right = encode(right, rom, columns);
    let room = columns.saturating_sub(right.width);
    let mut line = encode(left, rom, room.saturating_sub(1));
    let pad = columns - line.width - right.width;
    line.bytes.extend(core::iter::repeat_n(b' ', pad));
    line.bytes.extend(right.bytes);
    line.width = columns;
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vfd::CodePage;

    #[test]
    fn cutting_never_splits_a_double_width_character() {
        let e = encode("拿铁拿铁", &CodePage::Gb18030, 5);
        assert_eq!(e.width, 4);
        assert_eq!(e.bytes.len(), 4);
    }

    #[test]
    fn right_side_is_kept_and_flush_right() {
        let line = left_right("Cappuccino grande", "36.00", &CodePage::Cp437, 20);
        assert_eq!(line.bytes, b"Cappuccino gra 36.00");
        let short = left_right("Tea", "5.00", &CodePage::Cp437, 20);
        assert_eq!(short.bytes, b"Tea             5.00");
        let huge = left_right("x", "123456789012345678901234", &CodePage::Cp437, 20);
        assert_eq!(huge.bytes, b"12345678901234567890");
    }
}
