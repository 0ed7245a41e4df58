//! Why a package has a capability: its findings grouped by capability and
//! scope, the packages a reach went through, whether the policy grants it,
//! and how the package came into the build. Pure: the graph is already
//! scanned and evaluated.
//!
//! `cargo capgate explain` and the MCP `explain` tool both print this, so a
//! person and an agent get the same answer.

use std::collections::VecDeque;

use super::{Evaluation, Scope};
use crate::model::PackageScan;
use crate::model::{BuildGraph, Package, SourceKind, TargetRole};
use crate::model::{Capability, Finding};
use crate::policy::ProposedGrant;

/// What `explain` was asked about that the graph does not have.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    #[error("no package `{spec}` in the build graph{}", did_you_mean(.suggestions))]
    UnknownPackage {
        spec: String,
        suggestions: Vec<String>,
    },
    #[error("`{spec}`: the build has {name} {}, not {version}", .available.join(", "))]
    UnknownVersion {
        spec: String,
        name: String,
        version: String,
        available: Vec<String>,
    },
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean `{one}`?"),
        many => format!("; did you mean one of: {}?", many.join(", ")),
    }
}

/// The packages `spec` (`NAME` or `NAME@VERSION`) names, in graph order:
/// every version of the name when no version is given.
pub fn find_packages(graph: &BuildGraph, spec: &str) -> Result<Vec<usize>, ExplainError> {
    let (name, version) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    let named: Vec<usize> = (0..graph.packages.len())
        .filter(|&i| graph.packages[i].name == name)
        .collect();
    if named.is_empty() {
        return Err(ExplainError::UnknownPackage {
            spec: spec.to_owned(),
            suggestions: similar_names(graph, name),
        });
    }
    let Some(version) = version else {
        return Ok(named);
    };
    let exact: Vec<usize> = named
        .iter()
        .copied()
        .filter(|&i| graph.packages[i].version == version)
        .collect();
    if exact.is_empty() {
        return Err(ExplainError::UnknownVersion {
            spec: spec.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
            available: named
                .iter()
                .map(|&i| graph.packages[i].version.clone())
                .collect(),
        });
    }
    Ok(exact)
}

