//! Which crate of the BoM each manifest dependency is, and what a crate
//! needs that the BoM does not give it.
//!
//! A BoM is complete only if it holds the closure of its crates: a crate
//! whose dependency is missing cannot be vetted as built (what the missing
//! crate does is unknown, and so is what the crate reaches through it).
//! And a BoM's `dependencies` section cannot hide an edge: a dependency the
//! crate's manifest has and the BoM holds is an edge whether or not the
//! section lists it, so reach through it is seen, and the omission is
//! reported.

use std::collections::{BTreeMap, BTreeSet};

use super::manifest::{Manifest, ManifestDep};
use super::{Edge, Origin, UnpackedCrate};
use crate::platform::CfgContext;

/// A dependency of a crate the BoM does not account for. Whether it is
/// really needed depends on the crate's features (an optional dependency
/// nothing turns on is not), decided once features are resolved.
pub(super) struct Unmet {
    pub(super) dep: ManifestDep,
    pub(super) kind: UnmetKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnmetKind {
    /// No crate of the BoM has that name and a matching version.
    NotInBom,
    /// The BoM holds it, but its `dependencies` entry for the crate does
    /// not list it.
    NotListed,
}

/// A dependency a crate needs that the BoM does not give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingDependency {
    /// The package it names.
    pub name: String,
    /// Its version requirement, as the manifest writes it.
    pub req: String,
    /// A build dependency (of the build script) rather than a normal one.
    pub build: bool,
    pub kind: UnmetKind,
}

pub(super) struct Edges {
    pub(super) edges: Vec<Vec<Edge>>,
    /// Per crate, dependencies the BoM does not account for.
    pub(super) unmet: Vec<Vec<Unmet>>,
}

/// The edges of every crate: each manifest dependency (whose platform
/// condition may hold) matched to the BoM crate of that name with the
/// highest version its requirement accepts, preferring the ones the BoM's
/// `dependencies` list for the crate when it has an entry for it.
pub(super) fn edges_of(
    crates: &[UnpackedCrate],
    held_unscanned: &[(String, semver::Version)],
    manifests: &[Manifest],
    bom_edges: Option<&BTreeMap<String, Vec<String>>>,
    cfg: &CfgContext,
    platform: &str,
) -> Edges {
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in crates.iter().enumerate() {
        by_name.entry(c.name.as_str()).or_default().push(i);
    }
    let by_ref: BTreeMap<&str, usize> = crates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((c.bom_ref.as_deref()?, i)))
        .collect();
    // Parsed once: every dependency of every crate compares against them.
    let versions: Vec<Option<semver::Version>> = crates
        .iter()
        .map(|c| semver::Version::parse(&c.version).ok())
        .collect();
    let version = |j: usize| versions[j].as_ref();
    let mut all_edges = Vec::with_capacity(crates.len());
    let mut all_unmet = Vec::with_capacity(crates.len());
    for (i, manifest) in manifests.iter().enumerate() {
        // The BoM's own list for this crate, when it has one: a component
        // the section does not mention has unknown dependencies, not none.
        let listed: Option<BTreeSet<usize>> = crates[i]
            .bom_ref
            .as_deref()
            .and_then(|r| bom_edges?.get(r))
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| by_ref.get(r.as_str()).copied())
                    .collect()
            });
        let mut edges = Vec::new();
        let mut unmet = Vec::new();
        for mut dep in manifest.dependencies(cfg, platform) {
            let req = semver::VersionReq::parse(dep.req.as_deref().unwrap_or("*"))
                .unwrap_or(semver::VersionReq::STAR);
            let candidates: Vec<usize> = by_name
                .get(dep.package.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|&j| j != i && version(j).is_some_and(|v| req.matches(v)))
                .collect();
            let best = |among: &mut dyn Iterator<Item = usize>| among.max_by_key(|&j| version(j));
            let chosen = match &listed {
                Some(listed) => {
                    match best(&mut candidates.iter().copied().filter(|j| listed.contains(j))) {
                        Some(target) => {
                            // Listed in the BoM means built, optional or not.
                            dep.optional = false;
                            Some(target)
                        }
                        None => {
                            let target = best(&mut candidates.iter().copied());
                            if target.is_some() {
                                unmet.push(Unmet {
                                    dep: dep.clone(),
                                    kind: UnmetKind::NotListed,
                                });
                            }
                            target
                        }
                    }
                }
                None => best(&mut candidates.iter().copied()),
            };
            let held = || {
                held_unscanned
                    .iter()
                    .any(|(name, v)| *name == dep.package && req.matches(v))
            };
            match chosen {
                Some(target) => edges.push(Edge { dep, target }),
                // In the BoM, but not scanned: that component's own status
                // fails the verdict unless the policy accepts it.
                None if held() => {}
                None => unmet.push(Unmet {
                    dep,
                    kind: UnmetKind::NotInBom,
                }),
            }
        }
        // An edge only the BoM states is kept for a workspace member, whose
        // dev-dependencies its manifest here leaves out. Any other crate's
        // manifest lists everything its code can name, and an edge it does
        // not have could only reorder the scan: a cycle the BoM invents
        // would have one of its crates scanned before the other's exports
        // are known.
        let member = matches!(&crates[i].origin, Origin::Local(local) if local.member);
        for &target in listed.iter().flatten().filter(|_| member) {
            if target != i && !edges.iter().any(|e: &Edge| e.target == target) {
                edges.push(Edge {
                    dep: ManifestDep::implied(&crates[target].name),
                    target,
                });
            }
        }
        all_edges.push(edges);
        all_unmet.push(unmet);
    }
    Edges {
        edges: all_edges,
        unmet: all_unmet,
    }
}

/// The unmet dependencies each crate really needs: non-optional ones, and
/// optional ones its resolved features turn on.
pub(super) fn missing(
    unmet: &[Vec<Unmet>],
    active_deps: impl Fn(usize, &str) -> bool,
) -> Vec<Vec<MissingDependency>> {
    unmet
        .iter()
        .enumerate()
        .map(|(i, list)| {
            let mut missing: Vec<MissingDependency> = list
                .iter()
                .filter(|u| u.dep.certain && (!u.dep.optional || active_deps(i, &u.dep.key)))
                .map(|u| MissingDependency {
                    name: u.dep.package.clone(),
                    req: u.dep.req.clone().unwrap_or_else(|| "*".to_owned()),
                    build: u.dep.build,
                    kind: u.kind,
                })
                .collect();
            missing.sort_by(|a, b| (&a.name, &a.req, a.build).cmp(&(&b.name, &b.req, b.build)));
            missing.dedup();
            missing
        })
        .collect()
}
