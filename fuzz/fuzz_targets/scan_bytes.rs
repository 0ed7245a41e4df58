//! Any bytes as a crate's root source file, scanned.
#![no_main]

use cargo_capgate::model::Edition;
use cargo_capgate_fuzz::harness::ScanHarness;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static HARNESS: ScanHarness = ScanHarness::new();
}

fuzz_target!(|data: &[u8]| {
    HARNESS.with(|h| h.scan(data, Edition::E2021));
});
