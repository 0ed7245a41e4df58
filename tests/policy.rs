//! Policies: `check` against `capgate.toml` (or `--policy`, or the root
//! manifest's metadata), policy errors located at `FILE:LINE:COL`, `init`
//! and `allow`.
//!
//! The `policy` fixture's packages and what they do (see its sources):
//!
//! | package | version | code | build script |
//! | --- | --- | --- | --- |
//! | app (member) | 0.1.0 | nothing | |
//! | files (member) | 0.1.0 | fs.read `src/lib.rs:4:5`, fs.write `src/lib.rs:8:13` | |
//! | holey (member) | 0.1.0 | unanalyzed `src/lib.rs:3:1` | |
//! | buildy | 0.1.0 | build `build.rs:1:1` | env.read `build.rs:3:19` |
//! | dual | 1.0.0 | nothing | |
//! | dual | 2.0.0 | net.connect `src/lib.rs:6:5` | |
//!
//! Every test works on a copy of its fixture in a temporary directory:
//! `check`, `init` and `allow` may write (a policy, or a Cargo.lock through
//! `cargo metadata`), and the repository must never be written.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::{self, Run, run};

const FIXTURE: &str = "policy";
/// Number of packages in the `policy` fixture's graph (`dual` counts twice).
const PACKAGES: usize = 6;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A copy of a fixture workspace in a temporary directory
/// ([`util::TempWorkspace`]), with the `check` runs these tests make.
struct Workspace(util::TempWorkspace);

impl std::ops::Deref for Workspace {
    type Target = util::TempWorkspace;
    fn deref(&self) -> &util::TempWorkspace {
        &self.0
    }
}

impl Workspace {
    fn copy(fixture: &str) -> Workspace {
        Workspace(util::TempWorkspace::copy(fixture))
    }

    /// `check`, with `--policy ROOT/POLICY` when a policy is given (else the
    /// policy is discovered), then `extra`.
    fn check(&self, policy: Option<&str>, extra: &[&str]) -> Run {
        let path;
        let mut args: Vec<&str> = Vec::new();
        if let Some(rel) = policy {
            path = self.path(rel).display().to_string();
            args.push("--policy");
            args.push(&path);
        }
        args.extend_from_slice(extra);
        self.run("check", &args)
    }

    fn check_json(&self, policy: Option<&str>) -> Run {
        self.check(policy, &["--format", "json"])
    }
}

/// (package, version, scope, capability)
type Violation = (String, String, String, String);

fn violation(package: &str, version: &str, scope: &str, capability: &str) -> Violation {
    (
        package.to_string(),
        version.to_string(),
        scope.to_string(),
        capability.to_string(),
    )
}

fn schema_validator() -> jsonschema::Validator {
    crate::schema::validator("check")
}

fn package_version<'a>(report: &'a Value, name: &str, version: &str) -> &'a Value {
    util::packages(report)
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("package `{name} {version}` is not in the report"))
}

fn sorted_json(values: impl IntoIterator<Item = Value>) -> Vec<String> {
    let mut v: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
    v.sort();
    v
}

/// Parses the JSON report of `check --format json` and checks what every
/// such report must hold: the scan report's invariants, the repository's
/// schema, one violation per (package, version, scope, capability) whose
/// findings are exactly that package's findings of that capability in that
/// scope, and a verdict that agrees with the violations and the exit code.
/// Returns the report and its set of violations.
fn check_report(r: &Run) -> (Value, BTreeSet<Violation>) {
    let report = r.report();
    let errors: Vec<String> = schema_validator()
        .iter_errors(&report)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "check's report does not match the schema\n{}\n{}",
        errors.join("\n"),
        r.describe()
    );
    let list = report["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("check's report has a `violations` array\n{}", r.describe()));
    let mut set = BTreeSet::new();
    for v in list {
        let field = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("violation `{k}` is a string: {v}"))
                .to_string()
        };
        let (pkg, version, scope, cap) = (
            field("package"),
            field("version"),
            field("scope"),
            field("capability"),
        );
        assert!(
            scope == "code" || scope == "build-script",
            "scope is `code` or `build-script`: {v}"
        );
        assert!(
            set.insert((pkg.clone(), version.clone(), scope.clone(), cap.clone())),
            "one violation per package, version, scope and capability; duplicate: {v}"
        );
        let p = package_version(&report, &pkg, &version);
        let scope_findings = if scope == "code" {
            &p["findings"]
        } else {
            &p["build_script"]["findings"]
        };
        let expected = sorted_json(
            scope_findings
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["capability"] == cap.as_str())
                .cloned(),
        );
        let actual = sorted_json(
            v["findings"]
                .as_array()
                .unwrap_or_else(|| panic!("violation findings is an array: {v}"))
                .iter()
                .cloned(),
        );
        assert!(!actual.is_empty(), "a violation carries its evidence: {v}");
        assert_eq!(
            actual, expected,
            "the findings of violation {pkg} {version} {scope} {cap} are the package's {cap} findings in that scope"
        );
    }
    let verdict = if set.is_empty() { "pass" } else { "fail" };
    assert_eq!(report["verdict"], verdict, "verdict\n{}", r.describe());
    assert_eq!(
        r.code,
        Some(if set.is_empty() { 0 } else { 1 }),
        "exit code agrees with the verdict\n{}",
        r.describe()
    );
    (report, set)
}

/// `check --policy policies/POLICY --format json` on a copy of the policy
/// fixture: exit code, verdict and exactly these violations.
fn expect_violations(policy: &str, expected: &[(&str, &str, &str, &str)]) {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check_json(Some(policy));
    r.assert_code(if expected.is_empty() { 0 } else { 1 });
    let (_, actual) = check_report(&r);
    let expected: BTreeSet<Violation> = expected
        .iter()
        .map(|(p, v, s, c)| violation(p, v, s, c))
        .collect();
    assert_eq!(actual, expected, "{policy}: violations\n{}", r.describe());
}

