//! Bad input: errors exit 2 with a message naming the file (the binary's
//! contract, run on the binary); source that cannot be analysed is reported
//! as `unanalyzed` (in-process, through the library) and never crashes the
//! binary, however deep its nesting.

use crate::util::{self, Scan, assert_markers, check_fixture, package, run, run_on, strings};

/// The binary's run must be an error (exit 2) naming `needle` on stderr,
/// with no report on stdout.
fn assert_error_naming(r: &util::Run, needle: &str) {
    r.assert_error(&[needle])
        .assert_stdout_lacks(&["\"packages\""], "an error must not print a report");
}

/// `scan --manifest-path fixtures/NAME/Cargo.toml --offline ARGS...`.
fn scan_fixture(name: &str, args: &[&str]) -> util::Run {
    run_on("scan", &util::fixture_dir(name), args)
}

#[test]
fn unparsable_manifest_exits_2_naming_the_manifest() {
    assert_error_naming(
        &scan_fixture("invalid/bad-manifest", &["--format", "json"]),
        "Cargo.toml",
    );
}

#[test]
fn missing_path_dependency_exits_2_naming_the_manifest() {
    assert_error_naming(
        &scan_fixture("invalid/missing-path-dep", &["--format", "json"]),
        "Cargo.toml",
    );
}

#[test]
fn nonexistent_manifest_path_exits_2_naming_it() {
    assert_error_naming(&scan_fixture("no-such-fixture", &[]), "no-such-fixture");
}

#[test]
fn unknown_option_exits_2() {
    let r = run(&["scan", "--no-such-option"]);
    r.assert_code(2);
}

#[test]
fn human_output_errors_exit_2_too() {
    assert_error_naming(&scan_fixture("invalid/bad-manifest", &[]), "Cargo.toml");
}

#[test]
fn non_utf8_file_is_unanalyzed_and_the_rest_is_scanned() {
    let report = check_fixture("invalid/non-utf8");
    assert_eq!(
        strings(&package(&report, "non-utf8")["capabilities"]),
        ["env.read", "unanalyzed"]
    );
}

#[test]
fn untokenizable_files_are_unanalyzed_and_the_rest_is_scanned() {
    let report = check_fixture("invalid/unlexable");
    assert_eq!(
        strings(&package(&report, "unlexable")["capabilities"]),
        ["env.read", "unanalyzed"]
    );
}

#[test]
fn edition_2015_file_syn_rejects_is_analysed_by_token_fallback() {
    let report = check_fixture("invalid/edition2015-bare-trait");
    let caps = strings(&package(&report, "edition2015-bare-trait")["capabilities"]);
    assert!(
        !caps.contains(&"unanalyzed".to_string()),
        "a file that tokenizes is not unanalyzed: {caps:?}"
    );
    assert_eq!(
        caps,
        [
            "env.read",
            "env.write",
            "ffi",
            "fs.read",
            "net.listen",
            "process.spawn",
            "unsafe"
        ]
    );
}

#[test]
fn missing_module_file_is_unanalyzed_at_the_mod_line() {
    let report = check_fixture("invalid/missing-mod");
    assert_eq!(
        strings(&package(&report, "missing-mod")["capabilities"]),
        ["env.read", "fs.write", "unanalyzed"]
    );
}

#[test]
fn missing_target_root_file_is_unanalyzed() {
    let report = Scan::fixture("invalid/missing-lib-path").report();
    util::assert_packages(&report, &["missing-lib-path"]);
    let p = package(&report, "missing-lib-path");
    // src/lib.rs exists but is not the library root: nothing of it is scanned.
    assert_eq!(strings(&p["capabilities"]), ["unanalyzed"], "{p}");
    let findings = p["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["capability"], "unanalyzed", "{f}");
        assert!(
            f["file"].is_null() || f["file"] == "src/nope.rs" || f["file"] == "Cargo.toml",
            "the finding points at the missing root: {f}"
        );
    }
}

/// Replaces src/deep.rs of a temporary copy of fixtures/invalid/deep-nesting
/// and scans it: exit 0 and either a complete analysis or a clean
/// `unanalyzed` for that file, never a crash.
fn scan_deep(body: &str) {
    let tmp = util::copy_fixture("invalid/deep-nesting");
    let first_line = "pub fn before() { let _ = std::fs::read(\"b\"); }\n";
    std::fs::write(
        tmp.path().join("src/deep.rs"),
        format!("{first_line}{body}"),
    )
    .unwrap();
    let report = util::scan_dir(tmp.path(), &[]);
    util::assert_packages(&report, &["deep-nesting"]);
    let p = package(&report, "deep-nesting");
    let deep: Vec<_> = p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"] == "src/deep.rs")
        .collect();
    let analysed = deep
        .iter()
        .any(|f| f["capability"] == "fs.read" && f["line"] == 1);
    let unanalyzed = deep.iter().any(|f| f["capability"] == "unanalyzed");
    assert!(
        analysed || unanalyzed,
        "src/deep.rs must be analysed or reported unanalyzed: {deep:?}"
    );
    for f in &deep {
        assert!(
            (f["capability"] == "fs.read" && f["line"] == 1) || f["capability"] == "unanalyzed",
            "unexpected finding in src/deep.rs: {f}"
        );
    }
    // The rest of the crate is still scanned: check the lib.rs marker.
    let lib: Vec<_> = p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"] == "src/lib.rs")
        .collect();
    assert!(
        lib.iter().any(|f| f["capability"] == "env.read"),
        "src/lib.rs still scanned: {lib:?}"
    );
}

const DEPTH: usize = 100_000;

#[test]
fn deeply_nested_parentheses_do_not_overflow_the_stack() {
    let body = format!(
        "pub fn deep() -> u32 {{\n    {}1{}\n}}\n",
        "(".repeat(DEPTH),
        ")".repeat(DEPTH)
    );
    scan_deep(&body);
}

#[test]
fn deeply_nested_macro_argument_does_not_overflow_the_stack() {
    let body = format!(
        "macro_rules! m {{ ($($t:tt)*) => {{ 0 }} }}\npub fn deep() -> u32 {{\n    m!({}1{})\n}}\n",
        "[".repeat(DEPTH),
        "]".repeat(DEPTH)
    );
    scan_deep(&body);
}

#[test]
fn deep_nesting_template_itself_matches_its_markers() {
    let report = Scan::fixture("invalid/deep-nesting").report();
    assert_markers("invalid/deep-nesting", &report);
}

/// `scan ARGS --format json` on fixtures/features-targets must exit 2 and
/// print no report.
fn assert_features_targets_error(args: &[&str]) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    scan_fixture("features-targets", &all)
        .assert_code(2)
        .assert_stdout_lacks(&["\"packages\""], "an error must not print a report");
}

#[test]
fn unknown_target_triple_exits_2() {
    assert_features_targets_error(&["--target", "no-such-arch-unknown-none"]);
}

#[test]
fn unknown_feature_exits_2() {
    assert_features_targets_error(&["--features", "no-such-feature"]);
}
