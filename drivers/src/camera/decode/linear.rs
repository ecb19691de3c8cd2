//! Linear (Code 128) reading along scan lines at several angles, each line
//! thresholded on its own running mean, each candidate line handed to
//! rxing's row decoder.

use rxing::DecodeHints;
use rxing::common::BitArray;
use rxing::oned::{Code128Reader, OneDReader};

use super::gray::Gray;

/// One read along one line: text, and the line's two ends in the image.
#[derive(Debug, Clone)]
pub(crate) struct LineRead {
    pub text: String,
    pub ends: [(f32, f32); 2],
}

/// Samples the line through `origin` along `dir` across the image; returns
/// the parameter of its first sample.
fn sample_line(img: &Gray, origin: (f32, f32), dir: (f32, f32), out: &mut Vec<u8>) -> f32 {
    out.clear();
    // (A NaN or infinite angle in the configuration.)
    if ![origin.0, origin.1, dir.0, dir.1]
        .iter()
        .all(|v| v.is_finite())
    {
        return 0.0;
    }
    // Clip the line to the image rectangle (Liang–Barsky).
    let (mut t0, mut t1) = (f32::MIN, f32::MAX);
    for (o, d, hi) in [
        (origin.0, dir.0, img.width as f32),
        (origin.1, dir.1, img.height as f32),
    ] {
        if d.abs() < 1e-6 {
            if o < 0.0 || o >= hi {
                return 0.0;
            }
        } else {
            let (a, b) = ((0.0 - o) / d, (hi - 1e-3 - o) / d);
            t0 = t0.max(a.min(b));
            t1 = t1.min(a.max(b));
        }
    }
    let (t0, t1) = (t0.ceil(), t1.floor());
    if t1 < t0 {
        return 0.0;
    }
    // Fixed point (16 fractional bits) along the clipped line: no float
    // conversion per sample.
    const ONE: f32 = 65536.0;
    let (mut x, mut y) = (
        ((origin.0 + t0 * dir.0) * ONE) as i64,
        ((origin.1 + t0 * dir.1) * ONE) as i64,
    );
    let (dx, dy) = ((dir.0 * ONE) as i64, (dir.1 * ONE) as i64);
    let (w, h) = (img.width as i64, img.height as i64);
    for _ in 0..=(t1 - t0) as usize {
        let (xi, yi) = (x >> 16, y >> 16);
        if xi >= 0 && yi >= 0 && xi < w && yi < h {
            out.push(img.data[(yi * w + xi) as usize]);
        }
        x += dx;
        y += dy;
    }
    t0
}

/// Thresholds a line profile against its running mean over `window`
/// samples; dark (bar) is the state after an odd number of changes.
/// Differences under `min_contrast` keep the previous decision, so sensor
/// noise on white does not become bars. The positions where the decision
/// changes go to `changes` (the profile starts light).
fn binarize(profile: &[u8], window: usize, min_contrast: i32, changes: &mut Vec<usize>) {
    let n = profile.len();
    changes.clear();
    let half = window / 2;
    // The window around `i` and its sum, summed afresh: near the ends,
    // where the window is cut short (at most `window` samples each).
    let fresh = |i: usize| {
        let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
        let sum: i32 = profile[a..b].iter().map(|&q| i32::from(q)).sum();
        (sum, (b - a) as i32)
    };
    let mut is_dark = false;
    // p - mean, scaled by the window's count to avoid a division.
    let mut decide = |i: usize, sum: i32, count: i32| {
        let d = i32::from(profile[i]) * count - sum;
        let now = if d <= -min_contrast * count {
            true
        } else if d >= min_contrast * count {
            false
        } else {
            is_dark
        };
        if now != is_dark {
            is_dark = now;
            changes.push(i);
        }
    };
    // In between, the whole window fits and its sum is kept running.
    let interior = half + 1..n.saturating_sub(half);
    let (head, tail) = if interior.is_empty() {
        (0..n, n..n)
    } else {
        (0..interior.start, interior.end..n)
    };
    for i in head {
        let (sum, count) = fresh(i);
        decide(i, sum, count);
    }
    if !interior.is_empty() {
        let (mut sum, count) = fresh(interior.start - 1);
        for i in interior {
            sum += i32::from(profile[i + half]) - i32::from(profile[i - half - 1]);
            decide(i, sum, count);
        }
    }
    for i in tail {
        let (sum, count) = fresh(i);
        decide(i, sum, count);
    }
}

