//! SARIF 2.1.0 for code scanning, and GitHub workflow annotations.
//!
//! Code scanning shows only files of the repository, so each violation is
//! located where the repository brings the package in: a workspace member's
//! own Cargo.toml (its `name =` line), or the package's entry in Cargo.lock.
//! The evidence is in the message, and as related locations where it lies
//! inside the repository. Fingerprints hash the package name, scope and
//! capability, so a result keeps its identity across runs and versions.
//!
//! The log is built from typed structs (`model`) rather than JSON literals,
//! so a misspelt property or a wrongly nested object does not compile;
//! `locate` finds the entry points. Annotations are plain lines of text
//! and need no model.

use std::path::Path;

use super::text::plain;
use serde_json::Value;
use sha2::{Digest, Sha256};

use self::locate::{EntryPoint, Locator};
use self::model::{
    ArtifactLocation, Level, Location, Message, MultiformatMessageString, PartialFingerprints,
    PhysicalLocation, Region, ReportingConfiguration, ReportingDescriptor, Run, SarifLog,
    SarifResult, Tool, ToolComponent,
};
use crate::evaluate::{AdvisoryViolation, Violation};
use crate::model::{BuildGraph, Capability, Package};

mod locate;
mod model;

/// Most related locations one result carries (GitHub accepts up to 1,000;
/// more than a few helps nobody).
const MAX_RELATED: usize = 10;

/// The rule of advisory results, beside one rule per capability.
const ADVISORY_RULE: &str = "advisory";

fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    crate::digest::hex(&hasher.finalize())
}

/// The message of a capability violation, with its first evidence.
pub fn violation_message(package: &Package, v: &Violation) -> String {
    let mut message = crate::evaluate::violation_headline(package, v);
    // A message stands alone here, so it starts with a capital.
    if let Some(rest) = message.strip_prefix("the build script") {
        message = format!("The build script{rest}");
    }
    if let Some(first) = v.findings.first() {
        message.push_str(&format!(": {} at {}", first.evidence, first.location));
        if !first.via.is_empty() {
            message.push_str(&format!(" (via {})", first.via.join(" -> ")));
        }
        if first.resolution == Some(crate::model::Resolution::ByName) {
            message.push_str(super::BY_NAME_MARK);
        }
        if v.findings.len() > 1 {
            message.push_str(&format!(" and {} more place(s)", v.findings.len() - 1));
        }
    }
    if let Some(reason) = &v.reason {
        message.push_str(&format!(" (policy reason: {reason})"));
    }
    message
}

/// A SARIF log of violations (all of `check`'s, or `diff`'s new ones), as
/// the JSON to print.
pub fn sarif(
    graph: &BuildGraph,
    repo_root: Option<&Path>,
    violations: &[&Violation],
    advisories: &[&AdvisoryViolation],
) -> Value {
    let locator = Locator::new(graph, repo_root);
    let mut results = Vec::new();
    for v in violations {
        let package = &graph.packages[v.package];
        let related_locations = v
            .findings
            .iter()
            .filter_map(|f| locator.finding_uri(package, f).map(|u| (u, f)))
            .take(MAX_RELATED)
            .enumerate()
            .map(|(i, ((uri, line), f))| Location {
                id: Some(i),
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation { uri },
                    region: Region {
                        start_line: line as usize,
                        start_column: Some(f.location.column.unwrap_or(1)),
                    },
                },
                message: Some(Message {
                    text: super::evidence_label(f),
                }),
            })
            .collect();
        results.push(SarifResult {
            rule_id: v.capability.name(),
            level: Level::Error,
            message: Message {
                text: violation_message(package, v),
            },
            locations: vec![entry_location(locator.entry_point(package))],
            partial_fingerprints: PartialFingerprints {
                capgate_v1: fingerprint(&[&package.name, v.scope.as_str(), v.capability.name()]),
            },
            related_locations,
        });
    }
    for v in advisories {
        let package = &graph.packages[v.package];
        results.push(SarifResult {
            rule_id: ADVISORY_RULE,
            level: Level::Error,
            message: Message {
                text: crate::evaluate::advisory_headline(package, v),
            },
            locations: vec![entry_location(locator.entry_point(package))],
            partial_fingerprints: PartialFingerprints {
                capgate_v1: fingerprint(&[&package.name, &v.advisory.id]),
            },
            related_locations: Vec::new(),
        });
    }

    SarifLog {
        schema: SarifLog::SCHEMA,
        version: SarifLog::VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: "cargo-capgate",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://docs.rs/cargo-capgate",
                    rules: rules(),
                },
            },
            results,
        }],
    }
    .to_value()
}

