//! QR codes in a PDF: every image XObject in the file (Flate, LZW, run-length or uncompressed
//! samples in grey, RGB, CMYK, indexed or ICC colour at 1 to 16 bits; or a DCT, i.e. JPEG,
//! stream) is turned to greyscale and decoded. Codes drawn as vector paths are not found: a
//! PDF renderer would be needed, and the certificate PDF embeds its code as an image.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lopdf::{Dictionary, Document, LoadOptions, Object, Stream};
use sha2::{Digest, Sha256};

use crate::load::{self, MAX_FILE_BYTES, MAX_PIXELS};
use crate::preprocess::Gray;
use crate::{pipeline, Code, ScanError};

/// Most decoded bytes one stream may expand to (a 48-megapixel greyscale image, or a
/// 16-megapixel RGB one).
const MAX_STREAM_BYTES: usize = MAX_PIXELS as usize;
/// Most images of one file that are decoded (a certificate has one or a few).
pub const MAX_IMAGES: usize = 64;

/// What a PDF holds: its QR codes and the SHA-256 of the whole file (the document hash the
/// registry records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfScan {
    /// Every distinct code found in the file's images, in object order.
    pub codes: Vec<Code>,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
    /// How many images were looked at.
    pub images: usize,
}

/// Whether `bytes` look like a PDF (`%PDF-` within the first kilobyte, as readers allow).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

/// Finds the QR codes in a PDF file and hashes it.
pub fn decode_pdf(bytes: &[u8]) -> Result<PdfScan, ScanError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ScanError::TooLarge(format!(
            "the file is {} bytes, the limit is {MAX_FILE_BYTES}",
            bytes.len()
        )));
    }
    if !is_pdf(bytes) {
        return Err(ScanError::UnsupportedFormat);
    }
    let sha256: [u8; 32] = Sha256::digest(bytes).into();
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..LoadOptions::default()
    };
    let doc = catch_unwind(AssertUnwindSafe(|| {
        Document::load_mem_with_options(bytes, options)
    }))
    .map_err(|_| ScanError::Corrupt("the PDF cannot be parsed".into()))?
    .map_err(|e| ScanError::Corrupt(format!("the PDF cannot be parsed: {e}")))?;
    let mut codes: Vec<Code> = Vec::new();
    let mut images = 0;
    for object in doc.objects.values() {
        let Object::Stream(stream) = object else {
            continue;
        };
        if !is_image(&stream.dict) {
            continue;
        }
        if images == MAX_IMAGES {
            break;
        }
        images += 1;
        let gray = catch_unwind(AssertUnwindSafe(|| image_to_gray(&doc, stream)))
            .ok()
            .flatten();
        if let Some(gray) = gray {
            for code in pipeline::run(&gray, pipeline::THOROUGH) {
                if !codes.iter().any(|c| c.bytes == code.bytes) {
                    codes.push(code);
                }
            }
        }
    }
    Ok(PdfScan {
        codes,
        sha256,
        images,
    })
}

fn is_image(dict: &Dictionary) -> bool {
    matches!(dict.get(b"Subtype").and_then(Object::as_name), Ok(b"Image"))
}

