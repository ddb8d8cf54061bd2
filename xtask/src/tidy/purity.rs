//! Rule 3: the pure code reads no clock and touches no file, network, process environment or
//! entropy source. Pure code is `light-client/src/` (the verification core is a function of its
//! inputs, the current time included) and all of `registry/src/`: its client side
//! (certificates, QR payloads, proofs, transactions, verdicts: what the wallet and the CLI run)
//! and its chain side behind the `chain` feature (`app.rs` + `app/`, `store.rs`: the
//! application the nodes drive and its in-memory tree store). The chain side does no I/O
//! either: the node that makes the state durable (`tradeseal-node`'s block log) is outside the
//! crate, so no file in it is excepted.
//!
//! This is a text scan over tokens, not a compiler: comments and string literals are not code
//! ([`super::lex`]), and test code is left out — items under `#[cfg(test)]` (or `cfg(all(test,
//! …))`), `#[test]`-style functions, and the files of `#[cfg(test)] mod name;` — as are
//! `tests/`, `benches/` and `examples/`, which are outside `src/`. Tests may read fixtures.
//! The scan sees `use` trees (`use std::{fs, time::Instant}`) and paths in code
//! (`std::fs::read`, `::std::net::TcpStream`); it does not follow renames (`use std as s`) or
//! look inside macro expansions: the crates' dependency lists and the wasm32 build are the
//! other half of the guarantee. Compile-time macros (`include_bytes!`, `env!`) are allowed:
//! they run at build time and leave the code a function of its inputs.

use super::{
    lex::{lex, Tok},
    Problem, Rule, SourceFile,
};

/// What pure code must not touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Clock,
    Files,
    Network,
    Runtime,
    Environment,
    Entropy,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Clock => "clock",
            Kind::Files => "files and I/O",
            Kind::Network => "network",
            Kind::Runtime => "async runtime",
            Kind::Environment => "process environment",
            Kind::Entropy => "entropy",
        }
    }
}

const ALL: &[Kind] = &[
    Kind::Clock,
    Kind::Files,
    Kind::Network,
    Kind::Runtime,
    Kind::Environment,
    Kind::Entropy,
];
/// The pure code: which files (by path prefix) and what each may not touch. The first match
/// wins.
const SCOPES: &[(&str, &[Kind])] = &[("light-client/src/", ALL), ("registry/src/", ALL)];

/// Paths, matched by their leading segments (`std::fs` matches `std::fs::File::open`), that
/// belong to each kind. Crate names are here too: pure crates do not depend on them, and a
/// `use` of one is the first sign that they would.
const FORBIDDEN_PATHS: &[(Kind, &[&str])] = &[
    (Kind::Clock, &["std::time", "std::thread::sleep"]),
    (
        Kind::Files,
        &[
            "std::fs",
            "std::path",
            "std::os",
            "std::io",
            "tempfile",
            "sqlx",
            "rusqlite",
            "memmap2",
            "dirs",
            "walkdir",
            "fs_err",
        ],
    ),
    (
        Kind::Network,
        &[
            "std::net",
            "reqwest",
            "hyper",
            "hyper_util",
            "ureq",
            "axum",
            "tonic",
            "socket2",
            "mio",
            "curl",
            "tungstenite",
            "tokio_tungstenite",
        ],
    ),
    (
        Kind::Runtime,
        &["tokio", "async_std", "smol", "async_io", "futures_timer"],
    ),
    (Kind::Environment, &["std::env", "std::process"]),
    (
        Kind::Entropy,
        &[
            "getrandom",
            "rand::thread_rng",
            "rand::random",
            "rand::rngs",
            "rand_core::OsRng",
        ],
    ),
];

/// Names that are forbidden wherever they appear in a path, however they were imported
/// (`use std::time::*; Instant::now()`). Constants such as `UNIX_EPOCH` are not among them: a
/// point in time is a value (`light-client` has its own `Time::UNIX_EPOCH`); `std::time`'s is
/// caught by its path.
const FORBIDDEN_NAMES: &[(Kind, &str)] = &[
    (Kind::Clock, "SystemTime"),
    (Kind::Clock, "Instant"),
    (Kind::Files, "OpenOptions"),
    (Kind::Network, "TcpStream"),
    (Kind::Network, "TcpListener"),
    (Kind::Network, "UdpSocket"),
    (Kind::Entropy, "OsRng"),
    (Kind::Entropy, "ThreadRng"),
    (Kind::Entropy, "thread_rng"),
    (Kind::Entropy, "from_entropy"),
];

