//! The photo fixtures (ZXing's QR black-box sets): loading, the four orientations, the
//! expected texts, and ZXing's published counts.

use std::path::{Path, PathBuf};

/// The sets with ZXing's own counts at 0/90/180/270 degrees (its test thresholds, from the
/// fixtures' provenance note).
pub const SETS: &[(&str, [usize; 4])] = &[
    ("zxing-qrcode-1", [17, 14, 17, 14]),
    ("zxing-qrcode-2", [32, 30, 31, 31]),
    ("zxing-qrcode-3", [38, 39, 36, 39]),
];

/// The four orientations, in degrees.
pub const ORIENTATIONS: [u32; 4] = [0, 90, 180, 270];

/// One photograph and the text its code holds.
#[derive(Debug)]
pub struct Photo {
    pub name: String,
    pub expected: String,
    pub image: image::DynamicImage,
}

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/qr-photos")
}

/// Every photo of a set, sorted by name.
pub fn load_set(set: &str) -> Vec<Photo> {
    let dir = testdata().join(set);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg")))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let expected = std::fs::read(p.with_extension("txt")).unwrap();
            Photo {
                name: p.file_name().unwrap().to_string_lossy().into_owned(),
                expected: String::from_utf8_lossy(&expected).into_owned(),
                image: image::open(&p).unwrap(),
            }
        })
        .collect()
}

/// The photo turned clockwise by `degrees` (a multiple of 90), as PNG bytes.
pub fn oriented_png(photo: &Photo, degrees: u32) -> Vec<u8> {
    let img = match degrees {
        0 => photo.image.clone(),
        90 => photo.image.rotate90(),
        180 => photo.image.rotate180(),
        270 => photo.image.rotate270(),
        _ => unreachable!("a multiple of 90"),
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Whether a decoded text is the expected one (trailing white space aside, as the fixture
/// files may end with a newline).
pub fn matches(found: &str, expected: &str) -> bool {
    found == expected || found.trim_end() == expected.trim_end()
}
