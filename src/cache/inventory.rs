//! Everything capgate keeps in its cache directory, as one inventory under
//! one size budget: scan results (`v2/`), the `.crate` files `vet-bom`
//! downloaded (`crates/`) and the crates it unpacked (`src/`). `cache
//! info` counts it, `cache clean` and `cache prune` remove it, and eviction
//! after a scan removes unpacked crates first (cheapest to make again),
//! then the least recently used items of any kind.
//!
//! "Used" is the modification time: a scan entry is touched when it is
//! read, a download or an unpacked crate when `vet-bom` reuses it. Only
//! these three directories are ever listed or removed, never the rest of a
//! directory `CAPGATE_CACHE_DIR` may point at; links inside them are
//! removed as links, never followed.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What kind of thing an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// One package's scan result.
    Scan,
    /// A downloaded, verified `.crate` file.
    Download,
    /// A crate unpacked from one, scanned in place.
    Source,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Scan, Kind::Download, Kind::Source];

    /// Its directory under the cache root.
    pub fn dir(self) -> &'static str {
        match self {
            Kind::Scan => "v2",
            Kind::Download => "crates",
            Kind::Source => "src",
        }
    }

    /// How `cache info` names it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Scan => "scan results",
            Kind::Download => "downloaded crates",
            Kind::Source => "unpacked crates",
        }
    }
}

/// One thing the cache holds.
#[derive(Clone, Debug)]
pub struct Item {
    pub kind: Kind,
    pub path: PathBuf,
    /// Its size, every file of an unpacked crate included.
    pub bytes: u64,
    pub last_used: SystemTime,
}

/// Every item under `root`, in no particular order.
pub fn inventory(root: &Path) -> Vec<Item> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let dir = root.join(kind.dir());
        match kind {
            // v2/ab/abcd….json
            Kind::Scan => {
                for shard in children(&dir) {
                    for file in children(&shard) {
                        out.extend(item(kind, file, false));
                    }
                }
            }
            Kind::Download => out.extend(children(&dir).filter_map(|f| item(kind, f, false))),
            Kind::Source => out.extend(children(&dir).filter_map(|d| item(kind, d, true))),
        }
    }
    out
}

/// Removes `item` (a link as a link); returns whether it is gone.
pub fn remove(item: &Item) -> bool {
    let is_dir = std::fs::symlink_metadata(&item.path).is_ok_and(|m| m.is_dir());
    let removed = if is_dir {
        std::fs::remove_dir_all(&item.path)
    } else {
        std::fs::remove_file(&item.path)
    };
    removed.is_ok() || !item.path.exists()
}

/// Marks a download or an unpacked crate as just used, so that eviction,
/// which goes by age, keeps what is in use; a link is not followed.
pub fn touch(path: &Path) {
    super::entry::touch(path);
}

fn children(dir: &Path) -> impl Iterator<Item = PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
}

fn item(kind: Kind, path: PathBuf, whole_tree: bool) -> Option<Item> {
    let meta = std::fs::symlink_metadata(&path).ok()?;
    // Temporary files of a write in progress are not items yet.
    let name = path.file_name()?.to_string_lossy();
    if name.starts_with(".tmp") {
        return None;
    }
    let bytes = if whole_tree && meta.is_dir() {
        tree_bytes(&path)
    } else {
        meta.len()
    };
    Some(Item {
        kind,
        path,
        bytes,
        last_used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
    })
}

/// The size of every file under `dir`, without following links.
fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for path in children(&dir) {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
            } else {
                total += meta.len();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_counted_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("v2/ab")).unwrap();
        std::fs::write(root.join("v2/ab/abcd.json"), "12345").unwrap();
        std::fs::create_dir_all(root.join("crates")).unwrap();
        std::fs::write(root.join("crates/a-1.0.0-0123.crate"), "123").unwrap();
        std::fs::create_dir_all(root.join("src/a-1.0.0-0123/src")).unwrap();
        std::fs::write(root.join("src/a-1.0.0-0123/Cargo.toml"), "1234").unwrap();
        std::fs::write(root.join("src/a-1.0.0-0123/src/lib.rs"), "12").unwrap();
        std::fs::write(root.join("unrelated.txt"), "not ours").unwrap();
        let mut items = inventory(root);
        items.sort_by_key(|i| i.kind);
        let summary: Vec<(Kind, u64)> = items.iter().map(|i| (i.kind, i.bytes)).collect();
        assert_eq!(
            summary,
            [(Kind::Scan, 5), (Kind::Download, 3), (Kind::Source, 6)]
        );
        assert!(items.iter().all(remove));
        assert!(inventory(root).is_empty());
        assert!(root.join("unrelated.txt").exists(), "only capgate's own");
    }

    #[test]
    fn touch_marks_a_directory_used_and_leaves_a_link_alone() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(86_400 * 40);
        let unpacked = dir.path().join("a-1.0.0");
        std::fs::create_dir(&unpacked).unwrap();
        std::fs::File::open(&unpacked)
            .unwrap()
            .set_modified(old)
            .unwrap();
        touch(&unpacked);
        let used = std::fs::metadata(&unpacked).unwrap().modified().unwrap();
        assert!(
            used > old + std::time::Duration::from_secs(86_400),
            "touched"
        );
        #[cfg(unix)]
        {
            let target = dir.path().join("elsewhere");
            std::fs::create_dir(&target).unwrap();
            std::fs::File::open(&target)
                .unwrap()
                .set_modified(old)
                .unwrap();
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            touch(&link);
            assert_eq!(std::fs::metadata(&target).unwrap().modified().unwrap(), old);
        }
    }
}
