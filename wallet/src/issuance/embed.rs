//! The certificate PDF's fonts: each embedded font the page uses, subset to the glyphs drawn
//! (typst's `subsetter`: `glyf`/`loca` and the tables a PDF reader needs), written as a Type0
//! font over a CIDFontType2 (TrueType outlines) with `Identity-H` encoding, the subset's
//! glyph ids as CIDs (`CIDToGIDMap /Identity`), a `/W` widths array and a `/ToUnicode` CMap
//! (each glyph to the characters it stands for, in logical order) so the text can be
//! extracted and searched. The subset's name tag is derived from its glyphs, so the same
//! page always gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lopdf::{dictionary, Dictionary, Document, Object, Stream, StringFormat};
use rustybuzz::ttf_parser::GlyphId;
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use super::typeset::{FaceId, Fonts, Glyph};

/// The PostScript names of the embedded fonts, by [`FaceId`].
const POSTSCRIPT_NAMES: [&str; 4] = [
    "NotoSans-Regular",
    "NotoSans-Bold",
    "NotoSansArabic-Regular",
    "NotoSansArabic-Bold",
];

/// Why a font could not be embedded.
#[derive(Debug, thiserror::Error)]
#[error("embedding {font}: {reason}")]
pub struct EmbedError {
    font: &'static str,
    reason: String,
}

/// The glyphs one font gives the page.
struct Subset {
    remapper: GlyphRemapper,
    /// By CID: the advance in thousandths of an em.
    widths: Vec<i32>,
    /// By CID: the characters it stands for (empty when unknown).
    text: Vec<String>,
}

/// The fonts of a page, filled while its text is written.
#[derive(Default)]
pub(super) struct Embedded {
    subsets: BTreeMap<FaceId, Subset>,
}

impl Embedded {
    /// The resource name of `face` on the page.
    pub(super) fn resource(face: FaceId) -> String {
        format!("F{}", face.0 + 1)
    }

    /// The CID of `glyph` in its font's subset (added if new), and its width there in
    /// thousandths of an em.
    pub(super) fn cid(&mut self, fonts: &Fonts, glyph: &Glyph) -> (u16, i32) {
        let face = fonts.face(glyph.face);
        let subset = self.subsets.entry(glyph.face).or_insert_with(|| Subset {
            remapper: GlyphRemapper::new(),
            widths: Vec::new(),
            text: Vec::new(),
        });
        let cid = subset.remapper.remap(glyph.id);
        let i = usize::from(cid);
        while subset.widths.len() <= i {
            let old = subset
                .remapper
                .remapped_gids()
                .nth(subset.widths.len())
                .unwrap_or(0);
            let advance = face.glyph_hor_advance(GlyphId(old)).unwrap_or(0);
            let scale = 1000.0 / f64::from(face.units_per_em());
            subset
                .widths
                .push((f64::from(advance) * scale).round() as i32);
            subset.text.push(String::new());
        }
        // A glyph may stand for more characters in one place than another (a letter merged
        // with its mark by the shaper): the fewest is what it is.
        let known = &subset.text[i];
        if !glyph.text.is_empty()
            && (known.is_empty() || glyph.text.chars().count() < known.chars().count())
        {
            subset.text[i] = glyph.text.clone();
        }
        (cid, subset.widths[i])
    }

    /// Writes every used font into `doc`; answers the page's `/Font` resources.
    pub(super) fn write(
        &self,
        fonts: &Fonts,
        doc: &mut Document,
    ) -> Result<Dictionary, EmbedError> {
        let mut resources = Dictionary::new();
        for (&id, subset) in &self.subsets {
            let font = write_font(fonts, id, subset, doc)?;
            resources.set(Self::resource(id), font);
        }
        Ok(resources)
    }
}

