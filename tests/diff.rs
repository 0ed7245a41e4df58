//! `diff --base REV` and the formats CI consumes: the diff as JSON, Markdown
//! and human text, SARIF 2.1.0 of `check` and `diff`, and `check --format
//! github` annotations.
//!
//! Every test builds its own git repository in a temporary directory with
//! the `git` CLI (two commits, see [`Scenario`]) and runs the real binary on
//! it with `--offline`, an empty `CARGO_HOME` (no advisory database leaks in)
//! and git isolated from the user's configuration and from any `GIT_DIR` of
//! a hook the suite may run under. Nothing is written into this repository.
//!
//! The base commit is a workspace with one member, `app`, and three path
//! dependencies; the head commit adds one, upgrades one and removes one:
//!
//! | package | base | head |
//! | --- | --- | --- |
//! | app (member) | 0.1.0, nothing | 0.1.0, nothing |
//! | keep-me | 0.1.0, env.read | 0.1.0, env.read |
//! | upgrade-me | 0.1.0, nothing | 0.2.0, fs.read `src/lib.rs:6:5` |
//! | remove-me | 0.1.0, process.spawn | (removed) |
//! | net-thing | (absent) | 0.1.0, net.connect `src/lib.rs:4:5` |
//!
//! Both commits carry the base policy ([`BASE_POLICY`], what `init` would
//! write for the base), unless a test commits another one at head.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::util::{self, Run};

// ---------------------------------------------------------------------------
// The two states of the repository
// ---------------------------------------------------------------------------

const WORKSPACE: &str = r#"[workspace]
members = ["app"]
exclude = ["deps"]
resolver = "2"
"#;

const APP_BASE: &str = r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
keep-me = { path = "../deps/keep-me" }
remove-me = { path = "../deps/remove-me" }
upgrade-me = { path = "../deps/upgrade-me" }
"#;

const APP_HEAD: &str = r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
keep-me = { path = "../deps/keep-me" }
net-thing = { path = "../deps/net-thing" }
upgrade-me = { path = "../deps/upgrade-me" }
"#;

/// The member names no item of its dependencies, so it reaches none of
/// their capabilities (whether or not `reach` is implemented).
const APP_LIB: &str = "//! The workspace member: it does nothing itself.\n\npub fn app() {}\n";

/// `app` reading the environment: a violation of a workspace member.
const APP_LIB_ENV: &str = r#"pub fn debug() -> bool {
    std::env::var("APP_DEBUG").is_ok()
}
"#;

const KEEP_ME_LIB: &str = r#"pub fn home() -> Option<String> {
    std::env::var("HOME").ok()
}
"#;

const REMOVE_ME_LIB: &str = r#"pub fn run() -> bool {
    std::process::Command::new("true").status().is_ok()
}
"#;

const UPGRADE_ME_0_1_LIB: &str = r#"pub fn answer() -> u32 {
    42
}
"#;

const UPGRADE_ME_0_2_LIB: &str = r#"pub fn answer() -> u32 {
    42
}

pub fn config() -> Vec<u8> {
    std::fs::read("config.toml").unwrap_or_default()
}
"#;

const NET_THING_LIB: &str = r#"use std::net::TcpStream;

pub fn ping() -> bool {
    TcpStream::connect("127.0.0.1:9").is_ok()
}
"#;

/// What `cargo capgate init` writes for the base state (by hand, so that the
/// test does not depend on `init`).
const BASE_POLICY: &str = r#"# cargo-capgate policy: what each package may do.
# Written by `cargo capgate init` from what the packages do today; review
# every grant, and add a `reason` where it is not obvious. A capability
# grants its sub-capabilities ("fs" grants "fs.read" and "fs.write").
# Packages not listed get [defaults].

[defaults]
allow = []

[pkg.keep-me]
allow = [
    "env.read", # src/lib.rs:2:5 std::env::var
]

[pkg.remove-me]
allow = [
    "process.spawn", # src/lib.rs:2:5 std::process::Command::new
]
"#;

/// A head policy granting what head added, and dropping the removed
/// package's entry.
const HEAD_POLICY_GRANTING: &str = r#"[defaults]
allow = []

[pkg.keep-me]
allow = ["env.read"]

[pkg.net-thing]
allow = ["net.connect"]
reason = "pings the server"

[pkg.upgrade-me]
allow = ["fs.read"]
reason = "reads its configuration"
"#;

/// A policy granting nothing: every capability of the base is a violation.
const EMPTY_POLICY: &str = "[defaults]\nallow = []\n";

fn dep_manifest(name: &str, version: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\npublish = false\n"
    )
}

/// Writes the base state (manifests, sources, README, policy) and its
/// Cargo.lock.
fn write_base(repo: &Repo) {
    repo.write("Cargo.toml", WORKSPACE);
    repo.write("README.md", "# demo\n");
    repo.write("app/Cargo.toml", APP_BASE);
    repo.write("app/src/lib.rs", APP_LIB);
    repo.write("deps/keep-me/Cargo.toml", &dep_manifest("keep-me", "0.1.0"));
    repo.write("deps/keep-me/src/lib.rs", KEEP_ME_LIB);
    repo.write(
        "deps/remove-me/Cargo.toml",
        &dep_manifest("remove-me", "0.1.0"),
    );
    repo.write("deps/remove-me/src/lib.rs", REMOVE_ME_LIB);
    repo.write(
        "deps/upgrade-me/Cargo.toml",
        &dep_manifest("upgrade-me", "0.1.0"),
    );
    repo.write("deps/upgrade-me/src/lib.rs", UPGRADE_ME_0_1_LIB);
    repo.write("capgate.toml", BASE_POLICY);
    repo.lock();
}

