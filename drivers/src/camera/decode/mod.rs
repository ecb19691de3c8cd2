//! Reading payment codes from camera frames: a pipeline around rxing.
//!
//! A plain rxing call on a whole 1280×720 frame, with every format and
//! try-harder, costs more than a 30 fps frame interval and misses dim,
//! noisy and blurred codes. [`Pipeline`] wraps rxing so that a frame costs
//! little and hard frames are read:
//!
//! - only the configured [`CodeFormat`]s are tried;
//! - where a code was read in a recent frame, that region is tried first, at
//!   full resolution (a *region of interest*, carried from frame to frame);
//! - 2D codes are looked for in a 2× downscale first (a quarter of the
//!   pixels, and the averaging halves sensor noise), then at full
//!   resolution for small modules and strong perspective;
//! - Code 128 is read along scan lines across the patches where the
//!   gradients say bars are, in the direction they say (any angle: a phone
//!   held sideways), and a read is only believed when two lines agree, in
//!   one frame or across
//!   consecutive frames (a *hypothesis* carried to the next frame); the
//!   lines go before the full-resolution pass when the downscale showed no
//!   QR finder pattern at all, or bars over a large part of the frame (a
//!   barcode held close);
//! - light-on-dark QR is looked for in the downscale (unless it shows a
//!   dark-on-light symbol's three finders), and at full resolution and in
//!   the normalised copy where an earlier pass saw its finders (or, at full
//!   resolution, a small frame is mostly dark and shows no dark-on-light
//!   symbol's three finders);
//! - last, a *locally contrast-normalised* copy is tried for dim, noisy and
//!   glared frames, where rxing's binarizer sees too little contrast;
//! - a sampled QR grid goes to error correction only if its timing patterns
//!   mostly hold, and the error correction is our own (`qr_grid.rs`: rxing's
//!   spends most of a failed attempt finding that a grid is not a symbol);
//! - images are binarized with rxing's hybrid threshold, computed a word
//!   at a time (`binarize.rs`);
//! - a code held in view is reported once.
//!
//! [`Pipeline::process`] is synchronous and takes one frame: run it on a
//! thread of its own and always hand it the newest frame.

mod binarize;
mod gray;
mod linear;
mod orient;
mod perspective;
mod qr_grid;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use kassa_hal::Symbology;
use rxing::common::{BitMatrix, DetectorRXingResult};
use rxing::qrcode::cpp_port::detector::{FindFinderPatterns, GenerateFinderPatternSets, SampleQR};
use rxing::{
    BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source, RXingResult, Reader,
};

use super::Frame;
use binarize::FastHybrid;
use gray::Gray;

/// Frames up to this many pixels (640×480) are small: a second
/// whole-frame search costs little in them.
const SMALL_FRAME: usize = 640 * 480;

/// The share of a frame a barcode's bars cover (on the 2× downscale) for
/// which the scan lines go before the full-resolution QR pass even where
/// the downscale saw a finder-like pattern or two: a barcode held close to
/// the camera, with clutter around it that looks like a finder. Fine
/// QR symbols with clutter around them show bar-like patches over at most
/// ~7 % of the generated 1280×720 frames, barcodes held close 8 % and more
/// of 640×480 photos; stripes over most of the frame are a screen's moiré,
/// not a barcode, and scanning them first costs several milliseconds.
const LARGE_BARCODE: (f32, f32) = (0.08, 0.4);

/// A symbology the pipeline can be asked to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeFormat {
    /// QR Code (payment codes, EMVCo merchant QR).
    Qr,
    /// Code 128 (the barcode under a payment QR).
    Code128,
    /// Data Matrix.
    DataMatrix,
    /// PDF417.
    Pdf417,
}

impl CodeFormat {
    fn symbology(self) -> Symbology {
        match self {
            CodeFormat::Qr => Symbology::Qr,
            CodeFormat::Code128 => Symbology::Code128,
            CodeFormat::DataMatrix => Symbology::DataMatrix,
            CodeFormat::Pdf417 => Symbology::Pdf417,
        }
    }
}

