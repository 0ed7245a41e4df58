//! Shared helpers: scan a fixture (in-process through the library with
//! [`Scan`], or with the real binary through [`run`] and [`scan`]), compare
//! its JSON report with the expectation markers written in the fixture's
//! sources, copy fixtures, and run git isolated from the user.
//!
//! Markers (rustc UI-test style), at the end of a line:
//!
//! - `//~ cap [cap ...]` in a `.rs` file: a finding in the owning package's
//!   `findings`, at that file and line.
//! - `//~ build-script: cap [cap ...]`: a finding in the package's
//!   `build_script.findings`, at that file and line.
//! - `#~ cap [cap ...]` in a `Cargo.toml`: a finding in `findings` at file
//!   `Cargo.toml` and that line.
//! - `//~! cap [cap ...]` anywhere in a `.rs` file: a finding with that
//!   capability for that file, at any line (or no line at all).
//!
//! The comparison is exact in both directions: a marker without a finding
//! and a finding without a marker both fail, with a readable diff. A package
//! without markers must report no capability at all.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cargo_capgate::model::{BuildGraph, PackageScan};
use cargo_capgate::pipeline::{self, Analysis, AnalysisError};
use cargo_capgate::report::{ScanResults, json};
use cargo_capgate::resolve::BuildSelection;
use cargo_capgate::rules::RuleSet;
use serde_json::Value;

/// Every capability name of DESIGN.md, families and sub-capabilities.
pub const CAPABILITIES: &[&str] = &[
    "fs",
    "fs.read",
    "fs.write",
    "net",
    "net.connect",
    "net.listen",
    "process",
    "process.spawn",
    "env",
    "env.read",
    "env.write",
    "unsafe",
    "ffi",
    "build",
    "proc-macro",
    "unanalyzed",
];

/// The capabilities without sub-capabilities (`fs.read`, not `fs`): what a
/// finding names.
pub fn leaf_capabilities() -> Vec<&'static str> {
    CAPABILITIES
        .iter()
        .copied()
        .filter(|c| {
            !CAPABILITIES
                .iter()
                .any(|o| o.strip_prefix(c).is_some_and(|r| r.starts_with('.')))
        })
        .collect()
}

/// The capability families, `unanalyzed` included: what the corpus and
/// hostile cases label a crate with.
pub const FAMILIES: &[&str] = &[
    "fs",
    "net",
    "process",
    "env",
    "unsafe",
    "ffi",
    "build",
    "proc-macro",
    "unanalyzed",
];

/// The target the snapshot and platform tests resolve for, whatever the host.
pub const LINUX: &str = "x86_64-unknown-linux-gnu";

/// The fixtures that scan successfully with default options.
pub const SCANNABLE_FIXTURES: &[&str] = &[
    "capabilities",
    "resolution",
    "decoys",
    "macros",
    "unsafe-ffi",
    "build-proc-macro",
    "features-targets",
    "layout",
    "policy",
    "cfg",
    "policy-metadata",
    "invalid/non-utf8",
    "invalid/unlexable",
    "invalid/edition2015-bare-trait",
    "invalid/missing-mod",
    "invalid/missing-lib-path",
    "invalid/deep-nesting",
];

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture_dir(name: &str) -> PathBuf {
    repo_root().join("fixtures").join(name)
}

pub fn manifest(name: &str) -> String {
    fixture_dir(name).join("Cargo.toml").display().to_string()
}

// ---------------------------------------------------------------------------
// In-process: the library's pipeline, no binary
// ---------------------------------------------------------------------------

/// An in-process scan of a workspace through the library
/// (`pipeline::analyze`: `resolve::resolve`, which runs `cargo metadata`,
/// then the scan on the pipeline's own threads, with the scanner's stack),
/// with the built-in rules, no scan cache and no advisories: what `scan
/// --offline --no-cache` computes, without starting the binary. A failure
/// panics with the stage's own error.
///
/// The options are the `scan` flags that change the graph, by the same names:
/// `Scan::fixture("cfg").target(LINUX).features("net").report()`.
#[derive(Clone, Debug)]
pub struct Scan {
    pub selection: BuildSelection,
}

