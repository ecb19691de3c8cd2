//! The camera decoding pipeline on generated frames: exact payloads per
//! category, no read at all from empty frames, a code in view reported
//! once, and the region of interest carried from frame to frame.
#![cfg(feature = "camera")]

use kassa_camera_frames::{Category, Drawn, SEED, Sample, generate};
use kassa_drivers::camera::Frame;
use kassa_drivers::camera::decode::{CodeFormat, Pipeline, PipelineConfig, Stage};
use kassa_hal::Symbology;

fn frame(sample: &Sample, seq: u64) -> Frame {
    Frame::packed(sample.width, sample.height, sample.luma.clone(), seq).unwrap()
}

fn pipeline() -> Pipeline {
    Pipeline::new(PipelineConfig::default())
}

/// Decodes `category` frame `index` at `width` × `height` with a fresh
/// pipeline and asserts the exact payload and symbology.
fn assert_reads(category: Category, index: u64, width: usize, height: usize) {
    let sample = generate(category, index, SEED, width, height);
    let (text, drawn) = sample.expected.clone().expect("a frame with a code");
    let read = pipeline().process(&frame(&sample, 1));
    let read =
        read.unwrap_or_else(|| panic!("{} #{index} at {width}x{height}: no read", category.name()));
    assert_eq!(
        read.text,
        text,
        "{} #{index} at {width}x{height}",
        category.name()
    );
    let symbology = match drawn {
        Drawn::Qr => Symbology::Qr,
        Drawn::Code128 => Symbology::Code128,
    };
    assert_eq!(read.symbology, symbology);
}

// Frames 0, 1 and 2 of a QR category hold a WeChat Pay code (QR version 1),
// an Alipay code (QR version 1) and an EMVCo merchant payload.

#[test]
fn nominal_payment_codes_and_emvco_payloads() {
    assert_reads(Category::Nominal, 2, 1280, 720);
    assert_reads(Category::Nominal, 0, 640, 360);
    assert_reads(Category::Nominal, 1, 640, 360);
}

#[test]
fn small_modules() {
    assert_reads(Category::SmallModules, 0, 1280, 720);
    assert_reads(Category::SmallModules, 2, 1280, 720);
}

#[test]
fn rotation() {
    assert_reads(Category::Rotation, 0, 1280, 720);
    assert_reads(Category::Rotation, 2, 640, 360);
}

#[test]
fn perspective() {
    assert_reads(Category::Perspective, 1, 1280, 720);
    assert_reads(Category::Perspective, 2, 640, 360);
}

#[test]
fn blur() {
    assert_reads(Category::Blur, 0, 1280, 720);
    assert_reads(Category::Blur, 1, 640, 360);
}

#[test]
fn dim_and_noisy() {
    assert_reads(Category::DimNoise, 0, 1280, 720);
    assert_reads(Category::DimNoise, 3, 640, 360);
}

#[test]
fn glare() {
    assert_reads(Category::Glare, 2, 1280, 720);
    assert_reads(Category::Glare, 0, 640, 360);
}

#[test]
fn moire() {
    assert_reads(Category::Moire, 0, 1280, 720);
    assert_reads(Category::Moire, 0, 640, 360);
}

#[test]
fn phone_screen() {
    assert_reads(Category::PhoneScreen, 0, 1280, 720);
    assert_reads(Category::PhoneScreen, 1, 640, 360);
}

#[test]
fn code128_level_and_tilted() {
    assert_reads(Category::Code128, 2, 1280, 720);
    assert_reads(Category::Code128, 3, 1280, 720);
    assert_reads(Category::Code128Tilted, 0, 1280, 720);
    assert_reads(Category::Code128Tilted, 3, 1280, 720);
}

#[test]
fn empty_frames_give_no_read_at_all() {
    let mut p = pipeline();
    let mut frames: Vec<Frame> = vec![frame(&generate(Category::Empty, 0, SEED, 1280, 720), 0)];
    for i in 0..4 {
        frames.push(frame(&generate(Category::Empty, i, SEED, 640, 360), 0));
    }
    // Flat black, flat white, and noise.
    let mut state = 1u32;
    let noise: Vec<u8> = (0..320 * 240)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();
    frames.push(Frame::packed(320, 240, vec![0; 320 * 240], 0).unwrap());
    frames.push(Frame::packed(320, 240, vec![255; 320 * 240], 0).unwrap());
    frames.push(Frame::packed(320, 240, noise, 0).unwrap());
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(p.process(f), None, "empty frame {i}");
        assert_eq!(p.last_stage(), None, "empty frame {i}");
    }
}

