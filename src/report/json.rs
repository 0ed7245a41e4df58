//! The JSON outputs, schema version 1 (DESIGN.md; one JSON Schema per
//! output under `schemas/`: `scan-v1`, `check-v1`, `vet-bom-v1`, `diff-v1`
//! and `error-v1`, sharing `defs-v1`).
//!
//! The wire structs here are separate from the internal types and built
//! from them, so an internal refactor cannot change the schema by accident.

use serde::Serialize;

use super::ScanResults;
use crate::model::{CapabilityReport, Finding};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Report<'a> {
    pub schema_version: u32,
    pub tool: Tool,
    pub packages: Vec<Package<'a>>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct Package<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub purl: String,
    pub source: &'static str,
    pub kind: &'static str,
    pub capabilities: Vec<&'static str>,
    pub findings: Vec<JsonFinding<'a>>,
    /// What the code the package only emits (`quote!` tokens) does; not
    /// its capabilities. Absent when it emits none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emits: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emitted: Vec<JsonFinding<'a>>,
    pub build_script: Findings<'a>,
    /// Present when advisories were checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisories: Option<Vec<JsonAdvisory>>,
}

#[derive(Serialize)]
pub struct JsonAdvisory {
    pub id: String,
    pub aliases: Vec<String>,
    pub title: String,
    pub kind: &'static str,
    pub patched: Vec<String>,
    pub url: Option<String>,
}

impl From<&crate::advisories::AdvisoryMatch> for JsonAdvisory {
    fn from(m: &crate::advisories::AdvisoryMatch) -> Self {
        JsonAdvisory {
            id: m.id.clone(),
            aliases: m.aliases.clone(),
            title: m.title.clone(),
            kind: m.kind.as_str(),
            patched: m.patched.clone(),
            url: m.url.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct Findings<'a> {
    pub capabilities: Vec<&'static str>,
    pub findings: Vec<JsonFinding<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emits: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emitted: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub capability: &'static str,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub evidence: &'a str,
    pub rule: &'a str,
    pub via: &'a [String],
    /// `path`, `type` or `by-name`; absent on structural findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<&'static str>,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            capability: f.capability.name(),
            file: f.location.file.as_deref(),
            line: f.location.line,
            column: f.location.column,
            evidence: &f.evidence,
            rule: &f.rule,
            via: &f.via,
            resolution: f.resolution.map(|r| r.name()),
        }
    }
}

impl<'a> From<&'a CapabilityReport> for Findings<'a> {
    fn from(report: &'a CapabilityReport) -> Self {
        Findings {
            capabilities: capability_names(report),
            findings: report.findings.iter().map(JsonFinding::from).collect(),
            emits: emitted_names(report),
            emitted: report.emitted.iter().map(JsonFinding::from).collect(),
        }
    }
}

fn capability_names(report: &CapabilityReport) -> Vec<&'static str> {
    report
        .capabilities()
        .into_iter()
        .map(|c| c.name())
        .collect()
}

fn emitted_names(report: &CapabilityReport) -> Vec<&'static str> {
    report.emits().into_iter().map(|c| c.name()).collect()
}

/// Builds the wire form of a scan.
pub fn report<'a>(results: &ScanResults<'a>) -> Report<'a> {
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        packages: results
            .packages
            .iter()
            .map(|r| Package {
                name: &r.package.name,
                version: &r.package.version,
                purl: super::package_purl(r.package, &results.graph.workspace_root),
                source: r.package.source.as_str(),
                kind: r.package.kind.as_str(),
                capabilities: capability_names(&r.scan.code),
                findings: r.scan.code.findings.iter().map(JsonFinding::from).collect(),
                emits: emitted_names(&r.scan.code),
                emitted: r.scan.code.emitted.iter().map(JsonFinding::from).collect(),
                build_script: Findings::from(&r.scan.build_script),
                advisories: r
                    .advisories
                    .map(|list| list.iter().map(JsonAdvisory::from).collect()),
            })
            .collect(),
    }
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write(out: &mut dyn std::io::Write, value: &impl Serialize) -> std::io::Result<()> {
    use std::io::Write as _;
    // Buffered, because stdout is line-buffered and a report has many
    // lines; streamed, because a large BoM's report is hundreds of
    // megabytes that need not be in memory at once.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// `check`'s report: the scan report plus violations and a verdict.
#[derive(Serialize)]
pub struct CheckReport<'a> {
    #[serde(flatten)]
    pub report: Report<'a>,
    pub violations: Vec<JsonViolation<'a>>,
    pub advisory_violations: Vec<JsonAdvisoryViolation>,
    pub verdict: &'static str,
}