impl Scan {
    /// `fixtures/NAME`, in place (the scan writes nothing).
    pub fn fixture(name: &str) -> Scan {
        Scan::dir(&fixture_dir(name))
    }

    /// The workspace whose manifest is `DIR/Cargo.toml`.
    pub fn dir(dir: &Path) -> Scan {
        Scan {
            selection: BuildSelection {
                manifest_path: Some(dir.join("Cargo.toml")),
                offline: true,
                ..BuildSelection::default()
            },
        }
    }

    /// `--target TRIPLE`.
    pub fn target(mut self, triple: &str) -> Scan {
        self.selection.target = Some(triple.to_string());
        self
    }

    /// `--features FEATURES`.
    pub fn features(mut self, features: &str) -> Scan {
        self.selection.features.push(features.to_string());
        self
    }

    /// `--all-features`.
    pub fn all_features(mut self) -> Scan {
        self.selection.all_features = true;
        self
    }

    /// `--no-default-features`.
    pub fn no_default_features(mut self) -> Scan {
        self.selection.no_default_features = true;
        self
    }

    /// `--dev`.
    pub fn dev(mut self) -> Scan {
        self.selection.dev = true;
        self
    }

    /// `--all-targets-cfg`.
    pub fn all_targets_cfg(mut self) -> Scan {
        self.selection.all_targets_cfg = true;
        self
    }

    /// `--locked`.
    pub fn locked(mut self) -> Scan {
        self.selection.locked = true;
        self
    }

    /// The whole analysis, or the stage's error.
    pub fn try_analyze(&self) -> Result<Analysis, AnalysisError> {
        pipeline::analyze(&self.selection, &RuleSet::builtin(), None, &|_| {})
    }

    /// The resolved graph and each package's scan, in graph order.
    pub fn analyze(&self) -> (BuildGraph, Vec<PackageScan>) {
        let analysis = self.try_analyze().unwrap_or_else(|e| {
            panic!(
                "analysing {:?} failed: {}",
                self.selection.manifest_path,
                error_chain(&e)
            )
        });
        (analysis.graph, analysis.scans)
    }

    /// The JSON report `scan --format json` prints for this selection,
    /// checked for the invariants of every report.
    pub fn report(&self) -> Value {
        let (graph, scans) = self.analyze();
        report_json(&graph, &scans)
    }
}

/// The JSON scan report of a graph and its scans (`report::json::report`,
/// what `scan --format json` prints), as a value, checked for the
/// invariants of every report ([`assert_report_shape`]).
pub fn report_json(graph: &BuildGraph, scans: &[PackageScan]) -> Value {
    let report = json::report(&ScanResults::new(graph, scans));
    let value = serde_json::to_value(&report).expect("the report serialises");
    assert_report_shape(&value);
    value
}

/// An error and its causes on one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let _ = write!(text, ": {c}");
        cause = c.source();
    }
    text
}

// ---------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------

/// The binary under test, with a scan cache private to this test run (so
/// tests never write the user's cache).
pub fn capgate() -> assert_cmd::Command {
    static CACHE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(|| tempfile::tempdir().expect("cache tempdir"));
    let mut cmd =
        assert_cmd::Command::cargo_bin("cargo-capgate").expect("cargo-capgate binary is built");
    cmd.env("CAPGATE_CACHE_DIR", cache.path());
    cmd
}

