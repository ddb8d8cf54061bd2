//! The certificate's QR symbol and its print size, rendered as a PNG (1 bit per pixel, with
//! its physical size recorded so that it prints at the recommended size by default) and as an
//! SVG (sized in millimetres). Both carry the quiet zone.
//!
//! Print size: a module of [`MODULE_MM`] (0.7 mm) is recommended, and never less than
//! [`MIN_MODULE_MM`] (0.5 mm). A version 15 symbol (77 modules, 85 with the 4-module quiet
//! zone on each side) is then 59.5 mm wide, and at least 42.5 mm. Chosen by measurement
//! (`wallet/tests/issuance.rs`): at 0.6 mm a whole-page 3-megapixel photo tilted 15 % (about
//! 3 pixels per module) did not decode; at 0.7 mm every photo of that test does.

use qrcode::{Color, EcLevel, QrCode, Version};
use serde::{Deserialize, Serialize};

/// Largest QR version: phones read up to version 15 reliably from paper (the protocol's
/// limit, §3).
pub const MAX_QR_VERSION: i16 = 15;
/// Light modules around the symbol on each side (ISO/IEC 18004's quiet zone).
pub const QUIET_ZONE_MODULES: usize = 4;
/// Recommended printed size of one module, in millimetres.
pub const MODULE_MM: f64 = 0.7;
/// Smallest printed size of one module that still reads reliably, in millimetres.
pub const MIN_MODULE_MM: f64 = 0.5;
/// PNG pixels per module.
pub const PNG_PX_PER_MODULE: usize = 10;

/// Why a payload has no symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    /// The payload does not fit a QR code at level M at all.
    #[error("the payload does not fit a QR code: {0}")]
    Encode(String),
    /// It needs a version above [`MAX_QR_VERSION`].
    #[error("the payload needs QR version {version}, above {MAX_QR_VERSION}: phones may not read it from paper")]
    TooLarge {
        /// The version it needs.
        version: i16,
    },
}

/// How large to print the symbol.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrintSize {
    /// Modules per side, quiet zone excluded.
    pub modules: usize,
    /// Light modules around it on each side.
    pub quiet_zone_modules: usize,
    /// Recommended millimetres per module.
    pub module_mm: f64,
    /// Recommended side in millimetres, quiet zone included.
    pub side_mm: f64,
    /// Smallest side in millimetres, quiet zone included.
    pub min_side_mm: f64,
    /// The PNG's resolution at the recommended size (dots per inch; also in its pHYs chunk).
    pub png_dpi: f64,
}

