//! Decoding a sampled QR grid: rxing's steps (format, codewords, blocks,
//! bit stream) around an error correction of our own.
//!
//! Most grids the pipeline samples in a frame without a readable code are
//! not codewords, and rxing's Reed-Solomon decoder spends most of a failed
//! attempt finding that out (its polynomials compare whole field tables on
//! every operation). Here the check is table arithmetic over GF(256):
//! syndromes, Berlekamp-Massey, a Chien search that must find as many error
//! positions as the locator's degree, and Forney's formula; a block is taken
//! only when its corrected syndromes are all zero. The grid is read the way
//! rxing's own QR decoder reads a Model 2 symbol (same format-information
//! choice, mirrored symbols too, version from the size), so the same grids
//! decode to the same text; other symbols go to rxing's decoder unchanged.

use std::sync::OnceLock;

use rxing::common::BitMatrix;
use rxing::common::cpp_essentials::DecoderResult;
use rxing::qrcode::common::{FormatInformation, Version};
use rxing::qrcode::cpp_port::Type;
use rxing::qrcode::cpp_port::decoder::{Decode, DecodeBitStream};
use rxing::qrcode::decoder::DataBlock;

/// GF(256) with QR's primitive polynomial x⁸+x⁴+x³+x²+1: `EXP[i]` is αⁱ
/// (twice over, so a sum of two logarithms needs no reduction), `LOG[x]`
/// its inverse (`LOG[0]` unused).
struct Field {
    exp: [u8; 512],
    log: [u8; 256],
}

const FIELD: Field = {
    let (mut exp, mut log) = ([0u8; 512], [0u8; 256]);
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        exp[i + 255] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= 0x11D;
        }
        i += 1;
    }
    Field { exp, log }
};

fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    FIELD.exp[FIELD.log[a as usize] as usize + FIELD.log[b as usize] as usize]
}

fn div(a: u8, b: u8) -> u8 {
    debug_assert!(b != 0);
    if a == 0 {
        return 0;
    }
    FIELD.exp[FIELD.log[a as usize] as usize + 255 - FIELD.log[b as usize] as usize]
}

/// αⁱ for any i ≥ 0.
fn alpha(i: usize) -> u8 {
    FIELD.exp[i % 255]
}

/// `poly` (lowest degree first) at `x`.
fn eval(poly: &[u8], x: u8) -> u8 {
    poly.iter().rev().fold(0, |acc, &c| mul(acc, x) ^ c)
}

/// The syndromes of `block` (first byte the highest power; QR's generator
/// has roots α⁰…α^(ec−1)); all zero for a codeword. In the log domain:
/// byte k contributes α^(log cₖ + j·(n−1−k)) to syndrome j, an exponent
/// that grows by n−1−k from one syndrome to the next.
fn syndromes(block: &[u8], ec: usize) -> Vec<u8> {
    let n = block.len();
    let mut terms: Vec<(usize, usize)> = block
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c != 0)
        .map(|(k, &c)| (FIELD.log[c as usize] as usize, (n - 1 - k) % 255))
        .collect();
    (0..ec)
        .map(|_| {
            let mut s = 0;
            for (exponent, step) in &mut terms {
                s ^= FIELD.exp[*exponent];
                *exponent += *step;
                if *exponent >= 255 {
                    *exponent -= 255;
                }
            }
            s
        })
        .collect()
}

