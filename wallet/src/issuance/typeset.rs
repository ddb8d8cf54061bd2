//! Text for the certificate PDF in every language: the embedded fonts (Noto Sans for Latin,
//! Greek and Cyrillic, Noto Sans Arabic for Arabic script, each Regular and Bold, OFL 1.1,
//! compiled in from `assets/fonts/`), a font chosen per run by coverage, lines laid out by the
//! Unicode bidi algorithm (a paragraph whose first strong character is right-to-left reads
//! right to left, Latin and digits inside it keep their order) and shaped with rustybuzz
//! (Arabic contextual forms, lam-alef ligatures, marks, kerning), and greedy line wrapping by
//! the shaped advances. A character that no embedded font covers prints as `?` and is
//! reported.

use rustybuzz::{BufferClusterLevel, Direction, UnicodeBuffer};
use unicode_bidi::{bidi_class, BidiClass, Level, ParagraphBidiInfo};

/// The embedded font files, indexed by [`FaceId`].
const FONT_FILES: [&[u8]; 4] = [
    include_bytes!("../../../assets/fonts/NotoSans-Regular.ttf"),
    include_bytes!("../../../assets/fonts/NotoSans-Bold.ttf"),
    include_bytes!("../../../assets/fonts/NotoSansArabic-Regular.ttf"),
    include_bytes!("../../../assets/fonts/NotoSansArabic-Bold.ttf"),
];

/// The weight of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

/// Which script family a run is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Latin,
    Arabic,
}

/// One embedded font file: a family in a weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct FaceId(pub(super) usize);

impl FaceId {
    fn of(family: Family, weight: Weight) -> FaceId {
        FaceId(match (family, weight) {
            (Family::Latin, Weight::Regular) => 0,
            (Family::Latin, Weight::Bold) => 1,
            (Family::Arabic, Weight::Regular) => 2,
            (Family::Arabic, Weight::Bold) => 3,
        })
    }

    /// The font file's bytes.
    pub(super) fn data(self) -> &'static [u8] {
        FONT_FILES[self.0]
    }
}

/// One shaped glyph, in thousandths of an em (the units of a PDF font's widths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Glyph {
    pub face: FaceId,
    /// The glyph id in the font file.
    pub id: u16,
    /// How far the pen moves after it.
    pub advance: i32,
    /// Where it is drawn relative to the pen (marks over or under their base).
    pub x_offset: i32,
    pub y_offset: i32,
    /// The characters it stands for (empty for the second glyph of one character).
    pub text: String,
}

/// One line, its glyphs in visual order (left to right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub glyphs: Vec<Glyph>,
    /// Whether its paragraph reads right to left (it is then aligned right).
    pub rtl: bool,
}

impl Line {
    /// Its width at `size` points.
    pub(super) fn width(&self, size: f64) -> f64 {
        let units: i64 = self.glyphs.iter().map(|g| i64::from(g.advance)).sum();
        units as f64 * size / 1000.0
    }
}

/// A text's lines, and whether some of its characters could not be printed.
#[derive(Debug, Clone)]
pub(super) struct Paragraph {
    pub lines: Vec<Line>,
    pub lost: bool,
}

/// The parsed embedded fonts.
pub(super) struct Fonts {
    faces: Vec<rustybuzz::Face<'static>>,
}

