//! Where a barcode may be, and which way its bars run, from the image's
//! gradients: a barcode is a patch where the brightness changes often and
//! always along the same direction. The scan lines then run along that
//! direction through those patches only, at any angle, instead of at a few
//! fixed angles across the whole frame.

use super::gray::Gray;

/// Pixels per block side.
const BLOCK: usize = 16;

/// Directions (over 180°) the blocks are grouped by.
const BINS: usize = 12;

/// Least mean squared gradient of a block that may hold bars (central
/// differences, so about (contrast / pixels a module)²): a dim barcode of
/// 30 grey levels at 2 px a module is ~200; sensor noise on a flat area
/// is ~50.
const MIN_ENERGY: u32 = 160;

/// Least coherence ((λ₁ − λ₂) / (λ₁ + λ₂) of the structure tensor) of a
/// block of parallel bars; flat noise is near 0, text and QR modules
/// (edges both ways) around 0.2–0.5.
const MIN_COHERENCE: f32 = 0.6;

/// Blocks that must agree on a direction before it is scanned.
const MIN_BLOCKS: usize = 3;

/// A direction to scan in, and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sweep {
    /// Direction of the scan lines (across the bars), degrees in
    /// `[-90, 90)`.
    pub angle: f32,
    /// Where to scan: bands across the blocks found.
    pub bands: Vec<Band>,
    /// The share of the image's area the blocks in this direction cover
    /// (a barcode held close covers a tenth or more).
    pub cover: f32,
}

/// Lines to scan in a [`Sweep`]'s direction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Band {
    /// Offsets of the lines from the image centre, along the normal to the
    /// direction: `(from, to)` in pixels.
    pub across: (f32, f32),
    /// The part of each line to sample, as distances along the direction
    /// from the image centre: the blocks' extent, widened for quiet zones.
    pub along: (f32, f32),
}

/// One block that looks like part of a barcode.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Block centre.
    x: f32,
    y: f32,
    /// Gradient direction, doubled (so opposite directions agree), radians.
    doubled: f32,
    /// Weight: the block's energy.
    weight: f32,
}

