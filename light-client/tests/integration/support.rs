//! Loading test data from `testdata/`.

use std::path::PathBuf;

use light_client::{parse_light_block, LightBlock};

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

pub fn read(rel: &str) -> String {
    let path = testdata(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A Celestia mocha-4 light block (header, commit and validator set) at `height`.
pub fn celestia(height: u64) -> LightBlock {
    parse_light_block(&read(&format!("celestia-mocha-4/{height}.json")))
        .unwrap_or_else(|e| panic!("celestia {height}: {e}"))
}
