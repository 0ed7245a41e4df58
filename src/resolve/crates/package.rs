//! A crate's manifest as the graph's `Package`: the targets cargo would
//! build from it and where it came from. A target left out here is code
//! never scanned, so binaries are found as cargo finds them, listed or not.

use std::path::PathBuf;

use super::features::EnabledFeatures;
use super::manifest::Manifest;
use super::{CrateFiles, Origin, UnpackedCrate};
use crate::model::{Dependency, Package, PackageKind, SourceKind, Target, TargetRole};

/// The binaries cargo finds without being told, by name, in a stable order.
fn inferred_bins(
    files: CrateFiles<'_>,
    root: &std::path::Path,
    package: &str,
) -> Vec<(String, PathBuf)> {
    let mut bins = Vec::new();
    let main = root.join("src/main.rs");
    if files.exists(&main) {
        bins.push((package.to_owned(), main));
    }
    let mut found: Vec<(String, PathBuf)> = files
        .children(&root.join("src/bin"))
        .into_iter()
        .filter_map(|(name, path)| {
            if let Some(stem) = name.strip_suffix(".rs") {
                Some((stem.to_owned(), path))
            } else {
                let main = path.join("main.rs");
                files.exists(&main).then_some((name, main))
            }
        })
        .collect();
    found.sort();
    bins.extend(found);
    bins
}

impl Manifest {
    pub(super) fn to_package(
        &self,
        krate: &UnpackedCrate,
        dependencies: Vec<Dependency>,
        build_dependencies: Vec<Dependency>,
        enabled: &EnabledFeatures,
    ) -> Package {
        let root = &self.root;
        let files = CrateFiles::new(root, krate.listing.as_deref());
        let mut targets = Vec::new();
        let lib_path = self
            .lib
            .as_ref()
            .and_then(|l| l.path.clone())
            .map(|p| root.join(p))
            .or_else(|| Some(root.join("src/lib.rs")).filter(|p| files.is_file(p)));
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
                for (name, path) in inferred_bins(files, root, &self.package.name) {
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
            _ => Some(root.join("build.rs")).filter(|p| files.is_file(p)),
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
        let on_disk = inferred_bins(CrateFiles::new(root, None), root, "pkg");
        let names: Vec<String> = on_disk.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, ["pkg", "b", "tool"]);
        // The same tree listed from an archive gives the same answer.
        let listing = super::super::ArchiveContents {
            files: ["src/main.rs", "src/bin/b.rs", "src/bin/tool/main.rs"]
                .iter()
                .map(PathBuf::from)
                .collect(),
            dirs: ["src", "src/bin", "src/bin/tool", "src/bin/empty"]
                .iter()
                .map(PathBuf::from)
                .collect(),
            manifest: None,
        };
        let listed = inferred_bins(CrateFiles::new(root, Some(&listing)), root, "pkg");
        assert_eq!(listed, on_disk);
    }
}