/// The last non-empty line of stdout.
fn summary_line(r: &Run) -> String {
    r.stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("stdout is empty\n{}", r.describe()))
        .trim()
        .to_string()
}

fn assert_pass_summary(r: &Run, packages: usize) {
    assert_eq!(
        summary_line(r),
        match packages {
            1 => "the 1 package is within its permissions".to_owned(),
            n => format!("all {n} packages are within their permissions"),
        },
        "summary line\n{}",
        r.describe()
    );
}

/// `N packages exceed their permissions: a, b` (any order; for one package
/// the singular is accepted too; a name may carry its version).
fn assert_fail_summary(r: &Run, names: &[&str]) {
    let line = summary_line(r);
    let (head, list) = line.split_once(": ").unwrap_or_else(|| {
        panic!(
            "summary `N packages exceed their permissions: a, b`\n{}",
            r.describe()
        )
    });
    let n = names.len();
    let accepted: Vec<String> = if n == 1 {
        vec![
            "1 packages exceed their permissions".into(),
            "1 package exceeds its permissions".into(),
            "1 package exceeds their permissions".into(),
        ]
    } else {
        vec![format!("{n} packages exceed their permissions")]
    };
    assert!(
        accepted.iter().any(|a| a == head),
        "summary line {line:?} must start with {:?}\n{}",
        accepted[0],
        r.describe()
    );
    let mut got: Vec<String> = list
        .split(", ")
        .map(|s| s.trim().split([' ', '@']).next().unwrap().to_string())
        .collect();
    got.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "packages named in the summary\n{}", r.describe());
}

/// Whether `text` contains `loc` (e.g. `src/lib.rs:8:13`) as the end of a
/// path: not preceded by a character that would make it another file name,
/// not followed by another digit.
fn has_location(text: &str, loc: &str) -> bool {
    text.match_indices(loc).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + loc.len()..].chars().next();
        let ok_before = before.is_none_or(|c| !(c.is_alphanumeric() || "_-.".contains(c)));
        let ok_after = after.is_none_or(|c| !c.is_ascii_digit());
        ok_before && ok_after
    })
}

fn assert_location(what: &str, text: &str, loc: &str, r: &Run) {
    assert!(
        has_location(text, loc),
        "{what} must show the location `{loc}`\n{}",
        r.describe()
    );
}

/// Human output of a failing check: the diagnostics of each package (lines
/// naming `NAME VERSION` and its evidence locations) are grouped: once the
/// output moves on to another package it does not come back, and every
/// evidence location is shown under its own package.
fn assert_grouped(r: &Run, groups: &[(&str, &[&str])]) {
    let lines: Vec<&str> = r.stdout.lines().collect();
    let summary = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .expect("stdout is not empty");
    let body = &lines[..summary];
    let mention = |line: &str| -> Vec<usize> {
        groups
            .iter()
            .enumerate()
            .filter(|(_, (head, _))| line.contains(head))
            .map(|(i, _)| i)
            .collect()
    };
    let mut order: Vec<usize> = Vec::new();
    for line in body {
        for g in mention(line) {
            if order.last() != Some(&g) {
                assert!(
                    !order.contains(&g),
                    "the diagnostics of `{}` are not grouped\n{}",
                    groups[g].0,
                    r.describe()
                );
                order.push(g);
            }
        }
    }
    for (g, (head, locations)) in groups.iter().enumerate() {
        assert!(
            order.contains(&g),
            "stdout must name `{head}`\n{}",
            r.describe()
        );
        for loc in *locations {
            let at = body
                .iter()
                .position(|l| has_location(l, loc))
                .unwrap_or_else(|| panic!("stdout must show `{loc}`\n{}", r.describe()));
            let owner = body[..=at]
                .iter()
                .rev()
                .find_map(|l| mention(l).last().copied());
            assert_eq!(
                owner,
                Some(g),
                "`{loc}` must be shown under `{head}`\n{}",
                r.describe()
            );
        }
    }
}

/// A policy error: nothing on stdout reports a pass (or any report).
fn assert_no_pass(r: &Run) {
    for needle in ["within their permissions", "\"verdict\"", "\"packages\""] {
        assert!(
            !r.stdout.contains(needle),
            "a policy error must not report ({needle:?} on stdout)\n{}",
            r.describe()
        );
    }
}

/// `check --policy invalid/FILE` (human and JSON output) exits 2 with every
/// `FILE:LINE:COL` of `at` and every needle on stderr, and reports nothing.
fn expect_policy_error(file: &str, at: &[(u32, u32)], needles: &[&str]) {
    let ws = Workspace::copy(FIXTURE);
    let rel = format!("invalid/{file}");
    for format in ["human", "json"] {
        let r = ws.check(Some(&rel), &["--format", format]);
        r.assert_code(2);
        for (line, col) in at {
            assert_location("stderr", &r.stderr, &format!("{file}:{line}:{col}"), &r);
        }
        for needle in needles {
            assert!(
                r.stderr.contains(needle),
                "stderr must contain {needle:?}\n{}",
                r.describe()
            );
        }
        assert_no_pass(&r);
    }
}

fn parse_toml(text: &str, what: &str) -> toml::Table {
    text.parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{what} is not valid TOML: {e}\n{text}"))
}

/// `table.KEY...` as a list of strings (`[]` when absent).
fn toml_strings(table: &toml::Table, keys: &[&str]) -> Vec<String> {
    let mut item: Option<&toml::Value> = None;
    let mut current = Some(table);
    for key in keys {
        item = current.and_then(|t| t.get(*key));
        current = item.and_then(|v| v.as_table());
    }
    match item {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .unwrap_or_else(|| panic!("{} is an array: {v}", keys.join(".")))
            .iter()
            .map(|s| s.as_str().expect("a capability name").to_string())
            .collect(),
    }
}

