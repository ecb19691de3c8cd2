//! What an HD44780 can draw: its A00 character ROM, and the currency signs
//! kassa designs for its eight CGRAM slots.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::cells::Rom;

/// CGRAM slots of 5×8 glyphs in an HD44780.
pub const CGRAM_SLOTS: usize = 8;

/// A sign the ROM lacks, drawn in a CGRAM slot: 8 rows of 5 pixels, the
/// leftmost pixel in bit 4. The last row is the cursor's and stays blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomGlyph {
    /// The character it draws.
    pub sign: char,
    /// The pixel rows, top first.
    pub rows: [u8; 8],
}

/// Every glyph kassa can upload: the currency signs of the currencies it
/// knows that the A00 ROM lacks, and the letters of `zł` and `Kč`.
#[rustfmt::skip]
pub const CUSTOM_GLYPHS: &[CustomGlyph] = &[
    glyph('€', [
        "..###",
        ".#...",
        "####.",
        ".#...",
        "####.",
        ".#...",
        "..###",
    ]),
    glyph('£', [
        "..##.",
        ".#..#",
        ".#...",
        "###..",
        ".#...",
        ".#...",
        "#####",
    ]),
    glyph('₩', [
        "#...#",
        "#...#",
        "#####",
        "#.#.#",
        "#####",
        ".#.#.",
        ".#.#.",
    ]),
    glyph('₹', [
        "#####",
        "...#.",
        "#####",
        "...#.",
        "###..",
        "..##.",
        "...##",
    ]),
    glyph('₽', [
        ".###.",
        ".#..#",
        ".#..#",
        ".###.",
        "###..",
        ".#...",
        ".#...",
    ]),
    glyph('₺', [
        ".#...",
        ".##..",
        "##...",
        ".##..",
        "##..#",
        ".#..#",
        ".###.",
    ]),
    glyph('₱', [
        ".###.",
        "#####",
        ".#..#",
        "#####",
        ".###.",
        ".#...",
        ".#...",
    ]),
    glyph('฿', [
        "..#..",
        "####.",
        "#.#.#",
        "####.",
        "#.#.#",
        "####.",
        "..#..",
    ]),
    glyph('₫', [
        "..###",
        "...#.",
        ".###.",
        "#..#.",
        ".###.",
        ".....",
        "#####",
    ]),
    glyph('ł', [
        ".##..",
        "..#..",
        "..##.",
        ".##..",
        "..#..",
        "..#..",
        ".###.",
    ]),
    glyph('č', [
        ".#.#.",
        "..#..",
        ".###.",
        "#....",
        "#....",
        "#...#",
        ".###.",
    ]),
];

/// The signs uploaded unless configured otherwise: the eight most common
/// currencies whose sign the ROM lacks.
pub const DEFAULT_GLYPHS: [char; CGRAM_SLOTS] = ['€', '£', '₩', '₹', '₽', '₺', '₱', '฿'];

/// A glyph from its picture: seven rows of five pixels, `#` lit.
const fn glyph(sign: char, picture: [&str; 7]) -> CustomGlyph {
    let mut rows = [0; 8];
    let mut row = 0;
    while row < picture.len() {
        let pixels = picture[row].as_bytes();
        // Checked when the table is compiled, not at run time.
        assert!(pixels.len() == 5, "a glyph row has five pixels");
        let mut column = 0;
        while column < pixels.len() {
            let lit = match pixels[column] {
                b'#' => 1,
                b'.' => 0,
                _ => panic!("a glyph pixel is '#' or '.'"),
            };
            rows[row] = rows[row] << 1 | lit;
            column += 1;
        }
        row += 1;
    }
    CustomGlyph { sign, rows }
}

/// Custom glyphs that cannot be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlyphError {
    /// More glyphs than CGRAM slots.
    TooMany(usize),
    /// No bitmap for this character in [`CUSTOM_GLYPHS`].
    Unknown(char),
}

impl fmt::Display for GlyphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlyphError::TooMany(n) => write!(
                f,
                "{n} custom glyphs asked, but the LCD's CGRAM holds {CGRAM_SLOTS}"
            ),
            GlyphError::Unknown(c) => {
                write!(f, "kassa has no custom glyph for {c:?} (it has ")?;
                for (i, g) in CUSTOM_GLYPHS.iter().enumerate() {
                    let sep = if i == 0 { "" } else { " " };
                    write!(f, "{sep}{}", g.sign)?;
                }
                f.write_str(")")
            }
        }
    }
}

impl core::error::Error for GlyphError {}

/// What an LCD draws: the HD44780U's A00 ROM (the Japanese standard one
/// nearly every module carries) and the glyphs uploaded to its CGRAM,
/// glyph `i` in slot `i` (drawn by byte `i`).
///
/// Full-width and hiragana text is drawn in the ROM's half-width
/// katakana (`コーヒー` as `ｺｰﾋｰ`, `ガ` as `ｶﾞ` in two columns) and
/// full-width ASCII as ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcdRom {
    glyphs: Vec<CustomGlyph>,
}

