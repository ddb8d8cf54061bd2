//! Input that is not ours, or not an image at all: codes or a clear error, never a panic.

use image::{GrayImage, ImageFormat, Luma};
use tradeseal_scan::{decode_bytes, decode_image_bytes, decode_luma, ScanError, MAX_FILE_BYTES};

use crate::degrade::{self, Rng};

fn encode(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn qr_png(text: &str, ppm: u32) -> Vec<u8> {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let img = code
        .render::<Luma<u8>>()
        .module_dimensions(ppm, ppm)
        .build();
    encode(&img, ImageFormat::Png)
}

#[test]
fn a_url_code_is_read_as_what_it_is() {
    let codes = decode_image_bytes(&qr_png("https://example.com/track?id=42", 6)).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].text, "https://example.com/track?id=42");
    assert_eq!(codes[0].bytes, b"https://example.com/track?id=42");
    assert_eq!(
        registry::qr::decode(&codes[0].bytes),
        Err(registry::qr::QrError::Foreign)
    );
}

#[test]
fn binary_and_other_versions_come_back_byte_exact() {
    let payload: Vec<u8> = (0u8..=255).collect();
    let code = qrcode::QrCode::new(&payload).unwrap();
    let img = code.render::<Luma<u8>>().module_dimensions(5, 5).build();
    let codes = decode_image_bytes(&encode(&img, ImageFormat::Png)).unwrap();
    assert_eq!(codes[0].bytes, payload);
    let codes = decode_image_bytes(&qr_png("TS2:FUTURE", 6)).unwrap();
    assert!(matches!(
        registry::qr::decode(&codes[0].bytes),
        Err(registry::qr::QrError::UnsupportedVersion(_))
    ));
}

#[test]
fn every_code_in_an_image_is_found() {
    let payloads = degrade::payloads();
    let (a, b) = (
        qrcode::QrCode::new(&payloads[0]).unwrap(),
        qrcode::QrCode::new("second code").unwrap(),
    );
    let a = a.render::<Luma<u8>>().module_dimensions(4, 4).build();
    let b = b.render::<Luma<u8>>().module_dimensions(6, 6).build();
    let mut img = GrayImage::from_pixel(
        a.width() + b.width() + 40,
        a.height().max(b.height()) + 40,
        Luma([255]),
    );
    image::imageops::replace(&mut img, &a, 10, 10);
    image::imageops::replace(&mut img, &b, i64::from(a.width()) + 30, 10);
    let codes = decode_image_bytes(&encode(&img, ImageFormat::Png)).unwrap();
    let texts: Vec<&str> = codes.iter().map(|c| c.text.as_str()).collect();
    assert!(texts.contains(&payloads[0].as_str()), "{texts:?}");
    assert!(texts.contains(&"second code"), "{texts:?}");
}

#[test]
fn images_without_codes_give_nothing() {
    let mut rng = Rng::new(1);
    let noise = GrayImage::from_fn(320, 240, |_, _| Luma([(rng.next_u64() & 0xff) as u8]));
    for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP] {
        assert_eq!(decode_image_bytes(&encode(&noise, format)).unwrap(), vec![]);
    }
    let white = GrayImage::from_pixel(1, 1, Luma([255]));
    assert_eq!(
        decode_image_bytes(&encode(&white, ImageFormat::Png)).unwrap(),
        vec![]
    );
    assert!(decode_luma(320, 240, noise.as_raw()).is_empty());
    assert!(decode_luma(0, 0, &[]).is_empty());
    assert!(decode_luma(10, 10, &[0; 99]).is_empty());
}

#[test]
fn damaged_and_unsupported_files_are_clear_errors() {
    let png = qr_png(&degrade::payloads()[0], 4);
    for cut in [8, 30, png.len() / 2, png.len() - 13] {
        match decode_image_bytes(&png[..cut]) {
            Err(ScanError::Corrupt(_)) | Ok(_) => {}
            other => panic!("truncated at {cut}: {other:?}"),
        }
    }
    assert!(matches!(
        decode_image_bytes(&png[..png.len() / 2]),
        Err(ScanError::Corrupt(_))
    ));
    let jpeg = encode(
        &GrayImage::from_pixel(64, 64, Luma([200])),
        ImageFormat::Jpeg,
    );
    assert!(decode_image_bytes(&jpeg[..20]).is_err());
    assert_eq!(decode_image_bytes(b""), Err(ScanError::UnsupportedFormat));
    assert_eq!(
        decode_image_bytes(b"GIF89a...."),
        Err(ScanError::UnsupportedFormat)
    );
    assert_eq!(
        decode_bytes(b"hello, world"),
        Err(ScanError::UnsupportedFormat)
    );
    assert_eq!(ScanError::UnsupportedFormat.kind(), "unsupported_format");
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let wide = GrayImage::from_pixel(17_000, 1, Luma([255]));
    assert!(matches!(
        decode_image_bytes(&encode(&wide, ImageFormat::Png)),
        Err(ScanError::TooLarge(_))
    ));
    let mut huge = b"\x89PNG\r\n\x1a\n".to_vec();
    huge.resize(MAX_FILE_BYTES + 1, 0);
    assert!(matches!(
        decode_image_bytes(&huge),
        Err(ScanError::TooLarge(_))
    ));
}

#[test]
fn altered_bytes_never_panic() {
    let payload = &degrade::payloads()[2];
    let (_, png) = degrade::render(payload, &degrade::DEGRADATIONS[0], 9);
    let mut rng = Rng::new(99);
    for _ in 0..40 {
        let mut bytes = png.clone();
        for _ in 0..1 + rng.next_u64() % 8 {
            let i = (rng.next_u64() as usize) % bytes.len();
            bytes[i] = rng.next_u64() as u8;
        }
        // Whatever is read, it is reported; the registry then refuses a damaged payload.
        if let Ok(codes) = decode_image_bytes(&bytes) {
            for c in codes {
                let _ = registry::qr::decode(&c.bytes);
            }
        }
    }
}
