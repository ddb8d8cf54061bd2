//! The degraded set: our own certificate QR codes (real `TS1:` payloads signed with the
//! registry's development keys), rendered as a camera would see them — rotated by arbitrary
//! angles, in perspective, blurred, noisy, low in contrast, JPEG-compressed, at 3 pixels per
//! module — deterministically (a fixed-seed generator, no clock).

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageEncoder};
use qrcode::{Color, EcLevel, QrCode};
use registry::devkit::dev_key;
use registry::{sample_certificate, Serial};

/// A deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Real certificate payloads of several sizes: the sample certificate with and without its
/// optional fields, signed by a development issuer key.
pub fn payloads() -> Vec<String> {
    let key = dev_key("issuer-ke-kephis");
    let mut out = Vec::new();
    for (i, serial) in [
        "KE-PH-2026-000123",
        "KE-PH-2026-000124",
        "KE-PH-2026-900001",
    ]
    .iter()
    .enumerate()
    {
        let mut cert = sample_certificate(Serial::new(*serial).unwrap(), 1_767_225_600 + i as u64);
        match i {
            1 => {
                cert.remarks = None;
                cert.transport = None;
            }
            2 => {
                cert.remarks = None;
                cert.transport = None;
                cert.invoice = None;
                cert.exporter.identifier = None;
                cert.importer.identifier = None;
            }
            _ => {}
        }
        let signed = cert.sign("tradeseal-devnet", &key).unwrap();
        out.push(registry::qr::encode(&signed).unwrap());
    }
    out
}

/// How one sample is degraded.
#[derive(Debug, Clone, Copy)]
pub struct Degradation {
    pub name: &'static str,
    /// Pixels per module.
    pub ppm: f64,
    /// Rotation in degrees.
    pub angle: f64,
    /// Perspective: how much shorter the far edge is (0 = none).
    pub tilt: f64,
    /// Gaussian blur sigma in pixels (0 = none).
    pub blur: f64,
    /// Gaussian noise sigma in grey levels (0 = none).
    pub noise: f64,
    /// Dark and light levels.
    pub dark: u8,
    pub light: u8,
    /// JPEG quality (0 = not compressed).
    pub jpeg: u8,
}

const BASE: Degradation = Degradation {
    name: "",
    ppm: 5.0,
    angle: 0.0,
    tilt: 0.0,
    blur: 0.0,
    noise: 0.0,
    dark: 20,
    light: 235,
    jpeg: 0,
};

/// The conditions of the set; each is applied to every payload.
pub const DEGRADATIONS: &[Degradation] = &[
    Degradation {
        name: "rotate 7",
        angle: 7.0,
        ..BASE
    },
    Degradation {
        name: "rotate 23",
        angle: 23.0,
        ..BASE
    },
    Degradation {
        name: "rotate 45",
        angle: 45.0,
        ..BASE
    },
    Degradation {
        name: "rotate 66",
        angle: 66.0,
        ..BASE
    },
    Degradation {
        name: "rotate 137",
        angle: 137.0,
        ..BASE
    },
    Degradation {
        name: "rotate 203",
        angle: 203.0,
        ..BASE
    },
    Degradation {
        name: "rotate 311",
        angle: 311.0,
        ..BASE
    },
    Degradation {
        name: "perspective 25%",
        tilt: 0.25,
        angle: 4.0,
        ..BASE
    },
    Degradation {
        name: "perspective 40%",
        tilt: 0.40,
        angle: 31.0,
        ppm: 6.0,
        ..BASE
    },
    Degradation {
        name: "blur 1.2",
        blur: 1.2,
        angle: 3.0,
        ..BASE
    },
    Degradation {
        name: "blur 1.8",
        blur: 1.8,
        angle: 12.0,
        ppm: 6.0,
        ..BASE
    },
    Degradation {
        name: "noise 30",
        noise: 30.0,
        angle: 9.0,
        ..BASE
    },
    Degradation {
        name: "low contrast 90-150",
        dark: 90,
        light: 150,
        angle: 5.0,
        ..BASE
    },
    Degradation {
        name: "low contrast 120-150 + noise",
        dark: 120,
        light: 150,
        noise: 6.0,
        angle: 2.0,
        ..BASE
    },
    Degradation {
        name: "jpeg q20",
        jpeg: 20,
        angle: 14.0,
        ..BASE
    },
    Degradation {
        name: "3 px/module",
        ppm: 3.0,
        ..BASE
    },
    Degradation {
        name: "2 px/module",
        ppm: 2.0,
        angle: 1.0,
        ..BASE
    },
    Degradation {
        name: "inverted (light on dark)",
        dark: 235,
        light: 20,
        angle: 6.0,
        ..BASE
    },
    Degradation {
        name: "3 px/module rotated 3",
        ppm: 3.0,
        angle: 3.0,
        ..BASE
    },
    Degradation {
        name: "3 px/module, rotate 3, blur, noise, jpeg",
        ppm: 3.0,
        angle: 3.0,
        blur: 0.6,
        noise: 8.0,
        jpeg: 60,
        ..BASE
    },
    Degradation {
        name: "everything: 4 px/module, rotate 38, tilt, blur, noise, contrast, jpeg",
        ppm: 4.0,
        angle: 38.0,
        tilt: 0.15,
        blur: 0.8,
        noise: 10.0,
        dark: 60,
        light: 190,
        jpeg: 50,
    },
];

/// The dark modules of `payload`'s QR code (level M, as the devnet prints them).
pub fn modules(payload: &str) -> (usize, Vec<bool>) {
    let code = QrCode::with_error_correction_level(payload, EcLevel::M).unwrap();
    let w = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    (w, dark)
}

