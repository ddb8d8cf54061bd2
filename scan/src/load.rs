//! Image files to greyscale: PNG, JPEG and WebP only, recognised by their signature, within a
//! byte and a pixel limit checked before any pixel is decoded.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use crate::preprocess::Gray;
use crate::ScanError;

/// Largest image or PDF file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// Largest image accepted, in pixels (a 48-megapixel phone photo).
pub const MAX_PIXELS: u64 = 48_000_000;
/// Largest side accepted, in pixels.
pub const MAX_SIDE: u32 = 16_384;

/// Which accepted format `bytes` start with.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// Decodes an image file to greyscale.
pub fn to_gray(bytes: &[u8]) -> Result<Gray, ScanError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ScanError::TooLarge(format!(
            "the file is {} bytes, the limit is {MAX_FILE_BYTES}",
            bytes.len()
        )));
    }
    let format = sniff(bytes).ok_or(ScanError::UnsupportedFormat)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| ScanError::Corrupt(e.to_string()))?;
    check_size(w, h)?;
    reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // RGBA at 16 bits per channel is the largest buffer a decoder allocates.
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| ScanError::Corrupt(e.to_string()))?;
    let luma = img.to_luma8();
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    Gray::new(w, h, luma.into_raw())
        .ok_or_else(|| ScanError::Corrupt("the image has no pixels".into()))
}

/// Refuses images larger than the limits, or empty.
pub fn check_size(w: u32, h: u32) -> Result<(), ScanError> {
    if w == 0 || h == 0 {
        return Err(ScanError::Corrupt("the image has no pixels".into()));
    }
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(ScanError::TooLarge(format!(
            "the image is {w}x{h} pixels, the limit is {MAX_PIXELS} pixels and {MAX_SIDE} per side"
        )));
    }
    Ok(())
}
