//! Fuzzes the transaction decoder and `check_tx` on a demo chain.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    registry::fuzzing::tx_decode(data);
});