/// Corrects `block` (data then `ec` error-correction codewords) in place.
/// `false`, with `block` untouched, when it holds more errors than the code
/// can correct (or is not a codeword once corrected).
pub(super) fn correct(block: &mut [u8], ec: usize) -> bool {
    let n = block.len();
    if ec == 0 || ec >= n || n > 255 {
        return ec == 0 && n <= 255;
    }
    let s = syndromes(block, ec);
    if s.iter().all(|&v| v == 0) {
        return true;
    }
    // Berlekamp-Massey: the shortest locator Λ(x) = Π(1 − Xₖx) that
    // generates the syndromes.
    let mut lambda = vec![0u8; ec + 1];
    let mut prev = vec![0u8; ec + 1];
    lambda[0] = 1;
    prev[0] = 1;
    let (mut len, mut shift, mut last) = (0usize, 1usize, 1u8);
    for i in 0..ec {
        let d = (1..=len).fold(s[i], |acc, k| acc ^ mul(lambda[k], s[i - k]));
        if d == 0 {
            shift += 1;
            continue;
        }
        let coef = div(d, last);
        let before = lambda.clone();
        for k in shift..=ec {
            lambda[k] ^= mul(coef, prev[k - shift]);
        }
        if 2 * len <= i {
            len = i + 1 - len;
            prev = before;
            last = d;
            shift = 1;
        } else {
            shift += 1;
        }
    }
    if 2 * len > ec || lambda[len] == 0 || lambda[len + 1..].iter().any(|&c| c != 0) {
        return false;
    }
    let lambda = &lambda[..=len];
    // Chien search: byte k is at power n−1−k; an error there makes
    // Λ(α^−(n−1−k)) zero. A locator that is not wholly a product of such
    // factors means too many errors.
    let mut positions = Vec::with_capacity(len);
    for k in 0..n {
        let power = n - 1 - k;
        if eval(lambda, alpha(255 - power % 255)) == 0 {
            positions.push(k);
        }
    }
    if positions.len() != len {
        return false;
    }
    // Forney (first root α⁰): eₖ = Xₖ·Ω(Xₖ⁻¹) / Λ'(Xₖ⁻¹), with
    // Ω = S·Λ mod x^ec.
    let mut omega = vec![0u8; ec];
    for (i, &si) in s.iter().enumerate() {
        for (j, &lj) in lambda.iter().enumerate().take(ec - i) {
            omega[i + j] ^= mul(si, lj);
        }
    }
    // Λ' in characteristic 2: the odd terms, one degree down.
    let derivative: Vec<u8> = lambda
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, &c)| if i % 2 == 1 { c } else { 0 })
        .collect();
    let mut fixed = block.to_vec();
    for &k in &positions {
        let power = n - 1 - k;
        let x = alpha(power);
        let x_inv = alpha(255 - power % 255);
        let denominator = eval(&derivative, x_inv);
        if denominator == 0 {
            return false;
        }
        fixed[k] ^= mul(x, div(eval(&omega, x_inv), denominator));
    }
    if syndromes(&fixed, ec).iter().any(|&v| v != 0) {
        return false;
    }
    block.copy_from_slice(&fixed);
    true
}

/// Why a grid was not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GridError {
    /// A block held more errors than its error correction can fix.
    Uncorrectable,
    /// Format, blocks or bit stream could not be read.
    Malformed,
}

/// Decodes a sampled QR grid (one bit per module) as rxing's
/// `qrcode::cpp_port::decoder::Decode` does, with [`correct`] for the
/// error correction. Grids that are not Model 2 symbols go to rxing's own
/// decoder.
pub(super) fn decode(bits: &BitMatrix) -> Result<DecoderResult<bool>, GridError> {
    let dim = bits.width();
    let model2 = bits.height() == dim && (21..=177).contains(&dim) && dim % 4 == 1;
    let format = model2.then(|| read_format(bits));
    let Some(format) = format.filter(|f| f.qr_type() == Type::Model2) else {
        return Decode(bits).map_err(|_| GridError::Malformed);
    };
    let version = Version::Model2((dim - 17) / 4).map_err(|_| GridError::Malformed)?;
    let codewords = read_codewords(bits, version, &format)?;
    let level = format.error_correction_level;
    let blocks =
        DataBlock::getDataBlocks(&codewords, version, level).map_err(|_| GridError::Malformed)?;
    let mut data = Vec::with_capacity(codewords.len());
    let mut block = Vec::new();
    for b in &blocks {
        block.clear();
        block.extend_from_slice(b.getCodewords());
        let data_len = (b.getNumDataCodewords() as usize).min(block.len());
        let ec = block.len() - data_len;
        if !correct(&mut block, ec) {
            return Err(GridError::Uncorrectable);
        }
        data.extend_from_slice(&block[..data_len]);
    }
    DecodeBitStream(&data, version, level)
        .map(|r| r.withIsMirrored(format.isMirrored))
        .map_err(|_| GridError::Malformed)
}

/// The format information, from both copies, as rxing reads it.
fn read_format(bits: &BitMatrix) -> FormatInformation {
    let dim = bits.height();
    let mut first = 0u32;
    let push = |acc: &mut u32, x: u32, y: u32| *acc = (*acc << 1) | u32::from(bits.get(x, y));
    for x in 0..6 {
        push(&mut first, x, 8);
    }
    push(&mut first, 7, 8);
    push(&mut first, 8, 8);
    push(&mut first, 8, 7);
    for y in (0..=5).rev() {
        push(&mut first, 8, y);
    }
    let mut second = 0u32;
    for y in (dim - 8..dim).rev() {
        push(&mut second, 8, y);
    }
    for x in dim - 8..dim {
        push(&mut second, x, 8);
    }
    FormatInformation::DecodeQR(first, second)
}

