//! Resolve: the graph of packages that would really be built.
//!
//! Takes the user's manifest and build selection (features, target, dev),
//! runs `cargo metadata` (the only cargo command ever run on the user's
//! project; it executes no crate code, and `isolate` makes sure it starts
//! no program the project's configuration names), and simulates cargo's feature and
//! platform resolution with guppy. Returns a [`BuildGraph`]: plain data that
//! says, for every package, where its source is, which targets to scan with
//! which editions, and which name each dependency has in its code.
//!
//! cargo_metadata and guppy stay behind this module; no other stage sees
//! their types.

pub mod bom;
pub mod crates;
mod isolate;
pub mod local;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, TargetKind};
use guppy::graph::cargo::{CargoOptions, CargoResolverVersion};
use guppy::graph::feature::{StandardFeatures, named_feature_filter};
use guppy::graph::{DependencyDirection, PackageGraph};
use guppy::platform::{Platform, PlatformSpec, TargetFeatures};

use crate::model::{
    BuildGraph, Dependency, Edition, Package, PackageKind, SourceKind, Target, TargetRole,
};

/// What to build, in cargo's terms.
#[derive(Clone, Debug, Default)]
pub struct BuildSelection {
    pub manifest_path: Option<PathBuf>,
    /// `--features`: plain names apply to every workspace member that has
    /// them; `pkg/feat` to one member.
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    /// `None` is the host platform.
    pub target: Option<String>,
    /// Follow dev-dependencies of workspace members.
    pub dev: bool,
    /// Keep code for every platform when scanning (`cfg(windows)` code on
    /// Linux), for a policy meant for all of them.
    pub all_targets_cfg: bool,
    pub offline: bool,
    pub locked: bool,
    /// Where cargo's configuration is discovered from, as if cargo ran
    /// there (`diff` points it into a revision's copy); `None` is the
    /// current directory.
    pub config_dir: Option<PathBuf>,
}