/// The comment of the one line granting `cap` on its own line:
/// `"CAP", # COMMENT`.
fn grant_comment(text: &str, cap: &str) -> String {
    let quoted = format!("\"{cap}\"");
    let hits: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix(quoted.as_str())?;
            let rest = rest.trim_start();
            let rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
            rest.strip_prefix('#').map(str::trim)
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "exactly one line grants {quoted} on its own line followed by a comment\n{text}"
    );
    hits[0].to_string()
}

/// The comment starts with `FILE:LINE` (then maybe `:COL`) and names the
/// evidence.
fn assert_evidence_comment(text: &str, cap: &str, file_line: &str, evidence: &str) {
    let comment = grant_comment(text, cap);
    let ok = comment
        .strip_prefix(file_line)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()));
    assert!(
        ok && comment.contains(evidence),
        "the comment granting {cap} must be `# {file_line} {evidence}`, got `# {comment}`\n{text}"
    );
}

/// The keys of the `[pkg.*]` entries in the order their headers appear.
fn entry_order(text: &str) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("[pkg.") else {
            continue;
        };
        let key = if let Some(quoted) = rest.strip_prefix('"') {
            quoted.split('"').next().unwrap().to_string()
        } else {
            rest.split(['.', ']']).next().unwrap().trim().to_string()
        };
        if order.last() != Some(&key) {
            order.push(key);
        }
    }
    order
}

/// Every fixture workspace directly under `fixtures/` (not `invalid/*`).
fn workspace_fixtures() -> Vec<String> {
    let dir = util::repo_root().join("fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.join("Cargo.toml").is_file())
        // A fixture with its own `.cargo/config.toml` (`vendored`: registry
        // packages from a vendored source, with advisories) resolves only
        // when run from its directory; tests/bom.rs covers it.
        .filter(|p| !p.join(".cargo").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "invalid")
        .collect();
    names.sort();
    names
}

fn snapshot(name: &str) -> String {
    let p = util::repo_root().join("tests/snapshots").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------------------
// The fixture itself
// ---------------------------------------------------------------------------

#[test]
fn policy_fixture_scans_as_its_markers_say_with_two_versions_of_dual() {
    // In-process: the fixture in place (a scan writes nothing).
    let report = util::Scan::fixture(FIXTURE).report();
    util::assert_packages(&report, &["app", "buildy", "dual", "files", "holey"]);
    util::assert_markers(FIXTURE, &report);
    let duals: BTreeSet<&str> = util::packages(&report)
        .iter()
        .filter(|p| p["name"] == "dual")
        .map(|p| p["version"].as_str().unwrap())
        .collect();
    assert_eq!(duals, BTreeSet::from(["1.0.0", "2.0.0"]));
    assert_eq!(util::packages(&report).len(), PACKAGES);
    assert!(util::strings(&package_version(&report, "dual", "1.0.0")["capabilities"]).is_empty());
    assert_eq!(
        util::strings(&package_version(&report, "dual", "2.0.0")["capabilities"]),
        ["net.connect"]
    );
    assert_eq!(util::package(&report, "files")["source"], "workspace");
    assert_eq!(util::package(&report, "buildy")["source"], "path");
}

// ---------------------------------------------------------------------------
// check: verdicts and violations (JSON)
// ---------------------------------------------------------------------------

#[test]
fn check_passes_when_every_package_is_within_its_grants() {
    expect_violations("policies/pass.toml", &[]);
}

#[test]
fn check_fails_on_one_sub_capability_not_granted() {
    // fs.read does not grant fs.write.
    expect_violations(
        "policies/fs-read-only.toml",
        &[("files", "0.1.0", "code", "fs.write")],
    );
}

#[test]
fn check_fails_on_a_build_script_capability_granted_only_at_run_time() {
    expect_violations(
        "policies/build-script-only.toml",
        &[("buildy", "0.1.0", "build-script", "env.read")],
    );
}

#[test]
fn check_reports_one_violation_per_package_scope_and_capability() {
    expect_violations(
        "policies/two-packages.toml",
        &[
            ("files", "0.1.0", "code", "fs.write"),
            ("buildy", "0.1.0", "build-script", "env.read"),
        ],
    );
    expect_violations(
        "policies/empty.toml",
        &[
            ("files", "0.1.0", "code", "fs.read"),
            ("files", "0.1.0", "code", "fs.write"),
            ("buildy", "0.1.0", "code", "build"),
            ("buildy", "0.1.0", "build-script", "env.read"),
            ("dual", "2.0.0", "code", "net.connect"),
            ("holey", "0.1.0", "code", "unanalyzed"),
        ],
    );
}

#[test]
fn version_requirement_in_the_key_grants_only_matching_versions() {
    expect_violations("policies/version-key-pass.toml", &[]);
    expect_violations(
        "policies/version-key-fail.toml",
        &[("dual", "2.0.0", "code", "net.connect")],
    );
}

#[test]
fn version_requirement_in_the_version_key_grants_only_matching_versions() {
    // pass.toml grants dual with `version = "^2"`.
    expect_violations("policies/pass.toml", &[]);
    expect_violations(
        "policies/version-field-fail.toml",
        &[("dual", "2.0.0", "code", "net.connect")],
    );
}

#[test]
fn several_entries_matching_one_package_add_up() {
    expect_violations("policies/additive.toml", &[]);
}

#[test]
fn unanalyzed_source_fails_unless_unanalyzed_is_granted() {
    // pass.toml grants holey `unanalyzed`; here it has every other grant.
    expect_violations(
        "policies/unanalyzed-not-granted.toml",
        &[("holey", "0.1.0", "code", "unanalyzed")],
    );
}

#[test]
fn defaults_cover_packages_and_build_scripts_not_listed() {
    expect_violations("policies/defaults.toml", &[]);
}

#[test]
fn defaults_do_not_extend_a_listed_package() {
    expect_violations(
        "policies/defaults-not-for-listed.toml",
        &[("files", "0.1.0", "code", "fs.write")],
    );
}

// ---------------------------------------------------------------------------
// check: human output and policy discovery
// ---------------------------------------------------------------------------

#[test]
fn human_check_pass_ends_with_the_summary_line() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("policies/pass.toml"), &[]);
    r.assert_code(0);
    assert_pass_summary(&r, PACKAGES);
}

