//! Evaluate: which findings the policy does not grant.
//!
//! Takes the graph, the scans and a validated policy; returns violations
//! (one per package, scope and capability, with every finding behind it) and
//! warnings for policy entries that match no package. Pure: no I/O.
//!
//! **Invariant:** nothing that cannot be evaluated passes. `unanalyzed` is a
//! capability like any other and fails unless granted.

pub mod component;
pub mod diff;
pub mod explain;
pub mod vet;

use crate::advisories::AdvisoryMatch;
use crate::diagnostic::Diagnostic;
use crate::model::PackageScan;
use crate::model::{BuildGraph, Package};
use crate::model::{Capability, CapabilityReport, Finding};
use crate::policy::{Grants, Policy, ProposedGrant};

/// Which code a grant or violation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The package's own targets, which run wherever the program runs.
    Code,
    /// Its build script, which runs on the builder's machine.
    BuildScript,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Code => "code",
            Scope::BuildScript => "build-script",
        }
    }
}

/// A capability a package reaches that no grant covers.
#[derive(Clone, Debug)]
pub struct Violation {
    /// Index into the graph's packages.
    pub package: usize,
    pub scope: Scope,
    pub capability: Capability,
    pub findings: Vec<Finding>,
    /// The reason of the policy entry that applied, if any, so the message
    /// can say what was intended.
    pub reason: Option<String>,
    /// The policy lines that would allow it.
    pub grant: ProposedGrant,
}

/// An advisory affecting a package that the policy does not ignore.
#[derive(Clone, Debug)]
pub struct AdvisoryViolation {
    pub package: usize,
    pub advisory: AdvisoryMatch,
}

/// The outcome of evaluating a graph against a policy.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    pub violations: Vec<Violation>,
    pub advisory_violations: Vec<AdvisoryViolation>,
    pub warnings: Vec<Diagnostic>,
}

/// `` `mio 1.0.2` uses `net.connect`, which the policy does not grant ``
/// (or "the build script of …"): the one wording every output uses.
pub fn violation_headline(package: &Package, v: &Violation) -> String {
    let whose = match v.scope {
        Scope::Code => format!("`{} {}`", package.name, package.version),
        Scope::BuildScript => {
            format!("the build script of `{} {}`", package.name, package.version)
        }
    };
    format!(
        "{whose} uses `{}`, which the policy does not grant",
        v.capability
    )
}

/// `` `smallvec 1.6.0` is affected by RUSTSEC-… (vulnerability): title ``.
pub fn advisory_headline(package: &Package, v: &AdvisoryViolation) -> String {
    format!(
        "`{} {}` is affected by {} ({}): {}",
        package.name,
        package.version,
        v.advisory.id,
        v.advisory.kind.as_str(),
        v.advisory.title
    )
}

impl Evaluation {
    pub fn passed(&self) -> bool {
        self.violations.is_empty() && self.advisory_violations.is_empty()
    }

    /// Indices of the packages with at least one violation, in graph order.
    pub fn failing_packages(&self) -> Vec<usize> {
        let mut packages: Vec<usize> = self
            .violations
            .iter()
            .map(|v| v.package)
            .chain(self.advisory_violations.iter().map(|v| v.package))
            .collect();
        packages.sort();
        packages.dedup();
        packages
    }
}

