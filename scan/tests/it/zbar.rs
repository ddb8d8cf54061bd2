//! zbar as the reference decoder: runs `zbarimg --xml` once over many image files and reads
//! back the text of every code it finds in each.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether `zbarimg` can be run.
pub fn available() -> bool {
    Command::new("zbarimg").arg("--version").output().is_ok()
}

/// The codes zbar finds in each file, keyed by the path as given.
pub fn decode_files(files: &[PathBuf]) -> HashMap<PathBuf, Vec<String>> {
    let mut found: HashMap<PathBuf, Vec<String>> = HashMap::new();
    // Batches keep the command line short.
    for batch in files.chunks(200) {
        let out = Command::new("zbarimg")
            .args(["--xml", "--quiet", "-Sdisable", "-Sqrcode.enable"])
            .args(batch)
            .output()
            .expect("zbarimg runs");
        let xml = String::from_utf8_lossy(&out.stdout);
        for source in xml.split("<source href='").skip(1) {
            let Some((href, body)) = source.split_once('\'') else {
                continue;
            };
            let href = unescape(href);
            let codes = body
                .split("<![CDATA[")
                .skip(1)
                .filter_map(|d| d.split_once("]]></data>").map(|(t, _)| t.to_owned()))
                .collect();
            found.insert(PathBuf::from(href), codes);
        }
    }
    for f in files {
        found.entry(f.clone()).or_default();
    }
    found
}

fn unescape(s: &str) -> String {
    s.replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The codes zbar finds in one file.
#[allow(dead_code)]
pub fn decode_file(file: &Path) -> Vec<String> {
    decode_files(&[file.to_path_buf()])
        .remove(file)
        .unwrap_or_default()
}