/// What one run of the binary produced.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl Run {
    /// Runs `cmd` with `args` appended and records what it produced.
    pub fn of<S: AsRef<str>>(cmd: &mut assert_cmd::Command, args: &[S]) -> Run {
        let args: Vec<String> = args.iter().map(|s| s.as_ref().to_string()).collect();
        let output = cmd.args(&args).output().expect("spawn cargo-capgate");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            args,
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "cargo-capgate {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            truncate(&self.stdout, 4000),
            truncate(&self.stderr, 4000),
        )
    }

    /// Asserts the exit code and that the process did not panic or crash.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_no_crash(self);
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.describe()
        );
        self
    }

    /// Asserts exit code 2 (an error) and that stderr names each of
    /// `needles`; what stdout must not hold is the caller's to check (see
    /// [`Run::assert_stdout_lacks`]).
    pub fn assert_error(&self, needles: &[&str]) -> &Self {
        self.assert_code(2);
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "the message names {n:?}\n{}",
                self.describe()
            );
        }
        self
    }

    /// Asserts that stdout holds each of `needles`.
    pub fn assert_stdout_has(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(
                self.stdout.contains(n),
                "stdout names {n:?}\n{}",
                self.describe()
            );
        }
        self
    }

    /// Asserts that stdout holds none of `needles` (`what` says why).
    pub fn assert_stdout_lacks(&self, needles: &[&str], what: &str) -> &Self {
        for n in needles {
            assert!(
                !self.stdout.contains(n),
                "{what}: stdout has {n:?}\n{}",
                self.describe()
            );
        }
        self
    }

    /// Parses stdout as JSON (any document, not only a scan report).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.describe()))
    }

    /// Parses stdout as a JSON report and checks the invariants every report
    /// must hold (see [`assert_report_shape`]).
    pub fn report(&self) -> Value {
        let v: Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON: {e}\n{}", self.describe());
        });
        assert_report_shape(&v);
        v
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... [{} more bytes]", &s[..end], s.len() - end)
}

/// Runs the binary with exactly these arguments.
pub fn run(args: &[&str]) -> Run {
    Run::of(&mut capgate(), args)
}

pub fn assert_no_crash(run: &Run) {
    for needle in ["panicked at", "stack overflow", "RUST_BACKTRACE", "SIGSEGV"] {
        assert!(
            !run.stderr.contains(needle),
            "the binary crashed ({needle:?} on stderr)\n{}",
            run.describe()
        );
    }
    assert!(
        run.code.is_some(),
        "the binary was killed by a signal\n{}",
        run.describe()
    );
}

/// `COMMAND --manifest-path DIR/Cargo.toml --offline ARGS...`: the
/// arguments every command on a workspace starts with.
pub fn manifest_args(command: &str, dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec![
        command.to_string(),
        "--manifest-path".to_string(),
        dir.join("Cargo.toml").display().to_string(),
        "--offline".to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

/// The binary (from [`capgate`]) with [`manifest_args`].
pub fn run_on(command: &str, dir: &Path, args: &[&str]) -> Run {
    Run::of(&mut capgate(), &manifest_args(command, dir, args))
}

/// `cargo-capgate scan --manifest-path DIR/Cargo.toml --offline --format json EXTRA...`,
/// which must exit 0; returns the parsed report.
pub fn scan_dir(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    run_on("scan", dir, &args).assert_code(0).report()
}

/// `cargo-capgate check --manifest-path DIR/Cargo.toml --offline --format json`.
pub fn check_dir(dir: &Path) -> Run {
    run_on("check", dir, &["--format", "json"])
}

/// [`scan_dir`] on `fixtures/NAME`: the binary's report.
pub fn scan(fixture: &str, extra: &[&str]) -> Value {
    scan_dir(&fixture_dir(fixture), extra)
}

/// Scans `fixtures/NAME` in-process with default options, asserts that
/// every package of the fixture is in the report and that the findings
/// equal the markers.
pub fn check_fixture(fixture: &str) -> Value {
    let report = Scan::fixture(fixture).report();
    let fx = Fixture::load(&fixture_dir(fixture));
    let expected: BTreeSet<String> = fx.package_names();
    assert_eq!(
        package_names(&report),
        expected,
        "fixture `{fixture}`: the report must hold exactly the fixture's packages"
    );
    fx.assert_matches(&report);
    report
}

/// Compares the findings of every package in `report` with the markers of
/// `fixtures/NAME` (packages of the fixture absent from the report are not
/// checked here; assert the package set separately).
pub fn assert_markers(fixture: &str, report: &Value) {
    Fixture::load(&fixture_dir(fixture)).assert_matches(report);
}

pub fn packages(report: &Value) -> &Vec<Value> {
    report["packages"]
        .as_array()
        .expect("`packages` is an array")
}

pub fn package_names(report: &Value) -> BTreeSet<String> {
    packages(report)
        .iter()
        .map(|p| p["name"].as_str().expect("package name").to_string())
        .collect()
}

/// Asserts the report holds exactly these packages.
pub fn assert_packages(report: &Value, expected: &[&str]) {
    let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    let actual = package_names(report);
    if actual != expected {
        panic!(
            "package set differs\n  missing: {:?}\n  unexpected: {:?}",
            expected.difference(&actual).collect::<Vec<_>>(),
            actual.difference(&expected).collect::<Vec<_>>(),
        );
    }
}

pub fn package<'a>(report: &'a Value, name: &str) -> &'a Value {
    packages(report)
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| {
            panic!(
                "package `{name}` not in the report: {:?}",
                package_names(report)
            )
        })
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("expected a string, got {s}"))
                .to_string()
        })
        .collect()
}

