//! The degraded set of our own certificate codes: every sample decodes to the exact payload,
//! which the registry reads back as a signed certificate.

use crate::degrade;

#[test]
fn every_degraded_certificate_code_decodes_to_its_exact_payload() {
    let set = degrade::set();
    assert!(set.len() >= 60);
    let mut failed = Vec::new();
    for s in &set {
        let codes = tradeseal_scan::decode_image_bytes(&s.file).unwrap();
        match codes.iter().find(|c| c.bytes == s.payload.as_bytes()) {
            Some(c) => {
                assert_eq!(c.text, s.payload, "{}", s.name);
                registry::qr::decode(&c.bytes).unwrap();
            }
            None => failed.push(s.name.clone()),
        }
    }
    assert!(failed.is_empty(), "not read: {failed:#?}");
}

#[test]
fn the_set_is_deterministic() {
    let p = &degrade::payloads()[0];
    let d = &degrade::DEGRADATIONS[degrade::DEGRADATIONS.len() - 1];
    assert_eq!(degrade::render(p, d, 5).1, degrade::render(p, d, 5).1);
    assert!(p.starts_with("TS1:"));
}

#[test]
fn camera_frames_read_our_codes() {
    // The frame path (decode_luma) on the samples a camera gives at a usual distance.
    for d in degrade::DEGRADATIONS
        .iter()
        .filter(|d| d.name.starts_with("rotate"))
    {
        let p = &degrade::payloads()[1];
        let (img, _) = degrade::render(p, d, 11);
        let (w, h) = (img.width() as usize, img.height() as usize);
        let codes = tradeseal_scan::decode_luma(w, h, img.as_raw());
        assert!(codes.iter().any(|c| c.text == *p), "{}", d.name);
    }
}
