//! The capability vocabulary of DESIGN.md: names, their hierarchy, and the
//! finding that records where a package reaches one.
//!
//! Everything downstream (rules, scan results, reports, policies) speaks in
//! these types, so a capability is never a bare string past the edges that
//! parse it.

use std::fmt;
use std::str::FromStr;

/// A capability or sub-capability, e.g. `fs` or `fs.read`.
///
/// Ordering follows the name, which keeps every `capabilities` list in the
/// reports sorted the same way users read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    Build,
    Env,
    EnvRead,
    EnvWrite,
    Ffi,
    Fs,
    FsRead,
    FsWrite,
    Net,
    NetConnect,
    NetListen,
    ProcMacro,
    Process,
    ProcessSpawn,
    Unanalyzed,
    Unsafe,
}

impl Capability {
    /// Every capability, in name order.
    pub const ALL: [Capability; 16] = [
        Capability::Build,
        Capability::Env,
        Capability::EnvRead,
        Capability::EnvWrite,
        Capability::Ffi,
        Capability::Fs,
        Capability::FsRead,
        Capability::FsWrite,
        Capability::Net,
        Capability::NetConnect,
        Capability::NetListen,
        Capability::ProcMacro,
        Capability::Process,
        Capability::ProcessSpawn,
        Capability::Unanalyzed,
        Capability::Unsafe,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Build => "build",
            Capability::Env => "env",
            Capability::EnvRead => "env.read",
            Capability::EnvWrite => "env.write",
            Capability::Ffi => "ffi",
            Capability::Fs => "fs",
            Capability::FsRead => "fs.read",
            Capability::FsWrite => "fs.write",
            Capability::Net => "net",
            Capability::NetConnect => "net.connect",
            Capability::NetListen => "net.listen",
            Capability::Process => "process",
            Capability::ProcessSpawn => "process.spawn",
            Capability::ProcMacro => "proc-macro",
            Capability::Unanalyzed => "unanalyzed",
            Capability::Unsafe => "unsafe",
        }
    }

    /// What the capability means, for help texts (DESIGN.md's table).
    pub fn meaning(self) -> &'static str {
        match self {
            Capability::Fs => "Touches the file system at run time.",
            Capability::FsRead => "Reads files, directories or file metadata at run time.",
            Capability::FsWrite => {
                "Creates, writes, renames or removes files or directories at run time."
            }
            Capability::Net => "Opens, accepts or binds network sockets.",
            Capability::NetConnect => "Opens outgoing network connections or resolves host names.",
            Capability::NetListen => "Binds or listens on network sockets, or accepts connections.",
            Capability::Process => "Spawns or replaces processes.",
            Capability::ProcessSpawn => "Spawns another program or replaces the running one.",
            Capability::Env => "Reads or writes environment variables at run time.",
            Capability::EnvRead => "Reads environment variables at run time.",
            Capability::EnvWrite => "Sets or removes environment variables at run time.",
            Capability::Unsafe => {
                "Uses unsafe code: blocks, functions, impls, traits, inline assembly or unsafe attributes."
            }
            Capability::Ffi => "Declares, links or dynamically loads foreign code.",
            Capability::Build => {
                "Has a build script, code that runs on the builder's machine at build time."
            }
            Capability::ProcMacro => {
                "Is a procedural macro, code that runs inside the compiler at build time."
            }
            Capability::Unanalyzed => {
                "Some of its source could not be analysed; it fails closed until granted."
            }
        }
    }

    /// The top-level capability this one belongs to (itself when it has no
    /// parent).
    pub fn family(self) -> Capability {
        match self {
            Capability::EnvRead | Capability::EnvWrite => Capability::Env,
            Capability::FsRead | Capability::FsWrite => Capability::Fs,
            Capability::NetConnect | Capability::NetListen => Capability::Net,
            Capability::ProcessSpawn => Capability::Process,
            other => other,
        }
    }

    /// Whether granting `self` grants `other`: a capability grants itself
    /// and all its sub-capabilities, never its siblings or its parent.
    pub fn covers(self, other: Capability) -> bool {
        self == other || (self == self.family() && other.family() == self)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A capability name that is not in DESIGN.md's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCapability(pub String);

impl fmt::Display for UnknownCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown capability `{}`", self.0)
    }
}

impl std::error::Error for UnknownCapability {}

// Stored by name in the scan cache, like everywhere users see it.
impl serde::Serialize for Capability {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Capability {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Capability {
    type Err = UnknownCapability;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownCapability(s.to_owned()))
    }
}

