//! Resolving a graph of unpacked published crates without cargo: the graph
//! `vet-bom` scans.
//!
//! A bill of materials lists crates, not a build, so there is no
//! `cargo metadata` to ask. Each crate's own `Cargo.toml` (as published:
//! normalised by cargo, so targets and renames are spelled out) gives its
//! targets, edition, build script and dependencies. Edges come from the
//! BoM's `dependencies` when it has them, else from each manifest's
//! dependencies matched against the BoM's crates by name and version
//! requirement. Features are resolved the way cargo unifies them: crates
//! nothing depends on get their default features, and every edge adds the
//! features it asks for, to a fixpoint. Platform-specific dependencies are
//! kept when their `cfg` may hold on the target.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod edges;
mod features;
mod manifest;
mod package;

pub use edges::{MissingDependency, UnmetKind};

use super::local::LocalCrate;
use crate::model::{BuildGraph, Dependency};
use crate::platform::CfgContext;
use features::resolve_features;
use manifest::{Manifest, ManifestDep, local_manifest, read_manifest};

/// A crate on disk for one BoM component: fetched, or local.
#[derive(Clone, Debug)]
pub struct UnpackedCrate {
    pub name: String,
    pub version: String,
    pub root: PathBuf,
    pub origin: Origin,
    pub bom_ref: Option<String>,
    /// The features the BoM records for it; `None` scans it with every
    /// feature on, since the BoM does not say which are built.
    pub features: Option<Vec<String>>,
    /// What its checked archive holds, when it is not unpacked at `root`
    /// yet: its manifest and target files are then read from here. The
    /// same answers as the unpacked directory would give.
    pub listing: Option<Arc<ArchiveContents>>,
}

/// What a crate's archive holds (paths relative to the crate's root), for
/// resolving it before, or without, unpacking it.
#[derive(Clone, Debug, Default)]
pub struct ArchiveContents {
    pub files: BTreeSet<PathBuf>,
    /// Directories, named or implied by a path below them.
    pub dirs: BTreeSet<PathBuf>,
    /// `Cargo.toml`'s bytes, when it is a file of the archive.
    pub manifest: Option<Vec<u8>>,
}

/// A crate's files as resolving looks at them: on disk, or listed.
#[derive(Clone, Copy)]
pub(super) struct CrateFiles<'a> {
    root: &'a Path,
    listing: Option<&'a ArchiveContents>,
}

impl<'a> CrateFiles<'a> {
    pub(super) fn new(root: &'a Path, listing: Option<&'a ArchiveContents>) -> Self {
        CrateFiles { root, listing }
    }

    fn relative<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        path.strip_prefix(self.root).ok()
    }

    /// `Path::exists`: a file or a directory.
    pub(super) fn exists(&self, path: &Path) -> bool {
        match self.listing {
            None => path.exists(),
            Some(l) => self
                .relative(path)
                .is_some_and(|r| l.files.contains(r) || l.dirs.contains(r)),
        }
    }

    /// `Path::is_file`.
    pub(super) fn is_file(&self, path: &Path) -> bool {
        match self.listing {
            None => path.is_file(),
            Some(l) => self.relative(path).is_some_and(|r| l.files.contains(r)),
        }
    }

    /// The names and paths of what `dir` holds, in no particular order.
    pub(super) fn children(&self, dir: &Path) -> Vec<(String, PathBuf)> {
        match self.listing {
            None => std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect(),
            Some(l) => {
                let Some(relative) = self.relative(dir) else {
                    return Vec::new();
                };
                l.files
                    .iter()
                    .chain(&l.dirs)
                    .filter(|p| p.parent() == Some(relative))
                    .filter_map(|p| {
                        let name = p.file_name()?.to_string_lossy().into_owned();
                        Some((name, self.root.join(p)))
                    })
                    .collect()
            }
        }
    }
}

/// Where a crate of the graph was found.
#[derive(Clone, Debug)]
pub enum Origin {
    /// Downloaded from a registry and verified against its checksum.
    Registry {
        checksum: String,
        source_id: String,
        default_registry: bool,
    },
    /// A workspace member or path dependency, read in place.
    Local(LocalCrate),
}

