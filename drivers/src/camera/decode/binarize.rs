//! rxing's hybrid binarizer, computed fast.
//!
//! rxing's `HybridBinarizer` (zxing's local-block threshold) sets one bit at
//! a time through bounds-checked calls and was about half of the pipeline's
//! time on a frame without a code. [`FastHybrid`] computes the same black
//! matrix, bit for bit (a test compares them), eight pixels and one machine
//! word at a time, and hands it to rxing's readers through rxing's
//! `Binarizer` trait.

use std::borrow::Cow;
use std::cell::OnceCell;

use rxing::common::{BitArray, BitMatrix, GlobalHistogramBinarizer, LineOrientation, Result};
use rxing::{Binarizer, Luma8Source, LuminanceSource};

/// Pixels per block side (zxing: 8).
const BLOCK: usize = 8;
/// A block whose grey levels span no more than this is flat (zxing: 24).
const MIN_DYNAMIC_RANGE: u8 = 24;
/// Under this width or height the block threshold is undefined (5 blocks).
const MIN_SIDE: usize = BLOCK * 5;

/// Bits per word of rxing's bit rows.
const WORD: usize = usize::BITS as usize;

/// A binarizer giving the black matrix of rxing's `HybridBinarizer`; rows
/// and lines for 1D readers are read off that matrix.
pub(crate) struct FastHybrid<'a> {
    source: Luma8Source<'a>,
    matrix: OnceCell<BitMatrix>,
}

impl<'a> FastHybrid<'a> {
    pub fn new(source: Luma8Source<'a>) -> Self {
        FastHybrid {
            source,
            matrix: OnceCell::new(),
        }
    }

    fn matrix(&self) -> Result<&BitMatrix> {
        if let Some(m) = self.matrix.get() {
            return Ok(m);
        }
        let (w, h) = (self.source.get_width(), self.source.get_height());
        let m = if w < MIN_SIDE || h < MIN_SIDE {
            // Too small for 5×5 blocks: where rxing's hybrid binarizer
            // falls back to its global histogram, so does this one.
            GlobalHistogramBinarizer::new(self.source.clone())
                .get_black_matrix()?
                .clone()
        } else {
            black_matrix(&self.source.get_matrix(), w, h)?
        };
        Ok(self.matrix.get_or_init(|| m))
    }
}

impl<'a> Binarizer for FastHybrid<'a> {
    type Source = Luma8Source<'a>;

    fn get_luminance_source(&self) -> &Self::Source {
        &self.source
    }

    fn get_black_row(&self, y: usize) -> Result<Cow<'_, BitArray>> {
        self.get_black_line(y, LineOrientation::Row)
    }

    fn get_black_row_from_matrix(&self, y: usize) -> Result<Cow<'_, BitArray>> {
        self.get_black_row(y)
    }

    fn get_black_matrix(&self) -> Result<&BitMatrix> {
        self.matrix()
    }

    fn get_black_line(&self, l: usize, lt: LineOrientation) -> Result<Cow<'_, BitArray>> {
        let m = self.matrix()?;
        let (bound, line) = match lt {
            LineOrientation::Row => (m.height(), BitMatrix::getRow as fn(&BitMatrix, u32) -> _),
            LineOrientation::Column => (m.width(), BitMatrix::getCol as fn(&BitMatrix, u32) -> _),
        };
        if l >= bound as usize {
            return Err(rxing::Exceptions::INDEX_OUT_OF_BOUNDS);
        }
        Ok(Cow::Owned(line(m, l as u32)))
    }

    fn create_binarizer(&self, source: Self::Source) -> Self {
        FastHybrid::new(source)
    }

    fn get_width(&self) -> usize {
        self.source.get_width()
    }

    fn get_height(&self) -> usize {
        self.source.get_height()
    }
}