/// What the pipeline reads and how hard it tries.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// The symbologies to look for; fewer is faster. Default: QR and
    /// Code 128.
    pub formats: Vec<CodeFormat>,
    /// Processed frames a code must be out of view before it is reported
    /// again. Default 15 (half a second at 30 fps).
    pub repeat_after_frames: u32,
    /// Processed frames the region where a code was last seen stays the
    /// first place to look. Default 30.
    pub roi_frames: u32,
    /// Try a locally contrast-normalised copy of the frame (dim, noisy,
    /// glared codes). Default on.
    pub normalize: bool,
    /// When the downscale held no code, try the whole frame at
    /// full resolution: 2D codes too fine for the 2× downscale (modules
    /// under ~3 pixels) or foreshortened by perspective. Default on.
    pub full_resolution: bool,
    /// QR: when a pass reads nothing, look for a light-on-dark symbol too
    /// (a phone in dark mode, a code printed white on dark). Default on.
    pub inverted: bool,
    /// Code 128: how many scan lines must agree before a read is believed.
    /// Lines from the previous frames count. Default 2.
    pub linear_agreement: usize,
    /// Code 128: pixels between parallel scan lines. Default 14.
    pub linear_spacing: f32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            formats: vec![CodeFormat::Qr, CodeFormat::Code128],
            repeat_after_frames: 15,
            roi_frames: 30,
            normalize: true,
            full_resolution: true,
            inverted: true,
            linear_agreement: 2,
            linear_spacing: 14.0,
        }
    }
}

/// Which pass of the pipeline read a code (for logs and tuning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Around where a code was read in a recent frame, at full resolution.
    RegionOfInterest,
    /// The whole frame at half resolution.
    Downscaled,
    /// The whole frame at full resolution.
    FullResolution,
    /// Code 128 scan lines.
    ScanLines,
    /// The contrast-normalised half-resolution frame.
    Normalized,
}

/// A code read from a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The code's text.
    pub text: String,
    /// Its symbology.
    pub symbology: Symbology,
    /// Where it is in the frame, in pixels: four corners of the symbol (for
    /// QR), or of a thin box around the scan line that read it (Code 128).
    pub corners: [(f32, f32); 4],
}

/// A read not yet reported: a Code 128 text seen on fewer lines than
/// [`PipelineConfig::linear_agreement`].
#[derive(Debug, Clone)]
struct Hypothesis {
    text: String,
    lines: usize,
    frame: u64,
}

/// The decoding pipeline: one per camera; keeps what it saw in the last
/// frames.
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    frame_no: u64,
    /// Text → last frame it was read in.
    in_view: HashMap<String, u64>,
    /// Where the last code was (x0, y0, x1, y1) and in which frame.
    roi: Option<((f32, f32, f32, f32), u64)>,
    hypotheses: Vec<Hypothesis>,
    /// Rows of a frame with padding, packed (frames without padding are
    /// read in place).
    packed: Vec<u8>,
    last_stage: Option<Stage>,
}

impl Pipeline {
    /// A pipeline reading `config.formats`.
    pub fn new(config: PipelineConfig) -> Pipeline {
        Pipeline {
            config,
            frame_no: 0,
            in_view: HashMap::new(),
            roi: None,
            hypotheses: Vec::new(),
            packed: Vec::new(),
            last_stage: None,
        }
    }

    /// The pass that read a code in the last processed frame (also when the
    /// code was not reported again because it is still in view), or `None`
    /// when that frame held no code.
    pub fn last_stage(&self) -> Option<Stage> {
        self.last_stage
    }

    /// The configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Forgets every code seen, the region of interest and pending reads (a
    /// new checkout, or the camera was reopened).
    pub fn reset(&mut self) {
        self.in_view.clear();
        self.roi = None;
        self.hypotheses.clear();
    }

    /// Reads `frame`. Returns a code the first time it is read while held in
    /// view; the same code is returned again only after it was out of view
    /// for [`PipelineConfig::repeat_after_frames`] processed frames.
    /// Frames of any size and content are accepted; malformed ones (a buffer
    /// shorter than the size says) give `None`.
    pub fn process(&mut self, frame: &Frame) -> Option<Decoded> {
        self.frame_no += 1;
        self.last_stage = None;
        let now = self.frame_no;
        let mut buf = std::mem::take(&mut self.packed);
        let found = view(frame, &mut buf).and_then(|full| self.find(&full));
        self.packed = buf;
        let found = found?;
        let last = self.in_view.insert(found.text.clone(), now);
        self.in_view
            .retain(|_, seen| now - *seen <= u64::from(self.config.repeat_after_frames) + 1);
        match last {
            Some(seen) if now - seen <= u64::from(self.config.repeat_after_frames) => None,
            _ => Some(found),
        }
    }

    fn wants(&self, format: CodeFormat) -> bool {
        self.config.formats.contains(&format)
    }

    fn two_d_formats(&self) -> Vec<CodeFormat> {
        self.config
            .formats
            .iter()
            .copied()
            .filter(|f| *f != CodeFormat::Code128)
            .collect()
    }