/// The directions worth scanning in `img`, most barcode-like first (at
/// most `limit`).
pub(crate) fn sweeps(img: &Gray, limit: usize) -> Vec<Sweep> {
    let hits = barcode_blocks(img);
    if hits.len() < MIN_BLOCKS {
        return Vec::new();
    }
    // Weighted histogram of directions, each block also counting in its
    // neighbouring bins (a direction on a bin edge).
    let bin_of = |doubled: f32| {
        let t = (doubled + std::f32::consts::PI) / std::f32::consts::TAU;
        ((t * BINS as f32) as usize).min(BINS - 1)
    };
    let mut count = [0usize; BINS];
    let mut weight = [0f32; BINS];
    for h in &hits {
        let b = bin_of(h.doubled);
        count[b] += 1;
        weight[b] += h.weight;
    }
    let around = |b: usize| [(b + BINS - 1) % BINS, b, (b + 1) % BINS];
    let mut order: Vec<usize> = (0..BINS)
        .filter(|&b| around(b).iter().map(|&n| count[n]).sum::<usize>() >= MIN_BLOCKS)
        // A local peak (ties to the lower bin).
        .filter(|&b| {
            let w = |n: usize| around(n).iter().map(|&m| weight[m]).sum::<f32>();
            let here = w(b);
            here > w((b + BINS - 1) % BINS) && here >= w((b + 1) % BINS)
        })
        .collect();
    order.sort_by(|&a, &b| weight[b].total_cmp(&weight[a]));
    let (cx, cy) = (img.width as f32 / 2.0, img.height as f32 / 2.0);
    let mut out = Vec::new();
    for b in order.into_iter().take(limit) {
        let members: Vec<&Hit> = hits
            .iter()
            .filter(|h| around(b).contains(&bin_of(h.doubled)))
            .collect();
        // The members' mean direction (doubled angles averaged as vectors).
        let (s, c) = members.iter().fold((0.0f32, 0.0f32), |(s, c), h| {
            let (hs, hc) = h.doubled.sin_cos();
            (s + h.weight * hs, c + h.weight * hc)
        });
        let theta = 0.5 * s.atan2(c);
        let (sin, cos) = theta.sin_cos();
        let normal = (-sin, cos);
        let dir = (cos, sin);
        // (across, along) of each member, by offset across.
        let mut placed: Vec<(f32, f32)> = members
            .iter()
            .map(|h| {
                let (x, y) = (h.x - cx, h.y - cy);
                (x * normal.0 + y * normal.1, x * dir.0 + y * dir.1)
            })
            .collect();
        placed.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Bands: runs of offsets with no gap over two blocks, each widened
        // by a block on either side.
        let mut bands: Vec<Band> = Vec::new();
        let reach = BLOCK as f32;
        for (across, along) in placed {
            match bands.last_mut() {
                Some(band) if across - band.across.1 <= 2.0 * reach + reach => {
                    band.across.1 = across + reach;
                    band.along = (band.along.0.min(along), band.along.1.max(along));
                }
                _ => bands.push(Band {
                    across: (across - reach, across + reach),
                    along: (along, along),
                }),
            }
        }
        // Along the lines: a barcode's end blocks, half quiet zone, may not
        // count as bars; and the decoder wants the quiet zone itself.
        for band in &mut bands {
            let margin = 3.0 * reach + 0.25 * (band.along.1 - band.along.0);
            band.along = (band.along.0 - margin, band.along.1 + margin);
        }
        let mut angle = theta.to_degrees();
        if angle >= 90.0 {
            angle -= 180.0;
        }
        let cover = (members.len() * BLOCK * BLOCK) as f32 / (img.width * img.height) as f32;
        out.push(Sweep {
            angle,
            bands,
            cover,
        });
    }
    out
}