#[test]
fn human_check_names_package_capability_and_evidence_location() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("policies/fs-read-only.toml"), &[]);
    r.assert_code(1);
    r.assert_stdout_has(&["files 0.1.0", "fs.write"]);
    assert_location("stdout", &r.stdout, "src/lib.rs:8:13", &r);
    // fs.read is granted: its evidence is no diagnostic; no other package fails.
    assert!(
        !has_location(&r.stdout, "src/lib.rs:4:5"),
        "granted fs.read is not reported\n{}",
        r.describe()
    );
    r.assert_stdout_lacks(
        &[
            "buildy 0.1.0",
            "dual 2.0.0",
            "dual 1.0.0",
            "holey 0.1.0",
            "app 0.1.0",
        ],
        "within its grants",
    );
    assert_fail_summary(&r, &["files"]);
}

#[test]
fn human_check_shows_build_script_evidence() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("policies/build-script-only.toml"), &[]);
    r.assert_code(1);
    r.assert_stdout_has(&["buildy 0.1.0", "env.read"]);
    assert_location("stdout", &r.stdout, "build.rs:3:19", &r);
    assert!(
        !has_location(&r.stdout, "build.rs:1:1"),
        "granted `build` is not reported\n{}",
        r.describe()
    );
    assert_fail_summary(&r, &["buildy"]);
}

#[test]
fn human_check_names_the_version_that_exceeds() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("policies/version-key-fail.toml"), &[]);
    r.assert_code(1);
    r.assert_stdout_has(&["dual 2.0.0"]);
    r.assert_stdout_lacks(&["dual 1.0.0"], "within its grants");
    r.assert_stdout_has(&["net.connect"]);
    assert_location("stdout", &r.stdout, "src/lib.rs:6:5", &r);
    assert_fail_summary(&r, &["dual"]);
}

#[test]
fn human_check_reports_unanalyzed_source() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("policies/unanalyzed-not-granted.toml"), &[]);
    r.assert_code(1);
    r.assert_stdout_has(&["holey 0.1.0", "unanalyzed"]);
    assert_location("stdout", &r.stdout, "src/lib.rs:3:1", &r);
    assert_fail_summary(&r, &["holey"]);
}

#[test]
fn human_check_groups_diagnostics_per_package() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("policies/two-packages.toml"), &[]);
    r.assert_code(1);
    assert_grouped(
        &r,
        &[
            ("buildy 0.1.0", &["build.rs:3:19"]),
            ("files 0.1.0", &["src/lib.rs:8:13"]),
        ],
    );
    assert_fail_summary(&r, &["buildy", "files"]);

    let r = ws.check(Some("policies/empty.toml"), &[]);
    r.assert_code(1);
    assert_grouped(
        &r,
        &[
            ("buildy 0.1.0", &["build.rs:1:1", "build.rs:3:19"]),
            ("dual 2.0.0", &["src/lib.rs:6:5"]),
            ("files 0.1.0", &["src/lib.rs:4:5", "src/lib.rs:8:13"]),
            ("holey 0.1.0", &["src/lib.rs:3:1"]),
        ],
    );
    assert_fail_summary(&r, &["buildy", "dual", "files", "holey"]);
}

#[test]
fn capgate_toml_beside_the_workspace_root_is_the_default_policy() {
    let ws = Workspace::copy(FIXTURE);
    ws.write("capgate.toml", &ws.read("policies/pass.toml"));
    let r = ws.check(None, &[]);
    r.assert_code(0);
    assert_pass_summary(&r, PACKAGES);

    ws.write("capgate.toml", &ws.read("policies/fs-read-only.toml"));
    let r = ws.check_json(None);
    r.assert_code(1);
    let (_, v) = check_report(&r);
    assert_eq!(
        v,
        BTreeSet::from([violation("files", "0.1.0", "code", "fs.write")])
    );
}

#[test]
fn policy_is_a_global_option() {
    let ws = Workspace::copy(FIXTURE);
    let policy = ws.path("policies/fs-read-only.toml").display().to_string();
    let m = ws.manifest();
    let r = run(&[
        "--policy",
        &policy,
        "check",
        "--manifest-path",
        &m,
        "--offline",
    ]);
    r.assert_code(1);
    assert_fail_summary(&r, &["files"]);
    let r = run(&[
        "capgate",
        "check",
        "--policy",
        &policy,
        "--manifest-path",
        &m,
        "--offline",
    ]);
    r.assert_code(1);
    assert_fail_summary(&r, &["files"]);
}

#[test]
fn missing_policy_file_given_with_policy_is_an_error() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("policies/no-such-policy.toml"), &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("no-such-policy.toml"),
        "names the file\n{}",
        r.describe()
    );
    assert_no_pass(&r);
}

// ---------------------------------------------------------------------------
// check: policy errors
// ---------------------------------------------------------------------------

#[test]
fn toml_syntax_error_is_located_at_the_offending_value() {
    expect_policy_error("syntax.toml", &[(6, 10)], &[]);
}

#[test]
fn unknown_top_level_key_is_located_at_the_key() {
    expect_policy_error("unknown-top-level-key.toml", &[(2, 1)], &["strict"]);
}