    /// The first believable code in the frame, and remembers where.
    fn find(&mut self, full: &Gray) -> Option<Decoded> {
        let now = self.frame_no;
        let formats = self.two_d_formats();
        let found = self.find_in(full, &formats, now);
        self.last_stage = found.as_ref().map(|(_, stage)| *stage);
        let found = found.map(|(d, _)| d);
        if let Some(d) = &found {
            let xs = d.corners.map(|c| c.0);
            let ys = d.corners.map(|c| c.1);
            let rect = (
                xs.iter().copied().fold(f32::MAX, f32::min),
                ys.iter().copied().fold(f32::MAX, f32::min),
                xs.iter().copied().fold(f32::MIN, f32::max),
                ys.iter().copied().fold(f32::MIN, f32::max),
            );
            self.roi = Some((rect, now));
        }
        found
    }

    fn find_in(
        &mut self,
        full: &Gray,
        formats: &[CodeFormat],
        now: u64,
    ) -> Option<(Decoded, Stage)> {
        let invert = self.config.inverted;
        // 1. Where the last code was.
        if let Some((rect, seen)) = self.roi {
            if now - seen <= u64::from(self.config.roi_frames) && !formats.is_empty() {
                let (w, h) = (rect.2 - rect.0, rect.3 - rect.1);
                let margin = w.max(h) * 0.6 + 16.0;
                let crop_rect = (
                    (rect.0 - margin).max(0.0) as usize,
                    (rect.1 - margin).max(0.0) as usize,
                    (rect.2 + margin).max(0.0) as usize,
                    (rect.3 + margin).max(0.0) as usize,
                );
                let crop = full.crop(crop_rect);
                let offset = (crop_rect.0 as f32, crop_rect.1 as f32);
                let polarity = if invert {
                    Polarity::Both
                } else {
                    Polarity::Plain
                };
                if let Ok(d) = decode_2d(&crop, formats, polarity, true, 1.0, offset) {
                    return Some((d, Stage::RegionOfInterest));
                }
                if self.config.normalize {
                    let n = crop.normalized(8, 3);
                    if let Ok(d) = decode_2d(&n, formats, polarity, false, 1.0, offset) {
                        return Some((d, Stage::RegionOfInterest));
                    }
                }
            }
        }
        // 2. The whole frame, 2× smaller; the perspective rescue only when
        // there is no full-resolution pass to run it on finer pixels (on a
        // frame nobody can read it costs ~0.2 ms a pass).
        let full_pass = self.config.full_resolution && !formats.is_empty();
        let half = (!formats.is_empty()).then(|| full.half());
        let mut missed = Missed::default();
        if let Some(half) = &half {
            // (Light on dark only when the plain image did not show a
            // dark-on-light symbol's three finders.)
            let polarity = if invert {
                Polarity::BothUnlessFinders
            } else {
                Polarity::Plain
            };
            match decode_2d(half, formats, polarity, !full_pass, 2.0, (0.0, 0.0)) {
                Ok(d) => return Some((d, Stage::Downscaled)),
                Err(m) => missed = m,
            }
        }
        // 3. Where the downscale showed no finder-like pattern at all, a
        // barcode is as likely, and the scan lines cost about as much as
        // the full-resolution pass: them first. Also where it showed one
        // or two (not a QR symbol's three) but bars cover a large part of
        // the frame: a barcode held close, with clutter around it that
        // looks like a finder. (The cover is measured on the downscale: a
        // quarter of the pixels, and a barcode held close has modules wide
        // enough.)
        let lines_first = missed.qr_finders == 0
            || (missed.qr_finders < 3
                && self.wants(CodeFormat::Code128)
                && half.as_ref().is_some_and(|h| {
                    orient::sweeps(h, 1)
                        .first()
                        .is_some_and(|s| (LARGE_BARCODE.0..LARGE_BARCODE.1).contains(&s.cover))
                }));
        if lines_first {
            if let Some(d) = self.find_linear(full) {
                return Some((d, Stage::ScanLines));
            }
        }
        // 4. Small modules, strong perspective: the whole frame at full
        // resolution.
        if full_pass {
            // Light on dark only where the downscale showed finder-like
            // patterns of such a code, or, in a small frame (where a second
            // search costs under a millisecond), where most of it is dark (a
            // light-on-dark code sits on a dark surface: a phone in dark
            // mode, a dark box) and the plain image shows no complete QR
            // (three finder-like patterns: a dark-on-light code on a dark
            // shirt or box, which the inverted image cannot hold).
            // Otherwise a second whole-frame search on every frame without
            // a code would cost ~4 ms at 1280×720. The normalised pass
            // below looks for one only where a pass saw its finders.
            let polarity = if invert && missed.inverted_finders > 0 {
                Polarity::Both
            } else if invert
                && full.width * full.height <= SMALL_FRAME
                && half.as_ref().is_some_and(|h| h.mean() < 128)
            {
                Polarity::BothUnlessFinders
            } else {
                Polarity::Plain
            };
            match decode_2d(full, formats, polarity, true, 1.0, (0.0, 0.0)) {
                Ok(d) => return Some((d, Stage::FullResolution)),
                Err(m) => {
                    missed.qr_finders += m.qr_finders;
                    missed.inverted_finders += m.inverted_finders;
                }
            }
        }
        // 5. Code 128 along scan lines.
        if !lines_first {
            if let Some(d) = self.find_linear(full) {
                return Some((d, Stage::ScanLines));
            }
        }
        // 6. Dim, noisy, glared: the normalised downscale (in a frame of
        // 320×240 or less, the normalised frame itself: a code in it is
        // small, and the downscale would leave its modules a pixel or two).
        // Only where a QR pass saw finder-like patterns (either way
        // round): a code whose modules the hybrid threshold lost to glare
        // or dimness still shows its finders, and a frame without any is
        // spared a pass.
        let finders = missed.qr_finders + missed.inverted_finders;
        if let (Some(half), true) = (&half, self.config.normalize && finders > 0) {
            // (Without the perspective rescue, ~0.2 ms on a frame it cannot
            // read: this pass is for contrast, the rescue for geometry, and
            // the passes before ran it.)
            let (n, scale) = if full.width * full.height <= SMALL_FRAME / 4 {
                (full.normalized(8, 3), 1.0)
            } else {
                (half.normalized(8, 3), 2.0)
            };
            // Light on dark too where a pass saw such a code's finders.
            let polarity = if invert && missed.inverted_finders > 0 {
                Polarity::Both
            } else {
                Polarity::Plain
            };
            if let Ok(d) = decode_2d(&n, formats, polarity, false, scale, (0.0, 0.0)) {
                return Some((d, Stage::Normalized));
            }
        }
        None
    }

