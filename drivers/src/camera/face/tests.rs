use super::*;
use crate::camera::jpeg_to_frame;
use crate::camera::synth::{blurred, empty_frame, face_frame};

/// A face cropped from the group photograph that the rustface 0.1.7 crate
/// ships as `test.png` (120×120, greyscale JPEG).
static PHOTO_FACE: &[u8] = include_bytes!("photo-face.jpg");

/// `small` pasted into a grey 640×360 frame at (`x`, `y`).
fn paste(small: &Frame, x: usize, y: usize) -> Frame {
    let mut frame = empty_frame(640, 360);
    let mut luma = frame.luma.to_vec();
    for row in 0..small.height {
        let src = small.row(row).unwrap();
        luma[(y + row) * 640 + x..(y + row) * 640 + x + small.width].copy_from_slice(src);
    }
    frame.luma = luma.into();
    frame
}

#[test]
fn a_drawn_face_is_found_where_it_was_drawn() {
    let mut detector = FaceDetector::new().unwrap();
    let faces = detector.detect(&face_frame(640, 360, 320.0, 180.0, 120.0));
    assert_eq!(faces.len(), 1, "{faces:?}");
    let b = faces[0].bbox;
    let (cx, cy) = (b.x + b.width / 2, b.y + b.height / 2);
    assert!(cx.abs_diff(320) < 30 && cy.abs_diff(180) < 40, "{b:?}");
    assert!(b.width > 70 && b.width < 200, "{b:?}");
}

#[test]
fn a_photographed_face_is_found() {
    let photo = jpeg_to_frame(PHOTO_FACE, 1 << 20, 0).unwrap();
    let mut detector = FaceDetector::new().unwrap();
    let faces = detector.detect(&paste(&photo, 400, 100));
    assert_eq!(faces.len(), 1, "{faces:?}");
    let b = faces[0].bbox;
    assert!(b.x >= 400 && b.x < 470 && b.y >= 100 && b.y < 170, "{b:?}");
    assert!(faces[0].raw_score > 10.0, "{faces:?}");
}

#[test]
fn empty_frames_give_no_face() {
    let mut detector = FaceDetector::new().unwrap();
    let mut best = BestFace::new();
    for frame in [
        empty_frame(640, 360),
        empty_frame(1280, 720),
        empty_frame(8, 8),
    ] {
        let faces = detector.detect(&frame);
        assert!(faces.is_empty(), "{faces:?}");
        best.offer(&frame, faces);
    }
    assert_eq!(best.frames(), 3);
    assert!(best.finish().unwrap().is_none());
}

#[test]
fn the_largest_sharp_face_wins_and_is_cropped_with_a_margin() {
    let mut detector = FaceDetector::new().unwrap();
    let small = face_frame(1280, 720, 300.0, 300.0, 100.0);
    let large = face_frame(1280, 720, 700.0, 360.0, 220.0);
    let large_blurred = blurred(&face_frame(1280, 720, 700.0, 360.0, 220.0), 3);
    let mut best = BestFace::new();
    for (seq, frame) in [small, large_blurred, large.clone()]
        .into_iter()
        .enumerate()
    {
        let frame = Frame {
            seq: seq as u64,
            ..frame
        };
        let faces = detector.detect(&frame);
        assert_eq!(faces.len(), 1, "frame {seq}: {faces:?}");
        best.offer(&frame, faces);
    }
    let captured = best.finish().unwrap().expect("a face");
    assert_eq!(captured.seq, 2, "{captured:?}");
    assert_eq!(
        (captured.frame_width, captured.frame_height, captured.frames),
        (1280, 720, 3)
    );
    let (f, c) = (captured.face, captured.crop);
    assert!(c.x < f.x && c.y < f.y, "{captured:?}");
    assert!(c.x + c.width > f.x + f.width && c.y + c.height > f.y + f.height);
    let jpeg = jpeg_to_frame(&captured.jpeg, 1 << 22, 0).unwrap();
    assert_eq!((jpeg.width, jpeg.height), (c.width, c.height));
    // The blurred copy of the same face scores lower on sharpness only.
    let sharp = score(&large, f, 8.0);
    let soft = score(&blurred(&large, 3), f, 8.0);
    assert!(sharp.sharpness > soft.sharpness, "{sharp:?} {soft:?}");
}

#[test]
fn a_face_turned_away_scores_less_frontal() {
    let frame = face_frame(640, 360, 320.0, 180.0, 120.0);
    let centred = FaceBox {
        x: 260,
        y: 105,
        width: 120,
        height: 150,
    };
    let off = FaceBox { x: 290, ..centred };
    assert!(score(&frame, centred, 8.0).frontal > score(&frame, off, 8.0).frontal);
}