#[test]
fn malformed_and_odd_frames_are_refused_without_panic() {
    let mut p = pipeline();
    let odd = [
        Frame {
            width: 0,
            height: 0,
            stride: 0,
            luma: vec![].into(),
            seq: 0,
        },
        Frame {
            width: 1,
            height: 1,
            stride: 1,
            luma: vec![0].into(),
            seq: 1,
        },
        // The buffer is shorter than the size says.
        Frame {
            width: 640,
            height: 480,
            stride: 640,
            luma: vec![0; 1000].into(),
            seq: 2,
        },
        // A stride shorter than a row.
        Frame {
            width: 64,
            height: 64,
            stride: 10,
            luma: vec![0; 4096].into(),
            seq: 3,
        },
        // Sizes that overflow.
        Frame {
            width: usize::MAX,
            height: usize::MAX,
            stride: usize::MAX,
            luma: vec![0; 16].into(),
            seq: 4,
        },
        Frame {
            width: 21,
            height: 4000,
            stride: 21,
            luma: vec![7; 21 * 4000].into(),
            seq: 5,
        },
    ];
    for f in &odd {
        assert_eq!(
            p.process(f),
            None,
            "{}x{} stride {}",
            f.width,
            f.height,
            f.stride
        );
    }
}

#[test]
fn padded_rows_read_like_packed_ones() {
    // A capture driver may hand over rows with padding (stride > width).
    let s = generate(Category::Nominal, 0, SEED, 640, 360);
    let stride = 640 + 64;
    let mut luma = vec![0u8; stride * 360];
    for y in 0..360 {
        luma[y * stride..y * stride + 640].copy_from_slice(&s.luma[y * 640..(y + 1) * 640]);
    }
    let f = Frame {
        width: 640,
        height: 360,
        stride,
        luma: luma.into(),
        seq: 0,
    };
    let read = pipeline().process(&f).expect("a read");
    assert_eq!(Some(read.text), s.expected.map(|(t, _)| t));
}

#[test]
fn a_code_held_in_view_is_reported_once() {
    let config = PipelineConfig::default();
    let repeat_after = config.repeat_after_frames as usize;
    let mut p = Pipeline::new(config);
    let code = generate(Category::Nominal, 0, SEED, 640, 360);
    let text = code.expected.clone().unwrap().0;
    let empty = generate(Category::Empty, 0, SEED, 640, 360);
    let mut seq = 0;
    let mut next = |s: &Sample| {
        seq += 1;
        frame(s, seq)
    };
    assert_eq!(p.process(&next(&code)).map(|d| d.text), Some(text.clone()));
    for _ in 0..3 {
        assert_eq!(p.process(&next(&code)), None, "still in view");
    }
    // Missed for a few frames (a hand in the way): still the same showing.
    for _ in 0..3 {
        assert_eq!(p.process(&next(&empty)), None);
    }
    assert_eq!(p.process(&next(&code)), None, "back after a short gap");
    // Out of view for longer than repeat_after_frames: reported again.
    for _ in 0..=repeat_after {
        assert_eq!(p.process(&next(&empty)), None);
    }
    assert_eq!(p.process(&next(&code)).map(|d| d.text), Some(text.clone()));
    // reset() forgets it at once (a new checkout).
    p.reset();
    assert_eq!(p.process(&next(&code)).map(|d| d.text), Some(text));
}