    /// Code 128 along scan lines, when configured.
    fn find_linear(&mut self, full: &Gray) -> Option<Decoded> {
        if !self.wants(CodeFormat::Code128) {
            return None;
        }
        let now = self.frame_no;
        self.hypotheses.retain(|h| now - h.frame <= 3);
        let config = &self.config;
        let need = config.linear_agreement.max(1);
        // (No direction with bars: nothing to scan.)
        let sweeps = orient::sweeps(full, 3);
        if sweeps.is_empty() {
            return None;
        }
        let reads = catch_unwind(AssertUnwindSafe(|| {
            linear::scan(full, &sweeps, config.linear_spacing.max(1.0), need)
        }))
        .unwrap_or_default();
        // (text, lines that read it, ends of the first such line)
        type Tally = (String, usize, [(f32, f32); 2]);
        let mut counts: Vec<Tally> = Vec::new();
        for read in reads {
            match counts.iter_mut().find(|(t, _, _)| *t == read.text) {
                Some(entry) => entry.1 += 1,
                None => counts.push((read.text, 1, read.ends)),
            }
        }
        let mut best = None;
        for (text, lines, ends) in counts {
            let earlier = self
                .hypotheses
                .iter()
                .find(|h| h.text == text)
                .map_or(0, |h| h.lines);
            if lines + earlier >= need {
                best = Some((text, ends));
                break;
            }
            match self.hypotheses.iter_mut().find(|h| h.text == text) {
                Some(h) => {
                    h.lines += lines;
                    h.frame = now;
                }
                None => self.hypotheses.push(Hypothesis {
                    text,
                    lines,
                    frame: now,
                }),
            }
        }
        let (text, [a, b]) = best?;
        self.hypotheses.retain(|h| h.text != text);
        // A thin box around the line that read it.
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (-dy / len * 8.0, dx / len * 8.0);
        Some(Decoded {
            text,
            symbology: Symbology::Code128,
            corners: [
                (a.0 + nx, a.1 + ny),
                (b.0 + nx, b.1 + ny),
                (b.0 - nx, b.1 - ny),
                (a.0 - nx, a.1 - ny),
            ],
        })
    }
}

