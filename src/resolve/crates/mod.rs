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

use serde::Deserialize;

mod edges;

pub use edges::{MissingDependency, UnmetKind};

use super::local::LocalCrate;
use crate::model::{
    BuildGraph, Dependency, Edition, Package, PackageKind, SourceKind, Target, TargetRole,
};
use crate::platform::CfgContext;

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
            Origin::Registry { .. } => read_manifest(&c.root.join("Cargo.toml")),
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

#[derive(Default)]
struct EnabledFeatures {
    features: BTreeSet<String>,
    /// Optional dependencies (by manifest key) that features turned on.
    active_deps: BTreeSet<String>,
}

/// Each crate's features: those the BoM records, or, where it records
/// none, every feature (what could be built is what is scanned); then
/// cargo's unification over `edges` to a fixpoint, so a BoM that records
/// fewer features than its own crates ask of each other still has the
/// asked-for code scanned.
fn resolve_features(
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

/// The binaries cargo finds without being told, by name, in a stable order.
fn inferred_bins(root: &std::path::Path, package: &str) -> Vec<(String, PathBuf)> {
    let mut bins = Vec::new();
    let main = root.join("src/main.rs");
    if main.exists() {
        bins.push((package.to_owned(), main));
    }
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(root.join("src/bin"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".rs") {
                Some((stem.to_owned(), path))
            } else {
                let main = path.join("main.rs");
                main.exists().then_some((name, main))
            }
        })
        .collect();
    found.sort();
    bins.extend(found);
    bins
}

/// The parts of a published Cargo.toml the scan needs.
#[derive(Debug, Deserialize)]
struct Manifest {
    package: ManifestPackage,
    lib: Option<LibSection>,
    #[serde(default)]
    bin: Vec<BinSection>,
    #[serde(default)]
    dependencies: BTreeMap<String, DepSpec>,
    #[serde(default, alias = "build_dependencies", rename = "build-dependencies")]
    build_dependencies: BTreeMap<String, DepSpec>,
    #[serde(default)]
    target: BTreeMap<String, PlatformDeps>,
    #[serde(default)]
    features: BTreeMap<String, Vec<String>>,
    #[serde(skip)]
    root: PathBuf,
    /// A member of the workspace vet-bom runs in (its binaries count).
    #[serde(skip)]
    member: bool,
}