/// Where in a package's source a finding was made. `file` is relative to the
/// package root; all three are absent for findings about the package as a
/// whole (its source is missing).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Location {
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    pub fn at(file: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            file: Some(file.into()),
            line: Some(line),
            column: Some(column),
        }
    }

    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: Some(file.into()),
            line: None,
            column: None,
        }
    }

    pub fn package() -> Self {
        Location {
            file: None,
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line, self.column) {
            (Some(file), Some(line), Some(col)) => write!(f, "{file}:{line}:{col}"),
            (Some(file), Some(line), None) => write!(f, "{file}:{line}"),
            (Some(file), _, _) => f.write_str(file),
            (None, _, _) => f.write_str("(package)"),
        }
    }
}

/// How a rule's match was resolved, from proven to inferred (the order
/// `normalize` keeps the strongest of otherwise equal findings by).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// The code names the API itself (a path, a macro, a foreign
    /// function's link name).
    Path,
    /// A method call whose receiver's type is known: its chain starts at
    /// the type, or at a binding, parameter, field or function result
    /// written with it.
    Type,
    /// A method matched by its name only, the receiver's type not being
    /// written (kept for recall: to be read with care).
    ByName,
}

impl Resolution {
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Path => "path",
            Resolution::Type => "type",
            Resolution::ByName => "by-name",
        }
    }

    /// The weaker of two: a chain is as sure as its least sure link.
    pub fn and(self, other: Resolution) -> Resolution {
        self.max(other)
    }
}

/// One piece of evidence that a package reaches a capability: the place, what
/// the code named there (the resolved path, or a description for structural
/// findings such as an `unsafe` block), and the rule that matched.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Finding {
    pub capability: Capability,
    pub location: Location,
    pub evidence: String,
    pub rule: String,
    /// The dependency items a reach went through; empty for direct use.
    pub via: Vec<String>,
    /// How the rule's match (and each link of `via`) was resolved; `None`
    /// for structural findings (`unsafe`, a build script, `unanalyzed`).
    pub resolution: Option<Resolution>,
}

/// The findings of one body of code (a package's targets, or its build
/// script), with the capability set they add up to.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CapabilityReport {
    pub findings: Vec<Finding>,
    /// Findings in code the package only emits (the tokens of `quote!` and
    /// its kin): what it generates into its users, not what it does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emitted: Vec<Finding>,
}

impl CapabilityReport {
    /// The sorted, unique capabilities of the findings.
    pub fn capabilities(&self) -> Vec<Capability> {
        unique_capabilities(&self.findings)
    }

    /// The sorted, unique capabilities of the code the package emits.
    pub fn emits(&self) -> Vec<Capability> {
        unique_capabilities(&self.emitted)
    }

    /// Sorts findings by place and drops duplicates (the same rule
    /// matching twice at one spot, e.g. through a macro's re-parse); of
    /// two that differ only in how they were resolved, the surer is kept.
    pub fn normalize(&mut self) {
        for findings in [&mut self.findings, &mut self.emitted] {
            findings.sort_by(|a, b| {
                (
                    &a.location,
                    a.capability,
                    &a.rule,
                    &a.evidence,
                    &a.via,
                    a.resolution,
                )
                    .cmp(&(
                        &b.location,
                        b.capability,
                        &b.rule,
                        &b.evidence,
                        &b.via,
                        b.resolution,
                    ))
            });
            findings.dedup_by(|later, kept| {
                (
                    &later.location,
                    later.capability,
                    &later.rule,
                    &later.evidence,
                    &later.via,
                ) == (
                    &kept.location,
                    kept.capability,
                    &kept.rule,
                    &kept.evidence,
                    &kept.via,
                )
            });
        }
    }
}

fn unique_capabilities(findings: &[Finding]) -> Vec<Capability> {
    let mut caps: Vec<Capability> = findings.iter().map(|f| f.capability).collect();
    caps.sort();
    caps.dedup();
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for cap in Capability::ALL {
            assert_eq!(cap.name().parse::<Capability>().unwrap(), cap);
        }
        assert!("nett".parse::<Capability>().is_err());
    }

    #[test]
    fn all_is_sorted_by_name() {
        let names: Vec<_> = Capability::ALL.iter().map(|c| c.name()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn family_grants_children_only() {
        assert!(Capability::Fs.covers(Capability::FsRead));
        assert!(Capability::Fs.covers(Capability::FsWrite));
        assert!(!Capability::FsRead.covers(Capability::FsWrite));
        assert!(!Capability::FsRead.covers(Capability::Fs));
        assert!(!Capability::Net.covers(Capability::FsRead));
        assert!(Capability::Unsafe.covers(Capability::Unsafe));
    }
}
