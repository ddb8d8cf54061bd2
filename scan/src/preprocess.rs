//! Image preprocessing for the retry passes: scaling, rotation, blur, contrast stretch and
//! global (Otsu) binarisation, on 8-bit greyscale images. Integer and float arithmetic only;
//! every function returns a new image and never panics on small or empty input.

/// An 8-bit greyscale image, row-major, one byte per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// `w * h` luminance values, 0 black, 255 white.
    pub px: Vec<u8>,
}

impl Gray {
    /// An image from its pixels; `None` when the sizes do not match or are zero.
    pub fn new(w: usize, h: usize, px: Vec<u8>) -> Option<Self> {
        (w > 0 && h > 0 && w.checked_mul(h) == Some(px.len())).then_some(Self { w, h, px })
    }

    fn at(&self, x: usize, y: usize) -> u8 {
        self.px[y * self.w + x]
    }

    /// Bilinear sample at a real position; outside the image is white (the quiet zone).
    fn sample(&self, x: f32, y: f32) -> u8 {
        if x < 0.0 || y < 0.0 || x > (self.w - 1) as f32 || y > (self.h - 1) as f32 {
            return 255;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let top = f32::from(self.at(x0, y0)) * (1.0 - fx) + f32::from(self.at(x1, y0)) * fx;
        let bottom = f32::from(self.at(x0, y1)) * (1.0 - fx) + f32::from(self.at(x1, y1)) * fx;
        (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
    }
}

/// Scales by `factor` (bilinear when enlarging, box average when shrinking), at least 1x1.
pub fn scale(img: &Gray, factor: f32) -> Gray {
    let w = ((img.w as f32 * factor).round() as usize).max(1);
    let h = ((img.h as f32 * factor).round() as usize).max(1);
    if factor < 1.0 {
        return shrink(img, w, h);
    }
    let (sx, sy) = (img.w as f32 / w as f32, img.h as f32 / h as f32);
    let mut px = Vec::with_capacity(w * h);
    for y in 0..h {
        let fy = ((y as f32 + 0.5) * sy - 0.5).max(0.0);
        for x in 0..w {
            let fx = ((x as f32 + 0.5) * sx - 0.5).max(0.0);
            px.push(img.sample(fx, fy));
        }
    }
    Gray { w, h, px }
}

/// Box-filter reduction to `w` x `h` (each target pixel averages its source rectangle).
fn shrink(img: &Gray, w: usize, h: usize) -> Gray {
    let mut px = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = (y * img.h / h, ((y + 1) * img.h / h).max(y * img.h / h + 1));
        for x in 0..w {
            let (x0, x1) = (x * img.w / w, ((x + 1) * img.w / w).max(x * img.w / w + 1));
            let mut sum = 0u32;
            for yy in y0..y1.min(img.h) {
                for xx in x0..x1.min(img.w) {
                    sum += u32::from(img.at(xx, yy));
                }
            }
            let n = ((y1.min(img.h) - y0) * (x1.min(img.w) - x0)).max(1) as u32;
            px.push((sum / n) as u8);
        }
    }
    Gray { w, h, px }
}

/// Rotates by `degrees` (counter-clockwise) about the centre, onto a canvas that holds the
/// whole rotated image; the corners are white.
pub fn rotate(img: &Gray, degrees: f32) -> Gray {
    let (s, c) = degrees.to_radians().sin_cos();
    let (iw, ih) = (img.w as f32, img.h as f32);
    // (less a hair, so that 90° turns do not gain a column from rounding in sin and cos)
    let w = ((iw * c.abs() + ih * s.abs() - 1e-3).ceil() as usize).max(1);
    let h = ((iw * s.abs() + ih * c.abs() - 1e-3).ceil() as usize).max(1);
    let (cx, cy) = ((iw - 1.0) / 2.0, (ih - 1.0) / 2.0);
    let (ox, oy) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
    let mut px = Vec::with_capacity(w * h);
    for y in 0..h {
        let dy = y as f32 - oy;
        for x in 0..w {
            let dx = x as f32 - ox;
            // Inverse mapping: where in the source this target pixel comes from.
            let sx = c * dx - s * dy + cx;
            let sy = s * dx + c * dy + cy;
            px.push(img.sample(sx, sy));
        }
    }
    Gray { w, h, px }
}

/// A 3x3 box blur (edges clamp): smooths sensor noise and JPEG ringing before binarisation.
pub fn blur3(img: &Gray) -> Gray {
    let mut px = Vec::with_capacity(img.px.len());
    for y in 0..img.h {
        for x in 0..img.w {
            let mut sum = 0u32;
            for dy in [-1isize, 0, 1] {
                for dx in [-1isize, 0, 1] {
                    let xx = (x as isize + dx).clamp(0, img.w as isize - 1) as usize;
                    let yy = (y as isize + dy).clamp(0, img.h as isize - 1) as usize;
                    sum += u32::from(img.at(xx, yy));
                }
            }
            px.push((sum / 9) as u8);
        }
    }
    Gray { px, ..*img }
}

/// Stretches the levels so that the 1st and 99th percentiles become 0 and 255.
pub fn stretch(img: &Gray) -> Gray {
    let hist = histogram(img);
    let n = img.px.len() as u64;
    let pick = |target: u64| {
        let mut acc = 0u64;
        for (v, &c) in hist.iter().enumerate() {
            acc += c;
            if acc > target {
                return v as i32;
            }
        }
        255
    };
    let (lo, hi) = (pick(n / 100), pick(n - n / 100 - 1));
    if hi <= lo {
        return img.clone();
    }
    let px = img
        .px
        .iter()
        .map(|&v| ((i32::from(v) - lo) * 255 / (hi - lo)).clamp(0, 255) as u8)
        .collect();
    Gray { px, ..*img }
}

/// Black and white at Otsu's threshold (the one global level that best separates the two
/// classes of the histogram).
pub fn otsu(img: &Gray) -> Gray {
    let t = otsu_level(&histogram(img));
    let px = img
        .px
        .iter()
        .map(|&v| if v <= t { 0 } else { 255 })
        .collect();
    Gray { px, ..*img }
}

fn histogram(img: &Gray) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for &v in &img.px {
        hist[usize::from(v)] += 1;
    }
    hist
}

