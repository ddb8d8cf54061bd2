//! Fuzzes the QR payload parser: any bytes give a certificate or an error, never a panic, and
//! whatever parses re-encodes to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    registry::fuzzing::qr_payload(data);
});
