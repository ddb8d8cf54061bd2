//! PDFs: the QR code of an embedded image found whatever the image's encoding, and the hash
//! of the file returned with it.

use image::{GrayImage, ImageFormat, Luma};
use lopdf::{dictionary, Document, Object, Stream};
use sha2::{Digest, Sha256};
use tradeseal_scan::{decode_bytes, decode_pdf, ScanError};

use crate::degrade;

fn qr(payload: &str) -> GrayImage {
    qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M)
        .unwrap()
        .render::<Luma<u8>>()
        .module_dimensions(4, 4)
        .build()
}

/// A one-page PDF that draws `image` (an image XObject stream) on an A4 page.
fn pdf_with(image: Option<Stream>) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut resources = lopdf::Dictionary::new();
    let mut ops = b"BT ET".to_vec();
    if let Some(image) = image {
        let image_id = doc.add_object(image);
        resources.set("XObject", dictionary! { "QR" => image_id });
        ops = b"q 200 0 0 200 50 50 cm /QR Do Q".to_vec();
    }
    let content_id = doc.add_object(Stream::new(dictionary! {}, ops));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id,
        "Resources" => resources,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn image_dict(img: &GrayImage, extra: lopdf::Dictionary) -> lopdf::Dictionary {
    let mut d = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => img.width() as i64,
        "Height" => img.height() as i64,
    };
    d.extend(&extra);
    d
}

fn check(pdf: &[u8], payload: &str) {
    let scan = decode_pdf(pdf).unwrap();
    assert_eq!(scan.images, 1);
    assert_eq!(scan.codes.len(), 1, "{scan:?}");
    assert_eq!(scan.codes[0].text, payload);
    assert_eq!(scan.sha256, <[u8; 32]>::from(Sha256::digest(pdf)));
    let via_bytes = decode_bytes(pdf).unwrap();
    assert_eq!(via_bytes.codes, scan.codes);
    assert_eq!(via_bytes.pdf_sha256, Some(scan.sha256));
}

/// The QR image as an 8-bit grey image stream, Flate-compressed.
fn grey_flate(img: &GrayImage) -> Stream {
    let mut s = Stream::new(
        image_dict(
            img,
            dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        ),
        img.as_raw().clone(),
    );
    s.compress().unwrap();
    s
}

#[test]
fn flate_compressed_grey_image() {
    let payload = &degrade::payloads()[0];
    let img = qr(payload);
    let s = grey_flate(&img);
    check(&pdf_with(Some(s)), payload);
}

#[test]
fn jpeg_rgb_image() {
    let payload = &degrade::payloads()[1];
    let img = image::DynamicImage::ImageLuma8(qr(payload)).to_rgb8();
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
    let s = Stream::new(
        image_dict(
            &qr(payload),
            dictionary! { "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
        ),
        jpeg.into_inner(),
    );
    check(&pdf_with(Some(s)), payload);
}

#[test]
fn one_bit_image_mask_and_uncompressed_rgb() {
    let payload = &degrade::payloads()[2];
    let img = qr(payload);
    // An image mask: 1 bit per pixel, 0 paints (dark).
    let row = img.width().div_ceil(8) as usize;
    let mut bits = vec![0u8; row * img.height() as usize];
    for (x, y, p) in img.enumerate_pixels() {
        if p.0[0] > 127 {
            bits[y as usize * row + x as usize / 8] |= 0x80 >> (x % 8);
        }
    }
    let mask = Stream::new(image_dict(&img, dictionary! { "ImageMask" => true }), bits);
    check(&pdf_with(Some(mask)), payload);
    let rgb = image::DynamicImage::ImageLuma8(img.clone()).to_rgb8();
    let s = Stream::new(
        image_dict(
            &img,
            dictionary! { "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8 },
        ),
        rgb.into_raw(),
    );
    check(&pdf_with(Some(s)), payload);
}

#[test]
fn a_pdf_without_images_has_no_codes_and_damaged_ones_are_errors() {
    let pdf = pdf_with(None);
    let scan = decode_pdf(&pdf).unwrap();
    assert!(scan.codes.is_empty());
    assert_eq!(scan.images, 0);
    assert_eq!(decode_pdf(b"not a pdf"), Err(ScanError::UnsupportedFormat));
    let payload = &degrade::payloads()[0];
    let img = qr(payload);
    let s = grey_flate(&img);
    let good = pdf_with(Some(s));
    for cut in [10, good.len() / 3, good.len() / 2, good.len() - 30] {
        // Truncated: an error, or whatever can still be read; never a panic.
        let _ = decode_pdf(&good[..cut]);
    }
    // Wrong sizes and colour spaces are skipped, not trusted.
    let bad = Stream::new(
        image_dict(
            &img,
            dictionary! { "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        ),
        vec![0u8; 10],
    );
    assert!(decode_pdf(&pdf_with(Some(bad))).unwrap().codes.is_empty());
}