impl LcdRom {
    /// The A00 ROM with `signs` uploaded, in this order.
    ///
    /// # Errors
    ///
    /// [`GlyphError`] for more than [`CGRAM_SLOTS`] signs or a sign not in
    /// [`CUSTOM_GLYPHS`].
    pub fn new(signs: &[char]) -> Result<LcdRom, GlyphError> {
        if signs.len() > CGRAM_SLOTS {
            return Err(GlyphError::TooMany(signs.len()));
        }
        let glyphs = signs
            .iter()
            .map(|&c| {
                CUSTOM_GLYPHS
                    .iter()
                    .find(|g| g.sign == c)
                    .copied()
                    .ok_or(GlyphError::Unknown(c))
            })
            .collect::<Result<_, _>>()?;
        Ok(LcdRom { glyphs })
    }

    /// The glyphs to upload, slot 0 first.
    pub fn glyphs(&self) -> &[CustomGlyph] {
        &self.glyphs
    }
}

impl Rom for LcdRom {
    fn glyph(&self, c: char) -> Option<(Vec<u8>, usize)> {
        if let Some(b) = a00(c) {
            return Some((vec![b], 1));
        }
        if let Some(slot) = self.glyphs.iter().position(|g| g.sign == c) {
            // At most CGRAM_SLOTS glyphs, so the slot fits a byte.
            return Some((vec![slot as u8], 1));
        }
        let bytes: Vec<u8> = half_width(c)?.chars().map(a00).collect::<Option<_>>()?;
        let width = bytes.len();
        Some((bytes, width))
    }
}

/// The A00 code of `c`, from the ROM table of the HD44780U datasheet.
fn a00(c: char) -> Option<u8> {
    let code = match c {
        // ASCII, except that the ROM draws ¥ at 0x5C and arrows at 0x7E/0x7F.
        '\\' | '~' => return None,
        ' '..='}' => c as u32,
        '¥' => 0x5C,
        '→' => 0x7E,
        '←' => 0x7F,
        // JIS X 0201 half-width katakana and punctuation, 0xA1–0xDF.
        '\u{FF61}'..='\u{FF9F}' => c as u32 - 0xFF61 + 0xA1,
        '°' => 0xDF,
        'α' => 0xE0,
        'ä' => 0xE1,
        'β' => 0xE2,
        'ε' => 0xE3,
        'μ' | 'µ' => 0xE4,
        'σ' => 0xE5,
        'ρ' => 0xE6,
        '√' => 0xE8,
        '¢' => 0xEC,
        'ñ' => 0xEE,
        'ö' => 0xEF,
        'θ' => 0xF2,
        '∞' => 0xF3,
        'Ω' => 0xF4,
        'ü' => 0xF5,
        'Σ' => 0xF6,
        'π' => 0xF7,
        '千' => 0xFA,
        '万' => 0xFB,
        '円' => 0xFC,
        '÷' => 0xFD,
        _ => return None,
    };
    u8::try_from(code).ok()
}

/// Full-width katakana U+30A1–U+30F6 in half-width forms; empty where
/// half-width has none (small ヮ ヵ ヶ, old ヰ ヱ).
const KATAKANA: [&str; 86] = [
    "ｧ", "ｱ", "ｨ", "ｲ", "ｩ", "ｳ", "ｪ", "ｴ", "ｫ", "ｵ", // ァ–オ
    "ｶ", "ｶﾞ", "ｷ", "ｷﾞ", "ｸ", "ｸﾞ", "ｹ", "ｹﾞ", "ｺ", "ｺﾞ", // カ–ゴ
    "ｻ", "ｻﾞ", "ｼ", "ｼﾞ", "ｽ", "ｽﾞ", "ｾ", "ｾﾞ", "ｿ", "ｿﾞ", // サ–ゾ
    "ﾀ", "ﾀﾞ", "ﾁ", "ﾁﾞ", "ｯ", "ﾂ", "ﾂﾞ", "ﾃ", "ﾃﾞ", "ﾄ", "ﾄﾞ", // タ–ド
    "ﾅ", "ﾆ", "ﾇ", "ﾈ", "ﾉ", // ナ–ノ
    "ﾊ", "ﾊﾞ", "ﾊﾟ", "ﾋ", "ﾋﾞ", "ﾋﾟ", "ﾌ", "ﾌﾞ", "ﾌﾟ", // ハ–プ
    "ﾍ", "ﾍﾞ", "ﾍﾟ", "ﾎ", "ﾎﾞ", "ﾎﾟ", // ヘ–ポ
    "ﾏ", "ﾐ", "ﾑ", "ﾒ", "ﾓ", // マ–モ
    "ｬ", "ﾔ", "ｭ", "ﾕ", "ｮ", "ﾖ", // ャ–ヨ
    "ﾗ", "ﾘ", "ﾙ", "ﾚ", "ﾛ", // ラ–ロ
    "", "ﾜ", "", "", "ｦ", "ﾝ", "ｳﾞ", "", "", // ヮ–ヶ
];

