//! Face capture for `CaptureFace`: the best face seen over a time window,
//! cropped with a margin and JPEG-encoded.
//!
//! Faces are found by rustface (SeetaFace's funnel-structured cascade). The
//! rustface crate ships its frontal model file in its package but does not
//! build it into the library (its `create_detector` reads a path at run
//! time), so kassa carries a copy of that file
//! (`seeta_fd_frontal_v1.0.bin`, BSD-2-Clause, see `LICENSE-SeetaFace`)
//! and builds it into the binary: nothing is downloaded or read from disk.
//!
//! Each face found is scored for what a face-pay backend needs from a
//! picture — [`FaceScores`]: large, sharp, frontal and confidently a face —
//! and the best over all frames wins.

use std::fmt;
use std::io::Cursor;

use super::Frame;

/// The SeetaFace frontal detection model, as shipped in the rustface 0.1.7
/// crate package (`model/seeta_fd_frontal_v1.0.bin`).
static MODEL: &[u8] = include_bytes!("seeta_fd_frontal_v1.0.bin");

/// Frames wider than this are halved before detection: a face at the
/// counter is large, and detection time grows with the pixel count.
const DETECT_MAX_WIDTH: usize = 960;
/// Smallest face, in pixels of the (possibly halved) detection image.
const MIN_FACE: u32 = 40;
/// Margin around the face box in the crop, as a fraction of the box side.
const MARGIN: f64 = 0.4;
/// JPEG quality of the crop.
const JPEG_QUALITY: u8 = 90;

/// A face could not be captured.
#[derive(Debug)]
pub enum FaceError {
    /// The built-in model did not load (a corrupt build).
    Model(String),
    /// The crop could not be encoded.
    Encode(String),
}

impl fmt::Display for FaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaceError::Model(e) => write!(f, "face model failed to load: {e}"),
            FaceError::Encode(e) => write!(f, "face crop could not be encoded: {e}"),
        }
    }
}

impl std::error::Error for FaceError {}

/// A rectangle in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceBox {
    /// Left edge.
    pub x: usize,
    /// Top edge.
    pub y: usize,
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

/// How good a face picture is; each part in 0..=1, higher is better.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceScores {
    /// The detector's confidence (SeetaFace score `s` mapped as
    /// `s / (s + 10)`).
    pub confidence: f64,
    /// Face height over frame height.
    pub size: f64,
    /// Variance of the Laplacian inside the face box, mapped as
    /// `v / (v + 100)`: blur lowers it.
    pub sharpness: f64,
    /// Left-right mirror similarity of the face box: a face turned away is
    /// less symmetric.
    pub frontal: f64,
    /// The weighted sum that ranks faces: 0.35 size + 0.25 sharpness +
    /// 0.2 frontal + 0.2 confidence.
    pub overall: f64,
}

/// One face found in one frame.
#[derive(Debug, Clone)]
pub struct FaceCandidate {
    /// Where, in frame pixels.
    pub bbox: FaceBox,
    /// How good.
    pub scores: FaceScores,
    /// The detector's raw score.
    pub raw_score: f64,
}

/// Finds faces in frames.
pub struct FaceDetector {
    detector: Box<dyn rustface::Detector>,
}

impl fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaceDetector").finish_non_exhaustive()
    }
}

impl FaceDetector {
    /// A detector with the built-in model.
    ///
    /// # Errors
    ///
    /// [`FaceError::Model`] if the built-in model does not parse.
    pub fn new() -> Result<FaceDetector, FaceError> {
        let model = rustface::read_model(Cursor::new(MODEL))
            .map_err(|e| FaceError::Model(e.to_string()))?;
        let mut detector = rustface::create_detector_with_model(model);
        detector.set_min_face_size(MIN_FACE);
        detector.set_score_thresh(2.0);
        detector.set_pyramid_scale_factor(0.8);
        detector.set_slide_window_step(4, 4);
        Ok(FaceDetector { detector })
    }

