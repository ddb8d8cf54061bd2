//! Phone-camera photos of a rendered page, made deterministically (a fixed-seed generator,
//! no clock): the page lies on a darker desk, seen through a projective warp (rotation,
//! keystone tilt, the page's place and size in the frame), sampled over each pixel's area at
//! the phone's resolution, then lit unevenly, blurred (focus and shake), noisy (the sensor)
//! and JPEG-compressed, as a phone saves it. Test code only.

#![allow(dead_code)]

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageEncoder as _};

/// A deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos()
    }
}

/// How one photo is taken.
#[derive(Debug, Clone, Copy)]
pub struct Shot {
    pub name: &'static str,
    /// The photo's size in pixels.
    pub frame: (u32, u32),
    /// The part of the page in view, as fractions of its width and height (x0, y0, x1, y1).
    pub region: (f64, f64, f64, f64),
    /// How much of the frame the region fills (its larger side).
    pub fill: f64,
    /// Rotation in degrees.
    pub rotate: f64,
    /// Keystone: how much shorter the far (top) edge is than the near one.
    pub tilt: f64,
    /// Sideways keystone: how much shorter the right edge is than the left one.
    pub skew: f64,
    /// Gaussian blur sigma in pixels.
    pub blur: f64,
    /// Sensor noise sigma in grey levels.
    pub noise: f64,
    /// Light falls off to this fraction from one corner to the other.
    pub light: f64,
    /// JPEG quality.
    pub jpeg: u8,
}

/// The whole page in view.
pub const WHOLE_PAGE: (f64, f64, f64, f64) = (0.0, 0.0, 1.0, 1.0);

/// A 3x3 projective transform, row-major.
#[derive(Debug, Clone, Copy)]
struct Homography([f64; 9]);

impl Homography {
    /// The transform taking each `from` point to its `to` point.
    fn from_points(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Homography {
        let mut a = [[0.0f64; 9]; 8];
        for (i, ((x, y), (u, v))) in from.iter().zip(to.iter()).enumerate() {
            a[2 * i] = [*x, *y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, *u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, *x, *y, 1.0, -v * x, -v * y, *v];
        }
        // Gauss-Jordan with partial pivoting on the 8x8 system.
        for col in 0..8 {
            let pivot = (col..8)
                .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
                .unwrap();
            a.swap(col, pivot);
            let p = a[col][col];
            assert!(p.abs() > 1e-12, "degenerate points");
            for v in &mut a[col][col..] {
                *v /= p;
            }
            let pivot_row = a[col];
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let f = row[col];
                    for (v, pv) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                        *v -= f * pv;
                    }
                }
            }
        }
        let h: Vec<f64> = (0..8).map(|i| a[i][8]).collect();
        Homography([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0])
    }

    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        (
            (h[0] * x + h[1] * y + h[2]) / w,
            (h[3] * x + h[4] * y + h[5]) / w,
        )
    }
}

fn bilinear(img: &GrayImage, x: f64, y: f64, outside: f64) -> f64 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let px = |x: i64, y: i64| -> f64 {
        if x < 0 || y < 0 || x >= w || y >= h {
            outside
        } else {
            f64::from(img.get_pixel(x as u32, y as u32)[0])
        }
    };
    let top = px(x0, y0) * (1.0 - fx) + px(x0 + 1, y0) * fx;
    let bottom = px(x0, y0 + 1) * (1.0 - fx) + px(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

fn gaussian_blur(px: &mut [f64], w: usize, h: usize, sigma: f64) {
    if sigma <= 0.0 {
        return;
    }
    let r = (sigma * 3.0).ceil() as isize;
    let kernel: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = kernel.iter().sum();
    let kernel: Vec<f64> = kernel.iter().map(|k| k / sum).collect();
    let mut tmp = vec![0.0; px.len()];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (k, kv) in kernel.iter().enumerate() {
                let xx = (x as isize + k as isize - r).clamp(0, w as isize - 1) as usize;
                acc += kv * px[y * w + xx];
            }
            tmp[y * w + x] = acc;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (k, kv) in kernel.iter().enumerate() {
                let yy = (y as isize + k as isize - r).clamp(0, h as isize - 1) as usize;
                acc += kv * tmp[yy * w + x];
            }
            px[y * w + x] = acc;
        }
    }
}

