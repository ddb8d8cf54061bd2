//! A small Rust tokenizer for the tidy scans: enough of the lexical grammar to tell code from
//! comments, strings and character literals, so that a forbidden name in a doc comment or an
//! error message is not mistaken for a use of it. It never fails: unexpected input becomes
//! one-character tokens.

/// A token of code with the line it starts on (1-based). String and character literals are
/// kept as the placeholder `""` (their content is not code); comments are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok<'a> {
    pub text: &'a str,
    pub line: usize,
}

impl Tok<'_> {
    /// An identifier or keyword (a raw identifier `r#x` is kept as `x`).
    pub fn is_ident(&self) -> bool {
        self.text
            .bytes()
            .next()
            .is_some_and(|b| b == b'_' || b.is_ascii_alphabetic() || b >= 0x80)
    }
}

pub fn lex(src: &str) -> Vec<Tok<'_>> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start_line = line;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            _ if c.is_ascii_whitespace() => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = block_comment(b, i, &mut line);
            }
            b'"' => {
                i = quoted(b, i + 1, b'"', &mut line);
                toks.push(Tok {
                    text: "\"\"",
                    line: start_line,
                });
            }
            b'\'' => {
                if let Some(end) = char_literal(b, i) {
                    i = end;
                    toks.push(Tok {
                        text: "\"\"",
                        line: start_line,
                    });
                } else {
                    // A lifetime or loop label: `'a`.
                    let end = ident_end(b, i + 1);
                    toks.push(Tok {
                        text: &src[i..end.max(i + 1)],
                        line,
                    });
                    i = end.max(i + 1);
                }
            }
            _ if c.is_ascii_digit() => {
                let mut end = i + 1;
                while end < b.len()
                    && (b[end].is_ascii_alphanumeric()
                        || b[end] == b'_'
                        || (b[end] == b'.' && b.get(end + 1).is_some_and(u8::is_ascii_digit)))
                {
                    end += 1;
                }
                toks.push(Tok {
                    text: &src[i..end],
                    line,
                });
                i = end;
            }
            _ if is_ident_start(c) => {
                if let Some(end) = prefixed_literal(b, i, &mut line) {
                    toks.push(Tok {
                        text: "\"\"",
                        line: start_line,
                    });
                    i = end;
                    continue;
                }
                let mut start = i;
                if c == b'r'
                    && b.get(i + 1) == Some(&b'#')
                    && b.get(i + 2).is_some_and(|&n| is_ident_start(n))
                {
                    start = i + 2;
                }
                let end = ident_end(b, start);
                toks.push(Tok {
                    text: &src[start..end],
                    line,
                });
                i = end;
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                toks.push(Tok { text: "::", line });
                i += 2;
            }
            _ => {
                // ASCII punctuation, or a stray non-ASCII character outside an identifier.
                let len = utf8_len(c);
                let end = (i + len).min(b.len());
                toks.push(Tok {
                    text: src.get(i..end).unwrap_or(""),
                    line,
                });
                i = end;
            }
        }
    }
    toks
}

fn is_ident_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic() || c >= 0x80
}

fn ident_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric() || b[i] >= 0x80) {
        i += 1;
    }
    i
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Skips a (nested) block comment starting at `i`; returns the index after it.
fn block_comment(b: &[u8], mut i: usize, line: &mut usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            if b[i] == b'\n' {
                *line += 1;
            }
            i += 1;
        }
    }
    i
}

/// Skips to after the closing `close`, honouring backslash escapes; `i` is after the opening.
fn quoted(b: &[u8], mut i: usize, close: u8, line: &mut usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if b.get(i + 1) == Some(&b'\n') {
                    *line += 1;
                }
                i += 2;
            }
            b'\n' => {
                *line += 1;
                i += 1;
            }
            c if c == close => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// A character literal at `i` (`'x'`, `'\n'`, `'\u{1F600}'`, `'é'`): the index after it, or
/// `None` for a lifetime.
fn char_literal(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i + 1)? {
        b'\\' => {
            // Skip the escaped character itself, so that `'\''` ends at the right quote.
            let mut j = i + 3;
            while j < b.len() && b[j] != b'\'' && b[j] != b'\n' {
                j += 1;
            }
            (b.get(j) == Some(&b'\'')).then_some(j + 1)
        }
        &c => {
            let end = i + 1 + utf8_len(c);
            (b.get(end) == Some(&b'\'')).then_some(end + 1)
        }
    }
}

/// Raw strings (`r"…"`, `r#"…"#`), byte and C strings (`b"…"`, `br#"…"#`, `c"…"`) and byte
/// characters (`b'x'`) at `i`: the index after the literal, or `None` for an identifier.
fn prefixed_literal(b: &[u8], i: usize, line: &mut usize) -> Option<usize> {
    let mut j = i;
    if matches!(b[j], b'b' | b'c') {
        j += 1;
        match b.get(j) {
            Some(b'"') => return Some(quoted(b, j + 1, b'"', line)),
            Some(b'\'') if b[i] == b'b' => return Some(quoted(b, j + 1, b'\'', line)),
            _ => {}
        }
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    if b.get(j) != Some(&b'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == b'"'
            && b[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        if b[j] == b'\n' {
            *line += 1;
        }
        j += 1;
    }
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        lex(src).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn comments_and_strings_are_not_code() {
        let src = "//! uses std::fs\n/* std::net /* nested */ */ let s = \"std::fs\"; // x\n";
        assert_eq!(texts(src), ["let", "s", "=", "\"\"", ";"]);
        assert_eq!(
            texts(r####"r#"a " std::fs"# br"x" b"y\"" c"z" b'\'' '\\' 'x' 'é'"####),
            ["\"\""; 8]
        );
    }

    #[test]
    fn paths_lifetimes_raw_idents_and_lines() {
        let toks = lex("use std::fs;\n\nfn f<'a>(r#type: &'a u8) -> f64 { 1.5e3 }");
        let t: Vec<_> = toks.iter().map(|t| t.text).collect();
        assert_eq!(
            t,
            [
                "use", "std", "::", "fs", ";", "fn", "f", "<", "'a", ">", "(", "type", ":", "&",
                "'a", "u8", ")", "-", ">", "f64", "{", "1.5e3", "}"
            ]
        );
        assert_eq!(toks[0].line, 1);
        assert_eq!(toks[5].line, 3);
    }

    #[test]
    fn lines_count_inside_comments_and_strings() {
        let toks = lex("/* a\nb */ \"x\ny\" r#\"\n\"# z");
        assert_eq!(toks.last().map(|t| (t.text, t.line)), Some(("z", 4)));
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for src in ["\"abc", "r#\"abc", "/* abc", "'", "b'", "r#", "é", "'\\"] {
            let _ = lex(src);
        }
    }
}