    /// The faces in `frame`, scored.
    pub fn detect(&mut self, frame: &Frame) -> Vec<FaceCandidate> {
        if frame.width < MIN_FACE as usize || frame.height < MIN_FACE as usize {
            return Vec::new();
        }
        let (image, scale) = detection_image(frame);
        let (width, height) = (frame.width / scale, frame.height / scale);
        let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
            return Vec::new();
        };
        let faces = self
            .detector
            .detect(&rustface::ImageData::new(&image, w, h));
        faces
            .iter()
            .filter_map(|face| {
                let b = face.bbox();
                let x = usize::try_from(b.x().max(0)).ok()? * scale;
                let y = usize::try_from(b.y().max(0)).ok()? * scale;
                let bbox = FaceBox {
                    x,
                    y,
                    width: (b.width() as usize * scale).min(frame.width.saturating_sub(x)),
                    height: (b.height() as usize * scale).min(frame.height.saturating_sub(y)),
                };
                (bbox.width > 0 && bbox.height > 0).then(|| FaceCandidate {
                    bbox,
                    scores: score(frame, bbox, face.score()),
                    raw_score: face.score(),
                })
            })
            .collect()
    }
}

/// The detection image (tightly packed, halved when wide) and its scale.
fn detection_image(frame: &Frame) -> (Vec<u8>, usize) {
    if frame.width <= DETECT_MAX_WIDTH {
        let mut packed = Vec::with_capacity(frame.width * frame.height);
        for y in 0..frame.height {
            packed.extend_from_slice(frame.row(y).unwrap_or_default());
        }
        return (packed, 1);
    }
    let (w, h) = (frame.width / 2, frame.height / 2);
    let mut half = Vec::with_capacity(w * h);
    for y in 0..h {
        let (Some(top), Some(bottom)) = (frame.row(2 * y), frame.row(2 * y + 1)) else {
            break;
        };
        half.extend((0..w).map(|x| {
            let sum = u16::from(top[2 * x])
                + u16::from(top[2 * x + 1])
                + u16::from(bottom[2 * x])
                + u16::from(bottom[2 * x + 1]);
            (sum / 4) as u8
        }));
    }
    half.resize(w * h, 0);
    (half, 2)
}

fn pixel(frame: &Frame, x: usize, y: usize) -> f64 {
    frame
        .row(y)
        .and_then(|r| r.get(x))
        .map_or(0.0, |&v| f64::from(v))
}

