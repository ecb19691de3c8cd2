//! The real photos (`../shared/camera-photos/`, read in place, never
//! copied): each folder's `N.png` with its expected text in `N.txt`, as
//! 8-bit grey, turned by 0, 90, 180 and 270 degrees.

use std::path::{Path, PathBuf};

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_png::PngDecoder;

/// A grey image, packed rows.
#[derive(Clone)]
pub struct Grey {
    pub width: usize,
    pub height: usize,
    pub luma: Vec<u8>,
}

impl Grey {
    /// This image turned clockwise by `degrees` (0, 90, 180 or 270).
    pub fn rotated(&self, degrees: u32) -> Grey {
        let (w, h) = (self.width, self.height);
        let src = &self.luma;
        match degrees % 360 {
            0 => self.clone(),
            180 => Grey {
                width: w,
                height: h,
                luma: src.iter().rev().copied().collect(),
            },
            90 | 270 => {
                let mut luma = vec![0u8; w * h];
                // Turned clockwise, the new row y is the old column y read
                // bottom to top; anticlockwise, the old column w-1-y top to
                // bottom.
                for y in 0..w {
                    for x in 0..h {
                        luma[y * h + x] = if degrees % 360 == 90 {
                            src[(h - 1 - x) * w + y]
                        } else {
                            src[x * w + (w - 1 - y)]
                        };
                    }
                }
                Grey {
                    width: h,
                    height: w,
                    luma,
                }
            }
            other => panic!("rotation by {other}° is not a quarter turn"),
        }
    }
}

/// One photo and the text it holds.
pub struct Photo {
    pub name: String,
    pub image: Grey,
    /// `N.txt` as it is.
    pub text_file: String,
}

impl Photo {
    /// The texts that count as a right read: `N.txt` with one trailing
    /// newline removed (the README's rule), or as it is. Some codes end in
    /// a newline of their own (`\r\n` or `\n`), and every decoder reads it:
    /// their files hold the text without another newline after it.
    pub fn expected(&self) -> Vec<&str> {
        let text = self.text_file.as_str();
        let stripped = text.strip_suffix('\n').unwrap_or(text);
        if stripped == text {
            vec![text]
        } else {
            vec![stripped, text]
        }
    }
}

/// The folders under `root` (sorted by name).
pub fn folders(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

/// The photos of one folder, in numeric order, each with its `N.txt`.
pub fn load_folder(dir: &Path) -> Result<Vec<Photo>, String> {
    let mut numbered: Vec<(u32, String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| format!("failed to read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_owned();
            Some((stem.parse().ok()?, stem, p))
        })
        .collect();
    numbered.sort();
    numbered
        .into_iter()
        .map(|(_, name, path)| {
            let txt = path.with_extension("txt");
            let text_file = std::fs::read_to_string(&txt)
                .map_err(|e| format!("failed to read {}: {e}", txt.display()))?;
            Ok(Photo {
                name,
                image: load_png(&path)?,
                text_file,
            })
        })
        .collect()
}

/// A PNG as 8-bit grey: grey images as they are, colour ones as luma
/// (BT.601 weights, integer, rounded).
pub fn load_png(path: &Path) -> Result<Grey, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    let options = DecoderOptions::default().png_set_strip_to_8bit(true);
    let mut decoder = PngDecoder::new_with_options(ZCursor::new(&bytes[..]), options);
    let err = |e| format!("failed to decode {}: {e:?}", path.display());
    decoder.decode_headers().map_err(err)?;
    let (width, height) = decoder.dimensions().ok_or("no dimensions")?;
    let colorspace = decoder.colorspace().ok_or("no colour space")?;
    let pixels = decoder.decode_raw().map_err(err)?;
    let channels = colorspace.num_components();
    if pixels.len() != width * height * channels {
        return Err(format!(
            "{}: {} bytes for {width}×{height}×{channels}",
            path.display(),
            pixels.len()
        ));
    }
    let luma = match colorspace {
        ColorSpace::Luma | ColorSpace::LumaA => {
            pixels.chunks_exact(channels).map(|p| p[0]).collect()
        }
        ColorSpace::RGB | ColorSpace::RGBA => pixels
            .chunks_exact(channels)
            .map(|p| {
                let (r, g, b) = (u32::from(p[0]), u32::from(p[1]), u32::from(p[2]));
                ((77 * r + 150 * g + 29 * b + 128) >> 8) as u8
            })
            .collect(),
        other => return Err(format!("{}: colour space {other:?}", path.display())),
    };
    Ok(Grey {
        width,
        height,
        luma,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_turns_move_corners_clockwise() {
        // 3×2:  a b c
        //       d e f
        let g = Grey {
            width: 3,
            height: 2,
            luma: vec![1, 2, 3, 4, 5, 6],
        };
        let r = g.rotated(90);
        // Clockwise: d a / e b / f c
        assert_eq!((r.width, r.height, r.luma), (2, 3, vec![4, 1, 5, 2, 6, 3]));
        let r = g.rotated(270);
        // Anticlockwise: c f / b e / a d
        assert_eq!((r.width, r.height, r.luma), (2, 3, vec![3, 6, 2, 5, 1, 4]));
        assert_eq!(g.rotated(180).luma, vec![6, 5, 4, 3, 2, 1]);
        assert_eq!(g.rotated(90).rotated(270).luma, g.luma);
    }
}
