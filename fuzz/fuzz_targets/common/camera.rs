//! What both camera targets check on a frame that reached the decoding
//! pipeline.

use kassa_drivers::camera::{CodeFormat, Frame, Pipeline, PipelineConfig};

/// The pipeline's settings, chosen by the input: the symbologies kassad
/// can be configured to read, and the optional passes on or off.
pub fn pipeline(choice: u8) -> Pipeline {
    let mut config = PipelineConfig::default();
    if choice & 1 == 1 {
        config.formats = vec![
            CodeFormat::Qr,
            CodeFormat::Code128,
            CodeFormat::DataMatrix,
            CodeFormat::Pdf417,
        ];
    }
    config.normalize = choice & 2 == 0;
    config.full_resolution = choice & 4 == 0;
    Pipeline::new(config)
}

/// Runs `frame` through `pipeline` twice: a code read from the first is
/// inside the frame and is not reported again from the same frame held
/// in view.
pub fn decode_twice(pipeline: &mut Pipeline, frame: &Frame) {
    let first = pipeline.process(frame);
    if let Some(code) = &first {
        for (x, y) in code.corners {
            assert!(x.is_finite() && y.is_finite(), "corner {x},{y}");
        }
    }
    let second = pipeline.process(frame);
    if let (Some(first), Some(second)) = (&first, &second) {
        assert_ne!(first.text, second.text, "the same code reported twice");
    }
}
