//! The human report: the capability table ([`table`]), the advisories and,
//! with `-v`, the evidence behind every capability.

use std::io::Write;

use comfy_table::Color;

mod diff;
mod table;

pub use diff::{write_components, write_diff};

use super::text::plain;
use super::{PackageResult, ScanResults};
use crate::model::{Capability, CapabilityReport};

/// How much to show, and how wide.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub verbose: bool,
    /// The columns the table may take; `None` spells everything out
    /// whatever the width (`--wide`).
    pub width: Option<u16>,
}

/// The width of a report that does not go to a terminal.
pub const DEFAULT_WIDTH: u16 = 100;

pub fn write_scan(
    out: &mut dyn Write,
    results: &ScanResults<'_>,
    options: HumanOptions,
) -> std::io::Result<()> {
    writeln!(out, "{}", table::render(results, options))?;
    writeln!(out, "{}", table::legend(options.width.is_none()))?;
    writeln!(out, "{}", summary(results))?;
    write_advisories(out, results)?;

    if options.verbose {
        for result in &results.packages {
            write_evidence(out, result, options)?;
        }
        let by_name = results.packages.iter().any(|r| {
            r.scan
                .code
                .findings
                .iter()
                .chain(&r.scan.build_script.findings)
                .any(|f| f.resolution == Some(crate::model::Resolution::ByName))
        });
        if by_name {
            writeln!(
                out,
                "\n`{}`: {}",
                super::BY_NAME_MARK.trim(),
                super::BY_NAME_NOTE
            )?;
        }
    }
    Ok(())
}

/// Every advisory affecting a package of the graph, one line each.
fn write_advisories(out: &mut dyn Write, results: &ScanResults<'_>) -> std::io::Result<()> {
    let mut any = false;
    for result in &results.packages {
        for a in result.advisories.unwrap_or_default() {
            if !any {
                writeln!(out, "\nadvisories:")?;
                any = true;
            }
            let aliases = if a.aliases.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.aliases.join(", "))
            };
            let patched = if a.patched.is_empty() {
                "no patched version".to_owned()
            } else {
                format!("patched: {}", a.patched.join("; "))
            };
            writeln!(
                out,
                "  {} {}  {}{aliases} [{}] {}; {patched}",
                result.package.name,
                result.package.version,
                a.id,
                a.kind.as_str(),
                a.title
            )?;
        }
    }
    Ok(())
}

fn summary(results: &ScanResults<'_>) -> String {
    let total = results.packages.len();
    let with_caps = results
        .packages
        .iter()
        .filter(|r| !r.scan.code.findings.is_empty() || !r.scan.build_script.findings.is_empty())
        .count();
    let unanalyzed = results
        .packages
        .iter()
        .filter(|r| {
            r.scan.code.capabilities().contains(&Capability::Unanalyzed)
                || r.scan
                    .build_script
                    .capabilities()
                    .contains(&Capability::Unanalyzed)
        })
        .count();
    let mut line = format!(
        "{total} packages for {}, {with_caps} with capabilities",
        results.graph.platform
    );
    if unanalyzed > 0 {
        line.push_str(&format!(
            ",\n{unanalyzed} with source that could not be analysed (run with -v for why)"
        ));
    }
    line
}

fn write_evidence(
    out: &mut dyn Write,
    result: &PackageResult<'_>,
    options: HumanOptions,
) -> std::io::Result<()> {
    let (code, build) = (&result.scan.code, &result.scan.build_script);
    if [code, build]
        .iter()
        .all(|r| r.findings.is_empty() && r.emitted.is_empty())
    {
        return Ok(());
    }
    let bold = anstyle::Style::new().bold();
    let (b, r) = if options.color {
        (bold.render().to_string(), bold.render_reset().to_string())
    } else {
        (String::new(), String::new())
    };
    writeln!(
        out,
        "\n{b}{} {}{r} ({}, {})",
        result.package.name,
        result.package.version,
        result.package.source.as_str(),
        plain(&result.package.root.display().to_string())
    )?;
    write_findings(out, code, "  ", options)?;
    if !build.findings.is_empty() || !build.emitted.is_empty() {
        writeln!(out, "  build script:")?;
        write_findings(out, build, "    ", options)?;
    }
    Ok(())
}

/// A report's findings, then those of the code it only emits, apart: they
/// are not its capabilities.
fn write_findings(
    out: &mut dyn Write,
    report: &CapabilityReport,
    indent: &str,
    options: HumanOptions,
) -> std::io::Result<()> {
    write_finding_lines(out, &report.findings, indent, options)?;
    if !report.emitted.is_empty() {
        writeln!(out, "{indent}emits (in code it generates, not its own):")?;
        write_finding_lines(out, &report.emitted, &format!("{indent}  "), options)?;
    }
    Ok(())
}

fn write_finding_lines(
    out: &mut dyn Write,
    findings: &[crate::model::Finding],
    indent: &str,
    options: HumanOptions,
) -> std::io::Result<()> {
    for finding in findings {
        let cap = finding.capability.name();
        let cap = if options.color {
            let style = anstyle::Style::new().fg_color(Some(ansi_color(table::color_of(
                finding.capability.family(),
            ))));
            format!("{}{cap:<13}{}", style.render(), style.render_reset())
        } else {
            format!("{cap:<13}")
        };
        let by_name = if finding.resolution == Some(crate::model::Resolution::ByName) {
            super::BY_NAME_MARK
        } else {
            ""
        };
        writeln!(
            out,
            "{indent}{cap} {}  {}  [{}]{by_name}",
            plain(&finding.location.to_string()),
            plain(&finding.evidence),
            finding.rule
        )?;
        if !finding.via.is_empty() {
            writeln!(
                out,
                "{indent}{:13} via {}",
                "",
                plain(&finding.via.join(" -> "))
            )?;
        }
    }
    Ok(())
}

fn ansi_color(color: Color) -> anstyle::Color {
    let ansi = match color {
        Color::Red => anstyle::AnsiColor::Red,
        Color::Yellow => anstyle::AnsiColor::Yellow,
        Color::Magenta => anstyle::AnsiColor::Magenta,
        _ => anstyle::AnsiColor::Blue,
    };
    anstyle::Color::Ansi(ansi)
}