/// zxing's hybrid black matrix of a `w`×`h` grey image (`w`, `h` ≥
/// [`MIN_SIDE`]).
pub(crate) fn black_matrix(lum: &[u8], w: usize, h: usize) -> Result<BitMatrix> {
    if w < MIN_SIDE || h < MIN_SIDE || lum.len() < w * h {
        return Err(rxing::Exceptions::illegal_argument_with(
            "image too small for the block binarizer",
        ));
    }
    let (sw, sh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let points = black_points(lum, w, h, sw, sh);
    // Per block, the mean black point of the 5×5 blocks around it (clamped
    // to whole neighbourhoods at the edges).
    let mut thresholds = vec![0u8; sw * sh];
    for by in 0..sh {
        let top = by.clamp(2, sh - 3);
        for bx in 0..sw {
            let left = bx.clamp(2, sw - 3);
            let mut sum = 0u32;
            for row in points[(top - 2) * sw..(top + 3) * sw].chunks_exact(sw) {
                sum += row[left - 2..left + 3].iter().sum::<u32>();
            }
            // Black points are at most 255, so their mean fits a byte.
            thresholds[by * sw + bx] = (sum / 25) as u8;
        }
    }
    // Per block row, each column's threshold; where a clamped edge block
    // overlaps its neighbour a pixel is black when either block says so,
    // that is below the larger of the two thresholds.
    let mut expanded = vec![0u8; sh * w];
    for (by, out) in expanded.chunks_exact_mut(w).enumerate() {
        for bx in 0..sw {
            let x0 = (bx * BLOCK).min(w - BLOCK);
            let t = thresholds[by * sw + bx];
            for v in &mut out[x0..x0 + BLOCK] {
                *v = (*v).max(t);
            }
        }
    }
    let row_words = w.div_ceil(WORD);
    let mut words = vec![0usize; row_words * h];
    let mut row_t = vec![0u8; w];
    // 0 or 1 per pixel, padded with 0 to whole words.
    let mut black = vec![0u8; row_words * WORD];
    for y in 0..h {
        let by = y / BLOCK;
        row_t.copy_from_slice(&expanded[by * w..(by + 1) * w]);
        if y >= h - BLOCK && by != sh - 1 {
            // The clamped last block row overlaps this one.
            for (t, &u) in row_t.iter_mut().zip(&expanded[(sh - 1) * w..sh * w]) {
                *t = (*t).max(u);
            }
        }
        // `<=`: a pixel of 0 is black even where the threshold is 0.
        for ((b, &p), &t) in black.iter_mut().zip(&lum[y * w..(y + 1) * w]).zip(&row_t) {
            *b = u8::from(p <= t);
        }
        for (word, bytes) in words[y * row_words..(y + 1) * row_words]
            .iter_mut()
            .zip(black.chunks_exact(WORD))
        {
            *word = bytes
                .chunks_exact(8)
                .enumerate()
                .fold(0, |acc, (i, eight)| acc | (pack8(eight) << (8 * i)));
        }
    }
    let mut matrix = BitMatrix::new(w as u32, h as u32)?;
    let mut line = BitArray::with_size(w);
    for (y, row) in words.chunks_exact(row_words).enumerate() {
        for (i, &word) in row.iter().enumerate() {
            line.setBulk(i * WORD, word);
        }
        matrix.setRow(y as u32, &line);
    }
    Ok(matrix)
}

/// zxing's black point per 8×8 block: the block's mean, or for a flat block
/// half its minimum, raised to its upper and left neighbours' estimate when
/// its minimum is below that (a flat dark block inside a symbol).
fn black_points(lum: &[u8], w: usize, h: usize, sw: usize, sh: usize) -> Vec<u32> {
    let mut points = vec![0u32; sw * sh];
    // Per column over the block row's 8 rows (8 × 255 fits a u16).
    let mut sum = vec![0u16; w];
    let mut min = vec![0u8; w];
    let mut max = vec![0u8; w];
    for by in 0..sh {
        let y0 = (by * BLOCK).min(h - BLOCK);
        sum.fill(0);
        min.fill(u8::MAX);
        max.fill(0);
        for y in y0..y0 + BLOCK {
            let pixels = &lum[y * w..(y + 1) * w];
            for (((s, lo), hi), &p) in sum.iter_mut().zip(&mut min).zip(&mut max).zip(pixels) {
                *s += u16::from(p);
                *lo = (*lo).min(p);
                *hi = (*hi).max(p);
            }
        }
        for bx in 0..sw {
            let x0 = (bx * BLOCK).min(w - BLOCK);
            let cols = x0..x0 + BLOCK;
            let total: u32 = sum[cols.clone()].iter().map(|&s| u32::from(s)).sum();
            let lo = min[cols.clone()].iter().fold(u8::MAX, |m, &p| m.min(p));
            let hi = max[cols].iter().fold(0, |m, &p| m.max(p));
            let mut point = total >> 6;
            if hi - lo <= MIN_DYNAMIC_RANGE {
                point = u32::from(lo) / 2;
                if by > 0 && bx > 0 {
                    let up = points[(by - 1) * sw + bx];
                    let left = points[by * sw + bx - 1];
                    let diagonal = points[(by - 1) * sw + bx - 1];
                    let neighbours = (up + 2 * left + diagonal) / 4;
                    if u32::from(lo) < neighbours {
                        point = neighbours;
                    }
                }
            }
            points[by * sw + bx] = point;
        }
    }
    points
}

/// Eight 0/1 bytes as the low eight bits of a word, the first byte lowest:
/// one multiply moves byte `i`'s bit to bit 56 + `i` (no two partial
/// products meet, so nothing carries).
fn pack8(eight: &[u8]) -> usize {
    let mut b = [0u8; 8];
    b.copy_from_slice(eight);
    (u64::from_le_bytes(b).wrapping_mul(0x0102_0408_1020_4080) >> 56) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use rxing::common::HybridBinarizer;

    fn rxing_matrix(lum: &[u8], w: usize, h: usize) -> BitMatrix {
        let source = Luma8Source::new_with_slice(lum, w as u32, h as u32).unwrap();
        HybridBinarizer::new(source)
            .get_black_matrix()
            .unwrap()
            .clone()
    }

    /// A deterministic image with flat areas, gradients, fine texture and
    /// dark flat blocks inside texture (the neighbour rule).
    fn image(w: usize, h: usize, seed: u32) -> Vec<u8> {
        let mut s = seed;
        (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (s >> 24) as usize % 20;
                match (x / 37 + y / 29) % 4 {
                    0 => 200 + noise / 4,
                    1 => ((x ^ y) & 8) as u8 as usize * 25 + noise,
                    2 => 10 + noise / 5,
                    _ => (x * 255 / w + y * 3) % 256,
                }
                .min(255) as u8
            })
            .collect()
    }

    #[test]
    fn same_matrix_as_rxings_hybrid_binarizer() {
        // Multiples of 8 and not (clamped, overlapping edge blocks), and a
        // width that is not a multiple of the word size.
        for (w, h) in [
            (40, 40),
            (64, 48),
            (131, 77),
            (48, 131),
            (640, 360),
            (1283, 721),
        ] {
            for seed in 1..4 {
                let lum = image(w, h, seed);
                let ours = black_matrix(&lum, w, h).unwrap();
                assert!(ours == rxing_matrix(&lum, w, h), "{w}×{h}, seed {seed}");
            }
        }
    }

    #[test]
    fn small_images_fall_back_like_rxings() {
        for (w, h) in [(30, 21), (39, 100), (100, 39)] {
            let lum = image(w, h, 7);
            let source = Luma8Source::new_with_slice(&lum, w as u32, h as u32).unwrap();
            let ours = FastHybrid::new(source).get_black_matrix().unwrap().clone();
            assert!(ours == rxing_matrix(&lum, w, h), "{w}×{h}");
        }
    }

    #[test]
    fn refuses_images_under_five_blocks() {
        assert!(black_matrix(&[0; 39 * 100], 39, 100).is_err());
        assert!(black_matrix(&[0; 100 * 10], 100, 39).is_err());
    }
}
