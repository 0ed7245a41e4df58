//! The one place a package's purl is written, for the JSON report, SARIF
//! and the bill of materials alike, through the `packageurl` crate.
//!
//! Following the purl specification's `cargo` type: a crate of the default
//! registry is `pkg:cargo/NAME@VERSION`; another registry is named by
//! `repository_url`, a git source by `vcs_url` (with the commit that was
//! built). A workspace member or path dependency is not a registry crate
//! and must never be looked up as one: it carries `download_url=file://`
//! and its directory relative to the workspace root, the form
//! cargo-cyclonedx writes, which `vet-bom` reads back as local.

use std::path::{Component, Path};

use packageurl::PackageUrl;

use crate::model::{Package, SourceKind};

/// The purl of `package`, whose workspace is rooted at `workspace_root`.
pub fn package_purl(package: &Package, workspace_root: &Path) -> String {
    build(
        &package.name,
        &package.version,
        source_qualifier(package, workspace_root),
    )
}

fn build(name: &str, version: &str, qualifier: Option<(&'static str, String)>) -> String {
    let written = PackageUrl::new("cargo", name).and_then(|mut purl| {
        purl.with_version(version)?;
        if let Some((key, value)) = qualifier {
            purl.add_qualifier(key, value)?;
        }
        Ok(purl.to_string())
    });
    // Crate names and versions cargo accepted always make a valid purl; a
    // name that somehow does not is still written rather than dropped.
    written.unwrap_or_else(|_| format!("pkg:cargo/{name}@{version}"))
}

/// The qualifier that says where a package comes from, if not from the
/// default registry.
fn source_qualifier(p: &Package, workspace_root: &Path) -> Option<(&'static str, String)> {
    match p.source {
        SourceKind::Workspace | SourceKind::Path => {
            Some(("download_url", local_url(&p.root, workspace_root)))
        }
        SourceKind::Git => {
            let source = p.source_id.as_deref()?;
            let git = source.strip_prefix("git+").unwrap_or(source);
            // `git+URL?rev=x#COMMIT`: the commit pins what was built.
            let (url, commit) = git.split_once('#').unwrap_or((git, ""));
            let url = url.split('?').next().unwrap_or(url);
            Some((
                "vcs_url",
                if commit.is_empty() {
                    format!("git+{url}")
                } else {
                    format!("git+{url}@{commit}")
                },
            ))
        }
        SourceKind::Registry if p.default_registry => None,
        SourceKind::Registry => {
            let source = p.source_id.as_deref()?;
            let url = source
                .strip_prefix("registry+")
                .or_else(|| source.strip_prefix("sparse+"))
                .unwrap_or(source);
            Some(("repository_url", url.to_owned()))
        }
    }
}

/// `file://` and the package's directory relative to the workspace root,
/// with `/` separators (`file://.` for the root itself), so a BoM names no
/// absolute path of the machine it was made on.
fn local_url(root: &Path, workspace_root: &Path) -> String {
    let relative = pathdiff::diff_paths(root, workspace_root).unwrap_or_else(|| root.to_owned());
    let parts: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        "file://.".into()
    } else {
        format!("file://{}", parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PackageKind;

    #[test]
    fn purls_encode_build_metadata() {
        assert_eq!(build("serde", "1.0.0", None), "pkg:cargo/serde@1.0.0");
        assert_eq!(
            build("x", "1.0.0+build.1", None),
            "pkg:cargo/x@1.0.0%2Bbuild.1"
        );
    }

    fn package(source_id: Option<&str>, default_registry: bool) -> Package {
        Package {
            id: "x".into(),
            name: "demo".into(),
            version: "1.2.3".into(),
            source: if source_id.is_some_and(|s| s.starts_with("git+")) {
                SourceKind::Git
            } else {
                SourceKind::Registry
            },
            source_id: source_id.map(str::to_owned),
            default_registry,
            manifest_path: "/x/Cargo.toml".into(),
            root: "/x".into(),
            kind: PackageKind::Lib,
            targets: Vec::new(),
            build_script: None,
            links: None,
            dependencies: Vec::new(),
            build_dependencies: Vec::new(),
            features: Vec::new(),
            checksum: None,
            license: None,
            license_file: None,
            description: None,
            repository: None,
            homepage: None,
            documentation: None,
        }
    }

    #[test]
    fn purl_qualifiers_name_non_default_sources() {
        assert_eq!(
            package_purl(&package(None, false), Path::new("/")),
            "pkg:cargo/demo@1.2.3"
        );
        assert_eq!(
            package_purl(
                &package(Some("registry+https://example.invalid/index"), true),
                Path::new("/")
            ),
            "pkg:cargo/demo@1.2.3"
        );
        assert_eq!(
            package_purl(
                &package(Some("sparse+https://example.invalid/index/"), false),
                Path::new("/")
            ),
            "pkg:cargo/demo@1.2.3?repository_url=https:%2F%2Fexample.invalid%2Findex%2F"
        );
        assert_eq!(
            package_purl(
                &package(
                    Some("git+https://example.invalid/demo.git?rev=v1#0123abcd"),
                    false
                ),
                Path::new("/")
            ),
            "pkg:cargo/demo@1.2.3?vcs_url=git%2Bhttps:%2F%2Fexample.invalid%2Fdemo.git%400123abcd"
        );
    }

    #[test]
    fn local_urls_are_relative() {
        let ws = Path::new("/w");
        assert_eq!(local_url(Path::new("/w"), ws), "file://.");
        assert_eq!(local_url(Path::new("/w/crates/a"), ws), "file://crates/a");
        assert_eq!(local_url(Path::new("/shared/b"), ws), "file://../shared/b");
    }
}
