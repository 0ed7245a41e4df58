//! Hostile crates: every attack in `fixtures/hostile/` must come out as a
//! capability found or as `unanalyzed` with a reason, never as a clean
//! crate, a crash, a hang or a program started.
//!
//! Each directory `fixtures/hostile/<class>-<name>/` is a workspace written
//! by an attacker who has read capgate's source, with a `case.toml`:
//!
//! ```toml
//! description = "what the attack does"
//! crate = "subject"              # the package under attack
//! expect = ["process"]           # families the scan must report for it
//! unanalyzed = "outside"         # text an `unanalyzed` finding must contain
//! args = ["scan"]                # the command (default: scan); --offline,
//!                                # --format json and --manifest-path are added
//! exit = 0                       # the exit code (default 0)
//! marker = "RAN"                 # a file that must not exist afterwards
//! timeout = 60                   # seconds before the scan counts as a hang
//! env_remove = ["CARGO"]         # variables the scan runs without, as when
//!                                # capgate is started outside cargo
//!
//! [[make]]                       # made in the copy at test time: what git
//! path = "subject/src/big.rs"    # cannot hold or what is too big to commit
//! text = "fn f() {}\n"           # `text` repeated `count` times (default 1),
//! count = 1000000                # between `prefix` and `suffix`, then
//! close = ")"                    # `close` repeated `count` times (nesting);
//!                                # `{i}` in `text` is the repetition's number;
//!                                # `{root}` is the copy's absolute path
//! # or: fifo = true, or: symlink = "/etc/hostname", or: dir = true,
//! # or: cc = "evil.c" (a shared object compiled from the case's C file)
//! ```
//!
//! A case runs on a private copy, from inside it (so that its `.cargo/` and
//! `rust-toolchain.toml` are the ones cargo would read), with a private
//! scan cache. All cases run, then every failure is listed.
//! `CAPGATE_HOSTILE=text` runs only the cases whose name contains `text`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

// A case expects families (`util::FAMILIES`).
use crate::util::{self, FAMILIES};

/// Attack classes, the prefix of each case's directory name.
const CLASSES: &[&str] = &[
    "cfg", "files", "macros", "lexing", "exec", "bounds", "names", "ffi",
];

const WORKERS: usize = 2;
const DEFAULT_TIMEOUT_SECS: u64 = 60;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    description: String,
    #[serde(rename = "crate")]
    krate: String,
    #[serde(default)]
    expect: Vec<String>,
    unanalyzed: Option<String>,
    args: Option<Vec<String>>,
    exit: Option<i32>,
    marker: Option<String>,
    timeout: Option<u64>,
    #[serde(default)]
    env_remove: Vec<String>,
    #[serde(default)]
    make: Vec<Make>,
}

/// A file the test makes in the case's copy before scanning.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Make {
    path: String,
    text: Option<String>,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    count: Option<usize>,
    /// Repeated `count` times after the repeated `text`: closes what it
    /// opened, for deep nesting.
    #[serde(default)]
    close: String,
    #[serde(default)]
    fifo: bool,
    symlink: Option<String>,
    #[serde(default)]
    dir: bool,
    cc: Option<String>,
}

struct Case {
    name: String,
    dir: PathBuf,
    spec: CaseFile,
}

fn load_cases() -> Vec<Case> {
    let dirs = util::subdirectories(&util::fixture_dir("hostile"));
    // `CAPGATE_HOSTILE=text` runs only the cases whose name contains it.
    let only = std::env::var("CAPGATE_HOSTILE").unwrap_or_default();
    dirs.iter()
        .filter(|d| d.to_string_lossy().contains(only.as_str()))
        .map(|d| load_case(d))
        .collect()
}

fn load_case(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let class = name.split('-').next().unwrap_or("");
    assert!(
        CLASSES.contains(&class),
        "{name}: a case directory is named <class>-<name>, class one of {CLASSES:?}"
    );
    let path = dir.join("case.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec: CaseFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for family in &spec.expect {
        assert!(
            FAMILIES.contains(&family.as_str()),
            "{}: {family:?} is not a capability family",
            path.display()
        );
    }
    assert!(
        !spec.expect.is_empty() || spec.unanalyzed.is_some() || spec.marker.is_some(),
        "{}: a hostile case expects a capability, an `unanalyzed` reason or a marker that must not appear",
        path.display()
    );
    Case {
        name,
        dir: dir.to_path_buf(),
        spec,
    }
}