/// The frame's luma as a packed image: in place when its rows have no
/// padding, else copied into `buf`. `None` when it is malformed or too
/// small to hold a code.
fn view<'a>(frame: &'a Frame, buf: &'a mut Vec<u8>) -> Option<Gray<'a>> {
    let (w, h) = (frame.width, frame.height);
    if w < 21 || h < 21 || frame.stride < w || w > u32::MAX as usize || h > u32::MAX as usize {
        return None;
    }
    let needed = frame.stride.checked_mul(h - 1)?.checked_add(w)?;
    if frame.luma.len() < needed {
        return None;
    }
    let data = if frame.stride == w {
        &frame.luma[..w * h]
    } else {
        buf.clear();
        for row in frame.luma.chunks(frame.stride).take(h) {
            buf.extend_from_slice(&row[..w]);
        }
        &buf[..]
    };
    Some(Gray {
        width: w,
        height: h,
        data: data.into(),
    })
}

/// Which way round a 2D pass looks for QR symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polarity {
    /// Dark on light only.
    Plain,
    /// Light on dark only (QR; other formats are not looked for).
    Inverted,
    /// Dark on light, then light on dark.
    Both,
    /// Dark on light, then light on dark only when the plain image showed
    /// fewer than three finder-like patterns (three are a dark-on-light
    /// symbol that could not be read, not a light-on-dark one).
    BothUnlessFinders,
}

/// Whether a pass looks for light-on-dark QR symbols, where the plain
/// image (if searched) showed `plain_finders` finder-like patterns.
fn search_inverted(polarity: Polarity, plain_finders: usize) -> bool {
    match polarity {
        Polarity::Plain => false,
        Polarity::Inverted | Polarity::Both => true,
        Polarity::BothUnlessFinders => plain_finders < 3,
    }
}