/// The codewords in reading order: column pairs from the right, up and
/// down in turn, skipping function patterns, unmasked.
fn read_codewords(
    bits: &BitMatrix,
    version: &Version,
    format: &FormatInformation,
) -> Result<Vec<u8>, GridError> {
    let function = function_pattern(version).ok_or(GridError::Malformed)?;
    let dim = bits.height();
    let total = version.getTotalCodewords() as usize;
    let mask = format.data_mask;
    let mut out = Vec::with_capacity(total);
    let (mut byte, mut count) = (0u8, 0u32);
    let mut up = true;
    let mut x = dim as i64 - 1;
    while x > 0 {
        if x == 6 {
            x -= 1;
        }
        for row in 0..dim {
            let y = if up { dim - 1 - row } else { row };
            for col in 0..2 {
                let xx = (x - col) as u32;
                if function.get(xx, y) {
                    continue;
                }
                let module = if format.isMirrored {
                    bits.get(y, xx)
                } else {
                    bits.get(xx, y)
                };
                byte = (byte << 1) | u8::from(module != mask_bit(mask, xx, y));
                count += 1;
                if count % 8 == 0 {
                    out.push(byte);
                    byte = 0;
                }
            }
        }
        up = !up;
        x -= 2;
    }
    if out.len() != total {
        return Err(GridError::Malformed);
    }
    Ok(out)
}

/// Which modules of a `version` symbol are function patterns (finders,
/// timing, alignment, format and version information), built once per
/// version.
fn function_pattern(version: &Version) -> Option<&'static BitMatrix> {
    static BUILT: [OnceLock<Option<BitMatrix>>; 40] = [const { OnceLock::new() }; 40];
    let slot = BUILT.get((version.getVersionNumber() as usize).checked_sub(1)?)?;
    slot.get_or_init(|| version.buildFunctionPattern().ok())
        .as_ref()
}

