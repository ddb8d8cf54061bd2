//! `cargo xtask tidy`: checks that keep the code map and the purity invariants true. Every
//! problem is reported at once, grouped by rule, so that one run shows all there is to fix:
//!
//! 1. every tracked `.rs` file opens with a `//!` line (its first non-empty line);
//! 2. every source file is named in `docs/ARCHITECTURE.md`'s code map, and every file or
//!    folder the map names for a crate exists (rule in [`code_map`] and at the top of the map);
//! 3. the pure code (`light-client`, the client side of `registry`) uses no clock, file,
//!    network, process or entropy API outside its tests ([`purity`]).

mod code_map;
mod lex;
mod purity;

use std::{collections::BTreeMap, path::Path, process::Command};

use anyhow::{bail, Context, Result};

use crate::util::Workspace;

/// The documentation file that holds the code map.
pub const MAP_DOC: &str = "docs/ARCHITECTURE.md";

/// Which rule a problem breaks; the order is the order of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    DocLine,
    CodeMap,
    Purity,
}

impl Rule {
    fn title(self) -> &'static str {
        match self {
            Rule::DocLine => "every .rs file opens with a `//!` line (its first non-empty line)",
            Rule::CodeMap => {
                "the code map in docs/ARCHITECTURE.md names every source file, and only files \
                 that exist (the rule is stated at the top of the map)"
            }
            Rule::Purity => {
                "pure code reads no clock, files, network, environment or entropy \
                 (xtask/src/tidy/purity.rs lists what is forbidden and what is allowed)"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule: Rule,
    /// Where: a workspace-relative path, with `:line` when there is one.
    pub place: String,
    pub detail: String,
}

/// A workspace member: its directory relative to the root (`light-client/bench`) and its
/// package name (`light-client-bench`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crate {
    pub dir: String,
    pub name: String,
}

/// A tracked Rust file: workspace-relative path with `/` separators, and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

pub fn run(ws: &Workspace) -> Result<()> {
    let files = tracked_rust_files(&ws.root)?;
    let crates = workspace_crates(ws)?;
    let doc = std::fs::read_to_string(ws.root.join(MAP_DOC))
        .with_context(|| format!("reading {MAP_DOC}"))?;
    let exists = |p: &str| ws.root.join(p).exists();
    let problems = check(&files, &crates, &doc, &exists);
    if problems.is_empty() {
        println!(
            "    {} Rust files: all open with `//!`, all on the code map; pure code is pure",
            files.len()
        );
        return Ok(());
    }
    print!("{}", report(&problems));
    bail!(
        "tidy found {} problem{} (listed above)",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    )
}

/// All rules over the given tree. `exists` tells whether a workspace-relative path exists.
pub fn check(
    files: &[SourceFile],
    crates: &[Crate],
    doc: &str,
    exists: &dyn Fn(&str) -> bool,
) -> Vec<Problem> {
    let mut problems = doc_lines(files);
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    problems.extend(code_map::check(&paths, crates, doc, exists));
    problems.extend(purity::check(files));
    // Stable: within a rule, problems stay in file and line order.
    problems.sort_by_key(|p| p.rule);
    problems
}

/// Rule 1: the first non-empty line of every file is a `//!` inner doc comment.
fn doc_lines(files: &[SourceFile]) -> Vec<Problem> {
    files
        .iter()
        .filter_map(|f| {
            let first = f.text.lines().find(|l| !l.trim().is_empty());
            match first {
                Some(l) if l.trim_start().starts_with("//!") => None,
                Some(l) => Some(Problem {
                    rule: Rule::DocLine,
                    place: f.path.clone(),
                    detail: format!("first line is `{}`", shorten(l.trim(), 60)),
                }),
                None => Some(Problem {
                    rule: Rule::DocLine,
                    place: f.path.clone(),
                    detail: "the file is empty".into(),
                }),
            }
        })
        .collect()
}

/// The problems as text, grouped by rule.
pub fn report(problems: &[Problem]) -> String {
    let mut by_rule: BTreeMap<Rule, Vec<&Problem>> = BTreeMap::new();
    for p in problems {
        by_rule.entry(p.rule).or_default().push(p);
    }
    let mut out = String::new();
    for (rule, list) in by_rule {
        out.push_str(&format!("\n    {} ({}):\n", rule.title(), list.len()));
        for p in list {
            out.push_str(&format!("      {}: {}\n", p.place, p.detail));
        }
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Paths that are not source code even though they end in `.rs`: build output, fuzz corpora
/// (inputs, whatever their name) and generated code (marked `@generated` in its first lines,
/// as code generators do).
fn is_skipped(path: &str, text: &str) -> bool {
    let in_dir = |dir: &str| path.split('/').any(|p| p == dir);
    in_dir("target")
        || (in_dir("fuzz") && (in_dir("corpus") || in_dir("artifacts")))
        || path.starts_with("src-tauri/gen/")
        || text.lines().take(5).any(|l| l.contains("@generated"))
}

fn tracked_rust_files(root: &Path) -> Result<Vec<SourceFile>> {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--", "*.rs"])
        .current_dir(root)
        .output()
        .context("could not run `git ls-files`")?;
    if !out.status.success() {
        bail!(
            "`git ls-files` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut files = Vec::new();
    for path in String::from_utf8_lossy(&out.stdout).split('\0') {
        if path.is_empty() {
            continue;
        }
        // Deleted in the work tree but not yet in the index: not part of the tree being checked.
        let Ok(text) = std::fs::read_to_string(root.join(path)) else {
            continue;
        };
        if !is_skipped(path, &text) {
            files.push(SourceFile {
                path: path.to_string(),
                text,
            });
        }
    }
    Ok(files)
}

fn workspace_crates(ws: &Workspace) -> Result<Vec<Crate>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(&ws.root)
        .output()
        .context("could not run `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let root = ws.root.canonicalize()?;
    let mut crates = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let (Some(name), Some(manifest)) =
            (package["name"].as_str(), package["manifest_path"].as_str())
        else {
            continue;
        };
        let dir = Path::new(manifest)
            .parent()
            .and_then(|d| d.canonicalize().ok())
            .and_then(|d| d.strip_prefix(&root).ok().map(Path::to_path_buf))
            .with_context(|| format!("{manifest} is outside the workspace"))?;
        crates.push(Crate {
            dir: dir.to_string_lossy().replace('\\', "/"),
            name: name.to_string(),
        });
    }
    Ok(crates)
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

    #[test]
    fn doc_line_rule() {
        let files = [
            file("a/src/lib.rs", "\n\n//! The crate.\nuse x;\n"),
            file("a/src/b.rs", "  //! Indented is fine.\n"),
            file("a/src/c.rs", "// A plain comment.\n//! Then a doc line.\n"),
            file("a/src/d.rs", "use std::fmt;\n"),
            file("a/src/e.rs", "\n \n"),
            file(
                "a/src/f.rs",
                "/// An outer doc comment is not the file's.\nfn f() {}\n",
            ),
        ];
        let places: Vec<_> = doc_lines(&files)
            .into_iter()
            .map(|p| format!("{}: {}", p.place, p.detail))
            .collect();
        assert_eq!(
            places,
            [
                "a/src/c.rs: first line is `// A plain comment.`",
                "a/src/d.rs: first line is `use std::fmt;`",
                "a/src/e.rs: the file is empty",
                "a/src/f.rs: first line is `/// An outer doc comment is not the file's.`",
            ]
        );
    }

    #[test]
    fn skipped_paths() {
        assert!(is_skipped("target/debug/build/x/out/gen.rs", ""));
        assert!(is_skipped("registry/fuzz/corpus/tx_decode/seed.rs", ""));
        assert!(is_skipped("src-tauri/gen/schemas/x.rs", ""));
        assert!(is_skipped("a/src/gen.rs", "// @generated by a tool\n"));
        assert!(!is_skipped(
            "registry/fuzz/fuzz_targets/tx_decode.rs",
            "//! x"
        ));
        assert!(!is_skipped("a/src/corpus.rs", "//! x"));
    }

    #[test]
    fn report_groups_every_problem_by_rule() {
        let files = [
            file("a/src/lib.rs", "//! A.\nmod b;\n"),
            file("a/src/b.rs", "use std::fs;\n"),
        ];
        let crates = [Crate {
            dir: "a".into(),
            name: "a".into(),
        }];
        let doc =
            "## Code map\n\n| path | crate | what |\n|---|---|---|\n| `a/` | `a` | `c.rs` |\n";
        let problems = check(&files, &crates, doc, &|_| false);
        let rules: Vec<Rule> = problems.iter().map(|p| p.rule).collect();
        assert_eq!(rules, [Rule::DocLine, Rule::CodeMap, Rule::CodeMap]);
        let text = report(&problems);
        assert!(
            text.contains("a/src/b.rs: first line is `use std::fs;`"),
            "{text}"
        );
        assert!(text.contains("a/src/b.rs: not on the code map"), "{text}");
        assert!(text.contains("`c.rs`"), "{text}");
    }
}