/// 1-based line of the first line of `fixtures/FIXTURE/FILE` containing `needle`.
pub fn line_of(fixture: &str, file: &str, needle: &str) -> (u64, String) {
    let path = fixture_dir(fixture).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (i, line) in text.lines().enumerate() {
        if line.contains(needle) {
            return (i as u64 + 1, line.to_string());
        }
    }
    panic!("{} has no line containing {needle:?}", path.display())
}

/// The findings of `pkg` (in `findings`) at `file` and `line`.
pub fn findings_at<'a>(report: &'a Value, pkg: &str, file: &str, line: u64) -> Vec<&'a Value> {
    package(report, pkg)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["file"] == file && f["line"] == line)
        .collect()
}

/// Invariants of every report, whatever the fixture.
pub fn assert_report_shape(report: &Value) {
    assert_eq!(report["schema_version"], 1, "schema_version");
    assert_eq!(report["tool"]["name"], "cargo-capgate", "tool.name");
    assert_eq!(
        report["tool"]["version"],
        env!("CARGO_PKG_VERSION"),
        "tool.version"
    );
    let mut seen = BTreeSet::new();
    for p in packages(report) {
        let name = p["name"].as_str().expect("package name is a string");
        let version = p["version"].as_str().expect("package version is a string");
        assert!(
            seen.insert((name.to_string(), version.to_string())),
            "package `{name} {version}` reported twice"
        );
        let source = p["source"].as_str().expect("source is a string");
        assert!(
            ["workspace", "path", "registry", "git"].contains(&source),
            "source of {name}: {source}"
        );
        let purl = p["purl"].as_str().expect("purl is a string");
        let plain = format!("pkg:cargo/{name}@{version}");
        match source {
            // Local crates must never read back as registry crates.
            "workspace" | "path" => assert!(
                purl.starts_with(&format!("{plain}?download_url=file:")),
                "purl of local {name}: {purl}"
            ),
            "git" => assert!(
                purl.starts_with(&format!("{plain}?vcs_url=")),
                "purl of git {name}: {purl}"
            ),
            _ => assert!(
                purl == plain || purl.starts_with(&format!("{plain}?repository_url=")),
                "purl of {name}: {purl}"
            ),
        }
        let kind = p["kind"].as_str().expect("kind is a string");
        assert!(
            ["lib", "proc-macro", "bin"].contains(&kind),
            "kind of {name}: {kind}"
        );
        check_scope(name, "findings", &p["capabilities"], &p["findings"]);
        let bs = &p["build_script"];
        assert!(bs.is_object(), "build_script of {name} is an object");
        check_scope(
            name,
            "build_script.findings",
            &bs["capabilities"],
            &bs["findings"],
        );
    }
}

