//! The local crates of a bill of materials: workspace members and path
//! dependencies, found on disk instead of in a registry.
//!
//! `bom` (and cargo-cyclonedx) write such a crate as
//! `pkg:cargo/NAME@VERSION?download_url=file://DIR`, DIR relative to the
//! workspace root. `vet-bom` must never look such a crate up in a registry
//! (that would vet someone else's crate of the same name), so it reads it
//! where it is: `cargo metadata --no-deps`, run isolated like every cargo
//! invocation (nothing from the tree can start, and `--no-deps` needs no
//! index), gives its targets and dependencies with workspace inheritance
//! resolved. The crate becomes the same normalised manifest a published
//! crate carries, so the rest of the graph is built one way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, Metadata, TargetKind};
use toml::{Table, Value};

use super::{BuildSelection, ResolveError};

/// A local crate as the graph builder needs it.
#[derive(Clone, Debug)]
pub struct LocalCrate {
    /// A member of the workspace vet-bom runs in: its binaries are built
    /// too, as for `check`.
    pub member: bool,
    /// The manifest in the normalised form a published crate has.
    pub manifest: Table,
}

/// Finds the local crates of a BoM under one workspace root, running
/// `cargo metadata` once per workspace.
pub struct LocalCrates {
    base: PathBuf,
    offline: bool,
    /// Per manifest asked about, what cargo said (or why it could not).
    loaded: BTreeMap<PathBuf, Result<Metadata, String>>,
    members: BTreeSet<PathBuf>,
}

impl LocalCrates {
    /// Local paths resolve against `base`, the workspace root; its own
    /// members (when it has a `Cargo.toml`) are loaded first.
    pub fn new(base: PathBuf, offline: bool) -> LocalCrates {
        let mut crates = LocalCrates {
            base,
            offline,
            loaded: BTreeMap::new(),
            members: BTreeSet::new(),
        };
        let root_manifest = crates.base.join("Cargo.toml");
        if root_manifest.is_file()
            && let Ok(metadata) = crates.metadata(&root_manifest)
        {
            crates.members = metadata
                .workspace_packages()
                .iter()
                .filter_map(|p| p.manifest_path.as_std_path().canonicalize().ok())
                .collect();
        }
        crates
    }

    /// The crate `name@version` at `relative` (the purl's `file://` path),
    /// or why it is not there.
    pub fn find(
        &mut self,
        relative: &str,
        name: &str,
        version: &semver::Version,
    ) -> Result<(PathBuf, LocalCrate), String> {
        let dir = self.base.join(relative);
        let manifest = dir.join("Cargo.toml");
        let canonical = manifest.canonicalize().map_err(|_| {
            format!(
                "no crate at {} (the BoM's download_url file://{relative}, relative to the workspace root {})",
                dir.display(),
                self.base.display()
            )
        })?;
        let base_manifest = self.base.join("Cargo.toml");
        let package = [base_manifest, canonical.clone()]
            .iter()
            .filter(|m| m.is_file())
            .find_map(|m| {
                let metadata = self.metadata(m).ok()?;
                metadata
                    .packages
                    .iter()
                    .find(|p| {
                        p.manifest_path.as_std_path().canonicalize().ok().as_ref()
                            == Some(&canonical)
                    })
                    .cloned()
            });
        let Some(package) = package else {
            let why = self
                .loaded
                .get(&canonical)
                .and_then(|r| r.as_ref().err())
                .cloned()
                .unwrap_or_else(|| "cargo does not list a package there".into());
            return Err(format!("{}: {why}", manifest.display()));
        };
        if package.name.as_str() != name || package.version != *version {
            return Err(format!(
                "{} is {}@{}, not the {name}@{version} the BoM names",
                manifest.display(),
                package.name,
                package.version
            ));
        }
        let member = self.members.contains(&canonical);
        let root = canonical.parent().unwrap_or(&canonical).to_path_buf();
        Ok((
            root,
            LocalCrate {
                member,
                manifest: normalised_manifest(&package),
            },
        ))
    }

