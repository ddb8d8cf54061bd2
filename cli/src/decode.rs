//! `tradeseal-cli decode`: the text of every QR code in image files and PDFs, through the
//! decoder the app uses (`tradeseal-scan`). One JSON object per file, one per line.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};

/// Arguments of `decode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image files (PNG, JPEG, WebP) or PDFs.
    #[arg(value_name = "IMAGE", required = true)]
    files: Vec<PathBuf>,
}

/// Exit code when a file could not be read.
const BAD_INPUT: u8 = 2;

/// The line printed for one file.
fn line(file: &str, result: Result<tradeseal_scan::Scan, tradeseal_scan::ScanError>) -> Value {
    match result {
        Ok(scan) => {
            let codes: Vec<&str> = scan.codes.iter().map(|c| c.text.as_str()).collect();
            let mut v = json!({"file": file, "codes": codes});
            if let Some(hash) = scan.pdf_sha256 {
                v["sha256"] = json!(hex::encode(hash));
            }
            v
        }
        Err(e) => json!({
            "file": file,
            "error": {"kind": e.kind(), "message": e.to_string()},
        }),
    }
}

/// Decodes every file; exit 0 when each was read (with or without codes), 2 otherwise.
pub fn run(args: &Args) -> ExitCode {
    let mut failed = false;
    for path in &args.files {
        let name = path.display().to_string();
        let result = tradeseal_scan::decode_file(path);
        if let Err(e) = &result {
            eprintln!("error: {name}: {e}");
            failed = true;
        }
        println!("{}", line(&name, result));
    }
    if failed {
        ExitCode::from(BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}
