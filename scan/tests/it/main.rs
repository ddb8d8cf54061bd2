//! Integration tests of `tradeseal-scan`: the photo fixtures against zbar and ZXing's counts,
//! the degraded set of our own certificate codes, foreign and damaged input, PDFs.

mod degrade;
mod degraded;
mod foreign;
mod pdf;
mod photos;
mod photos_common;
mod zbar;
