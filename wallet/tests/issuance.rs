//! The printed certificate reads from a phone photo: the certificate PDF the wallet makes is
//! rendered by an independent PDF renderer (poppler's `pdftoppm`, as a printer driver or a
//! viewer would draw it), photographed the way a phone does it ([`crate::photo`]: rotation,
//! perspective, blur, uneven light, sensor noise, JPEG, phone resolution), and every photo must
//! decode, with the app's decoder (`tradeseal-scan`), to exactly the payload issued. Two
//! certificates: a typical one and the largest a QR code may carry (version 15). And the page
//! prints every language: Arabic, French, Turkish and Cyrillic parties come back from poppler's
//! `pdftotext` through the embedded fonts' text maps, a character no font covers prints as `?`.

use std::path::{Path, PathBuf};
use std::process::Command;

use image::GrayImage;
use registry::devkit::dev_key;
use registry::{sample_certificate, Serial, SignedCertificate};
use tradeseal_wallet::issuance::{self, Artefacts};

use crate::photo::{photograph, Shot, WHOLE_PAGE};

/// Whether `pdftoppm` is here. Missing under `CI=true` is a failure; elsewhere the test says
/// so and is skipped.
fn have_pdftoppm() -> bool {
    let found = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !found {
        let message =
            "missing pdftoppm (Debian: poppler-utils; `cargo xtask setup --test` installs it)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
    }
    found
}

/// The page as poppler draws it, greyscale at `dpi`.
fn render(pdf: &[u8], dpi: u32, dir: &Path) -> GrayImage {
    let input = dir.join("certificate.pdf");
    std::fs::write(&input, pdf).unwrap();
    let out = dir.join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"])
        .arg(&input)
        .arg(&out)
        .status()
        .expect("pdftoppm runs");
    assert!(status.success(), "pdftoppm failed");
    image::open(dir.join("page.png")).unwrap().to_luma8()
}

fn signed(serial: &str, grow_to: Option<usize>) -> SignedCertificate {
    let key = dev_key("issuer-ke-kephis");
    let mut cert = sample_certificate(Serial::new(serial).unwrap(), 1_796_169_600);
    if let Some(len) = grow_to {
        // Remarks grown until the signed certificate is exactly `len` bytes.
        use registry::Canonical as _;
        cert.remarks = Some("R".into());
        let base = cert.to_bytes().len() + 64;
        cert.remarks = Some("Treated: ".to_owned() + &"R".repeat(len - base - 8));
    }
    cert.sign("tradeseal-devnet", &key).unwrap()
}

const SHOTS: &[Shot] = &[
    Shot {
        name: "whole page, 5 MP, turned 4 degrees, slight tilt, JPEG 75",
        frame: (1920, 2560),
        region: WHOLE_PAGE,
        fill: 0.92,
        rotate: 4.0,
        tilt: 0.04,
        skew: 0.0,
        blur: 0.8,
        noise: 3.0,
        light: 0.8,
        jpeg: 75,
    },
    Shot {
        name: "whole page, 3 MP, tilted 15%, turned -7 degrees, blurred, JPEG 70",
        frame: (1536, 2048),
        region: WHOLE_PAGE,
        fill: 0.9,
        rotate: -7.0,
        tilt: 0.15,
        skew: 0.05,
        blur: 1.0,
        noise: 4.0,
        light: 0.75,
        jpeg: 70,
    },
    Shot {
        name: "phone held sideways, 3 MP landscape, page turned 93 degrees, JPEG 65",
        frame: (2048, 1536),
        region: WHOLE_PAGE,
        fill: 0.95,
        rotate: 93.0,
        tilt: 0.06,
        skew: 0.04,
        blur: 0.9,
        noise: 4.0,
        light: 0.7,
        jpeg: 65,
    },
    Shot {
        name: "close-up of the code, strong perspective, out of focus, dim, JPEG 55",
        frame: (1080, 1440),
        region: (0.62, 0.0, 1.0, 0.3),
        fill: 0.8,
        rotate: 12.0,
        tilt: 0.22,
        skew: 0.12,
        blur: 1.8,
        noise: 5.0,
        light: 0.55,
        jpeg: 55,
    },
    Shot {
        name: "whole page in poor light, noisy, JPEG 40",
        frame: (1920, 2560),
        region: WHOLE_PAGE,
        fill: 0.88,
        rotate: -2.5,
        tilt: 0.08,
        skew: -0.03,
        blur: 1.2,
        noise: 8.0,
        light: 0.5,
        jpeg: 40,
    },
];

