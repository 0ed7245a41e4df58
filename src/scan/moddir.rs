//! Where rustc looks for a module's file, as rustc_expand's `module.rs`
//! computes it: each module has a directory (`dir_path`) and, for a file
//! found as `x.rs` rather than `x/mod.rs`, a pending `relative` segment
//! (`x`) that only a plain `mod x;` or a nested inline module adds.
//!
//! - A crate root, a `mod.rs`, a `#[path]` file and an `include!`d file
//!   own their directory: `mod y;` is `dir/y.rs` or `dir/y/mod.rs`.
//! - `x.rs` keeps `relative = x`: `mod y;` is `dir/x/y.rs`, but a
//!   `#[path = "p"]` on it is `dir/p`, relative to the file's own directory.
//! - An inline `mod z { … }` adds the pending segment, then `z`; an inline
//!   module with `#[path = "q"]` is `dir/q` and drops the pending segment.
//! - Inside a block (a function body) there is no pending segment: an
//!   inline module there is `dir/z`, whatever file it is in.
//!
//! Getting any of this wrong lets a crate show capgate a decoy at the place
//! capgate computes while rustc compiles another file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::collect::PathAttr;

/// A module's directory and pending segment (rustc's `dir_path` and
/// `DirOwnership`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModDir {
    /// Shared: every macro invocation and call records the directory it
    /// stands in (rustix's expansions make 100,000 of them).
    pub dir: Arc<Path>,
    /// The module name a non-`mod.rs` file adds below `dir` for its
    /// children (`Owned { relative: Some(x) }`).
    pub relative: Option<Arc<str>>,
}

impl Default for ModDir {
    fn default() -> Self {
        ModDir {
            dir: Path::new("").into(),
            relative: None,
        }
    }
}

impl ModDir {
    /// The directory of a file that owns it (crate root, `mod.rs`,
    /// `#[path]` file, `include!`d file).
    pub fn owning(file: &Path) -> Self {
        ModDir {
            dir: file.parent().unwrap_or(Path::new(".")).into(),
            relative: None,
        }
    }

    /// Inside an inline `mod name { … }` with its first `#[path]`, if any.
    pub fn inline(&self, name: &str, path: Option<&str>) -> Self {
        match path {
            Some(path) => ModDir {
                dir: self.dir.join(path).into(),
                relative: None,
            },
            None => {
                let mut dir = self.dir.to_path_buf();
                if let Some(relative) = &self.relative {
                    dir.push(&**relative);
                }
                dir.push(name);
                ModDir {
                    dir: dir.into(),
                    relative: None,
                }
            }
        }
    }

    /// Inside a block: no pending segment.
    pub fn block(&self) -> Self {
        ModDir {
            dir: self.dir.clone(),
            relative: None,
        }
    }

    /// The files of `mod name;` (several when `cfg_attr`s give alternative
    /// `#[path]`s, which are all scanned), each with the directory its own
    /// modules are found in, or every path tried. A candidate is taken as
    /// rustc does, when it exists (links followed): a named pipe or a link
    /// out of the package there is refused when it is read, not skipped.
    pub fn child_files(
        &self,
        name: &str,
        path_attrs: &[PathAttr],
    ) -> Result<Vec<(PathBuf, ModDir)>, Vec<PathBuf>> {
        let mut candidates: Vec<(PathBuf, ModDir)> = path_attrs
            .iter()
            .map(|p| {
                let file = self.dir.join(&p.path);
                let owned = ModDir::owning(&file);
                (file, owned)
            })
            .collect();
        if path_attrs.iter().all(|p| p.conditional) {
            let mut dir = self.dir.to_path_buf();
            if let Some(relative) = &self.relative {
                dir.push(&**relative);
            }
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(name).join("mod.rs");
            let flat_dir = ModDir {
                dir: dir.as_path().into(),
                relative: Some(name.into()),
            };
            // rustc takes `x.rs` or `x/mod.rs` and rejects both at once;
            // both are tried when neither exists, both read when both do.
            let (flat_exists, nested_exists) = (flat.exists(), nested.exists());
            if flat_exists || !nested_exists {
                candidates.push((flat, flat_dir));
            }
            if nested_exists || !flat_exists {
                candidates.push((nested.clone(), ModDir::owning(&nested)));
            }
        }
        let tried: Vec<PathBuf> = candidates.iter().map(|(f, _)| f.clone()).collect();
        // A dangling link is missing to rustc too; anything else present
        // (file, pipe, device, directory) is read or refused by the reader.
        let found: Vec<(PathBuf, ModDir)> =
            candidates.into_iter().filter(|(f, _)| f.exists()).collect();
        if found.is_empty() {
            Err(tried)
        } else {
            Ok(found)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> PathAttr {
        PathAttr {
            path: p.to_owned(),
            conditional: false,
        }
    }

    #[test]
    fn directories_follow_rustc() {
        let a = ModDir {
            dir: Path::new("src").into(),
            relative: Some("a".into()),
        };
        // Inline module: pending segment, then its name.
        assert_eq!(a.inline("z", None).dir, Path::new("src/a/z").into());
        // Inline module with #[path]: relative to the file's directory.
        assert_eq!(a.inline("z", Some("q")).dir, Path::new("src/q").into());
        // Inline module in a function body: no pending segment.
        assert_eq!(a.block().inline("z", None).dir, Path::new("src/z").into());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.rs"), "").unwrap();
        let owned = ModDir::owning(&dir.path().join("lib.rs"));
        let files = owned.child_files("m", &[path("p.rs")]).unwrap();
        assert_eq!(files[0].0, dir.path().join("p.rs"));
        assert_eq!(files[0].1.relative, None);
        assert!(owned.child_files("none", &[]).is_err());
    }
}
