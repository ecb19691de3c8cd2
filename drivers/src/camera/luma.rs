//! Luma from what cameras send: YUYV (4:2:2, interleaved) and MJPEG.
//!
//! Decoding and face detection only look at brightness, so the chroma is
//! never converted: from YUYV every other byte is taken straight out of the
//! driver's buffer into the frame; from MJPEG only the Y plane is produced
//! (zune-jpeg with a luma output colour space skips the colour conversion).

use std::sync::Arc;

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::Frame;
use super::source::CaptureError;

/// The luma of a YUYV buffer (`Y0 U Y1 V` per two pixels) of `width` ×
/// `height` pixels with `stride` bytes per row.
///
/// The Y bytes are copied once, from `buf` into the frame's shared
/// buffer.
///
/// # Errors
///
/// [`CaptureError::Decode`] when `buf` is shorter than the format says or
/// the stride is smaller than a row.
pub fn yuyv_to_frame(
    buf: &[u8],
    width: usize,
    height: usize,
    stride: usize,
    seq: u64,
) -> Result<Frame, CaptureError> {
    let row = width
        .checked_mul(2)
        .ok_or_else(|| decode_error(format!("YUYV width {width} is too large")))?;
    if stride < row {
        return Err(decode_error(format!(
            "YUYV stride {stride} is less than a row of {width} pixels"
        )));
    }
    let needed = match height {
        0 => 0,
        h => stride
            .checked_mul(h - 1)
            .and_then(|n| n.checked_add(row))
            .ok_or_else(|| decode_error(format!("YUYV frame {width}x{height} is too large")))?,
    };
    if buf.len() < needed {
        return Err(decode_error(format!(
            "YUYV frame {width}x{height} needs {needed} bytes, the camera sent {}",
            buf.len()
        )));
    }
    let luma: Arc<[u8]> = if stride == row {
        // One pass straight into the Arc's allocation: an exact-size
        // iterator lets `collect` allocate once.
        buf[..needed].chunks_exact(2).map(|pair| pair[0]).collect()
    } else {
        let mut packed = Vec::with_capacity(width * height);
        for y in 0..height {
            let start = y * stride;
            packed.extend(buf[start..start + row].chunks_exact(2).map(|pair| pair[0]));
        }
        packed.into()
    };
    Ok(Frame {
        width,
        height,
        stride: width,
        luma,
        seq,
    })
}

/// The luma of one JPEG image (an MJPEG frame, a recorded `.jpg`).
///
/// Camera MJPEG often leaves out the Huffman tables; the decoder then uses
/// the standard ones, as UVC specifies.
///
/// # Errors
///
/// [`CaptureError::Decode`] for data that are not a JPEG image, or one
/// larger than `max_pixels`.
pub fn jpeg_to_frame(jpeg: &[u8], max_pixels: usize, seq: u64) -> Result<Frame, CaptureError> {
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::Luma)
        .set_max_width(16_384)
        .set_max_height(16_384);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(jpeg), options);
    decoder
        .decode_headers()
        .map_err(|e| decode_error(format!("JPEG headers: {e:?}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| decode_error("JPEG without dimensions".into()))?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    let pixels = width.saturating_mul(height);
    if pixels > max_pixels {
        return Err(decode_error(format!(
            "JPEG of {width}x{height} is larger than {max_pixels} pixels"
        )));
    }
    let size = decoder.output_buffer_size().unwrap_or(pixels);
    if size != pixels {
        return Err(decode_error(format!(
            "JPEG of {width}x{height} decodes to {size} bytes, not one per pixel"
        )));
    }
    let mut luma = vec![0u8; pixels];
    decoder
        .decode_into(&mut luma)
        .map_err(|e| decode_error(format!("JPEG data: {e:?}")))?;
    Frame::packed(width, height, luma, seq).map_err(decode_error)
}

fn decode_error(detail: String) -> CaptureError {
    CaptureError::Decode { detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_luma_is_every_other_byte_row_by_row() {
        // 2x2 pixels, rows padded to 6 bytes.
        let buf = [10, 1, 20, 2, 0xEE, 0xEE, 30, 3, 40, 4];
        let frame = yuyv_to_frame(&buf, 2, 2, 6, 7).unwrap();
        assert_eq!(&frame.luma[..], &[10, 20, 30, 40]);
        assert_eq!(
            (frame.width, frame.height, frame.stride, frame.seq),
            (2, 2, 2, 7)
        );
        let packed = yuyv_to_frame(&[5, 0, 6, 0, 7, 0, 8, 0], 2, 2, 4, 0).unwrap();
        assert_eq!(&packed.luma[..], &[5, 6, 7, 8]);
    }

    #[test]
    fn short_or_odd_yuyv_buffers_are_errors_not_panics() {
        assert!(yuyv_to_frame(&[0; 7], 2, 2, 4, 0).is_err());
        assert!(yuyv_to_frame(&[0; 16], 2, 2, 3, 0).is_err());
        assert!(yuyv_to_frame(&[0; 16], usize::MAX, 2, 4, 0).is_err());
        assert!(yuyv_to_frame(&[], 0, 0, 0, 0).is_ok());
    }

    #[test]
    fn jpeg_luma_matches_the_encoded_grey_image() {
        let (width, height) = (64usize, 48usize);
        let grey: Vec<u8> = (0..width * height)
            .map(|i| if (i % width) < 32 { 30 } else { 220 })
            .collect();
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 95)
            .encode(&grey, 64, 48, jpeg_encoder::ColorType::Luma)
            .unwrap();
        let frame = jpeg_to_frame(&jpeg, 1 << 20, 3).unwrap();
        assert_eq!((frame.width, frame.height, frame.seq), (width, height, 3));
        let row = frame.row(20).unwrap();
        assert!(
            row[5].abs_diff(30) < 8 && row[60].abs_diff(220) < 8,
            "{row:?}"
        );
        // Colour JPEG (4:2:0, as UVC cameras send) gives its luma too.
        let rgb: Vec<u8> = grey.iter().flat_map(|&g| [g, g, g]).collect();
        let mut colour = Vec::new();
        jpeg_encoder::Encoder::new(&mut colour, 95)
            .encode(&rgb, 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        let frame = jpeg_to_frame(&colour, 1 << 20, 4).unwrap();
        let row = frame.row(20).unwrap();
        assert!(
            row[5].abs_diff(30) < 8 && row[60].abs_diff(220) < 8,
            "{row:?}"
        );
    }

    #[test]
    fn broken_or_huge_jpeg_is_an_error() {
        assert!(jpeg_to_frame(b"not a jpeg", 1 << 20, 0).is_err());
        assert!(jpeg_to_frame(&[0xFF, 0xD8, 0xFF], 1 << 20, 0).is_err());
        let mut jpeg = Vec::new();
        jpeg_encoder::Encoder::new(&mut jpeg, 90)
            .encode(&[0u8; 64 * 64], 64, 64, jpeg_encoder::ColorType::Luma)
            .unwrap();
        assert!(jpeg_to_frame(&jpeg, 100, 0).is_err());
        assert!(jpeg_to_frame(&jpeg[..jpeg.len() / 2], 1 << 20, 0).is_err());
    }
}
