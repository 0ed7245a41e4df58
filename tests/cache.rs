//! The scan cache: a warm scan equals a cold one, edits invalidate, corrupt
//! entries are rescanned with a warning, `--no-cache` leaves no trace.
//!
//! And the cache as untrusted input: whoever can write it (a restored CI
//! cache) may plant one key's entry under another's name, edit or truncate
//! an entry, or put a symbolic link, a named pipe or a huge file where an
//! entry should be; a cache that cannot be written at all (a file where its
//! directory should be, shards that are files, a read-only directory) must
//! not change anything but add one warning.

use std::path::Path;

use crate::util;

/// `scan --manifest-path DIR/Cargo.toml --offline --format json -v EXTRA...`.
fn scan_args(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--format", "json", "-v"];
    args.extend_from_slice(extra);
    util::manifest_args("scan", dir, &args)
}

/// A copy of `fixtures/capabilities` and an empty scan cache directory.
fn fixture_and_cache() -> (tempfile::TempDir, tempfile::TempDir) {
    (
        util::copy_fixture("capabilities"),
        tempfile::tempdir().unwrap(),
    )
}

/// [`scan_args`] with the scan cache at `cache`.
fn scan(dir: &Path, cache: &Path, extra: &[&str]) -> util::Run {
    util::Run::of(
        util::capgate().env("CAPGATE_CACHE_DIR", cache),
        &scan_args(dir, extra),
    )
}

/// The bytes of the scan results a scan of `dir` writes into an empty
/// cache, for budgets that hold them.
fn scan_entry_bytes(dir: &Path) -> u64 {
    let measured = tempfile::tempdir().unwrap();
    scan(dir, measured.path(), &[]).assert_code(0);
    entries(measured.path())
        .iter()
        .map(|e| std::fs::metadata(e).unwrap().len())
        .sum()
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
                            | "module-outside-package"
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
    let (fixture, cache) = fixture_and_cache();
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
    let (fixture, cache) = fixture_and_cache();
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
    let (fixture, cache) = fixture_and_cache();
    let cold = scan(fixture.path(), cache.path(), &[]);
    for entry in entries(cache.path()) {
        std::fs::write(&entry, b"{ not json").unwrap();
    }
    let warm = scan(fixture.path(), cache.path(), &[]);
    warm.assert_code(0);
    assert_eq!(warm.stdout, cold.stdout, "rescanned, not trusted");
    assert!(
        warm.stderr.contains("warning:") && warm.stderr.contains("rejected and rescanned"),
        "{}",
        warm.describe()
    );
    assert_eq!(
        warnings(&warm),
        1,
        "one warning for all\n{}",
        warm.describe()
    );
    let again = scan(fixture.path(), cache.path(), &[]);
    assert!(
        !again.stderr.contains("rejected"),
        "corrupt entries were replaced\n{}",
        again.describe()
    );
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let (fixture, cache) = fixture_and_cache();
    scan(fixture.path(), cache.path(), &["--no-cache"]).assert_code(0);
    assert!(entries(cache.path()).is_empty());
}

