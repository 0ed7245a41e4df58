//! Fetching published crates from a sparse registry, for `vet-bom`.
//!
//! Where the registry is comes from cargo, not from us: the default
//! registry's index (and any source replacement of it in cargo's
//! configuration) through tame-index, or `--registry URL` for another sparse
//! index. Index entries say which versions exist, their checksums, whether
//! they are yanked and when they were published.
//!
//! A `.crate` is taken from cargo's own download cache when it is there, else
//! from capgate's download store, else downloaded. Whatever its origin it is
//! verified against the index checksum (and the BoM's hash, by the caller)
//! before anything reads its contents.
//!
//! **Invariant:** a `.crate` file only appears under its final name in the
//! store after its SHA-256 matched; a download cut off midway stays a
//! temporary file that is deleted, never used.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::http::{Deadline, Http, Sink};
use crate::digest::{file_sha256, hex};
use tame_index::index::{FileLock, IndexConfig, IndexLocation, IndexPath, IndexUrl, SparseIndex};

/// A `.crate` larger than this is refused; the default registry's limit is
/// a small fraction of it.
const MAX_CRATE_BYTES: u64 = 128 << 20;
/// An index entry larger than this is refused.
const MAX_INDEX_ENTRY_BYTES: u64 = 64 << 20;

/// Where to find crates.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// A sparse index URL (`sparse+http…` or `http…`); `None` is cargo's
    /// default registry, as cargo's configuration says.
    pub index_url: Option<String>,
    /// Use only what is on disk: cargo's download cache and index cache, and
    /// capgate's store.
    pub offline: bool,
    /// When every request, retry and back-off must be over.
    pub deadline: Option<Deadline>,
    /// The version of cargo whose cache layout to follow (`1.91.0`).
    /// Always given: tame-index would otherwise run `cargo -V` in the
    /// current directory, where a `rust-toolchain.toml` picks the program.
    pub cargo_version: String,
}

/// One published version of a crate, from the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedVersion {
    pub version: semver::Version,
    /// SHA-256 of the `.crate`, lower-case hex.
    pub checksum: String,
    pub yanked: bool,
    /// RFC 3339 publication time, when the index records it.
    pub pubtime: Option<String>,
}

/// Why something could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("registry: {0}")]
    Registry(String),
    #[error("{0}")]
    Network(String),
    #[error(
        "checksum mismatch for {name}@{version}: expected {expected} ({expected_from}), got {actual}"
    )]
    ChecksumMismatch {
        name: String,
        version: String,
        expected: String,
        expected_from: &'static str,
        actual: String,
    },
    #[error("{0}")]
    Offline(String),
    #[error("{0}")]
    Io(String),
    /// The overall deadline passed before the request could finish.
    #[error("{0}")]
    Deadline(String),
}

/// A sparse registry and the places its crates are kept.
pub struct Registry {
    index: SparseIndex,
    /// cargo's download cache for this registry
    /// (`$CARGO_HOME/registry/cache/<index dir>`).
    cargo_crates: PathBuf,
    http: Option<Http>,
    config: OnceLock<Result<IndexConfig, String>>,
    /// cargo's source id for it, for reports (`registry+…` / `sparse+…`).
    pub source_id: String,
    /// Whether it is cargo's default registry, which purls need not name.
    pub is_default: bool,
}

