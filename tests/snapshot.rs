//! Snapshot tests ([insta](https://insta.rs)): the outputs people and
//! programs read, for fixtures with violations, so that any change in what
//! they print is a diff reviewed in `tests/snapshots/*.snap`.
//!
//! | fixture | outputs |
//! | --- | --- |
//! | `policy` (members, path dependencies, two versions of `dual`, a build script, unanalysed source) | `scan -v`, `check` (human, JSON, SARIF, GitHub) under `policies/empty.toml`, `explain files` and `explain dual --format json` under `policies/fs-read-only.toml`, `bom` |
//! | `corpus/transitive-two-levels` (a capability reached through two crates; no policy) | `scan -v`, `check` (human, JSON, SARIF, GitHub), `explain subject process.spawn`, `bom` |
//! | the `diff` scenario of `diff.rs` (a package added, one removed, one upgraded) | `diff --format markdown`, `diff` (human) |
//!
//! Every run is of the real binary on a copy of the fixture in a temporary
//! directory (`util::TempWorkspace`: an empty `CARGO_HOME`, outside any git
//! repository, so SARIF paths are the workspace's), for `--target
//! x86_64-unknown-linux-gnu` whatever the host, with the repository's
//! advisory database (`fixtures/advisory-db`), `--color never`. Only stdout
//! is kept (stderr carries timings). What differs between machines or runs
//! is replaced by insta filters ([`filters`]), never edited by hand:
//!
//! | what | becomes |
//! | --- | --- |
//! | the temporary directory (as given and canonical) | `[TMP]` |
//! | the repository root | `[REPO]` |
//! | the tool's version (`tool`, BoM `tools`, SARIF `driver`) | `[VERSION]` |
//! | the BoM's `timestamp` and `serialNumber` | `[TIMESTAMP]`, `[SERIAL]` |
//! | durations (`1.23 s`) | `[DURATION]` |
//! | the host triple, where it is not the target | `[HOST]` |
//! | `diff`'s commit SHAs (and abbreviations) | `<base>`, `<head>` |
//!
//! After an intended change: `INSTA_UPDATE=always cargo nextest run
//! snapshot`, then review `git diff tests/snapshots` line by line (with
//! `CI=true`, insta writes nothing and fails on any difference).

use std::path::Path;

use crate::diff::Scenario;
use crate::util::{self, LINUX, Run, TempWorkspace};

const POLICY: &str = "policy";
const REACH: &str = "corpus/transitive-two-levels";

