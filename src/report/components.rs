//! The row an agent reads for each component of a vetted BoM: its status
//! and flags, and what to do about it as fields (the grant, the evidence,
//! the advisories' fixes) as well as a sentence.

use super::json;
use crate::evaluate::component::{ComponentOutcome, combined_grant};
use crate::evaluate::vet::{Flag, Status};
use crate::evaluate::{Evaluation, Violation};
use crate::model::BuildGraph;
use crate::resolve::bom::{ComponentKind, CrateSource, RequestedComponent, RequestedCrate};
use crate::resolve::crates::MissingDependency;

/// The crate a component was scanned as, and how its policy came out.
pub struct Scanned<'a> {
    pub graph: &'a BuildGraph,
    pub evaluation: &'a Evaluation,
    /// Index of its crate in `graph`.
    pub package: usize,
    /// The BoM records no features for it, so every feature was on.
    pub all_assumed: bool,
    /// What it needs that the BoM does not give it.
    pub missing: &'a [MissingDependency],
}

pub fn component_row<'a>(
    component: &RequestedComponent,
    outcome: &ComponentOutcome,
    status: Status,
    scanned: Option<Scanned<'a>>,
) -> json::JsonComponent<'a> {
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