fn int(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<i64> {
    dict.get_deref(key, doc).ok()?.as_i64().ok()
}

/// The image's samples as greyscale, composited on white through its soft mask.
fn image_to_gray(doc: &Document, stream: &Stream) -> Option<Gray> {
    let mut gray = samples_to_gray(doc, stream)?;
    if let Ok(Object::Reference(id)) = stream.dict.get(b"SMask") {
        if let Ok(Object::Stream(mask)) = doc.get_object(*id) {
            if let Some(alpha) = samples_to_gray(doc, mask) {
                if (alpha.w, alpha.h) == (gray.w, gray.h) {
                    for (p, &a) in gray.px.iter_mut().zip(&alpha.px) {
                        let (p16, a16) = (u16::from(*p), u16::from(a));
                        *p = ((p16 * a16 + 255 * (255 - a16)) / 255) as u8;
                    }
                }
            }
        }
    }
    Some(gray)
}

fn samples_to_gray(doc: &Document, stream: &Stream) -> Option<Gray> {
    let dict = &stream.dict;
    let w = u32::try_from(int(doc, dict, b"Width")?).ok()?;
    let h = u32::try_from(int(doc, dict, b"Height")?).ok()?;
    load::check_size(w, h).ok()?;
    let filters = stream.filters().unwrap_or_default();
    if filters.last() == Some(&&b"DCTDecode"[..]) {
        // A JPEG as it is (filters before DCT are not used in practice).
        return (filters.len() == 1)
            .then(|| load::to_gray(&stream.content).ok())
            .flatten();
    }
    let data = stream
        .decompressed_content_with_limit(MAX_STREAM_BYTES)
        .ok()?;
    let image_mask = matches!(dict.get(b"ImageMask"), Ok(Object::Boolean(true)));
    let bpc = if image_mask {
        1
    } else {
        int(doc, dict, b"BitsPerComponent").unwrap_or(8)
    };
    if ![1, 2, 4, 8, 16].contains(&bpc) {
        return None;
    }
    let colour = if image_mask {
        Colour::Gray
    } else {
        colour_space(doc, dict.get_deref(b"ColorSpace", doc).ok()?)?
    };
    let (w, h, bpc) = (w as usize, h as usize, bpc as usize);
    let comps = colour.components();
    let row_bytes = (w * comps * bpc).div_ceil(8);
    if data.len() < row_bytes * h {
        return None;
    }
    let max = (1u32 << bpc) - 1;
    let sample = |row: &[u8], i: usize| -> u32 {
        match bpc {
            // The high byte: 8 bits of a 16-bit sample are plenty for a QR code.
            16 => u32::from(row[2 * i]),
            8 => u32::from(row[i]),
            _ => {
                let bit = i * bpc;
                (u32::from(row[bit / 8]) >> (8 - bpc - bit % 8)) & max
            }
        }
    };
    // `Decode [1 0]` (and an image mask's default, where 0 paints) inverts.
    let inverted = match dict.get(b"Decode").and_then(Object::as_array) {
        Ok(d) => d.first().and_then(|v| v.as_float().ok()).unwrap_or(0.0) > 0.5,
        Err(_) => false,
    } ^ image_mask;
    let to8 = |v: u32| -> u32 {
        if bpc == 16 {
            v
        } else {
            v * 255 / max
        }
    };
    let mut px = Vec::with_capacity(w * h);
    for y in 0..h {
        let row = &data[y * row_bytes..(y + 1) * row_bytes];
        for x in 0..w {
            let v = match &colour {
                Colour::Gray => to8(sample(row, x)),
                Colour::Rgb => {
                    let (r, g, b) = (
                        to8(sample(row, 3 * x)),
                        to8(sample(row, 3 * x + 1)),
                        to8(sample(row, 3 * x + 2)),
                    );
                    (299 * r + 587 * g + 114 * b) / 1000
                }
                Colour::Cmyk => {
                    let k = to8(sample(row, 4 * x + 3));
                    let cmy = (to8(sample(row, 4 * x))
                        + to8(sample(row, 4 * x + 1))
                        + to8(sample(row, 4 * x + 2)))
                        / 3;
                    (255 - cmy.min(255)) * (255 - k.min(255)) / 255
                }
                Colour::Indexed(palette) => {
                    let i = sample(row, x) as usize;
                    u32::from(palette.get(i).copied().unwrap_or(255))
                }
            };
            let v = v.min(255) as u8;
            px.push(if inverted { 255 - v } else { v });
        }
    }
    Gray::new(w, h, px)
}

/// The colour spaces an image's samples are read in.
enum Colour {
    Gray,
    Rgb,
    Cmyk,
    /// One byte per sample, looked up to a grey level.
    Indexed(Vec<u8>),
}

impl Colour {
    fn components(&self) -> usize {
        match self {
            Colour::Gray | Colour::Indexed(_) => 1,
            Colour::Rgb => 3,
            Colour::Cmyk => 4,
        }
    }
}

fn colour_space(doc: &Document, cs: &Object) -> Option<Colour> {
    if let Ok(name) = cs.as_name() {
        return match name {
            b"DeviceGray" | b"CalGray" | b"G" => Some(Colour::Gray),
            b"DeviceRGB" | b"CalRGB" | b"RGB" => Some(Colour::Rgb),
            b"DeviceCMYK" | b"CMYK" => Some(Colour::Cmyk),
            _ => None,
        };
    }
    let arr = cs.as_array().ok()?;
    let family = arr.first()?.as_name().ok()?;
    let deref = |o: &Object| -> Option<Object> {
        match o {
            Object::Reference(id) => doc.get_object(*id).ok().cloned(),
            other => Some(other.clone()),
        }
    };
    match family {
        b"ICCBased" => {
            let Object::Stream(s) = deref(arr.get(1)?)? else {
                return None;
            };
            match s.dict.get(b"N").and_then(Object::as_i64).ok()? {
                1 => Some(Colour::Gray),
                3 => Some(Colour::Rgb),
                4 => Some(Colour::Cmyk),
                _ => None,
            }
        }
        b"CalGray" => Some(Colour::Gray),
        b"CalRGB" => Some(Colour::Rgb),
        b"Indexed" | b"I" => {
            let base = colour_space(doc, &deref(arr.get(1)?)?)?;
            let lookup = match deref(arr.get(3)?)? {
                Object::String(s, _) => s,
                Object::Stream(s) => s.decompressed_content_with_limit(4 * 256).ok()?,
                _ => return None,
            };
            let n = base.components();
            let palette = lookup
                .chunks_exact(n)
                .map(|c| match base {
                    Colour::Gray => c[0],
                    Colour::Rgb => {
                        ((299 * u32::from(c[0]) + 587 * u32::from(c[1]) + 114 * u32::from(c[2]))
                            / 1000) as u8
                    }
                    Colour::Cmyk => {
                        let cmy = (u32::from(c[0]) + u32::from(c[1]) + u32::from(c[2])) / 3;
                        ((255 - cmy) * (255 - u32::from(c[3])) / 255) as u8
                    }
                    Colour::Indexed(_) => 255,
                })
                .collect();
            Some(Colour::Indexed(palette))
        }
        _ => None,
    }
}
