//! The JSON report, schema version 1 (DESIGN.md; the JSON Schema is
//! `schemas/report-v1.schema.json`).
//!
//! The wire structs here are separate from the internal types and built
//! from them, so an internal refactor cannot change the schema by accident.

use serde::Serialize;

use super::ScanResults;
use crate::capability::{CapabilityReport, Finding};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub packages: Vec<Package>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub purl: String,
    pub source: &'static str,
    pub kind: &'static str,
    pub capabilities: Vec<String>,
    pub findings: Vec<JsonFinding>,
    pub build_script: Findings,
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
pub struct Findings {
    pub capabilities: Vec<String>,
    pub findings: Vec<JsonFinding>,
}

#[derive(Serialize)]
pub struct JsonFinding {
    pub capability: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub evidence: String,
    pub rule: String,
    pub via: Vec<String>,
}

impl From<&Finding> for JsonFinding {
    fn from(f: &Finding) -> Self {
        JsonFinding {
            capability: f.capability.name().to_owned(),
            file: f.location.file.clone(),
            line: f.location.line,
            column: f.location.column,
            evidence: f.evidence.clone(),
            rule: f.rule.clone(),
            via: f.via.clone(),
        }
    }
}

impl From<&CapabilityReport> for Findings {
    fn from(report: &CapabilityReport) -> Self {
        Findings {
            capabilities: capability_names(report),
            findings: report.findings.iter().map(JsonFinding::from).collect(),
        }
    }
}

fn capability_names(report: &CapabilityReport) -> Vec<String> {
    report
        .capabilities()
        .into_iter()
        .map(|c| c.name().to_owned())
        .collect()
}

/// Builds the wire form of a scan.
pub fn report(results: &ScanResults<'_>) -> Report {
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
                name: r.package.name.clone(),
                version: r.package.version.clone(),
                purl: super::purl(&r.package.name, &r.package.version),
                source: r.package.source.as_str(),
                kind: r.package.kind.as_str(),
                capabilities: capability_names(&r.scan.code),
                findings: r.scan.code.findings.iter().map(JsonFinding::from).collect(),
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
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// `check`'s report: the scan report plus violations and a verdict.
#[derive(Serialize)]
pub struct CheckReport {
    #[serde(flatten)]
    pub report: Report,
    pub violations: Vec<JsonViolation>,
    pub advisory_violations: Vec<JsonAdvisoryViolation>,
    pub verdict: &'static str,
}

#[derive(Serialize)]
pub struct JsonAdvisoryViolation {
    pub package: String,
    pub version: String,
    pub id: String,
    pub kind: &'static str,
}

#[derive(Serialize)]
pub struct JsonViolation {
    pub package: String,
    pub version: String,
    pub capability: String,
    pub scope: &'static str,
    pub findings: Vec<JsonFinding>,
}

pub fn check_report(
    results: &ScanResults<'_>,
    evaluation: &crate::evaluate::Evaluation,
) -> CheckReport {
    CheckReport {
        report: report(results),
        violations: evaluation
            .violations
            .iter()
            .map(|v| {
                let package = &results.graph.packages[v.package];
                JsonViolation {
                    package: package.name.clone(),
                    version: package.version.clone(),
                    capability: v.capability.name().to_owned(),
                    scope: v.scope.as_str(),
                    findings: v.findings.iter().map(JsonFinding::from).collect(),
                }
            })
            .collect(),
        advisory_violations: evaluation
            .advisory_violations
            .iter()
            .map(|v| {
                let package = &results.graph.packages[v.package];
                JsonAdvisoryViolation {
                    package: package.name.clone(),
                    version: package.version.clone(),
                    id: v.advisory.id.clone(),
                    kind: v.advisory.kind.as_str(),
                }
            })
            .collect(),
        verdict: if evaluation.passed() { "pass" } else { "fail" },
    }
}
