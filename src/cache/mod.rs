//! The scan cache: one result per package, keyed by everything that
//! determines it, shared by every workspace on the machine.
//!
//! A key hashes the tool's version and build (`CAPGATE_BUILD_ID`, a hash
//! of its sources from build.rs), the rules, the platforms and features
//! `cfg` is evaluated for, the package's targets and dependency names, what
//! its dependencies' items reach, and for a published crate its registry
//! checksum (published crates never change). A path or git package's entry
//! instead records the SHA-256 of every file the scan read (and of its
//! Cargo.toml), and is used only while they all still match: a warm run
//! reads the files a scan needs, not every file under the package root.
//! The cache is one directory of JSON files (`v2/ab/abcd….json`: a header
//! line with the full key and the body's SHA-256, then the body), so CI can
//! save and restore it.
//!
//! **Invariant:** an entry is never half-written (written to a temporary
//! file, then renamed), and one that does not read back, was made for
//! another key or no longer matches its digest is rescanned, never trusted
//! (`entry.rs`).
//!
//! **Invariant:** a cache that cannot be read or written never stops or
//! changes a scan: the scan goes on without it, and each kind of problem is
//! one warning for the whole run, however many packages it touched.

mod entry;
pub mod inventory;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::digest::{file_sha256, hex};
pub use inventory::{Item, Kind};

use crate::model::PackageScan;
use crate::model::{BuildGraph, Package};
use crate::rules::RuleSet;

/// Beyond this many bytes in all (scan results, downloads and unpacked
/// crates), the least recently used are evicted first.
const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// A cache directory.
#[derive(Debug)]
pub struct ScanCache {
    root: PathBuf,
    max_bytes: u64,
    /// Shard directories known to exist: creating one per entry is a
    /// system call each, and metadata calls dominate writing small entries.
    shards: Mutex<std::collections::HashSet<PathBuf>>,
    /// Set at the first failed write: the rest of the run stores nothing.
    writes_off: AtomicBool,
    problems: Mutex<Problems>,
}

/// What went wrong with the cache during a run, for its warnings.
#[derive(Debug, Default)]
struct Problems {
    /// The first write that failed.
    unwritable: Option<String>,
    /// The first entry that could not be read for lack of permission.
    unreadable: Option<String>,
    /// Entries that were there but not trusted: (path, why).
    rejected: Vec<(PathBuf, String)>,
}

/// How much of one kind a cache directory holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheInfo {
    pub entries: u64,
    pub bytes: u64,
}

impl CacheInfo {
    fn add(&mut self, bytes: u64) {
        self.entries += 1;
        self.bytes += bytes;
    }
}

/// What a cache directory holds, by kind (in [`Kind::ALL`]'s order), and
/// the size it is kept under.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheContents {
    pub by_kind: Vec<(Kind, CacheInfo)>,
    pub budget: u64,
    /// Items that were to be removed and could not be.
    pub not_removed: Vec<PathBuf>,
}

impl CacheContents {
    fn of<'a>(items: impl IntoIterator<Item = &'a Item>, budget: u64) -> CacheContents {
        let mut by_kind: Vec<(Kind, CacheInfo)> = Kind::ALL
            .iter()
            .map(|&k| (k, CacheInfo::default()))
            .collect();
        for item in items {
            if let Some((_, info)) = by_kind.iter_mut().find(|(k, _)| *k == item.kind) {
                info.add(item.bytes);
            }
        }
        CacheContents {
            by_kind,
            budget,
            not_removed: Vec::new(),
        }
    }

    pub fn total(&self) -> CacheInfo {
        self.by_kind
            .iter()
            .fold(CacheInfo::default(), |total, (_, info)| CacheInfo {
                entries: total.entries + info.entries,
                bytes: total.bytes + info.bytes,
            })
    }
}

impl ScanCache {
    /// `CAPGATE_CACHE_DIR`, else the platform's cache directory
    /// (`~/.cache/cargo-capgate` on Linux).
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("CAPGATE_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("cargo-capgate")))
    }

