//! Unpacking a `.crate` (a gzip'd tar) where nothing in it can escape.
//!
//! A `.crate` comes from whoever published it, so every entry is checked
//! before a byte is written: only regular files and directories, only
//! relative paths of plain components under `NAME-VERSION/`, within a bound
//! on file count and total size (a gzip bomb stops at the bound, without
//! inflating the rest). The archive is unpacked into a temporary directory
//! beside the destination and renamed into place when complete.
//!
//! **Invariant:** a directory under its final name is a complete, checked
//! unpacking; a run killed midway leaves only a temporary directory, which
//! is never read.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

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
}

/// Unpacks `archive`, whose entries must all live under `prefix/`
/// (`NAME-VERSION`), into `dest`, returning `dest`. An existing `dest` is a
/// finished earlier unpacking and is reused.
pub fn unpack_crate(
    archive: &Path,
    prefix: &str,
    dest: &Path,
    limits: UnpackLimits,
) -> Result<PathBuf, UnpackError> {
    if dest.is_dir() {
        return Ok(dest.to_path_buf());
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    let io_error = |e: std::io::Error| UnpackError::Io {
        dir: parent.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(parent).map_err(io_error)?;
    let staging = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(parent)
        .map_err(io_error)?;
    extract(archive, prefix, staging.path(), limits)?;
    let staging = staging.keep();
    match std::fs::rename(&staging, dest) {
        Ok(()) => Ok(dest.to_path_buf()),
        // Another run finished the same crate first; its copy is as good.
        Err(_) if dest.is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(dest.to_path_buf())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(io_error(e))
        }
    }
}

/// Extracts every checked entry's `prefix/`-relative path into `into`.
fn extract(
    archive: &Path,
    prefix: &str,
    into: &Path,
    limits: UnpackLimits,
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
    let io_error = |e: std::io::Error| UnpackError::Io {
        dir: into.display().to_string(),
        message: e.to_string(),
    };
    let file = std::fs::File::open(archive).map_err(|e| corrupt(e.to_string()))?;
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
                    std::fs::create_dir_all(into.join(relative)).map_err(io_error)?;
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
        if !may_be_read(&relative, declared) {
            // Checked like every entry, but not written: the scanner never
            // reads it. Its declared size still counts towards the bound.
            if declared > limits.max_bytes - bytes {
                return Err(too_large());
            }
            bytes += declared;
            continue;
        }
        // The declared size is checked first so a bomb is refused without
        // inflating it; the copy is bounded too, in case the header lies.
        if declared > limits.max_bytes - bytes {
            return Err(too_large());
        }
        let target = into.join(&relative);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(io_error)?;
        }
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => unsafe_entry(&raw_path, "appears twice"),
                _ => io_error(e),
            })?;
        let budget = limits.max_bytes - bytes;
        let copied = std::io::copy(&mut (&mut entry).take(budget + 1), &mut out)
            .map_err(|e| corrupt(e.to_string()))?;
        if copied > budget {
            return Err(too_large());
        }
        bytes += copied;
    }
    if files == 0 {
        return Err(corrupt(format!("no files under {prefix}/")));
    }
    Ok(())
}

/// Whether the scanner may read a file: Rust source and manifests always;
/// anything else (what `include!` or `#[path]` might name) only when small
/// and not of a kind that is never Rust: C and assembly sources, objects and
/// libraries, images, archives. Skipping them halves unpacking time on real
/// crates; a skipped file the code does name is reported `unanalyzed`.
fn may_be_read(relative: &Path, size: u64) -> bool {
    const NEVER_RUST: &[&str] = &[
        "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "s", "S", "asm", "o", "a", "lib", "so", "dylib",
        "dll", "png", "jpg", "jpeg", "gif", "svg", "ico", "gz", "zst", "xz", "zip", "tar", "wasm",
        "pdf", "bin", "dat",
    ];
    let extension = relative.extension().and_then(|e| e.to_str());
    match extension {
        Some("rs") => true,
        _ if relative.file_name().is_some_and(|n| n == "Cargo.toml") => true,
        Some(ext) if NEVER_RUST.contains(&ext) => false,
        _ => size <= 256 << 10,
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
mod tests {
    use super::{checked_path, may_be_read};
    use std::path::{Path, PathBuf};

    #[test]
    fn only_what_the_scanner_may_read_is_written() {
        assert!(may_be_read(Path::new("src/lib.rs"), 50 << 20));
        assert!(may_be_read(Path::new("Cargo.toml"), 1000));
        assert!(
            may_be_read(Path::new("src/table.in"), 1000),
            "an include! target"
        );
        assert!(
            !may_be_read(Path::new("src/table.in"), 1 << 20),
            "large data"
        );
        assert!(!may_be_read(Path::new("vendor/zlib/inflate.c"), 1000));
        assert!(!may_be_read(Path::new("assets/logo.png"), 1000));
    }

    #[test]
    fn paths_stay_inside_the_crate() {
        assert_eq!(
            checked_path("x-1.0.0/src/lib.rs", "x-1.0.0"),
            Ok(Some(PathBuf::from("src/lib.rs")))
        );
        assert_eq!(checked_path("x-1.0.0/", "x-1.0.0"), Ok(None));
        assert!(checked_path("x-1.0.0/../evil", "x-1.0.0").is_err());
        assert!(checked_path("/etc/passwd", "x-1.0.0").is_err());
        assert!(checked_path("../x", "x-1.0.0").is_err());
        assert!(checked_path("y-1.0.0/src/lib.rs", "x-1.0.0").is_err());
        assert!(checked_path("x-1.0.0/a\\..\\b", "x-1.0.0").is_err());
    }
}