impl Registry {
    pub fn open(options: &RegistryOptions) -> Result<Registry, FetchError> {
        let registry_error = |e: tame_index::Error| FetchError::Registry(e.to_string());
        let (url, is_default) = match &options.index_url {
            Some(url) => {
                let url = if url.starts_with("sparse+") {
                    url.clone()
                } else if url.starts_with("http://") || url.starts_with("https://") {
                    format!("sparse+{url}")
                } else {
                    return Err(FetchError::Registry(format!(
                        "--registry `{url}` is not a sparse index URL (sparse+https://…)"
                    )));
                };
                let url = if url.ends_with('/') { url } else { url + "/" };
                (IndexUrl::NonCratesIo(url.into()), false)
            }
            None => (
                IndexUrl::crates_io(None, None, Some(&options.cargo_version))
                    .map_err(registry_error)?,
                true,
            ),
        };
        if !url.is_sparse() {
            return Err(FetchError::Registry(format!(
                "the registry index `{}` is not a sparse index; vet-bom reads sparse indexes only (pass --registry sparse+https://…)",
                url.as_str()
            )));
        }
        let source_id = url.as_str().to_owned();
        // Where cargo keeps this index's cache decides where it keeps the
        // registry's `.crate` files too.
        let cargo_version = options.cargo_version.parse().map_err(|e| {
            FetchError::Registry(format!("cargo version `{}`: {e}", options.cargo_version))
        })?;
        let (index_dir, _) = IndexLocation {
            cargo_version: Some(cargo_version),
            ..IndexLocation::new(url)
        }
        .into_parts()
        .map_err(registry_error)?;
        let index = SparseIndex::new(IndexLocation {
            url: IndexUrl::NonCratesIo(source_id.clone().into()),
            root: IndexPath::Exact(index_dir.clone()),
            cargo_version: None,
        })
        .map_err(registry_error)?;
        let index_dir = PathBuf::from(index_dir.as_std_path());
        let cargo_crates = match (
            index_dir.parent().and_then(Path::parent),
            index_dir.file_name(),
        ) {
            (Some(registry), Some(dir)) => registry.join("cache").join(dir),
            _ => index_dir.join("no-crate-cache"),
        };
        let http = if options.offline {
            None
        } else {
            Some(Http::new(options.deadline)?)
        };
        Ok(Registry {
            index,
            cargo_crates,
            http,
            config: OnceLock::new(),
            source_id,
            is_default,
        })
    }

    /// Every published version of `name`, or `None` when the registry has
    /// no such crate.
    pub fn versions(&self, name: &str) -> Result<Option<Vec<PublishedVersion>>, FetchError> {
        let krate_name = tame_index::KrateName::cargo(name).map_err(|e| {
            FetchError::Registry(format!("`{name}` is not a valid crate name: {e}"))
        })?;
        let krate = match &self.http {
            Some(http) => {
                let url = self.index.crate_url(krate_name);
                let mut body = Vec::new();
                if !http.get(&url, MAX_INDEX_ENTRY_BYTES, &mut body)? {
                    return Ok(None);
                }
                tame_index::IndexKrate::from_slice(&body).map_err(|e| {
                    FetchError::Registry(format!("index entry {url} does not parse: {e}"))
                })?
            }
            None => {
                // cargo's own lock is not taken: reading a cache entry it
                // is rewriting fails validation and reads as absent.
                let lock = FileLock::unlocked();
                let entry = self
                    .index
                    .cached_krate(krate_name, &lock)
                    .map_err(|e| FetchError::Registry(e.to_string()))?;
                let Some(entry) = entry else {
                    return Err(FetchError::Offline(format!(
                        "{name} is not in cargo's local index cache; run without --offline"
                    )));
                };
                entry
                    .deserialize()
                    .map_err(|e| FetchError::Registry(e.to_string()))?
            }
        };
        let mut versions: Vec<PublishedVersion> = krate
            .versions
            .iter()
            .filter_map(|v| {
                Some(PublishedVersion {
                    version: semver::Version::parse(&v.version).ok()?,
                    checksum: v.checksum.to_string(),
                    yanked: v.is_yanked(),
                    pubtime: v.pubtime.as_ref().map(|t| t.to_string()),
                })
            })
            .collect();
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(Some(versions))
    }

    /// The verified `.crate` of `name@version`: cargo's cached copy, capgate's
    /// stored copy, or a fresh download into `store` (hashed as it arrives),
    /// with the time spent verifying a copy already on disk (for `-v`).
    pub fn crate_file(
        &self,
        name: &str,
        version: &str,
        checksum: &str,
        store: &Path,
    ) -> Result<(PathBuf, std::time::Duration), FetchError> {
        let mut verifying = std::time::Duration::ZERO;
        let path = self.crate_file_timed(name, version, checksum, store, &mut verifying)?;
        Ok((path, verifying))
    }