/// Whether data mask `mask` (0–7) flips the module at column `x`, row `y`.
fn mask_bit(mask: u8, x: u32, y: u32) -> bool {
    match mask {
        0 => (y + x).is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => (y + x).is_multiple_of(3),
        4 => (y / 2 + x / 3).is_multiple_of(2),
        5 => (y * x).is_multiple_of(6),
        6 => (y * x) % 6 < 3,
        _ => (y + x + (y * x) % 3).is_multiple_of(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxing::common::reedsolomon::{PredefinedGenericGF, ReedSolomonDecoder, ReedSolomonEncoder};

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn codeword(rng: &mut Rng, n: usize, ec: usize) -> Vec<u8> {
        let mut words: Vec<i32> = (0..n)
            .map(|i| if i < n - ec { rng.below(256) as i32 } else { 0 })
            .collect();
        ReedSolomonEncoder::new(PredefinedGenericGF::QrCodeField256.into())
            .expect("the QR field")
            .encode(&mut words, ec)
            .expect("encodes");
        words.into_iter().map(|w| w as u8).collect()
    }

    #[test]
    fn corrects_what_the_code_can_and_refuses_the_rest_as_rxing_does() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let rxing = ReedSolomonDecoder::new(PredefinedGenericGF::QrCodeField256.into());
        let (mut fixed, mut refused) = (0, 0);
        // Block shapes QR uses, from version 1-H (26, 17 EC) to the
        // largest (153, 30 EC).
        for (n, ec) in [(26, 17), (26, 7), (44, 28), (70, 18), (100, 26), (153, 30)] {
            for errors in 0..=ec {
                for _ in 0..20 {
                    let clean = codeword(&mut rng, n, ec);
                    let mut noisy = clean.clone();
                    for _ in 0..errors {
                        let k = rng.below(n);
                        noisy[k] ^= 1 + rng.below(255) as u8;
                    }
                    let mut ours = noisy.clone();
                    let ok = correct(&mut ours, ec);
                    let mut theirs: Vec<i32> = noisy.iter().map(|&b| i32::from(b)).collect();
                    let their_ok = rxing.decode(&mut theirs, ec as i32).is_ok();
                    assert_eq!(ok, their_ok, "n {n} ec {ec} errors {errors}");
                    if ok {
                        let theirs: Vec<u8> = theirs.iter().map(|&w| w as u8).collect();
                        assert_eq!(ours, theirs);
                        assert!(syndromes(&ours, ec).iter().all(|&s| s == 0));
                        if errors <= ec / 2 {
                            assert_eq!(ours, clean);
                        }
                        fixed += 1;
                    } else {
                        assert_eq!(ours, noisy, "a refused block is left as it was");
                        refused += 1;
                    }
                }
            }
        }
        assert!(
            fixed > 1000 && refused > 1000,
            "{fixed} fixed, {refused} refused"
        );
    }

    proptest::proptest! {
        /// Any bytes, any number of error-correction codewords: a block is
        /// either left as it was or turned into a codeword (zero
        /// syndromes) at most ec / 2 bytes away; never a panic.
        #[test]
        fn any_block_is_left_alone_or_made_a_nearby_codeword(
            block in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            ec in 0usize..80,
        ) {
            let mut out = block.clone();
            if correct(&mut out, ec) {
                let changed = out.iter().zip(&block).filter(|(a, b)| a != b).count();
                proptest::prop_assert!(2 * changed <= ec, "{changed} changed, ec {ec}");
                if ec > 0 && ec < out.len() {
                    proptest::prop_assert!(syndromes(&out, ec).iter().all(|&s| s == 0));
                }
            } else {
                proptest::prop_assert_eq!(out, block);
            }
        }
    }

    #[test]
    fn odd_block_shapes_are_refused_without_a_panic() {
        assert!(correct(&mut [], 0));
        assert!(!correct(&mut [1, 2, 3], 3));
        assert!(!correct(&mut [1, 2, 3], 5));
        assert!(!correct(&mut vec![7; 300], 30));
        assert!(correct(&mut [0; 40], 10));
    }

    /// A QR symbol of `text`, one bit a module, no quiet zone.
    fn symbol(text: &str, level: &str) -> BitMatrix {
        use rxing::{EncodeHintValue, EncodeHints, Writer};
        let hints = EncodeHints::default()
            .with(EncodeHintValue::Margin("0".to_owned()))
            .with(EncodeHintValue::ErrorCorrection(level.to_owned()));
        rxing::qrcode::QRCodeWriter
            .encode_with_hints(text, &rxing::BarcodeFormat::QR_CODE, 0, 0, &hints)
            .expect("encodes")
    }

    fn transposed(bits: &BitMatrix) -> BitMatrix {
        let mut out = BitMatrix::new(bits.height(), bits.width()).expect("a matrix");
        for y in 0..bits.height() {
            for x in 0..bits.width() {
                if bits.get(x, y) {
                    out.set(y, x);
                }
            }
        }
        out
    }

    #[test]
    fn damaged_grids_decode_exactly_as_with_rxings_decoder() {
        let mut rng = Rng(42);
        let texts = [
            "https://qr.alipay.com/fkx19837xksb2uw2dx1aa0e",
            "hQVDUFYwMWFPSAAAAAMAAGUDVE9LRU5fMjAyNl8xMl8wM19rYXNzYQ",
            "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A",
            "134567890123456789",
        ];
        let (mut same_read, mut same_refused) = (0, 0);
        for text in texts {
            for level in ["L", "M", "Q", "H"] {
                let clean = symbol(text, level);
                for mirrored in [false, true] {
                    let clean = if mirrored {
                        transposed(&clean)
                    } else {
                        clean.clone()
                    };
                    let dim = clean.width();
                    for flips in [0, 4, 12, 30, 60, 120, 250] {
                        for _ in 0..4 {
                            let mut grid = clean.clone();
                            for _ in 0..flips {
                                grid.flip_coords(
                                    rng.below(dim as usize) as u32,
                                    rng.below(dim as usize) as u32,
                                );
                            }
                            let ours = decode(&grid).ok().filter(|r| r.isValid());
                            let theirs = Decode(&grid).ok().filter(|r| r.isValid());
                            assert_eq!(
                                ours.as_ref().map(|r| r.content().to_string()),
                                theirs.as_ref().map(|r| r.content().to_string()),
                                "{text:?} {level} mirrored {mirrored} flips {flips}"
                            );
                            if ours.is_some() {
                                same_read += 1;
                            } else {
                                same_refused += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(
            same_read > 100 && same_refused > 50,
            "{same_read} read, {same_refused} refused"
        );
    }

    #[test]
    fn a_grid_of_any_size_or_content_is_refused_without_a_panic() {
        let mut rng = Rng(7);
        for dim in [1, 11, 20, 21, 22, 25, 45, 57, 177, 181] {
            for _ in 0..5 {
                let mut grid = BitMatrix::new(dim, dim).expect("a matrix");
                for y in 0..dim {
                    for x in 0..dim {
                        if rng.below(2) == 1 {
                            grid.set(x, y);
                        }
                    }
                }
                assert!(decode(&grid).map_or(true, |r| !r.isValid()), "{dim}");
            }
        }
    }
}
