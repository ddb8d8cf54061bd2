//! The printable certificate: one A4 page written with lopdf, in the PDF's standard fonts
//! (nothing embedded but the code): the title, every human-readable field of the signed
//! certificate, its QR code as an image XObject (1-bit greyscale, so a decoder reading the
//! file's images finds it, as `tradeseal-scan` does) drawn at the recommended print size, and
//! how to verify it. The same certificate always gives the same bytes (no clock is read: the
//! creation date is the issue time).

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream, StringFormat};
use registry::SignedCertificate;

use super::symbol::{Symbol, MIN_MODULE_MM, MODULE_MM};
use super::winansi::{self, HELVETICA, HELVETICA_BOLD};
use crate::signing::forms::kind_name;
use crate::signing::review::utc;

/// A4, in points.
const PAGE_W: f64 = 595.276;
const PAGE_H: f64 = 841.89;
/// Points per millimetre.
const PT_PER_MM: f64 = 72.0 / 25.4;
const MARGIN: f64 = 20.0 * PT_PER_MM;
/// Image pixels per module in the embedded code.
const IMAGE_PX_PER_MODULE: usize = 4;
/// Width of the label column.
const LABEL_W: f64 = 128.0;

/// The page's fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    fn name(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
            Font::Mono => "F3",
        }
    }

    fn width(self, bytes: &[u8], size: f64) -> f64 {
        match self {
            Font::Regular => winansi::width(&HELVETICA, bytes, size),
            Font::Bold => winansi::width(&HELVETICA_BOLD, bytes, size),
            // Courier: every glyph 600/1000 em.
            Font::Mono => bytes.len() as f64 * 0.6 * size,
        }
    }
}

/// The certificate's kind as a title (`Phytosanitary certificate`).
pub fn kind_title(kind: registry::CertificateKind) -> String {
    let name = kind_name(kind);
    let title = match name.as_str() {
        "certificate_of_origin" => "Certificate of origin".to_owned(),
        "aeo_authorisation" => "AEO authorisation".to_owned(),
        "import_licence" => "Import licence".to_owned(),
        "export_licence" => "Export licence".to_owned(),
        "permit" => "Permit".to_owned(),
        other => {
            let mut s = other.replace('_', " ");
            if let Some(first) = s.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{s} certificate")
        }
    };
    title
}

