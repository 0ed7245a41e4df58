//! Unpacking a `.crate` (a gzip'd tar) where nothing in it can escape.
//!
//! A `.crate` comes from whoever published it, so every entry is checked
//! before a byte is written: only regular files and directories, only
//! relative paths of plain components under `NAME-VERSION/`, within a bound
//! on file count and total size (a gzip bomb stops at the bound, without
//! inflating the rest). The archive is unpacked into a temporary directory
//! beside the destination and renamed into place when complete. Every file
//! is written, whatever its name: `include!` and `#[path]` may name any
//! file, and a file the scanner asks for must be there exactly when the
//! archive holds it (a subset once made a 296 KB `include!`d `.rs.data`
//! file of icu_properties_data look missing).
//!
//! `list_crate` makes the same checks without writing anything, and keeps
//! what resolving needs (the manifest's bytes, every path): `vet-bom`
//! builds its graph from that, and unpacks a crate only when its scan is
//! not in the cache.
//!
//! The archive's SHA-256 is computed again while it is unpacked or
//! compared (one read, no second pass), so what lands under the final name
//! is what the checksum verified even if the file changed since.
//!
//! An unpacked directory kept from an earlier run lives in a cache that
//! someone else may have written, so it is reused only after it was
//! compared with the (just verified) archive, entry by entry: the same
//! files with the same bytes, nothing missing, nothing added, no links.
//! Otherwise it is removed and the archive unpacked again.
//!
//! **Invariant:** a directory under its final name is a complete, checked
//! unpacking; a run killed midway leaves only a temporary directory, which
//! is never read.
//!
//! **Invariant:** what the scanner reads of a crate is exactly what its
//! verified `.crate` holds, whether unpacked now or kept from before.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::digest::hex;

/// Bounds on what one crate may unpack to.
#[derive(Clone, Copy, Debug)]
pub struct UnpackLimits {
    pub max_bytes: u64,
    pub max_files: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_bytes: 512 << 20,
            max_files: 50_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnpackError {
    #[error("{archive}: entry `{entry}` {problem}; refusing to unpack this crate")]
    UnsafeEntry {
        archive: String,
        entry: String,
        problem: String,
    },
    #[error("{archive}: unpacks to more than {limit}; refusing (a compression bomb?)")]
    TooLarge { archive: String, limit: String },
    #[error("{archive}: not a valid .crate archive: {message}")]
    Corrupt { archive: String, message: String },
    #[error("could not unpack into {dir}: {message}")]
    Io { dir: String, message: String },
    /// A kept unpacking differs from its archive (only while comparing).
    #[error("{0}")]
    Differs(String),
    /// The archive no longer has the checksum it was verified with.
    #[error("{archive} changed after it was verified; not unpacked")]
    Changed { archive: String },
}

/// A crate's directory, ready to scan.
#[derive(Debug)]
pub struct Unpacked {
    pub root: PathBuf,
    /// Why a directory kept from an earlier run was not reused (it differed
    /// from the archive), when one was unpacked again in its place.
    pub replaced: Option<String>,
}

/// Unpacks `archive`, whose entries must all live under `prefix/`
/// (`NAME-VERSION`), into `dest`. An existing `dest` is reused only if it
/// holds exactly what the archive does; otherwise it is replaced.
pub fn unpack_crate(
    archive: &Path,
    prefix: &str,
    dest: &Path,
    limits: UnpackLimits,
) -> Result<Unpacked, UnpackError> {
    unpack_verified(archive, prefix, dest, limits, None)
}

/// [`unpack_crate`], with the archive's SHA-256 checked against `checksum`
/// (lower-case hex) in the same read: a directory is renamed into place, or
/// a kept one reused, only if it matches.
pub fn unpack_verified(
    archive: &Path,
    prefix: &str,
    dest: &Path,
    limits: UnpackLimits,
    checksum: Option<&str>,
) -> Result<Unpacked, UnpackError> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let io_error = |e: std::io::Error| UnpackError::Io {
        dir: parent.display().to_string(),
        message: e.to_string(),
    };
    let mut replaced = None;
    if let Ok(meta) = std::fs::symlink_metadata(dest) {
        let differs = if meta.is_dir() {
            let mut checker = Checker::new(dest);
            match extract(archive, prefix, limits, &mut checker, checksum) {
                Ok(()) => checker.extra(),
                Err(e @ UnpackError::Changed { .. }) => return Err(e),
                Err(e) => Some(e.to_string()),
            }
        } else {
            Some("is not a directory".to_owned())
        };
        let Some(differs) = differs else {
            return Ok(Unpacked {
                root: dest.to_path_buf(),
                replaced: None,
            });
        };
        remove_aside(dest, parent).map_err(io_error)?;
        replaced = Some(differs);
    }
    std::fs::create_dir_all(parent).map_err(io_error)?;
    let staging = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(parent)
        .map_err(io_error)?;
    extract(
        archive,
        prefix,
        limits,
        &mut Writer(staging.path()),
        checksum,
    )?;
    let staging = staging.keep();
    let unpacked = Unpacked {
        root: dest.to_path_buf(),
        replaced,
    };
    match std::fs::rename(&staging, dest) {
        Ok(()) => Ok(unpacked),
        // Another run finished the same crate first; its copy is as good.
        Err(_) if dest.is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(unpacked)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(io_error(e))
        }
    }
}