#[test]
fn cache_info_and_clean() {
    let (fixture, cache) = fixture_and_cache();
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
    let (fixture, cache) = fixture_and_cache();
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

fn warnings(run: &util::Run) -> usize {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .count()
}

/// Scans the fixture cold, lets `tamper` change the stored entries, scans
/// again: the report must be the cold one, the run must warn once, naming
/// `reason`, and take none of the tampered entries from the cache.
fn tampered_entries_are_rescanned(reason: &str, tamper: impl Fn(&[std::path::PathBuf])) {
    let (fixture, cache) = fixture_and_cache();
    let cold = scan(fixture.path(), cache.path(), &[]);
    cold.assert_code(0);
    assert_eq!(warnings(&cold), 0, "{}", cold.describe());
    let stored = entries(cache.path());
    assert!(stored.len() >= 2, "the fixture stores several entries");
    tamper(&stored);
    let mut cmd = util::capgate();
    cmd.env("CAPGATE_CACHE_DIR", cache.path())
        .timeout(std::time::Duration::from_secs(120));
    let warm = util::Run::of(&mut cmd, &scan_args(fixture.path(), &[]));
    warm.assert_code(0);
    assert_eq!(warm.stdout, cold.stdout, "rescanned, not trusted");
    assert_eq!(warnings(&warm), 1, "one warning\n{}", warm.describe());
    assert!(
        warm.stderr.contains(reason),
        "the warning says {reason:?}\n{}",
        warm.describe()
    );
}

#[test]
fn an_entry_planted_under_another_key_is_rejected() {
    // One package's (clean or not) scan under every other package's key.
    tampered_entries_are_rescanned("made for another key", |stored| {
        let planted = std::fs::read(&stored[0]).unwrap();
        for entry in &stored[1..] {
            std::fs::write(entry, &planted).unwrap();
        }
    });
}

#[test]
fn an_entry_edited_after_it_was_written_is_rejected() {
    // Same length, still valid JSON: a finding moved to another line.
    tampered_entries_are_rescanned("does not match its digest", |stored| {
        let mut edited = 0;
        for entry in stored {
            let mut bytes = std::fs::read(entry).unwrap();
            let body = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
            let needle = b"\"line\":";
            if let Some(at) = bytes[body..]
                .windows(needle.len())
                .position(|w| w == needle)
            {
                let digit = &mut bytes[body + at + needle.len()];
                assert!(digit.is_ascii_digit());
                *digit = if *digit == b'9' { b'1' } else { *digit + 1 };
                std::fs::write(entry, &bytes).unwrap();
                edited += 1;
            }
        }
        assert!(edited > 0, "some entry has a finding");
    });
}

#[test]
fn a_truncated_entry_is_rejected() {
    tampered_entries_are_rescanned("rejected and rescanned", |stored| {
        for entry in stored {
            let bytes = std::fs::read(entry).unwrap();
            std::fs::write(entry, &bytes[..bytes.len() * 2 / 3]).unwrap();
        }
    });
}

#[test]
fn an_entry_that_is_a_symbolic_link_is_not_followed() {
    // The link points at the entry's own, valid bytes: only the link is
    // wrong.
    tampered_entries_are_rescanned("is a symbolic link", |stored| {
        let elsewhere = stored[0].with_extension("elsewhere");
        std::fs::rename(&stored[0], &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &stored[0]).unwrap();
    });
}

#[test]
fn an_entry_that_is_a_named_pipe_does_not_hang_the_scan() {
    tampered_entries_are_rescanned("is not a regular file", |stored| {
        std::fs::remove_file(&stored[0]).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&stored[0])
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
    });
}

#[test]
fn a_huge_entry_is_not_read() {
    tampered_entries_are_rescanned("is larger than", |stored| {
        let file = std::fs::File::options()
            .write(true)
            .open(&stored[0])
            .unwrap();
        // Sparse: takes no disk, but reading it would take 4 GiB of memory.
        file.set_len(4 << 30).unwrap();
    });
}

/// A scan with `CAPGATE_CACHE_DIR` at `cache` must equal an uncached one,
/// exit 0, and warn exactly once that the cache cannot be written.
fn unwritable_cache_warns_once(cache: &Path) {
    let fixture = util::copy_fixture("capabilities");
    let fresh = scan(fixture.path(), cache, &["--no-cache"]);
    fresh.assert_code(0);
    let run = scan(fixture.path(), cache, &[]);
    run.assert_code(0);
    assert_eq!(run.stdout, fresh.stdout, "the same report");
    assert_eq!(warnings(&run), 1, "one warning\n{}", run.describe());
    assert!(
        run.stderr.contains("cannot write to the scan cache"),
        "{}",
        run.describe()
    );
}

#[test]
fn a_file_where_the_cache_directory_should_be_gives_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    std::fs::write(&file, b"not a directory").unwrap();
    unwritable_cache_warns_once(&file);
}

#[test]
fn shards_that_cannot_be_written_give_one_warning() {
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cache.path().join("v2")).unwrap();
    for shard in 0..=255u8 {
        std::fs::write(cache.path().join("v2").join(format!("{shard:02x}")), b"").unwrap();
    }
    unwritable_cache_warns_once(cache.path());
}

