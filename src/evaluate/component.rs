//! One BoM component's outcome in `vet-bom`: the flags the fetch and the
//! policy raise, and the status they add up to. The row an agent reads is
//! `report::components`.

use super::vet::{Flag, Status};
use super::{Evaluation, Violation};
use crate::model::BuildGraph;
use crate::model::{Capability, Finding};
use crate::policy::{Policy, ProposedGrant};
use crate::resolve::bom::{ComponentKind, RequestedComponent};
use crate::resolve::crates::{MissingDependency, UnmetKind};

/// Where one component stands.
pub struct ComponentOutcome {
    pub flags: Vec<Flag>,
    /// Not a crate, and the policy lets it pass unvetted.
    pub accepted_unvetted: bool,
    /// Index of its crate among the fetched ones.
    pub fetched: Option<usize>,
}

/// The `missing-dependency` flag of a crate that needs what the BoM does
/// not give it: the BoM is not the closure of its crates, so what the
/// missing crates do, and what this one reaches through them, is unknown.
pub fn missing_dependency_flag(
    graph: &BuildGraph,
    package: usize,
    missing: &[MissingDependency],
    all_features_assumed: bool,
) -> Option<Flag> {
    if missing.is_empty() {
        return None;
    }
    let p = &graph.packages[package];
    let describe = |m: &MissingDependency| {
        let build = if m.build { " (build)" } else { "" };
        format!("{} {}{build}", m.name, m.req)
    };
    let absent: Vec<String> = missing
        .iter()
        .filter(|m| m.kind == UnmetKind::NotInBom)
        .map(describe)
        .collect();
    let unlisted: Vec<String> = missing
        .iter()
        .filter(|m| m.kind == UnmetKind::NotListed)
        .map(describe)
        .collect();
    let mut parts = Vec::new();
    if !absent.is_empty() {
        parts.push(format!(
            "needs {}, which the BoM does not hold: add {} (`cargo capgate bom` writes the whole closure), or vet the BoM of the real build",
            absent.join(", "),
            if absent.len() == 1 { "it" } else { "them" }
        ));
    }
    if !unlisted.is_empty() {
        parts.push(format!(
            "depends on {}, which the BoM's `dependencies` entry for it does not list (vetted as an edge anyway): the BoM's dependency graph is incomplete",
            unlisted.join(", ")
        ));
    }
    let assumed = if all_features_assumed {
        " (the BoM records no features for it, so every feature is assumed: record them as `capgate:features` if an optional dependency is not built)"
    } else {
        ""
    };
    Some(Flag::new(
        Status::MissingDependency,
        format!(
            "{}@{} {}{assumed}",
            p.name,
            p.version,
            parts.join("; it also ")
        ),
    ))
}

/// How many unanalysed places a message names before it says "and N more":
/// the row's `violations` carry all of them.
const REASONS_IN_MESSAGE: usize = 3;

/// The flags the policy raises for a scanned crate: `unanalyzed` when some
/// of its source could not be analysed and that is not granted (more
/// specific than `violation`: no grant should be written for it unread),
/// `violation` for capabilities and advisories beyond the policy.
pub fn policy_flags(graph: &BuildGraph, evaluation: &Evaluation, package: usize) -> Vec<Flag> {
    let p = &graph.packages[package];
    let violations: Vec<&Violation> = evaluation
        .violations
        .iter()
        .filter(|v| v.package == package)
        .collect();
    let mut flags = Vec::new();
    let (unanalyzed, other): (Vec<&Violation>, Vec<&Violation>) = violations
        .iter()
        .partition(|v| v.capability == Capability::Unanalyzed);
    if !unanalyzed.is_empty() {
        let findings: Vec<&Finding> = unanalyzed.iter().flat_map(|v| &v.findings).collect();
        let mut reasons: Vec<String> = findings
            .iter()
            .take(REASONS_IN_MESSAGE)
            .map(|f| describe_place(f))
            .collect();
        if findings.len() > REASONS_IN_MESSAGE {
            reasons.push(format!("and {} more", findings.len() - REASONS_IN_MESSAGE));
        }
        flags.push(Flag::new(
            Status::Unanalyzed,
            format!(
                "{}@{} has source capgate could not analyse ({}), so nothing is known of what that code does: read it before granting it ({}), or remove {}",
                p.name,
                p.version,
                reasons.join("; "),
                inline(&combined_grant(&unanalyzed).expect("not empty")),
                p.name
            ),
        ));
    }
    if let Some(grant) = combined_grant(&other) {
        let names: Vec<&str> = other.iter().map(|v| v.capability.name()).collect();
        flags.push(Flag::new(
            Status::Violation,
            format!(
                "{}@{} uses {} beyond the policy: grant it in capgate.toml ({}) if that is expected, or remove {}",
                p.name,
                p.version,
                names.join(", "),
                inline(&grant),
                p.name
            ),
        ));
    }
    for v in evaluation
        .advisory_violations
        .iter()
        .filter(|v| v.package == package)
    {
        let fix = if v.advisory.patched.is_empty() {
            "no patched release exists; replace it".to_owned()
        } else {
            format!("upgrade to {}", v.advisory.patched.join(" or "))
        };
        flags.push(Flag::new(
            Status::Violation,
            format!("{}: {fix}", super::advisory_headline(p, v)),
        ));
    }
    flags
}

