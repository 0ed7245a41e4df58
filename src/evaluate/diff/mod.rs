//! What a change does to the supply chain: packages added, removed and
//! upgraded, capabilities gained and lost, grants changed, and violations
//! and advisories head has that base did not. Pure: both sides are already
//! resolved, scanned and evaluated.

use std::collections::{BTreeMap, BTreeSet};

use super::{AdvisoryViolation, Evaluation, Scope, Violation};
use crate::advisories::{AdvisoryKind, AdvisoryMatch};
use crate::model::BuildGraph;
use crate::model::PackageScan;
use crate::model::{Capability, CapabilityReport, Finding};
use crate::policy::{Policy, ProposedGrant};

mod policy;

pub use policy::{GrantChange, PolicyChanges, PolicyItem};

/// What fails a diff besides new violations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gate {
    /// A change that widens its own policy fails (`--deny-grant-changes`).
    pub deny_grant_changes: bool,
}

/// One side of a diff.
pub struct Side<'a> {
    pub graph: &'a BuildGraph,
    pub scans: &'a [PackageScan],
    pub evaluation: &'a Evaluation,
    pub policy: &'a Policy,
    pub advisories: Option<&'a [Vec<AdvisoryMatch>]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageSummary {
    pub name: String,
    pub version: String,
    pub capabilities: Vec<Capability>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upgrade {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// A package whose capabilities differ between base and head (an added
/// package gains all of its own).
#[derive(Clone, Debug)]
pub struct CapabilityChange {
    pub package: String,
    pub version: String,
    pub scope: Scope,
    pub gained: Vec<Capability>,
    pub lost: Vec<Capability>,
    /// Head's evidence for the gained capabilities.
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewViolation {
    pub package: String,
    pub version: String,
    pub scope: Scope,
    pub capability: Capability,
    /// What head's policy would need to allow it.
    pub grant: ProposedGrant,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewAdvisory {
    pub package: String,
    pub version: String,
    pub id: String,
    pub kind: AdvisoryKind,
    pub title: String,
    pub url: Option<String>,
    /// Version requirements that fix it.
    pub patched: Vec<String>,
}

impl NewAdvisory {
    fn new(package: &crate::model::Package, m: &AdvisoryMatch) -> Self {
        NewAdvisory {
            package: package.name.clone(),
            version: package.version.clone(),
            id: m.id.clone(),
            kind: m.kind,
            title: m.title.clone(),
            url: m.url.clone(),
            patched: m.patched.clone(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct GraphDiff {
    pub added: Vec<PackageSummary>,
    pub removed: Vec<PackageSummary>,
    pub upgraded: Vec<Upgrade>,
    pub changes: Vec<CapabilityChange>,
    pub policy: PolicyChanges,
    pub new_advisories: Vec<NewAdvisory>,
    /// Capability violations head has and base had not, by package name,
    /// scope and capability.
    pub new_violations: Vec<NewViolation>,
    /// Advisories that fail `check` on head and did not on base.
    pub new_advisory_violations: Vec<NewAdvisory>,
    pub gate: Gate,
}

impl GraphDiff {
    pub fn passed(&self) -> bool {
        self.new_violations.is_empty()
            && self.new_advisory_violations.is_empty()
            && !self.fails_by_widening()
    }

    /// Whether the change fails because it widens its own policy.
    pub fn fails_by_widening(&self) -> bool {
        self.gate.deny_grant_changes && self.policy.widens()
    }
}

pub fn diff(base: &Side<'_>, head: &Side<'_>, gate: Gate) -> GraphDiff {
    let mut out = GraphDiff {
        gate,
        ..GraphDiff::default()
    };
    let base_by_name = by_name(base.graph);
    let head_by_name = by_name(head.graph);

    // Pair each head package with its base counterpart, by name: the same
    // version first, then the remaining versions in order (an upgrade).
    let mut counterpart: BTreeMap<usize, usize> = BTreeMap::new();
    let names: BTreeSet<&str> = base_by_name
        .keys()
        .chain(head_by_name.keys())
        .copied()
        .collect();
    for name in names {
        let b = base_by_name.get(name).cloned().unwrap_or_default();
        let h = head_by_name.get(name).cloned().unwrap_or_default();
        let version = |side: &BuildGraph, i: usize| side.packages[i].version.clone();
        let mut b_rest: Vec<usize> = Vec::new();
        let mut h_rest: Vec<usize> = h.clone();
        for &bi in &b {
            match h_rest
                .iter()
                .position(|&hi| version(head.graph, hi) == version(base.graph, bi))
            {
                Some(pos) => {
                    counterpart.insert(h_rest.remove(pos), bi);
                }
                None => b_rest.push(bi),
            }
        }
        let pairs = b_rest.len().min(h_rest.len());
        for (&bi, &hi) in b_rest.iter().zip(&h_rest).take(pairs) {
            counterpart.insert(hi, bi);
            out.upgraded.push(Upgrade {
                name: name.to_owned(),
                from: version(base.graph, bi),
                to: version(head.graph, hi),
            });
        }
        for &bi in &b_rest[pairs..] {
            out.removed.push(summary(base.graph, base.scans, bi));
        }
        for &hi in &h_rest[pairs..] {
            out.added.push(summary(head.graph, head.scans, hi));
        }
    }

    for (hi, package) in head.graph.packages.iter().enumerate() {
        let base_scan = counterpart.get(&hi).map(|&bi| &base.scans[bi]);
        for scope in [Scope::Code, Scope::BuildScript] {
            let head_report = report(&head.scans[hi], scope);
            let base_caps = base_scan
                .map(|s| report(s, scope).capabilities())
                .unwrap_or_default();
            let head_caps = head_report.capabilities();
            let gained: Vec<Capability> = head_caps
                .iter()
                .filter(|c| !base_caps.contains(c))
                .copied()
                .collect();
            let lost: Vec<Capability> = base_caps
                .iter()
                .filter(|c| !head_caps.contains(c))
                .copied()
                .collect();
            if gained.is_empty() && lost.is_empty() {
                continue;
            }
            let findings = head_report
                .findings
                .iter()
                .filter(|f| gained.contains(&f.capability))
                .cloned()
                .collect();
            out.changes.push(CapabilityChange {
                package: package.name.clone(),
                version: package.version.clone(),
                scope,
                gained,
                lost,
                findings,
            });
        }
    }

    out.policy = PolicyChanges::between(base.policy, head.policy);

    let base_violations: BTreeSet<(String, Scope, Capability)> = violation_list(base)
        .into_iter()
        .map(|v| (v.package, v.scope, v.capability))
        .collect();
    out.new_violations = violation_list(head)
        .into_iter()
        .filter(|v| !base_violations.contains(&(v.package.clone(), v.scope, v.capability)))
        .collect();
    let base_failing: BTreeSet<(String, String)> = failing_advisories(base)
        .into_iter()
        .map(|a| (a.package, a.id))
        .collect();
    out.new_advisory_violations = failing_advisories(head)
        .into_iter()
        .filter(|a| !base_failing.contains(&(a.package.clone(), a.id.clone())))
        .collect();

    let base_advisories = advisory_list(base);
    out.new_advisories = advisory_list(head)
        .into_iter()
        .filter(|a| {
            !base_advisories
                .iter()
                .any(|b| b.package == a.package && b.id == a.id)
        })
        .collect();

    out.added
        .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out.removed
        .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out.upgraded.sort_by(|a, b| a.name.cmp(&b.name));
    out.changes
        .sort_by(|a, b| (&a.package, &a.version, a.scope).cmp(&(&b.package, &b.version, b.scope)));
    out.new_violations.sort();
    out.new_violations.dedup();
    out.new_advisories.sort();
    out.new_advisory_violations.sort();
    out
}

fn by_name(graph: &BuildGraph) -> BTreeMap<&str, Vec<usize>> {
    let mut map: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in graph.packages.iter().enumerate() {
        map.entry(p.name.as_str()).or_default().push(i);
    }
    map
}

fn summary(graph: &BuildGraph, scans: &[PackageScan], i: usize) -> PackageSummary {
    PackageSummary {
        name: graph.packages[i].name.clone(),
        version: graph.packages[i].version.clone(),
        capabilities: scans[i].code.capabilities(),
    }
}

fn report(scan: &PackageScan, scope: Scope) -> &CapabilityReport {
    match scope {
        Scope::Code => &scan.code,
        Scope::BuildScript => &scan.build_script,
    }
}

fn violation_list(side: &Side<'_>) -> Vec<NewViolation> {
    side.evaluation
        .violations
        .iter()
        .map(|v| {
            let p = &side.graph.packages[v.package];
            NewViolation {
                package: p.name.clone(),
                version: p.version.clone(),
                scope: v.scope,
                capability: v.capability,
                grant: v.grant.clone(),
            }
        })
        .collect()
}

fn failing_advisories(side: &Side<'_>) -> Vec<NewAdvisory> {
    side.evaluation
        .advisory_violations
        .iter()
        .map(|v| NewAdvisory::new(&side.graph.packages[v.package], &v.advisory))
        .collect()
}

fn advisory_list(side: &Side<'_>) -> Vec<NewAdvisory> {
    let Some(advisories) = side.advisories else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, matches) in advisories.iter().enumerate() {
        let p = &side.graph.packages[i];
        for m in matches {
            out.push(NewAdvisory::new(p, m));
        }
    }
    out
}

/// The head's own violations and advisory violations that `result` found
/// new, for outputs that locate each one in the head (SARIF).
pub fn new_in_head<'a>(
    result: &GraphDiff,
    graph: &BuildGraph,
    evaluation: &'a Evaluation,
) -> (Vec<&'a Violation>, Vec<&'a AdvisoryViolation>) {
    let violations = evaluation
        .violations
        .iter()
        .filter(|v| {
            let p = &graph.packages[v.package];
            result
                .new_violations
                .iter()
                .any(|n| n.package == p.name && n.scope == v.scope && n.capability == v.capability)
        })
        .collect();
    let advisories = evaluation
        .advisory_violations
        .iter()
        .filter(|v| {
            let p = &graph.packages[v.package];
            result
                .new_advisory_violations
                .iter()
                .any(|n| n.package == p.name && n.id == v.advisory.id)
        })
        .collect();
    (violations, advisories)
}