fn otsu_level(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(v, &c)| v as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0, mut best, mut level) = (0u64, 0f64, -1f64, 127u8);
    for (v, &c) in hist.iter().enumerate() {
        w0 += c;
        if w0 == 0 {
            continue;
        }
        let w1 = total - w0;
        if w1 == 0 {
            break;
        }
        sum0 += v as f64 * c as f64;
        let (m0, m1) = (sum0 / w0 as f64, (sum_all - sum0) / w1 as f64);
        let between = w0 as f64 * w1 as f64 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            level = v as u8;
        }
    }
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Gray {
        let px = (0..w * h).map(|i| (i % 256) as u8).collect();
        Gray::new(w, h, px).unwrap()
    }

    #[test]
    fn sizes() {
        let img = ramp(10, 6);
        assert_eq!((scale(&img, 2.0).w, scale(&img, 2.0).h), (20, 12));
        assert_eq!((scale(&img, 0.5).w, scale(&img, 0.5).h), (5, 3));
        let r = rotate(&img, 90.0);
        assert_eq!((r.w, r.h), (6, 10));
        assert_eq!(blur3(&img).px.len(), 60);
        let one = Gray::new(1, 1, vec![7]).unwrap();
        for out in [
            scale(&one, 0.1),
            scale(&one, 3.0),
            rotate(&one, 33.0),
            blur3(&one),
            stretch(&one),
            otsu(&one),
        ] {
            assert_eq!(out.px.len(), out.w * out.h);
        }
        assert!(Gray::new(0, 3, vec![]).is_none());
        assert!(Gray::new(2, 2, vec![0; 3]).is_none());
    }

    #[test]
    fn otsu_separates_two_levels() {
        let mut px = vec![40u8; 50];
        px.extend(vec![200u8; 50]);
        let out = otsu(&Gray::new(10, 10, px).unwrap());
        assert_eq!(out.px[0], 0);
        assert_eq!(out.px[99], 255);
    }

    #[test]
    fn rotation_by_zero_is_identity() {
        let img = ramp(7, 5);
        assert_eq!(rotate(&img, 0.0), img);
    }
}