/// Turns the base state into the head state (net-thing added, upgrade-me
/// 0.2.0 reading a file, remove-me gone) and regenerates Cargo.lock.
fn write_head(repo: &Repo) {
    repo.write("app/Cargo.toml", APP_HEAD);
    repo.write(
        "deps/net-thing/Cargo.toml",
        &dep_manifest("net-thing", "0.1.0"),
    );
    repo.write("deps/net-thing/src/lib.rs", NET_THING_LIB);
    repo.write(
        "deps/upgrade-me/Cargo.toml",
        &dep_manifest("upgrade-me", "0.2.0"),
    );
    repo.write("deps/upgrade-me/src/lib.rs", UPGRADE_ME_0_2_LIB);
    repo.remove_dir("deps/remove-me");
    repo.lock();
}

// ---------------------------------------------------------------------------
// A git repository in a temporary directory
// ---------------------------------------------------------------------------

/// `TMP/repo` is the git repository; the Cargo workspace is `TMP/repo` or a
/// subdirectory of it (`subdir`), so that repository-relative paths differ
/// from workspace-relative ones. `TMP/cargo-home` is an empty `CARGO_HOME`.
pub(crate) struct Repo {
    pub(crate) tmp: TempDir,
    root: PathBuf,
    ws: PathBuf,
    subdir: &'static str,
}

impl Repo {
    fn new(subdir: &'static str) -> Repo {
        let repo = Repo::without_git(subdir);
        repo.git(&["init", "-q"]);
        repo
    }

    /// The same layout with no `git init`.
    fn without_git(subdir: &'static str) -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("repo");
        let ws = if subdir.is_empty() {
            root.clone()
        } else {
            root.join(subdir)
        };
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::create_dir_all(tmp.path().join("cargo-home")).unwrap();
        Repo {
            tmp,
            root,
            ws,
            subdir,
        }
    }

    fn cargo_home(&self) -> PathBuf {
        self.tmp.path().join("cargo-home")
    }

    /// Runs `git ARGS` in the repository root; returns its stdout.
    fn git(&self, args: &[&str]) -> String {
        util::git(&self.root, self.tmp.path(), args)
    }

    /// `git add -A && git commit`; returns the new commit's SHA.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.rev("HEAD")
    }

    fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", rev]).trim().to_string()
    }

    /// A workspace-relative path on disk.
    fn path(&self, rel: &str) -> PathBuf {
        self.ws.join(rel)
    }

    /// The repository-relative path of a workspace-relative one.
    fn repo_rel(&self, rel: &str) -> String {
        if self.subdir.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.subdir)
        }
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }

    fn read(&self, rel: &str) -> String {
        let p = self.path(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn remove_dir(&self, rel: &str) {
        std::fs::remove_dir_all(self.path(rel)).unwrap();
    }

    /// 1-based number of the first line of `rel` containing `needle`.
    fn line_of(&self, rel: &str, needle: &str) -> u64 {
        let text = self.read(rel);
        let n = text
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{rel} has no line containing {needle:?}:\n{text}"));
        n as u64 + 1
    }

    /// Writes Cargo.lock the way the fixtures' README says (path
    /// dependencies only, offline).
    fn lock(&self) {
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["metadata", "--offline", "--format-version", "1"])
            .current_dir(&self.ws)
            .env("CARGO_HOME", self.cargo_home())
            .output()
            .expect("run cargo metadata");
        assert!(
            out.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(self.path("Cargo.lock").is_file(), "Cargo.lock written");
    }

    /// `cargo-capgate CMD --manifest-path WS/Cargo.toml --offline ARGS...`,
    /// run inside the workspace.
    fn run(&self, cmd: &str, args: &[&str]) -> Run {
        self.run_raw(&self.ws, &util::manifest_args(cmd, &self.ws, args))
    }

    /// The binary with exactly these arguments, in `dir`.
    fn run_raw<S: AsRef<str>>(&self, dir: &Path, args: &[S]) -> Run {
        let mut cmd = util::capgate();
        cmd.current_dir(dir)
            .env("CARGO_HOME", self.cargo_home())
            .env("NO_COLOR", "1");
        util::isolate_git(&mut cmd, self.tmp.path());
        Run::of(&mut cmd, args)
    }

    pub(crate) fn diff(&self, args: &[&str]) -> Run {
        self.run("diff", args)
    }

    /// `diff ARGS --format json`, which must exit `code`; the parsed JSON,
    /// checked against `schemas/diff-v1.schema.json`.
    fn diff_json(&self, args: &[&str], code: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let r = self.diff(&all);
        r.assert_code(code);
        let report = parse_json(&r);
        crate::schema::assert_valid(&crate::schema::validator("diff"), "diff", &report);
        report
    }

    /// The head's scan report (working tree).
    fn scan(&self) -> Value {
        self.run("scan", &["--format", "json"])
            .assert_code(0)
            .report()
    }

    /// `git status --porcelain` including untracked files.
    fn status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    /// Asserts that `git worktree list` shows the main worktree only.
    fn assert_only_main_worktree(&self, what: &str) {
        let list = self.git(&["worktree", "list", "--porcelain"]);
        let trees: Vec<&str> = list
            .lines()
            .filter_map(|l| l.strip_prefix("worktree "))
            .collect();
        let root = self.root.canonicalize().unwrap();
        assert!(
            trees.len() == 1 && Path::new(trees[0]).canonicalize().unwrap() == root,
            "{what}: a worktree was left behind:\n{list}"
        );
    }
}

fn parse_json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", r.describe()))
}

/// A repository with the base commit and the head commit on top of it; the
/// working tree is clean, at head.
pub(crate) struct Scenario {
    pub(crate) repo: Repo,
    pub(crate) base: String,
    pub(crate) head: String,
}

impl Scenario {
    /// Head keeps the base policy (so what head added are new violations).
    pub(crate) fn new(subdir: &'static str) -> Scenario {
        Scenario::with_head_policy(subdir, None)
    }