    pub fn at(root: PathBuf) -> ScanCache {
        let max_bytes = std::env::var("CAPGATE_CACHE_MAX_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_MAX_BYTES);
        ScanCache {
            root,
            max_bytes,
            shards: Default::default(),
            writes_off: AtomicBool::new(false),
            problems: Default::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn entries_dir(&self) -> PathBuf {
        self.root.join("v2")
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.entries_dir()
            .join(&key[..2])
            .join(format!("{key}.json"))
    }

    /// The key of `package`'s scan in `graph` with `rules`, given what its
    /// dependencies' items reach (`dependency_exports`: one line each).
    pub fn key(
        &self,
        package: &Package,
        graph: &BuildGraph,
        rules: &RuleSet,
        dependency_exports: &[String],
    ) -> String {
        let mut h = Sha256::new();
        let mut line = |s: String| {
            h.update(s.as_bytes());
            h.update(b"\n");
        };
        // The build's identity (a hash of its sources and rules, from
        // build.rs): a rebuilt scanner never reads another's results.
        line(format!(
            "capgate-scan-v3 {} {}",
            env!("CARGO_PKG_VERSION"),
            env!("CAPGATE_BUILD_ID")
        ));
        line(format!("rules {}", rules.fingerprint()));
        line(format!(
            "target {:?} host {:?}",
            graph.cfg_target, graph.cfg_host
        ));
        line(format!(
            "package {} {} {:?}",
            package.name, package.version, package.source
        ));
        line(format!(
            "features {:?} links {:?}",
            package.features, package.links
        ));
        for target in package.targets.iter().chain(&package.build_script) {
            let root = target
                .root_file
                .strip_prefix(&package.root)
                .unwrap_or(&target.root_file);
            line(format!(
                "target {} {:?} {:?} {}",
                target.name,
                target.kind,
                target.edition,
                root.display()
            ));
        }
        for (kind, deps) in [
            ("dep", &package.dependencies),
            ("build-dep", &package.build_dependencies),
        ] {
            for d in deps {
                line(format!("{kind} {} {}", d.extern_name, d.lib_name));
            }
        }
        for exports in dependency_exports {
            line(format!("reach {exports}"));
        }
        match &package.checksum {
            Some(checksum) => line(format!("checksum {checksum}")),
            // The entry records its files' hashes (see `load`).
            None => line(format!("unpublished {}", package.root.display())),
        }
        hex(&h.finalize())
    }

    /// The cached scan of `package` for `key`, unless the entry is not to
    /// be trusted (`entry::read`) or a file it was made from changed. An
    /// untrusted entry is removed and counted for the run's warnings, so
    /// the caller rescans.
    pub fn load(&self, key: &str, package: &Package) -> Option<PackageScan> {
        let path = self.entry_path(key);
        let reject = |why: String| {
            let _ = std::fs::remove_file(&path);
            if let Ok(mut problems) = self.problems.lock() {
                problems.rejected.push((path.clone(), why));
            }
            None
        };
        let body = match entry::read(&path, key) {
            Ok(body) => body,
            Err(entry::Rejected::Absent) => return None,
            Err(entry::Rejected::Unreadable(why)) => {
                if let Ok(mut problems) = self.problems.lock() {
                    problems.unreadable.get_or_insert(why);
                }
                return None;
            }
            Err(entry::Rejected::Untrusted(why)) => return reject(why),
        };
        let entry = match serde_json::from_slice::<Entry>(&body) {
            Ok(entry) => entry,
            Err(e) => return reject(format!("is corrupt ({e})")),
        };
        if !entry.sources.iter().all(|(file, hash)| {
            entry::source_digest(&package.root, file).as_deref() == Some(hash.as_str())
        }) {
            return None;
        }
        // Recently used entries are the last to be evicted.
        entry::touch(&path);
        Some(entry.scan)
    }

    /// The run's cache problems, one warning per kind, in a fixed order.
    pub fn warnings(&self) -> Vec<String> {
        let Ok(mut problems) = self.problems.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(why) = &problems.unreadable {
            out.push(format!(
                "cannot read the scan cache ({why}); packages are scanned afresh"
            ));
        }
        problems.rejected.sort();
        match problems.rejected.as_slice() {
            [] => {}
            [(path, why)] => out.push(format!(
                "cache entry {} {why}; rejected and rescanned",
                path.display()
            )),
            [(path, why), rest @ ..] => out.push(format!(
                "{} cache entries were rejected and rescanned; the first, {}, {why}",
                rest.len() + 1,
                path.display()
            )),
        }
        if let Some(why) = &problems.unwritable {
            out.push(format!(
                "cannot write to the scan cache in {} ({why}); the scan goes on without storing results",
                self.root.display()
            ));
        }
        out
    }

    /// Records a failed write: the first is the run's warning, and nothing
    /// more is written.
    fn write_failed(&self, why: String) {
        self.writes_off.store(true, Ordering::Relaxed);
        if let Ok(mut problems) = self.problems.lock() {
            problems.unwritable.get_or_insert(why);
        }
    }

    /// `sub` under the cache directory, created and checked writable, for
    /// what else the tool keeps there (`vet-bom`'s downloads); `None`,
    /// recorded like a failed write, when it cannot be.
    pub fn writable_dir(&self, sub: &str) -> Option<PathBuf> {
        let dir = self.root.join(sub);
        let probe = std::fs::create_dir_all(&dir).and_then(|()| tempfile::tempfile_in(&dir));
        match probe {
            Ok(_) => Some(dir),
            Err(e) => {
                self.write_failed(format!("{}: {e}", dir.display()));
                None
            }
        }
    }

    /// Stores a scan atomically: a temporary file in the same directory,
    /// renamed into place, so readers see all of an entry or none. For a
    /// package without a registry checksum the entry records the hash of
    /// every file the scan read; a scan that found a file missing is not
    /// stored, since creating the file would change it.
    /// A write that fails is recorded for the run's one warning and turns
    /// further writes off.
    pub fn store(&self, key: &str, package: &Package, scan: &PackageScan) {
        if self.writes_off.load(Ordering::Relaxed) {
            return;
        }
        if let Err(why) = self.try_store(key, package, scan) {
            self.write_failed(why);
        }
    }

    fn try_store(&self, key: &str, package: &Package, scan: &PackageScan) -> Result<(), String> {
        let path = self.entry_path(key);
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut sources = Vec::new();
        if package.checksum.is_none() {
            let missing_file = scan
                .code
                .findings
                .iter()
                .chain(&scan.build_script.findings)
                .any(|f| MISSING_FILE_RULES.contains(&f.rule.as_str()));
            if missing_file {
                return Ok(());
            }
            for file in scan
                .stats
                .paths
                .iter()
                .map(PathBuf::as_path)
                .chain([package.manifest_path.as_path()])
            {
                let relative = file.strip_prefix(&package.root).unwrap_or(file);
                let Ok(hash) = file_sha256(file) else {
                    return Ok(());
                };
                sources.push((relative.to_string_lossy().into_owned(), hash));
            }
        }
        let dir = path.parent().unwrap_or(&self.root);
        let known = self
            .shards
            .lock()
            .map(|shards| shards.contains(dir))
            .unwrap_or(false);
        if !known {
            std::fs::create_dir_all(dir).map_err(fail)?;
            if let Ok(mut shards) = self.shards.lock() {
                shards.insert(dir.to_path_buf());
            }
        }
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        let entry = EntryRef { scan, sources };
        // Serialised in memory first: written straight to the file, every
        // JSON token would be a system call of its own.
        let body = serde_json::to_vec(&entry).map_err(|e| fail(e.into()))?;
        if body.len() as u64 > entry::MAX_ENTRY_BYTES {
            // It would not be read back; the package is rescanned each run.
            return Ok(());
        }
        file.write_all(&entry::encode(key, &body)).map_err(fail)?;
        file.persist(&path).map_err(|e| fail(e.error))?;
        Ok(())
    }

    /// Everything the cache holds, by kind.
    pub fn info(&self) -> CacheContents {
        CacheContents::of(&inventory::inventory(&self.root), self.max_bytes)
    }

    /// Removes everything the cache holds; returns what was removed.
    pub fn clean(&self) -> CacheContents {
        self.remove_where(|_| true)
    }

    /// Removes what was last used longer than `age` ago.
    pub fn prune(&self, age: std::time::Duration) -> CacheContents {
        let cutoff = SystemTime::now()
            .checked_sub(age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        self.remove_where(|item| item.last_used < cutoff)
    }

    fn remove_where(&self, wanted: impl Fn(&Item) -> bool) -> CacheContents {
        let (removed, kept): (Vec<Item>, Vec<Item>) = inventory::inventory(&self.root)
            .into_iter()
            .filter(|item| wanted(item))
            .partition(inventory::remove);
        // Shards a removal emptied go too (not in `evict`, which runs while
        // other scans may be storing into them).
        for item in removed.iter().filter(|item| item.kind == Kind::Scan) {
            if let Some(shard) = item.path.parent() {
                let _ = std::fs::remove_dir(shard);
            }
        }
        let mut contents = CacheContents::of(&removed, self.max_bytes);
        contents.not_removed = kept.into_iter().map(|item| item.path).collect();
        contents
    }

    /// Keeps everything the cache holds under its one size budget:
    /// unpacked crates first (made again from their downloads, without the
    /// network or a scan; a run of 948 crates unpacks more than the
    /// budget, and would otherwise push out the scan results it just
    /// made), then the least recently used of any kind.
    pub fn evict(&self) {
        let mut items = inventory::inventory(&self.root);
        let mut total: u64 = items.iter().map(|item| item.bytes).sum();
        if total <= self.max_bytes {
            return;
        }
        items.sort_by_key(|item| (item.kind != Kind::Source, item.last_used));
        for item in items {
            if total <= self.max_bytes {
                break;
            }
            if inventory::remove(&item) {
                total -= item.bytes;
            }
        }
    }
}

/// Findings that say a file the code names does not exist or was refused
/// (outside the package, not a regular file); creating or replacing it
/// changes the scan, so such a scan of a path package is not cached.
const MISSING_FILE_RULES: &[&str] = &[
    "missing-module-file",
    "module-outside-package",
    "missing-source",
    "include-unresolved",
    "unreadable-file",
    "file-outside-package",
    "not-a-regular-file",
];

/// A cache entry: the scan, and for unpublished packages the files it was
/// made from (path relative to the package root, SHA-256).
#[derive(serde::Deserialize)]
struct Entry {
    scan: PackageScan,
    sources: Vec<(String, String)>,
}

#[derive(serde::Serialize)]
struct EntryRef<'a> {
    scan: &'a PackageScan,
    sources: Vec<(String, String)>,
}
