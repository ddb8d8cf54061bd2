//! Issuance artefacts: the time to make a signed certificate's QR PNG, SVG and printable PDF
//! (and the form check before signing), and their sizes, for a typical certificate and the
//! largest a QR code carries (version 15). Prints percentiles in ms and sizes in bytes. Run
//! with `cargo bench -p tradeseal-wallet --bench issuance`; not part of the tests.

use std::time::{Duration, Instant};

use registry::devkit::dev_key;
use registry::{sample_certificate, Canonical as _, Serial, SignedCertificate};
use tradeseal_wallet::issuance::{self, IssueForm, Symbol};

const RUNS: usize = 200;

fn row(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let pct = |p: f64| samples[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1e3;
    println!(
        "| {what} | {n} | {:.2} | {:.2} | {:.2} |",
        pct(0.5),
        pct(0.95),
        samples[n - 1].as_secs_f64() * 1e3
    );
}

fn time(mut f: impl FnMut()) -> Vec<Duration> {
    f();
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

fn signed(largest: bool) -> SignedCertificate {
    let mut cert = sample_certificate(Serial::new("PH-2026-0100").unwrap(), 1_796_169_600);
    if largest {
        cert.remarks = Some("R".into());
        let base = cert.to_bytes().len() + 64;
        cert.remarks = Some("R".repeat(registry::qr::MAX_QR_PAYLOAD_BYTES - base + 1));
    }
    cert.sign("tradeseal-devnet", &dev_key("issuer-ke-kephis"))
        .unwrap()
}

fn main() {
    let form = r#"{"kind":"phytosanitary","issuer":"KE-KEPHIS","serial":"PH-2026-0100",
        "exporter":{"name":"Rift Valley Roses Ltd","country":"KE","identifier":"P051234567X"},
        "importer":{"name":"Aalsmeer Flower Imports B.V.","country":"NL","identifier":"NL823456789B01"},
        "goods":{"description":"Fresh cut roses (Rosa spp.), 480 cartons","hs_code":"060311",
                 "quantity":"9600","unit":"KGM"},
        "origin":"KE","destination":"NL","valid_days":14,"transport":"Air KQ0112 NBO-AMS",
        "invoice":"INV-2026-04417","remarks":"Free from quarantine pests; inspected at JKIA"}"#;
    println!("| step | runs | p50 ms | p95 ms | max ms |");
    println!("| --- | --- | --- | --- | --- |");
    row(
        "form to certificate (checks, size)",
        time(|| {
            let f = IssueForm::from_json(form).unwrap();
            f.to_certificate(1_796_212_800, None).unwrap();
        }),
    );
    let mut sizes = Vec::new();
    for (name, largest) in [("typical", false), ("largest", true)] {
        let s = signed(largest);
        let payload = registry::qr::encode(&s).unwrap();
        let symbol = Symbol::new(&payload).unwrap();
        row(
            &format!("{name}: QR symbol (v{})", symbol.version()),
            time(|| {
                Symbol::new(&payload).unwrap();
            }),
        );
        row(&format!("{name}: PNG"), time(|| drop(symbol.png())));
        row(&format!("{name}: SVG"), time(|| drop(symbol.svg("t"))));
        row(
            &format!("{name}: PDF"),
            time(|| {
                issuance::pdf::certificate_pdf(&s, &symbol, Some("tradeseal-devnet")).unwrap();
            }),
        );
        row(
            &format!("{name}: all three from the signed certificate"),
            time(|| {
                issuance::artefacts(&s, Some("tradeseal-devnet")).unwrap();
            }),
        );
        let a = issuance::artefacts(&s, Some("tradeseal-devnet")).unwrap();
        sizes.push((
            name,
            s.to_bytes().len(),
            a.qr_version,
            a.print.side_mm,
            a.png.len(),
            a.svg.len(),
            a.pdf.len(),
        ));
    }
    println!();
    println!("| certificate | signed bytes | QR version | printed side mm | PNG bytes | SVG bytes | PDF bytes |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (name, signed, v, mm, png, svg, pdf) in sizes {
        println!("| {name} | {signed} | {v} | {mm} | {png} | {svg} | {pdf} |");
    }
}
