//! Rule 2: the code map in `docs/ARCHITECTURE.md` names every source file, and names nothing
//! that does not exist.
//!
//! The map has one entry per crate: its row in the code-map table (found by the crate's folder
//! in the first column, e.g. `` `devnet/` ``) and its paragraph under "Inside the crates" (one
//! that opens with the crate's folder or package name in bold, e.g. ``**`devnet`**``). A file
//! `C/P` of crate `C` is on the map when
//!
//! - `P` is `src/lib.rs` or `src/main.rs` (the crate root: the entry itself describes it), or
//! - the crate's entry names `P` relative to the crate's `src/` (`qr/base45.rs`) or to the
//!   crate (`build.rs`, `benches/verify.rs`), in backticks, or
//! - the crate's entry names a folder that holds it, with a trailing slash (`types/`,
//!   `tests/`): the entry then speaks for everything under it (not `src/`, which would be all),
//! - or the document names its full path from the repository root anywhere (`ui/src/backend.rs`).
//!
//! A file belongs to the innermost workspace crate whose folder holds it (`light-client/bench`
//! before `light-client`); a folder that is no workspace member (`registry/fuzz`) is part of the
//! crate around it. In the other direction, every `.rs` file and every `folder/` that a crate's
//! entry names must exist in that crate (relative to it or to its `src/`; a bare file name may
//! stand for a file anywhere in the crate, as in "`verify/` (`signature.rs`: …)").

use std::collections::{BTreeMap, BTreeSet};

use super::{Crate, Problem, Rule, MAP_DOC};

/// What the document says, per crate folder.
#[derive(Debug, Default)]
struct Map {
    /// Crate folder → names in backticks in its table row (after the crate column) and in its
    /// paragraph (after the bold name).
    entries: BTreeMap<String, Vec<String>>,
    /// Every name in backticks anywhere in the document, outside code blocks.
    everywhere: BTreeSet<String>,
    /// Paragraphs that open with a bold name that is no workspace crate.
    unknown: Vec<String>,
}

pub fn check(
    paths: &[&str],
    crates: &[Crate],
    doc: &str,
    exists: &dyn Fn(&str) -> bool,
) -> Vec<Problem> {
    let map = parse(doc, crates);
    let mut problems = Vec::new();
    for key in &map.unknown {
        problems.push(Problem {
            rule: Rule::CodeMap,
            place: MAP_DOC.into(),
            detail: format!("a paragraph opens with `{key}`, which is no workspace crate"),
        });
    }
    let no_names = Vec::new();
    for &path in paths {
        let Some(krate) = owner(path, crates) else {
            if !map.everywhere.contains(path) {
                problems.push(Problem {
                    rule: Rule::CodeMap,
                    place: path.into(),
                    detail: format!(
                        "not inside a workspace crate and not on the code map: name `{path}`"
                    ),
                });
            }
            continue;
        };
        let rel = &path[krate.dir.len() + 1..];
        if rel == "src/lib.rs" || rel == "src/main.rs" || map.everywhere.contains(path) {
            continue;
        }
        let names = map.entries.get(&krate.dir).unwrap_or(&no_names);
        let in_src = rel.strip_prefix("src/");
        let candidates: Vec<&str> = [Some(rel), in_src].into_iter().flatten().collect();
        let named = names.iter().any(|n| {
            candidates.iter().any(|c| {
                n == c || (n.ends_with('/') && n != "/" && n != "src/" && c.starts_with(n.as_str()))
            })
        });
        if !named {
            problems.push(Problem {
                rule: Rule::CodeMap,
                place: path.into(),
                detail: format!(
                    "not on the code map: name `{}` in the entry of `{}` (its table row or its \
                     paragraph), or a folder that holds it",
                    in_src.unwrap_or(rel),
                    krate.dir
                ),
            });
        }
    }
    for krate in crates {
        for name in map.entries.get(&krate.dir).unwrap_or(&no_names) {
            let is_file = name.ends_with(".rs");
            let is_dir = name.ends_with('/') && name.len() > 1;
            if !(is_file || is_dir) || name.contains(char::is_whitespace) {
                continue;
            }
            let trimmed = name.trim_end_matches('/');
            let found = [
                format!("{}/{trimmed}", krate.dir),
                format!("{}/src/{trimmed}", krate.dir),
            ]
            .iter()
            .any(|p| exists(p))
                || (is_file
                    && !name.contains('/')
                    && paths.iter().any(|p| {
                        owner(p, crates) == Some(krate)
                            && p.rsplit('/').next() == Some(name.as_str())
                    }));
            if !found {
                problems.push(Problem {
                    rule: Rule::CodeMap,
                    place: MAP_DOC.into(),
                    detail: format!(
                        "the entry of `{}` names `{name}`, which is not in the crate",
                        krate.dir
                    ),
                });
            }
        }
    }
    problems
}

