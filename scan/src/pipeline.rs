//! The decoding ladder: passes (a preprocessing chain, then one decoder), tried in order
//! until one finds a code. Which passes, and in which order, was chosen by measurement on the
//! photo fixtures and the degraded certificate set (see `docs/benchmarks.md`).

use std::borrow::Cow;

use crate::decoders::{self, Binariser};
use crate::preprocess::{self, Gray};
use crate::Code;

/// One preprocessing step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prep {
    /// Scale by this factor.
    Scale(f32),
    /// Rotate by this many degrees.
    Rotate(f32),
    /// 3x3 box blur.
    Blur,
    /// Contrast stretch (1st..99th percentile to 0..255).
    Stretch,
    /// Global Otsu binarisation.
    Otsu,
    /// Dark and light swapped (light-on-dark codes).
    Invert,
}

/// Which decoder a pass ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// rxing with this binariser, trying harder (every row searched for finder patterns).
    Rxing(Binariser),
    /// rxing with this binariser, not trying harder (faster).
    RxingFast(Binariser),
    /// rqrr.
    Rqrr,
}

/// A preprocessing chain and a decoder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pass {
    /// The steps, in order.
    pub prep: &'static [Prep],
    /// The decoder.
    pub decoder: Decoder,
}

const fn pass(prep: &'static [Prep], decoder: Decoder) -> Pass {
    Pass { prep, decoder }
}

const HYBRID: Decoder = Decoder::Rxing(Binariser::Hybrid);
const GLOBAL: Decoder = Decoder::Rxing(Binariser::Global);
const FAST: Decoder = Decoder::RxingFast(Binariser::Hybrid);

/// Every pass the measurements considered, for the benchmark's per-pass table.
pub const CANDIDATES: &[Pass] = &[
    pass(&[], HYBRID),
    pass(&[], FAST),
    pass(&[], GLOBAL),
    pass(&[Prep::Scale(0.5)], FAST),
    pass(&[], Decoder::Rqrr),
    pass(&[Prep::Scale(0.5)], HYBRID),
    pass(&[Prep::Scale(2.0)], HYBRID),
    pass(&[Prep::Scale(2.0)], GLOBAL),
    pass(&[Prep::Blur], HYBRID),
    pass(&[Prep::Blur], GLOBAL),
    pass(&[Prep::Stretch], HYBRID),
    pass(&[Prep::Otsu], HYBRID),
    pass(&[Prep::Rotate(45.0)], HYBRID),
    pass(&[Prep::Rotate(22.5)], HYBRID),
    pass(&[Prep::Invert], HYBRID),
    pass(&[Prep::Otsu], Decoder::Rqrr),
    pass(&[Prep::Scale(2.0)], Decoder::Rqrr),
    pass(&[Prep::Scale(0.5)], Decoder::Rqrr),
];

/// The ladder for still images (files, PDFs): the greedy cover of the measured items (every
/// photo fixture in four orientations and the degraded set; `cargo bench -p tradeseal-scan --
/// choose`). rxing's hybrid binariser reads all but 11 of 451; a 3x3 blur before the global
/// binariser reads 8 more (heavy perspective, very low contrast with noise, everything
/// together); the inverted image reads the light-on-dark codes. No other candidate, rqrr's
/// passes included, reads any item these three miss, so none is in the ladder.
pub const THOROUGH: &[Pass] = &[
    pass(&[], FAST),
    pass(&[Prep::Blur], GLOBAL),
    pass(&[Prep::Invert], HYBRID),
];

/// The ladder for camera frames: the first pass only (the next frame is the next try). It
/// reads 436 of the 451 items alone, like the slower try-harder search.
pub const FRAME: &[Pass] = &[pass(&[], FAST)];

/// Applies one step.
pub fn apply(img: &Gray, step: Prep) -> Gray {
    match step {
        Prep::Scale(f) => preprocess::scale(img, f),
        Prep::Rotate(d) => preprocess::rotate(img, d),
        Prep::Blur => preprocess::blur3(img),
        Prep::Stretch => preprocess::stretch(img),
        Prep::Otsu => preprocess::otsu(img),
        Prep::Invert => Gray {
            px: img.px.iter().map(|&v| 255 - v).collect(),
            ..*img
        },
    }
}

/// Runs one pass.
pub fn run_pass(img: &Gray, p: &Pass) -> Vec<Code> {
    let mut cur = Cow::Borrowed(img);
    for &step in p.prep {
        cur = Cow::Owned(apply(&cur, step));
    }
    match p.decoder {
        Decoder::Rxing(b) => decoders::rxing(&cur, b, true),
        Decoder::RxingFast(b) => decoders::rxing(&cur, b, false),
        Decoder::Rqrr => decoders::rqrr(&cur),
    }
}

/// Runs `passes` in order and returns the codes of the first that finds any, without
/// duplicates.
pub fn run(img: &Gray, passes: &[Pass]) -> Vec<Code> {
    for p in passes {
        let mut codes = run_pass(img, p);
        if !codes.is_empty() {
            let mut seen = std::collections::HashSet::new();
            codes.retain(|c| seen.insert(c.bytes.clone()));
            return codes;
        }
    }
    Vec::new()
}