fn write_font(
    fonts: &Fonts,
    id: FaceId,
    subset: &Subset,
    doc: &mut Document,
) -> Result<lopdf::ObjectId, EmbedError> {
    let name = POSTSCRIPT_NAMES[id.0];
    let fail = |reason: String| EmbedError { font: name, reason };
    let face = fonts.face(id);
    let program = subsetter::subset(id.data(), 0, &subset.remapper)
        .map_err(|e| fail(format!("subsetting: {e}")))?;
    // The tag: six capitals from the subset's glyphs.
    let mut hash = Sha256::new();
    hash.update(name.as_bytes());
    for gid in subset.remapper.remapped_gids() {
        hash.update(gid.to_be_bytes());
    }
    let tag: String = hash.finalize()[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    let base = format!("{tag}+{name}");

    let scale = 1000.0 / f64::from(face.units_per_em());
    let milli = |v: i16| Object::Integer((f64::from(v) * scale).round() as i64);
    let bbox = face.global_bounding_box();
    let mut file = Stream::new(
        dictionary! { "Length1" => i64::try_from(program.len()).unwrap_or(i64::MAX) },
        program,
    );
    file.compress().map_err(|e| fail(e.to_string()))?;
    let file_id = doc.add_object(file);
    let bold = id.0 % 2 == 1;
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => base.clone(),
        // Symbolic: the glyphs are named by CID, not by a standard encoding.
        "Flags" => 4,
        "FontBBox" => vec![
            milli(bbox.x_min), milli(bbox.y_min), milli(bbox.x_max), milli(bbox.y_max),
        ],
        "ItalicAngle" => 0,
        "Ascent" => milli(face.ascender()),
        "Descent" => milli(face.descender()),
        "CapHeight" => milli(face.capital_height().unwrap_or(face.ascender())),
        "StemV" => if bold { 140 } else { 80 },
        "FontFile2" => file_id,
    });
    let widths: Vec<Object> = subset
        .widths
        .iter()
        .map(|&w| Object::Integer(i64::from(w)))
        .collect();
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => base.clone(),
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "DW" => 0,
        "W" => vec![0.into(), Object::Array(widths)],
        "CIDToGIDMap" => "Identity",
    });
    let mut to_unicode = Stream::new(dictionary! {}, to_unicode_cmap(&subset.text).into_bytes());
    to_unicode.compress().map_err(|e| fail(e.to_string()))?;
    let to_unicode = doc.add_object(to_unicode);
    Ok(doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => base,
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid_font.into()],
        "ToUnicode" => to_unicode,
    }))
}

/// A ToUnicode CMap of two-byte CIDs: CID `i` to `text[i]` (UTF-16BE), unmapped when empty.
fn to_unicode_cmap(text: &[String]) -> String {
    let entries: Vec<String> = text
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(cid, t)| {
            let mut dst = String::new();
            for unit in t.encode_utf16() {
                let _ = write!(dst, "{unit:04X}");
            }
            format!("<{cid:04X}> <{dst}>")
        })
        .collect();
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // At most 100 entries a block.
    for block in entries.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", block.len());
        for e in block {
            out.push_str(e);
            out.push('\n');
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

/// A PDF text string: ASCII as is, anything else in UTF-16BE with its byte order mark.
pub(super) fn text_string(s: &str) -> Object {
    if s.is_ascii() {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in s.encode_utf16() {
            bytes.extend(unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_map_names_every_drawn_glyph_in_utf16() {
        let cmap = to_unicode_cmap(&["".into(), "A".into(), "لا".into(), "𝔸".into()]);
        assert!(cmap.contains("3 beginbfchar"));
        assert!(cmap.contains("<0001> <0041>"));
        assert!(cmap.contains("<0002> <06440627>"));
        assert!(cmap.contains("<0003> <D835DD38>"));
        // CID 0 (no text) is left unmapped: `<0000>` only opens the code space.
        assert_eq!(cmap.matches("<0000>").count(), 1);
        assert_eq!(
            text_string("é"),
            Object::String(vec![0xFE, 0xFF, 0x00, 0xE9], StringFormat::Hexadecimal)
        );
    }
}
