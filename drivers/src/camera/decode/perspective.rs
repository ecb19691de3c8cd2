//! A second sampling of a QR symbol whose three finder patterns were found
//! but which rxing's sampler could not read: a phone held at a steep angle.
//!
//! rxing places the symbol's grid from the three finder centres and a
//! guessed fourth corner, which a version 1 symbol under strong perspective
//! defeats (it has no alignment pattern to correct the guess). Here the
//! corners of the finder patterns' outer rings are found too, and a
//! homography is fitted to all fifteen points: the rings foreshorten like
//! the rest of the symbol, so the fit carries the perspective to the corner
//! no finder marks.

use rxing::common::BitMatrix;
use rxing::common::cpp_essentials::ConcentricPattern;
use rxing::common::cpp_essentials::concentric_finder::FindConcentricPatternCorners;
use rxing::qrcode::cpp_port::detector::{EstimateModuleSize, FinderPatternSet};
use rxing::{BarcodeFormat, Point, RXingResult};

/// The three likeliest sets of three among the largest finder patterns,
/// judged by plain geometry: about a right angle at the corner finder,
/// sides of similar length, finders of similar size, a plausible symbol
/// size. rxing's own grouping weights distances by the finders' sizes and
/// rejects a symbol whose far finder perspective has shrunk to two thirds
/// of the others.
pub(crate) fn candidate_sets(finders: &[ConcentricPattern]) -> Vec<FinderPatternSet> {
    let mut largest = finders.to_vec();
    largest.sort_by_key(|f| std::cmp::Reverse(f.size));
    largest.truncate(8);
    let n = largest.len();
    let mut scored: Vec<(f32, FinderPatternSet)> = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                let (f, g, h) = (largest[i], largest[j], largest[k]);
                // Sorted by size: the first is the largest, the last the
                // smallest.
                if f.size > 3 * h.size.max(1) {
                    continue;
                }
                let set = label([f, g, h]);
                let a = Point::distance(set.tl.p, set.tr.p);
                let b = Point::distance(set.tl.p, set.bl.p);
                let c = Point::distance(set.tr.p, set.bl.p);
                if a.min(b) <= 0.0 || a.max(b) > 3.0 * a.min(b) {
                    continue;
                }
                let cos = (a * a + b * b - c * c) / (2.0 * a * b);
                if cos.abs() > 0.7 {
                    continue;
                }
                let module = (f.size + g.size + h.size) as f32 / 21.0;
                let modules = (a + b) / 2.0 / module.max(0.5) + 7.0;
                if !(19.0..=266.0).contains(&modules) {
                    continue;
                }
                scored.push((cos.abs() + (a - b).abs() / (a + b), set));
            }
        }
    }
    scored.sort_by(|x, y| x.0.total_cmp(&y.0));
    scored.into_iter().take(3).map(|(_, set)| set).collect()
}

/// Reads the symbol marked by `set` (corner finder first, as
/// [`candidate_sets`] labels them) through a homography fitted to its
/// finder patterns, trying the symbol sizes the finders' spacing allows.
pub(crate) fn read(matrix: &BitMatrix, set: &FinderPatternSet) -> Option<RXingResult> {
    // Each finder's outer ring, at its modules' centres (rxing blends the
    // ring's inner and outer edges).
    let rings = [set.tl, set.tr, set.bl]
        .map(|f| FindConcentricPatternCorners(matrix, f.p, f.size, 2).map(|q| q.0));
    for dim in candidate_sizes(matrix, set) {
        let points = correspondences(set, &rings, dim);
        if points.len() < 6 {
            continue;
        }
        let Some(h) = Homography::fit(&points) else {
            continue;
        };
        // (Its timing patterns first: a wrong size shows there, for a
        // tenth of the samples.)
        if !super::timing_holds(dim, |mx, my| module(matrix, &h, mx, my)) {
            continue;
        }
        let Some(bits) = sample(matrix, &h, dim) else {
            continue;
        };
        let Ok(decoded) = super::qr_grid::decode(&bits) else {
            continue;
        };
        if decoded.isValid() {
            let d = dim as f64;
            let corners = [(0.0, 0.0), (d, 0.0), (d, d), (0.0, d)].map(|(x, y)| {
                let (px, py) = h.map(x, y);
                Point::new(px as f32, py as f32)
            });
            return Some(RXingResult::with_decoder_result(
                decoded,
                &corners,
                BarcodeFormat::QR_CODE,
            ));
        }
    }
    None
}