#[test]
fn unknown_key_in_a_package_entry_is_located_at_the_key() {
    expect_policy_error("unknown-pkg-key.toml", &[(7, 3)], &["reasons"]);
}

#[test]
fn unknown_capability_is_located_at_its_quote_with_a_suggestion() {
    expect_policy_error(
        "unknown-capability.toml",
        &[(7, 25)],
        &["nett", "did you mean `net`?"],
    );
}

#[test]
fn bad_version_requirement_in_the_key_is_located_at_the_key() {
    expect_policy_error("bad-version-key.toml", &[(6, 6)], &["^^1"]);
}

#[test]
fn several_policy_errors_are_all_reported_in_one_run() {
    expect_policy_error(
        "several-errors.toml",
        &[(9, 1), (12, 16), (13, 11), (16, 9), (19, 1)],
        &["colour", "nett", "did you mean `net`?", "^^1", "permit"],
    );
}

#[test]
fn discovered_policy_errors_name_capgate_toml() {
    let ws = Workspace::copy(FIXTURE);
    ws.write("capgate.toml", &ws.read("invalid/unknown-capability.toml"));
    let r = ws.check(None, &[]);
    r.assert_code(2);
    assert_location("stderr", &r.stderr, "capgate.toml:7:25", &r);
    assert!(
        r.stderr.contains("did you mean `net`?"),
        "suggestion\n{}",
        r.describe()
    );
    assert_no_pass(&r);
}

#[test]
fn grant_for_a_package_not_in_the_graph_is_a_warning() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.check(Some("invalid/stale-entry.toml"), &[]);
    r.assert_code(0);
    // `warning:`, or rustc's `warning[CODE]:`, then the name.
    let warned = r.stderr.match_indices("warning").any(|(at, _)| {
        let rest = &r.stderr[at + "warning".len()..];
        let rest = match rest.strip_prefix('[') {
            Some(coded) => coded.split_once(']').map_or("", |(_, after)| after),
            None => rest,
        };
        rest.starts_with(':') && rest.contains("no-such-crate")
    });
    assert!(
        warned,
        "stderr must warn about `no-such-crate`\n{}",
        r.describe()
    );
    assert_pass_summary(&r, PACKAGES);

    let r = ws.check_json(Some("invalid/stale-entry.toml"));
    r.assert_code(0);
    let (_, v) = check_report(&r);
    assert!(v.is_empty());
    assert!(
        r.stderr.contains("no-such-crate"),
        "warns with --format json too\n{}",
        r.describe()
    );
}

// ---------------------------------------------------------------------------
// check: the policy in the root manifest's metadata
// ---------------------------------------------------------------------------