/// The bars (`true`) of samples `[a, b)` of a line whose decisions change
/// at `changes`, first to last or reversed.
fn bars(changes: &[usize], a: usize, b: usize, reversed: bool) -> BitArray {
    let mut bits = BitArray::with_size(b - a);
    let first = changes.partition_point(|&c| c <= a);
    // Dark at `a` after an odd number of changes.
    let mut dark_from = (first % 2 == 1).then_some(a);
    let mut mark = |from: usize, to: usize| {
        let (s, e) = if reversed {
            (b - to, b - from)
        } else {
            (from - a, to - a)
        };
        // (Not `setRange`: rxing's overflows in debug builds on a range
        // ending at a word's last bit.)
        for i in s..e {
            bits.set(i);
        }
    };
    for &c in changes[first..].iter().take_while(|&&c| c < b) {
        match dark_from.take() {
            Some(from) => mark(from, c),
            None => dark_from = Some(c),
        }
    }
    if let Some(from) = dark_from {
        mark(from, b);
    }
    bits
}

/// Bar/space changes below which a stretch of line cannot hold a
/// payment-code barcode (an 18-digit Code 128 has about 70 elements).
const MIN_CHANGES: usize = 30;

/// Samples between two changes that always end a stretch of line.
const MIN_GAP: usize = 32;

/// The longest gap that may continue a stretch: wider than any bar or
/// space of a barcode in view. A 4-module element of a barcode that fills
/// the frame's width, tilted, is about a twentieth of its longer side.
fn max_gap(img: &Gray) -> usize {
    (img.width.max(img.height) / 20).max(MIN_GAP)
}

/// The stretches `[start, end)` of a line dense enough in changes to hold
/// a barcode, widened by a quiet-zone margin. A gap ends a stretch when it
/// is over [`MIN_GAP`] and over three times the mean of the last six
/// elements (a barcode's widest element is about twice its mean; a quiet
/// zone is five times), or over `max_gap`.
fn dense_stretches(changes: &[usize], len: usize, max_gap: usize, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut first = 0;
    for i in 1..=changes.len() {
        let ends = i == changes.len() || {
            let gap = changes[i] - changes[i - 1];
            let recent = (i - 1 - first).min(6);
            let mean = (changes[i - 1] - changes[i - 1 - recent])
                .checked_div(recent)
                .unwrap_or(0);
            gap > max_gap || (gap > MIN_GAP && gap > 3 * mean)
        };
        if ends {
            if i - first >= MIN_CHANGES && barcode_like(&changes[first..i]) {
                let margin = (changes[i - 1] - changes[first]) / 10;
                let start = changes[first].saturating_sub(margin);
                let end = (changes[i - 1] + margin).min(len);
                out.push((start, end));
            }
            first = i;
        }
    }
}

/// Whether the element widths between `changes` look like a barcode's:
/// narrow and wide elements (Code 128 uses 1 to 4 modules), and no more
/// spread than blur and tilt explain. Uniform stripes and irregular
/// texture are not handed to the decoder.
fn barcode_like(changes: &[usize]) -> bool {
    let mut widths: Vec<usize> = changes.windows(2).map(|w| w[1] - w[0]).collect();
    widths.sort_unstable();
    let narrow = widths[widths.len() / 10].max(1);
    let wide = widths[widths.len() * 9 / 10];
    wide >= 2 * narrow && wide <= 6 * narrow
}