/// What a checked archive holds, without unpacking it: every path (files
/// and directories, relative to `NAME-VERSION/`) and the bytes of its
/// `Cargo.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub files: BTreeSet<PathBuf>,
    /// Directories, named or implied by a file below them.
    pub dirs: BTreeSet<PathBuf>,
    /// `Cargo.toml`'s bytes, when the archive has that file.
    pub manifest: Option<Vec<u8>>,
}

/// Checks every entry of `archive` as [`unpack_crate`] does (the same
/// refusals, in the same order) and lists it, writing nothing.
pub fn list_crate(
    archive: &Path,
    prefix: &str,
    limits: UnpackLimits,
) -> Result<Listing, UnpackError> {
    let mut listing = Listing::default();
    extract(archive, prefix, limits, &mut listing, None)?;
    Ok(listing)
}

/// Listing refuses what writing would: the same path twice, a file where
/// a directory must go (`File exists`, `Not a directory`, as `mkdir` says).
impl Listing {
    fn create_dir_all(&mut self, path: &Path) -> Result<(), Problem> {
        if path.as_os_str().is_empty() || self.dirs.contains(path) {
            return Ok(());
        }
        if self.files.contains(path) {
            return Err(Problem::Io(std::io::Error::from_raw_os_error(libc::EEXIST)));
        }
        let parent = path.parent().unwrap_or(Path::new(""));
        if parent
            .ancestors()
            .any(|a| !a.as_os_str().is_empty() && self.files.contains(a))
        {
            return Err(Problem::Io(std::io::Error::from_raw_os_error(
                libc::ENOTDIR,
            )));
        }
        self.create_dir_all(parent)?;
        self.dirs.insert(path.to_path_buf());
        Ok(())
    }
}

/// A name longer than a file system takes (`NAME_MAX`), as writing it
/// would fail.
fn too_long(relative: &Path) -> Result<(), Problem> {
    if relative.components().any(|c| c.as_os_str().len() > 255) {
        return Err(Problem::Io(std::io::Error::from_raw_os_error(
            libc::ENAMETOOLONG,
        )));
    }
    Ok(())
}

impl Target for Listing {
    fn dir(&mut self, relative: &Path) -> Result<(), Problem> {
        too_long(relative)?;
        self.create_dir_all(relative)
    }

    fn file(&mut self, relative: &Path, content: &mut dyn Read) -> Result<u64, Problem> {
        too_long(relative)?;
        self.create_dir_all(relative.parent().unwrap_or(Path::new("")))?;
        if self.dirs.contains(relative) || !self.files.insert(relative.to_path_buf()) {
            return Err(Problem::Twice);
        }
        if relative == Path::new("Cargo.toml") {
            let mut bytes = Vec::new();
            content.read_to_end(&mut bytes).map_err(Problem::Corrupt)?;
            let n = bytes.len() as u64;
            self.manifest = Some(bytes);
            return Ok(n);
        }
        std::io::copy(content, &mut std::io::sink()).map_err(Problem::Corrupt)
    }
}

/// Removes `path` (a directory or anything else) by first renaming it to a
/// temporary name, so its final name is free at once even if removing it
/// takes a while or fails halfway.
fn remove_aside(path: &Path, parent: &Path) -> std::io::Result<()> {
    let trash = tempfile::Builder::new()
        .prefix(".replaced-")
        .tempdir_in(parent)?
        .keep();
    let aside = trash.join("old");
    std::fs::rename(path, &aside)?;
    std::fs::remove_dir_all(&trash)
}

/// What `extract` does with each checked entry.
trait Target {
    fn dir(&mut self, relative: &Path) -> Result<(), Problem>;
    /// Takes the file's content; returns how many bytes it had.
    fn file(&mut self, relative: &Path, content: &mut dyn Read) -> Result<u64, Problem>;
}

