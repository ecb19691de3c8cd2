//! Linear (Code 128) reading along scan lines at several angles, each line
//! cut at the edges found along it, each candidate line handed to
//! rxing's row decoder.

use rxing::DecodeHints;
use rxing::common::BitArray;
use rxing::oned::{Code128Reader, OneDReader};

use super::gray::Gray;
#[cfg(test)]
use super::orient::Band;
use super::orient::Sweep;

/// One read along one line: text, and the line's two ends in the image.
#[derive(Debug, Clone)]
pub(crate) struct LineRead {
    pub text: String,
    pub ends: [(f32, f32); 2],
}

/// Samples the line through `origin` along `dir` across the image, between
/// parameters `span`; returns the parameter of its first sample.
fn sample_line(
    img: &Gray,
    origin: (f32, f32),
    dir: (f32, f32),
    span: (f32, f32),
    out: &mut Vec<u8>,
) -> f32 {
    out.clear();
    // (A NaN or infinite angle in the configuration.)
    if ![origin.0, origin.1, dir.0, dir.1]
        .iter()
        .all(|v| v.is_finite())
    {
        return 0.0;
    }
    // Clip the line to `span` and the image rectangle (Liang–Barsky).
    let (mut t0, mut t1) = span;
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

/// Sub-sample steps per sample in the bits handed to the row decoder: the
/// edges are found to a fraction of a sample, and at two pixels a module a
/// whole-sample edge is a quarter of a module off.
const SUB: f32 = 4.0;

/// [`edges`]'s working space, kept from line to line.
#[derive(Debug, Default)]
struct EdgeScratch {
    d: Vec<i32>,
    strongest: Vec<i32>,
    nearby: Vec<i32>,
}

/// The edges of a line profile, to a fraction of a sample: where the
/// brightness falls fastest (a bar starts) and rises fastest (it ends),
/// alternating, the first one falling. Unlike a threshold against a mean,
/// an edge stays where it is when blur smears it: a narrow space between
/// two bars, which blur keeps from ever getting as light as the mean, still
/// has an edge on each side. A step counts when it is at least `min_step`
/// levels a sample and a fifth of the strongest step within about 32
/// samples (so noise on a quiet zone is no edge); of two steps the same way
/// in a row, the stronger is the edge.
fn edges(
    profile: &[u8],
    min_step: i32,
    smooth: bool,
    scratch: &mut EdgeScratch,
    out: &mut Vec<f32>,
) {
    out.clear();
    if profile.len() < 6 {
        return;
    }
    // d[i] = step from sample i to i + 1, located at i + 0.5; smoothed,
    // the step between the [1, 2, 1]-weighted sums centred on i and i + 1,
    // over 4 (which is (p[i+2] + p[i+1] - p[i] - p[i-1]) / 4; d[0] = 0).
    let d = &mut scratch.d;
    d.clear();
    if smooth {
        d.push(0);
        d.extend(
            profile.windows(4).map(|w| {
                (i32::from(w[3]) + i32::from(w[2]) - i32::from(w[1]) - i32::from(w[0])) / 4
            }),
        );
    } else {
        d.extend(
            profile
                .windows(2)
                .map(|w| i32::from(w[1]) - i32::from(w[0])),
        );
    }
    let d = &scratch.d;
    const BLOCK: usize = 16;
    let strongest = &mut scratch.strongest;
    strongest.clear();
    strongest.extend(
        d.chunks(BLOCK)
            .map(|c| c.iter().map(|v| v.abs()).max().unwrap_or(0)),
    );
    // The strongest step in a block and its two neighbours.
    let strongest = &scratch.strongest;
    let nearby = &mut scratch.nearby;
    nearby.clear();
    nearby.extend((0..strongest.len()).map(|b| {
        strongest[b.saturating_sub(1)..(b + 2).min(strongest.len())]
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
    }));
    let nearby = &scratch.nearby;
    // The edge found but not yet followed by one the other way.
    let mut pending: Option<(usize, i32)> = None;
    let commit = |at: usize, out: &mut Vec<f32>| {
        let (l, c, r) = (d[at - 1], d[at], d[at + 1]);
        let curve = l - 2 * c + r;
        let off = if curve == 0 {
            0.0
        } else {
            (0.5 * (l - r) as f32 / curve as f32).clamp(-0.5, 0.5)
        };
        out.push(at as f32 + 0.5 + off);
    };
    for i in 1..d.len() - 1 {
        let v = d[i];
        let extreme = if v < 0 {
            v <= d[i - 1] && v < d[i + 1]
        } else {
            v >= d[i - 1] && v > d[i + 1]
        };
        if !extreme || v.abs() < min_step || 5 * v.abs() < nearby[i / BLOCK] {
            continue;
        }
        match pending {
            // The first edge is a bar's start.
            None if v > 0 => {}
            None => pending = Some((i, v)),
            Some((_, p)) if (p < 0) == (v < 0) => {
                if v.abs() > p.abs() {
                    pending = Some((i, v));
                }
            }
            Some((at, _)) => {
                commit(at, out);
                pending = Some((i, v));
            }
        }
    }
    if let Some((at, _)) = pending {
        commit(at, out);
    }
}

/// The bars (`true`) between `a` and `b` (samples) of a line with these
/// `edges` (alternating, the first a bar's start), [`SUB`] bits a sample,
/// first to last or reversed.
fn bars_between(edges: &[f32], a: usize, b: usize, reversed: bool) -> BitArray {
    let len = ((b - a) as f32 * SUB) as usize;
    let mut bits = BitArray::with_size(len.max(1));
    let to_bit = |e: f32| (((e - a as f32) * SUB).round().max(0.0) as usize).min(len);
    let first = edges.partition_point(|&e| e <= a as f32);
    // Inside a bar at `a` after an odd number of edges.
    let mut dark_from = (first % 2 == 1).then_some(0);
    let mut mark = |from: usize, to: usize| {
        let (s, e) = if reversed {
            (len - to, len - from)
        } else {
            (from, to)
        };
        for i in s..e {
            bits.set(i);
        }
    };
    for &e in edges[first..].iter().take_while(|&&e| e < b as f32) {
        match dark_from.take() {
            Some(from) => mark(from, to_bit(e)),
            None => dark_from = Some(to_bit(e)),
        }
    }
    if let Some(from) = dark_from {
        mark(from, len);
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

/// Scans `img` along the lines of each of `sweeps`, `spacing` pixels apart
/// (closer in narrow bands), both directions, and returns every Code 128
/// line read, in order, stopping once `enough` lines agree on one text.
/// Only stretches of a line dense in edges are handed to the decoder: with
/// the edges of the smoothed line first, then, if that read nothing, with
/// those of the raw line (a barcode of modules under two pixels, which
/// smoothing blurs away).
pub(crate) fn scan(img: &Gray, sweeps: &[Sweep], spacing: f32, enough: usize) -> Vec<LineRead> {
    let mut reads: Vec<LineRead> = Vec::new();
    let mut reader = Code128Reader;
    let hints = DecodeHints::default();
    let mut profile = Vec::new();
    let mut changes = Vec::new();
    let mut stretches = Vec::new();
    let mut smooth_edges = Vec::new();
    let mut raw_edges = Vec::new();
    let mut scratch = EdgeScratch::default();
    let gap = max_gap(img);
    let (cx, cy) = (img.width as f32 / 2.0, img.height as f32 / 2.0);
    for sweep in sweeps {
        let (sin, cos) = sweep.angle.to_radians().sin_cos();
        let dir = (cos, sin);
        let normal = (-sin, cos);
        for band in &sweep.bands {
            let (from, to) = band.across;
            if !(from.is_finite() && to.is_finite()) || to < from {
                continue;
            }
            // At least six lines across a band.
            let step = spacing.min((to - from) / 6.0).max(2.0);
            let middle = (from + to) / 2.0;
            let steps = ((to - from) / 2.0 / step) as i32;
            // From the band's middle outwards, alternating sides.
            for k in 0..=(2 * steps) {
                let n = if k % 2 == 0 { k / 2 } else { -(k + 1) / 2 };
                let off = middle + n as f32 * step;
                let origin = (cx + off * normal.0, cy + off * normal.1);
                // The line's parameter is its distance along `dir` from the
                // point nearest the image centre.
                let t0 = sample_line(img, origin, dir, band.along, &mut profile);
                if profile.len() < 40 {
                    continue;
                }
                edges(&profile, 4, true, &mut scratch, &mut smooth_edges);
                changes.clear();
                changes.extend(smooth_edges.iter().map(|&e| e.round() as usize));
                dense_stretches(&changes, profile.len(), gap, &mut stretches);
                for &(a, b) in &stretches {
                    let at = |i: usize| {
                        let t = t0 + i as f32;
                        (origin.0 + t * dir.0, origin.1 + t * dir.1)
                    };
                    let (start, end) = (at(a), at(b - 1));
                    let decode = |edges: &[f32], reader: &mut Code128Reader| {
                        for reversed in [false, true] {
                            let bits = bars_between(edges, a, b, reversed);
                            if let Ok(result) = reader.decode_row(0, &bits, &hints) {
                                let ends = if reversed { [end, start] } else { [start, end] };
                                return Some((result.getText().to_owned(), ends));
                            }
                        }
                        None
                    };
                    let read = decode(&smooth_edges, &mut reader).or_else(|| {
                        edges(&profile[a..b], 4, false, &mut scratch, &mut raw_edges);
                        raw_edges.iter_mut().for_each(|e| *e += a as f32);
                        decode(&raw_edges, &mut reader)
                    });
                    let Some((text, ends)) = read else { continue };
                    let agreeing = reads.iter().filter(|r| r.text == text).count() + 1;
                    reads.push(LineRead { text, ends });
                    if agreeing >= enough {
                        return reads;
                    }
                }
            }
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smoothed steps computed the long way: the [1, 2, 1] sums, then
    /// their differences over 4.
    fn smoothed_steps_plainly(profile: &[u8]) -> Vec<i32> {
        let s: Vec<i32> = profile
            .windows(3)
            .map(|w| i32::from(w[0]) + 2 * i32::from(w[1]) + i32::from(w[2]))
            .collect();
        std::iter::once(0)
            .chain(s.windows(2).map(|w| (w[1] - w[0]) / 4))
            .collect()
    }

    #[test]
    fn smoothed_steps_are_the_differences_of_the_smoothed_line() {
        let mut seed = 0x9e37_79b9_u32;
        for len in [6usize, 7, 40, 333] {
            let profile: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            let mut scratch = EdgeScratch::default();
            edges(&profile, 4, true, &mut scratch, &mut Vec::new());
            assert_eq!(scratch.d, smoothed_steps_plainly(&profile), "{len}");
        }
    }

    #[test]
    fn edges_sit_where_the_brightness_changes_even_when_blurred() {
        // A bar over [30, 40).
        let mut profile = vec![200u8; 30];
        profile.extend([40u8; 10]);
        profile.extend([200u8; 30]);
        profile[5] = 196;
        let mut found = Vec::new();
        edges(&profile, 4, false, &mut EdgeScratch::default(), &mut found);
        assert_eq!(found, vec![29.5, 39.5]);
        edges(&profile, 4, true, &mut EdgeScratch::default(), &mut found);
        assert_eq!(found.len(), 2);
        assert!(
            (found[0] - 29.5).abs() <= 0.5 && (found[1] - 39.5).abs() <= 0.5,
            "{found:?}"
        );
        // A narrow space between two bars, blurred so that it never gets
        // lighter than the mean of its neighbourhood: still two edges.
        let blurred = [
            200, 200, 200, 150, 60, 40, 40, 60, 90, 60, 40, 40, 60, 150, 200, 200, 200,
        ];
        edges(&blurred, 4, false, &mut EdgeScratch::default(), &mut found);
        assert_eq!(found.len(), 4, "{found:?}");
        // Nothing on flat or tiny lines; a rise before any fall is no edge.
        edges(&[128; 50], 4, true, &mut EdgeScratch::default(), &mut found);
        assert!(found.is_empty());
        edges(
            &[200, 40],
            4,
            false,
            &mut EdgeScratch::default(),
            &mut found,
        );
        assert!(found.is_empty());
        let rising: Vec<u8> = (0..20).map(|i| if i < 10 { 40 } else { 200 }).collect();
        edges(&rising, 4, false, &mut EdgeScratch::default(), &mut found);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn bars_follow_the_edges_both_ways() {
        // Dark over [3, 5) and from 8 on, at SUB bits a sample.
        let edges = [3.0, 5.0, 8.0];
        let bits = |b: &BitArray| {
            (0..b.get_size())
                .step_by(SUB as usize)
                .map(|i| b.get(i))
                .collect::<Vec<_>>()
        };
        let (f, t) = (false, true);
        assert_eq!(
            bits(&bars_between(&edges, 0, 10, false)),
            [f, f, f, t, t, f, f, f, t, t]
        );
        assert_eq!(
            bits(&bars_between(&edges, 0, 10, true)),
            [t, t, f, f, f, t, t, f, f, f]
        );
        // Starting inside a bar.
        assert_eq!(bits(&bars_between(&edges, 4, 9, false)), [t, f, f, f, t]);
        // A fraction of a sample shows.
        let fine = bars_between(&[2.25, 3.5], 0, 5, false);
        assert!(!fine.get(8) && fine.get(9) && fine.get(13) && !fine.get(14));
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
        let across = |angle| Sweep {
            angle,
            bands: vec![Band {
                across: (-100.0, 100.0),
                along: (f32::MIN, f32::MAX),
            }],
            cover: 1.0,
        };
        assert!(scan(&blank, &[across(0.0), across(30.0)], 8.0, 2).is_empty());
        let tiny = Gray {
            width: 1,
            height: 1,
            data: vec![0].into(),
        };
        assert!(scan(&tiny, &[across(0.0)], 8.0, 2).is_empty());
    }
}
