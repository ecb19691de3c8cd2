//! Grey images the pipeline works on: packed copies, 2× downscales, crops
//! and local contrast normalisation.

use std::borrow::Cow;

/// A packed grey image: a frame's own buffer, borrowed, or one made here.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gray<'a> {
    pub width: usize,
    pub height: usize,
    pub data: Cow<'a, [u8]>,
}

impl Gray<'_> {
    /// A 2× smaller image, each pixel the mean of a 2×2 block (which also
    /// halves the sensor noise).
    pub fn half(&self) -> Gray<'static> {
        let (w, h) = (self.width / 2, self.height / 2);
        let mut data = vec![0u8; w * h];
        // Each row pair summed down first (one wide add per pixel), then
        // neighbouring columns: both loops vectorise.
        let mut column = vec![0u16; 2 * w];
        for (y, out) in data.chunks_exact_mut(w.max(1)).enumerate().take(h) {
            let r0 = &self.data[2 * y * self.width..][..2 * w];
            let r1 = &self.data[(2 * y + 1) * self.width..][..2 * w];
            for ((c, &a), &b) in column.iter_mut().zip(r0).zip(r1) {
                *c = u16::from(a) + u16::from(b);
            }
            for (o, pair) in out.iter_mut().zip(column.chunks_exact(2)) {
                *o = ((pair[0] + pair[1] + 2) / 4) as u8;
            }
        }
        Gray {
            width: w,
            height: h,
            data: data.into(),
        }
    }

    /// The mean grey level (0 for an empty image).
    pub fn mean(&self) -> u32 {
        let sum: u64 = self.data.iter().map(|&p| u64::from(p)).sum();
        sum.checked_div(self.data.len() as u64).unwrap_or(0) as u32
    }

    /// The pixels inside `(x0, y0, x1, y1)`, clamped to the image.
    pub fn crop(&self, rect: (usize, usize, usize, usize)) -> Gray<'static> {
        let x1 = rect.2.min(self.width);
        let y1 = rect.3.min(self.height);
        let x0 = rect.0.min(x1);
        let y0 = rect.1.min(y1);
        let mut data = Vec::with_capacity((x1 - x0) * (y1 - y0));
        for y in y0..y1 {
            data.extend_from_slice(&self.data[y * self.width + x0..y * self.width + x1]);
        }
        Gray {
            width: x1 - x0,
            height: y1 - y0,
            data: data.into(),
        }
    }

    /// Local contrast normalisation: every pixel is re-expressed against the
    /// mean and spread of its neighbourhood (3×3 blocks of `block` pixels),
    /// so a dim, noisy or glared code gets the full 0–255 range the
    /// binarizer expects (rxing's hybrid binarizer treats blocks with less
    /// than 24 grey levels of range as flat, which is what a dim frame is
    /// made of). Neighbourhoods whose spread (mean absolute deviation) is
    /// under `min_spread` levels are sensor noise on a flat area: they come
    /// out flat grey, so noise is not turned into texture.
    pub fn normalized(&self, block: usize, min_spread: u32) -> Gray<'static> {
        let (w, h) = (self.width, self.height);
        // (At most 128: a column of a band then sums in 16 bits.)
        let block = block.clamp(2, 128);
        if w == 0 || h == 0 {
            return Gray {
                width: w,
                height: h,
                data: self.data.to_vec().into(),
            };
        }
        let (bw, bh) = (w.div_ceil(block), h.div_ceil(block));
        // Per block: pixel sum, count, and sum of |p - block mean|. Each
        // band of `block` rows is first summed down into one value per
        // column (wide adds over whole rows, which vectorise; a column of a
        // band sums at most 255 × block), then across each block's columns.
        let mut mean = vec![0u32; bw * bh];
        let mut dev = vec![0u32; bw * bh];
        let mut count = vec![0u32; bw * bh];
        let mut column = vec![0u16; w];
        let mut block_mean = vec![0u16; w];
        for (by, band) in self.data[..w * h].chunks(block * w).enumerate() {
            let rows = band.len() / w;
            let at = by * bw;
            column.fill(0);
            for row in band.chunks_exact(w) {
                for (c, &p) in column.iter_mut().zip(row) {
                    *c += u16::from(p);
                }
            }
            for (bx, cols) in column.chunks(block).enumerate() {
                let n = (cols.len() * rows) as u32;
                let sum: u32 = cols.iter().map(|&c| u32::from(c)).sum();
                mean[at + bx] = sum;
                count[at + bx] = n;
                // Each pixel's block mean, for the deviations below.
                block_mean[bx * block..][..cols.len()].fill((sum / n) as u16);
            }
            column.fill(0);
            for row in band.chunks_exact(w) {
                for ((c, &p), &m) in column.iter_mut().zip(row).zip(&block_mean) {
                    *c += u16::from(p).abs_diff(m);
                }
            }
            for (bx, cols) in column.chunks(block).enumerate() {
                dev[at + bx] = cols.iter().map(|&c| u32::from(c)).sum();
            }
        }
        // Per block: the 3×3 neighbourhood's mean and gain (fixed point,
        // 8 fractional bits); gain 0 marks a flat neighbourhood.
        let mut nb_mean = vec![0i32; bw * bh];
        let mut nb_gain = vec![0i32; bw * bh];
        for by in 0..bh {
            for bx in 0..bw {
                let (mut s, mut d, mut n) = (0u32, 0u32, 0u32);
                for yy in by.saturating_sub(1)..(by + 2).min(bh) {
                    for xx in bx.saturating_sub(1)..(bx + 2).min(bw) {
                        s += mean[yy * bw + xx];
                        d += dev[yy * bw + xx];
                        n += count[yy * bw + xx];
                    }
                }
                let spread = d / n.max(1);
                nb_mean[by * bw + bx] = (s / n.max(1)) as i32;
                nb_gain[by * bw + bx] = if spread < min_spread {
                    0
                } else {
                    // 50 levels per mean absolute deviation.
                    (50 * 256 / spread.max(1)) as i32
                };
            }
        }
        // Every pixel against its block's neighbourhood: the block's mean
        // and gain spread over its pixels once per band, then a row at a
        // time (which vectorises).
        let mut data = vec![128u8; w * h];
        let mut pixel_mean = vec![0i16; w];
        let mut pixel_gain = vec![0i16; w];
        for (by, (src, dst)) in self.data[..w * h]
            .chunks(block * w)
            .zip(data.chunks_mut(block * w))
            .enumerate()
        {
            let at = by * bw;
            for (bx, (m, g)) in pixel_mean
                .chunks_mut(block)
                .zip(pixel_gain.chunks_mut(block))
                .enumerate()
            {
                m.fill(nb_mean[at + bx] as i16);
                g.fill(nb_gain[at + bx] as i16);
            }
            for (src, dst) in src.chunks_exact(w).zip(dst.chunks_exact_mut(w)) {
                for (((d, &p), &m), &g) in dst.iter_mut().zip(src).zip(&pixel_mean).zip(&pixel_gain)
                {
                    // Gain 0 (a flat neighbourhood) leaves the pixel 128.
                    // (16-bit factors, a 32-bit product: SSE2 multiplies
                    // eight of those at once.)
                    let v = i32::from(i16::from(p) - m) * i32::from(g);
                    *d = (128 + (v >> 8)).clamp(0, 255) as u8;
                }
            }
        }
        Gray {
            width: w,
            height: h,
            data: data.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> Gray<'static> {
        let data: Vec<u8> = (0..width * height)
            .map(|i| f(i % width, i / width))
            .collect();
        Gray {
            width,
            height,
            data: data.into(),
        }
    }

    #[test]
    fn half_averages_blocks_and_drops_odd_edges() {
        let g = img(5, 3, |x, y| (x * 10 + y) as u8);
        let h = g.half();
        assert_eq!((h.width, h.height), (2, 1));
        // (0 + 10 + 1 + 11) / 4 = 5.5 → 6
        assert_eq!(h.data, vec![6, 26]);
    }

    #[test]
    fn mean_of_pixels_and_of_nothing() {
        assert_eq!(img(4, 2, |x, _| (x * 10) as u8).mean(), 15);
        assert_eq!(img(0, 0, |_, _| 0).mean(), 0);
    }

    #[test]
    fn crop_clamps_to_the_image() {
        let g = img(4, 4, |x, y| (y * 4 + x) as u8);
        let c = g.crop((2, 3, 10, 10));
        assert_eq!((c.width, c.height, c.data.to_vec()), (2, 1, vec![14, 15]));
        let empty = g.crop((9, 9, 1, 1));
        assert_eq!((empty.width, empty.height), (0, 0));
    }

    /// The normalisation written plainly, pixel by pixel: what
    /// [`Gray::normalized`] computes faster.
    fn normalized_plainly(g: &Gray, block: usize, min_spread: u32) -> Vec<u8> {
        let (w, h) = (g.width, g.height);
        let at = |x: usize, y: usize| u32::from(g.data[y * w + x]);
        let (bw, bh) = (w.div_ceil(block), h.div_ceil(block));
        let stats = |bx: usize, by: usize| {
            let (x0, y0) = (bx * block, by * block);
            let (x1, y1) = ((x0 + block).min(w), (y0 + block).min(h));
            let n = ((x1 - x0) * (y1 - y0)) as u32;
            let sum: u32 = (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .map(|(x, y)| at(x, y))
                .sum();
            let m = sum / n;
            let dev: u32 = (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .map(|(x, y)| at(x, y).abs_diff(m))
                .sum();
            (sum, dev, n)
        };
        let mut out = vec![128u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let (bx, by) = (x / block, y / block);
                let (mut s, mut d, mut n) = (0, 0, 0);
                for yy in by.saturating_sub(1)..(by + 2).min(bh) {
                    for xx in bx.saturating_sub(1)..(bx + 2).min(bw) {
                        let (a, b, c) = stats(xx, yy);
                        (s, d, n) = (s + a, d + b, n + c);
                    }
                }
                let spread = d / n;
                if spread >= min_spread {
                    let gain = (50 * 256 / spread.max(1)) as i32;
                    let v = ((at(x, y) as i32 - (s / n) as i32) * gain) >> 8;
                    out[y * w + x] = (128 + v).clamp(0, 255) as u8;
                }
            }
        }
        out
    }

    #[test]
    fn normalisation_matches_the_plain_computation_on_any_size() {
        let mut seed = 0x2545_f491_u32;
        let mut noise = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for (w, h, block) in [(37, 23, 8), (64, 64, 8), (5, 3, 8), (41, 40, 3), (1, 9, 2)] {
            // Edges, flat patches and noise of every amplitude.
            let data: Vec<u8> = (0..w * h)
                .map(|i| {
                    let (x, y) = (i % w, i / w);
                    let base = if (x / 6 + y / 4) % 2 == 0 { 60 } else { 150 };
                    let amp = 1 + (x * 7 + y * 3) % 40;
                    (base + noise() % amp as u32) as u8
                })
                .collect();
            let g = Gray {
                width: w,
                height: h,
                data: data.into(),
            };
            for min_spread in [0, 3, 12] {
                assert_eq!(
                    g.normalized(block, min_spread).data.to_vec(),
                    normalized_plainly(&g, block, min_spread),
                    "{w}x{h} block {block} min spread {min_spread}"
                );
            }
        }
    }

    #[test]
    fn normalisation_stretches_dim_edges_and_keeps_flat_areas_flat() {
        // A dim edge: 10 | 22.
        let g = img(20, 4, |x, _| if x < 10 { 10 } else { 22 });
        let n = g.normalized(4, 2);
        assert!(n.data[9] < 80, "{:?}", &n.data[..20]);
        assert!(n.data[10] > 176, "{:?}", &n.data[..20]);
        let flat = img(8, 8, |_, _| 40).normalized(3, 2);
        assert!(flat.data.iter().all(|&p| p == 128));
    }
}