enum Problem {
    /// The same path twice in the archive.
    Twice,
    Io(std::io::Error),
    /// Reading the archive failed.
    Corrupt(std::io::Error),
    /// A kept directory differs from the archive.
    Differs(String),
}

/// Writes the archive's files below a fresh directory.
struct Writer<'a>(&'a Path);

impl Target for Writer<'_> {
    fn dir(&mut self, relative: &Path) -> Result<(), Problem> {
        std::fs::create_dir_all(self.0.join(relative)).map_err(Problem::Io)
    }

    fn file(&mut self, relative: &Path, content: &mut dyn Read) -> Result<u64, Problem> {
        let target = self.0.join(relative);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(Problem::Io)?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Problem::Twice,
                _ => Problem::Io(e),
            })?;
        let mut buf = vec![0u8; 64 << 10];
        let mut total = 0u64;
        loop {
            let n = match content.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Problem::Corrupt(e)),
            };
            out.write_all(&buf[..n]).map_err(Problem::Io)?;
            total += n as u64;
        }
    }
}

/// Compares a kept directory with the archive, and remembers what the
/// archive accounts for so that anything else in it is found.
struct Checker<'a> {
    root: &'a Path,
    files: BTreeSet<PathBuf>,
    dirs: BTreeSet<PathBuf>,
}

impl<'a> Checker<'a> {
    fn new(root: &'a Path) -> Checker<'a> {
        Checker {
            root,
            files: BTreeSet::new(),
            dirs: BTreeSet::new(),
        }
    }

    fn note_dirs(&mut self, relative: &Path) {
        for dir in relative.ancestors().skip(1) {
            if !dir.as_os_str().is_empty() {
                self.dirs.insert(dir.to_path_buf());
            }
        }
    }

    /// Anything in the directory the archive does not account for: a file
    /// added, a link, a pipe.
    fn extra(&self) -> Option<String> {
        let mut pending = vec![PathBuf::new()];
        while let Some(relative) = pending.pop() {
            let entries = match std::fs::read_dir(self.root.join(&relative)) {
                Ok(entries) => entries,
                Err(e) => return Some(format!("cannot list {}: {e}", relative.display())),
            };
            for entry in entries {
                let Ok(entry) = entry else {
                    return Some(format!("cannot list {}", relative.display()));
                };
                let path = relative.join(entry.file_name());
                match entry.file_type() {
                    Ok(t) if t.is_dir() && self.dirs.contains(&path) => pending.push(path),
                    Ok(t) if t.is_file() && self.files.contains(&path) => {}
                    _ => return Some(format!("{} is not in the archive", path.display())),
                }
            }
        }
        None
    }
}

impl Target for Checker<'_> {
    fn dir(&mut self, relative: &Path) -> Result<(), Problem> {
        self.note_dirs(&relative.join("x"));
        Ok(())
    }

    fn file(&mut self, relative: &Path, content: &mut dyn Read) -> Result<u64, Problem> {
        if !self.files.insert(relative.to_path_buf()) {
            return Err(Problem::Twice);
        }
        self.note_dirs(relative);
        let differs = |why: &str| Problem::Differs(format!("{} {why}", relative.display()));
        let path = self.root.join(relative);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(differs("is not a regular file")),
            Err(_) => return Err(differs("is missing")),
        }
        let mut kept = std::fs::File::open(&path).map_err(|_| differs("cannot be read"))?;
        let mut want = vec![0u8; 64 << 10];
        let mut have = vec![0u8; 64 << 10];
        let mut total = 0u64;
        loop {
            let n = match content.read(&mut want) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Problem::Corrupt(e)),
            };
            if n == 0 {
                // The kept file must end here too.
                return match kept.read(&mut have[..1]) {
                    Ok(0) => Ok(total),
                    _ => Err(differs("is longer than in the archive")),
                };
            }
            kept.read_exact(&mut have[..n])
                .map_err(|_| differs("is shorter than in the archive"))?;
            if want[..n] != have[..n] {
                return Err(differs("was changed"));
            }
            total += n as u64;
        }
    }
}