/// Every rule a result may name, whether or not this run has a result for
/// it: code scanning keeps showing a rule's help for alerts of earlier runs.
fn rules() -> Vec<ReportingDescriptor> {
    let mut rules: Vec<_> = Capability::ALL
        .iter()
        .map(|c| ReportingDescriptor {
            id: c.name(),
            name: c.name(),
            short_description: MultiformatMessageString::new(format!("uses `{}`", c.name())),
            full_description: MultiformatMessageString::new(c.meaning()),
            help: MultiformatMessageString::new(format!(
                "{}\n\nA package may use `{}` only when the policy (capgate.toml) grants it. If this use is intended, grant it with `cargo capgate allow PACKAGE {}` (or `--build-script` for a build script), ideally with a `reason`; otherwise remove or replace the dependency.",
                c.meaning(),
                c.name(),
                c.name()
            )),
            default_configuration: ReportingConfiguration {
                level: Level::Error,
            },
        })
        .collect();
    rules.push(ReportingDescriptor {
        id: ADVISORY_RULE,
        name: ADVISORY_RULE,
        short_description: MultiformatMessageString::new("affected by a RustSec advisory"),
        full_description: MultiformatMessageString::new("The package's version is affected by a vulnerability, unsound-code or unmaintained advisory of the RustSec database."),
        help: MultiformatMessageString::new("Upgrade to a patched version, replace the package, or accept the advisory with `[advisories] ignore = [\"RUSTSEC-…\"]` in capgate.toml, with a reason."),
        default_configuration: ReportingConfiguration {
            level: Level::Error,
        },
    });
    rules
}

/// Where a result is shown: the line that brings its package in.
fn entry_location(entry: EntryPoint) -> Location {
    Location {
        id: None,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation { uri: entry.uri },
            region: Region {
                start_line: entry.line,
                start_column: None,
            },
        },
        message: None,
    }
}

/// GitHub workflow-command annotations, one line per violation.
pub fn github_annotations(
    graph: &BuildGraph,
    violations: &[&Violation],
    advisories: &[&AdvisoryViolation],
) -> String {
    let locator = Locator::new(graph, None);
    let mut out = String::new();
    let mut line = |entry: EntryPoint, title: String, message: String| {
        out.push_str(&format!(
            "::error file={},line={},title={}::{}\n",
            escape_property(&entry.uri),
            entry.line,
            escape_property(&plain(&title)),
            escape_data(&plain(&message))
        ));
    };
    for v in violations {
        let package = &graph.packages[v.package];
        line(
            locator.entry_point(package),
            format!("capgate: {} not granted", v.capability),
            violation_message(package, v),
        );
    }
    for v in advisories {
        let package = &graph.packages[v.package];
        line(
            locator.entry_point(package),
            format!("capgate: {}", v.advisory.id),
            crate::evaluate::advisory_headline(package, v),
        );
    }
    out
}

/// Escaping of workflow-command data, as the runner defines it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_escaping() {
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(escape_data("x\ny"), "x%0Ay");
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        assert_eq!(
            fingerprint(&["a", "code", "fs"]),
            fingerprint(&["a", "code", "fs"])
        );
        assert_ne!(
            fingerprint(&["a", "code", "fs"]),
            fingerprint(&["a", "codefs"])
        );
    }
}
