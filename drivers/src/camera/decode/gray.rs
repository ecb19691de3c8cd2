//! Grey images the pipeline works on: packed copies, 2× downscales, crops
//! and local contrast normalisation.

/// A packed grey image.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gray {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Gray {
    /// A 2× smaller image, each pixel the mean of a 2×2 block (which also
    /// halves the sensor noise).
    pub fn half(&self) -> Gray {
        let (w, h) = (self.width / 2, self.height / 2);
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            let r0 = &self.data[2 * y * self.width..][..2 * w];
            let r1 = &self.data[(2 * y + 1) * self.width..][..2 * w];
            for x in 0..w {
                let sum = u16::from(r0[2 * x])
                    + u16::from(r0[2 * x + 1])
                    + u16::from(r1[2 * x])
                    + u16::from(r1[2 * x + 1]);
                data.push(((sum + 2) / 4) as u8);
            }
        }
        Gray {
            width: w,
            height: h,
            data,
        }
    }

    /// The pixels inside `(x0, y0, x1, y1)`, clamped to the image.
    pub fn crop(&self, rect: (usize, usize, usize, usize)) -> Gray {
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
            data,
        }
    }

    /// Local contrast normalisation: every pixel is re-expressed against the
    /// mean and spread of its `2 * radius + 1` square neighbourhood, so a dim,
    /// noisy or glared code gets the full 0–255 range the binarizer expects
    /// (rxing's hybrid binarizer treats blocks with less than 24 grey levels of
    /// range as flat, which is what a dim frame is made of). Flat areas stay
    /// flat: the spread has a floor of `min_spread` levels.
    pub fn normalized(&self, radius: usize, min_spread: u32) -> Gray {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 {
            return self.clone();
        }
        // Integral images of the pixels and their squares.
        let stride = w + 1;
        let mut sum = vec![0u32; stride * (h + 1)];
        let mut sq = vec![0u64; stride * (h + 1)];
        for y in 0..h {
            let mut row_sum = 0u32;
            let mut row_sq = 0u64;
            for x in 0..w {
                let p = u32::from(self.data[y * w + x]);
                row_sum += p;
                row_sq += u64::from(p * p);
                sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + row_sum;
                sq[(y + 1) * stride + x + 1] = sq[y * stride + x + 1] + row_sq;
            }
        }
        let floor = f64::from(min_spread.max(1));
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            let ya = y.saturating_sub(radius);
            let yb = (y + radius + 1).min(h);
            for x in 0..w {
                let xa = x.saturating_sub(radius);
                let xb = (x + radius + 1).min(w);
                let n = ((yb - ya) * (xb - xa)) as f64;
                let s = f64::from(
                    sum[yb * stride + xb] + sum[ya * stride + xa]
                        - sum[ya * stride + xb]
                        - sum[yb * stride + xa],
                );
                let s2 = (sq[yb * stride + xb] + sq[ya * stride + xa]
                    - sq[ya * stride + xb]
                    - sq[yb * stride + xa]) as f64;
                let mean = s / n;
                let spread = (s2 / n - mean * mean).max(0.0).sqrt().max(floor);
                let p = f64::from(self.data[y * w + x]);
                data.push((128.0 + 64.0 * (p - mean) / spread).clamp(0.0, 255.0) as u8);
            }
        }
        Gray {
            width: w,
            height: h,
            data,
        }
    }

    /// The pixel at `(x, y)` (nearest), or `None` outside.
    pub fn at(&self, x: f32, y: f32) -> Option<u8> {
        if x < 0.0 || y < 0.0 {
            return None;
        }
        let (xi, yi) = (x as usize, y as usize);
        if xi >= self.width || yi >= self.height {
            return None;
        }
        self.data.get(yi * self.width + xi).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> Gray {
        let data = (0..width * height)
            .map(|i| f(i % width, i / width))
            .collect();
        Gray {
            width,
            height,
            data,
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
    fn crop_clamps_to_the_image() {
        let g = img(4, 4, |x, y| (y * 4 + x) as u8);
        let c = g.crop((2, 3, 10, 10));
        assert_eq!((c.width, c.height, c.data.clone()), (2, 1, vec![14, 15]));
        let empty = g.crop((9, 9, 1, 1));
        assert_eq!((empty.width, empty.height), (0, 0));
    }

    #[test]
    fn normalisation_stretches_dim_edges_and_keeps_flat_areas_flat() {
        // A dim edge: 10 | 22.
        let g = img(20, 4, |x, _| if x < 10 { 10 } else { 22 });
        let n = g.normalized(4, 2);
        assert!(n.data[4 * 20 / 4 + 9] < 80, "{:?}", &n.data[..20]);
        assert!(n.data[10] > 176, "{:?}", &n.data[..20]);
        let flat = img(8, 8, |_, _| 40).normalized(3, 2);
        assert!(flat.data.iter().all(|&p| p == 128));
    }
}
