#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod code128;
pub mod payload;
pub mod render;
pub mod rng;

use qrcode::{EcLevel, QrCode, Version};
use render::{Homography, Plane};
use rng::Rng;

/// The seed the benchmark and the tests draw their frames from.
pub const SEED: u64 = 20_261_122;

/// A kind of frame, named after what makes it hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// A phone held up square to the camera, in good light.
    Nominal,
    /// Modules of about two pixels.
    SmallModules,
    /// The phone turned to any angle in its plane.
    Rotation,
    /// The phone tilted away from the camera (keystone).
    Perspective,
    /// Out of focus or moving.
    Blur,
    /// Little light: low contrast and sensor noise.
    DimNoise,
    /// A bright reflection over part of the code.
    Glare,
    /// Interference between the screen's pixel grid and the sensor's.
    Moire,
    /// The whole phone in view: bezel, strong backlight fall-off, UI around
    /// the code.
    PhoneScreen,
    /// Code 128 held level.
    Code128,
    /// Code 128 tilted 10–35°.
    Code128Tilted,
    /// No code at all: backgrounds, phones showing text, patterns.
    Empty,
    /// A payment app's styled QR code: round dots, rounded finder
    /// patterns, a logo over the centre (error correction level H).
    StyledQr,
    /// A phone in dark mode: the code light on a dark screen.
    DarkMode,
    /// Code 128 at any angle (a phone held sideways or upside down).
    Code128AnyAngle,
}

impl Category {
    /// Every category, in report order (new ones at the end: a category's
    /// place seeds its frames).
    pub const ALL: [Category; 15] = [
        Category::Nominal,
        Category::SmallModules,
        Category::Rotation,
        Category::Perspective,
        Category::Blur,
        Category::DimNoise,
        Category::Glare,
        Category::Moire,
        Category::PhoneScreen,
        Category::Code128,
        Category::Code128Tilted,
        Category::Empty,
        Category::StyledQr,
        Category::DarkMode,
        Category::Code128AnyAngle,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Category::Nominal => "nominal",
            Category::SmallModules => "small modules",
            Category::Rotation => "rotation",
            Category::Perspective => "perspective",
            Category::Blur => "blur",
            Category::DimNoise => "dim + noise",
            Category::Glare => "glare",
            Category::Moire => "moiré",
            Category::PhoneScreen => "phone screen",
            Category::Code128 => "Code 128",
            Category::Code128Tilted => "Code 128 tilted",
            Category::Empty => "empty",
            Category::StyledQr => "styled QR",
            Category::DarkMode => "dark mode",
            Category::Code128AnyAngle => "Code 128 any angle",
        }
    }

    fn index(self) -> u64 {
        Category::ALL.iter().position(|&c| c == self).unwrap_or(0) as u64
    }
}

/// The symbology drawn into a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawn {
    /// QR Code.
    Qr,
    /// Code 128.
    Code128,
}

/// One generated frame.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Pixels per row (rows are packed).
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Grey pixels, `width * height`.
    pub luma: Vec<u8>,
    /// What a decoder must read, or `None` for an empty frame.
    pub expected: Option<(String, Drawn)>,
    /// Where the code's corners are in the image (top-left, top-right,
    /// bottom-right, bottom-left of the code), for empty frames the zero
    /// quad.
    pub corners: [(f32, f32); 4],
}

