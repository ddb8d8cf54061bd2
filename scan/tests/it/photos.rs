//! The photo fixtures: at least as many read as the better of zbar (run here) and ZXing's
//! published counts, per set and per orientation.

use crate::photos_common::{load_set, matches, oriented_png, ORIENTATIONS, SETS};
use crate::zbar;

#[test]
fn reads_at_least_as_many_photos_as_zbar_and_zxing_in_every_orientation() {
    assert!(
        zbar::available(),
        "zbarimg is needed as the reference decoder: install zbar-tools (cargo xtask setup --test does)"
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scan-photos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut report = Vec::new();
    let mut short = Vec::new();
    for (set, zxing) in SETS {
        let photos = load_set(set);
        for (oi, deg) in ORIENTATIONS.iter().enumerate() {
            let pngs: Vec<Vec<u8>> = photos.iter().map(|p| oriented_png(p, *deg)).collect();
            let files: Vec<_> = photos
                .iter()
                .zip(&pngs)
                .map(|(p, png)| {
                    let path = dir.join(format!("{set}-{deg}-{}.png", p.name));
                    std::fs::write(&path, png).unwrap();
                    path
                })
                .collect();
            let z = zbar::decode_files(&files);
            let by_zbar = photos
                .iter()
                .zip(&files)
                .filter(|(p, f)| z[*f].iter().any(|t| matches(t, &p.expected)))
                .count();
            let ours = photos
                .iter()
                .zip(&pngs)
                .filter(|(p, png)| {
                    tradeseal_scan::decode_image_bytes(png)
                        .unwrap()
                        .iter()
                        .any(|c| matches(&c.text, &p.expected))
                })
                .count();
            let bar = by_zbar.max(zxing[oi]);
            report.push(format!(
                "{set} at {deg}°: ours {ours}, zbar {by_zbar}, ZXing {} of {}",
                zxing[oi],
                photos.len()
            ));
            if ours < bar {
                short.push(report.last().unwrap().clone());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", report.join("\n"));
    assert!(
        short.is_empty(),
        "fewer than the better of zbar and ZXing: {short:#?}"
    );
}