/// The photo of `page` taken as `shot` says, as the JPEG file the phone would save, and the
/// pixels before compression (to look at).
pub fn photograph(page: &GrayImage, shot: &Shot, seed: u64) -> (Vec<u8>, GrayImage) {
    let mut rng = Rng::new(seed);
    let (fw, fh) = (f64::from(shot.frame.0), f64::from(shot.frame.1));
    let (pw, ph) = (f64::from(page.width()), f64::from(page.height()));
    let (x0, y0, x1, y1) = shot.region;
    let src = [
        (x0 * pw, y0 * ph),
        (x1 * pw, y0 * ph),
        (x1 * pw, y1 * ph),
        (x0 * pw, y1 * ph),
    ];
    // The region's rectangle scaled into the frame, centred, then tilted and rotated.
    let (rw, rh) = ((x1 - x0) * pw, (y1 - y0) * ph);
    // A quarter turn or so puts the page's height along the frame's width.
    let sideways = (shot.rotate.rem_euclid(180.0) - 90.0).abs() < 45.0;
    let (fit_w, fit_h) = if sideways { (fh, fw) } else { (fw, fh) };
    let scale = shot.fill * (fit_w / rw).min(fit_h / rh);
    let (hw, hh) = (rw * scale / 2.0, rh * scale / 2.0);
    let top = 1.0 - shot.tilt;
    let right = 1.0 - shot.skew;
    let local = [
        (-hw * top, -hh),
        (hw * top * right, -hh * right),
        (hw, hh * right),
        (-hw, hh),
    ];
    let (s, c) = shot.rotate.to_radians().sin_cos();
    let dst = local.map(|(x, y)| (fw / 2.0 + x * c - y * s, fh / 2.0 + x * s + y * c));
    let to_page = Homography::from_points(dst, src);
    // Each pixel integrates its area: 2x2 samples.
    let desk = 70.0;
    let (w, h) = (shot.frame.0 as usize, shot.frame.1 as usize);
    let mut px = vec![0.0f64; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for sy in 0..2 {
                for sx in 0..2 {
                    let (u, v) = to_page.apply(
                        x as f64 + (f64::from(sx) + 0.5) / 2.0,
                        y as f64 + (f64::from(sy) + 0.5) / 2.0,
                    );
                    acc += bilinear(page, u, v, desk);
                }
            }
            px[y * w + x] = acc / 4.0;
        }
    }
    // Light: full in one corner, `light` in the opposite one; paper is not pure white.
    for y in 0..h {
        for x in 0..w {
            let t = (x as f64 / fw + y as f64 / fh) / 2.0;
            let gain = 0.92 * (1.0 - t * (1.0 - shot.light));
            px[y * w + x] = px[y * w + x] * gain + 12.0;
        }
    }
    gaussian_blur(&mut px, w, h, shot.blur);
    let mut out = GrayImage::new(shot.frame.0, shot.frame.1);
    for (i, p) in out.pixels_mut().enumerate() {
        let v = px[i] + rng.normal() * shot.noise;
        p[0] = v.round().clamp(0.0, 255.0) as u8;
    }
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, shot.jpeg)
        .write_image(
            out.as_raw(),
            out.width(),
            out.height(),
            image::ExtendedColorType::L8,
        )
        .expect("JPEG to memory");
    (jpeg, out)
}

#[test]
fn the_warp_takes_the_corners_where_they_are_asked() {
    let from = [(0.0, 0.0), (10.0, 0.0), (10.0, 20.0), (0.0, 20.0)];
    let to = [(3.0, 4.0), (12.0, 5.0), (13.0, 27.0), (1.0, 22.0)];
    let h = Homography::from_points(from, to);
    for (f, t) in from.iter().zip(&to) {
        let (u, v) = h.apply(f.0, f.1);
        assert!((u - t.0).abs() < 1e-9 && (v - t.1).abs() < 1e-9);
    }
}
