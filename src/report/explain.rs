//! `explain` for people (each capability, whether it is granted, every
//! place behind it and the packages the reach went through) and for
//! programs (the same as JSON, `schemas/explain-v1.schema.json`).

use std::io::Write;

use serde::Serialize;

use super::json::{JsonFinding, JsonProposedGrant, SCHEMA_VERSION, Tool};
use super::text::plain;
use crate::evaluate::Scope;
use crate::evaluate::explain::{Explanation, via_packages};
use crate::model::BuildGraph;
use crate::model::Capability;

/// `explain --format json`.
#[derive(Serialize)]
pub struct ExplainReport<'a> {
    pub schema_version: u32,
    pub tool: Tool,
    /// What was asked: the package as written and the capability, if any.
    pub package: String,
    pub capability: Option<String>,
    /// One entry per version of the package in the build.
    pub packages: Vec<JsonExplained<'a>>,
}

#[derive(Serialize)]
pub struct JsonExplained<'a> {
    pub name: String,
    pub version: String,
    pub purl: String,
    pub source: &'static str,
    /// `NAME VERSION` from a workspace member to this package; null for a
    /// member itself.
    pub required_by: Option<Vec<String>>,
    pub capabilities: Vec<JsonCapabilityExplained<'a>>,
}

#[derive(Serialize)]
pub struct JsonCapabilityExplained<'a> {
    pub capability: String,
    pub scope: &'static str,
    pub granted: bool,
    /// The policy lines that would grant it, when the policy does not
    /// (as on `check`'s violations).
    pub grant: Option<JsonProposedGrant>,
    /// The command that adds `grant`.
    pub allow_command: Option<String>,
    pub findings: Vec<JsonExplainedFinding<'a>>,
}

#[derive(Serialize)]
pub struct JsonExplainedFinding<'a> {
    #[serde(flatten)]
    pub finding: JsonFinding<'a>,
    /// `NAME VERSION` of each package the reach went through, this package
    /// first; just this package for direct use.
    pub through: Vec<String>,
}

fn name_version(graph: &BuildGraph, index: usize) -> String {
    let p = &graph.packages[index];
    format!("{} {}", p.name, p.version)
}

pub fn explain_report<'a>(
    graph: &BuildGraph,
    spec: &str,
    asked: Option<Capability>,
    explanations: &'a [Explanation],
) -> ExplainReport<'a> {
    ExplainReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        package: spec.to_owned(),
        capability: asked.map(|c| c.name().to_owned()),
        packages: explanations
            .iter()
            .map(|e| {
                let package = &graph.packages[e.package];
                JsonExplained {
                    name: package.name.clone(),
                    version: package.version.clone(),
                    purl: super::package_purl(package, &graph.workspace_root),
                    source: package.source.as_str(),
                    required_by: e
                        .required_by
                        .as_ref()
                        .map(|chain| chain.iter().map(|&i| name_version(graph, i)).collect()),
                    capabilities: e
                        .capabilities
                        .iter()
                        .map(|c| JsonCapabilityExplained {
                            capability: c.capability.name().to_owned(),
                            scope: c.scope.as_str(),
                            granted: c.granted,
                            grant: c.grant.as_ref().map(JsonProposedGrant::from),
                            allow_command: c.grant.as_ref().map(|g| g.allow_command()),
                            findings: c
                                .findings
                                .iter()
                                .map(|f| JsonExplainedFinding {
                                    finding: JsonFinding::from(f),
                                    through: via_packages(graph, e.package, f)
                                        .into_iter()
                                        .map(|i| name_version(graph, i))
                                        .collect(),
                                })
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// Findings shown per capability when every capability is explained; one
/// asked-about capability shows them all.
const FINDINGS_PER_CAPABILITY: usize = 3;

/// The explanation for a terminal.
pub fn write_explanations(
    out: &mut dyn Write,
    graph: &BuildGraph,
    explanations: &[Explanation],
    color: bool,
) -> std::io::Result<()> {
    let style = |s: anstyle::Style, text: &str| {
        if color {
            format!("{}{text}{}", s.render(), s.render_reset())
        } else {
            text.to_owned()
        }
    };
    let bold = anstyle::Style::new().bold();
    let red = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Red.into()));
    let green = anstyle::Style::new().fg_color(Some(anstyle::AnsiColor::Green.into()));
    for (n, e) in explanations.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        let package = &graph.packages[e.package];
        writeln!(
            out,
            "{} ({})",
            style(bold, &format!("{} {}", package.name, package.version)),
            package.source.as_str()
        )?;
        match &e.required_by {
            None => writeln!(out, "  a member of the workspace")?,
            Some(chain) => {
                let names: Vec<String> = chain.iter().map(|&i| name_version(graph, i)).collect();
                writeln!(out, "  in the build through {}", names.join(" -> "))?;
            }
        }
        if e.capabilities.is_empty() {
            match e.asked {
                Some(cap) => writeln!(
                    out,
                    "  does not use `{cap}`: no finding in its code or build script"
                )?,
                None => writeln!(out, "  uses no capability")?,
            }
            continue;
        }
        let limit = if e.asked.is_some() {
            usize::MAX
        } else {
            FINDINGS_PER_CAPABILITY
        };
        for c in &e.capabilities {
            let whose = match c.scope {
                Scope::Code => "",
                Scope::BuildScript => " (build script)",
            };
            let verdict = if c.granted {
                style(green, "granted")
            } else {
                style(red, "not granted")
            };
            writeln!(
                out,
                "\n  {}{whose}: {verdict}, {} place{}",
                style(bold, c.capability.name()),
                c.findings.len(),
                if c.findings.len() == 1 { "" } else { "s" }
            )?;
            for f in c.findings.iter().take(limit) {
                // File names and evidence come from the scanned tree.
                writeln!(
                    out,
                    "    {}  {}",
                    plain(&f.location.to_string()),
                    plain(&super::evidence_label(f))
                )?;
                let through = via_packages(graph, e.package, f);
                if through.len() > 1 {
                    let names: Vec<String> =
                        through.iter().map(|&i| name_version(graph, i)).collect();
                    writeln!(out, "      through {}", names.join(" -> "))?;
                }
            }
            if c.findings.len() > limit {
                writeln!(
                    out,
                    "    and {} more (cargo capgate explain {} {})",
                    c.findings.len() - limit,
                    package.name,
                    c.capability
                )?;
            }
            if let Some(grant) = &c.grant {
                writeln!(
                    out,
                    "    help: if this is intended: {}",
                    grant.allow_command()
                )?;
            }
        }
    }
    Ok(())
}
