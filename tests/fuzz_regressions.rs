//! Inputs the fuzzer (fuzz/) once broke capgate with, run again without
//! the fuzzer: each file in `fixtures/fuzz-regressions/<target>/` goes
//! through the same harness as the fuzz target of that name (the harness
//! source is shared, fuzz/src/harness.rs), which panics where capgate
//! crashed or broke a promise. `scan/` holds Rust source (for both scan
//! targets); the others hold their target's raw input.

use std::path::{Path, PathBuf};

use cargo_capgate::model::Edition;

#[path = "../fuzz/src/harness.rs"]
pub(crate) mod harness;

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz-regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("directory entry").path())
                .collect()
        })
        .unwrap_or_default();
    files.retain(|f| f.is_file());
    files.sort();
    files
}

fn text(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).expect("read a regression")).into_owned()
}

#[test]
fn fuzz_regressions_scan_the_same_each_time_without_crashing() {
    scan_each_twice("scan");
}

/// Inputs that run into a crate-wide scan limit, which takes a minute or
/// more in a debug build: `cargo nextest run --run-ignored only -E
/// 'test(slow_fuzz)'` (or in release, `--release`).
#[test]
#[ignore = "a minute or more in a debug build: inputs that reach the crate-wide scan limits"]
fn slow_fuzz_regressions_scan_the_same_each_time_without_crashing() {
    scan_each_twice("scan-slow");
}

fn scan_each_twice(directory: &str) {
    let harness = harness::ScanHarness::new();
    for path in inputs(directory) {
        let source = std::fs::read(&path).expect("read a regression");
        let first = harness.scan(&source, Edition::E2021);
        let again = harness.scan(&source, Edition::E2021);
        assert_eq!(
            first,
            again,
            "{}: the scan is not deterministic",
            path.display()
        );
    }
}

#[test]
fn fuzz_regressions_of_the_policy_parser() {
    for path in inputs("policy") {
        harness::policy(&text(&path));
    }
}

#[test]
fn fuzz_regressions_of_the_bom_reader() {
    for path in inputs("bom") {
        harness::bom(&text(&path));
    }
}

#[test]
fn fuzz_regressions_of_purls() {
    for path in inputs("purl") {
        harness::purl(&text(&path));
    }
}

#[test]
fn fuzz_regressions_of_crate_unpacking() {
    for path in inputs("unpack") {
        harness::unpack(&std::fs::read(&path).expect("read a regression"));
    }
}