/// The innermost crate whose folder holds `path`.
fn owner<'c>(path: &str, crates: &'c [Crate]) -> Option<&'c Crate> {
    crates
        .iter()
        .filter(|c| {
            path.strip_prefix(c.dir.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|c| c.dir.len())
}

fn parse(doc: &str, crates: &[Crate]) -> Map {
    let mut map = Map::default();
    let mut in_code = false;
    let mut section = false;
    let mut block: Vec<&str> = Vec::new();
    let lines = doc.lines().chain(std::iter::once(""));
    for line in lines {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        map.everywhere
            .extend(backticked(line).into_iter().map(str::to_string));
        if let Some(heading) = line.strip_prefix("## ") {
            paragraph(&block, crates, &mut map);
            block.clear();
            section = heading.trim() == "Code map";
            continue;
        }
        if !section {
            continue;
        }
        if line.trim_start().starts_with('|') {
            table_row(line, crates, &mut map);
        } else if line.trim().is_empty() {
            paragraph(&block, crates, &mut map);
            block.clear();
        } else {
            block.push(line);
        }
    }
    map
}

/// `| `dir/` | `crate` | what it is |`: the names in the third column on belong to the crate.
fn table_row(line: &str, crates: &[Crate], map: &mut Map) {
    let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
    let Some(first) = cells.first().and_then(|c| backticked(c).first().copied()) else {
        return;
    };
    let Some(dir) = first.strip_suffix('/') else {
        return;
    };
    if !crates.iter().any(|c| c.dir == dir) {
        return; // `assets/`, `docs/`: folders that are no crate.
    }
    let names = cells
        .iter()
        .skip(2)
        .flat_map(|c| backticked(c))
        .map(str::to_string);
    map.entries
        .entry(dir.to_string())
        .or_default()
        .extend(names);
}

/// A paragraph that opens with ``**`name`**``: its other names belong to that crate.
fn paragraph(block: &[&str], crates: &[Crate], map: &mut Map) {
    let text = block.join("\n");
    if !text.trim_start().starts_with("**`") {
        return;
    }
    let names = backticked(&text);
    let Some((key, rest)) = names.split_first() else {
        return;
    };
    match crates.iter().find(|c| c.dir == *key || c.name == *key) {
        Some(krate) => map
            .entries
            .entry(krate.dir.clone())
            .or_default()
            .extend(rest.iter().map(|s| s.to_string())),
        None => map.unknown.push(key.to_string()),
    }
}

/// The spans between pairs of single backticks.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
# Title

Intro naming `other/src/x.rs` and `ui/src/backend.rs`.

```
| `fake/` | `fake` | `in-code-block.rs` |
```

## Code map

| path | crate | what it is |
|---|---|---|
| `Cargo.toml` | — | the workspace |
| `core/` | `core-lib` | `lib.rs`, `util.rs`, `build.rs` |
| `core/bench/` | `core-bench` | `benches/speed.rs` |
| `docs/` | — | `nothing.rs` is not checked here |

### Inside the crates

**`core-lib`**: `types.rs` + `types/` (all of it), `deep/a/b.rs`.
Tests in `tests/`, fuzz targets in `fuzz/`.

**`app`**: `main.rs`.

## Invariants

- `app/src/late.rs` is named from the root.
";

    fn crates() -> Vec<Crate> {
        [
            ("core", "core-lib"),
            ("core/bench", "core-bench"),
            ("app", "tradeseal-app"),
        ]
        .into_iter()
        .map(|(dir, name)| Crate {
            dir: dir.into(),
            name: name.into(),
        })
        .collect()
    }

    fn missing(paths: &[&str], doc: &str, exists: &dyn Fn(&str) -> bool) -> Vec<String> {
        check(paths, &crates(), doc, exists)
            .into_iter()
            .map(|p| format!("{}: {}", p.place, p.detail))
            .collect()
    }

    const ON_MAP: &[&str] = &[
        "core/src/lib.rs",
        "core/src/util.rs",
        "core/build.rs",
        "core/src/types.rs",
        "core/src/types/x.rs",
        "core/src/types/y/z.rs",
        "core/src/deep/a/b.rs",
        "core/tests/it/main.rs",
        "core/fuzz/fuzz_targets/t.rs",
        "core/bench/src/lib.rs",
        "core/bench/benches/speed.rs",
        "app/src/main.rs",
        "app/src/late.rs",
    ];

    #[test]
    fn every_named_file_passes() {
        assert_eq!(missing(ON_MAP, DOC, &|_| true), Vec::<String>::new());
    }

    #[test]
    fn unnamed_files_fail() {
        let paths = [
            "core/src/unnamed.rs",
            "core/src/deep/a/other.rs", // `deep/a/b.rs` names one file, not its folder
            "core/benches/speed.rs",    // named for core/bench, not for core
            "core/bench/src/extra.rs",  // core-lib's `src/…` names do not reach into core/bench
            "app/src/lib.rs",           // a crate root: fine
            "app/src/util.rs",          // `util.rs` is core's, not app's
            "loose.rs",                 // no crate
            "other/src/x.rs",           // no crate, but named from the root
        ];
        assert_eq!(
            missing(&paths, DOC, &|_| true),
            [
                "core/src/unnamed.rs: not on the code map: name `unnamed.rs` in the entry of \
                 `core` (its table row or its paragraph), or a folder that holds it",
                "core/src/deep/a/other.rs: not on the code map: name `deep/a/other.rs` in the \
                 entry of `core` (its table row or its paragraph), or a folder that holds it",
                "core/benches/speed.rs: not on the code map: name `benches/speed.rs` in the \
                 entry of `core` (its table row or its paragraph), or a folder that holds it",
                "core/bench/src/extra.rs: not on the code map: name `extra.rs` in the entry of \
                 `core/bench` (its table row or its paragraph), or a folder that holds it",
                "app/src/util.rs: not on the code map: name `util.rs` in the entry of `app` \
                 (its table row or its paragraph), or a folder that holds it",
                "loose.rs: not inside a workspace crate and not on the code map: name `loose.rs`",
            ]
        );
    }

    #[test]
    fn src_folder_does_not_cover_everything() {
        let doc = "## Code map\n\n**`app`**: `src/`, `./`, `/`.\n";
        let problems = missing(&["app/src/a.rs"], doc, &|_| true);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn names_of_missing_files_fail() {
        let exists = |p: &str| {
            ON_MAP
                .iter()
                .any(|f| f == &p || f.starts_with(&format!("{p}/")))
        };
        // `b.rs` alone stands for `deep/a/b.rs`; `not a path/` is prose, not a name.
        let doc = DOC
            .replace(
                "`util.rs`",
                "`util.rs`, `b.rs`, `gone.rs`, `gone/`, `not a path/`",
            )
            .replace(
                "**`app`**",
                "**`nope`**: a crate that is not there.\n\n**`app`**",
            );
        assert_eq!(
            missing(ON_MAP, &doc, &exists),
            [
                "docs/ARCHITECTURE.md: a paragraph opens with `nope`, which is no workspace crate",
                "docs/ARCHITECTURE.md: the entry of `core` names `gone.rs`, which is not in the \
                 crate",
                "docs/ARCHITECTURE.md: the entry of `core` names `gone/`, which is not in the crate",
            ]
        );
    }

    #[test]
    fn code_blocks_and_other_sections_are_not_entries() {
        let map = parse(DOC, &crates());
        assert!(!map.everywhere.contains("in-code-block.rs"));
        assert!(!map.entries.contains_key("fake"));
        assert!(!map.entries.contains_key("docs"));
        assert_eq!(map.entries["core/bench"], ["benches/speed.rs"]);
        assert!(map.entries["core"].contains(&"tests/".to_string()));
        assert!(!map.entries["app"].contains(&"app/src/late.rs".to_string()));
    }
}