/// Scores a face box of `frame`.
pub fn score(frame: &Frame, bbox: FaceBox, raw: f64) -> FaceScores {
    let confidence = raw.max(0.0) / (raw.max(0.0) + 10.0);
    let size = (bbox.height as f64 / frame.height.max(1) as f64).min(1.0);
    // Variance of the 4-neighbour Laplacian, inside the box.
    let (mut sum, mut sum_sq, mut n) = (0.0, 0.0, 0.0);
    for y in bbox.y + 1..(bbox.y + bbox.height).min(frame.height).saturating_sub(1) {
        for x in bbox.x + 1..(bbox.x + bbox.width).min(frame.width).saturating_sub(1) {
            let lap = pixel(frame, x - 1, y)
                + pixel(frame, x + 1, y)
                + pixel(frame, x, y - 1)
                + pixel(frame, x, y + 1)
                - 4.0 * pixel(frame, x, y);
            sum += lap;
            sum_sq += lap * lap;
            n += 1.0;
        }
    }
    let variance = if n > 0.0 {
        (sum_sq / n - (sum / n).powi(2)).max(0.0)
    } else {
        0.0
    };
    let sharpness = variance / (variance + 100.0);
    // Mirror similarity: mean absolute difference between each pixel of
    // the left half and its mirror image on the right.
    let (mut diff, mut m) = (0.0, 0.0);
    for y in bbox.y..(bbox.y + bbox.height).min(frame.height) {
        for dx in 0..bbox.width / 2 {
            let left = pixel(frame, bbox.x + dx, y);
            let right = pixel(frame, bbox.x + bbox.width - 1 - dx, y);
            diff += (left - right).abs();
            m += 1.0;
        }
    }
    let frontal = if m > 0.0 {
        (1.0 - diff / m / 64.0).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let overall = 0.35 * size + 0.25 * sharpness + 0.2 * frontal + 0.2 * confidence;
    FaceScores {
        confidence,
        size,
        sharpness,
        frontal,
        overall,
    }
}

/// The face picture `CaptureFace` returns.
#[derive(Debug, Clone)]
pub struct CapturedFace {
    /// The crop, JPEG (greyscale).
    pub jpeg: Vec<u8>,
    /// The face box, in frame pixels.
    pub face: FaceBox,
    /// The cropped region (face plus margin), in frame pixels.
    pub crop: FaceBox,
    /// The scores of the chosen face.
    pub scores: FaceScores,
    /// The detector's raw score.
    pub raw_score: f64,
    /// Frame size.
    pub frame_width: usize,
    /// Frame size.
    pub frame_height: usize,
    /// The chosen frame's sequence number.
    pub seq: u64,
    /// Frames examined.
    pub frames: u64,
}

/// Keeps the best face over a series of frames.
#[derive(Debug, Default)]
pub struct BestFace {
    best: Option<(Frame, FaceCandidate)>,
    frames: u64,
}

impl BestFace {
    /// Nothing seen yet.
    pub fn new() -> BestFace {
        BestFace::default()
    }

    /// Looks at one frame's faces; keeps the frame if it has the best face
    /// so far. The frame's pixels are shared, not copied.
    pub fn offer(&mut self, frame: &Frame, faces: Vec<FaceCandidate>) {
        self.frames += 1;
        let Some(top) = faces
            .into_iter()
            .max_by(|a, b| a.scores.overall.total_cmp(&b.scores.overall))
        else {
            return;
        };
        let better = self
            .best
            .as_ref()
            .is_none_or(|(_, best)| top.scores.overall > best.scores.overall);
        if better {
            self.best = Some((frame.clone(), top));
        }
    }

    /// Frames looked at.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Whether a face was seen.
    pub fn has_face(&self) -> bool {
        self.best.is_some()
    }

    /// The best face, cropped with a margin and JPEG-encoded; `None` if no
    /// frame had a face.
    ///
    /// # Errors
    ///
    /// [`FaceError::Encode`] if the crop cannot be encoded.
    pub fn finish(self) -> Result<Option<CapturedFace>, FaceError> {
        let Some((frame, face)) = self.best else {
            return Ok(None);
        };
        let crop = with_margin(&frame, face.bbox);
        let mut pixels = Vec::with_capacity(crop.width * crop.height);
        for y in crop.y..crop.y + crop.height {
            let row = frame.row(y).unwrap_or_default();
            pixels.extend_from_slice(row.get(crop.x..crop.x + crop.width).unwrap_or_default());
        }
        let too_big = |_| FaceError::Encode(format!("crop {}x{}", crop.width, crop.height));
        let (w, h) = (
            u16::try_from(crop.width).map_err(too_big)?,
            u16::try_from(crop.height).map_err(too_big)?,
        );
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, JPEG_QUALITY)
            .encode(&pixels, w, h, jpeg_encoder::ColorType::Luma)
            .map_err(|e| FaceError::Encode(e.to_string()))?;
        Ok(Some(CapturedFace {
            jpeg,
            face: face.bbox,
            crop,
            scores: face.scores,
            raw_score: face.raw_score,
            frame_width: frame.width,
            frame_height: frame.height,
            seq: frame.seq,
            frames: self.frames,
        }))
    }
}

/// `bbox` grown by [`MARGIN`] on every side, within the frame.
fn with_margin(frame: &Frame, bbox: FaceBox) -> FaceBox {
    let mx = (bbox.width as f64 * MARGIN) as usize;
    let my = (bbox.height as f64 * MARGIN) as usize;
    let x = bbox.x.saturating_sub(mx);
    let y = bbox.y.saturating_sub(my);
    let right = (bbox.x + bbox.width + mx).min(frame.width);
    let bottom = (bbox.y + bbox.height + my).min(frame.height);
    FaceBox {
        x,
        y,
        width: right.saturating_sub(x),
        height: bottom.saturating_sub(y),
    }
}

#[cfg(test)]
mod tests;
