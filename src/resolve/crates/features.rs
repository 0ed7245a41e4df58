//! Each crate's features as cargo would unify them. A BoM records at most
//! the features a crate was built with, not what its dependents ask of it,
//! and scanning fewer features than are built would leave code unscanned:
//! so each crate's record (or every feature, without one) is widened by
//! what every built edge asks for, to a fixpoint.

use std::collections::BTreeSet;

use super::Edge;
use super::manifest::Manifest;

#[derive(Default)]
pub(super) struct EnabledFeatures {
    pub(super) features: BTreeSet<String>,
    /// Optional dependencies (by manifest key) that features turned on.
    pub(super) active_deps: BTreeSet<String>,
}

/// Each crate's features: those the BoM records, or, where it records
/// none, every feature (what could be built is what is scanned); then
/// cargo's unification over `edges` to a fixpoint, so a BoM that records
/// fewer features than its own crates ask of each other still has the
/// asked-for code scanned.
pub(super) fn resolve_features(
    manifests: &[Manifest],
    edges: &[Vec<Edge>],
    recorded: &[Option<&[String]>],
) -> Vec<EnabledFeatures> {
    let mut enabled: Vec<EnabledFeatures> = manifests.iter().map(|_| Default::default()).collect();
    let mut requests: Vec<BTreeSet<String>> = manifests
        .iter()
        .zip(recorded)
        .map(|(manifest, recorded)| match recorded {
            Some(features) => features.iter().cloned().collect(),
            None => manifest.every_feature(),
        })
        .collect();
    loop {
        let mut changed = false;
        for i in 0..manifests.len() {
            let manifest = &manifests[i];
            // Expand the requested features through the feature table.
            let mut pending: Vec<String> = requests[i].iter().cloned().collect();
            let mut dep_features: Vec<(String, String, bool)> = Vec::new();
            while let Some(feature) = pending.pop() {
                if let Some(dep) = feature.strip_prefix("dep:") {
                    changed |= enabled[i].active_deps.insert(dep.to_owned());
                    continue;
                }
                if let Some((dep, sub)) = feature.split_once('/') {
                    let (dep, weak) = match dep.strip_suffix('?') {
                        Some(dep) => (dep, true),
                        None => (dep, false),
                    };
                    if !weak && manifest.is_optional_dep(dep) {
                        changed |= enabled[i].active_deps.insert(dep.to_owned());
                    }
                    dep_features.push((dep.to_owned(), sub.to_owned(), weak));
                    continue;
                }
                let implicit =
                    manifest.is_optional_dep(&feature) && !manifest.uses_dep_syntax(&feature);
                let items = manifest.features.get(&feature);
                // `default` of a crate without one, or a feature a dependent
                // asks for that does not exist, enables nothing.
                if (items.is_none() && !implicit) || !enabled[i].features.insert(feature.clone()) {
                    continue;
                }
                changed = true;
                match items {
                    Some(items) => pending.extend(items.iter().cloned()),
                    None => {
                        enabled[i].active_deps.insert(feature.clone());
                    }
                }
            }
            // Pass requests along the edges that are built.
            for edge in &edges[i] {
                let active = !edge.dep.optional || enabled[i].active_deps.contains(&edge.dep.key);
                if !active {
                    continue;
                }
                let mut asks: Vec<String> = edge.dep.features.clone();
                if edge.dep.default_features {
                    asks.push("default".into());
                }
                for (dep, sub, _) in &dep_features {
                    if *dep == edge.dep.key {
                        asks.push(sub.clone());
                    }
                }
                for ask in asks {
                    changed |= requests[edge.target].insert(ask);
                }
            }
        }
        if !changed {
            return enabled;
        }
    }
}