/// `c` in the half-width forms the ROM has: katakana and hiragana as
/// half-width katakana, full-width ASCII as ASCII, Japanese punctuation.
fn half_width(c: char) -> Option<&'static str> {
    let katakana = match c {
        // Hiragana sit 0x60 below the katakana.
        '\u{3041}'..='\u{3096}' => u32::from(c) + 0x60,
        '\u{30A1}'..='\u{30F6}' => u32::from(c),
        '\u{FF01}'..='\u{FF5E}' => {
            let ascii = u32::from(c) - 0xFEE0;
            let index = usize::try_from(ascii - 0x20).ok()?;
            return PRINTABLE_ASCII.get(index..=index);
        }
        '\u{3000}' => return Some(" "),
        '。' => return Some("｡"),
        '「' => return Some("｢"),
        '」' => return Some("｣"),
        '、' => return Some("､"),
        '・' => return Some("･"),
        'ー' => return Some("ｰ"),
        '゛' => return Some("ﾞ"),
        '゜' => return Some("ﾟ"),
        _ => return None,
    };
    let index = usize::try_from(katakana - 0x30A1).ok()?;
    KATAKANA.get(index).copied().filter(|s| !s.is_empty())
}

const PRINTABLE_ASCII: &str = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::encode;

    fn rom() -> LcdRom {
        LcdRom::new(&DEFAULT_GLYPHS).unwrap()
    }

    #[test]
    fn a00_swaps_backslash_and_tilde_for_yen_and_arrows() {
        // Codes from the HD44780U datasheet's ROM code A00 table.
        assert_eq!(
            encode("A}¥→←", &rom(), 20).bytes,
            [0x41, 0x7D, 0x5C, 0x7E, 0x7F]
        );
        assert_eq!(encode("\\~", &rom(), 20).bytes, b"??");
        assert_eq!(
            encode("ä ö ü ñ µ °", &rom(), 20).bytes,
            [
                0xE1, b' ', 0xEF, b' ', 0xF5, b' ', 0xEE, b' ', 0xE4, b' ', 0xDF
            ]
        );
    }

    #[test]
    fn japanese_text_becomes_half_width_katakana() {
        // JIS X 0201: ｺ BA, ｰ B0, ﾋ CB, ｶ B6, ﾞ DE, ﾟ DF, ｱ B1, ｲ B2.
        let coffee = encode("コーヒー", &rom(), 20);
        assert_eq!(coffee.bytes, [0xBA, 0xB0, 0xCB, 0xB0]);
        let ga = encode("ガパ", &rom(), 20);
        assert_eq!(ga.bytes, [0xB6, 0xDE, 0xCA, 0xDF]);
        assert_eq!(ga.width, 4);
        assert_eq!(encode("あい", &rom(), 20).bytes, [0xB1, 0xB2]);
        assert_eq!(encode("ＡＢ１", &rom(), 20).bytes, b"AB1");
        assert_eq!(encode("＼ヶ拿", &rom(), 20).bytes, b"???");
        // A voiced kana is never split by the cut.
        assert_eq!(encode("アガ", &rom(), 2).bytes, [0xB1]);
    }

    #[test]
    fn uploaded_signs_draw_from_their_slots() {
        let rom = LcdRom::new(&['₫', '€']).unwrap();
        assert_eq!(encode("₫€£", &rom, 20).bytes, [0x00, 0x01, b'?']);
        assert_eq!(rom.glyphs()[1].sign, '€');
        assert_eq!(LcdRom::new(&['€'; 9]).unwrap_err(), GlyphError::TooMany(9));
        let unknown = LcdRom::new(&['¤']).unwrap_err();
        assert_eq!(unknown, GlyphError::Unknown('¤'));
        assert!(unknown.to_string().contains("€ £ ₩"), "{unknown}");
    }

    #[test]
    fn glyphs_are_five_pixels_wide_with_a_blank_cursor_row() {
        for g in CUSTOM_GLYPHS {
            assert!(g.rows.iter().all(|&r| r < 0b100000), "{}", g.sign);
            assert_eq!(g.rows[7], 0, "{}", g.sign);
            assert!(a00(g.sign).is_none(), "{} is in the ROM", g.sign);
        }
        for sign in DEFAULT_GLYPHS {
            assert!(CUSTOM_GLYPHS.iter().any(|g| g.sign == sign));
        }
    }
}