/// Checks every entry of `archive` and hands its `prefix/`-relative path
/// (and a file's content) to `target`.
fn extract(
    archive: &Path,
    prefix: &str,
    limits: UnpackLimits,
    target: &mut dyn Target,
    checksum: Option<&str>,
) -> Result<(), UnpackError> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| archive.display().to_string());
    let corrupt = |message: String| UnpackError::Corrupt {
        archive: name.clone(),
        message,
    };
    let unsafe_entry = |entry: &str, problem: &str| UnpackError::UnsafeEntry {
        archive: name.clone(),
        entry: entry.to_owned(),
        problem: problem.to_owned(),
    };
    let problem = |problem: Problem, raw_path: &str| match problem {
        Problem::Twice => unsafe_entry(raw_path, "appears twice"),
        Problem::Io(e) => UnpackError::Io {
            dir: prefix.to_owned(),
            message: e.to_string(),
        },
        Problem::Corrupt(e) => corrupt(e.to_string()),
        Problem::Differs(why) => UnpackError::Differs(why),
    };
    let file = std::fs::File::open(archive).map_err(|e| corrupt(e.to_string()))?;
    let file = Hashing {
        inner: file,
        hasher: checksum.map(|_| Sha256::new()),
    };
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = 0u64;
    let mut bytes = 0u64;
    for entry in tar.entries().map_err(|e| corrupt(e.to_string()))? {
        let mut entry = entry.map_err(|e| corrupt(e.to_string()))?;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let relative =
            checked_path(&raw_path, prefix).map_err(|problem| unsafe_entry(&raw_path, problem))?;
        match kind {
            tar::EntryType::Directory => {
                if let Some(relative) = relative {
                    target.dir(&relative).map_err(|p| problem(p, &raw_path))?;
                }
                continue;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            tar::EntryType::Symlink => return Err(unsafe_entry(&raw_path, "is a symbolic link")),
            tar::EntryType::Link => return Err(unsafe_entry(&raw_path, "is a hard link")),
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                return Err(unsafe_entry(&raw_path, "is a device or pipe"));
            }
            other => {
                return Err(unsafe_entry(
                    &raw_path,
                    &format!("has an unsupported entry type ({other:?})"),
                ));
            }
        }
        let Some(relative) = relative else {
            return Err(unsafe_entry(
                &raw_path,
                "is a file where the crate's directory should be",
            ));
        };
        files += 1;
        if files > limits.max_files {
            return Err(UnpackError::TooLarge {
                archive: name.clone(),
                limit: format!("{} files", limits.max_files),
            });
        }
        let declared = entry.header().size().map_err(|e| corrupt(e.to_string()))?;
        let too_large = || UnpackError::TooLarge {
            archive: name.clone(),
            limit: format!("{} MiB", limits.max_bytes >> 20),
        };
        // The declared size is checked first so a bomb is refused without
        // inflating it; the copy is bounded too, in case the header lies.
        if declared > limits.max_bytes - bytes {
            return Err(too_large());
        }
        let budget = limits.max_bytes - bytes;
        let copied = target
            .file(&relative, &mut (&mut entry).take(budget + 1))
            .map_err(|p| problem(p, &raw_path))?;
        if copied > budget {
            return Err(too_large());
        }
        bytes += copied;
    }
    if files == 0 {
        return Err(corrupt(format!("no files under {prefix}/")));
    }
    if let Some(expected) = checksum {
        // What the decoder left unread counts too.
        let mut rest = tar.into_inner().into_inner();
        std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| corrupt(e.to_string()))?;
        let actual = rest.hasher.take().map(|h| hex(&h.finalize()));
        if actual.as_deref() != Some(expected) {
            return Err(UnpackError::Changed {
                archive: name.clone(),
            });
        }
    }
    Ok(())
}

/// The archive as it is read, hashed on the way.
struct Hashing {
    inner: std::fs::File,
    hasher: Option<Sha256>,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The path below `prefix/`, `None` for `prefix/` itself, or what is wrong
/// with it.
fn checked_path(raw: &str, prefix: &str) -> Result<Option<PathBuf>, &'static str> {
    if raw.contains('\0') {
        return Err("has a NUL byte in its path");
    }
    if raw.contains('\\') {
        return Err("has a backslash in its path");
    }
    let path = Path::new(raw);
    let mut components = path.components();
    match components.next() {
        Some(Component::Normal(first)) if first == prefix => {}
        Some(Component::RootDir | Component::Prefix(_)) => return Err("has an absolute path"),
        Some(Component::ParentDir) => return Err("climbs out of the crate with `..`"),
        _ => return Err("is not under the crate's NAME-VERSION/ directory"),
    }
    let mut relative = PathBuf::new();
    for component in components {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("climbs out of the crate with `..`"),
            Component::RootDir | Component::Prefix(_) => return Err("has an absolute path"),
        }
    }
    Ok((!relative.as_os_str().is_empty()).then_some(relative))
}

#[cfg(test)]
mod tests;