#[derive(Debug, Deserialize)]
struct ManifestPackage {
    name: String,
    #[serde(default)]
    edition: Option<String>,
    #[serde(default)]
    build: Option<toml::Value>,
    #[serde(default)]
    autobins: Option<bool>,
    #[serde(default)]
    links: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default, rename = "license-file")]
    license_file: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    homepage: Option<String>,
    #[serde(default)]
    documentation: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LibSection {
    name: Option<String>,
    path: Option<String>,
    #[serde(alias = "proc_macro", rename = "proc-macro")]
    proc_macro: Option<bool>,
    edition: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BinSection {
    name: Option<String>,
    path: Option<String>,
    edition: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PlatformDeps {
    #[serde(default)]
    dependencies: BTreeMap<String, DepSpec>,
    #[serde(default, alias = "build_dependencies", rename = "build-dependencies")]
    build_dependencies: BTreeMap<String, DepSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DepSpec {
    Version(String),
    Detailed(DetailedDep),
}

#[derive(Debug, Default, Deserialize)]
struct DetailedDep {
    version: Option<String>,
    package: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    features: Vec<String>,
    #[serde(alias = "default_features", rename = "default-features")]
    default_features: Option<bool>,
}

/// One dependency line of a manifest, flattened.
#[derive(Clone, Debug)]
struct ManifestDep {
    /// The key in the manifest: the name the code uses (before `-` → `_`).
    key: String,
    /// The package it names.
    package: String,
    req: Option<String>,
    optional: bool,
    features: Vec<String>,
    default_features: bool,
    build: bool,
    /// Its platform condition surely holds for the build (none, or one
    /// known to be true); one that only may hold (`cfg(tokio_unstable)`,
    /// every platform's code) is not required of a BoM.
    certain: bool,
}

impl ManifestDep {
    /// A dependency the BoM states but the manifest does not spell out.
    fn implied(package: &str) -> ManifestDep {
        ManifestDep {
            key: package.to_owned(),
            package: package.to_owned(),
            req: None,
            optional: false,
            features: Vec::new(),
            default_features: true,
            build: false,
            certain: true,
        }
    }
}

/// A local crate's manifest, normalised from what cargo said about it.
fn local_manifest(local: &LocalCrate, root: &Path) -> Result<Manifest, ManifestError> {
    let mut manifest: Manifest = toml::Value::Table(local.manifest.clone())
        .try_into()
        .map_err(|e: toml::de::Error| ManifestError {
            manifest: root.join("Cargo.toml").display().to_string(),
            message: e.to_string(),
        })?;
    manifest.root = root.to_path_buf();
    manifest.member = local.member;
    Ok(manifest)
}

fn read_manifest(path: &Path) -> Result<Manifest, ManifestError> {
    let error = |message: String| ManifestError {
        manifest: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let mut manifest: Manifest = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
    manifest.root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok(manifest)
}

impl Manifest {
    /// Every feature of the table and every optional dependency's implicit
    /// one: all features on.
    /// Whether `name` is one of this crate's features, as cargo reports an
    /// enabled one: a `[features]` key or an optional dependency's implicit
    /// feature.
    fn defines_feature(&self, name: &str) -> bool {
        self.features.contains_key(name)
            || (self.is_optional_dep(name) && !self.uses_dep_syntax(name))
    }

    fn every_feature(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.features.keys().cloned().collect();
        for (key, spec, _, _) in self.all_deps() {
            if matches!(spec, DepSpec::Detailed(d) if d.optional) && !self.uses_dep_syntax(key) {
                all.insert(key.clone());
            }
        }
        // `dep:x` items turn on x through the features that name them,
        // which are all on.
        all
    }

    fn lib_name(&self) -> String {
        self.lib
            .as_ref()
            .and_then(|l| l.name.clone())
            .unwrap_or_else(|| self.package.name.clone())
            .replace('-', "_")
    }

    fn edition(&self, own: Option<&String>) -> Edition {
        match own.or(self.package.edition.as_ref()).map(String::as_str) {
            Some("2018") => Edition::E2018,
            Some("2021") => Edition::E2021,
            Some("2024") => Edition::E2024,
            _ => Edition::E2015,
        }
    }

    fn all_deps(&self) -> impl Iterator<Item = (&String, &DepSpec, bool, Option<&str>)> {
        let plain = self
            .dependencies
            .iter()
            .map(|(k, d)| (k, d, false, None))
            .chain(
                self.build_dependencies
                    .iter()
                    .map(|(k, d)| (k, d, true, None)),
            );
        let platform = self.target.iter().flat_map(|(cond, deps)| {
            deps.dependencies
                .iter()
                .map(move |(k, d)| (k, d, false, Some(cond.as_str())))
                .chain(
                    deps.build_dependencies
                        .iter()
                        .map(move |(k, d)| (k, d, true, Some(cond.as_str()))),
                )
        });
        plain.chain(platform)
    }

    /// Normal and build dependencies whose platform condition may hold.
    fn dependencies(&self, cfg: &CfgContext, triple: &str) -> Vec<ManifestDep> {
        // Whether the condition may hold, and whether it surely does.
        let holds = |cond: Option<&str>| match cond {
            None => (true, true),
            Some(cond) => match cond.strip_prefix("cfg(").and_then(|c| c.strip_suffix(')')) {
                Some(expression) => (
                    cfg.may_compile(expression),
                    cfg.evaluate(expression) == Some(true),
                ),
                None => (cond == triple, cond == triple),
            },
        };
        self.all_deps()
            .filter(|(_, _, _, cond)| holds(*cond).0)
            .map(|(key, spec, build, cond)| {
                let detailed = match spec {
                    DepSpec::Version(v) => DetailedDep {
                        version: Some(v.clone()),
                        ..Default::default()
                    },
                    DepSpec::Detailed(d) => DetailedDep {
                        version: d.version.clone(),
                        package: d.package.clone(),
                        optional: d.optional,
                        features: d.features.clone(),
                        default_features: d.default_features,
                    },
                };
                ManifestDep {
                    key: key.clone(),
                    package: detailed.package.unwrap_or_else(|| key.clone()),
                    req: detailed.version,
                    optional: detailed.optional,
                    features: detailed.features,
                    default_features: detailed.default_features.unwrap_or(true),
                    build,
                    certain: holds(cond).1,
                }
            })
            .collect()
    }

    fn is_optional_dep(&self, key: &str) -> bool {
        self.all_deps()
            .any(|(k, spec, _, _)| k == key && matches!(spec, DepSpec::Detailed(d) if d.optional))
    }

    /// Whether some feature says `dep:key`, which removes the implicit
    /// feature named after the dependency.
    fn uses_dep_syntax(&self, key: &str) -> bool {
        let needle = format!("dep:{key}");
        self.features.values().flatten().any(|item| *item == needle)
    }

    fn to_package(
        &self,
        krate: &UnpackedCrate,
        dependencies: Vec<Dependency>,
        build_dependencies: Vec<Dependency>,
        enabled: &EnabledFeatures,
    ) -> Package {
        let root = &self.root;
        let mut targets = Vec::new();
        let lib_path = self
            .lib
            .as_ref()
            .and_then(|l| l.path.clone())
            .map(|p| root.join(p))
            .or_else(|| Some(root.join("src/lib.rs")).filter(|p| p.is_file()));
        let proc_macro = self.lib.as_ref().and_then(|l| l.proc_macro) == Some(true);
        if let Some(path) = lib_path {
            targets.push(Target {
                name: self.lib_name(),
                kind: if proc_macro {
                    TargetRole::ProcMacro
                } else {
                    TargetRole::Lib
                },
                root_file: path,
                edition: self.edition(self.lib.as_ref().and_then(|l| l.edition.as_ref())),
            });
        }
        let has_lib = !targets.is_empty();
        if !has_lib || self.member {
            // A workspace member's binaries are built, as `check` scans
            // them; so are those of a binary-only crate: what would be installed is its bins,
            // the listed ones and, unless `autobins = false`, those cargo
            // finds by itself (src/main.rs, src/bin/*.rs, src/bin/*/main.rs).
            let mut bins: Vec<(String, PathBuf, Option<&String>)> = self
                .bin
                .iter()
                .map(|b| {
                    let name = b.name.clone().unwrap_or_else(|| self.package.name.clone());
                    let path = b
                        .path
                        .clone()
                        .map(|p| root.join(p))
                        .unwrap_or_else(|| root.join("src/bin").join(format!("{name}.rs")));
                    (name, path, b.edition.as_ref())
                })
                .collect();
            if self.package.autobins != Some(false) {
                for (name, path) in inferred_bins(root, &self.package.name) {
                    if !bins.iter().any(|(n, p, _)| *n == name || *p == path) {
                        bins.push((name, path, None));
                    }
                }
            }
            if bins.is_empty() && !has_lib {
                // A crate with no target at all: reported as a missing root file.
                bins.push((self.package.name.clone(), root.join("src/main.rs"), None));
            }
            for (name, path, edition) in bins {
                targets.push(Target {
                    name,
                    kind: TargetRole::Bin,
                    root_file: path,
                    edition: self.edition(edition),
                });
            }
        }
        let build_path = match &self.package.build {
            Some(toml::Value::String(path)) => Some(root.join(path)),
            Some(toml::Value::Boolean(false)) => None,
            _ => Some(root.join("build.rs")).filter(|p| p.is_file()),
        };
        let build_script = build_path.map(|path| Target {
            name: "build-script-build".into(),
            kind: TargetRole::BuildScript,
            root_file: path,
            edition: self.edition(None),
        });
        let kind = match targets.first().map(|t| t.kind) {
            Some(TargetRole::ProcMacro) => PackageKind::ProcMacro,
            Some(TargetRole::Bin) => PackageKind::Bin,
            _ => PackageKind::Lib,
        };
        let (source, source_id, default_registry, checksum) = match &krate.origin {
            Origin::Registry {
                checksum,
                source_id,
                default_registry,
            } => (
                SourceKind::Registry,
                Some(source_id.clone()),
                *default_registry,
                Some(checksum.clone()),
            ),
            Origin::Local(local) => (
                if local.member {
                    SourceKind::Workspace
                } else {
                    SourceKind::Path
                },
                None,
                false,
                None,
            ),
        };
        let id_source = source_id
            .clone()
            .unwrap_or_else(|| format!("path+file://{}", root.display()));
        Package {
            id: format!("{} {} ({id_source})", krate.name, krate.version),
            name: krate.name.clone(),
            version: krate.version.clone(),
            source,
            source_id,
            default_registry,
            manifest_path: root.join("Cargo.toml"),
            root: root.clone(),
            kind,
            targets,
            build_script,
            links: self.package.links.clone(),
            dependencies,
            build_dependencies,
            features: enabled.features.iter().cloned().collect(),
            checksum,
            license: self.package.license.clone(),
            license_file: self.package.license_file.clone(),
            description: self.package.description.clone(),
            repository: self.package.repository.clone(),
            homepage: self.package.homepage.clone(),
            documentation: self.package.documentation.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inferred_bins_are_main_bin_files_and_bin_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/bin/tool")).unwrap();
        std::fs::write(root.join("src/main.rs"), "").unwrap();
        std::fs::write(root.join("src/bin/b.rs"), "").unwrap();
        std::fs::write(root.join("src/bin/tool/main.rs"), "").unwrap();
        std::fs::create_dir_all(root.join("src/bin/empty")).unwrap();
        let names: Vec<String> = inferred_bins(root, "pkg")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["pkg", "b", "tool"]);
    }
}