/// The insta filters for output produced under the temporary directory
/// `tmp`, plus `extra` (pattern, replacement) pairs.
fn filters(tmp: &Path, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut roots = vec![tmp.to_path_buf()];
    if let Ok(canonical) = tmp.canonicalize() {
        roots.push(canonical);
    }
    let mut out: Vec<(String, String)> = roots
        .iter()
        .map(|root| (regex_escape(&root.display().to_string()), "[TMP]".into()))
        .collect();
    out.push((
        regex_escape(&util::repo_root().display().to_string()),
        "[REPO]".into(),
    ));
    let version = regex_escape(env!("CARGO_PKG_VERSION"));
    out.extend(
        [
            // `tool` of a JSON report, `tools` of a BoM.
            (
                format!(r#"("name": "cargo-capgate",\s*(?:"vendor": "cargo-capgate",\s*)?"version": )"{version}""#),
                r#"$1"[VERSION]""#.to_string(),
            ),
            // SARIF's driver: its `version` follows its `rules`.
            (
                format!(r#"("name": "cargo-capgate",\s*"rules": \[[\s\S]*?\],\s*"version": )"{version}""#),
                r#"$1"[VERSION]""#.to_string(),
            ),
            (
                r#""timestamp": "[^"]*""#.to_string(),
                r#""timestamp": "[TIMESTAMP]""#.to_string(),
            ),
            (
                r#""serialNumber": "urn:uuid:[^"]*""#.to_string(),
                r#""serialNumber": "[SERIAL]""#.to_string(),
            ),
            (r"\b\d+\.\d+ s\b".to_string(), "[DURATION]".to_string()),
        ],
    );
    if let Some(host) = host_triple().filter(|h| h != LINUX) {
        out.push((regex_escape(&host), "[HOST]".into()));
    }
    out.extend(extra.iter().cloned());
    out
}

/// rustc's host triple, when rustc answers.
fn host_triple() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Asserts the snapshot `name` of `text` under [`filters`].
fn assert_snapshot(name: &str, tmp: &Path, extra: &[(String, String)], text: &str) {
    let filters = filters(tmp, extra);
    let filters: Vec<(&str, &str)> = filters
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    insta::with_settings!({ filters => filters, omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

/// A copy of `fixture`, run as the module's documentation says.
struct Snap {
    ws: TempWorkspace,
}

impl Snap {
    fn new(fixture: &str) -> Snap {
        Snap {
            ws: TempWorkspace::copy(fixture),
        }
    }

    /// `CMD --manifest-path … --offline --target LINUX [--advisory-db …]
    /// --color never ARGS…` (the database for the commands that read it),
    /// which must exit `code`.
    fn run(&self, cmd: &str, args: &[&str], code: i32) -> Run {
        let db = util::fixture_dir("advisory-db").display().to_string();
        let mut all = vec!["--target", LINUX, "--color", "never"];
        if cmd != "explain" {
            all.extend(["--advisory-db", db.as_str()]);
        }
        all.extend_from_slice(args);
        let mut command = self.ws.command();
        command.env("NO_COLOR", "1");
        let run = Run::of(
            &mut command,
            &util::manifest_args(cmd, self.ws.root(), &all),
        );
        run.assert_code(code);
        run
    }

    /// [`Self::run`] and the snapshot of its stdout.
    fn assert(&self, name: &str, cmd: &str, args: &[&str], code: i32) {
        let run = self.run(cmd, args, code);
        assert_snapshot(name, self.ws.tmp.path(), &[], &run.stdout);
    }
}

/// `check` of the `policy` fixture under `policies/empty.toml` (nothing
/// granted: six violations in four packages, one of them in a build
/// script), with `args`.
fn policy_check(name: &str, args: &[&str]) {
    let s = Snap::new(POLICY);
    let mut all = vec!["--policy", "policies/empty.toml"];
    all.extend_from_slice(args);
    s.assert(name, "check", &all, 1);
}

#[test]
fn policy_scan_verbose() {
    Snap::new(POLICY).assert("policy_scan_verbose", "scan", &["-v"], 0);
}

#[test]
fn policy_check_human() {
    policy_check("policy_check_human", &[]);
}

#[test]
fn policy_check_json() {
    policy_check("policy_check_json", &["--format", "json"]);
}

#[test]
fn policy_check_sarif() {
    policy_check("policy_check_sarif", &["--format", "sarif"]);
}

#[test]
fn policy_check_github() {
    policy_check("policy_check_github", &["--format", "github"]);
}

#[test]
fn policy_explain_human() {
    Snap::new(POLICY).assert(
        "policy_explain_files",
        "explain",
        &["files", "--policy", "policies/fs-read-only.toml"],
        0,
    );
}

#[test]
fn policy_explain_json() {
    Snap::new(POLICY).assert(
        "policy_explain_dual_json",
        "explain",
        &[
            "dual",
            "--policy",
            "policies/fs-read-only.toml",
            "--format",
            "json",
        ],
        0,
    );
}

#[test]
fn policy_bom() {
    Snap::new(POLICY).assert("policy_bom", "bom", &[], 0);
}

#[test]
fn reach_scan_verbose() {
    Snap::new(REACH).assert("reach_scan_verbose", "scan", &["-v"], 0);
}

#[test]
fn reach_check_human() {
    Snap::new(REACH).assert("reach_check_human", "check", &[], 1);
}

#[test]
fn reach_check_json() {
    Snap::new(REACH).assert("reach_check_json", "check", &["--format", "json"], 1);
}

#[test]
fn reach_check_sarif() {
    Snap::new(REACH).assert("reach_check_sarif", "check", &["--format", "sarif"], 1);
}

#[test]
fn reach_check_github() {
    Snap::new(REACH).assert("reach_check_github", "check", &["--format", "github"], 1);
}

#[test]
fn reach_explain_human() {
    Snap::new(REACH).assert(
        "reach_explain_subject_process_spawn",
        "explain",
        &["subject", "process.spawn"],
        0,
    );
}

#[test]
fn reach_bom() {
    Snap::new(REACH).assert("reach_bom", "bom", &[], 0);
}

// ---------------------------------------------------------------------------
// diff: two commits of a repository (the scenario of diff.rs)
// ---------------------------------------------------------------------------

/// Filters for the scenario's commits: each SHA and any abbreviation of it
/// (7 hex digits or more) becomes `<base>` or `<head>`.
fn commit_filters(s: &Scenario) -> Vec<(String, String)> {
    [(&s.base, "<base>"), (&s.head, "<head>")]
        .into_iter()
        .map(|(sha, label)| (format!(r"\b{}[0-9a-f]*\b", &sha[..7]), label.to_string()))
        .collect()
}

#[test]
fn diff_markdown() {
    let s = Scenario::new("");
    let r = s.repo.diff(&["--base", "HEAD~1", "--format", "markdown"]);
    r.assert_code(1);

    // What the contract fixes, whatever the snapshot says.
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with('❌'), "verdict first: {first:?}");
    for word in ["added", "removed", "upgraded"] {
        assert!(
            first.contains(word),
            "the first line counts {word}: {first:?}"
        );
    }
    for needle in [
        "| package |",
        "net-thing",
        "remove-me",
        "upgrade-me",
        "net.connect",
        "fs.read",
        "<details>",
        "</details>",
        "std::net::TcpStream::connect",
    ] {
        assert!(
            r.stdout.contains(needle),
            "Markdown has {needle:?}\n{}",
            r.stdout
        );
    }
    assert_snapshot(
        "diff_markdown",
        s.repo.tmp.path(),
        &commit_filters(&s),
        &r.stdout,
    );
}

#[test]
fn diff_human() {
    let s = Scenario::new("");
    let r = s.repo.diff(&["--base", "HEAD~1", "--color", "never"]);
    r.assert_code(1);
    assert_snapshot(
        "diff_human",
        s.repo.tmp.path(),
        &commit_filters(&s),
        &r.stdout,
    );
}
