//! Camera frames the customer's phone screen draws: the YUYV luma path on
//! arbitrary sizes, strides and bytes, and the decoding pipeline on the
//! pixels. The first byte picks how the rest is read:
//!
//! - raw YUYV: width, height and extra stride bytes, then the buffer as
//!   the driver hands it over;
//! - a bitmap: a symbol drawn one bit per module (as a phone shows a QR
//!   code), scaled up, so that the fuzzer reaches the decoders' deeper
//!   stages instead of only their "no finder pattern" exits.
#![no_main]

#[path = "common/camera.rs"]
mod camera;

use kassa_drivers::camera::{Frame, yuyv_to_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let [mode, a, b, c, rest @ ..] = input else {
        return;
    };
    let mut pipeline = camera::pipeline(mode >> 2);
    let frame = if mode & 1 == 0 {
        let (width, height) = (usize::from(*a), usize::from(*b));
        let stride = width * 2 + usize::from(*c % 8);
        let Ok(frame) = yuyv_to_frame(rest, width, height, stride, 1) else {
            return;
        };
        assert_eq!(
            (frame.width, frame.height, frame.stride),
            (width, height, width)
        );
        assert_eq!(frame.luma.len(), width * height);
        for y in 0..height {
            for x in 0..width {
                assert_eq!(frame.luma[y * width + x], rest[y * stride + 2 * x]);
            }
        }
        frame
    } else {
        bitmap(usize::from(*a), usize::from(*b), *c, rest)
    };
    camera::decode_twice(&mut pipeline, &frame);
});

/// `modules` wide, as many rows as the bits fill, each module `scale`
/// pixels square inside a white quiet zone of four modules; `contrast`
/// sets the dark level (a dim screen).
fn bitmap(modules: usize, scale: usize, contrast: u8, bits: &[u8]) -> Frame {
    let modules = modules % 64 + 1;
    let scale = scale % 6 + 1;
    let rows = (bits.len() * 8 / modules).min(64);
    let quiet = 4;
    let width = (modules + 2 * quiet) * scale;
    let height = (rows + 2 * quiet) * scale;
    let dark = contrast / 2;
    let mut luma = vec![255u8; width * height];
    for row in 0..rows {
        for col in 0..modules {
            let i = row * modules + col;
            if bits[i / 8] >> (i % 8) & 1 == 1 {
                for y in 0..scale {
                    let start = ((row + quiet) * scale + y) * width + (col + quiet) * scale;
                    luma[start..start + scale].fill(dark);
                }
            }
        }
    }
    Frame::packed(width, height, luma, 1).expect("the buffer is the size")
}