/// An advisory a package is affected by, with what fixes it.
#[derive(Serialize)]
pub struct JsonAdvisoryViolation {
    pub package: String,
    pub version: String,
    pub id: String,
    pub kind: &'static str,
    pub title: String,
    pub url: Option<String>,
    /// The advisory's patched version requirements (`>=1.2.3`); empty when
    /// no release fixes it.
    pub fixed_in: Vec<String>,
}

impl JsonAdvisoryViolation {
    pub fn new(
        package: &crate::model::Package,
        advisory: &crate::advisories::AdvisoryMatch,
    ) -> Self {
        JsonAdvisoryViolation {
            package: package.name.clone(),
            version: package.version.clone(),
            id: advisory.id.clone(),
            kind: advisory.kind.as_str(),
            title: advisory.title.clone(),
            url: advisory.url.clone(),
            fixed_in: advisory.patched.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct JsonViolation<'a> {
    pub package: String,
    pub version: String,
    pub capability: &'static str,
    pub scope: &'static str,
    pub findings: Vec<JsonFinding<'a>>,
    pub grant: JsonProposedGrant,
}

impl<'a> JsonViolation<'a> {
    pub fn new(package: &crate::model::Package, v: &'a crate::evaluate::Violation) -> Self {
        JsonViolation {
            package: package.name.clone(),
            version: package.version.clone(),
            capability: v.capability.name(),
            scope: v.scope.as_str(),
            findings: v.findings.iter().map(JsonFinding::from).collect(),
            grant: JsonProposedGrant::from(&v.grant),
        }
    }
}

/// The policy lines that would allow a violation: in the table `table`
/// (`pkg.NAME`), each `lines[].key` (`allow`, `build-script.allow`) gains
/// `lines[].add`; `toml` is that entry as `cargo capgate allow` writes it
/// into a policy that has no such table yet.
#[derive(Serialize)]
pub struct JsonProposedGrant {
    pub table: String,
    pub lines: Vec<JsonGrantLine>,
    pub toml: String,
}

#[derive(Serialize)]
pub struct JsonGrantLine {
    pub key: &'static str,
    pub add: Vec<String>,
}

impl From<&crate::policy::ProposedGrant> for JsonProposedGrant {
    fn from(g: &crate::policy::ProposedGrant) -> Self {
        JsonProposedGrant {
            table: g.table(),
            lines: g
                .lines()
                .into_iter()
                .map(|(key, caps)| JsonGrantLine {
                    key,
                    add: names(caps),
                })
                .collect(),
            toml: g.toml(),
        }
    }
}

pub fn check_report<'a>(
    results: &ScanResults<'a>,
    evaluation: &'a crate::evaluate::Evaluation,
) -> CheckReport<'a> {
    CheckReport {
        report: report(results),
        violations: evaluation
            .violations
            .iter()
            .map(|v| JsonViolation::new(&results.graph.packages[v.package], v))
            .collect(),
        advisory_violations: evaluation
            .advisory_violations
            .iter()
            .map(|v| JsonAdvisoryViolation::new(&results.graph.packages[v.package], &v.advisory))
            .collect(),
        verdict: if evaluation.passed() { "pass" } else { "fail" },
    }
}

