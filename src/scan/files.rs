//! Opening the files of a scanned package, and nothing else.
//!
//! Module files, `include!`d files and target roots are named by the
//! crate's author, who may be an attacker. A file is read only if it is a
//! regular file whose real location (after every symbolic link) lies within
//! the package's bound: its own directory, or for a workspace member or a
//! path dependency inside the workspace, the workspace's directory (a
//! member's `#[path]` to a file it shares with a sibling is honest, and the
//! file is part of the tree being checked). Anything else is refused with a
//! reason, never opened: a named pipe would block the scan forever, a
//! device like `/dev/zero` never ends (and opening some devices has effects
//! of its own), and a file outside the package is not what was vetted: its
//! content on the builder's machine is anyone's guess.
//!
//! The checks are made on the canonical path, which is then opened with
//! `O_NOFOLLOW | O_NONBLOCK` and checked again on the open descriptor
//! (same inode, still a regular file): a link swapped in between cannot
//! make the read block or leave the bound's checked file.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::limits::LIMITS;

/// Why a file was not read: the structural rule and a reason for the
/// `unanalyzed` finding.
#[derive(Debug)]
pub struct Refusal {
    pub rule: &'static str,
    pub reason: String,
}

/// The directory a package's files must stay within.
#[derive(Clone, Debug)]
pub struct PackageFiles {
    /// The package root as given, for paths in messages.
    root: PathBuf,
    /// Canonical directory every file read must lie within.
    bound: Option<PathBuf>,
    /// How the bound is named in messages.
    bound_name: &'static str,
}

impl PackageFiles {
    /// Files of the package at `root`; `workspace` is the workspace root
    /// when the package is a member or a path dependency within it.
    pub fn new(root: &Path, workspace: Option<&Path>) -> Self {
        let canonical_root = root.canonicalize().ok();
        let canonical_workspace = workspace.and_then(|w| w.canonicalize().ok());
        let (bound, bound_name) = match (canonical_workspace, &canonical_root) {
            (Some(w), Some(r)) if r.starts_with(&w) => (Some(w), "the workspace"),
            _ => (canonical_root, "the package"),
        };
        PackageFiles {
            root: root.to_path_buf(),
            bound,
            bound_name,
        }
    }

    /// The bytes of `path`, or why they were not read.
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, Refusal> {
        self.read_at_most(path, LIMITS.max_file_bytes)
    }

    /// The bytes of `path` if it holds at most `max` of them (found
    /// without reading more than `max + 1`, so a huge file costs no
    /// memory), or why they were not read.
    fn read_at_most(&self, path: &Path, max: u64) -> Result<Vec<u8>, Refusal> {
        let shown = self.show(path);
        let canonical = path.canonicalize().map_err(|e| Refusal {
            rule: if e.kind() == std::io::ErrorKind::NotFound {
                "missing-module-file"
            } else {
                "unreadable-file"
            },
            reason: format!("cannot read {shown}: {e}"),
        })?;
        let Some(bound) = &self.bound else {
            return Err(Refusal {
                rule: "unreadable-file",
                reason: format!("cannot read {shown}: the package directory cannot be resolved"),
            });
        };
        if !canonical.starts_with(bound) {
            return Err(Refusal {
                rule: "file-outside-package",
                reason: format!(
                    "{shown} is outside {} (it resolves to {}); not read",
                    self.bound_name,
                    canonical.display()
                ),
            });
        }
        let before = std::fs::symlink_metadata(&canonical).map_err(|e| unreadable(&shown, &e))?;
        if let Some(kind) = irregular(&before.file_type()) {
            return Err(Refusal {
                rule: "not-a-regular-file",
                reason: format!("{shown} is {kind}, not a regular file; not read"),
            });
        }
        let file = std::fs::File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&canonical)
            .map_err(|e| unreadable(&shown, &e))?;
        let after = file.metadata().map_err(|e| unreadable(&shown, &e))?;
        if !after.file_type().is_file()
            || (after.dev(), after.ino()) != (before.dev(), before.ino())
        {
            return Err(Refusal {
                rule: "not-a-regular-file",
                reason: format!("{shown} changed while it was being opened; not read"),
            });
        }
        let too_big = || Refusal {
            rule: "scan-limit",
            reason: format!(
                "{shown} is larger than {} MiB, the file-size limit; not read",
                max >> 20
            ),
        };
        if after.len() > max {
            return Err(too_big());
        }
        let mut bytes = Vec::with_capacity(after.len() as usize);
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| unreadable(&shown, &e))?;
        if bytes.len() as u64 > max {
            return Err(too_big());
        }
        Ok(bytes)
    }

    /// `path` relative to the package root for messages (absolute when it
    /// is not below it).
    pub fn show(&self, path: &Path) -> String {
        super::collect::relative_path(&self.root, path)
    }
}

fn unreadable(shown: &str, e: &std::io::Error) -> Refusal {
    Refusal {
        rule: "unreadable-file",
        reason: format!("cannot read {shown}: {e}"),
    }
}

/// What a file that is not a regular file is, in words.
fn irregular(kind: &std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_fifo() {
        Some("a named pipe")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_dir() {
        Some("a directory")
    } else {
        Some("a special file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_bound_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(pkg.join("src")).unwrap();
        std::fs::write(pkg.join("src/lib.rs"), "fn f() {}").unwrap();
        std::fs::write(dir.path().join("out.rs"), "fn g() {}").unwrap();
        std::os::unix::fs::symlink("lib.rs", pkg.join("src/inside.rs")).unwrap();
        std::os::unix::fs::symlink("../../out.rs", pkg.join("src/out.rs")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", pkg.join("src/zero.rs")).unwrap();
        let files = PackageFiles::new(&pkg, None);
        assert_eq!(files.read(&pkg.join("src/lib.rs")).unwrap(), b"fn f() {}");
        assert_eq!(
            files.read(&pkg.join("src/inside.rs")).unwrap(),
            b"fn f() {}"
        );
        let rule = |p: &str| files.read(&pkg.join(p)).unwrap_err().rule;
        assert_eq!(rule("src/out.rs"), "file-outside-package");
        assert_eq!(rule("../out.rs"), "file-outside-package");
        assert_eq!(rule("src/zero.rs"), "file-outside-package");
        assert_eq!(rule("src"), "not-a-regular-file");
        assert_eq!(rule("src/none.rs"), "missing-module-file");
        // A member may read its workspace's files.
        let workspace = PackageFiles::new(&pkg, Some(dir.path()));
        assert!(workspace.read(&pkg.join("../out.rs")).is_ok());
    }

    #[test]
    fn files_just_within_and_just_past_the_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.rs");
        std::fs::write(&path, "x".repeat(100)).unwrap();
        let files = PackageFiles::new(dir.path(), None);
        assert_eq!(files.read_at_most(&path, 100).unwrap().len(), 100);
        let refusal = files.read_at_most(&path, 99).unwrap_err();
        assert_eq!(refusal.rule, "scan-limit");
        assert!(
            refusal.reason.contains("file-size limit"),
            "{}",
            refusal.reason
        );
    }
}