/// Frame `index` of `category` at `width` × `height`, from `seed`.
///
/// Sizes scale with the width: a frame 640 wide shows everything at half the
/// size of one 1280 wide.
pub fn generate(category: Category, index: u64, seed: u64, width: usize, height: usize) -> Sample {
    let mut rng = Rng::new(
        seed ^ category.index().wrapping_mul(0x1000_0001) ^ index.wrapping_mul(0x9e37_79b9),
    );
    let scale = width as f32 / 1280.0;
    let mut img = render::background(&mut rng, width, height);

    let linear = matches!(
        category,
        Category::Code128 | Category::Code128Tilted | Category::Code128AnyAngle
    );
    let (text, modules, code_w, code_h) = if category == Category::Empty {
        (String::new(), Vec::new(), 0, 0)
    } else if linear {
        let text = if index.is_multiple_of(2) {
            payload::wechat(&mut rng)
        } else {
            payload::alipay(&mut rng)
        };
        let mut modules = vec![false; 10];
        modules.extend(code128::encode_digits(&text).unwrap_or_default());
        modules.extend([false; 10]);
        let w = modules.len();
        (text, modules, w, 40)
    } else {
        let (text, code) = match index % 3 {
            0 => {
                let t = payload::wechat(&mut rng);
                let c = QrCode::with_version(&t, Version::Normal(1), EcLevel::M);
                (t, c)
            }
            1 => {
                let t = payload::alipay(&mut rng);
                let c = QrCode::with_version(&t, Version::Normal(1), EcLevel::M);
                (t, c)
            }
            _ => {
                let t = payload::emvco_mpm(&mut rng);
                let c = QrCode::with_error_correction_level(&t, EcLevel::M);
                (t, c)
            }
        };
        // Styled payment codes carry a logo: level H, the version the
        // payload needs.
        let code = if category == Category::StyledQr {
            QrCode::with_error_correction_level(&text, EcLevel::H)
        } else {
            code
        };
        match code {
            Ok(code) => {
                let n = code.width();
                let quiet = 4;
                let side = n + 2 * quiet;
                let mut modules = vec![false; side * side];
                for (i, color) in code.to_colors().into_iter().enumerate() {
                    let (x, y) = (i % n + quiet, i / n + quiet);
                    modules[y * side + x] = color == qrcode::Color::Dark;
                }
                (text, modules, side, side)
            }
            Err(_) => (String::new(), Vec::new(), 0, 0),
        }
    };
    let has_code = !modules.is_empty();
    let data_modules = if linear {
        code_w - 20
    } else {
        code_w.saturating_sub(8)
    } as f32;

    // Module size in pixels at 1280 wide, by category.
    let v1 = data_modules <= 21.0;
    let module_px = scale
        * match category {
            Category::SmallModules => rng.range(1.8, 2.6),
            Category::Code128 | Category::Code128Tilted | Category::Code128AnyAngle => {
                rng.range(2.2, 3.2)
            }
            _ if v1 => rng.range(4.5, 8.0),
            _ => rng.range(3.2, 5.0),
        };
    let angle = match category {
        Category::Rotation => rng.range(0.0, 360.0),
        Category::Perspective => rng.range(-15.0, 15.0),
        Category::Code128Tilted => {
            let a = rng.range(10.0, 35.0);
            if rng.chance(0.5) { a } else { -a }
        }
        Category::Empty => rng.range(-30.0, 30.0),
        Category::Code128AnyAngle => rng.range(0.0, 360.0),
        _ => rng.range(-5.0, 5.0),
    }
    .to_radians();
    let keystone = match category {
        Category::Perspective => rng.range(0.15, 0.35),
        _ => rng.range(0.0, 0.05),
    };

    // The code's corners in the image.
    let half_w = code_w.max(25) as f32 * module_px / 2.0;
    let half_h = code_h.max(25) as f32 * module_px / 2.0;
    let span_x = (half_w * 1.6).min(width as f32 / 2.0 - 1.0);
    let span_y = (half_h * 1.6).min(height as f32 / 2.0 - 1.0);
    let cx = rng.range(span_x, (width as f32 - span_x).max(span_x + 1.0));
    let cy = rng.range(span_y, (height as f32 - span_y).max(span_y + 1.0));
    let (sin, cos) = angle.sin_cos();
    let tilt_side = rng.int(0, 3);
    let mut corners = [(0f32, 0f32); 4];
    for (i, (sx, sy)) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
        .into_iter()
        .enumerate()
    {
        // Keystone: the corners on one side move closer together.
        let shrink = match tilt_side {
            0 if sy < 0.0 => 1.0 - keystone,
            1 if sx > 0.0 => 1.0 - keystone,
            2 if sy > 0.0 => 1.0 - keystone,
            3 if sx < 0.0 => 1.0 - keystone,
            _ => 1.0,
        };
        let (dx, dy) = match tilt_side {
            0 | 2 => (sx * half_w * shrink, sy * half_h),
            _ => (sx * half_w, sy * half_h * shrink),
        };
        corners[i] = (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos);
    }

    // The phone around the code, in plane units (modules).
    let (cw, ch) = (code_w.max(25) as f64, code_h.max(25) as f64);
    let screen = if linear {
        (-cw * 0.1, -ch * 2.0, cw * 1.1, ch * 4.0)
    } else {
        (-cw * 0.35, -ch * 1.2, cw * 1.35, ch * 2.6)
    };
    let mut ui_blocks = Vec::new();
    let text_rows = if category == Category::Empty { 14 } else { 5 };
    for row in 0..text_rows {
        let top = if category == Category::Empty {
            screen.1 + (screen.3 - screen.1) * (row as f64 + 0.5) / text_rows as f64
        } else {
            ch + 1.5 + row as f64 * 2.5
        };
        let mut left = screen.0 + 1.0;
        while left < screen.2 - 4.0 {
            let w = f64::from(rng.range(0.8, 3.0)) * cw / 25.0;
            ui_blocks.push((
                left,
                top,
                left + w,
                top + 1.2 * ch / 25.0,
                rng.range(20.0, 90.0),
            ));
            left += w + f64::from(rng.range(0.4, 1.2)) * cw / 25.0;
        }
    }
    if category == Category::Empty && rng.chance(0.5) {
        // Patterns that look a little like codes: stripes and a checkerboard.
        let period = f64::from(rng.range(1.0, 3.0));
        for i in 0..30 {
            let l = i as f64 * period * 2.0;
            ui_blocks.push((l, 0.0, l + period, ch, 25.0));
        }
    }
    let symbol = code_w.saturating_sub(8);
    let style = match category {
        Category::StyledQr => {
            // A logo over about a twentieth of the symbol, within what
            // level H corrects.
            let side = (symbol as f64 * 0.22).max(5.0);
            let mid = code_w as f64 / 2.0;
            render::Style {
                dots: Some(render::Dots {
                    quiet: 4,
                    size: symbol,
                }),
                logo: Some((
                    mid - side / 2.0,
                    mid - side / 2.0,
                    mid + side / 2.0,
                    mid + side / 2.0,
                )),
                inverted: false,
            }
        }
        Category::DarkMode => render::Style {
            inverted: true,
            ..render::Style::default()
        },
        _ => render::Style::default(),
    };
    let plane = Plane {
        style,
        modules: &modules,
        code_w,
        code_h,
        linear,
        screen,
        bezel: match category {
            Category::PhoneScreen => cw * 0.12,
            _ => cw * 0.05,
        },
        white: rng.range(190.0, 245.0),
        black: rng.range(10.0, 45.0),
        backlight_falloff: match category {
            Category::PhoneScreen => rng.range(0.3, 0.55),
            _ => rng.range(0.0, 0.15),
        },
        ui_blocks,
    };
    let plane_corners = [(0.0, 0.0), (cw, 0.0), (cw, ch), (0.0, ch)];
    let image_corners = corners.map(|(x, y)| (f64::from(x), f64::from(y)));
    if let Some(to_plane) = Homography::from_points(image_corners, plane_corners) {
        if let Some(to_image) = Homography::from_points(plane_corners, image_corners) {
            let (l, t, r, b) = screen;
            let e = plane.bezel;
            let mut bx = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for (u, v) in [
                (l - e, t - e),
                (r + e, t - e),
                (r + e, b + e),
                (l - e, b + e),
            ] {
                let (x, y) = to_image.map(u, v);
                bx = (bx.0.min(x), bx.1.min(y), bx.2.max(x), bx.3.max(y));
            }
            let clamp = |v: f64, hi: usize| v.clamp(0.0, hi as f64) as usize;
            let bounds = (
                clamp(bx.0 - 1.0, width),
                clamp(bx.1 - 1.0, height),
                clamp(bx.2 + 2.0, width),
                clamp(bx.3 + 2.0, height),
            );
            let phone_in_view = category != Category::Empty || rng.chance(0.7);
            if phone_in_view {
                render::draw_plane(&mut img, width, height, &plane, &to_plane, bounds);
            }
        }
    }

    // Moiré: the screen's pixel grid beating against the sensor's.
    if category == Category::Moire || (category == Category::Empty && rng.chance(0.3)) {
        let period = rng.range(2.5, 6.0) * scale.max(0.5);
        let theta = rng.range(0.0, std::f32::consts::PI);
        let (fx, fy) = (theta.cos() / period, theta.sin() / period);
        let depth = rng.range(0.15, 0.3);
        for y in 0..height {
            for x in 0..width {
                let phase = std::f32::consts::TAU * (fx * x as f32 + fy * y as f32);
                img[y * width + x] *= 1.0 - depth * (0.5 + 0.5 * phase.sin());
            }
        }
    }
    // Glare: a saturated reflection over part of the code.
    if category == Category::Glare || (category == Category::Empty && rng.chance(0.3)) {
        let gx = cx + rng.range(-0.6, 0.6) * half_w;
        let gy = cy + rng.range(-0.6, 0.6) * half_h;
        let radius = rng.range(0.25, 0.45) * half_w.max(20.0);
        let strength = rng.range(120.0, 200.0);
        for y in 0..height {
            for x in 0..width {
                let d2 = ((x as f32 - gx).powi(2) + (y as f32 - gy).powi(2)) / (radius * radius);
                if d2 < 9.0 {
                    img[y * width + x] += strength * (-d2).exp();
                }
            }
        }
        for v in img.iter_mut() {
            *v = v.min(255.0);
        }
    }
    let sigma = match category {
        Category::Blur => rng.range(1.5, 2.6),
        Category::PhoneScreen => rng.range(0.5, 1.2),
        _ => rng.range(0.3, 0.8),
    } * scale.max(0.5);
    render::blur(&mut img, width, height, sigma);
    let (gain, offset, noise) = match category {
        Category::DimNoise => (
            rng.range(0.1, 0.2),
            rng.range(2.0, 10.0),
            rng.range(3.0, 6.0),
        ),
        Category::Empty if rng.chance(0.3) => (0.15, 5.0, 5.0),
        _ => (1.0, 0.0, rng.range(1.0, 3.0)),
    };
    let luma = render::to_luma(&img, gain, offset, noise, &mut rng);
    let expected = has_code.then(|| {
        let drawn = if linear { Drawn::Code128 } else { Drawn::Qr };
        (text, drawn)
    });
    Sample {
        width,
        height,
        luma,
        corners: if has_code { corners } else { [(0.0, 0.0); 4] },
        expected,
    }
}