/// Evaluates capabilities, and advisories when they were checked.
pub fn evaluate(
    graph: &BuildGraph,
    scans: &[PackageScan],
    advisories: Option<&[Vec<AdvisoryMatch>]>,
    policy: &Policy,
) -> Evaluation {
    let mut evaluation = Evaluation::default();
    if let Some(advisories) = advisories {
        evaluate_advisories(graph, advisories, policy, &mut evaluation);
    }
    for (index, (package, scan)) in graph.packages.iter().zip(scans).enumerate() {
        let entries = policy.entries_for(&package.name, &package.version);
        let (grants, reason) = if entries.is_empty() {
            (policy.defaults.clone(), None)
        } else {
            let mut grants = Grants::default();
            for entry in &entries {
                grants.allow.extend(&entry.grants.allow);
                grants.build_script.extend(&entry.grants.build_script);
            }
            let reason = entries.iter().find_map(|e| e.reason.clone());
            (grants, reason)
        };
        for (scope, report, granted) in [
            (Scope::Code, &scan.code, &grants.allow),
            (Scope::BuildScript, &scan.build_script, &grants.build_script),
        ] {
            for (capability, findings) in ungranted(report, granted) {
                evaluation.violations.push(Violation {
                    package: index,
                    scope,
                    capability,
                    findings,
                    reason: reason.clone(),
                    grant: proposed_grant(
                        &package.name,
                        scope,
                        capability,
                        entries.is_empty(),
                        policy,
                    ),
                });
            }
        }
    }
    for entry in &policy.packages {
        let in_graph = graph
            .packages
            .iter()
            .any(|p| entry.matches(&p.name, &p.version));
        if !in_graph {
            let what = match &entry.version {
                Some(req) => format!("`{}` ({req})", entry.name),
                None => format!("`{}`", entry.name),
            };
            let mut warning = Diagnostic::warning(
                "stale-entry",
                format!("the policy grants {what}, which is not in the build graph"),
            )
            .note("remove the entry, or check the name and version requirement");
            if let Some(span) = &entry.span {
                warning = warning.at(span.clone(), "no such package");
            }
            evaluation.warnings.push(warning);
        }
    }
    evaluation
}

/// The grant that allows `capability` to a package without changing
/// anything else it is allowed. A package with no entry of its own gets
/// `[defaults]`, and an entry for it replaces them: so the entry proposed
/// then also carries the defaults, for both scopes.
fn proposed_grant(
    name: &str,
    scope: Scope,
    capability: Capability,
    uses_defaults: bool,
    policy: &Policy,
) -> ProposedGrant {
    let mut grants = if uses_defaults {
        policy.defaults.clone()
    } else {
        Grants::default()
    };
    match scope {
        Scope::Code => grants.allow.push(capability),
        Scope::BuildScript => grants.build_script.push(capability),
    }
    let mut grant = ProposedGrant {
        package: name.to_owned(),
        grants: Grants::default(),
    };
    // Merging normalises: sorted, unique, nothing a broader grant covers.
    grant.merge(&ProposedGrant {
        package: name.to_owned(),
        grants,
    });
    grant
}

fn evaluate_advisories(
    graph: &BuildGraph,
    advisories: &[Vec<AdvisoryMatch>],
    policy: &Policy,
    evaluation: &mut Evaluation,
) {
    for (index, matches) in advisories.iter().enumerate() {
        let package = &graph.packages[index];
        for m in matches {
            let ignored = policy
                .ignored_advisories
                .iter()
                .any(|i| i.id == m.id || m.aliases.contains(&i.id));
            if ignored {
                continue;
            }
            if m.kind.fails_check() {
                evaluation.advisory_violations.push(AdvisoryViolation {
                    package: index,
                    advisory: m.clone(),
                });
            } else {
                evaluation.warnings.push(Diagnostic::warning(
                    "advisory-informational",
                    format!(
                        "`{} {}` has an informational advisory {}: {}",
                        package.name, package.version, m.id, m.title
                    ),
                ));
            }
        }
    }
}

/// The findings of `report` whose capability `granted` does not cover,
/// grouped by capability in name order.
fn ungranted(report: &CapabilityReport, granted: &[Capability]) -> Vec<(Capability, Vec<Finding>)> {
    report
        .capabilities()
        .into_iter()
        .filter(|cap| !Grants::covers(granted, *cap))
        .map(|cap| {
            let findings = report
                .findings
                .iter()
                .filter(|f| f.capability == cap)
                .cloned()
                .collect();
            (cap, findings)
        })
        .collect()
}
