//! Drawing a planar phone (screen, bezel, code) through a homography into a
//! grey image, then the camera's faults on top.

use crate::rng::Rng;

/// A projective map of the plane (row-major 3×3).
#[derive(Debug, Clone, Copy)]
pub struct Homography([f64; 9]);

impl Homography {
    /// The map that takes `from[i]` to `to[i]` (four points, no three on a
    /// line).
    pub fn from_points(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<Homography> {
        // Eight equations in h0..h7 (h8 = 1), solved by Gaussian elimination.
        let mut a = [[0f64; 9]; 8];
        for i in 0..4 {
            let (x, y) = from[i];
            let (u, v) = to[i];
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        for col in 0..8 {
            let pivot = (col..8).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
            if a[pivot][col].abs() < 1e-12 {
                return None;
            }
            a.swap(col, pivot);
            for row in 0..8 {
                if row != col {
                    let f = a[row][col] / a[col][col];
                    let pivot_row = a[col];
                    for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                        *x -= f * p;
                    }
                }
            }
        }
        let mut h = [0f64; 9];
        for i in 0..8 {
            h[i] = a[i][8] / a[i][i];
        }
        h[8] = 1.0;
        Some(Homography(h))
    }

    /// Where `(x, y)` goes.
    pub fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        (
            (h[0] * x + h[1] * y + h[2]) / w,
            (h[3] * x + h[4] * y + h[5]) / w,
        )
    }
}

/// What is drawn on the phone's plane. Units are modules of the code; the
/// code's own area is `[0, code_w) × [0, code_h)`.
pub struct Plane<'a> {
    /// Module darkness, row-major, `code_w × code_h` (for Code 128 one row,
    /// repeated over `code_h`).
    pub modules: &'a [bool],
    /// Modules per row.
    pub code_w: usize,
    /// Rows of the code (for a linear code, its bar height in modules).
    pub code_h: usize,
    /// `true` when `modules` is one row drawn over the whole height.
    pub linear: bool,
    /// Screen rectangle (left, top, right, bottom), containing the code and
    /// its quiet zone.
    pub screen: (f64, f64, f64, f64),
    /// Bezel width around the screen; 0 for a code on paper or a bare screen.
    pub bezel: f64,
    /// Screen white level.
    pub white: f32,
    /// Dark module level.
    pub black: f32,
    /// Backlight: white falls off by this fraction towards the screen's lower
    /// end.
    pub backlight_falloff: f32,
    /// Dark blocks drawn on the screen (text-like UI), in plane units.
    pub ui_blocks: Vec<(f64, f64, f64, f64, f32)>,
}

impl Plane<'_> {
    fn sample(&self, u: f64, v: f64) -> Option<f32> {
        let (l, t, r, b) = self.screen;
        if u < l - self.bezel || u >= r + self.bezel || v < t - self.bezel || v >= b + self.bezel {
            return None;
        }
        if u < l || u >= r || v < t || v >= b {
            return Some(22.0);
        }
        let fall = ((v - t) / (b - t)) as f32;
        let white = self.white * (1.0 - self.backlight_falloff * fall);
        if u >= 0.0 && v >= 0.0 && (u as usize) < self.code_w && (v as usize) < self.code_h {
            let row = if self.linear { 0 } else { v as usize };
            return Some(if self.modules[row * self.code_w + u as usize] {
                self.black
            } else {
                white
            });
        }
        for &(bl, bt, br, bb, level) in &self.ui_blocks {
            if u >= bl && u < br && v >= bt && v < bb {
                return Some(level * (1.0 - self.backlight_falloff * fall));
            }
        }
        Some(white)
    }
}

/// A cluttered counter-top background.
pub fn background(rng: &mut Rng, width: usize, height: usize) -> Vec<f32> {
    let base = rng.range(60.0, 170.0);
    let gx = rng.range(-60.0, 60.0);
    let gy = rng.range(-60.0, 60.0);
    let mut img = vec![0f32; width * height];
    for y in 0..height {
        for x in 0..width {
            img[y * width + x] =
                base + gx * x as f32 / width as f32 + gy * y as f32 / height as f32;
        }
    }
    for _ in 0..rng.int(2, 6) {
        let w = rng.range(0.05, 0.4) * width as f32;
        let h = rng.range(0.05, 0.4) * height as f32;
        let x0 = rng.range(0.0, width as f32 - w) as usize;
        let y0 = rng.range(0.0, height as f32 - h) as usize;
        let level = rng.range(20.0, 235.0);
        for y in y0..(y0 + h as usize).min(height) {
            for x in x0..(x0 + w as usize).min(width) {
                img[y * width + x] = level;
            }
        }
    }
    img
}

/// Draws `plane` through `to_plane` (image → plane) over `img`, with 2×2
/// supersampling inside `bounds` (x0, y0, x1, y1).
pub fn draw_plane(
    img: &mut [f32],
    width: usize,
    height: usize,
    plane: &Plane<'_>,
    to_plane: &Homography,
    bounds: (usize, usize, usize, usize),
) {
    let (x0, y0, x1, y1) = bounds;
    for y in y0..y1.min(height) {
        for x in x0..x1.min(width) {
            let mut sum = 0f32;
            let mut hits = 0;
            for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (u, v) = to_plane.map(x as f64 + dx, y as f64 + dy);
                if let Some(value) = plane.sample(u, v) {
                    sum += value;
                    hits += 1;
                }
            }
            if hits > 0 {
                let px = &mut img[y * width + x];
                *px = (sum + *px * (4 - hits) as f32) / 4.0;
            }
        }
    }
}

/// Separable Gaussian blur of standard deviation `sigma` pixels.
pub fn blur(img: &mut [f32], width: usize, height: usize, sigma: f32) {
    if sigma < 0.3 {
        return;
    }
    let radius = (sigma * 3.0).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let norm: f32 = kernel.iter().sum();
    let mut tmp = vec![0f32; img.len()];
    for y in 0..height {
        for x in 0..width {
            let mut acc = 0f32;
            for (k, w) in kernel.iter().enumerate() {
                let xx = (x as isize + k as isize - radius).clamp(0, width as isize - 1) as usize;
                acc += w * img[y * width + xx];
            }
            tmp[y * width + x] = acc / norm;
        }
    }
    for y in 0..height {
        for x in 0..width {
            let mut acc = 0f32;
            for (k, w) in kernel.iter().enumerate() {
                let yy = (y as isize + k as isize - radius).clamp(0, height as isize - 1) as usize;
                acc += w * tmp[yy * width + x];
            }
            img[y * width + x] = acc / norm;
        }
    }
}

/// Quantises to 8 bits after gain, offset and Gaussian sensor noise.
pub fn to_luma(img: &[f32], gain: f32, offset: f32, noise: f32, rng: &mut Rng) -> Vec<u8> {
    img.iter()
        .map(|&v| {
            let n = if noise > 0.0 {
                rng.gauss() * noise
            } else {
                0.0
            };
            (v * gain + offset + n).round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_maps_the_corners_it_was_made_from() {
        let from = [(0.0, 0.0), (154.0, 0.0), (154.0, 40.0), (0.0, 40.0)];
        let to = [
            (300.0, 200.0),
            (700.0, 430.0),
            (650.0, 520.0),
            (250.0, 290.0),
        ];
        let h = Homography::from_points(from, to).unwrap();
        for (f, t) in from.iter().zip(to) {
            let (x, y) = h.map(f.0, f.1);
            assert!(
                (x - t.0).abs() < 1e-6 && (y - t.1).abs() < 1e-6,
                "{f:?} -> {x},{y}"
            );
        }
    }
}