/// Characters that are not drawn but steer the layout (joiners, bidi marks): kept, the
/// shaper hides them.
fn is_format_control(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Arabic script's blocks (Arabic, Supplement, Extended-A, presentation forms).
fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{0870}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// The bracket that shows `c` in a right-to-left run (what the shaper draws for it).
fn mirror(c: char) -> Option<char> {
    const PAIRS: [(char, char); 6] = [
        ('(', ')'),
        ('[', ']'),
        ('{', '}'),
        ('<', '>'),
        ('«', '»'),
        ('‹', '›'),
    ];
    PAIRS.iter().find_map(|&(a, b)| {
        if c == a {
            Some(b)
        } else if c == b {
            Some(a)
        } else {
            None
        }
    })
}

/// What each shaped glyph of `piece` stands for: a cluster's characters go to its glyphs
/// one each when there are as many of both (a letter and its marks), else all to its first
/// glyph in logical order (a ligature) and none to the others. A bracket that a
/// right-to-left run mirrors stands for the bracket drawn (`glyph_of` is the font's map).
fn cluster_texts(
    piece: &str,
    infos: &[rustybuzz::GlyphInfo],
    rtl: bool,
    glyph_of: impl Fn(char) -> Option<u16>,
) -> Vec<String> {
    let mut starts: Vec<usize> = infos.iter().map(|g| g.cluster as usize).collect();
    starts.push(piece.len());
    starts.sort_unstable();
    starts.dedup();
    let mut texts = vec![String::new(); infos.len()];
    for pair in starts.windows(2) {
        let chars: Vec<char> = piece
            .get(pair[0]..pair[1])
            .unwrap_or_default()
            .chars()
            .collect();
        // The cluster's glyphs, in logical order (a right-to-left run comes reversed).
        let mut glyphs: Vec<usize> = (0..infos.len())
            .filter(|&i| infos[i].cluster as usize == pair[0])
            .collect();
        if rtl {
            glyphs.reverse();
        }
        if glyphs.len() == chars.len() {
            for (&g, &c) in glyphs.iter().zip(&chars) {
                let id = u16::try_from(infos[g].glyph_id).ok();
                let shown = match mirror(c) {
                    Some(m) if rtl && glyph_of(m) == id && glyph_of(c) != id => m,
                    _ => c,
                };
                texts[g] = shown.to_string();
            }
        } else if let Some(&first) = glyphs.first() {
            texts[first] = chars.iter().collect();
        }
    }
    texts
}

impl Fonts {
    /// The embedded fonts, parsed (they are part of the program: a font that does not parse
    /// is a build defect, caught by every PDF test).
    pub(super) fn new() -> Fonts {
        let faces = FONT_FILES
            .iter()
            .map(|data| rustybuzz::Face::from_slice(data, 0).expect("embedded font parses"))
            .collect();
        Fonts { faces }
    }

    pub(super) fn face(&self, id: FaceId) -> &rustybuzz::Face<'static> {
        &self.faces[id.0]
    }

    fn covers(&self, family: Family, c: char) -> bool {
        self.face(FaceId::of(family, Weight::Regular))
            .glyph_index(c)
            .is_some()
    }

    /// `text` with every character no font covers replaced by `?`, whitespace runs by one
    /// space; and whether anything was replaced.
    fn printable(&self, text: &str) -> (String, bool) {
        let mut lost = false;
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_whitespace() {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            } else if is_format_control(c)
                || self.covers(Family::Latin, c)
                || self.covers(Family::Arabic, c)
            {
                out.push(c);
            } else {
                lost = true;
                out.push('?');
            }
        }
        (out, lost)
    }

    /// The family of each character of `text` (printable): Arabic script in the Arabic
    /// font, other strong characters in the Latin one (or the Arabic one if only it has
    /// them); neutrals (spaces, digits, punctuation, marks) in the font of the character
    /// before them when it has them, else of the one after.
    fn families(&self, text: &str) -> Vec<Family> {
        let chars: Vec<char> = text.chars().collect();
        let own: Vec<Option<Family>> = chars
            .iter()
            .map(|&c| {
                let strong = matches!(bidi_class(c), BidiClass::L | BidiClass::R | BidiClass::AL);
                if (is_arabic(c) && self.covers(Family::Arabic, c))
                    || !self.covers(Family::Latin, c)
                {
                    Some(Family::Arabic)
                } else if !self.covers(Family::Arabic, c) || strong {
                    Some(Family::Latin)
                } else {
                    None
                }
            })
            .collect();
        let mut out = Vec::with_capacity(chars.len());
        for (i, f) in own.iter().enumerate() {
            let family = match f {
                Some(f) => *f,
                None => {
                    let before = out.last().copied();
                    let after = own[i..].iter().find_map(|f| *f);
                    before.or(after).unwrap_or(Family::Latin)
                }
            };
            out.push(family);
        }
        out
    }

    /// `text` (one line, printable) shaped in `weight`, laid out in the paragraph direction
    /// `level`.
    fn shape_line(&self, text: &str, weight: Weight, level: Level) -> Line {
        let mut glyphs = Vec::new();
        if !text.is_empty() {
            let families = self.families(text);
            let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let family_at = |byte: usize| families[starts.partition_point(|&s| s < byte)];
            let bidi = ParagraphBidiInfo::new(text, Some(level));
            let (levels, runs) = bidi.visual_runs(0..text.len());
            for run in runs {
                let rtl = levels[run.start].is_rtl();
                // The run's pieces in one font each, in logical order.
                let mut pieces: Vec<(usize, usize, Family)> = Vec::new();
                for (i, _) in text[run.clone()].char_indices() {
                    let at = run.start + i;
                    let f = family_at(at);
                    if pieces.last().is_none_or(|p| p.2 != f) {
                        if let Some(last) = pieces.last_mut() {
                            last.1 = at;
                        }
                        pieces.push((at, run.end, f));
                    }
                }
                if rtl {
                    pieces.reverse();
                }
                for (start, end, family) in pieces {
                    let face = FaceId::of(family, weight);
                    self.shape_piece(text, start..end, face, rtl, &mut glyphs);
                }
            }
        }
        Line {
            glyphs,
            rtl: level.is_rtl(),
        }
    }

    /// Appends the glyphs of `text[range]` in `face`, in visual order.
    fn shape_piece(
        &self,
        text: &str,
        range: std::ops::Range<usize>,
        face: FaceId,
        rtl: bool,
        out: &mut Vec<Glyph>,
    ) {
        let piece = &text[range.clone()];
        let font = self.face(face);
        let mut buffer = UnicodeBuffer::new();
        buffer.set_pre_context(&text[..range.start]);
        buffer.set_post_context(&text[range.end..]);
        buffer.push_str(piece);
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        // One cluster per character where the font allows: a mark's glyph then stands for
        // the mark alone (in the PDF's text map).
        buffer.set_cluster_level(BufferClusterLevel::Characters);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(font, &[], buffer);
        let scale = 1000.0 / f64::from(font.units_per_em());
        let milli = |v: i32| (f64::from(v) * scale).round() as i32;
        let infos = shaped.glyph_infos();
        let texts = cluster_texts(piece, infos, rtl, |c| font.glyph_index(c).map(|g| g.0));
        for ((info, pos), text) in infos.iter().zip(shaped.glyph_positions()).zip(texts) {
            let id = u16::try_from(info.glyph_id).unwrap_or(0);
            out.push(Glyph {
                face,
                id,
                advance: milli(pos.x_advance),
                x_offset: milli(pos.x_offset),
                y_offset: milli(pos.y_offset),
                text,
            });
        }
    }

    /// `text` in `weight` at `size`, wrapped greedily at spaces to `max` points by its
    /// shaped width; a word longer than a line (a hash) is cut where it reaches the edge.
    /// The paragraph's direction is its first strong character's.
    pub(super) fn paragraph(&self, text: &str, weight: Weight, size: f64, max: f64) -> Paragraph {
        let (text, lost) = self.printable(text);
        let level = ParagraphBidiInfo::new(&text, None).paragraph_level;
        let fits = |s: &str| self.shape_line(s, weight, level).width(size) <= max;
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if fits(&candidate) {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut rest = word;
            while !fits(rest) {
                // The longest start that fits, at least one character.
                let cuts: Vec<usize> = rest.char_indices().map(|(i, _)| i).skip(1).collect();
                let n = cuts.partition_point(|&i| fits(&rest[..i]));
                let Some(&cut) = cuts.get(n.saturating_sub(1)) else {
                    break;
                };
                lines.push(rest[..cut].to_owned());
                rest = &rest[cut..];
            }
            line = rest.to_owned();
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        Paragraph {
            lines: lines
                .iter()
                .map(|l| self.shape_line(l, weight, level))
                .collect(),
            lost,
        }
    }

    /// One line of `text`, not wrapped.
    pub(super) fn line(&self, text: &str, weight: Weight) -> Line {
        let (text, _) = self.printable(text);
        let level = ParagraphBidiInfo::new(&text, None).paragraph_level;
        self.shape_line(&text, weight, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(line: &Line) -> String {
        line.glyphs.iter().map(|g| g.text.as_str()).collect()
    }

    #[test]
    fn wrapping_keeps_every_character_and_the_width() {
        let fonts = Fonts::new();
        let text = "Fresh cut roses (Rosa spp.), 480 cartons, and a long hash \
                    0123456789abcdef0123456789abcdef0123456789abcdef";
        let p = fonts.paragraph(text, Weight::Regular, 10.0, 120.0);
        assert!(!p.lost);
        assert!(p.lines.len() > 2);
        for l in &p.lines {
            assert!(l.width(10.0) <= 120.0, "{} too wide", text_of(l));
            assert!(!l.rtl);
        }
        let joined: String = p.lines.iter().map(text_of).collect();
        let strip = |s: &str| s.chars().filter(|c| *c != ' ').collect::<String>();
        assert_eq!(strip(&joined), strip(text));
        let empty = fonts.paragraph("", Weight::Regular, 10.0, 50.0);
        assert_eq!(empty.lines.len(), 1);
        assert!(empty.lines[0].glyphs.is_empty());
    }

    #[test]
    fn arabic_is_joined_right_to_left_with_latin_in_order() {
        let fonts = Fonts::new();
        let name = "شركة النخيل للتصدير";
        let line = fonts.line(&format!("{name} (AE, TRN 100234)"), Weight::Regular);
        assert!(line.rtl);
        let arabic = FaceId::of(Family::Arabic, Weight::Regular);
        let latin = FaceId::of(Family::Latin, Weight::Regular);
        // Visual order: the Latin part on the left, the name on the right, its first letter
        // (shin) rightmost; "AE, TRN 100234" reads left to right.
        let visual = text_of(&line);
        assert!(visual.contains("AE, TRN 100234"), "{visual}");
        let last = line
            .glyphs
            .iter()
            .rev()
            .find(|g| !g.text.is_empty())
            .unwrap();
        assert_eq!(last.text, "ش");
        assert_eq!(last.face, arabic);
        assert!(line.glyphs.iter().any(|g| g.face == latin));
        // The name's letters, read right to left, are the name (logical order).
        let name_glyphs: String = line
            .glyphs
            .iter()
            .rev()
            .filter(|g| g.face == arabic)
            .map(|g| g.text.as_str())
            .collect();
        assert!(name_glyphs.contains(name), "{name_glyphs}");
        // Contextual forms: the same letter gets different glyphs at the start and the end
        // of a word (lam in "للتصدير" and alone is not one glyph) and lam-alef ligates.
        let alone = fonts.line("ل", Weight::Regular).glyphs[0].id;
        let initial = fonts.line("لت", Weight::Regular).glyphs.last().unwrap().id;
        assert_ne!(alone, initial);
        let lam_alef = fonts.line("لا", Weight::Regular);
        assert_eq!(lam_alef.glyphs.len(), 1);
        assert_eq!(lam_alef.glyphs[0].text, "لا");
    }

    #[test]
    fn every_character_is_stood_for_by_exactly_one_glyph() {
        // Marks, the shaper's merged clusters, ligatures (lam-alef, the word Allah), mirrored
        // brackets: the glyphs' texts together are the line's characters, each once.
        let fonts = Fonts::new();
        for text in [
            "مُحَمَّد بن عَبْدِ اللّٰه للتجارة",
            "لا آفات (AE) [x]",
            "Ελλάδα Москва Ağır œuvre façade",
        ] {
            let line = fonts.line(text, Weight::Regular);
            let mut got: Vec<char> = line.glyphs.iter().flat_map(|g| g.text.chars()).collect();
            let mut want: Vec<char> = text.chars().collect();
            got.sort_unstable();
            want.sort_unstable();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn uncovered_characters_print_as_question_marks() {
        let fonts = Fonts::new();
        let p = fonts.paragraph("Ağır 北京 Москва Ελλάδα", Weight::Bold, 10.0, 400.0);
        assert!(p.lost);
        assert_eq!(text_of(&p.lines[0]), "Ağır ?? Москва Ελλάδα");
        let p = fonts.paragraph(
            "Société Générale, œuvre, façade",
            Weight::Regular,
            10.0,
            400.0,
        );
        assert!(!p.lost);
        assert!(p.lines[0].glyphs.iter().all(|g| g.id != 0));
    }
}
