//! `kassa-bench face`: face detection time per frame, as CaptureFace runs
//! it on the camera thread (one core), on drawn faces and empty scenes.

use std::time::Instant;

use kassa_drivers::camera::face::FaceDetector;
use kassa_drivers::camera::synth::{empty_frame, face_frame};

use crate::report;

pub fn run(frames: usize, width: usize, height: usize) {
    let mut detector = FaceDetector::new().expect("built-in face model");
    let k = width as f64 / 640.0;
    let mut with_face = Vec::new();
    let mut empty = Vec::new();
    let mut found = 0usize;
    for i in 0..frames {
        // Faces of 70–160 px (at 640 wide) across the frame, and every
        // fourth frame an empty scene.
        let frame = if i % 4 == 3 {
            empty_frame(width, height)
        } else {
            let size = (70.0 + (i * 37 % 90) as f64) * k;
            let cx = (160.0 + (i * 53 % 320) as f64) * k;
            face_frame(width, height, cx, height as f64 / 2.0, size)
        };
        let start = Instant::now();
        let faces = detector.detect(&frame);
        let took = start.elapsed();
        if i % 4 == 3 {
            empty.push(took);
        } else {
            found += usize::from(!faces.is_empty());
            with_face.push(took);
        }
    }
    let drawn = with_face.len();
    report(&format!("face {width}x{height} drawn face"), with_face);
    report(&format!("face {width}x{height} empty scene"), empty);
    println!("{{\"faces_found\": {found}, \"faces_drawn\": {drawn}}}");
}