/// Scans `img` along lines `spacing` pixels apart at each of `angles`
/// (degrees), both directions, and returns every Code 128 line read, in
/// order, stopping once `enough` lines agree on one text. Only stretches of
/// a line dense in bar/space changes are handed to the decoder.
pub(crate) fn scan(img: &Gray, angles: &[f32], spacing: f32, enough: usize) -> Vec<LineRead> {
    let mut reads: Vec<LineRead> = Vec::new();
    let mut reader = Code128Reader;
    let hints = DecodeHints::default();
    let mut profile = Vec::new();
    let mut changes = Vec::new();
    let mut stretches = Vec::new();
    let gap = max_gap(img);
    let (cx, cy) = (img.width as f32 / 2.0, img.height as f32 / 2.0);
    let half_diag = ((img.width * img.width + img.height * img.height) as f32).sqrt() / 2.0;
    for &angle in angles {
        let (sin, cos) = angle.to_radians().sin_cos();
        let dir = (cos, sin);
        let normal = (-sin, cos);
        // Offsets from the centre outwards, alternating sides.
        let steps = (half_diag / spacing) as i32;
        for k in 0..=(2 * steps) {
            let step = if k % 2 == 0 { k / 2 } else { -(k + 1) / 2 };
            let off = step as f32 * spacing;
            let origin = (cx + off * normal.0, cy + off * normal.1);
            let t0 = sample_line(img, origin, dir, &mut profile);
            if profile.len() < 40 {
                continue;
            }
            binarize(&profile, 48, 6, &mut changes);
            dense_stretches(&changes, profile.len(), gap, &mut stretches);
            for &(a, b) in &stretches {
                let at = |i: usize| {
                    let t = t0 + i as f32;
                    (origin.0 + t * dir.0, origin.1 + t * dir.1)
                };
                let (start, end) = (at(a), at(b - 1));
                for reversed in [false, true] {
                    let bits = bars(&changes, a, b, reversed);
                    let Ok(result) = reader.decode_row(0, &bits, &hints) else {
                        continue;
                    };
                    let text = result.getText().to_owned();
                    let ends = if reversed { [end, start] } else { [start, end] };
                    let agreeing = reads.iter().filter(|r| r.text == text).count() + 1;
                    reads.push(LineRead { text, ends });
                    if agreeing >= enough {
                        return reads;
                    }
                    // One direction read it: the other would only repeat it.
                    break;
                }
            }
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binarize_marks_dark_runs_and_ignores_small_noise() {
        let mut profile = vec![200u8; 30];
        profile.extend([40u8; 10]);
        profile.extend([200u8; 30]);
        profile[5] = 196;
        let mut changes = Vec::new();
        binarize(&profile, 20, 6, &mut changes);
        assert_eq!(changes, vec![30, 40]);
        // Short profiles, all edge: no window fits inside.
        binarize(&[200, 40, 200], 20, 6, &mut changes);
        assert_eq!(changes, vec![1, 2]);
        binarize(&[], 20, 6, &mut changes);
        assert!(changes.is_empty());
    }

    #[test]
    fn bars_follow_the_changes_both_ways() {
        // Dark over [3, 5) and from 8 on.
        let changes = [3, 5, 8];
        let bits = |b: &BitArray| (0..b.get_size()).map(|i| b.get(i)).collect::<Vec<_>>();
        let (f, t) = (false, true);
        assert_eq!(
            bits(&bars(&changes, 0, 10, false)),
            [f, f, f, t, t, f, f, f, t, t]
        );
        assert_eq!(
            bits(&bars(&changes, 0, 10, true)),
            [t, t, f, f, f, t, t, f, f, f]
        );
        // Starting inside a bar.
        assert_eq!(bits(&bars(&changes, 4, 9, false)), [t, f, f, f, t]);
        // A bar ending at a word's last bit.
        let long = bars(&[10, 64], 0, 100, false);
        assert!(long.get(10) && long.get(63) && !long.get(64) && !long.get(9));
    }

    /// Change positions for elements of these widths (in pixels).
    fn changes(widths: &[usize]) -> Vec<usize> {
        widths
            .iter()
            .scan(100, |at, w| {
                *at += w;
                Some(*at)
            })
            .collect()
    }

    #[test]
    fn only_barcode_like_stretches_go_to_the_decoder() {
        // Code 128 symbols (start C, then 11-module digit pairs) at 2 px a
        // module.
        let symbols = [
            [2, 1, 1, 2, 3, 2],
            [2, 1, 2, 2, 2, 2],
            [1, 3, 1, 2, 2, 2],
            [3, 1, 1, 1, 2, 3],
        ];
        let code: Vec<usize> = (0..8).flat_map(|i| symbols[i % 4]).map(|m| m * 2).collect();
        let mut out = Vec::new();
        dense_stretches(&changes(&code), 2000, 32, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        // The same at 10 px a module: 40 px elements do not end it.
        let big: Vec<usize> = code.iter().map(|w| w * 5).collect();
        dense_stretches(&changes(&big), 4000, 96, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        // Uniform stripes, and texture of wildly mixed widths, do not.
        dense_stretches(&changes(&[3; 60]), 2000, 32, &mut out);
        assert!(out.is_empty());
        let texture: Vec<usize> = (0..60).map(|i| [1, 9, 2, 30, 1, 14][i % 6]).collect();
        dense_stretches(&changes(&texture), 2000, 32, &mut out);
        assert!(out.is_empty());
        // A stretch is cut where a gap is wider than any element.
        let mut two = code.clone();
        two.push(60);
        two.extend(&code);
        dense_stretches(&changes(&two), 4000, 32, &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
    }

    #[test]
    fn blank_and_tiny_images_give_no_read() {
        let blank = Gray {
            width: 64,
            height: 48,
            data: vec![128; 64 * 48].into(),
        };
        assert!(scan(&blank, &[0.0, 30.0], 8.0, 2).is_empty());
        let tiny = Gray {
            width: 1,
            height: 1,
            data: vec![0].into(),
        };
        assert!(scan(&tiny, &[0.0], 8.0, 2).is_empty());
    }
}