/// Why a graph could not be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    #[error("manifest `{}` does not exist", .0.display())]
    ManifestMissing(PathBuf),
    #[error("could not run `cargo metadata`")]
    CargoSpawn(#[source] std::io::Error),
    #[error("cargo configuration `{}`: {reason}", .path.display())]
    CargoConfig { path: PathBuf, reason: String },
    #[error("could not find the Rust toolchain: {0}")]
    Toolchain(String),
    #[error("could not find `Cargo.toml` in `{}` or any parent directory", .0.display())]
    NoManifest(PathBuf),
    #[error("`cargo metadata` failed{}:\n{stderr}", manifest_for_message(.manifest))]
    CargoMetadata {
        manifest: Option<PathBuf>,
        stderr: String,
    },
    #[error("`cargo metadata` printed output that is not valid metadata")]
    MetadataJson(#[source] serde_json::Error),
    #[error("could not build the package graph")]
    Graph(#[source] Box<guppy::Error>),
    #[error("unknown target `{0}`; pass a target triple such as `x86_64-unknown-linux-gnu`")]
    UnknownTarget(String),
    #[error("the host platform is not known to target-spec")]
    UnknownHost,
    #[error("feature `{feature}` names package `{package}`, which is not a workspace member")]
    UnknownFeaturePackage { feature: String, package: String },
    #[error("none of the workspace members has the feature `{feature}`{}", known_features(.known))]
    UnknownFeature { feature: String, known: Vec<String> },
}

fn known_features(known: &[String]) -> String {
    if known.is_empty() {
        " (they declare no features)".to_owned()
    } else {
        format!(" (known: {})", known.join(", "))
    }
}

fn manifest_for_message(manifest: &Option<PathBuf>) -> String {
    match manifest {
        Some(path) => format!(" for `{}`", path.display()),
        None => String::new(),
    }
}

/// Resolves the build graph for `selection`.
pub fn resolve(selection: &BuildSelection) -> Result<BuildGraph, ResolveError> {
    if let Some(manifest) = &selection.manifest_path
        && !manifest.is_file()
    {
        return Err(ResolveError::ManifestMissing(manifest.clone()));
    }
    let json = run_cargo_metadata(selection)?;
    let metadata: Metadata = serde_json::from_str(&json).map_err(ResolveError::MetadataJson)?;
    let graph = PackageGraph::from_json(&json).map_err(|e| ResolveError::Graph(Box::new(e)))?;
    build_graph(selection, &metadata, &graph)
}

fn run_cargo_metadata(selection: &BuildSelection) -> Result<String, ResolveError> {
    // All features, so guppy sees every optional edge and can apply the
    // user's feature selection itself.
    run_cargo_metadata_with(selection, &["--all-features"])
}

fn run_cargo_metadata_with(
    selection: &BuildSelection,
    extra: &[&str],
) -> Result<String, ResolveError> {
    let cwd = std::env::current_dir().map_err(ResolveError::CargoSpawn)?;
    let config_from = selection.config_dir.clone().unwrap_or_else(|| cwd.clone());
    // cargo runs elsewhere (see `isolate`): the manifest is found here, as
    // cargo would, and passed by absolute path.
    let manifest = match &selection.manifest_path {
        Some(manifest) => cwd.join(manifest),
        None => config_from
            .ancestors()
            .map(|dir| dir.join("Cargo.toml"))
            .find(|m| m.is_file())
            .ok_or_else(|| ResolveError::NoManifest(config_from.clone()))?,
    };
    let mut neutral = isolate::cargo(&config_from)?;
    let cmd = &mut neutral.command;
    cmd.args(["metadata", "--format-version", "1"]).args(extra);
    cmd.arg("--manifest-path").arg(&manifest);
    if selection.offline {
        cmd.arg("--offline");
    }
    if selection.locked {
        cmd.arg("--locked");
    }
    let output = cmd.output().map_err(ResolveError::CargoSpawn)?;
    if !output.status.success() {
        return Err(ResolveError::CargoMetadata {
            manifest: selection.manifest_path.clone(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    String::from_utf8(output.stdout).map_err(|_| ResolveError::CargoMetadata {
        manifest: selection.manifest_path.clone(),
        stderr: "its output is not UTF-8".into(),
    })
}

/// The version of the cargo `cargo metadata` runs with, asked outside any
/// tree (see `isolate`).
pub fn cargo_version() -> Result<String, ResolveError> {
    isolate::cargo_version()
}

/// The triple of the machine this runs on, when target-spec knows it.
pub fn host_triple() -> Option<String> {
    Platform::build_target()
        .ok()
        .map(|p| p.triple_str().to_owned())
}

fn platform_for(selection: &BuildSelection) -> Result<(PlatformSpec, String), ResolveError> {
    match &selection.target {
        Some(triple) => {
            let platform = Platform::new(triple.clone(), TargetFeatures::Unknown)
                .map_err(|_| ResolveError::UnknownTarget(triple.clone()))?;
            Ok((PlatformSpec::from(platform), triple.clone()))
        }
        None => {
            let platform = Platform::build_target().map_err(|_| ResolveError::UnknownHost)?;
            let triple = platform.triple_str().to_owned();
            Ok((PlatformSpec::from(platform), triple))
        }
    }
}

fn build_graph(
    selection: &BuildSelection,
    metadata: &Metadata,
    graph: &PackageGraph,
) -> Result<BuildGraph, ResolveError> {
    let (target_platform, platform_name) = platform_for(selection)?;
    let host_platform = PlatformSpec::build_target().map_err(|_| ResolveError::UnknownHost)?;

    let members: BTreeSet<&str> = metadata
        .workspace_members
        .iter()
        .map(|id| id.repr.as_str())
        .collect();
    let feature_names = member_features(selection, metadata, &members)?;
    let base = if selection.all_features {
        StandardFeatures::All
    } else if selection.no_default_features {
        StandardFeatures::None
    } else {
        StandardFeatures::Default
    };
    let initials = graph
        .resolve_workspace()
        .to_feature_set(named_feature_filter(
            base,
            feature_names.iter().map(String::as_str),
        ));

    let mut options = CargoOptions::new();
    options
        .set_resolver(resolver_version(metadata))
        .set_include_dev(selection.dev)
        .set_target_platform(target_platform)
        .set_host_platform(host_platform);
    let cargo_set = initials
        .into_cargo_set(&options)
        .map_err(|e| ResolveError::Graph(Box::new(e)))?;

    // Every package built for the target or the host, with its features.
    let mut enabled: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, features) in cargo_set.all_features() {
        for list in features.packages_with_features(DependencyDirection::Forward) {
            let entry = enabled
                .entry(list.package().id().repr().to_owned())
                .or_default();
            entry.extend(list.named_features().map(str::to_owned));
        }
    }

    let by_id: HashMap<&str, &cargo_metadata::Package> = metadata
        .packages
        .iter()
        .map(|p| (p.id.repr.as_str(), p))
        .collect();
    let mut packages: Vec<Package> = enabled
        .iter()
        .filter_map(|(id, features)| by_id.get(id.as_str()).map(|p| (p, features)))
        .map(|(p, features)| {
            package_from_metadata(p, members.contains(p.id.repr.as_str()), features)
        })
        .collect();
    packages.sort_by(|a, b| (&a.name, &a.version, &a.id).cmp(&(&b.name, &b.version, &b.id)));
    let index: HashMap<String, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();

    // The edges cargo would follow, split into what a package's own code may
    // name and what its build script may name.
    // guppy keeps the edges that cross from a target package to its build
    // dependencies and proc macros apart from the within-platform ones.
    let links = cargo_set
        .target_links()
        .chain(cargo_set.host_links())
        .chain(cargo_set.build_dep_links())
        .chain(cargo_set.proc_macro_links());
    let mut seen = BTreeSet::new();
    for link in links {
        let (Some(&from), Some(&to)) = (
            index.get(link.from().id().repr()),
            index.get(link.to().id().repr()),
        ) else {
            continue;
        };
        let Some(lib_name) = lib_name(by_id[link.to().id().repr()]) else {
            continue;
        };
        let dep = Dependency {
            extern_name: link.resolved_name().replace('-', "_"),
            lib_name,
            package: to,
        };
        let is_member = packages[from].source == SourceKind::Workspace;
        if (link.normal().is_present() || (selection.dev && is_member && link.dev().is_present()))
            && seen.insert((from, to, false))
        {
            packages[from].dependencies.push(dep.clone());
        }
        if link.build().is_present() && seen.insert((from, to, true)) {
            packages[from].build_dependencies.push(dep);
        }
    }

    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let checksums = lockfile_checksums(&workspace_root.join("Cargo.lock"));
    for package in &mut packages {
        let key = (
            package.name.clone(),
            package.version.clone(),
            package.source_id.clone().unwrap_or_default(),
        );
        package.checksum = checksums.get(&key).cloned();
    }
    let root = metadata
        .root_package()
        .and_then(|r| index.get(r.id.repr.as_str()).copied());
    let host = host_triple();
    let (cfg_target, cfg_host) = if selection.all_targets_cfg {
        (None, None)
    } else {
        (Some(platform_name.clone()), host)
    };
    Ok(BuildGraph {
        workspace_root,
        packages,
        root,
        platform: platform_name,
        cfg_target,
        cfg_host,
    })
}

/// (name, version, source) -> checksum from a Cargo.lock. cargo metadata does
/// not report checksums; a lockfile that cannot be read simply gives none
/// (path and git packages never have one).
fn lockfile_checksums(path: &Path) -> HashMap<(String, String, String), String> {
    // cargo-lock also reads a version 1 lock file, whose checksums sit in
    // its `[metadata]` table rather than with each package.
    let Ok(lock) = cargo_lock::Lockfile::load(path) else {
        return HashMap::new();
    };
    lock.packages
        .into_iter()
        .filter_map(|p| {
            let checksum = p.checksum?.to_string();
            let source = p.source.map(|s| s.to_string()).unwrap_or_default();
            Some((
                (p.name.to_string(), p.version.to_string(), source),
                checksum,
            ))
        })
        .collect()
}

/// Splits `--features` into the names guppy applies to workspace members:
/// `pkg/feat` is checked against the members, plain names pass through.
fn member_features(
    selection: &BuildSelection,
    metadata: &Metadata,
    members: &BTreeSet<&str>,
) -> Result<Vec<String>, ResolveError> {
    // Each member's features, including the implicit feature of an optional
    // dependency that no `dep:` entry hides.
    let member_features: BTreeMap<&str, BTreeSet<String>> = metadata
        .packages
        .iter()
        .filter(|p| members.contains(p.id.repr.as_str()))
        .map(|p| {
            let mut features: BTreeSet<String> = p.features.keys().cloned().collect();
            features.extend(
                p.dependencies
                    .iter()
                    .filter(|d| d.optional)
                    .map(|d| d.rename.clone().unwrap_or_else(|| d.name.clone())),
            );
            (p.name.as_str(), features)
        })
        .collect();
    let mut names = Vec::new();
    for raw in &selection.features {
        for feature in raw.split([',', ' ']).filter(|f| !f.is_empty()) {
            let (package, name) = match feature.split_once('/') {
                Some((package, name)) => (Some(package), name),
                None => (None, feature),
            };
            let known = match package {
                Some(package) => match member_features.get(package) {
                    Some(features) => features.contains(name),
                    None => {
                        return Err(ResolveError::UnknownFeaturePackage {
                            feature: feature.to_owned(),
                            package: package.to_owned(),
                        });
                    }
                },
                None => member_features.values().any(|f| f.contains(name)),
            };
            if !known {
                let mut all: Vec<String> = member_features.values().flatten().cloned().collect();
                all.sort();
                all.dedup();
                return Err(ResolveError::UnknownFeature {
                    feature: feature.to_owned(),
                    known: all,
                });
            }
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// The feature resolver cargo would use: the workspace's `resolver` key is
/// not in metadata, but it follows the root's edition unless set, and
/// editions 2021+ imply version 2 or later.
fn resolver_version(metadata: &Metadata) -> CargoResolverVersion {
    let root_manifest = metadata.workspace_root.join("Cargo.toml");
    let declared = std::fs::read_to_string(&root_manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| {
            let from = |section: &str| {
                table
                    .get(section)
                    .and_then(|s| s.get("resolver"))
                    .and_then(|r| r.as_str())
                    .map(str::to_owned)
            };
            from("workspace").or_else(|| from("package"))
        });
    match declared.as_deref() {
        Some("1") => CargoResolverVersion::V1,
        Some("2") => CargoResolverVersion::V2,
        Some(_) => CargoResolverVersion::V3,
        None => {
            let newest_member_edition = metadata
                .workspace_packages()
                .iter()
                .map(|p| p.edition)
                .max()
                .unwrap_or_default();
            if newest_member_edition >= cargo_metadata::Edition::E2021 {
                CargoResolverVersion::V2
            } else {
                CargoResolverVersion::V1
            }
        }
    }
}

fn package_from_metadata(
    p: &cargo_metadata::Package,
    is_member: bool,
    features: &BTreeSet<String>,
) -> Package {
    let source = match &p.source {
        _ if is_member => SourceKind::Workspace,
        None => SourceKind::Path,
        Some(s) if s.repr.starts_with("git+") => SourceKind::Git,
        Some(_) => SourceKind::Registry,
    };
    let manifest_path = p.manifest_path.clone().into_std_path_buf();
    let root = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut targets = Vec::new();
    let mut build_script = None;
    for t in &p.targets {
        let role = if t.kind.contains(&TargetKind::ProcMacro) {
            TargetRole::ProcMacro
        } else if t.kind.iter().any(is_library) {
            TargetRole::Lib
        } else if t.kind.contains(&TargetKind::Bin) && is_member {
            TargetRole::Bin
        } else if t.kind.contains(&TargetKind::CustomBuild) {
            TargetRole::BuildScript
        } else {
            // Examples, tests, benches, and the bins of dependencies are not
            // what a dependent builds.
            continue;
        };
        let target = Target {
            name: t.name.clone(),
            kind: role,
            root_file: t.src_path.clone().into_std_path_buf(),
            edition: edition(t.edition),
        };
        if role == TargetRole::BuildScript {
            build_script = Some(target);
        } else {
            targets.push(target);
        }
    }
    let kind = if targets.iter().any(|t| t.kind == TargetRole::ProcMacro) {
        PackageKind::ProcMacro
    } else if targets.iter().any(|t| t.kind == TargetRole::Lib) {
        PackageKind::Lib
    } else {
        PackageKind::Bin
    };
    Package {
        id: p.id.repr.clone(),
        name: p.name.to_string(),
        version: p.version.to_string(),
        source,
        source_id: p.source.as_ref().map(|s| s.repr.clone()),
        default_registry: p.source.as_ref().is_some_and(|s| s.is_crates_io()),
        manifest_path,
        root,
        kind,
        targets,
        build_script,
        links: p.links.clone(),
        dependencies: Vec::new(),
        build_dependencies: Vec::new(),
        features: features.iter().cloned().collect(),
        checksum: None,
        license: p.license.clone(),
        license_file: p.license_file.as_ref().map(|f| f.to_string()),
        description: p.description.clone(),
        repository: p.repository.clone(),
        homepage: p.homepage.clone(),
        documentation: p.documentation.clone(),
    }
}

/// Whether a target kind is a library other crates can depend on (a
/// proc-macro is one too, but runs at compile time and is told apart).
fn is_library(kind: &TargetKind) -> bool {
    matches!(
        kind,
        TargetKind::Lib
            | TargetKind::RLib
            | TargetKind::DyLib
            | TargetKind::CDyLib
            | TargetKind::StaticLib
    )
}

fn lib_name(p: &cargo_metadata::Package) -> Option<String> {
    p.targets
        .iter()
        .find(|t| {
            t.kind
                .iter()
                .any(|k| is_library(k) || *k == TargetKind::ProcMacro)
        })
        .map(|t| t.name.replace('-', "_"))
}

fn edition(e: cargo_metadata::Edition) -> Edition {
    match e {
        cargo_metadata::Edition::E2015 => Edition::E2015,
        cargo_metadata::Edition::E2018 => Edition::E2018,
        cargo_metadata::Edition::E2021 => Edition::E2021,
        _ => Edition::E2024,
    }
}