    /// Head commits `policy` as its capgate.toml, when given.
    fn with_head_policy(subdir: &'static str, policy: Option<&str>) -> Scenario {
        let repo = Repo::new(subdir);
        write_base(&repo);
        let base = repo.commit("base");
        write_head(&repo);
        if let Some(policy) = policy {
            repo.write("capgate.toml", policy);
        }
        let head = repo.commit("head");
        assert_eq!(repo.status(), "", "the working tree is clean at head");
        Scenario { repo, base, head }
    }

    /// The finding of `package` for `capability` in head's scan, checked
    /// against the source (file and line).
    fn head_finding(&self, scan: &Value, package: &str, capability: &str, needle: &str) -> Value {
        let p = util::package(scan, package);
        let found: Vec<&Value> = p["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["capability"] == capability)
            .collect();
        assert_eq!(found.len(), 1, "{package}: one {capability} finding: {p}");
        let f = found[0].clone();
        let line = self
            .repo
            .line_of(&format!("deps/{package}/src/lib.rs"), needle);
        assert_eq!(f["file"], "src/lib.rs", "{package}: {f}");
        assert_eq!(f["line"], line, "{package}: {f}");
        f
    }

    /// The whole expected `diff --format json` report of this scenario.
    /// `granted`: head's policy is [`HEAD_POLICY_GRANTING`] (else the base
    /// policy, unchanged).
    fn expected(&self, base: Value, head: Value, granted: bool) -> Value {
        let scan = self.repo.scan();
        let net = self.head_finding(&scan, "net-thing", "net.connect", "TcpStream::connect(");
        let fs = self.head_finding(&scan, "upgrade-me", "fs.read", "std::fs::read(");
        let (policy, new_violations, verdict) = if granted {
            (
                policy_changes(
                    json!([
                        {"package": "net-thing", "scope": "code", "capability": "net.connect"},
                        {"package": "upgrade-me", "scope": "code", "capability": "fs.read"}
                    ]),
                    json!([
                        {"package": "remove-me", "scope": "code", "capability": "process.spawn"}
                    ]),
                ),
                json!([]),
                "pass",
            )
        } else {
            (
                policy_changes(json!([]), json!([])),
                json!([
                    {"package": "net-thing", "version": "0.1.0", "capability": "net.connect", "scope": "code",
                     "grant": grant("net-thing", "allow", "net.connect")},
                    {"package": "upgrade-me", "version": "0.2.0", "capability": "fs.read", "scope": "code",
                     "grant": grant("upgrade-me", "allow", "fs.read")}
                ]),
                "fail",
            )
        };
        json!({
            "schema_version": 1,
            "tool": {"name": "cargo-capgate", "version": env!("CARGO_PKG_VERSION")},
            "base": base,
            "head": head,
            "added": [
                {"name": "net-thing", "version": "0.1.0", "capabilities": ["net.connect"]}
            ],
            "removed": [
                {"name": "remove-me", "version": "0.1.0", "capabilities": ["process.spawn"]}
            ],
            "upgraded": [
                {"name": "upgrade-me", "from": "0.1.0", "to": "0.2.0"}
            ],
            "changes": [
                {"package": "net-thing", "version": "0.1.0", "scope": "code",
                 "gained": ["net.connect"], "lost": [], "findings": [net]},
                {"package": "upgrade-me", "version": "0.2.0", "scope": "code",
                 "gained": ["fs.read"], "lost": [], "findings": [fs]}
            ],
            "policy": policy,
            "new_advisories": [],
            // An extension of the contract: the new advisories that fail
            // (`new_advisories` lists every new one, informational too).
            "new_advisory_violations": [],
            "new_violations": new_violations,
            "verdict": verdict
        })
    }
}

/// The `policy` object of a diff whose policies differ only in grants.
fn policy_changes(added: Value, removed: Value) -> Value {
    let widened = added.as_array().is_some_and(|a| !a.is_empty());
    json!({
        "widened": widened,
        "grants_added": added,
        "grants_removed": removed,
        "ignores_added": [],
        "ignores_removed": [],
        "accepts_added": [],
        "accepts_removed": []
    })
}

/// The grant of one capability to a package that has an entry of its own
/// (or an empty `[defaults]`), as `new_violations` carries it.
fn grant(package: &str, key: &str, capability: &str) -> Value {
    json!({
        "table": format!("pkg.{package}"),
        "lines": [{"key": key, "add": [capability]}],
        "toml": format!("[pkg.{package}]\n{key} = [\"{capability}\"]\n"),
    })
}

fn working_tree() -> Value {
    json!({"rev": "working tree", "commit": null})
}

fn assert_json_eq(actual: &Value, expected: &Value, what: &str) {
    if actual == expected {
        return;
    }
    let mut keys = Vec::new();
    if let (Some(a), Some(e)) = (actual.as_object(), expected.as_object()) {
        let all: BTreeSet<&String> = a.keys().chain(e.keys()).collect();
        keys = all.into_iter().filter(|k| a.get(*k) != e.get(*k)).collect();
    }
    panic!(
        "{what}: the JSON differs (keys {keys:?})\n--- expected ---\n{}\n--- actual ---\n{}",
        serde_json::to_string_pretty(expected).unwrap(),
        serde_json::to_string_pretty(actual).unwrap()
    );
}

// ---------------------------------------------------------------------------
// diff: JSON
// ---------------------------------------------------------------------------

#[test]
fn diff_json_lists_added_removed_upgraded_packages_and_new_violations() {
    let s = Scenario::new("");
    let actual = s.repo.diff_json(&["--base", "HEAD~1"], 1);
    let expected = s.expected(
        json!({"rev": "HEAD~1", "commit": s.base}),
        working_tree(),
        false,
    );
    assert_json_eq(&actual, &expected, "diff --base HEAD~1");
}

#[test]
fn diff_passes_when_heads_policy_grants_what_head_added() {
    let s = Scenario::with_head_policy("", Some(HEAD_POLICY_GRANTING));
    let actual = s.repo.diff_json(&["--base", "HEAD~1"], 0);
    let expected = s.expected(
        json!({"rev": "HEAD~1", "commit": s.base}),
        working_tree(),
        true,
    );
    assert_json_eq(&actual, &expected, "diff with head's grants");

    // The other formats agree on the verdict, and none shows a change that
    // grants itself what it needs as a plain pass.
    let md = s.repo.diff(&["--base", "HEAD~1", "--format", "markdown"]);
    md.assert_code(0);
    let first = md.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("⚠️ **cargo-capgate**: no new violations, but this change widens its own policy (2 grants)"),
        "a diff that widens its policy is flagged first\n{}",
        md.describe()
    );
    let human = s.repo.diff(&["--base", "HEAD~1", "--color", "never"]);
    human.assert_code(0);
    assert!(
        human.stdout.contains("  granted   net-thing code net.connect\n")
            && human.stdout.ends_with("⚠️ cargo-capgate: no new violations, but this change widens its own policy (2 grants) (1 package added, 1 removed, 1 upgraded)\n"),
        "{}",
        human.describe()
    );

