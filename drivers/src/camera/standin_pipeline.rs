//! STAND-IN for the decoding pipeline of branch camera-decode, with the
//! same signatures, so that capture, the camera scanner and kassad can be
//! built and tested before it lands. Delete this file (and the `rqrr`
//! dependency) when merging camera-decode.
//!
//! It reads QR codes only (rqrr, whole frame, no pyramid or region of
//! interest); other configured formats are accepted and never read.

use kassa_hal::Symbology;

use super::Frame;

/// A symbology the pipeline can be asked to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeFormat {
    /// QR Code.
    Qr,
    /// Code 128.
    Code128,
    /// Data Matrix.
    DataMatrix,
    /// PDF417.
    Pdf417,
}

/// What the pipeline reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Only these formats are tried.
    pub formats: Vec<CodeFormat>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            formats: vec![CodeFormat::Qr, CodeFormat::Code128],
        }
    }
}

/// One code read from a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The payload.
    pub text: String,
    /// Its symbology.
    pub symbology: Symbology,
}

/// Frames in, codes out; a code held in view is reported once.
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    last: Option<String>,
    frames_without: u32,
}

/// Frames without the last code after which it counts as gone.
const GONE_AFTER: u32 = 3;

impl Pipeline {
    /// A pipeline for `config`.
    pub fn new(config: PipelineConfig) -> Pipeline {
        Pipeline {
            config,
            last: None,
            frames_without: 0,
        }
    }

    /// Reads `frame`; `Some` only for a code newly in view.
    pub fn process(&mut self, frame: &Frame) -> Option<Decoded> {
        let text = if self.config.formats.contains(&CodeFormat::Qr) {
            read_qr(frame)
        } else {
            None
        };
        match text {
            Some(text) if self.last.as_deref() == Some(text.as_str()) => {
                self.frames_without = 0;
                None
            }
            Some(text) => {
                self.last = Some(text.clone());
                self.frames_without = 0;
                Some(Decoded {
                    text,
                    symbology: Symbology::Qr,
                })
            }
            None => {
                self.frames_without += 1;
                if self.frames_without >= GONE_AFTER {
                    self.last = None;
                }
                None
            }
        }
    }

    /// Forgets what was in view.
    pub fn reset(&mut self) {
        self.last = None;
        self.frames_without = 0;
    }
}

fn read_qr(frame: &Frame) -> Option<String> {
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(frame.width, frame.height, |x, y| {
            frame
                .row(y)
                .and_then(|row| row.get(x).copied())
                .unwrap_or(255)
        });
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}