/// Names in the graph within a small edit distance of `name` (or equal to
/// it up to `-`/`_`), closest first.
fn similar_names(graph: &BuildGraph, name: &str) -> Vec<String> {
    let wanted = super::vet::normalize(name);
    let mut scored: Vec<(usize, &str)> = graph
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .filter_map(|candidate| {
            let distance = strsim::damerau_levenshtein(&wanted, &super::vet::normalize(candidate));
            (distance <= 2.max(wanted.len() / 5)).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    let mut names: Vec<String> = scored.into_iter().map(|(_, n)| n.to_owned()).collect();
    names.dedup();
    names.truncate(3);
    names
}

/// One capability of one scope of a package, with everything behind it.
#[derive(Clone, Debug)]
pub struct CapabilityExplanation {
    pub scope: Scope,
    pub capability: Capability,
    /// Whether the policy grants it (no violation for it).
    pub granted: bool,
    /// When it is not granted, the policy lines that would grant it.
    pub grant: Option<ProposedGrant>,
    /// Every finding behind it, in report order.
    pub findings: Vec<Finding>,
}

/// Why one package has what it has.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// Index into the graph's packages.
    pub package: usize,
    /// The capability asked about; `None` explains them all.
    pub asked: Option<Capability>,
    /// The capabilities `asked` covers (or all), each with its findings,
    /// and `unanalyzed` whenever the package has it; empty when the package
    /// does not have it.
    pub capabilities: Vec<CapabilityExplanation>,
    /// The shortest chain of packages from a workspace member to this one
    /// (indices, the member first, this package last); `None` for a member.
    pub required_by: Option<Vec<usize>>,
}

/// Explains `package`, for `asked` or every capability it has.
pub fn explain(
    graph: &BuildGraph,
    scans: &[PackageScan],
    evaluation: &Evaluation,
    package: usize,
    asked: Option<Capability>,
) -> Explanation {
    let scan = &scans[package];
    let mut capabilities = Vec::new();
    for (scope, report) in [
        (Scope::Code, &scan.code),
        (Scope::BuildScript, &scan.build_script),
    ] {
        for capability in report.capabilities() {
            // Source that could not be read could do what was asked: it is
            // always shown, so that no answer says "does not use" of code
            // nobody read.
            if asked.is_some_and(|a| !a.covers(capability)) && capability != Capability::Unanalyzed
            {
                continue;
            }
            let violation = evaluation
                .violations
                .iter()
                .find(|v| v.package == package && v.scope == scope && v.capability == capability);
            capabilities.push(CapabilityExplanation {
                scope,
                capability,
                granted: violation.is_none(),
                grant: violation.map(|v| v.grant.clone()),
                findings: report
                    .findings
                    .iter()
                    .filter(|f| f.capability == capability)
                    .cloned()
                    .collect(),
            });
        }
    }
    Explanation {
        package,
        asked,
        capabilities,
        required_by: required_by(graph, package),
    }
}

/// The packages a finding's `via` chain passes through, starting at the
/// package that has the finding: each step is the dependency whose library
/// the next item's path starts with. Stops where a step cannot be matched
/// (an item of the standard library, or a re-export under another name).
pub fn via_packages(graph: &BuildGraph, package: usize, finding: &Finding) -> Vec<usize> {
    let mut chain = vec![package];
    let mut current = package;
    for item in &finding.via {
        let first = item.split("::").next().unwrap_or(item);
        // An item of the crate the chain is already in: the reach moved
        // within it.
        if lib_name(&graph.packages[current]) == first {
            continue;
        }
        let Some(next) = graph.packages[current]
            .dependencies
            .iter()
            .find(|d| d.lib_name == first || d.extern_name == first)
            .map(|d| d.package)
        else {
            break;
        };
        if next != current {
            chain.push(next);
            current = next;
        }
    }
    chain
}

/// The name other crates' paths use for `package`: its library target's
/// (a `[lib] name` may differ from the package's), else the package's.
fn lib_name(package: &Package) -> String {
    package
        .targets
        .iter()
        .find(|t| matches!(t.kind, TargetRole::Lib | TargetRole::ProcMacro))
        .map_or(package.name.as_str(), |t| t.name.as_str())
        .replace('-', "_")
}

/// Breadth-first from the workspace members (in graph order, dependencies
/// in their listed order), so the chain is the shortest and the same on
/// every run.
fn required_by(graph: &BuildGraph, target: usize) -> Option<Vec<usize>> {
    let is_member = |i: usize| graph.packages[i].source == SourceKind::Workspace;
    if is_member(target) {
        return None;
    }
    let mut parent: Vec<Option<usize>> = vec![None; graph.packages.len()];
    let mut seen = vec![false; graph.packages.len()];
    let mut queue = VecDeque::new();
    for i in (0..graph.packages.len()).filter(|&i| is_member(i)) {
        seen[i] = true;
        queue.push_back(i);
    }
    while let Some(current) = queue.pop_front() {
        let package = &graph.packages[current];
        for dep in package
            .dependencies
            .iter()
            .chain(&package.build_dependencies)
        {
            if seen[dep.package] {
                continue;
            }
            seen[dep.package] = true;
            parent[dep.package] = Some(current);
            if dep.package == target {
                let mut chain = vec![target];
                let mut at = target;
                while let Some(p) = parent[at] {
                    chain.push(p);
                    at = p;
                }
                chain.reverse();
                return Some(chain);
            }
            queue.push_back(dep.package);
        }
    }
    // Not reachable from a member (a graph built from a BoM has none):
    // the package is a root of its own.
    Some(vec![target])
}
