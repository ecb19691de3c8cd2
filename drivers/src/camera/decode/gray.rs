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
        let block = block.max(2);
        if w == 0 || h == 0 {
            return Gray {
                width: w,
                height: h,
                data: self.data.to_vec().into(),
            };
        }
        let (bw, bh) = (w.div_ceil(block), h.div_ceil(block));
        // Per block: pixel sum, count, and sum of |p - block mean| (two
        // passes over the block; blocks are small).
        let mut mean = vec![0u32; bw * bh];
        let mut dev = vec![0u32; bw * bh];
        let mut count = vec![0u32; bw * bh];
        for by in 0..bh {
            for bx in 0..bw {
                let (x0, y0) = (bx * block, by * block);
                let (x1, y1) = ((x0 + block).min(w), (y0 + block).min(h));
                let mut sum = 0u32;
                for y in y0..y1 {
                    sum += self.data[y * w + x0..y * w + x1]
                        .iter()
                        .map(|&p| u32::from(p))
                        .sum::<u32>();
                }
                let n = ((x1 - x0) * (y1 - y0)) as u32;
                let m = sum / n;
                let mut d = 0u32;
                for y in y0..y1 {
                    d += self.data[y * w + x0..y * w + x1]
                        .iter()
                        .map(|&p| u32::from(p).abs_diff(m))
                        .sum::<u32>();
                }
                mean[by * bw + bx] = sum;
                dev[by * bw + bx] = d;
                count[by * bw + bx] = n;
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
        let mut data = vec![128u8; w * h];
        for y in 0..h {
            let by = y / block;
            for x in 0..w {
                let b = by * bw + x / block;
                let gain = nb_gain[b];
                if gain != 0 {
                    let p = i32::from(self.data[y * w + x]);
                    data[y * w + x] = (128 + (((p - nb_mean[b]) * gain) >> 8)).clamp(0, 255) as u8;
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