/// `capabilities` is sorted, unique, and the set of the findings' capabilities;
/// every finding is well formed.
fn check_scope(pkg: &str, scope: &str, caps: &Value, findings: &Value) {
    let caps = strings(caps);
    let mut sorted = caps.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        caps, sorted,
        "{pkg}: capabilities of {scope} must be sorted and unique"
    );
    let findings = findings
        .as_array()
        .unwrap_or_else(|| panic!("{pkg}: {scope} is an array"));
    let mut from_findings = BTreeSet::new();
    for f in findings {
        let cap = f["capability"]
            .as_str()
            .unwrap_or_else(|| panic!("{pkg}: capability in {f}"));
        assert!(
            CAPABILITIES.contains(&cap),
            "{pkg}: unknown capability {cap:?} in {f}"
        );
        from_findings.insert(cap.to_string());
        match &f["file"] {
            Value::Null => {}
            Value::String(file) => assert!(
                is_relative_slash_path(file),
                "{pkg}: file must be relative to the package root with '/' separators: {f}"
            ),
            other => panic!("{pkg}: file must be a string or null, got {other} in {f}"),
        }
        for key in ["line", "column"] {
            match &f[key] {
                Value::Null => {}
                v => assert!(
                    v.as_u64().is_some_and(|n| n >= 1),
                    "{pkg}: {key} must be >= 1 in {f}"
                ),
            }
        }
        assert!(
            f["evidence"].is_string(),
            "{pkg}: evidence must be a string in {f}"
        );
        assert!(
            f["rule"].as_str().is_some_and(|r| !r.is_empty()),
            "{pkg}: rule must be a non-empty string in {f}"
        );
        assert!(f["via"].is_array(), "{pkg}: via must be an array in {f}");
    }
    let caps: BTreeSet<String> = caps.into_iter().collect();
    assert_eq!(
        caps, from_findings,
        "{pkg}: capabilities of {scope} must equal the set of its findings' capabilities"
    );
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Code,
    BuildScript,
}

impl Scope {
    fn label(self) -> &'static str {
        match self {
            Scope::Code => "",
            Scope::BuildScript => " [build-script]",
        }
    }
}

/// (package, scope, file, line, capability); line 0 stands for "no line".
type Exact = (String, Scope, String, u64, String);
/// (package, scope, file, capability): the `//~!` file-level markers.
type FileLevel = (String, Scope, String, String);

/// A fixture workspace on disk: its packages and its markers.
pub struct Fixture {
    pub root: PathBuf,
    /// package directory -> package name
    pub packages: BTreeMap<PathBuf, String>,
    pub exact: BTreeSet<Exact>,
    pub file_level: BTreeSet<FileLevel>,
}

impl Fixture {
    pub fn load(root: &Path) -> Fixture {
        let mut files = Vec::new();
        walk(root, &mut files);
        let mut packages = BTreeMap::new();
        for f in &files {
            if f.file_name().is_some_and(|n| n == "Cargo.toml")
                && let Some(name) = package_name(f)
            {
                packages.insert(f.parent().unwrap().to_path_buf(), name);
            }
        }
        let mut fx = Fixture {
            root: root.to_path_buf(),
            packages,
            exact: BTreeSet::new(),
            file_level: BTreeSet::new(),
        };
        for f in &files {
            fx.collect_markers(f);
        }
        fx
    }

    pub fn package_names(&self) -> BTreeSet<String> {
        self.packages.values().cloned().collect()
    }

