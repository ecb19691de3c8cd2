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

/// Samples the line through `origin` along `dir` across the whole image.
fn sample_line(img: &Gray, origin: (f32, f32), dir: (f32, f32), out: &mut Vec<u8>) -> (f32, f32) {
    out.clear();
    let reach = (img.width + img.height) as f32;
    let mut first = None;
    let mut last = 0.0;
    let mut t = -reach;
    while t <= reach {
        if let Some(p) = img.at(origin.0 + t * dir.0, origin.1 + t * dir.1) {
            if first.is_none() {
                first = Some(t);
            }
            last = t;
            out.push(p);
        } else if first.is_some() {
            break;
        }
        t += 1.0;
    }
    (first.unwrap_or(0.0), last)
}

/// Thresholds a line profile against its running mean over `window`
/// samples; dark (bar) is set. Differences under `min_contrast` keep the
/// previous decision, so sensor noise on white does not become bars.
fn binarize(profile: &[u8], window: usize, min_contrast: i32) -> BitArray {
    let n = profile.len();
    let mut bits = BitArray::with_size(n.max(1));
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0u32);
    for &p in profile {
        prefix.push(prefix.last().copied().unwrap_or(0) + u32::from(p));
    }
    let half = window / 2;
    let mut dark = false;
    for (i, &p) in profile.iter().enumerate().take(n) {
        let a = i.saturating_sub(half);
        let b = (i + half + 1).min(n);
        let mean = ((prefix[b] - prefix[a]) / (b - a) as u32) as i32;
        let d = i32::from(p) - mean;
        if d <= -min_contrast {
            dark = true;
        } else if d >= min_contrast {
            dark = false;
        }
        if dark {
            bits.set(i);
        }
    }
    bits
}

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
                let bits = binarize(&profile, 48, 6);
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
        let bits = binarize(&profile, 20, 6);
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
