//! One grey image, as every camera module exchanges it.

use std::sync::Arc;

/// One grey (luma) image, 8 bits per pixel, row-major. Cheap to clone: the
/// pixels are shared.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bytes from the start of one row to the next (at least `width`).
    pub stride: usize,
    /// The pixels: `height` rows of `stride` bytes (the last row may be
    /// only `width` long).
    pub luma: Arc<[u8]>,
    /// Capture sequence number, increasing from frame to frame.
    pub seq: u64,
}

impl Frame {
    /// A frame of `width` × `height` tightly packed pixels.
    ///
    /// # Errors
    ///
    /// When `luma` is shorter than `width * height`.
    pub fn packed(width: usize, height: usize, luma: Vec<u8>, seq: u64) -> Result<Frame, String> {
        let needed = width
            .checked_mul(height)
            .ok_or_else(|| format!("frame {width}x{height} is too large"))?;
        if luma.len() < needed {
            return Err(format!(
                "frame {width}x{height} needs {needed} bytes, got {}",
                luma.len()
            ));
        }
        Ok(Frame {
            width,
            height,
            stride: width,
            luma: luma.into(),
            seq,
        })
    }

    /// Row `y`, `width` pixels, or `None` past the last row.
    pub fn row(&self, y: usize) -> Option<&[u8]> {
        let start = y.checked_mul(self.stride)?;
        self.luma
            .get(start..start.checked_add(self.width)?)
            .filter(|_| y < self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_bounded() {
        let frame = Frame::packed(3, 2, vec![1, 2, 3, 4, 5, 6], 0).unwrap();
        assert_eq!(frame.row(1), Some(&[4, 5, 6][..]));
        assert_eq!(frame.row(2), None);
        assert!(Frame::packed(3, 2, vec![0; 5], 0).is_err());
        assert!(Frame::packed(usize::MAX, 2, vec![], 0).is_err());
    }
}