/// Three finders as a set, the corner one (top left) taken as the one
/// opposite the longest side, by plain distance: rxing weights distances by
/// the finders' sizes, and perspective shrinks the far finders, so it can
/// take the wrong one.
fn label([p, q, r]: [ConcentricPattern; 3]) -> FinderPatternSet {
    let d = |a: ConcentricPattern, b: ConcentricPattern| Point::distance(a.p, b.p);
    let (tl, mut a, mut c) = if d(q, r) >= d(p, q) && d(q, r) >= d(p, r) {
        (p, q, r)
    } else if d(p, r) >= d(p, q) {
        (q, p, r)
    } else {
        (r, p, q)
    };
    // Symbol orientation as rxing has it: bl, tl, tr counter-clockwise in
    // image coordinates.
    let cross = (c.p.x - tl.p.x) * (a.p.y - tl.p.y) - (c.p.y - tl.p.y) * (a.p.x - tl.p.x);
    if cross < 0.0 {
        std::mem::swap(&mut a, &mut c);
    }
    FinderPatternSet { bl: a, tl, tr: c }
}

/// Symbol sizes (17 + 4 × version) near what the finders' spacing over the
/// module size gives along the top and the left edge.
fn candidate_sizes(matrix: &BitMatrix, set: &FinderPatternSet) -> Vec<u32> {
    let mut sizes = Vec::new();
    for (a, b) in [(set.tl, set.tr), (set.tl, set.bl)] {
        let module = EstimateModuleSize(matrix, a, b);
        if !(module.is_finite() && module > 0.5) {
            continue;
        }
        let span = f64::from(Point::distance(a.p, b.p)) / module + 7.0;
        let version = ((span - 17.0) / 4.0).round().clamp(1.0, 40.0) as u32;
        for v in [version, version + 1, version.saturating_sub(1)] {
            let dim = 17 + 4 * v;
            if (1..=40).contains(&v) && !sizes.contains(&dim) {
                sizes.push(dim);
            }
        }
    }
    sizes
}

/// (module coordinates, pixel) pairs: each finder's centre and the four
/// corners of its outer ring (at module centres, 3 modules from the
/// finder's centre), each matched to the nearest of the corners rxing
/// found around that finder.
fn correspondences(
    set: &FinderPatternSet,
    rings: &[Option<[Point; 4]>; 3],
    dim: u32,
) -> Vec<[f64; 4]> {
    let far = f64::from(dim) - 3.5;
    let finders: [(ConcentricPattern, (f64, f64)); 3] = [
        (set.tl, (3.5, 3.5)),
        (set.tr, (far, 3.5)),
        (set.bl, (3.5, far)),
    ];
    // Module → pixel, affine from the three centres: good enough near each
    // finder to tell its corners apart.
    let across = f64::from(dim) - 7.0;
    let (o, tr, bl) = (set.tl.p, set.tr.p, set.bl.p);
    let affine = |mx: f64, my: f64| {
        let (u, v) = ((mx - 3.5) / across, (my - 3.5) / across);
        (
            f64::from(o.x) + u * f64::from(tr.x - o.x) + v * f64::from(bl.x - o.x),
            f64::from(o.y) + u * f64::from(tr.y - o.y) + v * f64::from(bl.y - o.y),
        )
    };
    let mut points = Vec::with_capacity(15);
    for ((finder, (cx, cy)), ring) in finders.into_iter().zip(rings) {
        points.push([cx, cy, f64::from(finder.p.x), f64::from(finder.p.y)]);
        let Some(quad) = ring else {
            continue;
        };
        let mut used = [false; 4];
        for (dx, dy) in [(-3.0, -3.0), (3.0, -3.0), (3.0, 3.0), (-3.0, 3.0)] {
            let (mx, my) = (cx + dx, cy + dy);
            let (ex, ey) = affine(mx, my);
            let nearest = (0..4).filter(|&i| !used[i]).min_by(|&i, &j| {
                let d = |k: usize| {
                    let c = quad[k];
                    (f64::from(c.x) - ex).powi(2) + (f64::from(c.y) - ey).powi(2)
                };
                d(i).total_cmp(&d(j))
            });
            if let Some(i) = nearest {
                used[i] = true;
                let c = quad[i];
                points.push([mx, my, f64::from(c.x), f64::from(c.y)]);
            }
        }
    }
    points
}

/// The symbol's modules, each read at its centre; `None` when the grid
/// leaves the image.
fn sample(matrix: &BitMatrix, h: &Homography, dim: u32) -> Option<BitMatrix> {
    let mut bits = BitMatrix::new(dim, dim).ok()?;
    for my in 0..dim {
        for mx in 0..dim {
            if module(matrix, h, mx, my)? {
                bits.set(mx, my);
            }
        }
    }
    Some(bits)
}