/// Runs rxing's readers for `formats` on `img` (QR dark on light and/or
/// light on dark as `polarity` says, and through the perspective rescue
/// when `rescue`); points are scaled by `scale` and moved by `offset` back
/// into frame coordinates.
fn decode_2d(
    img: &Gray,
    formats: &[CodeFormat],
    polarity: Polarity,
    rescue: bool,
    scale: f32,
    offset: (f32, f32),
) -> Result<Decoded, Missed> {
    let mut missed = Missed::default();
    if img.width < 21 || img.height < 21 {
        return Err(missed);
    }
    let hints = DecodeHints {
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    let (width, height) = (img.width as u32, img.height as u32);
    for &format in formats {
        if polarity == Polarity::Inverted && format != CodeFormat::Qr {
            continue;
        }
        // rxing is a large port of zxing: a panic on some odd image must not
        // take the camera thread down.
        let (result, finders, inverted_finders) = catch_unwind(AssertUnwindSafe(|| {
            let (mut read_plain, mut found) = (None, 0);
            if polarity != Polarity::Inverted {
                let Ok(source) = Luma8Source::new_with_slice(&img.data, width, height) else {
                    return (None, 0, 0);
                };
                (read_plain, found) = read(
                    &mut BinaryBitmap::new(FastHybrid::new(source)),
                    format,
                    &hints,
                    rescue,
                );
            }
            if read_plain.is_some() || !search_inverted(polarity, found) || format != CodeFormat::Qr
            {
                return (read_plain, found, 0);
            }
            // The inverted image, thresholded afresh (flipping the black
            // matrix is not the same: flat areas are white in both, and a
            // flat dark quiet zone would join the finders' light outer
            // rings).
            let inverted: Vec<u8> = img.data.iter().map(|p| !p).collect();
            let Ok(source) = Luma8Source::new_with_slice(&inverted, width, height) else {
                return (None, found, 0);
            };
            let (read_inverted, more) = read(
                &mut BinaryBitmap::new(FastHybrid::new(source)),
                format,
                &hints,
                rescue,
            );
            (read_inverted, found, more)
        }))
        .unwrap_or((None, 0, 0));
        missed.qr_finders += finders;
        missed.inverted_finders += inverted_finders;
        let Some(result) = result else { continue };
        let text = result.getText().to_owned();
        if text.is_empty() {
            continue;
        }
        let points: Vec<(f32, f32)> = result
            .getPoints()
            .iter()
            .map(|p| (p.x * scale + offset.0, p.y * scale + offset.1))
            .collect();
        return Ok(Decoded {
            text,
            symbology: format.symbology(),
            corners: quad(&points),
        });
    }
    Err(missed)
}

/// What a 2D pass that read nothing saw.
#[derive(Debug, Default, Clone, Copy)]
struct Missed {
    /// QR finder-like patterns found.
    qr_finders: usize,
    /// QR finder-like patterns found in the inverted image (light on dark).
    inverted_finders: usize,
}

/// One rxing reader for `format` on a binarized image, and the QR finder
/// patterns it saw.
fn read<B: Binarizer>(
    bitmap: &mut BinaryBitmap<B>,
    format: CodeFormat,
    hints: &DecodeHints,
    rescue: bool,
) -> (Option<RXingResult>, usize) {
    match format {
        CodeFormat::Qr => read_qr(
            bitmap.get_black_matrix(),
            hints.TryHarder == Some(true),
            rescue,
        ),
        CodeFormat::DataMatrix => (
            rxing::datamatrix::DataMatrixReader
                .decode_with_hints(bitmap, hints)
                .ok(),
            0,
        ),
        CodeFormat::Pdf417 => (
            rxing::pdf417::PDF417Reader
                .decode_with_hints(bitmap, hints)
                .ok(),
            0,
        ),
        CodeFormat::Code128 => (None, 0),
    }
}

/// rxing's QR reader (its port of zxing-cpp's) for QR symbols only: its
/// `QrReader` also samples every finder-like pattern as a Micro QR and an
/// rMQR symbol. Also gives the number of finder patterns found.
fn read_qr(matrix: &BitMatrix, try_harder: bool, rescue: bool) -> (Option<RXingResult>, usize) {
    let mut finders = FindFinderPatterns(matrix, try_harder, 0);
    let found = finders.len();
    let sets = GenerateFinderPatternSets(&mut finders);
    let read = sets
        .iter()
        .find_map(|set| {
            let detected = SampleQR(matrix, set).ok()?;
            if !timing_patterns_hold(detected.getBits()) {
                return None;
            }
            let decoded = qr_grid::decode(detected.getBits()).ok()?;
            decoded.isValid().then(|| {
                RXingResult::with_decoder_result(
                    decoded,
                    detected.getPoints(),
                    BarcodeFormat::QR_CODE,
                )
            })
        })
        // A steep angle: the finders again, grouped and sampled through
        // their own corners.
        .or_else(|| {
            if !rescue {
                return None;
            }
            perspective::candidate_sets(&finders)
                .iter()
                .find_map(|set| perspective::read(matrix, set))
        });
    (read, found)
}

/// Whether a sampled QR grid's timing patterns (row and column 6 between
/// the finders, alternating dark and light) mostly hold. A grid sampled at
/// the wrong size or place matches them about half the time, like noise;
/// every grid read in the camera benchmark (generated frames and real
/// photos, ~1,100 reads) matched at least 80 %. Below 60 % the grid is not
/// worth an error-correction attempt, which costs more than sampling it.
fn timing_patterns_hold(bits: &BitMatrix) -> bool {
    bits.height() != bits.width() || timing_holds(bits.width(), |x, y| Some(bits.get(x, y)))
}

/// [`timing_patterns_hold`] for a `dim`×`dim` grid read module by module
/// through `module` (dark or light; `None`, off the image, counts as a
/// mismatch): a grid can be judged before it is sampled whole.
fn timing_holds(dim: u32, mut module: impl FnMut(u32, u32) -> Option<bool>) -> bool {
    if dim < 21 {
        return true;
    }
    let (mut hold, mut modules) = (0u32, 0u32);
    for i in 8..dim - 8 {
        let dark = Some(i % 2 == 0);
        hold += u32::from(module(i, 6) == dark) + u32::from(module(6, i) == dark);
        modules += 2;
    }
    hold * 10 >= modules * 6
}

/// Four corners from a decoder's points: the points themselves when there
/// are four, else their bounding box.
fn quad(points: &[(f32, f32)]) -> [(f32, f32); 4] {
    if let [a, b, c, d] = points {
        return [*a, *b, *c, *d];
    }
    if points.is_empty() {
        return [(0.0, 0.0); 4];
    }
    let x0 = points.iter().map(|p| p.0).fold(f32::MAX, f32::min);
    let y0 = points.iter().map(|p| p.1).fold(f32::MAX, f32::min);
    let x1 = points.iter().map(|p| p.0).fold(f32::MIN, f32::max);
    let y1 = points.iter().map(|p| p.1).fold(f32::MIN, f32::max);
    [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "134567890123456789";

    /// A `w`×`h` light frame with a Code 128 of `CODE` drawn with its bars
    /// running across the frame (the label turned 90°), `scale` pixels a
    /// module and `bar` pixels long, and finder-like squares (7×7 modules
    /// of 1:1:3:1:1 rings, 4 px a module) beside it: print on a label
    /// that is not a QR symbol.
    fn barcode_held_close(w: usize, h: usize, scale: usize, bar: usize) -> Frame {
        use rxing::Writer;
        let bits = rxing::MultiFormatWriter
            .encode(CODE, &BarcodeFormat::CODE_128, 0, 0)
            .expect("encodes");
        let mut luma = vec![200u8; w * h];
        for m in 0..bits.width() as usize {
            if !bits.get(m as u32, 0) {
                continue;
            }
            for y in 20 + m * scale..20 + (m + 1) * scale {
                for x in 60..60 + bar {
                    if y < h && x < w {
                        luma[y * w + x] = 30;
                    }
                }
            }
        }
        for (fx, fy) in [(100 + bar, 40), (100 + bar, 140), (180 + bar, 40)] {
            for my in 0..7usize {
                for mx in 0..7usize {
                    let ring = mx.min(my).min(6 - mx).min(6 - my);
                    if ring != 1 {
                        for y in fy + my * 4..fy + (my + 1) * 4 {
                            for x in fx + mx * 4..fx + (mx + 1) * 4 {
                                if y < h && x < w {
                                    luma[y * w + x] = 30;
                                }
                            }
                        }
                    }
                }
            }
        }
        Frame::packed(w, h, luma, 1).expect("a packed frame")
    }

    #[test]
    fn a_barcode_held_close_and_sideways_beside_finder_like_print_is_read_by_the_lines() {
        let frame = barcode_held_close(640, 480, 3, 220);
        let luma = frame.luma.to_vec();
        let full = Gray {
            width: 640,
            height: 480,
            data: luma.into(),
        };
        let half = full.half();
        // What the order depends on: the downscale sees finder-like
        // patterns, and bars over a large share of it.
        let (_, missed) = (
            (),
            decode_2d(
                &half,
                &[CodeFormat::Qr],
                Polarity::Plain,
                false,
                2.0,
                (0.0, 0.0),
            )
            .expect_err("no QR symbol"),
        );
        assert!(missed.qr_finders > 0, "{missed:?}");
        let cover = orient::sweeps(&half, 1).first().expect("a sweep").cover;
        assert!(
            (LARGE_BARCODE.0..LARGE_BARCODE.1).contains(&cover),
            "{cover}"
        );
        let mut pipeline = Pipeline::new(PipelineConfig::default());
        let read = pipeline.process(&frame).expect("a read");
        assert_eq!(read.text, CODE);
        assert_eq!(read.symbology, Symbology::Code128);
        assert_eq!(pipeline.last_stage(), Some(Stage::ScanLines));
    }

    /// `CODE` as a QR symbol, `module` pixels a module, dark on light or
    /// light on dark, on a small frame that is mostly dark (a dark shirt, a
    /// phone in dark mode).
    fn qr_on_dark(light_on_dark: bool, module: usize) -> Frame {
        use rxing::Writer;
        let bits = rxing::MultiFormatWriter
            .encode(CODE, &BarcodeFormat::QR_CODE, 0, 0)
            .expect("encodes");
        let (w, h) = (320, 240);
        let mut luma = vec![40u8; w * h];
        let n = bits.width() as usize;
        let (x0, y0) = (60, 30);
        let (dark, light) = if light_on_dark { (40, 215) } else { (30, 220) };
        for my in 0..n + 8 {
            for mx in 0..n + 8 {
                let inside = (4..n + 4).contains(&mx) && (4..n + 4).contains(&my);
                let is_dark = inside && bits.get((mx - 4) as u32, (my - 4) as u32);
                let value = match (is_dark, light_on_dark) {
                    (true, false) | (false, true) => dark,
                    _ => light,
                };
                for y in y0 + my * module..y0 + (my + 1) * module {
                    for x in x0 + mx * module..x0 + (mx + 1) * module {
                        if y < h && x < w {
                            luma[y * w + x] = value;
                        }
                    }
                }
            }
        }
        Frame::packed(w, h, luma, 1).expect("a packed frame")
    }

    #[test]
    fn small_dark_frames_read_dark_on_light_and_light_on_dark_codes() {
        for light_on_dark in [false, true] {
            let mut pipeline = Pipeline::new(PipelineConfig::default());
            let read = pipeline.process(&qr_on_dark(light_on_dark, 5));
            assert_eq!(
                read.map(|d| d.text).as_deref(),
                Some(CODE),
                "light on dark: {light_on_dark}"
            );
        }
        // Light on dark is off: only the dark-on-light code is read.
        let config = PipelineConfig {
            inverted: false,
            ..PipelineConfig::default()
        };
        assert!(
            Pipeline::new(config.clone())
                .process(&qr_on_dark(false, 5))
                .is_some()
        );
        assert!(
            Pipeline::new(config)
                .process(&qr_on_dark(true, 5))
                .is_none()
        );
    }

    #[test]
    fn the_inverted_image_is_searched_unless_the_plain_one_showed_three_finders() {
        assert!(!search_inverted(Polarity::Plain, 0));
        assert!(search_inverted(Polarity::Inverted, 5));
        assert!(search_inverted(Polarity::Both, 5));
        assert!(search_inverted(Polarity::BothUnlessFinders, 2));
        assert!(!search_inverted(Polarity::BothUnlessFinders, 3));
        // A light-on-dark symbol: the plain image shows no finders, so
        // the inverted one is searched and read.
        let frame = qr_on_dark(true, 3);
        let img = Gray {
            width: 320,
            height: 240,
            data: frame.luma.to_vec().into(),
        };
        let read = decode_2d(
            &img,
            &[CodeFormat::Qr],
            Polarity::BothUnlessFinders,
            false,
            1.0,
            (0.0, 0.0),
        )
        .expect("read light on dark");
        assert_eq!(read.text, CODE);
    }

    /// `CODE` as a small QR symbol (`module` pixels a module) on a small
    /// dim frame lit unevenly: dark 70, light 95 on the left, the light
    /// side brightening to the right, with a bright patch beside it.
    fn small_dim_qr(module: usize) -> Frame {
        use rxing::Writer;
        let bits = rxing::MultiFormatWriter
            .encode(CODE, &BarcodeFormat::QR_CODE, 0, 0)
            .expect("encodes");
        let (w, h) = (240, 240);
        let n = bits.width() as usize;
        let (x0, y0) = (70, 70);
        let luma = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let light = 95 + (x * 40 / w) as u8;
                if x > 200 && y < 60 {
                    return 250;
                }
                let (mx, my) = (
                    (x as isize - x0 as isize) / module as isize,
                    (y as isize - y0 as isize) / module as isize,
                );
                let inside = x >= x0 && y >= y0 && (mx as usize) < n && (my as usize) < n;
                if inside && bits.get(mx as u32, my as u32) {
                    70
                } else {
                    light
                }
            })
            .collect();
        Frame::packed(w, h, luma, 1).expect("a packed frame")
    }

    #[test]
    fn a_small_dim_code_in_a_small_frame_is_normalised_at_full_resolution() {
        let mut pipeline = Pipeline::new(PipelineConfig::default());
        let read = pipeline.process(&small_dim_qr(3));
        assert_eq!(read.map(|d| d.text).as_deref(), Some(CODE));
        assert_eq!(pipeline.last_stage(), Some(Stage::Normalized));
    }

    #[test]
    fn a_small_dim_light_on_dark_code_is_normalised_too() {
        let frame = small_dim_qr(3);
        let inverted: Vec<u8> = frame.luma.iter().map(|p| !p).collect();
        let frame = Frame::packed(frame.width, frame.height, inverted, 2).expect("a packed frame");
        let mut pipeline = Pipeline::new(PipelineConfig::default());
        let read = pipeline.process(&frame);
        assert_eq!(read.map(|d| d.text).as_deref(), Some(CODE));
        assert_eq!(pipeline.last_stage(), Some(Stage::Normalized));
        // Not looked for with light on dark off.
        let config = PipelineConfig {
            inverted: false,
            ..PipelineConfig::default()
        };
        assert!(Pipeline::new(config).process(&frame).is_none());
    }

    #[test]
    fn timing_patterns_tell_a_symbol_from_a_misplaced_grid() {
        use rxing::Writer;
        let bits = rxing::MultiFormatWriter
            .encode(CODE, &BarcodeFormat::QR_CODE, 0, 0)
            .expect("encodes");
        // The writer adds a 4-module quiet zone: the symbol itself.
        let n = bits.width() - 8;
        let mut symbol = BitMatrix::new(n, n).expect("matrix");
        let mut shifted = BitMatrix::new(n, n).expect("matrix");
        for y in 0..n {
            for x in 0..n {
                if bits.get(x + 4, y + 4) {
                    symbol.set(x, y);
                }
                // The same symbol sampled one module off.
                if bits.get(x + 5, y + 4) {
                    shifted.set(x, y);
                }
            }
        }
        assert!(timing_patterns_hold(&symbol));
        assert!(!timing_patterns_hold(&shifted));
        // Too small to hold timing patterns between the finders: not judged.
        assert!(timing_patterns_hold(
            &BitMatrix::new(11, 11).expect("matrix")
        ));
    }
}