    // --deny-grant-changes: the same change fails, in every format.
    let denied = s
        .repo
        .diff_json(&["--base", "HEAD~1", "--deny-grant-changes"], 1);
    assert_eq!(denied["verdict"], "fail");
    assert_eq!(denied["policy"]["widened"], true);
    assert_eq!(denied["new_violations"], json!([]));
    let md = s.repo.diff(&[
        "--base",
        "HEAD~1",
        "--format",
        "markdown",
        "--deny-grant-changes",
    ]);
    md.assert_code(1);
    assert!(
        md.stdout.starts_with("❌ **cargo-capgate**: this change widens its own policy (2 grants), denied by --deny-grant-changes"),
        "{}",
        md.describe()
    );
    let sarif = s.repo.diff(&["--base", "HEAD~1", "--format", "sarif"]);
    sarif.assert_code(0);
    let log = parse_json(&sarif);
    assert!(
        sarif_results(&log, "diff with grants").is_empty(),
        "no new violation, no result\n{}",
        sarif.describe()
    );
    let check = s.repo.run("check", &["--format", "sarif"]);
    check.assert_code(0);
    assert!(sarif_results(&parse_json(&check), "check with grants").is_empty());
    let gh = s.repo.run("check", &["--format", "github"]);
    gh.assert_code(0);
    assert!(
        github_annotations(&gh.stdout).is_empty(),
        "{}",
        gh.describe()
    );
}

#[test]
fn diff_head_rev_compares_two_commits_not_the_working_tree() {
    let s = Scenario::new("");
    // An uncommitted policy granting what head added: the working tree passes,
    // the head commit does not.
    s.repo.write("capgate.toml", HEAD_POLICY_GRANTING);

    let actual = s.repo.diff_json(&["--base", "HEAD~1", "--head", "HEAD"], 1);
    let expected = s.expected(
        json!({"rev": "HEAD~1", "commit": s.base}),
        json!({"rev": "HEAD", "commit": s.head}),
        false,
    );
    assert_json_eq(&actual, &expected, "diff --base HEAD~1 --head HEAD");

    let actual = s.repo.diff_json(&["--base", &s.base], 0);
    let expected = s.expected(
        json!({"rev": s.base, "commit": s.base}),
        working_tree(),
        true,
    );
    assert_json_eq(&actual, &expected, "diff --base SHA (working tree)");

    // A head revision equal to the base: nothing changed.
    let same = s.repo.diff_json(&["--base", "HEAD", "--head", &s.head], 0);
    assert_eq!(same["head"], json!({"rev": s.head, "commit": s.head}));
    for key in ["added", "removed", "upgraded", "changes", "new_violations"] {
        assert_eq!(same[key], json!([]), "{key} of HEAD vs HEAD: {same}");
    }
    assert_eq!(same["verdict"], "pass");
}

#[test]
fn diff_counts_only_violations_the_base_did_not_have() {
    // Base grants nothing: keep-me's env.read and remove-me's process.spawn
    // are violations already. Head upgrades keep-me without changing what it
    // does: no new violation, an upgrade, no capability change.
    let repo = Repo::new("");
    write_base(&repo);
    repo.write("capgate.toml", EMPTY_POLICY);
    let base = repo.commit("base");
    repo.write("deps/keep-me/Cargo.toml", &dep_manifest("keep-me", "0.2.0"));
    repo.write("README.md", "# demo\n\nkeep-me 0.2.0\n");
    repo.lock();
    repo.commit("head");

    let v = repo.diff_json(&["--base", "HEAD~1"], 0);
    assert_eq!(v["base"], json!({"rev": "HEAD~1", "commit": base}));
    assert_eq!(v["added"], json!([]));
    assert_eq!(v["removed"], json!([]));
    assert_eq!(
        v["upgraded"],
        json!([{"name": "keep-me", "from": "0.1.0", "to": "0.2.0"}])
    );
    assert_eq!(v["changes"], json!([]), "same capabilities: no change");
    assert_eq!(v["new_violations"], json!([]));
    assert_eq!(v["policy"], policy_changes(json!([]), json!([])));
    assert_eq!(v["verdict"], "pass");
    // While `check` on head does fail.
    repo.run("check", &[]).assert_code(1);
}

#[test]
fn diff_against_a_base_without_a_policy_grants_nothing_there() {
    let repo = Repo::new("");
    write_base(&repo);
    std::fs::remove_file(repo.path("capgate.toml")).unwrap();
    repo.commit("base without a policy");
    write_head(&repo);
    repo.write("capgate.toml", BASE_POLICY);
    repo.commit("head with the policy");

    let v = repo.diff_json(&["--base", "HEAD~1"], 1);
    assert_eq!(
        v["policy"],
        policy_changes(
            json!([
                {"package": "keep-me", "scope": "code", "capability": "env.read"},
                {"package": "remove-me", "scope": "code", "capability": "process.spawn"}
            ]),
            json!([])
        ),
        "every grant of head's policy is new"
    );
    // Base violated everything it did; head's new violations are what it
    // added, not keep-me's env.read (violated in base, granted in head).
    assert_eq!(
        v["new_violations"],
        json!([
            {"package": "net-thing", "version": "0.1.0", "capability": "net.connect", "scope": "code",
             "grant": grant("net-thing", "allow", "net.connect")},
            {"package": "upgrade-me", "version": "0.2.0", "capability": "fs.read", "scope": "code",
             "grant": grant("upgrade-me", "allow", "fs.read")}
        ])
    );
    assert_eq!(v["verdict"], "fail");
}