    fn metadata(&mut self, manifest: &Path) -> Result<&Metadata, String> {
        let key = manifest
            .canonicalize()
            .unwrap_or_else(|_| manifest.to_owned());
        if !self.loaded.contains_key(&key) {
            let selection = BuildSelection {
                manifest_path: Some(key.clone()),
                features: Vec::new(),
                all_features: false,
                no_default_features: false,
                target: None,
                dev: false,
                all_targets_cfg: false,
                offline: self.offline,
                locked: false,
                config_dir: Some(self.base.clone()),
            };
            let result = super::run_cargo_metadata_with(&selection, &["--no-deps"])
                .map_err(|e| error_text(&e))
                .and_then(|json| {
                    serde_json::from_str::<Metadata>(&json).map_err(|e| {
                        format!("cargo metadata printed JSON that does not parse: {e}")
                    })
                });
            self.loaded.insert(key.clone(), result);
        }
        self.loaded[&key].as_ref().map_err(Clone::clone)
    }
}

fn error_text(error: &ResolveError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The manifest of `p` as cargo publishes one: explicit targets with
/// absolute paths, no inheritance, dependencies by the name the code uses.
fn normalised_manifest(p: &cargo_metadata::Package) -> Table {
    let mut package = Table::new();
    package.insert("name".into(), p.name.to_string().into());
    package.insert("edition".into(), p.edition.as_str().into());
    package.insert("autobins".into(), false.into());
    let optional = [
        ("links", p.links.clone()),
        ("license", p.license.clone()),
        (
            "license-file",
            p.license_file.as_ref().map(|f| f.to_string()),
        ),
        ("description", p.description.clone()),
        ("repository", p.repository.clone()),
        ("homepage", p.homepage.clone()),
        ("documentation", p.documentation.clone()),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            package.insert(key.into(), value.into());
        }
    }
    let mut manifest = Table::new();
    let mut bins = Vec::new();
    let mut build = Value::Boolean(false);
    for t in &p.targets {
        let mut target = Table::new();
        target.insert("name".into(), t.name.clone().into());
        target.insert("path".into(), t.src_path.to_string().into());
        target.insert("edition".into(), t.edition.as_str().into());
        if t.kind.contains(&TargetKind::ProcMacro) {
            target.insert("proc-macro".into(), true.into());
            manifest.insert("lib".into(), target.into());
        } else if t.kind.iter().any(super::is_library) {
            manifest.insert("lib".into(), target.into());
        } else if t.kind.contains(&TargetKind::Bin) {
            bins.push(Value::Table(target));
        } else if t.kind.contains(&TargetKind::CustomBuild) {
            build = t.src_path.to_string().into();
        }
    }
    package.insert("build".into(), build);
    manifest.insert("package".into(), package.into());
    if !bins.is_empty() {
        manifest.insert("bin".into(), bins.into());
    }
    let mut plain = Table::new();
    let mut build_deps = Table::new();
    let mut by_platform: BTreeMap<String, (Table, Table)> = BTreeMap::new();
    for dep in &p.dependencies {
        let mut spec = Table::new();
        spec.insert("version".into(), dep.req.to_string().into());
        if dep.rename.is_some() {
            spec.insert("package".into(), dep.name.clone().into());
        }
        spec.insert("optional".into(), dep.optional.into());
        spec.insert(
            "features".into(),
            Value::Array(dep.features.iter().cloned().map(Value::from).collect()),
        );
        spec.insert("default-features".into(), dep.uses_default_features.into());
        let key = dep.rename.clone().unwrap_or_else(|| dep.name.clone());
        let (normal, build) = match &dep.target {
            Some(platform) => {
                let entry = by_platform.entry(platform.to_string()).or_default();
                (&mut entry.0, &mut entry.1)
            }
            None => (&mut plain, &mut build_deps),
        };
        match dep.kind {
            DependencyKind::Normal => normal.insert(key, spec.into()),
            DependencyKind::Build => build.insert(key, spec.into()),
            _ => None,
        };
    }
    manifest.insert("dependencies".into(), plain.into());
    manifest.insert("build-dependencies".into(), build_deps.into());
    let mut target = Table::new();
    for (platform, (normal, build)) in by_platform {
        let mut deps = Table::new();
        deps.insert("dependencies".into(), normal.into());
        deps.insert("build-dependencies".into(), build.into());
        target.insert(platform, deps.into());
    }
    manifest.insert("target".into(), target.into());
    let features: Table = p
        .features
        .iter()
        .map(|(name, items)| {
            (
                name.clone(),
                Value::Array(items.iter().cloned().map(Value::from).collect()),
            )
        })
        .collect();
    manifest.insert("features".into(), features.into());
    manifest
}
