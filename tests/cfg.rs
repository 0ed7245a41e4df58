//! `cfg` evaluation: code that the build's target and features leave out is
//! not a capability; unknown conditions keep code; `--all-targets-cfg` keeps
//! every platform's code.
//!
//! In-process: what the scanner keeps is a library matter ([`Scan`]).

use std::collections::BTreeSet;

use crate::util::{self, LINUX, Scan};

const FIXTURE: &str = "cfg";

fn findings(report: &serde_json::Value) -> BTreeSet<(String, u64, String)> {
    util::package(report, "cfg-eval")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["capability"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, u64, &str)]) -> BTreeSet<(String, u64, String)> {
    items
        .iter()
        .map(|(f, l, c)| (f.to_string(), *l, c.to_string()))
        .collect()
}

#[test]
fn linux_with_default_features_matches_the_markers() {
    let report = Scan::fixture(FIXTURE).target(LINUX).report();
    util::assert_markers(FIXTURE, &report);
}

#[test]
fn windows_with_a_feature_sees_windows_code_and_the_feature() {
    let report = Scan::fixture(FIXTURE)
        .target("x86_64-pc-windows-msvc")
        .features("net")
        .report();
    assert_eq!(
        findings(&report),
        set(&[
            ("src/lib.rs", 9, "fs.read"),
            ("src/lib.rs", 24, "net.connect"),
            ("src/lib.rs", 35, "process.spawn"),
            ("src/lib.rs", 40, "env.read"),
            // cfg_if!: the Windows branch is the first that holds.
            ("src/lib.rs", 58, "fs.write"),
            // The cfg_attr path holds on Windows, so only that file is the module.
            ("src/platform_windows.rs", 2, "fs.read"),
            // `cfg_net!` compiles its module with the feature on.
            ("src/net_client.rs", 4, "net.connect"),
            // A file whose own `#![cfg(windows)]` holds.
            ("src/windows_file.rs", 4, "fs.write"),
        ])
    );
}

#[test]
fn all_targets_cfg_keeps_every_platform_but_still_honours_features() {
    let report = Scan::fixture(FIXTURE).all_targets_cfg().report();
    assert_eq!(
        findings(&report),
        set(&[
            ("src/lib.rs", 9, "fs.read"),
            ("src/lib.rs", 14, "fs.read"),
            ("src/lib.rs", 19, "env.write"),
            ("src/lib.rs", 29, "env.read"),
            ("src/lib.rs", 35, "process.spawn"),
            ("src/lib.rs", 40, "env.read"),
            // Every cfg_if! branch may be the one compiled somewhere.
            ("src/lib.rs", 58, "fs.write"),
            ("src/lib.rs", 60, "fs.write"),
            ("src/lib.rs", 62, "env.read"),
            ("src/platform.rs", 2, "env.read"),
            ("src/platform_windows.rs", 2, "fs.read"),
            ("src/windows_file.rs", 4, "fs.write"),
        ])
    );
}

#[test]
fn without_a_build_script_docsrs_miri_test_and_builtins_stay_precise() {
    // The hostile cfg-build-script-* cases count this code because a build
    // script could switch it on; with no build script nothing can.
    let fixture = "cfg-without-build-script";
    let report = Scan::fixture(fixture).target(LINUX).report();
    util::assert_markers(fixture, &report);
}