    fn crate_file_timed(
        &self,
        name: &str,
        version: &str,
        checksum: &str,
        store: &Path,
        verifying: &mut std::time::Duration,
    ) -> Result<PathBuf, FetchError> {
        let timed = |verifying: &mut std::time::Duration, path: &Path| {
            let started = std::time::Instant::now();
            let result = verify_file(path, name, version, checksum);
            *verifying += started.elapsed();
            result
        };
        let file_name = format!("{name}-{version}.crate");
        // The store is shared by every registry, so its copies are named
        // by checksum too.
        let stored_name = format!(
            "{name}-{version}-{}.crate",
            &checksum[..checksum.len().min(16)]
        );
        let cargo_copy = self.cargo_crates.join(&file_name);
        if cargo_copy.is_file() {
            timed(verifying, &cargo_copy)?;
            return Ok(cargo_copy);
        }
        // capgate's own copy was verified when stored, but the store may have
        // been written since: one that no longer matches is removed and
        // fetched again, never used.
        let stored = store.join(&stored_name);
        if stored
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_file())
        {
            match timed(verifying, &stored) {
                Ok(()) => return Ok(stored),
                Err(_) => {
                    let _ = std::fs::remove_file(&stored);
                }
            }
        } else if stored.symlink_metadata().is_ok() {
            let _ = std::fs::remove_file(&stored);
        }
        let Some(http) = &self.http else {
            return Err(FetchError::Offline(format!(
                "{file_name} is not in cargo's download cache ({}); run without --offline",
                self.cargo_crates.display()
            )));
        };
        let krate_name = tame_index::KrateName::cargo(name).map_err(|e| {
            FetchError::Registry(format!("`{name}` is not a valid crate name: {e}"))
        })?;
        // tame-index fills in every marker of cargo's `dl` template but the
        // checksum one.
        let url = self
            .config()?
            .download_url(krate_name, version)
            .replace("{sha256-checksum}", checksum);
        std::fs::create_dir_all(store)
            .map_err(|e| FetchError::Io(format!("could not create {}: {e}", store.display())))?;
        let temp = tempfile::NamedTempFile::new_in(store)
            .map_err(|e| FetchError::Io(format!("could not write in {}: {e}", store.display())))?;
        // Streamed to disk and hashed as it arrives: eight downloads at once
        // never hold eight archives in memory.
        let mut sink = HashingFile {
            temp,
            hasher: Sha256::new(),
        };
        if !http.get(&url, MAX_CRATE_BYTES, &mut sink)? {
            return Err(FetchError::Registry(format!(
                "{url}: the registry lists {name}@{version} but does not serve it (404)"
            )));
        }
        let HashingFile { temp, hasher } = sink;
        let actual = hex(&hasher.finalize());
        if actual != checksum {
            return Err(FetchError::ChecksumMismatch {
                name: name.into(),
                version: version.into(),
                expected: checksum.into(),
                expected_from: "registry index",
                actual,
            });
        }
        temp.as_file()
            .sync_all()
            .map_err(|e| FetchError::Io(format!("could not write {file_name}: {e}")))?;
        let target = store.join(&stored_name);
        temp.persist(&target)
            .map_err(|e| FetchError::Io(format!("could not store {file_name}: {e}")))?;
        Ok(target)
    }

    fn config(&self) -> Result<&IndexConfig, FetchError> {
        self.config
            .get_or_init(|| {
                let http = self.http.as_ref().ok_or("offline")?;
                let url = format!("{}config.json", self.index.url());
                let mut body = Vec::new();
                if !http
                    .get(&url, 1 << 20, &mut body)
                    .map_err(|e| e.to_string())?
                {
                    return Err(format!("{url} does not exist"));
                }
                serde_json::from_slice(&body).map_err(|e| format!("{url} does not parse: {e}"))
            })
            .as_ref()
            .map_err(|e| FetchError::Registry(e.clone()))
    }
}

/// Checks a file's SHA-256 against the index checksum.
fn verify_file(path: &Path, name: &str, version: &str, checksum: &str) -> Result<(), FetchError> {
    let actual = file_sha256(path)
        .map_err(|e| FetchError::Io(format!("could not read {}: {e}", path.display())))?;
    if actual == checksum {
        Ok(())
    } else {
        Err(FetchError::ChecksumMismatch {
            name: name.into(),
            version: version.into(),
            expected: checksum.into(),
            expected_from: "registry index",
            actual,
        })
    }
}

/// A download on its way to the store: a temporary file and the SHA-256 of
/// what was written to it.
struct HashingFile {
    temp: tempfile::NamedTempFile,
    hasher: Sha256,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.temp.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.temp.flush()
    }
}

impl Sink for HashingFile {
    fn restart(&mut self) -> std::io::Result<()> {
        self.temp.as_file().set_len(0)?;
        self.temp.rewind()?;
        self.hasher = Sha256::new();
        Ok(())
    }
}