/// `vet-bom`'s report: `check`'s, with a status per BoM component. Its
/// verdict may also be `error`: some component could not be vetted.
#[derive(Serialize)]
pub struct VetReport<'a> {
    #[serde(flatten)]
    pub report: CheckReport<'a>,
    pub components: Vec<JsonComponent<'a>>,
}

/// One component of the vetted BoM.
#[derive(Serialize)]
pub struct JsonComponent<'a> {
    pub bom_ref: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    /// The most severe of `flags`, or `ok`.
    pub status: &'static str,
    pub flags: Vec<&'static str>,
    /// What to do about it, as a sentence.
    pub message: String,
    /// Crates the component was probably meant to be (a `not-found` or
    /// `typosquat-suspect` name close to a popular crate), sorted.
    pub did_you_mean: Vec<String>,
    /// The release to use instead of a yanked or missing version.
    pub nearest_release: Option<String>,
    /// The features its crate was scanned with; null when it was not.
    pub features: Option<Vec<String>>,
    /// The BoM records no features for it (no `capgate:features`), so it
    /// was scanned with every feature on: what could be built.
    pub all_features_assumed: bool,
    /// What its crate does beyond the policy, each with its evidence and
    /// the grant that would allow it (`unanalyzed` ones included, whose
    /// findings' evidence says what could not be read).
    pub violations: Vec<JsonViolation<'a>>,
    /// One grant allowing all of `violations` at once; null when there are
    /// none.
    pub grant: Option<JsonProposedGrant>,
    /// Advisories affecting its crate that the policy does not ignore.
    pub advisories: Vec<JsonAdvisoryViolation>,
    /// Dependencies its crate needs (for its features and the platform)
    /// that the BoM does not give it.
    pub missing_dependencies: Vec<JsonMissingDependency>,
}

#[derive(Serialize)]
pub struct JsonMissingDependency {
    pub name: String,
    pub req: String,
    /// `normal` or `build`.
    pub kind: &'static str,
    /// `not-in-bom`: no component has that name and a matching version;
    /// `not-listed`: one does, but the BoM's `dependencies` entry for the
    /// crate does not list it.
    pub reason: &'static str,
}

impl From<&crate::resolve::crates::MissingDependency> for JsonMissingDependency {
    fn from(m: &crate::resolve::crates::MissingDependency) -> Self {
        use crate::resolve::crates::UnmetKind;
        JsonMissingDependency {
            name: m.name.clone(),
            req: m.req.clone(),
            kind: if m.build { "build" } else { "normal" },
            reason: match m.kind {
                UnmetKind::NotInBom => "not-in-bom",
                UnmetKind::NotListed => "not-listed",
            },
        }
    }
}

/// `diff`'s report.
#[derive(Serialize)]
pub struct DiffReport<'a> {
    pub schema_version: u32,
    pub tool: Tool,
    pub base: Revision,
    pub head: Revision,
    pub added: Vec<JsonPackageSummary>,
    pub removed: Vec<JsonPackageSummary>,
    pub upgraded: Vec<JsonUpgrade>,
    pub changes: Vec<JsonChange<'a>>,
    pub policy: JsonPolicyChanges,
    pub new_advisories: Vec<JsonAdvisoryViolation>,
    pub new_violations: Vec<JsonNewViolation>,
    pub new_advisory_violations: Vec<JsonAdvisoryViolation>,
    pub verdict: &'static str,
}

#[derive(Serialize)]
pub struct Revision {
    pub rev: String,
    pub commit: Option<String>,
}

#[derive(Serialize)]
pub struct JsonPackageSummary {
    pub name: String,
    pub version: String,
    pub capabilities: Vec<String>,
}

#[derive(Serialize)]
pub struct JsonUpgrade {
    pub name: String,
    pub from: String,
    pub to: String,
}