/// A QR symbol at error correction level M.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    version: i16,
    width: usize,
    dark: Vec<bool>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Symbol {
    /// The symbol of `payload` at level M, at most version [`MAX_QR_VERSION`]. A `TS1:`
    /// payload is all in the QR alphanumeric set, so it is encoded in that mode.
    pub fn new(payload: &str) -> Result<Symbol, SymbolError> {
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
            .map_err(|e| SymbolError::Encode(e.to_string()))?;
        let version = match code.version() {
            Version::Normal(v) if v <= MAX_QR_VERSION => v,
            Version::Normal(v) => return Err(SymbolError::TooLarge { version: v }),
            Version::Micro(_) => return Err(SymbolError::Encode("a micro QR code".into())),
        };
        Ok(Symbol {
            version,
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Its version (1-15).
    pub fn version(&self) -> i16 {
        self.version
    }

    /// Modules per side, quiet zone excluded.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Modules per side, quiet zone included.
    pub fn side(&self) -> usize {
        self.width + 2 * QUIET_ZONE_MODULES
    }

    /// Whether the module at (x, y), counted from the quiet zone's corner, is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        let q = QUIET_ZONE_MODULES;
        if x < q || y < q || x >= q + self.width || y >= q + self.width {
            return false;
        }
        self.dark[(y - q) * self.width + (x - q)]
    }

    /// How large to print it.
    pub fn print_size(&self) -> PrintSize {
        let side = self.side() as f64;
        PrintSize {
            modules: self.width,
            quiet_zone_modules: QUIET_ZONE_MODULES,
            module_mm: MODULE_MM,
            side_mm: round1(side * MODULE_MM),
            min_side_mm: round1(side * MIN_MODULE_MM),
            png_dpi: round1(PNG_PX_PER_MODULE as f64 / MODULE_MM * 25.4),
        }
    }

    /// The symbol as 1-bit rows (MSB first, 1 = light, as DeviceGray and PNG greyscale
    /// read them), `px` pixels per module, quiet zone included: (side in pixels, bytes).
    pub fn bitmap(&self, px: usize) -> (usize, Vec<u8>) {
        let side = self.side() * px;
        let row_bytes = side.div_ceil(8);
        let mut out = vec![0u8; row_bytes * side];
        for y in 0..side {
            for x in 0..side {
                if !self.is_dark(x / px, y / px) {
                    out[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        (side, out)
    }

    /// A PNG: 1-bit greyscale, [`PNG_PX_PER_MODULE`] pixels per module, quiet zone
    /// included, with a pHYs chunk that makes it print at [`MODULE_MM`] per module.
    pub fn png(&self) -> Vec<u8> {
        let (side, rows) = self.bitmap(PNG_PX_PER_MODULE);
        let mut out = Vec::new();
        let side = u32::try_from(side).unwrap_or(u32::MAX);
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::High);
        let per_metre = (PNG_PX_PER_MODULE as f64 / MODULE_MM * 1000.0).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
        // Writing to memory a well-formed header and exactly the right amount of data
        // cannot fail.
        let mut writer = encoder.write_header().expect("PNG header to memory");
        writer
            .write_image_data(&rows)
            .expect("PNG data of the declared size");
        writer.finish().expect("PNG end to memory");
        out
    }

    /// An SVG: one path of the dark modules on a white square, quiet zone included, its
    /// width and height in millimetres at [`MODULE_MM`] per module. `title` (escaped) names
    /// it for assistive technology.
    pub fn svg(&self, title: &str) -> String {
        let side = self.side();
        let mm = round1(side as f64 * MODULE_MM);
        let mut path = String::new();
        for y in 0..side {
            let mut x = 0;
            while x < side {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < side && self.is_dark(x, y) {
                        x += 1;
                    }
                    path.push_str(&format!("M{start} {y}h{}v1h-{}z", x - start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        let title = title
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{mm}mm\" \
             height=\"{mm}mm\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\n\
             <title>{title}</title>\n\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/>\n\
             <path fill=\"#000000\" d=\"{path}\"/>\n\
             </svg>\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_print_size() {
        let s = Symbol::new(&format!("TS1:{}", "A".repeat(594))).unwrap();
        assert_eq!(s.version(), 15);
        assert_eq!(s.width(), 77);
        let p = s.print_size();
        assert_eq!((p.side_mm, p.min_side_mm), (59.5, 42.5));
        assert_eq!(p.png_dpi, 362.9);
        assert!(matches!(
            Symbol::new(&format!("TS1:{}", "A".repeat(700))),
            Err(SymbolError::TooLarge { version: 16.. })
        ));
    }

    #[test]
    fn png_and_svg_carry_the_same_modules_and_decode() {
        let payload = "TS1:HELLO WORLD 12345";
        let s = Symbol::new(payload).unwrap();
        let png = s.png();
        let codes = tradeseal_scan::decode_image_bytes(&png).unwrap();
        assert_eq!(codes[0].text, payload);
        assert_eq!(png, s.png(), "deterministic");
        let img = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(img.width() as usize, s.side() * PNG_PX_PER_MODULE);
        for y in 0..s.side() {
            for x in 0..s.side() {
                let p = img.get_pixel(
                    (x * PNG_PX_PER_MODULE + 5) as u32,
                    (y * PNG_PX_PER_MODULE + 5) as u32,
                )[0];
                assert_eq!(p == 0, s.is_dark(x, y));
            }
        }
        let svg = s.svg("a <code> & \"more\"");
        assert!(svg.contains("<title>a &lt;code&gt; &amp; &quot;more&quot;</title>"));
        let mm = (s.side() as f64 * MODULE_MM * 10.0).round() / 10.0;
        assert!(svg.contains(&format!("width=\"{mm}mm\"")));
        let dark_in_svg: usize = svg
            .split('M')
            .skip(1)
            .map(|seg| {
                seg.split('h')
                    .nth(1)
                    .unwrap()
                    .split('v')
                    .next()
                    .unwrap()
                    .parse::<usize>()
                    .unwrap()
            })
            .sum();
        assert_eq!(dark_in_svg, s.dark.iter().filter(|d| **d).count());
    }
}
