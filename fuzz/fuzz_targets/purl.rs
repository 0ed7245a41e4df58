//! Purls written and read back (see harness::purl for the input's lines).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    cargo_capgate_fuzz::harness::purl(text);
});
