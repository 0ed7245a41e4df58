//! The policy: what each package may do, from `capgate.toml` (or
//! `[workspace.metadata.capgate]` / `[package.metadata.capgate]` in the root
//! Cargo.toml).
//!
//! Parsing is in two phases: the TOML is read with toml_edit, which keeps a
//! span on every key and value; then each key is validated into typed
//! grants, collecting every problem (with its file, line and column) rather
//! than stopping at the first. A policy that has any error is never used.

mod edit;
mod init;
mod parse;

use std::ops::Range;
use std::path::{Path, PathBuf};

pub use edit::{AllowError, ProposedGrant, add_grants};
pub use init::{reinitialize, render_initial_policy};
// Parsing a text already in memory, for callers that do not read files
// (the fuzz targets).
pub use parse::{parse_cargo_metadata, parse_policy_file};

use crate::diagnostic::{Diagnostic, SourceSpan};
use crate::model::Capability;

/// The file name looked for beside the workspace root.
pub const POLICY_FILE: &str = "capgate.toml";

/// Capabilities granted, to a package's own code and to its build script.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grants {
    pub allow: Vec<Capability>,
    pub build_script: Vec<Capability>,
}

impl Grants {
    pub fn covers(granted: &[Capability], capability: Capability) -> bool {
        granted.iter().any(|g| g.covers(capability))
    }
}

/// One `[pkg.NAME]` (or `[pkg."NAME@REQ"]`) entry.
#[derive(Clone, Debug)]
pub struct PackageEntry {
    pub name: String,
    pub version: Option<semver::VersionReq>,
    pub grants: Grants,
    pub reason: Option<String>,
    /// Where the entry's key is, for warnings about it.
    pub span: Option<SourceSpan>,
}

impl PackageEntry {
    pub fn matches(&self, name: &str, version: &str) -> bool {
        self.name == name
            && match (&self.version, semver::Version::parse(version)) {
                (None, _) => true,
                (Some(req), Ok(version)) => req.matches(&version),
                (Some(_), Err(_)) => false,
            }
    }
}

/// Where a policy came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    File(PathBuf),
    /// A `metadata.capgate` table in this Cargo.toml.
    CargoMetadata(PathBuf),
    /// No policy anywhere: nothing is granted.
    None,
}

/// An advisory the policy accepts, by id, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredAdvisory {
    pub id: String,
    pub reason: Option<String>,
}

/// A component `vet-bom` cannot vet (another ecosystem, no purl) that the
/// policy lets pass, by its purl or, without one, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedComponent {
    pub component: String,
    pub reason: Option<String>,
}

/// A validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub source: PolicySource,
    pub defaults: Grants,
    pub packages: Vec<PackageEntry>,
    /// `[advisories] ignore`.
    pub ignored_advisories: Vec<IgnoredAdvisory>,
    /// `[vet-bom] accept-unvetted`.
    pub accepted_unvetted: Vec<AcceptedComponent>,
}

impl Policy {
    pub fn empty() -> Policy {
        Policy {
            source: PolicySource::None,
            defaults: Grants::default(),
            packages: Vec::new(),
            ignored_advisories: Vec::new(),
            accepted_unvetted: Vec::new(),
        }
    }

    /// The policy's acceptance of a component vet-bom cannot vet: one
    /// naming its purl, or its name when it has no purl. An entry written
    /// as a purl (`pkg:…`) matches purls only, so a purl-less component
    /// cannot pass by taking an accepted purl as its name.
    pub fn accepts_unvetted(&self, purl: Option<&str>, name: &str) -> Option<&AcceptedComponent> {
        self.accepted_unvetted.iter().find(|a| {
            let entry_is_purl = a.component.starts_with("pkg:");
            match purl {
                Some(purl) => entry_is_purl && a.component == purl,
                None => !entry_is_purl && a.component == name,
            }
        })
    }

    /// The entries that apply to a package; empty means `[defaults]`.
    pub fn entries_for<'a>(&'a self, name: &str, version: &str) -> Vec<&'a PackageEntry> {
        self.packages
            .iter()
            .filter(|e| e.matches(name, version))
            .collect()
    }
}

/// Why no policy could be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("cannot read policy {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} has {} error{}", .path.display(), .diagnostics.len(), if .diagnostics.len() == 1 { "" } else { "s" })]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(
        "two policies for one workspace: {} and [{section}.metadata.capgate] in {}; keep one of them (capgate would judge by one while you edit the other)",
        .file.display(),
        .manifest.display()
    )]
    TwoPolicies {
        file: PathBuf,
        manifest: PathBuf,
        section: &'static str,
    },
}