#[test]
fn the_region_of_interest_is_carried_to_the_next_frame() {
    let mut p = pipeline();
    let s = generate(Category::Nominal, 1, SEED, 1280, 720);
    let first = p.process(&frame(&s, 1)).expect("a read");
    assert_ne!(p.last_stage(), Some(Stage::RegionOfInterest));
    // The code's corners are where it was drawn.
    let centre = |q: &[(f32, f32); 4]| {
        (
            q.iter().map(|c| c.0).sum::<f32>() / 4.0,
            q.iter().map(|c| c.1).sum::<f32>() / 4.0,
        )
    };
    let (got, want) = (centre(&first.corners), centre(&s.corners));
    assert!(
        (got.0 - want.0).abs() < 40.0 && (got.1 - want.1).abs() < 40.0,
        "{got:?} vs {want:?}"
    );
    // Next frame: read again in the region where it was, not reported again.
    assert_eq!(p.process(&frame(&s, 2)), None);
    assert_eq!(p.last_stage(), Some(Stage::RegionOfInterest));
    // After reset() the region is forgotten too.
    p.reset();
    assert!(p.process(&frame(&s, 3)).is_some());
    assert_ne!(p.last_stage(), Some(Stage::RegionOfInterest));
}

#[test]
fn only_the_configured_formats_are_read() {
    let qr = generate(Category::Nominal, 0, SEED, 640, 360);
    let bar = generate(Category::Code128, 2, SEED, 1280, 720);
    let mut qr_only = Pipeline::new(PipelineConfig {
        formats: vec![CodeFormat::Qr],
        ..PipelineConfig::default()
    });
    assert_eq!(qr_only.process(&frame(&bar, 1)), None);
    assert!(qr_only.process(&frame(&qr, 2)).is_some());
    let mut code128_only = Pipeline::new(PipelineConfig {
        formats: vec![CodeFormat::Code128],
        ..PipelineConfig::default()
    });
    assert_eq!(code128_only.process(&frame(&qr, 1)), None);
    assert_eq!(
        code128_only.process(&frame(&bar, 2)).map(|d| d.text),
        bar.expected.map(|(t, _)| t)
    );
}

/// A `w`×`h` frame with `format`'s symbol for `text` drawn at `scale`
/// pixels a module (a linear symbol 40 modules tall), dark grey on light
/// grey, 40 px from the corner.
fn drawn(format: rxing::BarcodeFormat, text: &str, scale: u32, w: usize, h: usize) -> Frame {
    use rxing::Writer;
    let bits = rxing::MultiFormatWriter
        .encode(text, &format, 0, 0)
        .expect("encodes");
    let rows = if bits.height() == 1 {
        40
    } else {
        bits.height()
    };
    let mut luma = vec![205u8; w * h];
    for y in 0..rows {
        for x in 0..bits.width() {
            if bits.get(x, y.min(bits.height() - 1)) {
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (
                            (40 + x * scale + dx) as usize,
                            (40 + y * scale + dy) as usize,
                        );
                        if px < w && py < h {
                            luma[py * w + px] = 35;
                        }
                    }
                }
            }
        }
    }
    Frame::packed(w, h, luma, 1).unwrap()
}

#[test]
fn data_matrix_and_pdf417_are_read_where_configured() {
    let code = "134567890123456789";
    for (barcode, format, symbology, scale) in [
        (
            rxing::BarcodeFormat::DATA_MATRIX,
            CodeFormat::DataMatrix,
            Symbology::DataMatrix,
            6,
        ),
        (
            rxing::BarcodeFormat::PDF_417,
            CodeFormat::Pdf417,
            Symbology::Pdf417,
            3,
        ),
    ] {
        let frame = drawn(barcode, code, scale, 640, 360);
        let mut configured = Pipeline::new(PipelineConfig {
            formats: vec![CodeFormat::Qr, format],
            ..PipelineConfig::default()
        });
        let read = configured.process(&frame).expect("read where configured");
        assert_eq!((read.text.as_str(), read.symbology), (code, symbology));
        // The default formats (QR, Code 128) do not look for it.
        assert_eq!(pipeline().process(&frame), None, "{format:?}");
    }
}

#[test]
fn a_code128_filling_the_frame_is_read() {
    // A phone held close: 10 px modules, a barcode 1,500 px wide.
    let code = "134567890123456789";
    let frame = drawn(rxing::BarcodeFormat::CODE_128, code, 10, 1920, 1080);
    let read = pipeline().process(&frame).expect("read");
    assert_eq!(
        (read.text.as_str(), read.symbology),
        (code, Symbology::Code128)
    );
}
