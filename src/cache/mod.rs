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
//! The cache is one directory of plain JSON files (`v2/ab/abcd….json`), so
//! CI can save and restore it.
//!
//! **Invariant:** an entry is never half-written (written to a temporary
//! file, then renamed), and one that does not read back is rescanned, with a
//! warning, never trusted.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::digest::{file_sha256, hex};

use crate::resolve::{BuildGraph, Package};
use crate::rules::RuleSet;
use crate::scan::PackageScan;

/// Entries beyond this many bytes are evicted, oldest first.
const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// A cache directory.
#[derive(Debug)]
pub struct ScanCache {
    root: PathBuf,
    max_bytes: u64,
    /// Shard directories known to exist: creating one per entry is a
    /// system call each, and metadata calls dominate writing small entries.
    shards: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
}

/// What a cache directory holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheInfo {
    pub entries: u64,
    pub bytes: u64,
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
            "capgate-scan-v2 {} {}",
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

    /// The cached scan of `package` for `key`, unless a file it was made
    /// from changed. A corrupt entry is removed and reported as a warning,
    /// so the caller rescans.
    pub fn load(&self, key: &str, package: &Package) -> Result<Option<PackageScan>, String> {
        let path = self.entry_path(key);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(format!(
                    "cannot read cache entry {}: {e}; rescanning",
                    path.display()
                ));
            }
        };
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(entry) => {
                if !entry.sources.iter().all(|(file, hash)| {
                    file_sha256(&package.root.join(file)).ok().as_deref() == Some(hash.as_str())
                }) {
                    return Ok(None);
                }
                // Recently used entries are the last to be evicted.
                if let Ok(file) = std::fs::File::options().write(true).open(&path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Ok(Some(entry.scan))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(format!(
                    "cache entry {} is corrupt ({e}); rescanning",
                    path.display()
                ))
            }
        }
    }

    /// Stores a scan atomically: a temporary file in the same directory,
    /// renamed into place, so readers see all of an entry or none. For a
    /// package without a registry checksum the entry records the hash of
    /// every file the scan read; a scan that found a file missing is not
    /// stored, since creating the file would change it.
    pub fn store(&self, key: &str, package: &Package, scan: &PackageScan) -> Result<(), String> {
        let path = self.entry_path(key);
        let fail = |e: std::io::Error| format!("cannot write cache entry {}: {e}", path.display());
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
        let bytes = serde_json::to_vec(&entry).map_err(|e| fail(e.into()))?;
        file.write_all(&bytes).map_err(fail)?;
        file.persist(&path).map_err(|e| fail(e.error))?;
        Ok(())
    }

    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(self.entries_dir()) else {
            return out;
        };
        for shard in shards.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                if let Ok(meta) = file.metadata()
                    && meta.is_file()
                {
                    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    out.push((file.path(), meta.len(), modified));
                }
            }
        }
        out
    }

    pub fn info(&self) -> CacheInfo {
        let entries = self.entries();
        CacheInfo {
            entries: entries.len() as u64,
            bytes: entries.iter().map(|(_, len, _)| len).sum(),
        }
    }

    /// Removes every entry; returns what was removed.
    pub fn clean(&self) -> std::io::Result<CacheInfo> {
        let info = self.info();
        match std::fs::remove_dir_all(self.entries_dir()) {
            Ok(()) => Ok(info),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CacheInfo::default()),
            Err(e) => Err(e),
        }
    }

    /// Keeps the cache under its size bound, evicting the least recently
    /// used entries first.
    pub fn evict(&self) {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort_by_key(|(_, _, modified)| *modified);
        for (path, len, _) in entries {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// Findings that say a file the code names does not exist or was refused
/// (outside the package, not a regular file); creating or replacing it
/// changes the scan, so such a scan of a path package is not cached.
const MISSING_FILE_RULES: &[&str] = &[
    "missing-module-file",
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
