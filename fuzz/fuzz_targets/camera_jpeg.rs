//! MJPEG frames, as a camera pointed at the customer's phone delivers
//! them: whatever the JPEG holds, the luma path (zune-jpeg) either refuses
//! it or yields a frame of the size it declared, never more pixels than
//! the camera's format allows, and the decoding pipeline then reads it
//! without panicking.
#![no_main]

#[path = "common/camera.rs"]
mod camera;

use kassa_drivers::camera::jpeg_to_frame;
use libfuzzer_sys::fuzz_target;

/// The negotiated format's pixel count that kassad passes as the limit;
/// small, so that a hostile header cannot make each run slow.
const MAX_PIXELS: usize = 320 * 240;

fuzz_target!(|jpeg: &[u8]| {
    let Ok(frame) = jpeg_to_frame(jpeg, MAX_PIXELS, 7) else {
        return;
    };
    assert!(frame.width * frame.height <= MAX_PIXELS);
    assert_eq!(frame.stride, frame.width);
    assert_eq!(frame.luma.len(), frame.width * frame.height);
    assert_eq!(frame.seq, 7);
    let choice = jpeg.last().copied().unwrap_or(0);
    camera::decode_twice(&mut camera::pipeline(choice), &frame);
});