#[test]
fn diff_reports_lost_capabilities_and_build_script_changes_per_scope() {
    // Head: keep-me stops reading the environment in its code and gets a
    // build script that does.
    let repo = Repo::new("");
    write_base(&repo);
    repo.commit("base");
    repo.write(
        "deps/keep-me/src/lib.rs",
        "pub fn home() -> Option<String> {\n    None\n}\n",
    );
    repo.write(
        "deps/keep-me/build.rs",
        "fn main() {\n    let _ = std::env::var(\"TARGET\");\n}\n",
    );
    repo.commit("head");

    let scan = repo.scan();
    let keep = util::package(&scan, "keep-me");
    assert_eq!(util::strings(&keep["capabilities"]), ["build"], "{keep}");
    assert_eq!(
        util::strings(&keep["build_script"]["capabilities"]),
        ["env.read"],
        "{keep}"
    );
    let v = repo.diff_json(&["--base", "HEAD~1"], 1);
    assert_eq!(v["added"], json!([]));
    assert_eq!(v["removed"], json!([]));
    assert_eq!(v["upgraded"], json!([]));
    let mut changes = v["changes"].as_array().expect("changes").clone();
    changes.sort_by_key(|c| c["scope"].as_str().map(str::to_string));
    assert_eq!(
        Value::Array(changes),
        json!([
            {"package": "keep-me", "version": "0.1.0", "scope": "build-script",
             "gained": ["env.read"], "lost": [],
             "findings": keep["build_script"]["findings"].clone()},
            {"package": "keep-me", "version": "0.1.0", "scope": "code",
             "gained": ["build"], "lost": ["env.read"],
             "findings": keep["findings"].clone()}
        ]),
        "one change per scope, findings for the gained capabilities only"
    );
    let mut new: Vec<Value> = v["new_violations"].as_array().unwrap().clone();
    new.sort_by_key(|n| n["scope"].as_str().map(str::to_string));
    assert_eq!(
        Value::Array(new),
        json!([
            {"package": "keep-me", "version": "0.1.0", "capability": "env.read", "scope": "build-script",
             "grant": grant("keep-me", "build-script.allow", "env.read")},
            {"package": "keep-me", "version": "0.1.0", "capability": "build", "scope": "code",
             "grant": grant("keep-me", "allow", "build")}
        ]),
        "the base policy grants keep-me env.read in its code, not in a build script"
    );
    assert_eq!(v["verdict"], "fail");
}

#[test]
fn diff_leaves_the_working_tree_and_the_worktree_list_untouched() {
    let s = Scenario::new("");
    // What the test writes: one modified tracked file, one untracked file.
    s.repo
        .write("README.md", "# demo\n\nedited, not committed\n");
    s.repo.write("notes.txt", "scratch\n");
    let before = s.repo.status();
    assert_eq!(
        before, " M README.md\n?? notes.txt\n",
        "what the test wrote"
    );
    let branches = s.repo.git(&["branch", "--list", "--all"]);

    s.repo.diff_json(&["--base", "HEAD~1"], 1);
    s.repo.diff_json(&["--base", "HEAD~1", "--head", "HEAD"], 1);
    s.repo
        .diff(&["--base", "HEAD~1", "--format", "markdown"])
        .assert_code(1);

    assert_eq!(s.repo.status(), before, "git status after diff");
    assert_eq!(s.repo.rev("HEAD"), s.head, "HEAD did not move");
    assert_eq!(
        s.repo.git(&["branch", "--list", "--all"]),
        branches,
        "no branch created"
    );
    assert_eq!(s.repo.git(&["stash", "list"]), "", "nothing stashed");
    assert_eq!(
        s.repo.read("README.md"),
        "# demo\n\nedited, not committed\n"
    );
    s.repo.assert_only_main_worktree("after diff");
}

// ---------------------------------------------------------------------------
// diff: Markdown and human
// ---------------------------------------------------------------------------

// `diff --format markdown` (with the contract's own checks) and the human
// summary are also snapshots of this scenario, in snapshot.rs.

#[test]
fn diff_human_summary_names_packages_and_gained_capabilities() {
    let s = Scenario::new("");
    let r = s.repo.diff(&["--base", "HEAD~1"]);
    r.assert_code(1);
    for needle in [
        "net-thing",
        "net.connect",
        "upgrade-me",
        "0.1.0",
        "0.2.0",
        "fs.read",
        "remove-me",
    ] {
        assert!(
            r.stdout.contains(needle),
            "the summary names {needle:?}\n{}",
            r.describe()
        );
    }
    assert!(
        !r.stdout.contains("keep-me"),
        "an unchanged package is not news\n{}",
        r.describe()
    );
}

// ---------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------

fn sarif_schema() -> Value {
    let path = util::fixture_dir("schemas/sarif/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The OASIS schema is draft-04 (`"id"`, not `"$id"`): compiled as such,
/// with formats checked and nothing fetched.
fn sarif_validator() -> jsonschema::Validator {
    jsonschema::draft4::options()
        .offline()
        .should_validate_formats(true)
        .build(&sarif_schema())
        .expect("the SARIF schema compiles as draft 4")
}

fn assert_valid_sarif(log: &Value, what: &str) {
    let errors: Vec<String> = sarif_validator()
        .iter_errors(log)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: not valid SARIF 2.1.0\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(log).unwrap()
    );
}

fn text_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v["text"]
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| panic!("{what}.text is a non-empty string: {v}"))
}