#[test]
fn workspace_metadata_policy_is_used_without_capgate_toml() {
    let ws = Workspace::copy("policy-metadata");
    assert!(!ws.path("capgate.toml").exists());
    let r = ws.check(None, &[]);
    r.assert_code(0);
    assert_pass_summary(&r, 2);
    let r = ws.check_json(None);
    r.assert_code(0);
    assert!(check_report(&r).1.is_empty());

    // The metadata is what grants: narrow it and the check fails.
    let manifest = ws.read("Cargo.toml");
    let narrowed = manifest.replace(r#"allow = ["net.connect"]"#, r#"allow = ["net.listen"]"#);
    assert_ne!(manifest, narrowed);
    ws.write("Cargo.toml", &narrowed);
    let r = ws.check_json(None);
    r.assert_code(1);
    assert_eq!(
        check_report(&r).1,
        BTreeSet::from([violation("fetcher", "0.1.0", "code", "net.connect")])
    );
}

#[test]
fn two_policies_for_one_workspace_stop_every_command() {
    // capgate.toml beside [workspace.metadata.capgate]: whichever one a
    // command picked, a reviewer could be reading or editing the other.
    let ws = Workspace::copy("policy-metadata");
    ws.write("capgate.toml", "[defaults]\nallow = []\n");
    let manifest_before = ws.read("Cargo.toml");
    for (cmd, args) in [
        ("check", &[][..]),
        ("check", &["--format", "json"][..]),
        ("scan", &[][..]),
        ("allow", &["fetcher", "net"][..]),
        ("init", &["--force"][..]),
    ] {
        let r = ws.run(cmd, args);
        r.assert_code(2);
        assert!(
            r.stderr.contains("two policies for one workspace")
                && r.stderr.contains("capgate.toml")
                && r.stderr.contains("[workspace.metadata.capgate]"),
            "{cmd} names both\n{}",
            r.describe()
        );
    }
    assert_eq!(ws.read("capgate.toml"), "[defaults]\nallow = []\n");
    assert_eq!(ws.read("Cargo.toml"), manifest_before, "nothing written");
    // --policy names one explicitly: no ambiguity.
    let r = ws.check(Some("capgate.toml"), &["--format", "json"]);
    r.assert_code(1);
    assert_eq!(
        check_report(&r).1,
        BTreeSet::from([violation("fetcher", "0.1.0", "code", "net.connect")])
    );
}

#[test]
fn allow_and_init_write_to_the_metadata_policy_where_it_is() {
    let ws = Workspace::copy("policy-metadata");
    let r = ws.run(
        "allow",
        &["quiet,fetcher", "env.read", "--reason", "reads its config"],
    );
    r.assert_code(0);
    assert!(
        r.stderr.contains("in [workspace.metadata.capgate] in "),
        "{}",
        r.describe()
    );
    assert!(!ws.path("capgate.toml").exists(), "no second policy");
    let manifest = ws.read("Cargo.toml");
    assert!(
        manifest.starts_with("# The policy lives in the root manifest"),
        "comments kept\n{manifest}"
    );
    let parsed = parse_toml(&manifest, "Cargo.toml");
    let pkg = parsed["workspace"]["metadata"]["capgate"]["pkg"]
        .as_table()
        .expect("[workspace.metadata.capgate.pkg]");
    assert_eq!(
        toml_strings(pkg["fetcher"].as_table().unwrap(), &["allow"]),
        ["net.connect", "env.read"]
    );
    assert_eq!(
        toml_strings(pkg["quiet"].as_table().unwrap(), &["allow"]),
        ["env.read"]
    );

    // init finds the policy there too: it will not replace it unasked...
    let r = ws.run("init", &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("[workspace.metadata.capgate]") && r.stderr.contains("--force"),
        "{}",
        r.describe()
    );
    // ...and with --force rewrites the grants in place, keeping the reason.
    ws.run("init", &["--force"]).assert_code(0);
    assert!(!ws.path("capgate.toml").exists(), "no second policy");
    let manifest = ws.read("Cargo.toml");
    let parsed = parse_toml(&manifest, "Cargo.toml");
    let fetcher = parsed["workspace"]["metadata"]["capgate"]["pkg"]["fetcher"]
        .as_table()
        .expect("fetcher's entry");
    assert_eq!(
        toml_strings(fetcher, &["allow"]),
        ["net.connect"],
        "{manifest}"
    );
    assert_eq!(
        fetcher["reason"].as_str(),
        Some("reads its config"),
        "{manifest}"
    );
    assert!(
        !manifest.contains("capgate.pkg.quiet]"),
        "quiet does nothing today: its grant went\n{manifest}"
    );
    ws.check(None, &[]).assert_code(0);
}

#[test]
fn package_metadata_policy_is_used_without_capgate_toml() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("src")).unwrap();
    std::fs::write(
        tmp.path().join("src/lib.rs"),
        "pub fn home() -> Option<String> {\n    std::env::var(\"HOME\").ok()\n}\n",
    )
    .unwrap();
    let manifest = |allow: &str| {
        format!(
            "[package]\nname = \"solo\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
             [package.metadata.capgate.defaults]\nallow = []\n\n\
             [package.metadata.capgate.pkg.solo]\nallow = {allow}\n\n[workspace]\n"
        )
    };
    let m = tmp.path().join("Cargo.toml");
    std::fs::write(&m, manifest(r#"["env"]"#)).unwrap();
    let r = util::run_on("check", tmp.path(), &["--format", "json"]);
    r.assert_code(0);
    assert!(check_report(&r).1.is_empty());

    std::fs::write(&m, manifest("[]")).unwrap();
    let r = util::run_on("check", tmp.path(), &["--format", "json"]);
    r.assert_code(1);
    assert_eq!(
        check_report(&r).1,
        BTreeSet::from([violation("solo", "0.1.0", "code", "env.read")])
    );
}

// ---------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------

#[test]
fn init_grants_exactly_todays_capabilities_with_evidence_comments() {
    let ws = Workspace::copy(FIXTURE);
    ws.run("init", &[]).assert_code(0);
    let text = ws.read("capgate.toml");
    assert!(
        text.ends_with('\n'),
        "the policy ends with a newline\n{text}"
    );
    let policy = parse_toml(&text, "the policy init wrote");

    let defaults = policy["defaults"].as_table().expect("[defaults]");
    assert_eq!(
        toml_strings(defaults, &["allow"]),
        Vec::<String>::new(),
        "[defaults] allow = []\n{text}"
    );

    let pkg = policy["pkg"].as_table().expect("[pkg.*] entries");
    let keys: BTreeSet<&str> = pkg.keys().map(String::as_str).collect();
    let mut expected = BTreeSet::from(["buildy", "dual@=2.0.0", "files", "holey"]);
    if keys.contains("dual@=1.0.0") {
        // dual 1.0.0 has no capability: an entry for it may exist but grants nothing.
        expected.insert("dual@=1.0.0");
        let e = pkg["dual@=1.0.0"].as_table().unwrap();
        assert!(toml_strings(e, &["allow"]).is_empty(), "{text}");
        assert!(
            toml_strings(e, &["build-script", "allow"]).is_empty(),
            "{text}"
        );
    }
    assert_eq!(
        keys, expected,
        "one entry per package with a capability; versions differ, so dual@=VERSION\n{text}"
    );

    let grants = |key: &str, path: &[&str]| toml_strings(pkg[key].as_table().unwrap(), path);
    assert_eq!(
        grants("files", &["allow"]),
        ["fs.read", "fs.write"],
        "{text}"
    );
    assert_eq!(grants("buildy", &["allow"]), ["build"], "{text}");
    assert_eq!(
        grants("buildy", &["build-script", "allow"]),
        ["env.read"],
        "{text}"
    );
    assert_eq!(grants("dual@=2.0.0", &["allow"]), ["net.connect"], "{text}");
    assert_eq!(grants("holey", &["allow"]), ["unanalyzed"], "{text}");
    for key in ["files", "dual@=2.0.0", "holey"] {
        assert!(
            grants(key, &["build-script", "allow"]).is_empty(),
            "{key}: no build script grant\n{text}"
        );
    }

    let order = entry_order(&text);
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "entries sorted by name\n{text}");

    assert_evidence_comment(&text, "fs.read", "src/lib.rs:4", "std::fs::read_to_string");
    assert_evidence_comment(&text, "fs.write", "src/lib.rs:8", "std::fs::write");
    assert_evidence_comment(
        &text,
        "net.connect",
        "src/lib.rs:6",
        "std::net::TcpStream::connect",
    );
    assert_evidence_comment(&text, "build", "build.rs:1", "");
    assert_evidence_comment(&text, "env.read", "build.rs:3", "std::env::var");
    assert_evidence_comment(&text, "unanalyzed", "src/lib.rs:3", "");

    let r = ws.check(None, &[]);
    r.assert_code(0);
    assert_pass_summary(&r, PACKAGES);
}

