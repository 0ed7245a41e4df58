//! Generated token trees (see tokens.rs) as a crate's root file, scanned.
#![no_main]

use cargo_capgate_fuzz::harness::ScanHarness;
use cargo_capgate_fuzz::tokens::SourceTrees;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static HARNESS: ScanHarness = ScanHarness::new();
}

fuzz_target!(|source: SourceTrees| {
    let text = source.render();
    HARNESS.with(|h| h.scan(text.as_bytes(), source.edition));
});