    /// The package owning `file` (the nearest enclosing package directory)
    /// and the file's path relative to that package, '/'-separated.
    fn owner(&self, file: &Path) -> Option<(String, PathBuf, String)> {
        let mut dir = file.parent();
        while let Some(d) = dir {
            if let Some(name) = self.packages.get(d) {
                let rel = file.strip_prefix(d).unwrap();
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                return Some((name.clone(), d.to_path_buf(), rel));
            }
            if d == self.root {
                break;
            }
            dir = d.parent();
        }
        None
    }

    fn collect_markers(&mut self, file: &Path) {
        let is_rs = file.extension().is_some_and(|e| e == "rs");
        let is_manifest = file.file_name().is_some_and(|n| n == "Cargo.toml");
        if !is_rs && !is_manifest {
            return;
        }
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let mut found = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            let at = format!("{}:{}", file.display(), i + 1);
            let marker = if is_rs { "//~" } else { "#~" };
            let Some(pos) = line.find(marker) else {
                continue;
            };
            let mut rest = &line[pos + marker.len()..];
            let file_level = is_rs && rest.starts_with('!');
            if file_level {
                rest = &rest[1..];
            }
            let mut scope = Scope::Code;
            let trimmed = rest.trim_start();
            if let Some(after) = trimmed.strip_prefix("build-script:") {
                assert!(is_rs, "{at}: build-script markers belong in .rs files");
                scope = Scope::BuildScript;
                rest = after;
            }
            let caps: Vec<&str> = rest.split_whitespace().collect();
            assert!(!caps.is_empty(), "{at}: marker without capability");
            for cap in caps {
                assert!(
                    CAPABILITIES.contains(&cap),
                    "{at}: unknown capability {cap:?} in marker"
                );
                found.push((i as u64 + 1, file_level, scope, cap.to_string()));
            }
        }
        if found.is_empty() {
            return;
        }
        let (pkg, _dir, rel) = self.owner(file).unwrap_or_else(|| {
            panic!(
                "{}: markers in a file that belongs to no package",
                file.display()
            )
        });
        let first = rel.split('/').next().unwrap_or("");
        assert!(
            !["tests", "examples", "benches"].contains(&first),
            "{}: files under tests/, examples/ and benches/ are not scanned and must carry no markers",
            file.display()
        );
        for (line, file_level, scope, cap) in found {
            if file_level {
                self.file_level
                    .insert((pkg.clone(), scope, rel.clone(), cap));
            } else {
                self.exact
                    .insert((pkg.clone(), scope, rel.clone(), line, cap));
            }
        }
    }

    /// Compares the findings of every package in the report with the markers.
    pub fn assert_matches(&self, report: &Value) {
        let known = self.package_names();
        let in_report = package_names(report);
        let unknown: Vec<_> = in_report.difference(&known).collect();
        assert!(
            unknown.is_empty(),
            "{}: packages not in the fixture: {unknown:?}",
            self.root.display()
        );

        // Actual findings, with their evidence for the diff.
        let mut actual: BTreeMap<Exact, Vec<String>> = BTreeMap::new();
        for p in packages(report) {
            let name = p["name"].as_str().unwrap().to_string();
            for (scope, list) in [
                (Scope::Code, &p["findings"]),
                (Scope::BuildScript, &p["build_script"]["findings"]),
            ] {
                for f in list.as_array().unwrap() {
                    let key = (
                        name.clone(),
                        scope,
                        f["file"].as_str().unwrap_or("<no file>").to_string(),
                        f["line"].as_u64().unwrap_or(0),
                        f["capability"].as_str().unwrap().to_string(),
                    );
                    let note = format!(
                        "col {} evidence {} rule {}",
                        f["column"], f["evidence"], f["rule"]
                    );
                    actual.entry(key).or_default().push(note);
                }
            }
        }

        let expected: BTreeSet<&Exact> = self
            .exact
            .iter()
            .filter(|k| in_report.contains(&k.0))
            .collect();
        let file_level: BTreeSet<&FileLevel> = self
            .file_level
            .iter()
            .filter(|k| in_report.contains(&k.0))
            .collect();

        let mut missing: Vec<String> = Vec::new();
        for k in &expected {
            if !actual.contains_key(*k) {
                missing.push(format!("{} {}:{} {}{}", k.0, k.2, k.3, k.4, k.1.label()));
            }
        }
        for k in &file_level {
            let hit = actual
                .keys()
                .any(|a| a.0 == k.0 && a.1 == k.1 && a.2 == k.2 && a.4 == k.3);
            if !hit {
                missing.push(format!("{} {}:<any line> {}{}", k.0, k.2, k.3, k.1.label()));
            }
        }
        let mut unexpected: Vec<String> = Vec::new();
        for (k, notes) in &actual {
            let covered = expected.contains(k)
                || file_level
                    .iter()
                    .any(|f| f.0 == k.0 && f.1 == k.1 && f.2 == k.2 && f.3 == k.4);
            if !covered {
                let line = if k.3 == 0 {
                    "<no line>".to_string()
                } else {
                    k.3.to_string()
                };
                unexpected.push(format!(
                    "{} {}:{} {}{}  ({})",
                    k.0,
                    k.2,
                    line,
                    k.4,
                    k.1.label(),
                    notes.join("; ")
                ));
            }
        }
        if missing.is_empty() && unexpected.is_empty() {
            return;
        }
        let mut msg = format!(
            "{}: findings differ from the markers\n",
            self.root.display()
        );
        if !missing.is_empty() {
            let _ = writeln!(msg, "  missing (marker without finding):");
            for m in &missing {
                let _ = writeln!(msg, "    - {m}");
            }
        }
        if !unexpected.is_empty() {
            let _ = writeln!(msg, "  unexpected (finding without marker):");
            for u in &unexpected {
                let _ = writeln!(msg, "    + {u}");
            }
        }
        panic!("{msg}");
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// `name` of the `[package]` table of a manifest, if it has one.
fn package_name(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
            continue;
        }
        if section == "package"
            && let Some(rest) = line.strip_prefix("name")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            return Some(
                value
                    .split('#')
                    .next()
                    .unwrap()
                    .trim()
                    .trim_matches('"')
                    .to_string(),
            );
        }
    }
    None
}

