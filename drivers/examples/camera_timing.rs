//! Times the per-frame camera work on this machine, single thread:
//! luma from YUYV and from MJPEG (zune-jpeg, luma only vs full colour),
//! and face detection. `cargo run --release -p kassa-drivers --example
//! camera_timing`.

use std::time::{Duration, Instant};

use kassa_drivers::camera::face::FaceDetector;
use kassa_drivers::camera::synth::face_frame;
use kassa_drivers::camera::{jpeg_to_frame, yuyv_to_frame};

fn time(what: &str, runs: u32, mut f: impl FnMut()) {
    f();
    let mut all: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    all.sort();
    let p50 = all[all.len() / 2];
    let p95 = all[all.len() * 95 / 100];
    println!(
        "{what:<48} p50 {:>7.2} ms  p95 {:>7.2} ms",
        ms(p50),
        ms(p95)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let (w, h) = (1280usize, 720usize);
    let scene = face_frame(w, h, 640.0, 360.0, 200.0);
    // A YUYV buffer and a 4:2:0 colour JPEG of the scene, as a UVC camera
    // would send them.
    let yuyv: Vec<u8> = scene.luma.iter().flat_map(|&y| [y, 128]).collect();
    let rgb: Vec<u8> = scene
        .luma
        .iter()
        .enumerate()
        .flat_map(|(i, &y)| [y, y.wrapping_add((i % 7) as u8), y / 2])
        .collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 85)
        .encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    println!("1280x720 MJPEG frame: {} KiB", jpeg.len() / 1024);
    time("YUYV 1280x720 -> luma", 200, || {
        let _ = yuyv_to_frame(&yuyv, w, h, 2 * w, 0);
    });
    time("MJPEG 1280x720 -> luma (zune-jpeg, Y only)", 100, || {
        let _ = jpeg_to_frame(&jpeg, w * h, 0);
    });
    time(
        "MJPEG 1280x720 -> RGB (zune-jpeg, for comparison)",
        100,
        || {
            let mut d =
                zune_jpeg::JpegDecoder::new(zune_jpeg::zune_core::bytestream::ZCursor::new(&jpeg));
            let _ = d.decode();
        },
    );
    let mut detector = FaceDetector::new().unwrap_or_else(|e| panic!("{e}"));
    let small = face_frame(640, 360, 320.0, 180.0, 120.0);
    time("face detection 640x360", 30, || {
        let _ = detector.detect(&small);
    });
    time("face detection 1280x720 (halved first)", 30, || {
        let _ = detector.detect(&scene);
    });
}