/// Checks what every cargo-capgate SARIF log holds and returns its results.
fn sarif_results<'a>(log: &'a Value, what: &str) -> &'a Vec<Value> {
    assert_valid_sarif(log, what);
    assert_eq!(log["version"], "2.1.0", "{what}: version");
    assert!(
        log["$schema"].as_str().is_some_and(|s| s.contains("sarif")),
        "{what}: $schema names the SARIF schema: {}",
        log["$schema"]
    );
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{what}: one run");
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "cargo-capgate", "{what}: driver name");

    let rules = driver["rules"].as_array().expect("tool.driver.rules");
    let mut ids = Vec::new();
    for rule in rules {
        let id = rule["id"].as_str().expect("rule id");
        assert!(
            util::CAPABILITIES.contains(&id) || id == "advisory",
            "{what}: rule id {id:?} is a capability or `advisory`"
        );
        text_of(
            &rule["shortDescription"],
            &format!("rule {id} shortDescription"),
        );
        text_of(
            &rule["fullDescription"],
            &format!("rule {id} fullDescription"),
        );
        let help = text_of(&rule["help"], &format!("rule {id} help"));
        if id != "advisory" {
            assert!(
                help.contains("cargo capgate allow"),
                "{what}: rule {id}'s help says how to grant it: {help:?}"
            );
        }
        ids.push(id);
    }
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "{what}: rule ids are unique: {ids:?}"
    );

    let results = run["results"].as_array().expect("results");
    let mut keys = BTreeSet::new();
    for r in results {
        let rule = r["ruleId"].as_str().expect("ruleId");
        let index = ids.iter().position(|id| *id == rule).unwrap_or_else(|| {
            panic!("{what}: result's ruleId {rule:?} is one of the rules {ids:?}")
        });
        if let Some(i) = r.get("ruleIndex") {
            assert_eq!(i, index, "{what}: ruleIndex of {rule}");
        }
        assert_eq!(r["level"], "error", "{what}: level of {r}");
        text_of(&r["message"], "result message");
        let fp = r["partialFingerprints"]
            .as_object()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| panic!("{what}: partialFingerprints is a non-empty object: {r}"));
        assert!(
            fp.values()
                .all(|v| v.as_str().is_some_and(|s| !s.is_empty())),
            "{what}: fingerprints are strings: {r}"
        );
        assert!(
            keys.insert(serde_json::to_string(fp).unwrap()),
            "{what}: two results share a fingerprint: {r}"
        );
    }
    results
}

/// The results by ruleId (each capability occurs once in these scenarios).
fn results_by_rule<'a>(log: &'a Value, what: &str) -> BTreeMap<String, &'a Value> {
    let mut out = BTreeMap::new();
    for r in sarif_results(log, what) {
        let rule = r["ruleId"].as_str().unwrap().to_string();
        assert!(
            out.insert(rule.clone(), r).is_none(),
            "{what}: one result for {rule}"
        );
    }
    out
}

/// A violation and where SARIF and GitHub annotations must place it.
struct Expected {
    capability: &'static str,
    package: &'static str,
    version: &'static str,
    /// Repository-relative file that brings the package in, and its line.
    uri: String,
    line: u64,
    /// Repository-relative file of the evidence, and its line.
    evidence_uri: String,
    evidence_line: u64,
}

/// A dependency: its `name = "PKG"` line in the workspace's Cargo.lock.
fn expected_dependency(
    repo: &Repo,
    capability: &'static str,
    package: &'static str,
    version: &'static str,
    needle: &str,
) -> Expected {
    let src = format!("deps/{package}/src/lib.rs");
    Expected {
        capability,
        package,
        version,
        uri: repo.repo_rel("Cargo.lock"),
        line: repo.line_of("Cargo.lock", &format!("name = \"{package}\"")),
        evidence_uri: repo.repo_rel(&src),
        evidence_line: repo.line_of(&src, needle),
    }
}

/// The new violations of the head state (base policy).
fn expected_new_violations(repo: &Repo) -> Vec<Expected> {
    vec![
        expected_dependency(
            repo,
            "net.connect",
            "net-thing",
            "0.1.0",
            "TcpStream::connect(",
        ),
        expected_dependency(repo, "fs.read", "upgrade-me", "0.2.0", "std::fs::read("),
    ]
}

/// Head plus `app` reading the environment (written here): a member's
/// violation is placed at the `name = ` line of its own Cargo.toml.
fn with_member_violation(repo: &Repo) -> Vec<Expected> {
    repo.write("app/src/lib.rs", APP_LIB_ENV);
    expected_violations_with_member(repo)
}

/// The violations of [`with_member_violation`], located in the files as
/// they are now.
fn expected_violations_with_member(repo: &Repo) -> Vec<Expected> {
    let mut all = vec![Expected {
        capability: "env.read",
        package: "app",
        version: "0.1.0",
        uri: repo.repo_rel("app/Cargo.toml"),
        line: repo.line_of("app/Cargo.toml", "name = \"app\""),
        evidence_uri: repo.repo_rel("app/src/lib.rs"),
        evidence_line: repo.line_of("app/src/lib.rs", "std::env::var("),
    }];
    all.extend(expected_new_violations(repo));
    all
}

fn assert_result(r: &Value, e: &Expected, what: &str) {
    let what = format!("{what}: {} {}", e.package, e.capability);
    let message = text_of(&r["message"], "message");
    for needle in [e.package, e.version, e.capability] {
        assert!(
            message.contains(needle),
            "{what}: the message names {needle:?}: {message:?}"
        );
    }
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"], e.uri,
        "{what}: location uri: {r}"
    );
    assert_eq!(
        loc["region"]["startLine"], e.line,
        "{what}: the line that brings the package in: {r}"
    );
    let related = r["relatedLocations"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: relatedLocations: {r}"));
    assert!(
        related.iter().any(|l| {
            let p = &l["physicalLocation"];
            p["artifactLocation"]["uri"] == e.evidence_uri.as_str()
                && p["region"]["startLine"] == e.evidence_line
        }),
        "{what}: relatedLocations holds the evidence at {}:{}: {r}",
        e.evidence_uri,
        e.evidence_line
    );
}