fn keep(dir: &Path, name: &str, jpeg: &[u8]) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!("{safe}.jpg"));
    std::fs::write(&path, jpeg).unwrap();
    path
}

fn photos_decode(a: &Artefacts, label: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let page = render(&a.pdf, 300, tmp.path());
    // A4 at 300 dpi (poppler rounds up).
    assert!(page.width().abs_diff(2480) <= 1 && page.height().abs_diff(3508) <= 1);
    let failures_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("issuance-photos");
    let mut failed = Vec::new();
    for (i, shot) in SHOTS.iter().enumerate() {
        let (jpeg, pixels) = photograph(&page, shot, 0x5eed + i as u64);
        if std::env::var_os("TRADESEAL_KEEP_PHOTOS").is_some() {
            std::fs::create_dir_all(&failures_dir).unwrap();
            keep(&failures_dir, &format!("{label} {i}"), &jpeg);
            pixels
                .save(failures_dir.join(format!("{label}-{i}.png")))
                .unwrap();
            page.save(failures_dir.join(format!("{label}-page.png")))
                .unwrap();
        }
        let codes = tradeseal_scan::decode_image_bytes(&jpeg).expect("a JPEG the scanner reads");
        let texts: Vec<&str> = codes.iter().map(|c| c.text.as_str()).collect();
        if texts != [a.payload.as_str()] {
            std::fs::create_dir_all(&failures_dir).unwrap();
            let kept = keep(&failures_dir, &format!("{label} {}", shot.name), &jpeg);
            failed.push(format!(
                "{}: decoded {texts:?} ({})",
                shot.name,
                kept.display()
            ));
        }
    }
    assert!(failed.is_empty(), "{label}: {failed:#?}");
}

#[test]
fn the_printed_certificate_decodes_from_phone_photos() {
    if !have_pdftoppm() {
        return;
    }
    let typical =
        issuance::artefacts(&signed("PH-2026-0100", None), Some("tradeseal-devnet")).unwrap();
    photos_decode(&typical, "typical");
    let largest = issuance::artefacts(
        &signed("PH-2026-0101", Some(registry::qr::MAX_QR_PAYLOAD_BYTES)),
        Some("tradeseal-devnet"),
    )
    .unwrap();
    assert_eq!(
        largest.qr_version, 15,
        "the largest certificate needs version 15"
    );
    photos_decode(&largest, "largest");
}

#[test]
fn the_rendered_page_carries_the_code_at_the_stated_size() {
    if !have_pdftoppm() {
        return;
    }
    let a = issuance::artefacts(&signed("PH-2026-0102", None), None).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let page = render(&a.pdf, 300, tmp.path());
    // The code's dark modules span its width less the quiet zone: find the dark extent in the
    // top-right area and compare with the stated print size (300 dpi: 11.81 px per mm).
    let px_per_mm = 300.0 / 25.4;
    // The code's place: 20 mm from the top and right edges (text stays 4 mm left of it).
    let w = page.width();
    let left_mm = 210.0 - 20.0 - a.print.side_mm - 2.0;
    let x_from = (left_mm * px_per_mm) as u32;
    let (y_from, y_to) = (
        (20.0 * px_per_mm) as u32,
        ((20.0 + a.print.side_mm) * px_per_mm) as u32,
    );
    let (mut min_x, mut max_x) = (u32::MAX, 0);
    for y in y_from..y_to {
        for x in x_from..w {
            if page.get_pixel(x, y)[0] < 100 {
                min_x = min_x.min(x);
                max_x = max_x.max(x);
            }
        }
    }
    let symbol_mm = f64::from(max_x - min_x + 1) / px_per_mm;
    let expected = a.print.modules as f64 * a.print.module_mm;
    assert!(
        (symbol_mm - expected).abs() < 0.5,
        "printed {symbol_mm:.2} mm, stated {expected:.2} mm"
    );
    assert!(symbol_mm / a.print.modules as f64 >= a.print.module_mm - 0.01);
    // And the rendered page itself decodes, as a scan at 300 dpi would.
    let mut png = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let codes = tradeseal_scan::decode_image_bytes(&png).unwrap();
    assert_eq!(codes[0].text, a.payload);
}

