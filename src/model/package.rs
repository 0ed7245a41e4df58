//! The packages of a build, as every stage sees them: what resolve
//! produces and fetch, scan, reach, evaluate and report read. Plain data,
//! with no cargo_metadata or guppy types, so that no stage needs resolve's
//! libraries to speak about a package.

use std::path::PathBuf;

/// Where a package comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// A member of the workspace being scanned.
    Workspace,
    /// A path dependency outside the workspace members.
    Path,
    /// A registry (including local registries and directory sources).
    Registry,
    Git,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Workspace => "workspace",
            SourceKind::Path => "path",
            SourceKind::Registry => "registry",
            SourceKind::Git => "git",
        }
    }
}

/// What a package mainly is, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageKind {
    Lib,
    ProcMacro,
    Bin,
}

impl PackageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageKind::Lib => "lib",
            PackageKind::ProcMacro => "proc-macro",
            PackageKind::Bin => "bin",
        }
    }
}

/// The Rust edition a target is compiled with; it changes how paths resolve
/// and what a macro's fragments take.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Edition {
    E2015,
    E2018,
    E2021,
    E2024,
}

/// A crate root to scan.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub kind: TargetRole,
    /// Absolute path of the root source file.
    pub root_file: PathBuf,
    pub edition: Edition,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetRole {
    Lib,
    ProcMacro,
    Bin,
    BuildScript,
}

/// A dependency as the depending crate's code names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// The name in the extern prelude: the dependency's library name, or its
    /// rename from Cargo.toml, with `-` as `_`.
    pub extern_name: String,
    /// The dependency's library name, which is what rules and other
    /// packages' canonical paths use.
    pub lib_name: String,
    /// Index into [`BuildGraph::packages`].
    pub package: usize,
}

/// One package of the build graph.
#[derive(Clone, Debug)]
pub struct Package {
    /// cargo's package id, unique in the graph.
    pub id: String,
    pub name: String,
    pub version: String,
    pub source: SourceKind,
    /// cargo's source string (`registry+…`, `git+…`), absent for path packages.
    pub source_id: Option<String>,
    /// From the default registry (crates.io), which purls need not name.
    pub default_registry: bool,
    pub manifest_path: PathBuf,
    /// The directory holding Cargo.toml; findings' files are relative to it.
    pub root: PathBuf,
    pub kind: PackageKind,
    /// Lib, proc-macro and (for workspace members) bin targets.
    pub targets: Vec<Target>,
    pub build_script: Option<Target>,
    /// `links = "…"` from the manifest.
    pub links: Option<String>,
    /// Dependencies of the package's own targets.
    pub dependencies: Vec<Dependency>,
    /// Dependencies of its build script.
    pub build_dependencies: Vec<Dependency>,
    /// Features enabled in this build.
    pub features: Vec<String>,
    /// The SHA-256 of the published `.crate`, from Cargo.lock; absent for
    /// path and git packages, which have none.
    pub checksum: Option<String>,
    /// Metadata the bill of materials and reports show.
    pub license: Option<String>,
    /// `license-file`, relative to the package root.
    pub license_file: Option<String>,
    pub description: Option<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub documentation: Option<String>,
}

/// The resolved graph: every package that would be built, sorted by name
/// and version.
#[derive(Clone, Debug)]
pub struct BuildGraph {
    pub workspace_root: PathBuf,
    pub packages: Vec<Package>,
    /// The root package of a non-virtual workspace, as an index.
    pub root: Option<usize>,
    /// The platform the graph was resolved for, e.g. `x86_64-unknown-linux-gnu`.
    pub platform: String,
    /// The triple `cfg` conditions of target code are evaluated for; `None`
    /// keeps every platform's code (`--all-targets-cfg`).
    pub cfg_target: Option<String>,
    /// The triple build scripts and proc macros run on.
    pub cfg_host: Option<String>,
}