fn assert_results(log: &Value, expected: &[Expected], what: &str) {
    let by_rule = results_by_rule(log, what);
    let want: BTreeSet<&str> = expected.iter().map(|e| e.capability).collect();
    let got: BTreeSet<&str> = by_rule.keys().map(|s| s.as_str()).collect();
    assert_eq!(got, want, "{what}: one result per violation");
    for e in expected {
        assert_result(by_rule[e.capability], e, what);
    }
}

/// ruleId -> partialFingerprints.
fn fingerprints(log: &Value, what: &str) -> BTreeMap<String, Value> {
    results_by_rule(log, what)
        .into_iter()
        .map(|(k, r)| (k, r["partialFingerprints"].clone()))
        .collect()
}

fn start_lines(log: &Value, what: &str) -> BTreeMap<String, Value> {
    results_by_rule(log, what)
        .into_iter()
        .map(|(k, r)| {
            (
                k,
                r["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
            )
        })
        .collect()
}

#[test]
fn sarif_schema_fixture_is_draft_4_and_rejects_invalid_logs() {
    let schema = sarif_schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    let v = sarif_validator();
    let sample = || {
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "cargo-capgate", "rules": [{
                    "id": "net.connect",
                    "shortDescription": {"text": "opens outbound connections"},
                    "fullDescription": {"text": "opens outbound connections"},
                    "help": {"text": "cargo capgate allow PKG net.connect"}
                }]}},
                "results": [{
                    "ruleId": "net.connect", "ruleIndex": 0, "level": "error",
                    "message": {"text": "net-thing 0.1.0 uses net.connect"},
                    "locations": [{"physicalLocation": {
                        "artifactLocation": {"uri": "Cargo.lock"},
                        "region": {"startLine": 12}
                    }}],
                    "partialFingerprints": {"capgate/v1": "abc"}
                }]
            }]
        })
    };
    assert!(v.is_valid(&sample()), "the sample is valid");
    type Mutation = fn(&mut Value);
    let mutations: [(&str, Mutation); 5] = [
        ("version 2.0.0", |l| l["version"] = json!("2.0.0")),
        ("level fatal", |l| {
            l["runs"][0]["results"][0]["level"] = json!("fatal")
        }),
        ("region without a start", |l| {
            l["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] = json!({})
        }),
        ("unknown top-level property", |l| {
            l["verdict"] = json!("fail")
        }),
        ("$schema not a URI", |l| l["$schema"] = json!("not a uri")),
    ];
    for (what, mutate) in mutations {
        let mut log = sample();
        mutate(&mut log);
        assert!(!v.is_valid(&log), "the schema rejects: {what}");
    }
}

#[test]
fn check_sarif_is_valid_and_places_violations_in_the_repository() {
    // The workspace is a subdirectory: paths are relative to the repository.
    let s = Scenario::new("rust");
    let expected = with_member_violation(&s.repo);
    let r = s.repo.run("check", &["--format", "sarif"]);
    r.assert_code(1);
    assert_results(&parse_json(&r), &expected, "check --format sarif");
}

#[test]
fn diff_sarif_reports_only_the_new_violations() {
    let s = Scenario::new("rust");
    let expected = expected_new_violations(&s.repo);
    let r = s.repo.diff(&["--base", "HEAD~1", "--format", "sarif"]);
    r.assert_code(1);
    let first = parse_json(&r);
    assert_results(&first, &expected, "diff --format sarif");

    let again = s.repo.diff(&["--base", "HEAD~1", "--format", "sarif"]);
    again.assert_code(1);
    assert_eq!(
        fingerprints(&parse_json(&again), "diff, second run"),
        fingerprints(&first, "diff, first run"),
        "fingerprints are stable across runs"
    );
    s.repo
        .assert_only_main_worktree("after diff --format sarif");
}

#[test]
fn sarif_fingerprints_survive_runs_and_unrelated_edits() {
    let s = Scenario::new("");
    let expected = with_member_violation(&s.repo);
    let check = || {
        let r = s.repo.run("check", &["--format", "sarif"]);
        r.assert_code(1);
        parse_json(&r)
    };
    let first = check();
    assert_results(&first, &expected, "first run");
    let second = check();
    assert_eq!(
        fingerprints(&second, "second run"),
        fingerprints(&first, "first run"),
        "same input, same fingerprints"
    );

    // Unrelated edits that move every line: a comment at the top of the
    // member's manifest, a dependency sorted first in Cargo.lock, a comment
    // above each piece of evidence.
    let app = s.repo.read("app/Cargo.toml").replace(
        "[dependencies]\n",
        "[dependencies]\naaa-first = { path = \"../deps/aaa-first\" }\n",
    );
    s.repo
        .write("app/Cargo.toml", &format!("# the application\n{app}"));
    s.repo.write(
        "deps/aaa-first/Cargo.toml",
        &dep_manifest("aaa-first", "0.1.0"),
    );
    s.repo
        .write("deps/aaa-first/src/lib.rs", "pub fn first() {}\n");
    for file in [
        "app/src/lib.rs",
        "deps/net-thing/src/lib.rs",
        "deps/upgrade-me/src/lib.rs",
    ] {
        let text = s.repo.read(file);
        s.repo
            .write(file, &format!("// An unrelated comment.\n\n{text}"));
    }
    s.repo.lock();
    let expected = expected_violations_with_member(&s.repo);
    let third = check();
    assert_results(&third, &expected, "after unrelated edits");
    assert_ne!(
        start_lines(&third, "after edits"),
        start_lines(&first, "before edits"),
        "the edits moved the locations"
    );
    assert_eq!(
        fingerprints(&third, "after edits"),
        fingerprints(&first, "before edits"),
        "unrelated edits keep the fingerprints"
    );
}