/// The page's text as poppler's `pdftotext` reads it, with the bidi embedding marks it puts
/// around right-to-left words removed.
fn pdftotext(pdf: &[u8], dir: &Path) -> String {
    let input = dir.join("certificate.pdf");
    std::fs::write(&input, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&input)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

/// The decompressed text maps of the PDF's fonts whose name contains `name`.
fn text_maps(pdf: &[u8], name: &str) -> Vec<String> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Subtype").ok().and_then(|s| s.as_name().ok()) == Some(b"Type0"))
        .filter(|d| {
            d.get(b"BaseFont")
                .ok()
                .and_then(|s| s.as_name().ok())
                .is_some_and(|n| String::from_utf8_lossy(n).contains(name))
        })
        .map(|d| {
            let id = d.get(b"ToUnicode").unwrap().as_reference().unwrap();
            let stream = doc.get_object(id).unwrap().as_stream().unwrap();
            String::from_utf8(stream.decompressed_content().unwrap()).unwrap()
        })
        .collect()
}

fn signed_with(serial: &str, edit: impl FnOnce(&mut registry::Certificate)) -> SignedCertificate {
    let mut cert = sample_certificate(Serial::new(serial).unwrap(), 1_796_169_600);
    edit(&mut cert);
    cert.sign("tradeseal-devnet", &dev_key("issuer-ke-kephis"))
        .unwrap()
}

#[test]
fn the_certificate_prints_every_language() {
    if !have_pdftoppm() {
        return;
    }
    let exporter = "شركة النخيل للتصدير";
    let s = signed_with("PH-2026-0103", |c| {
        c.exporter.name = exporter.into();
        c.exporter.country = registry::Country::new("AE").unwrap();
        c.importer.name = "Société Générale des Fleurs, œuvre façade".into();
        c.goods.description = "Taze güller, ağır — Свежие розы, 480".into();
        // Lam-alef ("لا") ligates into one glyph.
        c.remarks = Some("لا آفات".into());
        c.document_hash = None;
    });
    let a = issuance::artefacts(&s, Some("tradeseal-devnet")).unwrap();
    assert!(
        a.unprintable_fields.is_empty(),
        "{:?}",
        a.unprintable_fields
    );
    // The same certificate, the same bytes; well within a print job's size.
    let again = issuance::artefacts(&s, Some("tradeseal-devnet")).unwrap();
    assert_eq!(a.pdf, again.pdf);
    assert!(a.pdf.len() < 100_000, "{} bytes", a.pdf.len());

    let tmp = tempfile::tempdir().unwrap();
    let text = pdftotext(&a.pdf, tmp.path());
    // poppler puts right-to-left words back in logical order: the Arabic name comes back as
    // typed, letters, words and all, though it is drawn right to left and joined.
    for value in [
        exporter,
        "(AE, P051234567X)",
        "Société Générale des Fleurs, œuvre façade (NL, NL823456789B01)",
        "Taze güller, ağır — Свежие розы, 480",
        "آفات",
        "How to verify",
    ] {
        assert!(text.contains(value), "{value} missing from:\n{text}");
    }
    // The ligature's glyph maps to its two letters in logical order (poppler's reordering
    // of a right-to-left word reverses the characters of such a glyph: it reads "ال" where
    // "لا" is printed, so the map itself is what this checks).
    let arabic = text_maps(&a.pdf, "NotoSansArabic-Regular");
    assert_eq!(arabic.len(), 1);
    assert!(arabic[0].contains("<06440627>"), "{}", arabic[0]);
    // Only the fonts the page uses are embedded: no Arabic bold here.
    assert!(text_maps(&a.pdf, "NotoSansArabic-Bold").is_empty());

    // The code still reads: from the file's image, from the rendered page, from a photo.
    let from_file = tradeseal_scan::decode_pdf(&a.pdf).unwrap();
    assert_eq!(from_file.codes[0].text, a.payload);
    let page = render(&a.pdf, 300, tmp.path());
    let mut png = Vec::new();
    page.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(
        tradeseal_scan::decode_image_bytes(&png).unwrap()[0].text,
        a.payload
    );
    let (jpeg, _) = photograph(&page, &SHOTS[0], 0x5eed);
    let codes = tradeseal_scan::decode_image_bytes(&jpeg).unwrap();
    assert_eq!(codes[0].text, a.payload);
}

