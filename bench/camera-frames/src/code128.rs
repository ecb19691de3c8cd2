//! A Code 128 encoder for digit strings (code set C), written from the
//! symbology's pattern table so the decoder under test is not trusted to
//! draw what it reads.

/// Bar/space widths of symbol values 0–106 (106 is the stop pattern with
/// its final bar), in modules, bar first.
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
];

const START_C: usize = 105;
const STOP: usize = 106;

/// The modules (`true` = bar) of `digits` (an even number of ASCII digits)
/// in code set C, without quiet zones; `None` for other input.
pub fn encode_digits(digits: &str) -> Option<Vec<bool>> {
    if digits.is_empty()
        || !digits.len().is_multiple_of(2)
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut values = vec![START_C];
    for pair in digits.as_bytes().chunks(2) {
        values.push(usize::from(pair[0] - b'0') * 10 + usize::from(pair[1] - b'0'));
    }
    let checksum = values
        .iter()
        .enumerate()
        .map(|(i, &v)| if i == 0 { v } else { i * v })
        .sum::<usize>()
        % 103;
    values.push(checksum);
    values.push(STOP);
    let mut modules = Vec::new();
    for value in values {
        for (i, width) in PATTERNS[value].bytes().enumerate() {
            let bar = i % 2 == 0;
            modules.extend(std::iter::repeat_n(bar, usize::from(width - b'0')));
        }
    }
    Some(modules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_well_formed() {
        for (value, pattern) in PATTERNS.iter().enumerate() {
            let sum: u32 = pattern.bytes().map(|b| u32::from(b - b'0')).sum();
            assert_eq!(sum, if value == STOP { 13 } else { 11 }, "value {value}");
        }
        let mut sorted = PATTERNS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), PATTERNS.len());
    }

    #[test]
    fn eighteen_digits_take_134_modules() {
        let modules = encode_digits("134567890123456789").unwrap();
        // start + 9 pairs + checksum = 11 symbols of 11 modules, stop of 13.
        assert_eq!(modules.len(), 11 * 11 + 13);
        assert!(modules[0] && *modules.last().unwrap());
        assert_eq!(encode_digits("123"), None);
        assert_eq!(encode_digits("12a4"), None);
    }
}