/// Functions that read a clock when called on a type: `Utc::now()`, `Instant::now()`,
/// `OffsetDateTime::now_utc()`. Pure code has no reason to name a function `now`.
const CLOCK_FUNCTIONS: &[&str] = &["now", "now_utc", "now_local"];

/// The allow-list: paths inside a forbidden module that are values, not I/O.
const ALLOWED: &[(&str, &str)] = &[
    (
        "std::time::Duration",
        "a length of time is a value (a trusting period); only reading the clock is forbidden",
    ),
    (
        "core::time::Duration",
        "the same `Duration` as `std::time::Duration`",
    ),
    (
        "std::io::Read",
        "the byte-stream traits also read and write in-memory buffers (`&[u8]`, `Vec<u8>`)",
    ),
    ("std::io::Write", "as `std::io::Read`"),
    ("std::io::Cursor", "an in-memory buffer"),
    ("std::io::Error", "the error type of the byte-stream traits"),
    ("std::io::ErrorKind", "as `std::io::Error`"),
    ("std::io::Result", "as `std::io::Error`"),
];

pub fn check(files: &[SourceFile]) -> Vec<Problem> {
    let scoped: Vec<(&SourceFile, &[Kind])> = files
        .iter()
        .filter_map(|f| {
            SCOPES
                .iter()
                .find(|(prefix, _)| f.path.starts_with(prefix))
                .map(|(_, kinds)| (f, *kinds))
        })
        .collect();
    let stripped: Vec<_> = scoped
        .iter()
        .map(|(f, _)| strip_tests(&lex(&f.text)))
        .collect();
    // Files that are test modules of another (`#[cfg(test)] mod tests;`) are test code.
    let mut test_dirs: Vec<String> = Vec::new();
    for ((f, _), s) in scoped.iter().zip(&stripped) {
        for name in &s.test_mods {
            test_dirs.push(format!("{}/{name}", module_dir(&f.path)));
        }
    }
    let is_test_module = |path: &str| {
        test_dirs.iter().any(|d| {
            path.strip_prefix(d.as_str())
                .is_some_and(|rest| rest == ".rs" || rest.starts_with('/'))
        })
    };
    let mut problems = Vec::new();
    for ((f, kinds), s) in scoped.iter().zip(&stripped) {
        if s.all_test || is_test_module(&f.path) {
            continue;
        }
        let mut seen = Vec::new();
        for hit in scan(&s.code) {
            if kinds.contains(&hit.kind) && !seen.contains(&(hit.line, hit.kind)) {
                seen.push((hit.line, hit.kind));
                problems.push(Problem {
                    rule: Rule::Purity,
                    place: format!("{}:{}", f.path, hit.line),
                    detail: format!("{}: `{}`", hit.kind.name(), hit.what),
                });
            }
        }
    }
    problems
}

/// The folder of a file's child modules: `src/lib.rs` → `src`, `src/verify.rs` → `src/verify`.
fn module_dir(path: &str) -> String {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    match file {
        "lib.rs" | "main.rs" | "mod.rs" => dir.to_string(),
        _ => format!("{dir}/{}", file.trim_end_matches(".rs")),
    }
}

#[derive(Debug, Default)]
struct Stripped<'a> {
    /// The tokens that are not test code.
    code: Vec<Tok<'a>>,
    /// `#[cfg(test)] mod name;`: names of test modules in files of their own.
    test_mods: Vec<&'a str>,
    /// The file opens with `#![cfg(test)]`.
    all_test: bool,
}

fn strip_tests<'a>(toks: &[Tok<'a>]) -> Stripped<'a> {
    let mut out = Stripped::default();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        if let Some((inner, content, end)) = attribute(toks, i) {
            if is_test_attr(content) {
                if inner && depth == 0 {
                    out.all_test = true;
                    out.code.clear();
                    return out;
                }
                if !inner {
                    let (item_end, module) = skip_item(toks, end);
                    out.test_mods.extend(module);
                    i = item_end;
                    continue;
                }
                // An inner test attribute inside an inline module: scanned as code (a false
                // alarm at worst, never a miss).
            }
            out.code.extend_from_slice(&toks[i..end]);
            i = end;
            continue;
        }
        match toks[i].text {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        out.code.push(toks[i]);
        i += 1;
    }
    out
}

