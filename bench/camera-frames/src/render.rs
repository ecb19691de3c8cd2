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
    /// How the code's modules are drawn.
    pub style: Style,
}

/// How a QR code is drawn: as the standard says, or styled as payment apps
/// and phones show them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Style {
    /// Dark modules as round dots, finder patterns as rounded squares
    /// (WeChat-style). `quiet` is the quiet zone in modules, `size` the
    /// symbol's side in modules.
    pub dots: Option<Dots>,
    /// A logo over the centre: (left, top, right, bottom) in plane units.
    pub logo: Option<(f64, f64, f64, f64)>,
    /// Light on dark (a phone in dark mode): the screen is dark, the dark
    /// modules light and the UI light.
    pub inverted: bool,
}

/// Round modules and finder patterns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dots {
    /// Quiet zone, modules.
    pub quiet: usize,
    /// The symbol's side, modules.
    pub size: usize,
}

/// Whether `(x, y)` is inside the square `[0, side)²` with corners rounded
/// to `radius`.
fn in_rounded_square(x: f64, y: f64, side: f64, radius: f64) -> bool {
    if !(0.0..side).contains(&x) || !(0.0..side).contains(&y) {
        return false;
    }
    let cx = x.clamp(radius, side - radius);
    let cy = y.clamp(radius, side - radius);
    (x - cx).powi(2) + (y - cy).powi(2) <= radius * radius
}

impl Dots {
    /// Dark at plane point `(u, v)` of a code whose module at `(u, v)` is
    /// `dark`.
    fn dark(&self, u: f64, v: f64, dark: bool) -> bool {
        let (q, n) = (self.quiet as f64, self.size as f64);
        let (x, y) = (u - q, v - q);
        // Finder patterns: 7×7 at three corners, as rounded rings and a
        // rounded centre.
        for (fx, fy) in [(0.0, 0.0), (n - 7.0, 0.0), (0.0, n - 7.0)] {
            let (lx, ly) = (x - fx, y - fy);
            if (0.0..7.0).contains(&lx) && (0.0..7.0).contains(&ly) {
                let ring = in_rounded_square(lx, ly, 7.0, 2.2)
                    && !in_rounded_square(lx - 1.0, ly - 1.0, 5.0, 1.4);
                let centre = in_rounded_square(lx - 2.0, ly - 2.0, 3.0, 1.0);
                return ring || centre;
            }
        }
        if !dark {
            return false;
        }
        let (fx, fy) = (u.fract() - 0.5, v.fract() - 0.5);
        fx * fx + fy * fy <= 0.44 * 0.44
    }
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
        // Dark mode: the screen dark, what is dark on a light screen light.
        let (paper, ink) = if self.style.inverted {
            (self.black, white)
        } else {
            (white, self.black)
        };
        if let Some((ll, lt, lr, lb)) = self.style.logo {
            if u >= ll && u < lr && v >= lt && v < lb {
                // A white-framed dark tile with a light mark in it.
                let edge = (u - ll).min(lr - u).min(v - lt).min(lb - v);
                let mid = ((u - (ll + lr) / 2.0).abs()).max((v - (lt + lb) / 2.0).abs());
                let inner = (lr - ll) / 2.0 - 0.6;
                return Some(if edge < 0.6 || mid < inner * 0.35 {
                    white
                } else {
                    0.35 * white
                });
            }
        }
        if u >= 0.0 && v >= 0.0 && (u as usize) < self.code_w && (v as usize) < self.code_h {
            let row = if self.linear { 0 } else { v as usize };
            let mut dark = self.modules[row * self.code_w + u as usize];
            if let Some(dots) = self.style.dots {
                dark = dots.dark(u, v, dark);
            }
            return Some(if dark { ink } else { paper });
        }
        for &(bl, bt, br, bb, level) in &self.ui_blocks {
            if u >= bl && u < br && v >= bt && v < bb {
                let level = if self.style.inverted {
                    255.0 - level
                } else {
                    level
                };
                return Some(level * (1.0 - self.backlight_falloff * fall));
            }
        }
        Some(paper)
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
