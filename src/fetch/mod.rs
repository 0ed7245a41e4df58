//! Fetch: makes sure every package's source is on disk and says where.
//!
//! For a project resolved by `cargo metadata`, cargo has already put every
//! source where it keeps them (registry cache, git checkouts, vendored
//! directories, path crates), so this stage only checks that they are
//! there. A package whose source is missing is reported, never skipped: the
//! scan turns it into an `unanalyzed` finding. `git` reads a repository's
//! state at another revision for `diff`.

pub mod git;
pub mod http;
pub mod registry;
pub mod unpack;

use std::path::PathBuf;

use crate::model::BuildGraph;

/// Where one package's source is, or why it is not available.
#[derive(Clone, Debug)]
pub enum PackageSource {
    Present(PathBuf),
    Missing { reason: String },
}

/// The source of every package of `graph`, in the graph's order.
pub fn locate(graph: &BuildGraph) -> Vec<PackageSource> {
    graph
        .packages
        .iter()
        .map(|p| {
            if p.root.is_dir() {
                PackageSource::Present(p.root.clone())
            } else {
                PackageSource::Missing {
                    reason: format!(
                        "source directory {} does not exist (is the package downloaded?)",
                        p.root.display()
                    ),
                }
            }
        })
        .collect()
}
