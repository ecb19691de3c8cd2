//! The character ROMs of serial customer displays: IBM code pages 437
//! and 858, and GB 18030 on displays sold for China.

use alloc::vec;
use alloc::vec::Vec;

use crate::cells::Rom;

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

impl Rom for CodePage {
    fn glyph(&self, c: char) -> Option<(Vec<u8>, usize)> {
        if (' '..='~').contains(&c) {
            return Some((vec![c as u8], 1));
        }
        match *self {
            CodePage::Cp437 | CodePage::Pc858 => {
                let table = match *self {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::encode;

    #[test]
    fn code_pages_map_the_signs_tills_need() {
        // Code points from the IBM code page charts.
        assert_eq!(
            encode("é¥£", &CodePage::Cp437, 20).bytes,
            [0x82, 0x9D, 0x9C]
        );
        assert_eq!(
            encode("€£¥", &CodePage::Pc858, 20).bytes,
            [0xD5, 0x9C, 0xBE]
        );
        // GB 18030: 拿 is C4 C3, the fullwidth yen sign A3 A4.
        let latte = encode("拿A", &CodePage::Gb18030, 20);
        assert_eq!(latte.bytes, [0xC4, 0xC3, b'A']);
        assert_eq!(latte.width, 3);
        assert_eq!(encode("¥", &CodePage::Gb18030, 20).bytes, [0xA3, 0xA4]);
        // Four-byte GB 18030 sequences are not in display ROMs.
        assert_eq!(encode("😀", &CodePage::Gb18030, 20).bytes, b"?");
    }

    #[test]
    fn missing_and_control_characters_become_question_marks() {
        assert_eq!(encode("拿€", &CodePage::Cp437, 20).bytes, b"??");
        assert_eq!(
            encode("a\x1b@b\x0c\u{202E}", &CodePage::Gb18030, 20).bytes,
            b"a?@b??"
        );
        assert_eq!(encode("\x7f", &CodePage::Pc858, 20).bytes, b"?");
    }
}
