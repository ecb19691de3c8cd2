//! What tills see beyond the plain generated set (issue 17): styled payment
//! QR codes (round dots, rounded finder patterns, a logo over the centre), a
//! phone in dark mode (light on dark) and Code 128 at any angle, each read
//! exactly by a fresh pipeline.
#![cfg(feature = "camera")]

use kassa_camera_frames::{Category, Drawn, SEED, generate};
use kassa_drivers::camera::Frame;
use kassa_drivers::camera::decode::{Pipeline, PipelineConfig};
use kassa_hal::Symbology;

fn assert_reads(category: Category, index: u64) {
    let (w, h) = (1280, 720);
    let sample = generate(category, index, SEED, w, h);
    let (text, drawn) = sample.expected.clone().expect("a frame with a code");
    let frame = Frame::packed(w, h, sample.luma, 1).unwrap();
    let read = Pipeline::new(PipelineConfig::default())
        .process(&frame)
        .unwrap_or_else(|| panic!("{} #{index}: no read", category.name()));
    assert_eq!(read.text, text, "{} #{index}", category.name());
    let symbology = match drawn {
        Drawn::Qr => Symbology::Qr,
        Drawn::Code128 => Symbology::Code128,
    };
    assert_eq!(read.symbology, symbology, "{} #{index}", category.name());
}

#[test]
fn styled_payment_codes_with_round_dots_and_a_logo() {
    for index in 0..3 {
        assert_reads(Category::StyledQr, index);
    }
}

#[test]
fn a_phone_in_dark_mode() {
    for index in 0..3 {
        assert_reads(Category::DarkMode, index);
    }
}

#[test]
fn code128_at_any_angle() {
    for index in 0..4 {
        assert_reads(Category::Code128AnyAngle, index);
    }
}
