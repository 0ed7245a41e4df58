//! Bad input: errors exit 2 with a message naming the file; source that
//! cannot be analysed is reported as `unanalyzed` and never crashes.

use crate::util::{self, assert_markers, check_fixture, package, run, scan_dir, strings};

fn assert_error_naming(args: &[&str], needle: &str) {
    let r = run(args);
    r.assert_code(2);
    assert!(
        r.stderr.contains(needle),
        "stderr must name {needle:?}\n{}",
        r.describe()
    );
    assert!(
        !r.stdout.contains("\"packages\""),
        "an error must not print a report\n{}",
        r.describe()
    );
}

#[test]
fn unparsable_manifest_exits_2_naming_the_manifest() {
    let m = util::manifest("invalid/bad-manifest");
    assert_error_naming(
        &[
            "scan",
            "--manifest-path",
            &m,
            "--offline",
            "--format",
            "json",
        ],
        "Cargo.toml",
    );
}

#[test]
fn missing_path_dependency_exits_2_naming_the_manifest() {
    let m = util::manifest("invalid/missing-path-dep");
    assert_error_naming(
        &[
            "scan",
            "--manifest-path",
            &m,
            "--offline",
            "--format",
            "json",
        ],
        "Cargo.toml",
    );
}

#[test]
fn nonexistent_manifest_path_exits_2_naming_it() {
    let m = util::fixture_dir("no-such-fixture")
        .join("Cargo.toml")
        .display()
        .to_string();
    assert_error_naming(
        &["scan", "--manifest-path", &m, "--offline"],
        "no-such-fixture",
    );
}

#[test]
fn unknown_option_exits_2() {
    let r = run(&["scan", "--no-such-option"]);
    r.assert_code(2);
}

#[test]
fn human_output_errors_exit_2_too() {
    let m = util::manifest("invalid/bad-manifest");
    assert_error_naming(&["scan", "--manifest-path", &m, "--offline"], "Cargo.toml");
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
            "net.connect",
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
    let report = util::scan("invalid/missing-lib-path", &[]);
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
    let report = scan_dir(tmp.path(), &[]);
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
    let report = util::scan("invalid/deep-nesting", &[]);
    assert_markers("invalid/deep-nesting", &report);
}

#[test]
fn unknown_target_triple_exits_2() {
    let m = util::manifest("features-targets");
    let r = run(&[
        "scan",
        "--manifest-path",
        &m,
        "--offline",
        "--target",
        "no-such-arch-unknown-none",
        "--format",
        "json",
    ]);
    r.assert_code(2);
    assert!(
        !r.stdout.contains("\"packages\""),
        "an error must not print a report\n{}",
        r.describe()
    );
}

#[test]
fn unknown_feature_exits_2() {
    let m = util::manifest("features-targets");
    let r = run(&[
        "scan",
        "--manifest-path",
        &m,
        "--offline",
        "--features",
        "no-such-feature",
        "--format",
        "json",
    ]);
    r.assert_code(2);
    assert!(
        !r.stdout.contains("\"packages\""),
        "an error must not print a report\n{}",
        r.describe()
    );
}