#[test]
fn init_refuses_to_overwrite_without_force_and_is_byte_stable() {
    let ws = Workspace::copy(FIXTURE);
    ws.run("init", &[]).assert_code(0);
    let first = ws.read("capgate.toml");

    let r = ws.run("init", &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("--force"),
        "the refusal mentions --force\n{}",
        r.describe()
    );
    assert_eq!(
        ws.read("capgate.toml"),
        first,
        "a refused init leaves the file alone"
    );

    ws.run("init", &["--force"]).assert_code(0);
    assert_eq!(ws.read("capgate.toml"), first, "init is byte-stable");
}

#[test]
fn init_refuses_to_overwrite_a_hand_written_policy() {
    let ws = Workspace::copy(FIXTURE);
    let mine = "# mine\n[defaults]\nallow = []\n";
    ws.write("capgate.toml", mine);
    let r = ws.run("init", &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("--force"),
        "the refusal mentions --force\n{}",
        r.describe()
    );
    assert_eq!(ws.read("capgate.toml"), mine);
}

#[test]
fn init_writes_to_the_policy_path_given() {
    let ws = Workspace::copy(FIXTURE);
    let custom = ws.path("custom.toml").display().to_string();
    ws.run("init", &["--policy", &custom]).assert_code(0);
    assert!(ws.path("custom.toml").is_file());
    assert!(
        !ws.path("capgate.toml").exists(),
        "--policy replaces the default path"
    );
    let r = ws.check(Some("custom.toml"), &["--format", "json"]);
    r.assert_code(0);
    assert!(check_report(&r).1.is_empty());

    let r = ws.run("init", &["--policy", &custom]);
    r.assert_code(2);
    assert!(r.stderr.contains("--force"), "{}", r.describe());
}

#[test]
fn init_then_check_passes_on_every_fixture_workspace() {
    let fixtures = workspace_fixtures();
    for expected in [
        "capabilities",
        "build-proc-macro",
        "policy",
        "policy-metadata",
    ] {
        assert!(
            fixtures.iter().any(|f| f == expected),
            "{expected} is discovered: {fixtures:?}"
        );
    }
    for fixture in &fixtures {
        let ws = Workspace::copy(fixture);
        // A fixture's own policy (round-trip has one) is what init replaces;
        // one in Cargo.toml's metadata is rewritten where it is.
        let _ = std::fs::remove_file(ws.path("capgate.toml"));
        let in_manifest = ws.read("Cargo.toml").contains(".metadata.capgate");
        let (policy_file, args): (&str, &[&str]) = if in_manifest {
            ("Cargo.toml", &["--force"])
        } else {
            ("capgate.toml", &[])
        };
        let r = ws.run("init", args);
        assert!(r.code == Some(0), "{fixture}: init\n{}", r.describe());
        let first = ws.read(policy_file);
        parse_toml(&first, &format!("{fixture}: the policy init wrote"));

        let r = ws.check_json(None);
        assert!(
            r.code == Some(0),
            "{fixture}: check after init\n{}",
            r.describe()
        );
        let (report, violations) = check_report(&r);
        assert!(violations.is_empty(), "{fixture}: {violations:?}");
        assert_eq!(report["verdict"], "pass", "{fixture}");

        let r = ws.check(None, &[]);
        assert!(
            r.code == Some(0),
            "{fixture}: human check after init\n{}",
            r.describe()
        );
        let n = util::packages(&report).len();
        assert_pass_summary(&r, n);

        ws.run("init", &["--force"]).assert_code(0);
        assert_eq!(
            ws.read(policy_file),
            first,
            "{fixture}: init is byte-stable"
        );
    }
}

// ---------------------------------------------------------------------------
// allow
// ---------------------------------------------------------------------------

#[test]
fn allow_keeps_comments_and_formatting() {
    let ws = Workspace::copy(FIXTURE);
    ws.write(
        "capgate.toml",
        &snapshot("allow_keeps_comments.before.toml"),
    );
    let steps: [&[&str]; 5] = [
        &["files", "fs.write"],
        &["buildy", "env.read", "--build-script"],
        &["dual", "net.connect"],
        // already granted: nothing changes
        &["files", "fs.read"],
        &["holey", "unanalyzed"],
    ];
    for step in steps {
        ws.run("allow", step).assert_code(0);
    }
    let expected = snapshot("allow_keeps_comments.toml");
    let actual = ws.read("capgate.toml");
    assert!(
        actual == expected,
        "allow changed more than its grants\n--- expected (tests/snapshots/allow_keeps_comments.toml) ---\n{expected}\n--- actual ---\n{actual}"
    );
    let r = ws.check(None, &[]);
    r.assert_code(0);
    assert_pass_summary(&r, PACKAGES);
}

#[test]
fn allow_creates_the_file_and_entries() {
    let ws = Workspace::copy(FIXTURE);
    assert!(!ws.path("capgate.toml").exists());
    ws.run("allow", &["files", "fs.read", "fs.write"])
        .assert_code(0);
    ws.run("allow", &["buildy", "build"]).assert_code(0);
    ws.run("allow", &["buildy", "env.read", "--build-script"])
        .assert_code(0);
    let text = ws.read("capgate.toml");
    let policy = parse_toml(&text, "the policy allow wrote");
    let pkg = policy["pkg"].as_table().expect("[pkg.*] entries");
    let grants = |key: &str, path: &[&str]| toml_strings(pkg[key].as_table().unwrap(), path);
    assert_eq!(
        grants("files", &["allow"]),
        ["fs.read", "fs.write"],
        "{text}"
    );
    assert_eq!(grants("buildy", &["allow"]), ["build"], "{text}");
    assert_eq!(
        grants("buildy", &["build-script", "allow"]),
        ["env.read"],
        "{text}"
    );

    // dual 2.0.0 and holey are not granted yet.
    let r = ws.check_json(None);
    r.assert_code(1);
    assert_eq!(
        check_report(&r).1,
        BTreeSet::from([
            violation("dual", "2.0.0", "code", "net.connect"),
            violation("holey", "0.1.0", "code", "unanalyzed"),
        ])
    );
    ws.run("allow", &["dual", "net.connect"]).assert_code(0);
    ws.run("allow", &["holey", "unanalyzed"]).assert_code(0);
    ws.check(None, &[]).assert_code(0);
}

