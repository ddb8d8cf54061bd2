//! The two decoders behind the one interface: rxing (ZXing's algorithms: the C++ port's
//! multi-symbol reader, then the Java port's reader) and rqrr (quirc's), each on one greyscale
//! image, each guarded so that a panic inside a decoder becomes "nothing found".

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::qrcode::QRCodeReader;
use rxing::{
    BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8LuminanceSource, RXingResult,
    RXingResultMetadataType, RXingResultMetadataValue, Reader,
};

use crate::preprocess::Gray;
use crate::Code;

/// Which binariser rxing uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binariser {
    /// ZXing's local (8x8 block) thresholds: the default, good under uneven light.
    Hybrid,
    /// One threshold per row from the histogram: better on blurred, low-resolution codes.
    Global,
}

/// Runs `f`, turning a panic into `None`.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

fn hints(try_harder: bool) -> DecodeHints {
    DecodeHints {
        TryHarder: Some(try_harder),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    }
}

/// rxing on `img`: every code the C++ port finds, else the one the Java port finds.
/// `try_harder` searches every row for finder patterns (slower; finds smaller codes).
pub fn rxing(img: &Gray, binariser: Binariser, try_harder: bool) -> Vec<Code> {
    guarded(|| {
        let (Ok(w), Ok(h)) = (u32::try_from(img.w), u32::try_from(img.h)) else {
            return Vec::new();
        };
        let Ok(source) = Luma8LuminanceSource::new(img.px.clone(), w, h) else {
            return Vec::new();
        };
        match binariser {
            Binariser::Hybrid => read(
                &mut BinaryBitmap::new(HybridBinarizer::new(source)),
                try_harder,
            ),
            Binariser::Global => read(
                &mut BinaryBitmap::new(GlobalHistogramBinarizer::new(source)),
                try_harder,
            ),
        }
    })
    .unwrap_or_default()
}

fn read<B: Binarizer>(bitmap: &mut BinaryBitmap<B>, try_harder: bool) -> Vec<Code> {
    let hints = hints(try_harder);
    // The C++ port's result carries the payload's bytes as they are.
    if let Ok(found) = QrReader.decode_multiple_with_hints(bitmap, &hints) {
        if !found.is_empty() {
            return found.iter().map(from_cpp).collect();
        }
    }
    // The Java port (another detector) carries codewords as raw bytes: take the byte segments.
    match QRCodeReader.decode_with_hints(bitmap, &hints) {
        Ok(r) => vec![from_java(&r)],
        Err(_) => Vec::new(),
    }
}

fn from_cpp(r: &RXingResult) -> Code {
    Code {
        bytes: r.getRawBytes().to_vec(),
        text: r.getText().to_owned(),
    }
}

fn from_java(r: &RXingResult) -> Code {
    let text = r.getText().to_owned();
    let segments = match r
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::BYTE_SEGMENTS)
    {
        Some(RXingResultMetadataValue::ByteSegments(s)) => s.concat(),
        _ => Vec::new(),
    };
    // The byte segments are the whole payload when they read back as the whole text (as
    // UTF-8 or as ISO 8859-1); otherwise the text is (numeric, alphanumeric, mixed modes).
    let latin1: String = segments.iter().map(|&b| char::from(b)).collect();
    let whole = !segments.is_empty()
        && (std::str::from_utf8(&segments) == Ok(text.as_str()) || latin1 == text);
    Code {
        bytes: if whole {
            segments
        } else {
            text.clone().into_bytes()
        },
        text,
    }
}

/// rqrr on `img`: every grid it finds and decodes. Its bytes are exact (`decode_to`); its
/// text is UTF-8, with replacement characters where the bytes are not.
pub fn rqrr(img: &Gray) -> Vec<Code> {
    guarded(|| {
        let mut prepared =
            rqrr::PreparedImage::prepare_from_greyscale(img.w, img.h, |x, y| img.px[y * img.w + x]);
        prepared
            .detect_grids()
            .into_iter()
            .filter_map(|grid| {
                let mut bytes = Vec::new();
                grid.decode_to(&mut bytes).ok()?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                Some(Code { bytes, text })
            })
            .collect()
    })
    .unwrap_or_default()
}