#[derive(Serialize)]
pub struct JsonChange<'a> {
    pub package: String,
    pub version: String,
    pub scope: &'static str,
    pub gained: Vec<String>,
    pub lost: Vec<String>,
    pub findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
pub struct JsonPolicyChanges {
    /// Whether head's policy lets through anything base's did not (a
    /// change that edits the policy judging it).
    pub widened: bool,
    pub grants_added: Vec<JsonGrant>,
    pub grants_removed: Vec<JsonGrant>,
    /// Advisory ids head's policy ignores and base's did not, and back.
    pub ignores_added: Vec<String>,
    pub ignores_removed: Vec<String>,
    /// Components head's policy lets vet-bom pass unvetted, and back.
    pub accepts_added: Vec<String>,
    pub accepts_removed: Vec<String>,
}

#[derive(Serialize)]
pub struct JsonGrant {
    pub package: String,
    pub scope: &'static str,
    pub capability: String,
}

#[derive(Serialize)]
pub struct JsonNewViolation {
    pub package: String,
    pub version: String,
    pub capability: String,
    pub scope: &'static str,
    /// What head's policy would need to allow it.
    pub grant: JsonProposedGrant,
}

fn names(caps: &[crate::model::Capability]) -> Vec<String> {
    caps.iter().map(|c| c.name().to_owned()).collect()
}

pub fn diff_report(
    diff: &crate::evaluate::diff::GraphDiff,
    base: Revision,
    head: Revision,
) -> DiffReport<'_> {
    let summary = |p: &crate::evaluate::diff::PackageSummary| JsonPackageSummary {
        name: p.name.clone(),
        version: p.version.clone(),
        capabilities: names(&p.capabilities),
    };
    let grant = |g: &crate::evaluate::diff::GrantChange| JsonGrant {
        package: g.package.clone(),
        scope: g.scope.as_str(),
        capability: g.capability.name().to_owned(),
    };
    let advisory = |a: &crate::evaluate::diff::NewAdvisory| JsonAdvisoryViolation {
        package: a.package.clone(),
        version: a.version.clone(),
        id: a.id.clone(),
        kind: a.kind.as_str(),
        title: a.title.clone(),
        url: a.url.clone(),
        fixed_in: a.patched.clone(),
    };
    DiffReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        base,
        head,
        added: diff.added.iter().map(summary).collect(),
        removed: diff.removed.iter().map(summary).collect(),
        upgraded: diff
            .upgraded
            .iter()
            .map(|u| JsonUpgrade {
                name: u.name.clone(),
                from: u.from.clone(),
                to: u.to.clone(),
            })
            .collect(),
        changes: diff
            .changes
            .iter()
            .map(|c| JsonChange {
                package: c.package.clone(),
                version: c.version.clone(),
                scope: c.scope.as_str(),
                gained: names(&c.gained),
                lost: names(&c.lost),
                findings: c.findings.iter().map(JsonFinding::from).collect(),
            })
            .collect(),
        policy: JsonPolicyChanges {
            widened: diff.policy.widens(),
            grants_added: diff.policy.grants_added.iter().map(grant).collect(),
            grants_removed: diff.policy.grants_removed.iter().map(grant).collect(),
            ignores_added: diff.policy.ignores_added.clone(),
            ignores_removed: diff.policy.ignores_removed.clone(),
            accepts_added: diff.policy.accepts_added.clone(),
            accepts_removed: diff.policy.accepts_removed.clone(),
        },
        new_advisories: diff.new_advisories.iter().map(advisory).collect(),
        new_violations: diff
            .new_violations
            .iter()
            .map(|v| JsonNewViolation {
                package: v.package.clone(),
                version: v.version.clone(),
                capability: v.capability.name().to_owned(),
                scope: v.scope.as_str(),
                grant: JsonProposedGrant::from(&v.grant),
            })
            .collect(),
        new_advisory_violations: diff.new_advisory_violations.iter().map(advisory).collect(),
        verdict: if diff.passed() { "pass" } else { "fail" },
    }
}