/// Greedy word wrap of WinAnsi `text` to `max` points; words longer than a line (a hash)
/// are cut where they reach the edge.
fn wrap(text: &[u8], font: Font, size: f64, max: f64) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_vec()
        } else {
            [line.as_slice(), b" ", word].concat()
        };
        if font.width(&candidate, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while font.width(rest, size) > max {
            let mut n = rest.len();
            while n > 1 && font.width(&rest[..n], size) > max {
                n -= 1;
            }
            lines.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
        line = rest.to_vec();
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Content stream operations, with a top-down cursor.
struct Page {
    ops: Vec<Operation>,
    /// Characters that the standard fonts cannot print, per field.
    lost: Vec<String>,
}

impl Page {
    fn text(&mut self, font: Font, size: f64, x: f64, top: f64, bytes: Vec<u8>) {
        self.ops.extend([
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec![font.name().into(), size.into()]),
            Operation::new("Td", vec![x.into(), (PAGE_H - top).into()]),
            Operation::new("Tj", vec![Object::String(bytes, StringFormat::Literal)]),
            Operation::new("ET", vec![]),
        ]);
    }

    fn grey(&mut self, level: f64) {
        self.ops.push(Operation::new("g", vec![level.into()]));
    }

    fn rule(&mut self, top: f64, x0: f64, x1: f64) {
        self.ops.extend([
            Operation::new("G", vec![0.75.into()]),
            Operation::new("w", vec![0.4.into()]),
            Operation::new("m", vec![x0.into(), (PAGE_H - top).into()]),
            Operation::new("l", vec![x1.into(), (PAGE_H - top).into()]),
            Operation::new("S", vec![]),
        ]);
    }

    /// A text of `field` (for the report of what could not be printed).
    fn encode(&mut self, field: &str, text: &str) -> Vec<u8> {
        let (bytes, lost) = winansi::encode(text);
        if lost && !self.lost.iter().any(|f| f == field) {
            self.lost.push(field.to_owned());
        }
        bytes
    }

    /// A paragraph wrapped to `max`; answers the new top.
    #[allow(clippy::too_many_arguments)]
    fn paragraph(
        &mut self,
        field: &str,
        text: &str,
        font: Font,
        size: f64,
        x: f64,
        top: f64,
        max: f64,
    ) -> f64 {
        let bytes = self.encode(field, text);
        let mut top = top;
        for line in wrap(&bytes, font, size, max) {
            self.text(font, size, x, top, line);
            top += size * 1.3;
        }
        top
    }
}

/// One labelled line of the field table.
struct Row {
    field: &'static str,
    label: &'static str,
    value: String,
    font: Font,
    size: f64,
}

fn row(field: &'static str, label: &'static str, value: impl Into<String>) -> Row {
    Row {
        field,
        label,
        value: value.into(),
        font: Font::Regular,
        size: 10.0,
    }
}

fn mono(field: &'static str, label: &'static str, value: String) -> Row {
    Row {
        field,
        label,
        value,
        font: Font::Mono,
        size: 8.0,
    }
}

/// What the PDF was made of, for the caller.
#[derive(Debug, Clone)]
pub struct CertificatePdf {
    /// The file.
    pub bytes: Vec<u8>,
    /// The fields with characters that the standard fonts cannot print (shown as `?`).
    pub unprintable_fields: Vec<String>,
}

/// `D:YYYYMMDDHHmmSSZ` of unix seconds.
fn pdf_date(t: u64) -> String {
    // utc() is "YYYY-MM-DD HH:MM:SS UTC".
    let digits: String = utc(t).chars().filter(char::is_ascii_digit).collect();
    format!("D:{digits}Z")
}

/// The printable certificate of `signed`, its code `symbol` (of `payload`), registered on
/// `chain_id` when known.
pub fn certificate_pdf(
    signed: &SignedCertificate,
    symbol: &Symbol,
    chain_id: Option<&str>,
) -> Result<CertificatePdf, lopdf::Error> {
    let c = &signed.certificate;
    let mut page = Page {
        ops: Vec::new(),
        lost: Vec::new(),
    };
    let content_w = PAGE_W - 2.0 * MARGIN;

    // The code, top right, at the recommended size with its quiet zone.
    let side_pt = symbol.side() as f64 * MODULE_MM * PT_PER_MM;
    let qr_x = PAGE_W - MARGIN - side_pt;
    let qr_top = MARGIN;
    page.ops.extend([
        Operation::new("q", vec![]),
        Operation::new(
            "cm",
            vec![
                side_pt.into(),
                0.into(),
                0.into(),
                side_pt.into(),
                qr_x.into(),
                (PAGE_H - qr_top - side_pt).into(),
            ],
        ),
        Operation::new("Do", vec!["Im1".into()]),
        Operation::new("Q", vec![]),
    ]);
    let caption = [
        "Scan to verify".to_owned(),
        format!(
            "Print at 100 %: code at least {:.1} mm wide",
            symbol.side() as f64 * MIN_MODULE_MM
        ),
    ];
    let mut cap_top = qr_top + side_pt + 9.0;
    for (i, line) in caption.iter().enumerate() {
        let (font, size) = if i == 0 {
            (Font::Bold, 8.0)
        } else {
            (Font::Regular, 6.5)
        };
        let bytes = winansi::encode(line).0;
        let w = font.width(&bytes, size);
        page.grey(if i == 0 { 0.0 } else { 0.35 });
        page.text(font, size, qr_x + (side_pt - w) / 2.0, cap_top, bytes);
        cap_top += size * 1.4;
    }
    page.grey(0.0);

    // The heading, left of the code.
    let head_w = qr_x - MARGIN - 12.0;
    let mut top = MARGIN + 18.0;
    top = page.paragraph(
        "kind",
        &kind_title(c.kind),
        Font::Bold,
        20.0,
        MARGIN,
        top,
        head_w,
    );
    top += 6.0;
    top = page.paragraph(
        "serial",
        &format!("No. {}", c.id.serial),
        Font::Bold,
        13.0,
        MARGIN,
        top,
        head_w,
    );
    top = page.paragraph(
        "issuer",
        &format!("Issued by {}", c.id.issuer),
        Font::Regular,
        11.0,
        MARGIN,
        top + 2.0,
        head_w,
    );
    let registry_line = match chain_id {
        Some(id) => format!("Registered in the Tradeseal registry ({id})"),
        None => "Registered in the Tradeseal registry".to_owned(),
    };
    page.grey(0.3);
    page.paragraph(
        "chain_id",
        &registry_line,
        Font::Regular,
        9.0,
        MARGIN,
        top + 4.0,
        head_w,
    );
    page.grey(0.0);

    // The fields, full width under the code.
    let party = |p: &registry::Party| {
        let id = p
            .identifier
            .as_deref()
            .map(|i| format!(", {i}"))
            .unwrap_or_default();
        format!("{} ({}{id})", p.name, p.country)
    };
    let none = || "none".to_owned();
    let rows = [
        row("cert", "Certificate id", c.id.to_string()),
        row("kind", "Kind", kind_title(c.kind)),
        row("exporter", "Exporter / consignor", party(&c.exporter)),
        row("importer", "Importer / consignee", party(&c.importer)),
        row("goods.description", "Goods", c.goods.description.clone()),
        row("goods.hs_code", "HS code", c.goods.hs_code.clone()),
        row(
            "goods.quantity",
            "Quantity",
            format!("{} {}", c.goods.quantity, c.goods.unit),
        ),
        row("origin", "Country of origin", c.origin.to_string()),
        row(
            "destination",
            "Country of destination",
            c.destination.to_string(),
        ),
        row("issued_at", "Issued at", utc(c.issued_at)),
        row("expires_at", "Expires at", utc(c.expires_at)),
        row(
            "transport",
            "Transport",
            c.transport.clone().unwrap_or_else(none),
        ),
        row("invoice", "Invoice", c.invoice.clone().unwrap_or_else(none)),
        row("remarks", "Remarks", c.remarks.clone().unwrap_or_else(none)),
        mono(
            "document_hash",
            "Document (SHA-256)",
            c.document_hash.map_or_else(none, hex::encode),
        ),
        mono(
            "content_hash",
            "Content hash",
            hex::encode(c.content_hash()),
        ),
        mono(
            "signature",
            "Issuer's signature",
            hex::encode(signed.signature),
        ),
    ];
    let mut top = (cap_top + 10.0).max(top + 24.0);
    page.rule(top - 10.0, MARGIN, PAGE_W - MARGIN);
    for r in &rows {
        let label = winansi::encode(r.label).0;
        page.grey(0.3);
        page.text(Font::Bold, 8.5, MARGIN, top, label);
        page.grey(0.0);
        let next = page.paragraph(
            r.field,
            &r.value,
            r.font,
            r.size,
            MARGIN + LABEL_W,
            top,
            content_w - LABEL_W,
        );
        top = next + 3.0;
        page.rule(top - 8.0, MARGIN, PAGE_W - MARGIN);
        top += 6.0;
    }

    // How to verify.
    top += 10.0;
    page.text(Font::Bold, 11.0, MARGIN, top, b"How to verify".to_vec());
    top += 16.0;
    let how = [
        "Scan the QR code with the Tradeseal app (Verify), or run: tradeseal-cli verify \
         <this PDF, or a photo of this page>.",
        "The code holds this certificate as the issuer signed it. The app checks the signature \
         and proves the certificate's record in the Tradeseal registry: it says whether the \
         certificate is valid, revoked, expired or altered. The printed text is for reading; \
         what is verified is the code.",
    ];
    for p in how {
        top = page.paragraph("how", p, Font::Regular, 9.5, MARGIN, top, content_w) + 4.0;
    }
    if c.document_hash.is_some() {
        page.paragraph(
            "how",
            "The certificate's full document is a separate PDF: to check it, give it to the \
             app with the certificate (Check the certificate's document, or --document).",
            Font::Regular,
            9.5,
            MARGIN,
            top,
            content_w,
        );
    }
    page.grey(0.45);
    page.text(
        Font::Regular,
        7.0,
        MARGIN,
        PAGE_H - MARGIN + 14.0,
        winansi::encode(&format!("{} - printed by Tradeseal", c.id)).0,
    );

    // The document.
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let font = |base: &str| {
        dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => base.to_owned(),
            "Encoding" => "WinAnsiEncoding",
        }
    };
    let f1 = doc.add_object(font("Helvetica"));
    let f2 = doc.add_object(font("Helvetica-Bold"));
    let f3 = doc.add_object(font("Courier"));
    let (px, bits) = symbol.bitmap(IMAGE_PX_PER_MODULE);
    let px = i64::try_from(px).unwrap_or(i64::MAX);
    let mut image = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => px,
            "Height" => px,
            "ColorSpace" => "DeviceGray",
            "BitsPerComponent" => 1,
            "Interpolate" => false,
        },
        bits,
    );
    image.compress()?;
    let image_id = doc.add_object(image);
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => f1, "F2" => f2, "F3" => f3 },
        "XObject" => dictionary! { "Im1" => image_id },
    });
    let mut content = Stream::new(
        dictionary! {},
        Content {
            operations: page.ops,
        }
        .encode()?,
    );
    content.compress()?;
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()],
        "Contents" => content_id,
        "Resources" => resources,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    let ascii = |s: String| Object::String(winansi::encode(&s).0, StringFormat::Literal);
    let info = doc.add_object(dictionary! {
        "Title" => ascii(format!("{} {}", kind_title(c.kind), c.id)),
        "Subject" => ascii(format!("Tradeseal certificate {}", c.id)),
        "Creator" => ascii("Tradeseal".to_owned()),
        "Producer" => ascii("Tradeseal".to_owned()),
        "CreationDate" => ascii(pdf_date(c.issued_at)),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)?;
    Ok(CertificatePdf {
        bytes,
        unprintable_fields: page.lost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_character_and_the_width() {
        let text = b"Fresh cut roses (Rosa spp.), 480 cartons, and a long hash 0123456789abcdef0123456789abcdef0123456789abcdef";
        let lines = wrap(text, Font::Regular, 10.0, 120.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(Font::Regular.width(l, 10.0) <= 120.0);
        }
        let joined: Vec<u8> = lines.concat();
        let without_spaces: Vec<u8> = text.iter().copied().filter(|&b| b != b' ').collect();
        assert_eq!(
            joined
                .into_iter()
                .filter(|&b| b != b' ')
                .collect::<Vec<_>>(),
            without_spaces
        );
        assert_eq!(wrap(b"", Font::Regular, 10.0, 50.0), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn titles_and_dates() {
        use registry::CertificateKind as K;
        assert_eq!(kind_title(K::Phytosanitary), "Phytosanitary certificate");
        assert_eq!(kind_title(K::CertificateOfOrigin), "Certificate of origin");
        assert_eq!(kind_title(K::Fumigation), "Fumigation certificate");
        assert_eq!(pdf_date(1_796_212_800), "D:20261202120000Z");
    }
}