/// Copies `from` into `to`, keeping symbolic links as links.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(link, &target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn make(root: &Path, make: &Make) {
    let path = root.join(&make.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let _ = std::fs::remove_file(&path);
    if make.fifo {
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(status.success(), "mkfifo {}", path.display());
    } else if let Some(target) = &make.symlink {
        std::os::unix::fs::symlink(target, &path).unwrap();
    } else if make.dir {
        std::fs::create_dir_all(&path).unwrap();
    } else if let Some(source) = &make.cc {
        let status = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&path)
            .arg(root.join(source))
            .status()
            .expect("cc");
        assert!(status.success(), "cc {source}");
    } else {
        let text = make.text.as_deref().unwrap_or("");
        let count = make.count.unwrap_or(1);
        let mut out = String::with_capacity(
            make.prefix.len() + (text.len() + make.close.len()) * count + make.suffix.len(),
        );
        out.push_str(&make.prefix);
        for i in 0..count {
            if text.contains("{i}") {
                out.push_str(&text.replace("{i}", &i.to_string()));
            } else {
                out.push_str(text);
            }
        }
        for _ in 0..count {
            out.push_str(&make.close);
        }
        out.push_str(&make.suffix);
        let out = if out.contains("{root}") {
            out.replace("{root}", &root.display().to_string())
        } else {
            out
        };
        std::fs::write(&path, out).unwrap();
    }
}

/// Runs one case; `Err` says what went wrong.
fn run_case(case: &Case) -> Result<(), String> {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join(&case.name);
    copy_tree(&case.dir, &root);
    for m in &case.spec.make {
        make(&root, m);
    }
    let manifest = root.join("Cargo.toml").display().to_string();
    let mut args: Vec<String> = case
        .spec
        .args
        .clone()
        .unwrap_or_else(|| vec!["scan".to_string()]);
    args.extend(
        [
            "--manifest-path",
            &manifest,
            "--offline",
            "--format",
            "json",
        ]
        .map(str::to_string),
    );
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let timeout = Duration::from_secs(case.spec.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS));
    let mut cmd = util::capgate();
    cmd.current_dir(&root).timeout(timeout);
    for name in &case.spec.env_remove {
        cmd.env_remove(name);
    }
    let run = util::Run::of(&mut cmd, &arg_refs);
    if run.code.is_none() {
        return Err(format!(
            "killed (a hang past {}s, or a crash)\n{}",
            timeout.as_secs(),
            run.describe()
        ));
    }
    for needle in ["panicked at", "stack overflow", "SIGSEGV"] {
        if run.stderr.contains(needle) {
            return Err(format!("crashed ({needle:?})\n{}", run.describe()));
        }
    }
    if let Some(marker) = &case.spec.marker
        && root.join(marker).exists()
    {
        return Err(format!(
            "a program from the scanned tree ran: {marker} exists\n{}",
            run.describe()
        ));
    }
    let exit = case.spec.exit.unwrap_or(0);
    if run.code != Some(exit) {
        return Err(format!(
            "exit {:?}, expected {exit}\n{}",
            run.code,
            run.describe()
        ));
    }
    if case.spec.expect.is_empty() && case.spec.unanalyzed.is_none() {
        return Ok(());
    }
    let report: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("stdout is not JSON: {e}\n{}", run.describe()))?;
    let packages = report["packages"].as_array().cloned().unwrap_or_default();
    let Some(pkg) = packages
        .iter()
        .find(|p| p["name"] == case.spec.krate.as_str())
    else {
        return Err(format!(
            "package {} is not in the report\n{}",
            case.spec.krate,
            run.describe()
        ));
    };
    let families: BTreeSet<String> = util::strings(&pkg["capabilities"])
        .iter()
        .map(|c| c.split('.').next().unwrap_or(c).to_string())
        .collect();
    let missing: Vec<&String> = case
        .spec
        .expect
        .iter()
        .filter(|f| !families.contains(*f))
        .collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {missing:?}, reported {families:?}"));
    }
    if let Some(reason) = &case.spec.unanalyzed {
        let findings = pkg["findings"]
            .as_array()
            .into_iter()
            .chain(pkg["build_script"]["findings"].as_array())
            .flatten();
        let reasons: Vec<String> = findings
            .filter(|f| f["capability"] == "unanalyzed")
            .map(|f| f["evidence"].as_str().unwrap_or("").to_string())
            .collect();
        if !reasons.iter().any(|r| r.contains(reason.as_str())) {
            problems.push(format!(
                "no `unanalyzed` finding mentions {reason:?}; unanalyzed findings: {reasons:?}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nfindings: {}",
            problems.join("; "),
            serde_json::to_string_pretty(&pkg["findings"]).unwrap_or_default()
        ))
    }
}

#[test]
fn hostile_crates_never_pass_clean() {
    let cases = load_cases();
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    if let Err(why) = run_case(case) {
                        failures.lock().unwrap().push((
                            case.name.clone(),
                            case.spec.description.clone(),
                            why,
                        ));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let mut out = String::new();
    for (name, description, why) in &failures {
        out.push_str(&format!("\n=== {name}: {description}\n{why}\n"));
    }
    eprintln!(
        "hostile: {} cases, {} passed clean or crashed the scanner",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{out}");
}
