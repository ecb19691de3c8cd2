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
/// the parameters of its first and last samples.
fn sample_line(img: &Gray, origin: (f32, f32), dir: (f32, f32), out: &mut Vec<u8>) -> (f32, f32) {
    out.clear();
    // Clip the line to the image rectangle (Liang–Barsky).
    let (mut t0, mut t1) = (f32::MIN, f32::MAX);
    for (o, d, hi) in [
        (origin.0, dir.0, img.width as f32),
        (origin.1, dir.1, img.height as f32),
    ] {
        if d.abs() < 1e-6 {
            if o < 0.0 || o >= hi {
                return (0.0, 0.0);
            }
        } else {
            let (a, b) = ((0.0 - o) / d, (hi - 1e-3 - o) / d);
            t0 = t0.max(a.min(b));
            t1 = t1.min(a.max(b));
        }
    }
    let (t0, t1) = (t0.ceil(), t1.floor());
    let mut t = t0;
    while t <= t1 {
        if let Some(p) = img.at(origin.0 + t * dir.0, origin.1 + t * dir.1) {
            out.push(p);
        }
        t += 1.0;
    }
    (t0, t1)
}

/// Thresholds a line profile against its running mean over `window`
/// samples; dark (bar) is set. Differences under `min_contrast` keep the
/// previous decision, so sensor noise on white does not become bars.
/// Returns the bits and the number of bar/space changes.
fn binarize(profile: &[u8], window: usize, min_contrast: i32) -> (BitArray, usize) {
    let n = profile.len();
    let mut bits = BitArray::with_size(n.max(1));
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0i32);
    for &p in profile {
        prefix.push(prefix.last().copied().unwrap_or(0) + i32::from(p));
    }
    let half = window / 2;
    let mut dark = false;
    let mut changes = 0;
    for (i, &p) in profile.iter().enumerate() {
        let a = i.saturating_sub(half);
        let b = (i + half + 1).min(n);
        let count = (b - a) as i32;
        // p - mean, scaled by count to avoid a division per sample.
        let d = i32::from(p) * count - (prefix[b] - prefix[a]);
        let was = dark;
        if d <= -min_contrast * count {
            dark = true;
        } else if d >= min_contrast * count {
            dark = false;
        }
        changes += usize::from(was != dark);
        if dark {
            bits.set(i);
        }
    }
    (bits, changes)
}

/// Bar/space changes below which a line cannot hold a payment-code
/// barcode (an 18-digit Code 128 has about 70 elements).
const MIN_CHANGES: usize = 30;

/// Scans `img` along lines `spacing` pixels apart at each of `angles`
/// (degrees), both directions, and returns every Code 128 line read, in
/// order, stopping once `enough` lines agree on one text.
pub(crate) fn scan(img: &Gray, angles: &[f32], spacing: f32, enough: usize) -> Vec<LineRead> {
    let mut reads: Vec<LineRead> = Vec::new();
    let mut reader = Code128Reader;
    let hints = DecodeHints::default();
    let mut profile = Vec::new();
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
            let (t0, t1) = sample_line(img, origin, dir, &mut profile);
            if profile.len() < 40 {
                continue;
            }
            let start = (origin.0 + t0 * dir.0, origin.1 + t0 * dir.1);
            let end = (origin.0 + t1 * dir.0, origin.1 + t1 * dir.1);
            for reversed in [false, true] {
                if reversed {
                    profile.reverse();
                }
                let (bits, changes) = binarize(&profile, 48, 6);
                if changes < MIN_CHANGES {
                    break;
                }
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
        let (bits, changes) = binarize(&profile, 20, 6);
        assert_eq!(changes, 2);
        assert!(!bits.get(5));
        assert!(bits.get(35));
        assert!(!bits.get(60));
    }

    #[test]
    fn blank_and_tiny_images_give_no_read() {
        let blank = Gray {
            width: 64,
            height: 48,
            data: vec![128; 64 * 48],
        };
        assert!(scan(&blank, &[0.0, 30.0], 8.0, 2).is_empty());
        let tiny = Gray {
            width: 1,
            height: 1,
            data: vec![0],
        };
        assert!(scan(&tiny, &[0.0], 8.0, 2).is_empty());
    }
}