/// Where a workspace's policy is, or would be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyLocation {
    /// A policy file: `--policy`, or `capgate.toml` beside the workspace
    /// root.
    File(PathBuf),
    /// `[workspace.metadata.capgate]` (or `[package.metadata.capgate]`,
    /// `section` says which) in the root Cargo.toml.
    CargoMetadata {
        manifest: PathBuf,
        section: &'static str,
    },
    /// No policy yet: the file `init` and `allow` would write.
    Absent(PathBuf),
}

impl PolicyLocation {
    /// The file that holds (or would hold) the policy.
    pub fn path(&self) -> &Path {
        match self {
            PolicyLocation::File(path) | PolicyLocation::Absent(path) => path,
            PolicyLocation::CargoMetadata { manifest, .. } => manifest,
        }
    }

    /// How a message names it: the file, or the table in Cargo.toml.
    pub fn describe(&self) -> String {
        match self {
            PolicyLocation::CargoMetadata { manifest, section } => {
                format!("[{section}.metadata.capgate] in {}", manifest.display())
            }
            other => other.path().display().to_string(),
        }
    }
}

/// Finds the one policy of a workspace: `explicit` if given, else
/// `capgate.toml` beside the workspace root or the root Cargo.toml's
/// `[workspace.metadata.capgate]` (`[package.metadata.capgate]`). Both at
/// once is an error: every command, `allow` and `init` included, must act
/// on the same one.
pub fn locate(
    explicit: Option<&Path>,
    workspace_root: &Path,
) -> Result<PolicyLocation, PolicyError> {
    if let Some(path) = explicit {
        return Ok(PolicyLocation::File(path.to_path_buf()));
    }
    let file = default_path(workspace_root);
    let manifest = workspace_root.join("Cargo.toml");
    let section = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| parse::cargo_metadata_section(&text));
    Ok(match (file.is_file(), section) {
        (true, Some(section)) => {
            return Err(PolicyError::TwoPolicies {
                file,
                manifest,
                section,
            });
        }
        (true, None) => PolicyLocation::File(file),
        (false, Some(section)) => PolicyLocation::CargoMetadata { manifest, section },
        (false, None) => PolicyLocation::Absent(file),
    })
}

/// Where the default policy file is for a workspace.
pub fn default_path(workspace_root: &Path) -> PathBuf {
    workspace_root.join(POLICY_FILE)
}

/// Loads the policy [`locate`] finds (`explicit` must exist), or an empty
/// one when there is none. Warnings found while validating are returned
/// with it.
pub fn load(
    explicit: Option<&Path>,
    workspace_root: &Path,
) -> Result<(Policy, Vec<Diagnostic>), PolicyError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    match locate(explicit, workspace_root)? {
        PolicyLocation::File(path) => parse::parse_policy_file(&path, &read(&path)?),
        PolicyLocation::CargoMetadata { manifest, .. } => {
            parse::parse_cargo_metadata(&manifest, &read(&manifest)?)
                .unwrap_or_else(|| Ok((Policy::empty(), Vec::new())))
        }
        PolicyLocation::Absent(_) => Ok((Policy::empty(), Vec::new())),
    }
}

/// A span in a policy's text.
pub(crate) fn span(path: &Path, text: &std::sync::Arc<str>, range: Range<usize>) -> SourceSpan {
    SourceSpan {
        path: path.to_path_buf(),
        text: text.clone(),
        range,
    }
}

/// The closest capability name to a misspelt one, if any is close.
pub fn suggest_capability(name: &str) -> Option<&'static str> {
    Capability::ALL
        .iter()
        .map(|c| (c.name(), strsim::damerau_levenshtein(name, c.name())))
        .filter(|(_, distance)| *distance <= 2)
        .min_by_key(|(_, distance)| *distance)
        .map(|(n, _)| n)
}

/// Parses a capability name given on a command line or in a policy, with a
/// message that suggests the closest valid name.
pub fn parse_capability(name: &str) -> Result<Capability, String> {
    name.parse().map_err(|_| {
        let valid: Vec<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
        match suggest_capability(name) {
            Some(s) => format!("unknown capability `{name}`: did you mean `{s}`?"),
            None => format!(
                "unknown capability `{name}`; valid names: {}",
                valid.join(", ")
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest_capability("nett"), Some("net"));
        assert_eq!(suggest_capability("fs.raed"), Some("fs.read"));
        assert_eq!(suggest_capability("networking"), None);
        assert!(
            parse_capability("nett")
                .unwrap_err()
                .contains("did you mean `net`?")
        );
    }
}
