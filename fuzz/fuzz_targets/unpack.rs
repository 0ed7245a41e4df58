//! Any bytes as a `.crate` archive, unpacked (see harness::unpack).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cargo_capgate_fuzz::harness::unpack(data);
});