/// The directories directly under `dir`, sorted (one case each in
/// `fixtures/corpus/` and `fixtures/hostile/`).
pub fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Copies `fixtures/NAME` into a fresh temporary directory (without `target/`).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture_dir(name), tmp.path());
    tmp
}

/// A workspace in a temporary directory: `TMP/NAME/` (a copy of a fixture,
/// or what the test writes) beside an empty `TMP/cargo-home/`. Commands run
/// inside the workspace with that `CARGO_HOME`, so nothing of the user's
/// cargo (an advisory database, configuration) leaks in, and the
/// repository is never written.
pub struct TempWorkspace {
    pub tmp: tempfile::TempDir,
    /// `TMP/NAME`: the workspace root.
    pub ws: PathBuf,
}

impl TempWorkspace {
    /// An empty workspace directory `TMP/NAME`.
    pub fn empty(name: &str) -> TempWorkspace {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ws = tmp.path().join(name);
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(tmp.path().join("cargo-home")).unwrap();
        TempWorkspace { tmp, ws }
    }

    /// A copy of `fixtures/NAME` at `TMP/BASENAME` (`corpus/x` -> `TMP/x`),
    /// so that the workspace's directory name is the fixture's.
    pub fn copy(fixture: &str) -> TempWorkspace {
        let name = Path::new(fixture)
            .file_name()
            .expect("a fixture name")
            .to_string_lossy()
            .into_owned();
        let w = TempWorkspace::empty(&name);
        copy_dir(&fixture_dir(fixture), &w.ws);
        w
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.ws
    }

