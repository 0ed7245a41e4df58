//! The scan cache: a warm scan equals a cold one, edits invalidate, corrupt
//! entries are rescanned with a warning, `--no-cache` leaves no trace.

use std::path::Path;

use crate::util;

fn scan(dir: &Path, cache: &Path, extra: &[&str]) -> util::Run {
    let manifest = dir.join("Cargo.toml").display().to_string();
    let mut args = vec![
        "scan",
        "--manifest-path",
        &manifest,
        "--offline",
        "--format",
        "json",
        "-v",
    ];
    args.extend_from_slice(extra);
    util::Run::of(util::capgate().env("CAPGATE_CACHE_DIR", cache), &args)
}

fn entries(cache: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(cache.join("v2")) else {
        return out;
    };
    for shard in shards.flatten() {
        for file in std::fs::read_dir(shard.path()).unwrap().flatten() {
            out.push(file.path());
        }
    }
    out.sort();
    out
}

/// Packages whose scan found a file the code names missing: creating the
/// file would change the scan, so they are never taken from the cache.
fn uncacheable(report: &serde_json::Value) -> usize {
    util::packages(report)
        .iter()
        .filter(|p| {
            p["findings"].as_array().unwrap().iter().any(|f| {
                matches!(
                    f["rule"].as_str(),
                    Some(
                        "missing-module-file"
                            | "missing-source"
                            | "include-unresolved"
                            | "unreadable-file"
                            | "file-outside-package"
                            | "not-a-regular-file"
                    )
                )
            })
        })
        .count()
}

fn hits(run: &util::Run) -> usize {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("scanned "))
        .unwrap_or_else(|| panic!("no summary line\n{}", run.describe()));
    let after = line.split('(').nth(1).unwrap();
    after.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn warm_scan_equals_cold_scan_and_comes_from_the_cache() {
    let fixture = util::copy_fixture("capabilities");
    let cache = tempfile::tempdir().unwrap();
    let cold = scan(fixture.path(), cache.path(), &[]);
    cold.assert_code(0);
    assert_eq!(hits(&cold), 0);
    let stored = entries(cache.path());
    assert!(!stored.is_empty(), "cold scan stores entries");
    let warm = scan(fixture.path(), cache.path(), &[]);
    warm.assert_code(0);
    assert_eq!(warm.stdout, cold.stdout, "same report from the cache");
    let report = warm.report();
    assert!(uncacheable(&report) > 0, "the fixture has a missing file");
    assert_eq!(
        hits(&warm),
        util::packages(&report).len() - uncacheable(&report)
    );
}

#[test]
fn editing_a_path_crate_invalidates_its_entry_only() {
    let fixture = util::copy_fixture("capabilities");
    let cache = tempfile::tempdir().unwrap();
    scan(fixture.path(), cache.path(), &[]).assert_code(0);
    let lib = fixture.path().join("crates/cap-none/src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("\npub fn now_reads() { let _ = std::fs::read(\"x\"); }\n");
    std::fs::write(&lib, text).unwrap();
    let warm = scan(fixture.path(), cache.path(), &[]);
    let report = warm.assert_code(0).report();
    let packages = util::packages(&report).len();
    assert_eq!(
        hits(&warm),
        packages - 1 - uncacheable(&report),
        "only the edited crate is rescanned"
    );
    assert_eq!(
        util::strings(&util::package(&report, "cap-none")["capabilities"]),
        ["fs.read"]
    );
}

#[test]
fn a_corrupt_entry_is_rescanned_with_a_warning() {
    let fixture = util::copy_fixture("capabilities");
    let cache = tempfile::tempdir().unwrap();
    let cold = scan(fixture.path(), cache.path(), &[]);
    for entry in entries(cache.path()) {
        std::fs::write(&entry, b"{ not json").unwrap();
    }
    let warm = scan(fixture.path(), cache.path(), &[]);
    warm.assert_code(0);
    assert_eq!(warm.stdout, cold.stdout, "rescanned, not trusted");
    assert!(
        warm.stderr.contains("warning:") && warm.stderr.contains("is corrupt"),
        "{}",
        warm.describe()
    );
    let again = scan(fixture.path(), cache.path(), &[]);
    assert!(
        !again.stderr.contains("is corrupt"),
        "corrupt entries were replaced"
    );
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let fixture = util::copy_fixture("capabilities");
    let cache = tempfile::tempdir().unwrap();
    scan(fixture.path(), cache.path(), &["--no-cache"]).assert_code(0);
    assert!(entries(cache.path()).is_empty());
}

#[test]
fn cache_info_and_clean() {
    let fixture = util::copy_fixture("capabilities");
    let cache = tempfile::tempdir().unwrap();
    scan(fixture.path(), cache.path(), &[]).assert_code(0);
    let n = entries(cache.path()).len();
    let info = util::capgate()
        .env("CAPGATE_CACHE_DIR", cache.path())
        .args(["cache", "info"])
        .output()
        .unwrap();
    assert_eq!(info.status.code(), Some(0));
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains(&format!("{n} entries")), "{text}");
    let clean = util::capgate()
        .env("CAPGATE_CACHE_DIR", cache.path())
        .args(["cache", "clean"])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    assert!(entries(cache.path()).is_empty());
}

#[test]
fn the_cache_is_bounded_in_size() {
    let fixture = util::copy_fixture("capabilities");
    let cache = tempfile::tempdir().unwrap();
    let manifest = fixture.path().join("Cargo.toml");
    let out = util::capgate()
        .env("CAPGATE_CACHE_DIR", cache.path())
        .env("CAPGATE_CACHE_MAX_BYTES", "1")
        .args(["scan", "--offline", "-q", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        entries(cache.path()).is_empty(),
        "everything over the bound is evicted"
    );
}
