//! The same input gives the same findings, down to the evidence text, run
//! after run: no choice may depend on a hash map's iteration order (each
//! std `HashMap`/`HashSet` is seeded afresh, so repeating a scan in one
//! process exposes one that does).

use cargo_capgate::model::Edition;

use crate::fuzz_regressions::harness;

#[test]
fn a_method_whose_receiver_may_be_either_named_type_names_the_same_one_every_time() {
    // `exists` is a method of both `Path` and `PathBuf`, and the function
    // names both: the evidence must not depend on which is seen first.
    let source = b"
        use std::path::{Path, PathBuf};
        pub fn f(a: &Path, b: PathBuf, c: std::fs::File) -> bool {
            let _ = (b, c);
            a.exists() && a.is_file()
        }
    ";
    let harness = harness::ScanHarness::new();
    let first = harness.scan(source, Edition::E2021);
    assert!(
        first
            .iter()
            .any(|f| f.evidence == "std::path::Path::exists"),
        "{first:?}"
    );
    for _ in 0..24 {
        assert_eq!(harness.scan(source, Edition::E2021), first);
    }
}
