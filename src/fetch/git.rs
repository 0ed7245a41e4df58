//! A repository's state at a revision, read into a temporary directory for
//! `diff`: `git archive` of the commit, unpacked with the tar crate.
//!
//! **Invariant:** the user's working tree and `.git` are never written:
//! `git archive` only reads, and the copy lives in a temporary directory that
//! is removed when the [`Snapshot`] is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A revision's files in a temporary directory.
pub struct Snapshot {
    dir: tempfile::TempDir,
    /// The full commit id the revision named.
    pub commit: String,
}

impl Snapshot {
    /// The root of the repository's files at the revision.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    #[error("`{}` is not inside a git repository", .0.display())]
    NotARepository(PathBuf),
    #[error("revision `{rev}` does not exist in the repository at {}", .repo.display())]
    NoSuchRevision { rev: String, repo: PathBuf },
    #[error("could not run git")]
    Spawn(#[source] std::io::Error),
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("could not unpack revision `{rev}` into a temporary directory")]
    Unpack {
        rev: String,
        #[source]
        source: std::io::Error,
    },
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, GitError> {
    Command::new("git")
        // A bare repository committed inside the scanned tree must not be
        // discovered (its `config` could name programs), and no file-system
        // monitor is started.
        .args([
            "-c",
            "safe.bareRepository=explicit",
            "-c",
            "core.fsmonitor=false",
        ])
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(GitError::Spawn)
}

/// The top-level directory of the repository containing `dir`.
pub fn repository_root(dir: &Path) -> Result<PathBuf, GitError> {
    let out = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !out.status.success() {
        return Err(GitError::NotARepository(dir.to_path_buf()));
    }
    let root = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Ok(PathBuf::from(root))
}

/// The commit a revision names.
pub fn resolve_commit(repo: &Path, rev: &str) -> Result<String, GitError> {
    let spec = format!("{rev}^{{commit}}");
    let out = git(repo, &["rev-parse", "--verify", "--quiet", &spec])?;
    if !out.status.success() {
        return Err(GitError::NoSuchRevision {
            rev: rev.to_owned(),
            repo: repo.to_path_buf(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The repository's files at `rev`, in a fresh temporary directory.
pub fn snapshot(repo: &Path, rev: &str) -> Result<Snapshot, GitError> {
    let commit = resolve_commit(repo, rev)?;
    let out = git(repo, &["archive", "--format=tar", &commit])?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: format!("archive {commit}"),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    let unpack = |source| GitError::Unpack {
        rev: rev.to_owned(),
        source,
    };
    let dir = tempfile::Builder::new()
        .prefix("capgate-base-")
        .tempdir()
        .map_err(unpack)?;
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    archive.set_preserve_permissions(false);
    archive.unpack(dir.path()).map_err(unpack)?;
    Ok(Snapshot { dir, commit })
}