#[test]
fn characters_no_font_covers_print_as_question_marks() {
    if !have_pdftoppm() {
        return;
    }
    let s = signed_with("PH-2026-0104", |c| {
        c.importer.name = "北京 Flower Imports".into();
        c.remarks = Some("Emoji 🌹 here".into());
    });
    let a = issuance::artefacts(&s, None).unwrap();
    assert_eq!(a.unprintable_fields, ["importer", "remarks"]);
    let tmp = tempfile::tempdir().unwrap();
    let text = pdftotext(&a.pdf, tmp.path());
    assert!(text.contains("?? Flower Imports (NL"), "{text}");
    assert!(text.contains("Emoji ? here"), "{text}");
    // It renders, and the code carries the exact text.
    let page = render(&a.pdf, 100, tmp.path());
    assert!(page.width() > 800);
    let decoded = issuance::artefacts_of_payload(&a.payload, None).unwrap();
    assert_eq!(
        decoded.certificate.certificate.importer.name,
        "北京 Flower Imports"
    );
}

#[test]
fn an_oversized_word_wraps_and_reads_back() {
    if !have_pdftoppm() {
        return;
    }
    // The largest certificate's remarks: one word of some 90 letters, wider than the column.
    let a = issuance::artefacts(
        &signed("PH-2026-0105", Some(registry::qr::MAX_QR_PAYLOAD_BYTES)),
        None,
    )
    .unwrap();
    let remarks = a.certificate.certificate.remarks.clone().unwrap();
    let word = remarks.split(' ').next_back().unwrap();
    assert!(word.len() > 60);
    let tmp = tempfile::tempdir().unwrap();
    let text = pdftotext(&a.pdf, tmp.path());
    // Cut where it reaches the column's edge, over two lines or more; every letter back.
    let lines = text.lines().filter(|l| l.starts_with("RRR")).count();
    assert!(lines >= 2, "not wrapped:\n{text}");
    assert_eq!(
        text.split_whitespace()
            .collect::<String>()
            .matches(word)
            .count(),
        1,
        "{text}"
    );
}

