//! Any text as a CycloneDX JSON bill of materials.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    cargo_capgate_fuzz::harness::bom(text);
});