#[test]
fn a_read_only_cache_directory_gives_one_warning() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Permission bits do not bind root: there the directory is made
    // unwritable another way (a file in place of the entries directory).
    if tempfile::tempfile_in(&dir).is_ok() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("v2"), b"").unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    unwritable_cache_warns_once(&dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Rewrites an entry's body with `edit` and seals it again with a correct
/// header, as someone who knows the format would.
fn reseal(entry: &Path, mut edit: impl FnMut(&mut serde_json::Value)) {
    use sha2::Digest;
    let bytes = std::fs::read(entry).unwrap();
    let newline = bytes.iter().position(|&b| b == b'\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[..newline]).unwrap();
    let mut body: serde_json::Value = serde_json::from_slice(&bytes[newline + 1..]).unwrap();
    edit(&mut body);
    let body = serde_json::to_vec(&body).unwrap();
    let digest: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    header["sha256"] = digest.into();
    header["bytes"] = body.len().into();
    let mut out = serde_json::to_vec(&header).unwrap();
    out.push(b'\n');
    out.extend_from_slice(&body);
    std::fs::write(entry, out).unwrap();
}

#[test]
fn source_paths_an_entry_names_are_never_waited_on_or_left_the_package_for() {
    // A forged entry (header and digest rewritten) whose list of source
    // files to re-check names named pipes, inside the package and by an
    // absolute path: checking them must neither hang nor trust the entry.
    let (fixture, cache) = fixture_and_cache();
    let cold = scan(fixture.path(), cache.path(), &[]);
    cold.assert_code(0);
    let outside = tempfile::tempdir().unwrap();
    let mut pipes = vec![outside.path().join("pipe"), fixture.path().join("pipe")];
    for krate in std::fs::read_dir(fixture.path().join("crates")).unwrap() {
        pipes.push(krate.unwrap().path().join("pipe"));
    }
    for pipe in &pipes {
        assert!(
            std::process::Command::new("mkfifo")
                .arg(pipe)
                .status()
                .unwrap()
                .success()
        );
    }
    let mut forged = 0;
    for entry in entries(cache.path()) {
        reseal(&entry, |body| {
            let sources = body["sources"].as_array_mut().unwrap();
            if !sources.is_empty() {
                sources[0][0] = if forged % 2 == 0 {
                    pipes[0].display().to_string().into()
                } else {
                    "pipe".into()
                };
                forged += 1;
            }
        });
    }
    assert!(forged >= 2, "path packages record their sources");
    let mut cmd = util::capgate();
    cmd.env("CAPGATE_CACHE_DIR", cache.path())
        .timeout(std::time::Duration::from_secs(120));
    let warm = util::Run::of(&mut cmd, &scan_args(fixture.path(), &[]));
    warm.assert_code(0);
    assert_eq!(warm.stdout, cold.stdout, "rescanned, not trusted");
}

/// `cargo-capgate cache ARGS` with the cache at `cache`.
fn cache_command(cache: &Path, args: &[&str]) -> util::Run {
    let mut all = vec!["cache"];
    all.extend_from_slice(args);
    util::Run::of(util::capgate().env("CAPGATE_CACHE_DIR", cache), &all)
}

/// What `vet-bom` keeps beside the scan results: a download and the crate
/// unpacked from it, last used `age` ago.
fn fetched_crate(cache: &Path, name: &str, age: std::time::Duration) {
    let when = std::time::SystemTime::now() - age;
    let download = cache
        .join("crates")
        .join(format!("{name}-1.0.0-0123456789abcdef.crate"));
    let unpacked = cache
        .join("src")
        .join(format!("{name}-1.0.0-0123456789abcdef"));
    std::fs::create_dir_all(unpacked.join("src")).unwrap();
    std::fs::create_dir_all(download.parent().unwrap()).unwrap();
    std::fs::write(&download, vec![0u8; 4000]).unwrap();
    std::fs::write(unpacked.join("src/lib.rs"), vec![b' '; 3000]).unwrap();
    for path in [&download, &unpacked] {
        std::fs::File::open(path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }
}

const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

#[test]
fn cache_info_counts_downloads_and_unpacked_crates_and_clean_removes_them() {
    let (fixture, cache) = fixture_and_cache();
    scan(fixture.path(), cache.path(), &[]).assert_code(0);
    fetched_crate(cache.path(), "old", 40 * DAY);
    std::fs::write(cache.path().join("notes.txt"), "not capgate's").unwrap();
    let info = cache_command(cache.path(), &["info"]);
    info.assert_code(0);
    for line in [
        "downloaded crates        1 entries",
        "unpacked crates          1 entries",
    ] {
        assert!(info.stdout.contains(line), "{line}\n{}", info.describe());
    }
    assert!(
        info.stdout.contains("kept under 1073.7 MB"),
        "{}",
        info.describe()
    );

    cache_command(cache.path(), &["clean"]).assert_code(0);
    for dir in ["v2", "crates", "src"] {
        let left: Vec<_> = std::fs::read_dir(cache.path().join(dir))
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{dir} emptied: {left:?}");
    }
    assert!(
        cache.path().join("notes.txt").exists(),
        "only capgate's own"
    );
}

#[test]
fn cache_prune_removes_only_what_was_not_used_lately() {
    let (fixture, cache) = fixture_and_cache();
    scan(fixture.path(), cache.path(), &[]).assert_code(0);
    let scans = entries(cache.path()).len();
    fetched_crate(cache.path(), "old", 40 * DAY);
    fetched_crate(cache.path(), "recent", DAY);
    let r = cache_command(cache.path(), &["prune", "--older-than", "30d"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("downloaded crates        1 entries"),
        "{}",
        r.describe()
    );
    assert!(!cache.path().join("src/old-1.0.0-0123456789abcdef").exists());
    assert!(
        !cache
            .path()
            .join("crates/old-1.0.0-0123456789abcdef.crate")
            .exists()
    );
    assert!(
        cache
            .path()
            .join("src/recent-1.0.0-0123456789abcdef")
            .exists()
    );
    assert_eq!(
        entries(cache.path()).len(),
        scans,
        "fresh scan results kept"
    );

    let r = cache_command(cache.path(), &["prune", "--older-than", "soon"]);
    r.assert_code(2);
}

#[test]
fn one_budget_evicts_the_least_recently_used_of_any_kind() {
    let (fixture, cache) = fixture_and_cache();
    // The scan's own entries are newer than the old download, and the
    // budget holds them but not the download as well.
    let scans = scan_entry_bytes(fixture.path());
    fetched_crate(cache.path(), "old", 40 * DAY);
    let manifest = fixture.path().join("Cargo.toml");
    let out = util::capgate()
        .env("CAPGATE_CACHE_DIR", cache.path())
        .env("CAPGATE_CACHE_MAX_BYTES", (scans + 1000).to_string())
        .args(["scan", "--offline", "-q", "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!entries(cache.path()).is_empty(), "fresh scan results kept");
    assert!(
        !cache.path().join("src/old-1.0.0-0123456789abcdef").exists()
            && !cache
                .path()
                .join("crates/old-1.0.0-0123456789abcdef.crate")
                .exists(),
        "the old download and its sources went first"
    );
}

#[test]
fn unpacked_crates_are_evicted_before_older_scan_results_and_downloads() {
    let (fixture, cache) = fixture_and_cache();
    fetched_crate(cache.path(), "old", 40 * DAY);
    let scans = scan_entry_bytes(fixture.path());
    // Written after the scan's entries, so newer than all of them; the
    // budget holds the entries and the downloads, not the sources too.
    let manifest = fixture.path().join("Cargo.toml");
    let run = || {
        util::capgate()
            .env("CAPGATE_CACHE_DIR", cache.path())
            .env("CAPGATE_CACHE_MAX_BYTES", (scans + 8000 + 1000).to_string())
            .args(["scan", "--offline", "-q", "--manifest-path"])
            .arg(&manifest)
            .output()
            .unwrap()
    };
    assert_eq!(run().status.code(), Some(0));
    fetched_crate(cache.path(), "new", std::time::Duration::ZERO);
    // A scan that misses (the first one's entries are kept) evicts.
    std::fs::remove_dir_all(cache.path().join("v2")).unwrap();
    assert_eq!(run().status.code(), Some(0));
    assert!(!entries(cache.path()).is_empty(), "scan results kept");
    for name in ["old", "new"] {
        assert!(
            cache
                .path()
                .join(format!("crates/{name}-1.0.0-0123456789abcdef.crate"))
                .exists(),
            "the {name} download is kept"
        );
        assert!(
            !cache
                .path()
                .join(format!("src/{name}-1.0.0-0123456789abcdef"))
                .exists(),
            "the {name} sources went first"
        );
    }
}

#[test]
fn cache_rejects_options_it_cannot_honour() {
    let cache = tempfile::tempdir().unwrap();
    for args in [
        &["--format", "json", "cache", "info"][..],
        &["--no-cache", "cache", "info"],
    ] {
        let r = util::Run::of(util::capgate().env("CAPGATE_CACHE_DIR", cache.path()), args);
        r.assert_code(2);
    }
}