/// Solves the 8 unknowns of the homography that maps each `from[i]` to `to[i]`.
fn homography(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> [f64; 9] {
    let mut m = [[0f64; 9]; 8];
    for i in 0..4 {
        let ((x, y), (u, v)) = (from[i], to[i]);
        m[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        m[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for c in 0..8 {
        let p = (c..8)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap();
        m.swap(c, p);
        for r in 0..8 {
            if r != c {
                let f = m[r][c] / m[c][c];
                let pivot = m[c];
                for (v, p) in m[r].iter_mut().zip(pivot).skip(c) {
                    *v -= f * p;
                }
            }
        }
    }
    let h: Vec<f64> = (0..8).map(|r| m[r][8] / m[r][r]).collect();
    [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]
}

/// Renders `payload` degraded by `d` (seeded by `seed`) and returns the image as it would be
/// stored: PNG, or JPEG when `d.jpeg` is set.
pub fn render(payload: &str, d: &Degradation, seed: u64) -> (GrayImage, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let (n, dark) = modules(payload);
    let quiet = 4.0;
    let side = (n as f64 + 2.0 * quiet) * d.ppm;
    let canvas = (side * 1.5).ceil() as u32 + 8;
    let c = canvas as f64 / 2.0;
    // The code's square (with its quiet zone), rotated about the centre, far edge shortened.
    let half = side / 2.0;
    let (s, co) = d.angle.to_radians().sin_cos();
    let corners = [(-half, -half), (half, -half), (half, half), (-half, half)];
    let to: Vec<(f64, f64)> = corners
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            // The top edge (corners 0 and 1) is the far one.
            let x = if i < 2 { x * (1.0 - d.tilt) } else { x };
            (c + co * x - s * y, c + s * x + co * y)
        })
        .collect();
    let m = n as f64 + 2.0 * quiet;
    let from = [(0.0, 0.0), (m, 0.0), (m, m), (0.0, m)];
    // Target pixel -> module coordinates.
    let h = homography([to[0], to[1], to[2], to[3]], from);
    let module_at = |u: f64, v: f64| -> bool {
        let (mx, my) = (u - quiet, v - quiet);
        if mx < 0.0 || my < 0.0 || mx >= n as f64 || my >= n as f64 {
            return false;
        }
        dark[my as usize * n + mx as usize]
    };
    let (lo, hi) = (f64::from(d.dark), f64::from(d.light));
    let mut px = vec![0f64; (canvas * canvas) as usize];
    const SS: usize = 3;
    for y in 0..canvas as usize {
        for x in 0..canvas as usize {
            let mut darkness = 0usize;
            for sy in 0..SS {
                for sx in 0..SS {
                    let (fx, fy) = (
                        x as f64 + (sx as f64 + 0.5) / SS as f64,
                        y as f64 + (sy as f64 + 0.5) / SS as f64,
                    );
                    let w = h[6] * fx + h[7] * fy + h[8];
                    let u = (h[0] * fx + h[1] * fy + h[2]) / w;
                    let v = (h[3] * fx + h[4] * fy + h[5]) / w;
                    darkness += usize::from(module_at(u, v));
                }
            }
            let a = darkness as f64 / (SS * SS) as f64;
            px[y * canvas as usize + x] = hi + (lo - hi) * a;
        }
    }
    if d.blur > 0.0 {
        px = gaussian(&px, canvas as usize, d.blur);
    }
    let bytes: Vec<u8> = px
        .iter()
        .map(|&v| (v + d.noise * rng.normal()).round().clamp(0.0, 255.0) as u8)
        .collect();
    let img = GrayImage::from_raw(canvas, canvas, bytes).unwrap();
    if d.jpeg > 0 {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, d.jpeg)
            .write_image(img.as_raw(), canvas, canvas, image::ExtendedColorType::L8)
            .unwrap();
        let back = image::load_from_memory(&out).unwrap().to_luma8();
        (back, out)
    } else {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), canvas, canvas, image::ExtendedColorType::L8)
            .unwrap();
        (img, out)
    }
}

fn gaussian(px: &[f64], w: usize, sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as isize;
    let k: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = k.iter().sum();
    let k: Vec<f64> = k.iter().map(|v| v / sum).collect();
    let h = px.len() / w;
    let pass = |src: &[f64], horizontal: bool| -> Vec<f64> {
        let mut out = vec![0f64; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0.0;
                for (j, kv) in k.iter().enumerate() {
                    let o = j as isize - r;
                    let (xx, yy) = if horizontal {
                        ((x as isize + o).clamp(0, w as isize - 1) as usize, y)
                    } else {
                        (x, (y as isize + o).clamp(0, h as isize - 1) as usize)
                    };
                    acc += kv * src[yy * w + xx];
                }
                out[y * w + x] = acc;
            }
        }
        out
    };
    pass(&pass(px, true), false)
}

/// One sample of the set.
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub payload: String,
    /// The stored file (PNG or JPEG).
    pub file: Vec<u8>,
    /// Its greyscale pixels (the benchmark gives them to zbar).
    #[allow(dead_code)]
    pub image: GrayImage,
}

/// The whole set: every degradation of every payload.
pub fn set() -> Vec<Sample> {
    let payloads = payloads();
    let mut out = Vec::new();
    for (di, d) in DEGRADATIONS.iter().enumerate() {
        for (pi, p) in payloads.iter().enumerate() {
            let (image, file) = render(p, d, (di * 31 + pi) as u64 + 1);
            out.push(Sample {
                name: format!("{} / payload {} ({} chars)", d.name, pi, p.len()),
                payload: p.clone(),
                file,
                image,
            });
        }
    }
    out
}
