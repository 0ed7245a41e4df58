//! What a crate's own `Cargo.toml` says, read without cargo. vet-bom has
//! no `cargo metadata` for a BoM's crates, so the manifest (as published:
//! normalised by cargo, targets and renames spelled out; or, for a local
//! crate, as cargo reported it) is the only account of a crate's targets,
//! features and dependencies, and is read as the untrusted data it is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ManifestError;
use crate::model::Edition;
use crate::platform::CfgContext;
use crate::resolve::local::LocalCrate;

/// The parts of a published Cargo.toml the scan needs.
#[derive(Debug, Deserialize)]
pub(super) struct Manifest {
    pub(super) package: ManifestPackage,
    pub(super) lib: Option<LibSection>,
    #[serde(default)]
    pub(super) bin: Vec<BinSection>,
    #[serde(default)]
    dependencies: BTreeMap<String, DepSpec>,
    #[serde(default, alias = "build_dependencies", rename = "build-dependencies")]
    build_dependencies: BTreeMap<String, DepSpec>,
    #[serde(default)]
    target: BTreeMap<String, PlatformDeps>,
    #[serde(default)]
    pub(super) features: BTreeMap<String, Vec<String>>,
    #[serde(skip)]
    pub(super) root: PathBuf,
    /// A member of the workspace vet-bom runs in (its binaries count).
    #[serde(skip)]
    pub(super) member: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct ManifestPackage {
    pub(super) name: String,
    #[serde(default)]
    edition: Option<String>,
    #[serde(default)]
    pub(super) build: Option<toml::Value>,
    #[serde(default)]
    pub(super) autobins: Option<bool>,
    #[serde(default)]
    pub(super) links: Option<String>,
    #[serde(default)]
    pub(super) license: Option<String>,
    #[serde(default, rename = "license-file")]
    pub(super) license_file: Option<String>,
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) repository: Option<String>,
    #[serde(default)]
    pub(super) homepage: Option<String>,
    #[serde(default)]
    pub(super) documentation: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LibSection {
    name: Option<String>,
    pub(super) path: Option<String>,
    #[serde(alias = "proc_macro", rename = "proc-macro")]
    pub(super) proc_macro: Option<bool>,
    pub(super) edition: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct BinSection {
    pub(super) name: Option<String>,
    pub(super) path: Option<String>,
    pub(super) edition: Option<String>,
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
pub(super) struct ManifestDep {
    /// The key in the manifest: the name the code uses (before `-` → `_`).
    pub(super) key: String,
    /// The package it names.
    pub(super) package: String,
    pub(super) req: Option<String>,
    pub(super) optional: bool,
    pub(super) features: Vec<String>,
    pub(super) default_features: bool,
    pub(super) build: bool,
    /// Its platform condition surely holds for the build (none, or one
    /// known to be true); one that only may hold (`cfg(tokio_unstable)`,
    /// every platform's code) is not required of a BoM.
    pub(super) certain: bool,
}

impl ManifestDep {
    /// A dependency the BoM states but the manifest does not spell out.
    pub(super) fn implied(package: &str) -> ManifestDep {
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
pub(super) fn local_manifest(local: &LocalCrate, root: &Path) -> Result<Manifest, ManifestError> {
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

/// The manifest at `path`, or, when `listed` is given, the bytes an
/// archive holds for it (`None`: no such file), with the same errors.
pub(super) fn read_manifest(
    path: &Path,
    listed: Option<Option<&[u8]>>,
) -> Result<Manifest, ManifestError> {
    let error = |message: String| ManifestError {
        manifest: path.display().to_string(),
        message,
    };
    let text = match listed {
        None => std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?,
        Some(None) => {
            let missing = std::io::Error::from_raw_os_error(libc::ENOENT);
            return Err(error(missing.to_string()));
        }
        Some(Some(bytes)) => String::from_utf8(bytes.to_vec()).map_err(|_| {
            // What `read_to_string` says of the same bytes.
            error(
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
                .to_string(),
            )
        })?,
    };
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
    pub(super) fn defines_feature(&self, name: &str) -> bool {
        self.features.contains_key(name)
            || (self.is_optional_dep(name) && !self.uses_dep_syntax(name))
    }

    pub(super) fn every_feature(&self) -> BTreeSet<String> {
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

    pub(super) fn lib_name(&self) -> String {
        self.lib
            .as_ref()
            .and_then(|l| l.name.clone())
            .unwrap_or_else(|| self.package.name.clone())
            .replace('-', "_")
    }

    pub(super) fn edition(&self, own: Option<&String>) -> Edition {
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
    pub(super) fn dependencies(&self, cfg: &CfgContext, triple: &str) -> Vec<ManifestDep> {
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

    pub(super) fn is_optional_dep(&self, key: &str) -> bool {
        self.all_deps()
            .any(|(k, spec, _, _)| k == key && matches!(spec, DepSpec::Detailed(d) if d.optional))
    }

    /// Whether some feature says `dep:key`, which removes the implicit
    /// feature named after the dependency.
    pub(super) fn uses_dep_syntax(&self, key: &str) -> bool {
        let needle = format!("dep:{key}");
        self.features.values().flatten().any(|item| *item == needle)
    }
}