// ---------------------------------------------------------------------------
// GitHub annotations
// ---------------------------------------------------------------------------

/// One `::error file=…,line=…,title=…::message` workflow command.
#[derive(Debug)]
struct Annotation {
    params: BTreeMap<String, String>,
    message: String,
}

fn github_annotations(stdout: &str) -> Vec<Annotation> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::error "))
        .map(|rest| {
            let (params, message) = rest
                .split_once("::")
                .unwrap_or_else(|| panic!("`::error PARAMS::MESSAGE`: {rest:?}"));
            let params = params
                .split(',')
                .map(|kv| {
                    let (k, v) = kv
                        .split_once('=')
                        .unwrap_or_else(|| panic!("`key=value` (`,` escaped as %2C): {kv:?}"));
                    assert!(
                        ["file", "line", "endLine", "col", "endColumn", "title"].contains(&k),
                        "known annotation property: {k:?} in {rest:?}"
                    );
                    (k.to_string(), v.to_string())
                })
                .collect();
            Annotation {
                params,
                message: message.to_string(),
            }
        })
        .collect()
}

#[test]
fn check_github_format_prints_one_error_annotation_per_violation() {
    let s = Scenario::new("rust");
    let expected = with_member_violation(&s.repo);
    let r = s.repo.run("check", &["--format", "github"]);
    r.assert_code(1);
    let annotations = github_annotations(&r.stdout);
    assert_eq!(
        annotations.len(),
        expected.len(),
        "one annotation per violation\n{}",
        r.describe()
    );
    for e in &expected {
        let found: Vec<&Annotation> = annotations
            .iter()
            .filter(|a| a.message.contains(e.capability) && a.message.contains(e.package))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one annotation for {} {}\n{}",
            e.package,
            e.capability,
            r.describe()
        );
        let a = found[0];
        assert_eq!(a.params.get("file"), Some(&e.uri), "{a:?}");
        assert_eq!(a.params.get("line"), Some(&e.line.to_string()), "{a:?}");
        assert!(
            a.params.get("title").is_some_and(|t| !t.is_empty()),
            "a title: {a:?}"
        );
        assert!(a.message.contains(e.version), "the version: {a:?}");
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

fn assert_error(r: &Run, needles: &[&str]) {
    r.assert_error(needles)
        .assert_stdout_lacks(&["\"verdict\""], "an error reports no verdict");
    assert!(
        !r.stdout.starts_with('✅'),
        "an error reports no verdict\n{}",
        r.describe()
    );
}

#[test]
fn diff_with_an_unknown_revision_is_an_error_naming_it() {
    let s = Scenario::new("");
    assert_error(
        &s.repo.diff(&["--base", "no-such-rev-0xdead"]),
        &["no-such-rev-0xdead"],
    );
    assert_error(
        &s.repo
            .diff(&["--base", "no-such-rev-0xdead", "--format", "json"]),
        &["no-such-rev-0xdead"],
    );
    assert_error(
        &s.repo
            .diff(&["--base", "HEAD~1", "--head", "no-such-head-rev"]),
        &["no-such-head-rev"],
    );
    s.repo.assert_only_main_worktree("after the errors");
    assert_eq!(s.repo.status(), "");
}

#[test]
fn diff_outside_a_git_repository_is_an_error() {
    let repo = Repo::without_git("");
    write_base(&repo);
    let r = repo.diff(&["--base", "HEAD"]);
    let ws = repo.ws.display().to_string();
    assert_error(&r, &[&ws]);
    assert!(
        r.stderr.to_lowercase().contains("git repository"),
        "the message says it is not a git repository\n{}",
        r.describe()
    );
    assert!(!repo.path(".git").exists());
}

#[test]
fn diff_against_a_base_without_cargo_lock_is_an_error_naming_it() {
    let repo = Repo::new("");
    write_base(&repo);
    std::fs::remove_file(repo.path("Cargo.lock")).unwrap();
    repo.commit("base without a lock file");
    repo.lock();
    repo.commit("lock file");
    let r = repo.diff(&["--base", "HEAD~1"]);
    assert_error(&r, &["Cargo.lock", "HEAD~1"]);
    repo.assert_only_main_worktree("after the error");
    assert_eq!(repo.status(), "", "the working tree is untouched");
}

// ---------------------------------------------------------------------------
// diff: nothing from either revision runs
// ---------------------------------------------------------------------------

#[test]
fn diff_runs_no_program_either_revisions_cargo_configuration_names() {
    let repo = Repo::new("");
    let marker = repo.tmp.path().join("RAN");
    // Committed in the base and kept at head: every side (the base's copy,
    // a --head copy, the working tree) carries the attack.
    let wrapper = format!("#!/bin/sh\ntouch '{}'\nexec \"$@\"\n", marker.display());
    repo.write("wrapper.sh", &wrapper);
    let mut perms = std::fs::metadata(repo.path("wrapper.sh"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(repo.path("wrapper.sh"), perms).unwrap();
    let config = "[build]\nrustc = \"./wrapper.sh\"\nrustc-wrapper = \"./wrapper.sh\"\nrustc-workspace-wrapper = \"./wrapper.sh\"\n";
    write_base(&repo);
    repo.write(".cargo/config.toml", config);
    repo.commit("base, with a configuration naming programs");
    // The test's own `cargo metadata` (for Cargo.lock) must not read it.
    repo.remove_dir(".cargo");
    write_head(&repo);
    repo.write(".cargo/config.toml", config);
    repo.commit("head");

    repo.diff_json(&["--base", "HEAD~1"], 1);
    repo.diff_json(&["--base", "HEAD~1", "--head", "HEAD"], 1);
    assert!(
        !marker.exists(),
        "a program named by a revision's .cargo/config.toml ran"
    );
}