/// Whether module (`mx`, `my`) is dark, read at its centre; `None` off the
/// image.
fn module(matrix: &BitMatrix, h: &Homography, mx: u32, my: u32) -> Option<bool> {
    let (px, py) = h.map(f64::from(mx) + 0.5, f64::from(my) + 0.5);
    let inside =
        px >= 0.0 && py >= 0.0 && px < f64::from(matrix.width()) && py < f64::from(matrix.height());
    inside.then(|| matrix.get(px as u32, py as u32))
}

/// A plane-to-plane projective map, module coordinates to pixels.
#[derive(Debug, Clone, Copy)]
struct Homography([f64; 8]);

impl Homography {
    /// Least-squares fit (normal equations of the direct linear
    /// transform) to `[mx, my, px, py]` pairs; `None` when they do not fix
    /// a map (fewer than four points in general position).
    fn fit(points: &[[f64; 4]]) -> Option<Homography> {
        let mut a = [[0.0f64; 9]; 8];
        for &[x, y, u, v] in points {
            let rows = [
                [x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u, u],
                [0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v, v],
            ];
            for r in rows {
                for i in 0..8 {
                    for j in 0..9 {
                        a[i][j] += r[i] * r[j];
                    }
                }
            }
        }
        // Gaussian elimination with partial pivoting on [AᵀA | Aᵀb].
        for col in 0..8 {
            let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
            if a[pivot][col].abs() < 1e-9 {
                return None;
            }
            a.swap(col, pivot);
            for row in 0..8 {
                if row != col {
                    let f = a[row][col] / a[col][col];
                    let pivot_row = a[col];
                    for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                        *x -= f * p;
                    }
                }
            }
        }
        let mut h = [0.0; 8];
        for (i, v) in h.iter_mut().enumerate() {
            *v = a[i][8] / a[i][i];
        }
        h.iter().all(|v| v.is_finite()).then_some(Homography(h))
    }

    fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + 1.0;
        (
            (h[0] * x + h[1] * y + h[2]) / w,
            (h[3] * x + h[4] * y + h[5]) / w,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_fit_recovers_a_perspective_map() {
        let truth = Homography([12.0, 3.0, 100.0, -2.0, 9.0, 50.0, 0.004, -0.002]);
        let points: Vec<[f64; 4]> = [
            (0.0, 0.0),
            (21.0, 0.0),
            (0.0, 21.0),
            (3.5, 3.5),
            (17.5, 3.5),
            (3.5, 17.5),
            (7.0, 2.0),
        ]
        .iter()
        .map(|&(x, y)| {
            let (u, v) = truth.map(x, y);
            [x, y, u, v]
        })
        .collect();
        let fitted = Homography::fit(&points).unwrap();
        let (u, v) = fitted.map(21.0, 21.0);
        let (tu, tv) = truth.map(21.0, 21.0);
        assert!(
            (u - tu).abs() < 1e-6 && (v - tv).abs() < 1e-6,
            "{u},{v} vs {tu},{tv}"
        );
        // Collinear points fix no map.
        let line: Vec<[f64; 4]> = (0..6)
            .map(|i| [f64::from(i), 0.0, f64::from(i), 0.0])
            .collect();
        assert!(Homography::fit(&line).is_none());
    }

    /// A version 1 payment code on a phone held at a steep angle (frame 5
    /// of the benchmark's perspective set): rxing finds the three finders
    /// but takes the wrong one for the corner and cannot sample the
    /// symbol; grouped by plain geometry and fitted to the finders'
    /// corners, it reads.
    #[test]
    fn reads_a_steep_symbol_rxing_cannot_sample() {
        use kassa_camera_frames::{Category, SEED, generate};
        use rxing::common::DetectorRXingResult;
        use rxing::qrcode::cpp_port::detector::{
            FindFinderPatterns, GenerateFinderPatternSets, SampleQR,
        };

        let s = generate(Category::Perspective, 5, SEED, 1280, 720);
        let expected = &s.expected.as_ref().unwrap().0;
        let half = super::super::gray::Gray {
            width: 1280,
            height: 720,
            data: s.luma.clone().into(),
        }
        .half();
        let matrix = super::super::binarize::black_matrix(&half.data, 640, 360).unwrap();
        let mut finders = FindFinderPatterns(&matrix, true, 0);
        let sets = GenerateFinderPatternSets(&mut finders);
        assert!(!sets.is_empty());
        let rxing_reads = sets.iter().any(|set| {
            SampleQR(&matrix, set)
                .ok()
                .and_then(|d| crate::camera::decode::qr_grid::decode(d.getBits()).ok())
                .is_some_and(|r| r.isValid())
        });
        assert!(!rxing_reads, "rxing reads it on its own now");
        let read = candidate_sets(&finders)
            .iter()
            .find_map(|set| super::read(&matrix, set));
        assert_eq!(
            read.map(|r| r.getText().to_owned()).as_ref(),
            Some(expected)
        );
    }
}