#[test]
fn allow_grants_to_several_packages_at_once() {
    let ws = Workspace::copy(FIXTURE);
    ws.run("allow", &["files,holey", "unsafe"]).assert_code(0);
    let policy = parse_toml(&ws.read("capgate.toml"), "capgate.toml");
    for name in ["files", "holey"] {
        assert_eq!(
            toml_strings(policy["pkg"][name].as_table().unwrap(), &["allow"]),
            ["unsafe"],
            "{name}"
        );
    }
}

#[test]
fn allow_of_a_package_not_in_the_graph_is_an_error_with_a_suggestion() {
    let ws = Workspace::copy(FIXTURE);
    ws.write("capgate.toml", "[defaults]\nallow = []\n");
    for spec in ["fles", "files,fles", "fles@1"] {
        let r = ws.run("allow", &[spec, "fs"]);
        r.assert_code(2);
        assert!(
            r.stderr.contains("no package `fles`") && r.stderr.contains("did you mean `files`?"),
            "{spec}\n{}",
            r.describe()
        );
        assert_eq!(
            ws.read("capgate.toml"),
            "[defaults]\nallow = []\n",
            "{spec}: no entry written, not even for the known package"
        );
    }
}

#[test]
fn init_force_rewrites_grants_and_keeps_what_people_wrote() {
    let ws = Workspace::copy(FIXTURE);
    ws.run("init", &[]).assert_code(0);
    let fresh = ws.read("capgate.toml");
    // A person explains one grant, comments another entry, keeps settings
    // of their own, and a package that no longer needs anything remains.
    let edited = fresh
        .replace(
            "[pkg.files]\n",
            "# reviewed by the storage team\n[pkg.files]\nreason = \"stores uploads\"\n",
        )
        .replace(
            "[defaults]\nallow = []\n",
            "[defaults]\nallow = [\"env.read\"]\n",
        )
        + "\n[pkg.gone]\nallow = [\"net\"]\nreason = \"no longer in the graph\"\n\n[vet-bom]\naccept-unvetted = [\"left-pad\"]\n";
    ws.write("capgate.toml", &edited);
    let r = ws.run("init", &["--force"]);
    r.assert_code(0);
    let text = ws.read("capgate.toml");
    assert!(
        text.contains("# reviewed by the storage team\n[pkg.files]\nreason = \"stores uploads\"\n"),
        "reason and comment kept\n{text}"
    );
    assert!(
        text.contains("[defaults]\nallow = [\"env.read\"]\n"),
        "{text}"
    );
    assert!(
        text.contains("[vet-bom]\naccept-unvetted = [\"left-pad\"]"),
        "{text}"
    );
    assert!(
        !text.contains("[pkg.gone]"),
        "nothing to grant: entry removed\n{text}"
    );
    // The grants are today's, with their evidence comments.
    let policy = parse_toml(&text, "capgate.toml");
    let today = parse_toml(&fresh, "fresh");
    for (name, entry) in today["pkg"].as_table().unwrap() {
        assert_eq!(
            toml_strings(policy["pkg"][name].as_table().unwrap(), &["allow"]),
            toml_strings(entry.as_table().unwrap(), &["allow"]),
            "{name}\n{text}"
        );
    }
    assert!(
        text.contains("\"fs.write\", # "),
        "evidence comments\n{text}"
    );
    ws.check(None, &[]).assert_code(0);
}

#[test]
fn allow_fixes_a_failing_check() {
    let ws = Workspace::copy(FIXTURE);
    ws.write("capgate.toml", &ws.read("policies/fs-read-only.toml"));
    ws.check(None, &[]).assert_code(1);
    ws.run("allow", &["files", "fs.write"]).assert_code(0);
    let r = ws.check(None, &[]);
    r.assert_code(0);
    assert_pass_summary(&r, PACKAGES);
}

#[test]
fn allow_writes_to_the_policy_path_given() {
    let ws = Workspace::copy(FIXTURE);
    let custom = ws.path("custom.toml").display().to_string();
    ws.run("allow", &["--policy", &custom, "files", "fs"])
        .assert_code(0);
    assert!(
        !ws.path("capgate.toml").exists(),
        "--policy replaces the default path"
    );
    let policy = parse_toml(&ws.read("custom.toml"), "custom.toml");
    let files = policy["pkg"]["files"].as_table().expect("[pkg.files]");
    assert_eq!(toml_strings(files, &["allow"]), ["fs"]);
}

#[test]
fn allow_of_an_unknown_capability_is_an_error_with_a_suggestion() {
    let ws = Workspace::copy(FIXTURE);
    let r = ws.run("allow", &["files", "nett"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("did you mean `net`?"),
        "suggestion\n{}",
        r.describe()
    );
    assert!(
        !ws.path("capgate.toml").exists(),
        "a failed allow creates no file"
    );

    let before = ws.read("policies/pass.toml");
    ws.write("capgate.toml", &before);
    let r = ws.run("allow", &["files", "fs.read", "nett"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("did you mean `net`?"),
        "suggestion\n{}",
        r.describe()
    );
    assert_eq!(
        ws.read("capgate.toml"),
        before,
        "a failed allow leaves the file alone"
    );
}
