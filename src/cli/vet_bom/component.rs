//! One BoM component's outcome in `vet-bom`: the flags the fetch and the
//! policy raise, the status they add up to, and the row an agent reads,
//! with what to do about it as fields (the grant, the evidence, the
//! advisories' fixes) as well as a sentence.

use crate::evaluate::vet::{Flag, Status};
use crate::evaluate::{Evaluation, Violation};
use crate::model::BuildGraph;
use crate::model::{Capability, Finding};
use crate::policy::{Policy, ProposedGrant};
use crate::report::json;
use crate::resolve::bom::{ComponentKind, CrateSource, RequestedComponent, RequestedCrate};
use crate::resolve::crates::{MissingDependency, UnmetKind};

/// Where one component stands.
pub(super) struct ComponentOutcome {
    pub(super) flags: Vec<Flag>,
    /// Not a crate, and the policy lets it pass unvetted.
    pub(super) accepted_unvetted: bool,
    /// Index of its crate among the fetched ones.
    pub(super) fetched: Option<usize>,
}

/// The `missing-dependency` flag of a crate that needs what the BoM does
/// not give it: the BoM is not the closure of its crates, so what the
/// missing crates do, and what this one reaches through them, is unknown.
pub(super) fn missing_dependency_flag(
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
pub(super) fn policy_flags(
    graph: &BuildGraph,
    evaluation: &Evaluation,
    package: usize,
) -> Vec<Flag> {
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
            format!("{}: {fix}", crate::report::advisory_headline(p, v)),
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
fn combined_grant(violations: &[&Violation]) -> Option<ProposedGrant> {
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

pub(super) fn status_of(outcome: &ComponentOutcome) -> Status {
    outcome
        .flags
        .iter()
        .map(|f| f.status)
        .min()
        .unwrap_or(Status::Ok)
}

/// A crate's outcome starts empty (the fetch fills it in); any other
/// component is `unvetted`, accepted or not by the policy.
pub(super) fn other_component_outcome(
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
pub(super) fn unvetted_outcome(
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

/// The crate a component was scanned as, and how its policy came out.
pub(super) struct Scanned<'a> {
    pub(super) graph: &'a BuildGraph,
    pub(super) evaluation: &'a Evaluation,
    /// Index of its crate in `graph`.
    pub(super) package: usize,
    /// The BoM records no features for it, so every feature was on.
    pub(super) all_assumed: bool,
    /// What it needs that the BoM does not give it.
    pub(super) missing: &'a [MissingDependency],
}

pub(super) fn component_row(
    component: &RequestedComponent,
    outcome: &ComponentOutcome,
    status: Status,
    scanned: Option<Scanned<'_>>,
) -> json::JsonComponent {
    let mut flags: Vec<&'static str> = outcome.flags.iter().map(|f| f.status.as_str()).collect();
    flags.dedup();
    let message = if outcome.flags.is_empty() {
        let how = match &component.kind {
            ComponentKind::Crate(RequestedCrate {
                source: CrateSource::Local { path },
                ..
            }) => format!("was read from its directory `{path}` and scanned"),
            _ => "was fetched, verified and scanned".to_owned(),
        };
        format!(
            "{} {how}; it is within the policy",
            component.display_name()
        )
    } else {
        let mut sorted: Vec<&Flag> = outcome.flags.iter().collect();
        sorted.sort_by_key(|f| f.status);
        sorted
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join(". ")
    };
    let mut did_you_mean: Vec<String> = outcome
        .flags
        .iter()
        .filter_map(|f| f.did_you_mean.clone())
        .collect();
    did_you_mean.sort();
    did_you_mean.dedup();
    let (violations, grant, advisories) = match &scanned {
        Some(s) => {
            let package = &s.graph.packages[s.package];
            let own: Vec<&Violation> = s
                .evaluation
                .violations
                .iter()
                .filter(|v| v.package == s.package)
                .collect();
            let advisories = s
                .evaluation
                .advisory_violations
                .iter()
                .filter(|v| v.package == s.package)
                .map(|v| json::JsonAdvisoryViolation::new(package, &v.advisory))
                .collect();
            (
                own.iter()
                    .map(|v| json::JsonViolation::new(package, v))
                    .collect(),
                combined_grant(&own)
                    .as_ref()
                    .map(json::JsonProposedGrant::from),
                advisories,
            )
        }
        None => (Vec::new(), None, Vec::new()),
    };
    json::JsonComponent {
        bom_ref: component.bom_ref.clone(),
        name: component.name.clone(),
        version: component.version.clone(),
        purl: component.purl.clone(),
        status: status.as_str(),
        flags,
        message,
        did_you_mean,
        nearest_release: outcome.flags.iter().find_map(|f| f.nearest_release.clone()),
        features: scanned
            .as_ref()
            .map(|s| s.graph.packages[s.package].features.clone()),
        all_features_assumed: scanned.as_ref().is_some_and(|s| s.all_assumed),
        missing_dependencies: scanned
            .as_ref()
            .map(|s| {
                s.missing
                    .iter()
                    .map(json::JsonMissingDependency::from)
                    .collect()
            })
            .unwrap_or_default(),
        violations,
        grant,
        advisories,
    }
}