/// The Issue page's calls against a devnet: the form and its document prepared into the
/// review of the registration, confirmed (`sign_confirm`), confirmed by proof; the files the
/// page downloads verify as VALID, the document matching; a form at fault names its fields.
#[tokio::test(flavor = "multi_thread")]
async fn the_issue_page_calls_issue_a_certificate_that_verifies() {
    use base64::Engine as _;
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tradeseal_api::{
        FileData, IssueFiles, IssuePrepare, SignConfirm, Verdict, VerifyInput, VerifyRequest,
    };
    use tradeseal_wallet::keystore::{BackendChoice, Keystore};
    use tradeseal_wallet::signing::{SignError, SigningService};

    use crate::support::{wallet_for, MemoryBackend, NodeSetup};

    let config = devnet::DevnetConfig::for_tests();
    let net = devnet::Devnet::start(config.clone()).await.expect("devnet");
    assert!(net.wait_for_height(12, Duration::from_secs(60)).await);
    let dir = tempfile::tempdir().unwrap();
    let setup = NodeSetup {
        rpc: light_node::RpcConfig {
            timeout: Duration::from_secs(5),
            ..light_node::RpcConfig::default()
        },
        stale_after_blocks: 1000,
        follow: false,
    };
    let wallet = wallet_for(&net, &config, dir.path(), setup).await;
    let keystore =
        Keystore::with_keyring(&dir.path().join("data"), Arc::new(MemoryBackend::default()))
            .await
            .unwrap();
    let samples = net.samples().unwrap();
    let kephis = samples
        .issuers
        .iter()
        .find(|i| i.spec.id.as_str() == "KE-KEPHIS")
        .unwrap();
    let keys = serde_json::json!({
        "warning": devnet::DEV_KEY_WARNING,
        "issuers": [{
            "label": "KE-KEPHIS",
            "public_key": hex::encode(kephis.key.verifying_key().to_bytes()),
            "secret_key": hex::encode(kephis.key.to_bytes()),
        }],
    });
    keystore
        .import_development(&keys.to_string(), "dev/", &BackendChoice::Keyring, None)
        .await
        .unwrap();
    let service = SigningService::new(keystore);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let document = b"%PDF-1.4\n% the certificate's full text\n%%EOF\n";
    let form = serde_json::json!({
        "kind": "phytosanitary", "issuer": "KE-KEPHIS", "serial": "PH-2026-8001",
        "exporter": {"name": "Rift Valley Roses Ltd", "country": "KE"},
        "importer": {"name": "Aalsmeer Flower Imports B.V.", "country": "NL"},
        "goods": {"description": "Fresh cut roses", "hs_code": "060311", "quantity": "9600",
                  "unit": "KGM"},
        "origin": "KE", "destination": "NL", "valid_days": 14,
    });

    let mut bad = form.clone();
    bad["goods"]["unit"] = "kilograms".into();
    bad["destination"] = "".into();
    let e = service
        .issue_prepare(
            &wallet,
            &IssuePrepare {
                key_label: "dev/KE-KEPHIS".into(),
                form_json: bad.to_string(),
                attachment: None,
            },
        )
        .await
        .unwrap_err();
    let SignError::Form(f) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(f.field, "goods.unit");
    assert!(f.reason.contains("destination"), "{}", f.reason);

    let review = service
        .issue_prepare(
            &wallet,
            &IssuePrepare {
                key_label: "dev/KE-KEPHIS".into(),
                form_json: form.to_string(),
                attachment: Some(FileData {
                    name: "certificate.pdf".into(),
                    base64: b64(document),
                }),
            },
        )
        .await
        .unwrap();
    assert_eq!(review.action, "issue_certificate");
    let doc_line = review
        .fields
        .iter()
        .find(|l| l.name == "document_hash")
        .unwrap();
    assert_eq!(
        doc_line.value,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(document))
    );
    let item = service
        .confirm(
            &wallet,
            &SignConfirm {
                sign_bytes_sha256: review.sign_bytes_sha256.clone(),
                pin: None,
            },
        )
        .await
        .unwrap();
    service
        .outbox()
        .submit_until_settled(
            &wallet,
            &[item.id],
            Instant::now() + Duration::from_secs(60),
        )
        .await
        .unwrap();
    let files = service
        .issue_files(&IssueFiles { outbox_id: item.id })
        .await
        .unwrap();
    assert_eq!(files.state, "confirmed");
    assert_eq!(files.cert_id, "KE-KEPHIS/PH-2026-8001");
    assert_eq!(files.file_stem, "PH-2026-8001");
    assert!(files.svg.starts_with("<?xml"));
    for (name, data) in [
        ("code.png", &files.png_base64),
        ("certificate.pdf", &files.pdf_base64),
    ] {
        let report = wallet
            .verify(&VerifyRequest {
                input: VerifyInput::File {
                    name: name.into(),
                    base64: data.clone(),
                },
                document: Some(FileData {
                    name: "document.pdf".into(),
                    base64: b64(document),
                }),
                offline: false,
            })
            .await
            .unwrap();
        assert_eq!(report.verdict, Verdict::Valid, "{name}: {report:?}");
        assert_eq!(report.evidence.document_matches, Some(true), "{name}");
    }
    net.shutdown().await;
}