    /// A workspace-relative path on disk.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.ws.join(rel)
    }

    /// A scratch path outside the workspace, in the same temporary directory.
    pub fn scratch(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn manifest(&self) -> String {
        self.path("Cargo.toml").display().to_string()
    }

    pub fn cargo_home(&self) -> PathBuf {
        self.tmp.path().join("cargo-home")
    }

    pub fn read(&self, rel: &str) -> String {
        let p = self.path(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Writes a workspace-relative file, creating its directories.
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }

    /// The binary ([`capgate`]), to run inside the workspace with the empty
    /// `CARGO_HOME`.
    pub fn command(&self) -> assert_cmd::Command {
        let mut cmd = capgate();
        cmd.current_dir(&self.ws)
            .env("CARGO_HOME", self.cargo_home());
        cmd
    }

    /// `cargo-capgate CMD --manifest-path WS/Cargo.toml --offline ARGS...`
    /// from [`Self::command`].
    pub fn run(&self, cmd: &str, args: &[&str]) -> Run {
        Run::of(&mut self.command(), &manifest_args(cmd, &self.ws, args))
    }
}

/// Copies the directory `from` to `to` (created), recursively, leaving out
/// any `target/`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A non-empty relative path with `/` separators and no `.`/`..` parts.
fn is_relative_slash_path(file: &str) -> bool {
    let has_drive = file.len() > 1 && file.as_bytes()[1] == b':';
    let bad_part = file
        .split('/')
        .any(|c| c == ".." || c == "." || c.is_empty());
    !(file.is_empty() || file.starts_with('/') || file.contains('\\') || bad_part || has_drive)
}

// ---------------------------------------------------------------------------
// git, isolated from the user
// ---------------------------------------------------------------------------

/// Variables that would point git at another repository (a hook running
/// the suite sets `GIT_DIR` and `GIT_INDEX_FILE`): never inherited.
pub const GIT_REPO_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
];

/// Isolates a command (git, or the binary running git) from the user's git
/// configuration and from any repository around the temporary directory
/// `tmp`.
pub fn isolate_git<C: GitEnv>(cmd: &mut C, tmp: &Path) {
    for var in GIT_REPO_VARS {
        cmd.remove(var);
    }
    cmd.set("GIT_CONFIG_NOSYSTEM", "1".as_ref());
    cmd.set("GIT_CONFIG_GLOBAL", "/dev/null".as_ref());
    cmd.set("GIT_CEILING_DIRECTORIES", tmp.as_os_str());
    cmd.set("GIT_TERMINAL_PROMPT", "0".as_ref());
}

/// The environment of a command about to run, for [`isolate_git`].
pub trait GitEnv {
    fn set(&mut self, key: &str, value: &std::ffi::OsStr);
    fn remove(&mut self, key: &str);
}

impl GitEnv for std::process::Command {
    fn set(&mut self, key: &str, value: &std::ffi::OsStr) {
        self.env(key, value);
    }
    fn remove(&mut self, key: &str) {
        self.env_remove(key);
    }
}

impl GitEnv for assert_cmd::Command {
    fn set(&mut self, key: &str, value: &std::ffi::OsStr) {
        self.env(key, value);
    }
    fn remove(&mut self, key: &str) {
        self.env_remove(key);
    }
}

/// Runs `git ARGS` in `dir` as user `t`, isolated by [`isolate_git`] (with
/// `tmp` as the ceiling), without signing; panics unless it succeeds and
/// returns its stdout.
pub fn git(dir: &Path, tmp: &Path, args: &[&str]) -> String {
    let mut cmd = std::process::Command::new("git");
    cmd.args([
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "-c",
        "init.defaultBranch=main",
        "-c",
        "commit.gpgsign=false",
    ])
    .args(args)
    .current_dir(dir);
    isolate_git(&mut cmd, tmp);
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("git output is UTF-8")
}
