//! A cheap QR finder-pattern locator for full-resolution frames: scans
//! every other row for the 1:1:3:1:1 dark/light run pattern of a finder
//! and clusters the hits. The pipeline decodes small crops around the
//! clusters instead of the whole frame, which is how small modules (too
//! fine for the 2× downscale) are read at a fraction of a full-frame call.

use super::gray::Gray;

/// A group of finder-pattern hits: centre, module size, number of rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cluster {
    pub x: f32,
    pub y: f32,
    pub module: f32,
    pub hits: u32,
}

/// Finder-like clusters with modules between `min_module` and
/// `max_module` pixels, most hits first.
pub(crate) fn locate(img: &Gray, min_module: f32, max_module: f32) -> Vec<Cluster> {
    let mut hits: Vec<(f32, f32, f32)> = Vec::new();
    let w = img.width;
    let mut prefix = vec![0u32; w + 1];
    let mut runs: Vec<(usize, bool)> = Vec::with_capacity(w);
    let window = 24usize;
    for y in (0..img.height).step_by(2) {
        let row = &img.data[y * w..(y + 1) * w];
        for (i, &p) in row.iter().enumerate() {
            prefix[i + 1] = prefix[i] + u32::from(p);
        }
        // Run lengths of the row thresholded on its running mean.
        runs.clear();
        let mut dark = false;
        let mut len = 0usize;
        for (i, &p) in row.iter().enumerate() {
            let a = i.saturating_sub(window);
            let b = (i + window + 1).min(w);
            // p - mean, scaled by the window's size (no division).
            let count = (b - a) as i32;
            let d = i32::from(p) * count - (prefix[b] - prefix[a]) as i32;
            let now_dark = if d <= -5 * count {
                true
            } else if d >= 5 * count {
                false
            } else {
                dark
            };
            if now_dark != dark && len > 0 {
                runs.push((len, dark));
                len = 0;
            }
            dark = now_dark;
            len += 1;
        }
        runs.push((len, dark));
        let mut x = 0usize;
        for i in 0..runs.len() {
            if i + 5 <= runs.len() && runs[i].1 {
                let r = [
                    runs[i].0,
                    runs[i + 1].0,
                    runs[i + 2].0,
                    runs[i + 3].0,
                    runs[i + 4].0,
                ];
                let total: usize = r.iter().sum();
                let unit = total as f32 / 7.0;
                let ok = unit >= min_module
                    && unit <= max_module
                    && [0, 1, 3, 4]
                        .iter()
                        .all(|&k| (r[k] as f32 - unit).abs() <= unit * 0.6 + 0.5)
                    && (r[2] as f32 - 3.0 * unit).abs() <= unit * 1.2 + 0.5;
                if ok {
                    let centre = x + r[0] + r[1] + r[2] / 2;
                    hits.push((centre as f32, y as f32, unit));
                }
            }
            x += runs[i].0;
        }
    }
    let mut clusters: Vec<Cluster> = Vec::new();
    for (x, y, unit) in hits {
        match clusters.iter_mut().find(|c| {
            (c.x - x).abs() <= 2.0 * c.module.max(unit)
                && (y - c.y).abs() <= 5.0 * c.module.max(unit)
        }) {
            Some(c) => {
                let n = c.hits as f32;
                c.x = (c.x * n + x) / (n + 1.0);
                c.y = (c.y * n + y) / (n + 1.0);
                c.module = (c.module * n + unit) / (n + 1.0);
                c.hits += 1;
            }
            None => clusters.push(Cluster {
                x,
                y,
                module: unit,
                hits: 1,
            }),
        }
    }
    clusters.retain(|c| c.hits >= 2);
    clusters.sort_by_key(|c| std::cmp::Reverse(c.hits));
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_drawn_finder_and_nothing_on_flat_grey() {
        // A 7-module finder with 3-pixel modules at (30, 30), on white.
        let (w, h) = (80, 80);
        let mut data = vec![220u8; w * h];
        for y in 0..21 {
            for x in 0..21 {
                let (mx, my) = (x / 3, y / 3);
                let ring = mx.min(my).min(6 - mx).min(6 - my);
                if ring != 1 {
                    data[(20 + y) * w + 20 + x] = 20;
                }
            }
        }
        let img = Gray {
            width: w,
            height: h,
            data,
        };
        let found = locate(&img, 1.0, 5.0);
        assert!(!found.is_empty());
        assert!(
            (found[0].x - 30.5).abs() < 2.0 && (found[0].y - 30.0).abs() < 4.0,
            "{found:?}"
        );
        assert!((found[0].module - 3.0).abs() < 0.6);
        let flat = Gray {
            width: w,
            height: h,
            data: vec![128; w * h],
        };
        assert!(locate(&flat, 1.0, 5.0).is_empty());
    }
}
