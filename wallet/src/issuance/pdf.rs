//! The printable certificate: one A4 page written with lopdf: the title, every human-readable
//! field of the signed certificate, its QR code as an image XObject (1-bit greyscale, so a
//! decoder reading the file's images finds it, as `tradeseal-scan` does) drawn at the
//! recommended print size, and how to verify it. Its text is in every language the fonts
//! embedded in the program cover (Latin, Greek, Cyrillic, Arabic: [`super::typeset`] shapes
//! and lays it out, right to left where a paragraph starts right to left, which is then
//! aligned right in its column), the fonts subset to the glyphs used and embedded in the file
//! with a text map, so the text can be extracted and searched ([`super::embed`]); a character
//! no font covers prints as `?` and its field is reported. The same certificate always gives
//! the same bytes (no clock is read: the creation date is the issue time).

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream, StringFormat};
use registry::SignedCertificate;

use super::embed::{text_string, EmbedError, Embedded};
use super::symbol::{Symbol, MIN_MODULE_MM, MODULE_MM};
use super::typeset::{Fonts, Line, Weight};
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

/// The page's text styles: the weight and the size in points.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    weight: Weight,
    size: f64,
}

const fn style(weight: Weight, size: f64) -> Style {
    Style { weight, size }
}

/// Why the PDF could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(transparent)]
    Pdf(#[from] lopdf::Error),
    #[error(transparent)]
    Font(#[from] EmbedError),
    #[error("writing the PDF: {0}")]
    Io(#[from] std::io::Error),
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

/// Content stream operations, with a top-down cursor.
struct Page<'f> {
    fonts: &'f Fonts,
    embedded: Embedded,
    ops: Vec<Operation>,
    /// Fields with characters that no embedded font covers.
    lost: Vec<String>,
}

impl Page<'_> {
    /// `line` at `size` with its left end at `x` and its baseline at `top`. Each glyph is
    /// placed where the shaper put it: the text array moves the pen by the difference
    /// between its shaped advance and its width in the font (kerning, marks), and a mark
    /// raised or lowered is drawn with a text rise.
    fn line(&mut self, line: &Line, size: f64, x: f64, top: f64) {
        self.ops.extend([
            Operation::new("BT", vec![]),
            Operation::new("Td", vec![x.into(), (PAGE_H - top).into()]),
        ]);
        let mut face = None;
        let mut rise = 0;
        let mut array: Vec<Object> = Vec::new();
        let mut run: Vec<u8> = Vec::new();
        // Thousandths of an em to move right before the next glyph.
        let mut pending = 0;
        let flush = |ops: &mut Vec<Operation>, array: &mut Vec<Object>, run: &mut Vec<u8>| {
            if !run.is_empty() {
                array.push(Object::String(
                    std::mem::take(run),
                    StringFormat::Hexadecimal,
                ));
            }
            if !array.is_empty() {
                ops.push(Operation::new(
                    "TJ",
                    vec![Object::Array(std::mem::take(array))],
                ));
            }
        };
        for g in &line.glyphs {
            if face != Some(g.face) || rise != g.y_offset {
                flush(&mut self.ops, &mut array, &mut run);
                if face != Some(g.face) {
                    face = Some(g.face);
                    self.ops.push(Operation::new(
                        "Tf",
                        vec![Embedded::resource(g.face).into(), size.into()],
                    ));
                }
                if rise != g.y_offset {
                    rise = g.y_offset;
                    let points = f64::from(rise) * size / 1000.0;
                    self.ops.push(Operation::new("Ts", vec![points.into()]));
                }
            }
            let (cid, width) = self.embedded.cid(self.fonts, g);
            pending += g.x_offset;
            if pending != 0 {
                if !run.is_empty() {
                    array.push(Object::String(
                        std::mem::take(&mut run),
                        StringFormat::Hexadecimal,
                    ));
                }
                array.push(Object::Integer(-i64::from(pending)));
            }
            run.extend(cid.to_be_bytes());
            pending = g.advance - width - g.x_offset;
        }
        flush(&mut self.ops, &mut array, &mut run);
        if rise != 0 {
            self.ops.push(Operation::new("Ts", vec![0.into()]));
        }
        self.ops.push(Operation::new("ET", vec![]));
    }

    /// One line of `text` (not reported: the page's own words).
    fn text(&mut self, style: Style, x: f64, top: f64, text: &str) {
        let line = self.fonts.line(text, style.weight);
        self.line(&line, style.size, x, top);
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

    /// The text of `field` wrapped to `max` from `x` (right-to-left lines aligned right);
    /// answers the new top.
    fn paragraph(
        &mut self,
        field: &str,
        text: &str,
        style: Style,
        (x, max): (f64, f64),
        top: f64,
    ) -> f64 {
        let p = self.fonts.paragraph(text, style.weight, style.size, max);
        if p.lost && !self.lost.iter().any(|f| f == field) {
            self.lost.push(field.to_owned());
        }
        let mut top = top;
        for line in &p.lines {
            let left = if line.rtl {
                x + max - line.width(style.size)
            } else {
                x
            };
            self.line(line, style.size, left, top);
            top += style.size * 1.3;
        }
        top
    }
}

/// One labelled line of the field table.
struct Row {
    field: &'static str,
    label: &'static str,
    value: String,
    style: Style,
}

fn row(field: &'static str, label: &'static str, value: impl Into<String>) -> Row {
    Row {
        field,
        label,
        value: value.into(),
        style: style(Weight::Regular, 10.0),
    }
}

fn small(field: &'static str, label: &'static str, value: String) -> Row {
    Row {
        field,
        label,
        value,
        style: style(Weight::Regular, 8.0),
    }
}

/// What the PDF was made of, for the caller.
#[derive(Debug, Clone)]
pub struct CertificatePdf {
    /// The file.
    pub bytes: Vec<u8>,
    /// The fields with characters that no embedded font covers (shown as `?`).
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
) -> Result<CertificatePdf, PdfError> {
    let c = &signed.certificate;
    let fonts = Fonts::new();
    let mut page = Page {
        fonts: &fonts,
        embedded: Embedded::default(),
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
        let s = if i == 0 {
            style(Weight::Bold, 8.0)
        } else {
            style(Weight::Regular, 6.5)
        };
        let shaped = fonts.line(line, s.weight);
        let w = shaped.width(s.size);
        page.grey(if i == 0 { 0.0 } else { 0.35 });
        page.line(&shaped, s.size, qr_x + (side_pt - w) / 2.0, cap_top);
        cap_top += s.size * 1.4;
    }
    page.grey(0.0);

    // The heading, left of the code.
    let head_w = qr_x - MARGIN - 12.0;
    let mut top = MARGIN + 18.0;
    top = page.paragraph(
        "kind",
        &kind_title(c.kind),
        style(Weight::Bold, 20.0),
        (MARGIN, head_w),
        top,
    );
    top += 6.0;
    top = page.paragraph(
        "serial",
        &format!("No. {}", c.id.serial),
        style(Weight::Bold, 13.0),
        (MARGIN, head_w),
        top,
    );
    top = page.paragraph(
        "issuer",
        &format!("Issued by {}", c.id.issuer),
        style(Weight::Regular, 11.0),
        (MARGIN, head_w),
        top + 2.0,
    );
    let registry_line = match chain_id {
        Some(id) => format!("Registered in the Tradeseal registry ({id})"),
        None => "Registered in the Tradeseal registry".to_owned(),
    };
    page.grey(0.3);
    page.paragraph(
        "chain_id",
        &registry_line,
        style(Weight::Regular, 9.0),
        (MARGIN, head_w),
        top + 4.0,
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
        small(
            "document_hash",
            "Document (SHA-256)",
            c.document_hash.map_or_else(none, hex::encode),
        ),
        small(
            "content_hash",
            "Content hash",
            hex::encode(c.content_hash()),
        ),
        small(
            "signature",
            "Issuer's signature",
            hex::encode(signed.signature),
        ),
    ];
    let mut top = (cap_top + 10.0).max(top + 24.0);
    page.rule(top - 10.0, MARGIN, PAGE_W - MARGIN);
    for r in &rows {
        page.grey(0.3);
        page.text(style(Weight::Bold, 8.5), MARGIN, top, r.label);
        page.grey(0.0);
        let next = page.paragraph(
            r.field,
            &r.value,
            r.style,
            (MARGIN + LABEL_W, content_w - LABEL_W),
            top,
        );
        top = next + 3.0;
        page.rule(top - 8.0, MARGIN, PAGE_W - MARGIN);
        top += 6.0;
    }

    // How to verify.
    top += 10.0;
    page.text(style(Weight::Bold, 11.0), MARGIN, top, "How to verify");
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
        top = page.paragraph(
            "how",
            p,
            style(Weight::Regular, 9.5),
            (MARGIN, content_w),
            top,
        ) + 4.0;
    }
    if c.document_hash.is_some() {
        page.paragraph(
            "how",
            "The certificate's full document is a separate PDF: to check it, give it to the \
             app with the certificate (Check the certificate's document, or --document).",
            style(Weight::Regular, 9.5),
            (MARGIN, content_w),
            top,
        );
    }
    page.grey(0.45);
    page.text(
        style(Weight::Regular, 7.0),
        MARGIN,
        PAGE_H - MARGIN + 14.0,
        &format!("{} - printed by Tradeseal", c.id),
    );

    // The document.
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let font_resources = page.embedded.write(&fonts, &mut doc)?;
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
        "Font" => font_resources,
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
    let info = doc.add_object(dictionary! {
        "Title" => text_string(&format!("{} {}", kind_title(c.kind), c.id)),
        "Subject" => text_string(&format!("Tradeseal certificate {}", c.id)),
        "Creator" => text_string("Tradeseal"),
        "Producer" => text_string("Tradeseal"),
        "CreationDate" => text_string(&pdf_date(c.issued_at)),
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
    fn titles_and_dates() {
        use registry::CertificateKind as K;
        assert_eq!(kind_title(K::Phytosanitary), "Phytosanitary certificate");
        assert_eq!(kind_title(K::CertificateOfOrigin), "Certificate of origin");
        assert_eq!(kind_title(K::Fumigation), "Fumigation certificate");
        assert_eq!(pdf_date(1_796_212_800), "D:20261202120000Z");
    }
}
