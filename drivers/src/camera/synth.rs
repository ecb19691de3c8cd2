//! Generated frames for tests and demos: a payment-code QR on a
//! phone-screen-like background, a drawn face, an empty scene. Frames a
//! [`Player`](super::Player) plays to kassad's camera scanner without a
//! camera.

use qrcode::{Color, EcLevel, QrCode};

use super::Frame;

/// An empty scene: a soft left-to-right gradient, no code, no face.
pub fn empty_frame(width: usize, height: usize) -> Frame {
    let luma = (0..width * height)
        .map(|i| (90 + (i % width.max(1)) * 60 / width.max(1)) as u8)
        .collect();
    Frame {
        width,
        height,
        stride: width,
        luma: luma_arc(luma),
        seq: 0,
    }
}

fn luma_arc(luma: Vec<u8>) -> std::sync::Arc<[u8]> {
    luma.into()
}

/// `payload` as a QR code (error correction M) drawn on a bright phone
/// screen in the middle of an empty scene, `module` pixels per module.
///
/// Returns `None` when the payload does not fit a QR code or the code does
/// not fit the frame.
pub fn qr_frame(payload: &str, width: usize, height: usize, module: usize) -> Option<Frame> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    // Four modules of quiet zone, then a screen border around that.
    let side = (modules + 8) * module;
    let screen = side + side / 5;
    if screen > width || screen > height {
        return None;
    }
    let mut frame = empty_frame(width, height);
    let mut luma = frame.luma.to_vec();
    let (sx, sy) = ((width - screen) / 2, (height - screen) / 2);
    for y in sy..sy + screen {
        luma[y * width + sx..y * width + sx + screen].fill(235);
    }
    let (qx, qy) = (
        sx + (screen - side) / 2 + 4 * module,
        sy + (screen - side) / 2 + 4 * module,
    );
    for my in 0..modules {
        for mx in 0..modules {
            if colors[my * modules + mx] == Color::Dark {
                for y in qy + my * module..qy + (my + 1) * module {
                    luma[y * width + qx + mx * module..y * width + qx + (mx + 1) * module].fill(25);
                }
            }
        }
    }
    frame.luma = luma.into();
    Some(frame)
}

/// A drawn face (oval, hair, brows, eyes, nose, mouth) `size` pixels wide
/// centred at (`cx`, `cy`) in an empty scene. SeetaFace's frontal model
/// finds it (score ≈ 8 at 90 pixels wide); a photograph scores higher.
pub fn face_frame(width: usize, height: usize, cx: f64, cy: f64, size: f64) -> Frame {
    let mut frame = empty_frame(width, height);
    let mut luma = frame.luma.to_vec();
    // Proportions of a 90-pixel face, scaled.
    let k = size / 90.0;
    let inside = |x: f64, y: f64, ex: f64, ey: f64, rx: f64, ry: f64| {
        ((x - (cx + ex * k)) / (rx * k)).powi(2) + ((y - (cy + ey * k)) / (ry * k)).powi(2) <= 1.0
    };
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f64, y as f64);
            if !inside(fx, fy, 0.0, 0.0, 47.0, 60.0) {
                continue;
            }
            let mut v = 190.0 - (fx - cx).abs() * 0.6 / k;
            if fy < cy - 47.0 * k {
                v = 40.0; // hair
            }
            if inside(fx, fy, -18.0, -25.0, 11.0, 2.5) || inside(fx, fy, 18.0, -25.0, 11.0, 2.5) {
                v = 60.0; // brows
            }
            if inside(fx, fy, -18.0, -13.0, 9.0, 4.5) || inside(fx, fy, 18.0, -13.0, 9.0, 4.5) {
                v = 40.0; // eyes
            }
            if inside(fx, fy, 0.0, 5.0, 4.0, 10.0) {
                v = 150.0; // nose
            }
            if inside(fx, fy, 0.0, 25.0, 14.0, 4.0) {
                v = 80.0; // mouth
            }
            luma[y * width + x] = v.clamp(0.0, 255.0) as u8;
        }
    }
    frame.luma = luma.into();
    frame
}

/// `frame` blurred by a box filter of `radius` pixels (a shaky hand, an
/// unfocused lens).
pub fn blurred(frame: &Frame, radius: usize) -> Frame {
    let (w, h) = (frame.width, frame.height);
    let at = |x: usize, y: usize| frame.row(y).and_then(|r| r.get(x)).copied().unwrap_or(0);
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius).min(w - 1));
            let (y0, y1) = (y.saturating_sub(radius), (y + radius).min(h - 1));
            let mut sum = 0u32;
            for yy in y0..=y1 {
                for xx in x0..=x1 {
                    sum += u32::from(at(xx, yy));
                }
            }
            out[y * w + x] = (sum / ((x1 - x0 + 1) * (y1 - y0 + 1)) as u32) as u8;
        }
    }
    Frame {
        width: w,
        height: h,
        stride: w,
        luma: out.into(),
        seq: frame.seq,
    }
}
