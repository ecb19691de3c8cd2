//! Text for a display's character ROM: sanitised, encoded, measured.
//!
//! Everything that reaches a display as text passes through [`encode`]:
//! control characters (and bidi controls) become `?` before encoding, and a
//! character the code page lacks becomes `?` instead of being sent raw, so
//! no byte of an item name can ever be read as a display command.

use kassa_hal::order::is_forbidden_char;

/// The character set a display's ROM is switched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CodePage {
    /// IBM code page 437 (US), the factory default of most displays.
    #[default]
    Cp437,
    /// IBM code page 858: Western European, with the euro sign.
    Pc858,
    /// GB 18030 (double-width hanzi), on displays sold for China.
    Gb18030,
}

impl CodePage {
    /// The kassa-hal charset this code page is.
    pub fn charset(self) -> kassa_hal::Charset {
        match self {
            CodePage::Cp437 => kassa_hal::Charset::Cp437,
            CodePage::Pc858 => kassa_hal::Charset::Pc858,
            CodePage::Gb18030 => kassa_hal::Charset::Gb18030,
        }
    }
}

/// Text encoded for a display, with its width in display columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoded {
    /// The bytes to send; never a byte below 0x20 or 0x7F.
    pub bytes: Vec<u8>,
    /// Columns it takes: one per byte in single-byte code pages, two per
    /// double-byte (hanzi) character in GB 18030.
    pub width: usize,
}

const REPLACEMENT: u8 = b'?';

/// The bytes and width of one character, or `None` if the code page lacks
/// it.
fn encode_char(c: char, page: CodePage) -> Option<(Vec<u8>, usize)> {
    if is_forbidden_char(c) {
        return None;
    }
    if (' '..='~').contains(&c) {
        return Some((vec![c as u8], 1));
    }
    match page {
        CodePage::Cp437 | CodePage::Pc858 => {
            let table = match page {
                CodePage::Pc858 => &oem_cp::code_table::ENCODING_TABLE_CP858,
                _ => &oem_cp::code_table::ENCODING_TABLE_CP437,
            };
            // The tables cover 0x80..=0xFF only; check anyway, since a byte
            // below 0x20 would be a command.
            table
                .get(&c)
                .copied()
                .filter(|&b| b >= 0x80)
                .map(|b| (vec![b], 1))
        }
        CodePage::Gb18030 => {
            // Display ROMs hold GB 2312/GBK, the one- and two-byte part of
            // GB 18030; four-byte sequences would print garbage. The yen
            // sign exists there only in its fullwidth form.
            let c = if c == '¥' { '￥' } else { c };
            let mut utf8 = [0u8; 4];
            let (bytes, _, unmappable) = encoding_rs::GB18030.encode(c.encode_utf8(&mut utf8));
            let printable = bytes.iter().all(|&b| b >= 0x20 && b != 0x7F);
            (!unmappable && printable && (1..=2).contains(&bytes.len())).then(|| {
                let width = if bytes.len() == 1 { 1 } else { 2 };
                (bytes.into_owned(), width)
            })
        }
    }
}

/// Whether every character of `text` exists in `page` (to choose between
/// `¥36.00` and `CNY 36.00`).
pub fn can_show(text: &str, page: CodePage) -> bool {
    text.chars().all(|c| encode_char(c, page).is_some())
}

/// Encodes `text` for `page`, cut to at most `max_width` columns.
pub fn encode(text: &str, page: CodePage, max_width: usize) -> Encoded {
    let mut out = Encoded::default();
    for c in text.chars() {
        let (bytes, width) = encode_char(c, page).unwrap_or_else(|| (vec![REPLACEMENT], 1));
        if out.width + width > max_width {
            break;
        }
        out.bytes.extend(bytes);
        out.width += width;
    }
    out
}

/// Width of `text` in `page`, uncut.
pub fn width(text: &str, page: CodePage) -> usize {
    encode(text, page, usize::MAX).width
}

/// `left` and `right` on one line of `columns`: `right` flush right and
/// kept whole where it fits, `left` cut to leave a space before it.
pub fn left_right(left: &str, right: &str, page: CodePage, columns: usize) -> Encoded {
    let right = encode(right, page, columns);
    let room = columns.saturating_sub(right.width);
    let mut line = encode(left, page, room.saturating_sub(1));
    let pad = columns - line.width - right.width;
    line.bytes.extend(std::iter::repeat_n(b' ', pad));
    line.bytes.extend(right.bytes);
    line.width = columns;
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_pages_map_the_signs_tills_need() {
        // Code points from the IBM code page charts.
        assert_eq!(encode("é¥£", CodePage::Cp437, 20).bytes, [0x82, 0x9D, 0x9C]);
        assert_eq!(encode("€£¥", CodePage::Pc858, 20).bytes, [0xD5, 0x9C, 0xBE]);
        // GB 18030: 拿 is C4 C3, the fullwidth yen sign A3 A4.
        let latte = encode("拿A", CodePage::Gb18030, 20);
        assert_eq!(latte.bytes, [0xC4, 0xC3, b'A']);
        assert_eq!(latte.width, 3);
        assert_eq!(encode("¥", CodePage::Gb18030, 20).bytes, [0xA3, 0xA4]);
        // Four-byte GB 18030 sequences are not in display ROMs.
        assert_eq!(encode("😀", CodePage::Gb18030, 20).bytes, b"?");
    }

    #[test]
    fn missing_and_control_characters_become_question_marks() {
        assert_eq!(encode("拿€", CodePage::Cp437, 20).bytes, b"??");
        assert_eq!(
            encode("a\x1b@b\x0c\u{202E}", CodePage::Gb18030, 20).bytes,
            b"a?@b??"
        );
        assert_eq!(encode("\x7f", CodePage::Pc858, 20).bytes, b"?");
    }

    #[test]
    fn cutting_never_splits_a_double_width_character() {
        let e = encode("拿铁拿铁", CodePage::Gb18030, 5);
        assert_eq!(e.width, 4);
        assert_eq!(e.bytes.len(), 4);
    }

    #[test]
    fn right_side_is_kept_and_flush_right() {
        let line = left_right("Cappuccino grande", "36.00", CodePage::Cp437, 20);
        assert_eq!(line.bytes, b"Cappuccino gra 36.00");
        let short = left_right("Tea", "5.00", CodePage::Cp437, 20);
        assert_eq!(short.bytes, b"Tea             5.00");
        let huge = left_right("x", "123456789012345678901234", CodePage::Cp437, 20);
        assert_eq!(huge.bytes, b"12345678901234567890");
    }
}
