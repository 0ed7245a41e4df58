//! Any text as a policy (capgate.toml, and Cargo.toml metadata).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    cargo_capgate_fuzz::harness::policy(text);
});