/// `src/gen.rs:3: include! of a file that does not exist`.
fn describe_place(f: &Finding) -> String {
    match (&f.location.file, f.location.line) {
        (Some(file), Some(line)) => format!("{file}:{line}: {}", f.evidence),
        (Some(file), None) => format!("{file}: {}", f.evidence),
        _ => f.evidence.clone(),
    }
}

/// One grant allowing all of `violations` (of one package).
pub fn combined_grant(violations: &[&Violation]) -> Option<ProposedGrant> {
    let (first, rest) = violations.split_first()?;
    let mut grant = first.grant.clone();
    for v in rest {
        grant.merge(&v.grant);
    }
    Some(grant)
}

/// `[pkg.x] allow = ["net.connect"], build-script.allow = ["fs"]`, for a
/// sentence.
fn inline(grant: &ProposedGrant) -> String {
    let lines: Vec<String> = grant
        .lines()
        .into_iter()
        .map(|(key, caps)| {
            let quoted: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
            format!("{key} = [{}]", quoted.join(", "))
        })
        .collect();
    format!("[{}] {}", grant.table(), lines.join(", "))
}

pub fn status_of(outcome: &ComponentOutcome) -> Status {
    outcome
        .flags
        .iter()
        .map(|f| f.status)
        .min()
        .unwrap_or(Status::Ok)
}

/// A crate's outcome starts empty (the fetch fills it in); any other
/// component is `unvetted`, accepted or not by the policy.
pub fn other_component_outcome(
    component: &RequestedComponent,
    policy: &Policy,
) -> ComponentOutcome {
    let ComponentKind::Other { ecosystem } = &component.kind else {
        return ComponentOutcome {
            flags: Vec::new(),
            accepted_unvetted: false,
            fetched: None,
        };
    };
    let why = match ecosystem {
        Some(e) => format!("it is a `{e}` package and vet-bom vets crates only"),
        None => "it is not a package with a purl, and vet-bom vets crates only".into(),
    };
    unvetted_outcome(component, &why, policy)
}

/// A component vet-bom cannot vet, for `why`: it fails the verdict unless
/// the policy accepts it unvetted.
pub fn unvetted_outcome(
    component: &RequestedComponent,
    why: &str,
    policy: &Policy,
) -> ComponentOutcome {
    let acceptance = policy.accepts_unvetted(component.purl.as_deref(), &component.name);
    let message = match acceptance {
        Some(accepted) => format!(
            "{} was not checked: {why}; the policy accepts it unvetted ([vet-bom] accept-unvetted{})",
            component.display_name(),
            accepted
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        None => format!(
            "{} was not checked: {why}. Remove it, or accept it unvetted in the policy: [vet-bom] accept-unvetted = [\"{}\"]",
            component.display_name(),
            component.purl.as_deref().unwrap_or(&component.name)
        ),
    };
    ComponentOutcome {
        flags: vec![Flag::new(Status::Unvetted, message)],
        accepted_unvetted: acceptance.is_some(),
        fetched: None,
    }
}