impl UnpackedCrate {
    pub fn is_local(&self) -> bool {
        matches!(self.origin, Origin::Local(_))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{manifest}: {message}")]
pub struct ManifestError {
    pub manifest: String,
    pub message: String,
}

/// The graph of `crates` (sorted by name and version, which the graph's
/// packages keep) for `platform`, keeping every platform's code with
/// `all_targets_cfg`. `bom_edges` maps a bom-ref to the bom-refs it depends
/// on. `held_unscanned` are the BoM's other crates (not fetched: unvetted,
/// not found, …), which fail on their own: a dependency on one is held,
/// not missing.
pub fn graph_of_crates(
    crates: Vec<UnpackedCrate>,
    held_unscanned: &[(String, semver::Version)],
    bom_edges: Option<&BTreeMap<String, Vec<String>>>,
    workspace_root: PathBuf,
    platform: String,
    all_targets_cfg: bool,
) -> Result<CrateGraph, ManifestError> {
    let manifests: Vec<Manifest> = crates
        .iter()
        .map(|c| match &c.origin {
            Origin::Registry { .. } => read_manifest(
                &c.root.join("Cargo.toml"),
                c.listing.as_deref().map(|l| l.manifest.as_deref()),
            ),
            Origin::Local(local) => local_manifest(local, &c.root),
        })
        .collect::<Result<_, _>>()?;
    let cfg_target = (!all_targets_cfg).then(|| platform.clone());
    let cfg = CfgContext::new(cfg_target.as_deref(), &[], false);

    let edges::Edges { edges, unmet } = edges::edges_of(
        &crates,
        held_unscanned,
        &manifests,
        bom_edges,
        &cfg,
        &platform,
    );

    // A record naming a feature the crate does not define does not describe
    // this crate, and could hide code behind its real features: such a
    // crate, like one with no record, is scanned with every feature on.
    let recorded: Vec<Option<&[String]>> = crates
        .iter()
        .zip(&manifests)
        .map(|(c, manifest)| {
            c.features
                .as_deref()
                .filter(|names| names.iter().all(|n| manifest.defines_feature(n)))
        })
        .collect();
    let all_features_assumed = recorded.iter().map(Option::is_none).collect();
    let features = resolve_features(&manifests, &edges, &recorded);
    let missing = edges::missing(&unmet, |i, key| features[i].active_deps.contains(key));
    let lib_names: Vec<String> = manifests.iter().map(Manifest::lib_name).collect();
    let mut packages = Vec::with_capacity(crates.len());
    for (i, (krate, manifest)) in crates.iter().zip(&manifests).enumerate() {
        let enabled = &features[i];
        let mut dependencies = Vec::new();
        let mut build_dependencies = Vec::new();
        for edge in &edges[i] {
            if edge.dep.optional && !enabled.active_deps.contains(&edge.dep.key) {
                continue;
            }
            let lib_name = lib_names[edge.target].clone();
            let extern_name = if edge.dep.key != edge.dep.package {
                edge.dep.key.replace('-', "_")
            } else {
                lib_name.clone()
            };
            let dependency = Dependency {
                extern_name,
                lib_name,
                package: edge.target,
            };
            if edge.dep.build {
                build_dependencies.push(dependency);
            } else {
                dependencies.push(dependency);
            }
        }
        packages.push(manifest.to_package(krate, dependencies, build_dependencies, enabled));
    }
    let host = super::host_triple();
    Ok(CrateGraph {
        graph: BuildGraph {
            workspace_root,
            packages,
            root: None,
            platform,
            cfg_host: if all_targets_cfg { None } else { host },
            cfg_target,
        },
        all_features_assumed,
        missing,
    })
}

/// The graph of a BoM's crates, and which of them were given every feature
/// because the BoM's record of their features was missing or not theirs.
pub struct CrateGraph {
    pub graph: BuildGraph,
    /// Indexed like `graph.packages`.
    pub all_features_assumed: Vec<bool>,
    /// Indexed like `graph.packages`: dependencies each crate needs (for
    /// its features and the platform) that the BoM does not give it.
    pub missing: Vec<Vec<MissingDependency>>,
}

struct Edge {
    dep: ManifestDep,
    target: usize,
}