/// The blocks of `img` whose gradients are strong and run one way.
fn barcode_blocks(img: &Gray) -> Vec<Hit> {
    let (w, h) = (img.width, img.height);
    let mut hits = Vec::new();
    if w < BLOCK + 2 || h < BLOCK + 2 || img.data.len() < w * h {
        return hits;
    }
    let data = &img.data[..];
    let (across, down) = ((w - 2) / BLOCK, (h - 2) / BLOCK);
    // Structure tensor sums (gxx, gyy, gxy) of each block in a block row.
    // With 64 samples of at most 255² each, i32 holds them.
    let mut sums = vec![(0i32, 0i32, 0i32); across];
    // Every other pixel of every other row of a block: 64 samples, block
    // row by block row, a pixel row at a time (fixed-size slices: no bounds
    // check per sample).
    for by in 0..down {
        let y0 = 1 + by * BLOCK;
        sums.iter_mut().for_each(|s| *s = (0, 0, 0));
        for y in (y0..y0 + BLOCK).step_by(2) {
            let above = &data[(y - 1) * w..y * w];
            let row = &data[y * w..(y + 1) * w];
            let below = &data[(y + 1) * w..(y + 2) * w];
            for (bx, sum) in sums.iter_mut().enumerate() {
                let x0 = 1 + bx * BLOCK;
                let (Ok(r), Ok(up), Ok(dn)) = (
                    <&[u8; BLOCK + 2]>::try_from(&row[x0 - 1..x0 + BLOCK + 1]),
                    <&[u8; BLOCK]>::try_from(&above[x0..x0 + BLOCK]),
                    <&[u8; BLOCK]>::try_from(&below[x0..x0 + BLOCK]),
                ) else {
                    continue;
                };
                let (mut gxx, mut gyy, mut gxy) = (0i32, 0i32, 0i32);
                for k in (0..BLOCK).step_by(2) {
                    let gx = i32::from(r[k + 2]) - i32::from(r[k]);
                    let gy = i32::from(dn[k]) - i32::from(up[k]);
                    gxx += gx * gx;
                    gyy += gy * gy;
                    gxy += gx * gy;
                }
                sum.0 += gxx;
                sum.1 += gyy;
                sum.2 += gxy;
            }
        }
        for (bx, &(gxx, gyy, gxy)) in sums.iter().enumerate() {
            let (x0, y0) = (1 + bx * BLOCK, y0);
            let samples = (BLOCK / 2 * BLOCK / 2) as i32;
            let energy = gxx + gyy;
            if energy < MIN_ENERGY as i32 * samples {
                continue;
            }
            let (dxx, dxy) = ((gxx - gyy) as f32, (2 * gxy) as f32);
            let coherence = (dxx * dxx + dxy * dxy).sqrt() / energy as f32;
            if coherence < MIN_COHERENCE {
                continue;
            }
            hits.push(Hit {
                x: (x0 + BLOCK / 2) as f32,
                y: (y0 + BLOCK / 2) as f32,
                doubled: dxy.atan2(dxx),
                weight: energy as f32 / samples as f32,
            });
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bars 3 px wide and 3 px apart across a band, at `degrees` (the
    /// direction across the bars).
    fn bars(width: usize, height: usize, degrees: f32) -> Gray<'static> {
        let (s, c) = degrees.to_radians().sin_cos();
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        let data = (0..width * height)
            .map(|i| {
                let (x, y) = ((i % width) as f32 - cx, (i / width) as f32 - cy);
                let along = x * c + y * s;
                let across = -x * s + y * c;
                if along.abs() < 120.0
                    && across.abs() < 40.0
                    && (along / 3.0).floor() as i32 % 2 == 0
                {
                    30
                } else {
                    220
                }
            })
            .collect::<Vec<u8>>();
        Gray {
            width,
            height,
            data: data.into(),
        }
    }

    #[test]
    fn bars_at_any_angle_give_their_direction_and_band() {
        for degrees in [0.0f32, 20.0, 45.0, 75.0, -30.0, -89.0] {
            let found = sweeps(&bars(400, 400, degrees), 2);
            let best = found.first().expect("a sweep");
            let off = (best.angle - degrees).rem_euclid(180.0);
            assert!(off.min(180.0 - off) < 8.0, "{degrees}: {found:?}");
            // The band crosses the centre, where the bars are.
            assert!(
                best.bands.iter().any(|b| b.across.0 < 0.0
                    && b.across.1 > 0.0
                    && b.along.0 < -120.0
                    && b.along.1 > 120.0),
                "{degrees}: {found:?}"
            );
        }
    }

    #[test]
    fn a_sweep_says_how_much_of_the_image_its_bars_cover() {
        // Bars over 240×80 of 400×400 pixels: 12 %, give or take the
        // blocks on the band's edges, half bars and half background.
        for degrees in [0.0f32, 90.0, 30.0] {
            let found = sweeps(&bars(400, 400, degrees), 1);
            let cover = found.first().expect("a sweep").cover;
            assert!((0.07..=0.13).contains(&cover), "{degrees}: {cover}");
        }
        // The same bars in a frame four times the area: 3 %, give or take.
        let cover = sweeps(&bars(800, 800, 0.0), 1)
            .first()
            .expect("a sweep")
            .cover;
        assert!((0.02..=0.045).contains(&cover), "{cover}");
    }

    #[test]
    fn flat_and_checkered_images_give_no_sweep() {
        let flat = Gray {
            width: 200,
            height: 200,
            data: vec![128; 200 * 200].into(),
        };
        assert!(sweeps(&flat, 2).is_empty());
        let checks: Vec<u8> = (0..200 * 200)
            .map(|i| {
                if ((i % 200) / 4 + (i / 200) / 4) % 2 == 0 {
                    20
                } else {
                    230
                }
            })
            .collect();
        let checks = Gray {
            width: 200,
            height: 200,
            data: checks.into(),
        };
        assert!(sweeps(&checks, 2).is_empty());
    }
}