/// An attribute at `i` (`#[…]` or `#![…]`): whether it is inner, its content, and the index
/// after it.
fn attribute<'t, 'a>(toks: &'t [Tok<'a>], i: usize) -> Option<(bool, &'t [Tok<'a>], usize)> {
    if toks.get(i)?.text != "#" {
        return None;
    }
    let inner = toks.get(i + 1)?.text == "!";
    let open = if inner { i + 2 } else { i + 1 };
    if toks.get(open)?.text != "[" {
        return None;
    }
    let mut depth = 0usize;
    for (j, t) in toks.iter().enumerate().skip(open) {
        match t.text {
            "[" => depth += 1,
            "]" => {
                depth -= 1;
                if depth == 0 {
                    return Some((inner, &toks[open + 1..j], j + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// `#[test]`, `#[tokio::test(…)]`, `#[cfg(test)]`, `#[cfg(all(test, …))]`.
fn is_test_attr(content: &[Tok<'_>]) -> bool {
    let t: Vec<&str> = content.iter().map(|t| t.text).collect();
    let mut path_end = 0;
    while t
        .get(path_end)
        .is_some_and(|_| content[path_end].is_ident())
    {
        path_end += 1;
        if t.get(path_end) == Some(&"::") {
            path_end += 1;
        } else {
            break;
        }
    }
    if path_end > 0 && t[path_end - 1] == "test" && (path_end == t.len() || t[path_end] == "(") {
        return true;
    }
    match t.as_slice() {
        ["cfg", "(", pred @ .., ")"] => test_only(pred),
        _ => false,
    }
}

/// Whether a `cfg` predicate holds only when compiling tests.
fn test_only(pred: &[&str]) -> bool {
    match pred {
        ["test"] => true,
        ["all", "(", args @ .., ")"] => split_args(args).iter().any(|a| test_only(a)),
        ["any", "(", args @ .., ")"] => {
            let args = split_args(args);
            !args.is_empty() && args.iter().all(|a| test_only(a))
        }
        _ => false,
    }
}

fn split_args<'s, 'a>(args: &'s [&'a str]) -> Vec<&'s [&'a str]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in args.iter().enumerate() {
        match *t {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            "," if depth == 0 => {
                out.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&args[start..]);
    out.retain(|a| !a.is_empty());
    out
}

/// Keywords that open an item: its end is its `;` or its closing brace, commas included.
const ITEM_KEYWORDS: &[&str] = &[
    "fn",
    "mod",
    "impl",
    "struct",
    "enum",
    "union",
    "trait",
    "type",
    "use",
    "const",
    "static",
    "extern",
    "unsafe",
    "async",
    "macro_rules",
    "let",
];

/// Skips the item after a test attribute (and any further attributes). Returns the index after
/// it and, for `mod name;`, the module's name. A field, variant or match arm ends at a comma.
fn skip_item<'a>(toks: &[Tok<'a>], mut i: usize) -> (usize, Option<&'a str>) {
    while let Some((_, _, end)) = attribute(toks, i) {
        i = end;
    }
    let start = i;
    let mut body = start;
    if toks.get(body).is_some_and(|t| t.text == "pub") {
        body += 1;
        if toks.get(body).is_some_and(|t| t.text == "(") {
            while toks.get(body).is_some_and(|t| t.text != ")") {
                body += 1;
            }
            body += 1;
        }
    }
    let texts: Vec<&str> = toks.iter().skip(body).take(3).map(|t| t.text).collect();
    if let ["mod", name, ";"] = texts.as_slice() {
        return (body + 3, Some(*name));
    }
    let is_item = toks
        .get(body)
        .is_some_and(|t| ITEM_KEYWORDS.contains(&t.text));
    let mut depth = 0usize;
    let mut j = start;
    while j < toks.len() {
        match toks[j].text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth == 0 => return (j, None), // the enclosing group ends
            ")" | "]" => depth -= 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return (j + 1, None);
                }
            }
            ";" if depth == 0 => return (j + 1, None),
            "," if depth == 0 && !is_item => return (j + 1, None),
            _ => {}
        }
        j += 1;
    }
    (toks.len(), None)
}

#[derive(Debug, PartialEq, Eq)]
struct Hit {
    line: usize,
    kind: Kind,
    what: String,
}

/// Every forbidden path in the code, in order.
fn scan(code: &[Tok<'_>]) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let t = code[i];
        if t.text == "use" {
            let mut paths = Vec::new();
            i = use_tree(code, i + 1, Vec::new(), &mut paths);
            for path in paths {
                check_path(&path, t.line, &mut hits);
            }
            continue;
        }
        if t.text == "extern" && code.get(i + 1).is_some_and(|n| n.text == "crate") {
            if let Some(name) = code.get(i + 2) {
                check_path(&[name.text], t.line, &mut hits);
            }
            i += 3;
            continue;
        }
        let starts_path =
            t.is_ident() || (t.text == "::" && code.get(i + 1).is_some_and(|n| n.is_ident()));
        if !starts_path {
            i += 1;
            continue;
        }
        let first = if t.text == "::" { i + 1 } else { i };
        let mut j = first;
        let mut path = vec![code[j].text];
        while code.get(j + 1).is_some_and(|n| n.text == "::")
            && code.get(j + 2).is_some_and(|n| n.is_ident())
        {
            path.push(code[j + 2].text);
            j += 2;
        }
        check_path(&path, code[first].line, &mut hits);
        i = j + 1;
    }
    hits
}

/// Expands a `use` tree from `i` (after `use`) into full paths; returns the index after it.
fn use_tree<'a>(
    code: &[Tok<'a>],
    mut i: usize,
    mut prefix: Vec<&'a str>,
    out: &mut Vec<Vec<&'a str>>,
) -> usize {
    while let Some(t) = code.get(i) {
        match t.text {
            "::" => i += 1,
            "{" => {
                i += 1;
                while let Some(t) = code.get(i) {
                    match t.text {
                        "}" => return i + 1,
                        "," => i += 1,
                        _ => {
                            let before = i;
                            i = use_tree(code, i, prefix.clone(), out);
                            if i == before {
                                i += 1;
                            }
                        }
                    }
                }
                return i;
            }
            "*" => {
                prefix.push("*");
                out.push(prefix);
                return i + 1;
            }
            ";" => {
                if !prefix.is_empty() {
                    out.push(prefix);
                }
                return i + 1;
            }
            "," | "}" => {
                if !prefix.is_empty() {
                    out.push(prefix);
                }
                return i;
            }
            "as" => i += 2, // `as name`: the path is what it was
            "self" if !prefix.is_empty() => i += 1,
            _ if t.is_ident() => {
                prefix.push(t.text);
                i += 1;
            }
            _ => return i + 1,
        }
    }
    if !prefix.is_empty() {
        out.push(prefix);
    }
    i
}

fn starts_with(path: &[&str], prefix: &str) -> bool {
    let prefix: Vec<&str> = prefix.split("::").collect();
    path.len() >= prefix.len() && path[..prefix.len()] == prefix[..]
}

fn check_path(path: &[&str], line: usize, hits: &mut Vec<Hit>) {
    if ALLOWED
        .iter()
        .any(|(allowed, _)| starts_with(path, allowed))
    {
        return;
    }
    let what = path.join("::");
    let mut hit = |kind| {
        hits.push(Hit {
            line,
            kind,
            what: what.clone(),
        })
    };
    for (kind, prefixes) in FORBIDDEN_PATHS {
        if prefixes.iter().any(|p| starts_with(path, p)) {
            hit(*kind);
        }
    }
    for (kind, name) in FORBIDDEN_NAMES {
        if path.contains(name) {
            hit(*kind);
        }
    }
    if path.iter().skip(1).any(|s| CLOCK_FUNCTIONS.contains(s)) {
        hit(Kind::Clock);
    }
    if path.len() >= 2 && path[0] == "File" {
        hit(Kind::Files); // `File::open`, however `File` was imported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    fn found(files: &[SourceFile]) -> Vec<String> {
        check(files)
            .into_iter()
            .map(|p| format!("{}: {}", p.place, p.detail))
            .collect()
    }

    fn found_in(src: &str) -> Vec<String> {
        found(&[file("light-client/src/x.rs", src)])
    }

    #[test]
    fn each_kind_is_found() {
        let src = "\
use std::time::SystemTime;
use std::{fs, net::TcpStream};
use tokio::runtime::Runtime;
fn f() {
    let t = std::time::Instant::now();
    let s = ::std::fs::read_to_string(\"x\");
    let f = File::open(\"y\");
    let v = std::env::var(\"HOME\");
    let mut rng = rand::thread_rng();
    let u = chrono::Utc::now();
}
extern crate reqwest;
use std::time::*;
use std::io::{stdin, Read};
";
        assert_eq!(
            found_in(src),
            [
                "light-client/src/x.rs:1: clock: `std::time::SystemTime`",
                "light-client/src/x.rs:2: files and I/O: `std::fs`",
                "light-client/src/x.rs:2: network: `std::net::TcpStream`",
                "light-client/src/x.rs:3: async runtime: `tokio::runtime::Runtime`",
                "light-client/src/x.rs:5: clock: `std::time::Instant::now`",
                "light-client/src/x.rs:6: files and I/O: `std::fs::read_to_string`",
                "light-client/src/x.rs:7: files and I/O: `File::open`",
                "light-client/src/x.rs:8: process environment: `std::env::var`",
                "light-client/src/x.rs:9: entropy: `rand::thread_rng`",
                "light-client/src/x.rs:10: clock: `chrono::Utc::now`",
                "light-client/src/x.rs:12: network: `reqwest`",
                "light-client/src/x.rs:13: clock: `std::time::*`",
                "light-client/src/x.rs:14: files and I/O: `std::io::stdin`",
            ]
        );
    }

    #[test]
    fn comments_strings_and_allowed_paths_pass() {
        let src = "\
//! Reads no clock: no `std::time::SystemTime`, no std::fs.
use std::time::Duration;
use core::time::Duration as D;
use std::io::{Read, Write};
/// Unlike `Instant::now()`, takes `now` as a parameter.
fn verify(now: u64, period: Duration) -> Result<(), std::io::Error> {
    let msg = \"File::open is not called here\";
    let raw = r#\"std::net::TcpStream\"#;
    /* std::env::var(\"X\") */
    let x = now.checked_add(1);
    include_bytes!(\"data.bin\");
    Ok(())
}
";
        assert_eq!(found_in(src), Vec::<String>::new());
    }

    #[test]
    fn importing_a_forbidden_module_itself_fails() {
        // `use std::io::{self}` is `std::io`, which is not on the allow-list.
        assert_eq!(
            found_in("use std::io::{self, Read};\n"),
            ["light-client/src/x.rs:1: files and I/O: `std::io`"]
        );
    }

    #[test]
    fn test_code_may_read_fixtures() {
        let lib = "\
//! Crate.
#[cfg(test)]
mod tests;
#[cfg(all(test, feature = \"slow\"))]
mod slow {
    use std::fs;
}
#[cfg(test)]
use std::fs::read;
#[test]
fn reads_fixture() { std::fs::read(\"f\").unwrap(); }
#[tokio::test(flavor = \"current_thread\")]
async fn runs() { tokio::time::sleep(std::time::Duration::ZERO).await; }
struct S {
    #[cfg(test)]
    opened: std::fs::File,
    kept: u8,
}
fn after_tests() -> std::net::TcpStream { loop {} }
";
        let files = [
            file("light-client/src/lib.rs", lib),
            file("light-client/src/tests.rs", "use std::fs;\n"),
            file("light-client/src/tests/deeper.rs", "use std::fs;\n"),
            file("light-client/src/whole.rs", "#![cfg(test)]\nuse std::fs;\n"),
            file("light-client/tests/integration/main.rs", "use std::fs;\n"),
        ];
        assert_eq!(
            found(&files),
            ["light-client/src/lib.rs:19: network: `std::net::TcpStream`"]
        );
    }

    #[test]
    fn code_that_is_not_only_for_tests_is_scanned() {
        let src = "\
#[cfg(any(test, feature = \"test-utils\"))]
pub mod test_utils { use std::time::SystemTime; }
#[cfg(not(test))]
use std::env;
#[cfg_attr(test, derive(Debug))]
struct T(std::fs::File);
";
        assert_eq!(
            found_in(src),
            [
                "light-client/src/x.rs:2: clock: `std::time::SystemTime`",
                "light-client/src/x.rs:4: process environment: `std::env`",
                "light-client/src/x.rs:6: files and I/O: `std::fs::File`",
            ]
        );
    }

    #[test]
    fn scopes() {
        let io = "use std::fs;\nuse std::net::TcpStream;\nfn f() { let _ = SystemTime::now(); }\n";
        let files = [
            file("registry/src/qr.rs", io),
            file("registry/src/store.rs", io),
            file("registry/examples/bench.rs", io),
            file("devnet/src/store.rs", io),
        ];
        assert_eq!(
            found(&files),
            [
                "registry/src/qr.rs:1: files and I/O: `std::fs`",
                "registry/src/qr.rs:2: network: `std::net::TcpStream`",
                "registry/src/qr.rs:3: clock: `SystemTime::now`",
                // The chain side is as pure as the client side.
                "registry/src/store.rs:1: files and I/O: `std::fs`",
                "registry/src/store.rs:2: network: `std::net::TcpStream`",
                "registry/src/store.rs:3: clock: `SystemTime::now`",
            ]
        );
    }

    #[test]
    fn module_dirs() {
        assert_eq!(module_dir("a/src/lib.rs"), "a/src");
        assert_eq!(module_dir("a/src/verify.rs"), "a/src/verify");
        assert_eq!(module_dir("a/src/verify/mod.rs"), "a/src/verify");
    }

    #[test]
    fn malformed_code_does_not_panic() {
        for src in [
            "use",
            "use std::{",
            "#[cfg(test)]",
            "#[cfg(test",
            "use a::{b::{c,}",
            "::",
        ] {
            let _ = found_in(src);
        }
    }
}
