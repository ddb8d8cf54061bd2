//! Fuzzes the decoders of every state value a wallet reads from proofs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    registry::fuzzing::state_values(data);
});
