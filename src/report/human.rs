//! The human report: one row per package and one column per capability, so
//! what each crate can do reads at a glance; `-v` adds the evidence.

use std::io::Write;

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};

use super::{PackageResult, ScanResults};
use crate::model::{Capability, CapabilityReport};

/// How much to show.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub verbose: bool,
}

/// The capability families, one column each, with the marks a cell shows
/// for each sub-capability.
const COLUMNS: &[(Capability, &[(Capability, &str)])] = &[
    (
        Capability::Fs,
        &[(Capability::FsRead, "r"), (Capability::FsWrite, "w")],
    ),
    (
        Capability::Net,
        &[(Capability::NetConnect, "c"), (Capability::NetListen, "l")],
    ),
    (Capability::Process, &[(Capability::ProcessSpawn, "x")]),
    (
        Capability::Env,
        &[(Capability::EnvRead, "r"), (Capability::EnvWrite, "w")],
    ),
    (Capability::Unsafe, &[(Capability::Unsafe, "x")]),
    (Capability::Ffi, &[(Capability::Ffi, "x")]),
    (Capability::Build, &[(Capability::Build, "x")]),
    (Capability::ProcMacro, &[(Capability::ProcMacro, "x")]),
    (Capability::Unanalyzed, &[(Capability::Unanalyzed, "!")]),
];

fn color_of(family: Capability) -> Color {
    match family {
        Capability::Net | Capability::Process | Capability::Unanalyzed => Color::Red,
        Capability::Fs | Capability::Env => Color::Yellow,
        Capability::Unsafe | Capability::Ffi => Color::Magenta,
        _ => Color::Blue,
    }
}

pub fn write_scan(
    out: &mut dyn Write,
    results: &ScanResults<'_>,
    options: HumanOptions,
) -> std::io::Result<()> {
    let mut table = Table::new();
    table
        .load_style(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if options.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let mut header = vec![Cell::new("package"), Cell::new("version")];
    header.extend(
        COLUMNS
            .iter()
            .map(|(family, _)| Cell::new(family.name()).set_alignment(CellAlignment::Center)),
    );
    header.push(Cell::new("build script"));
    header.push(Cell::new("findings").set_alignment(CellAlignment::Right));
    table.set_header(header.into_iter().map(|c| c.add_attribute(Attribute::Bold)));

    for result in &results.packages {
        table.add_row(row(result));
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "marks: r read, w write, c connect, l listen, x present, ! unanalyzed"
    )?;
    writeln!(out, "{}", summary(results))?;
    write_advisories(out, results)?;

    if options.verbose {
        for result in &results.packages {
            write_evidence(out, result, options)?;
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

fn row(result: &PackageResult<'_>) -> Vec<Cell> {
    let caps = result.scan.code.capabilities();
    let mut cells = vec![
        Cell::new(&result.package.name),
        Cell::new(&result.package.version),
    ];
    for (family, marks) in COLUMNS {
        let text: String = marks
            .iter()
            .filter(|(sub, _)| caps.contains(sub))
            .map(|(_, mark)| *mark)
            .collect();
        let cell = Cell::new(&text).set_alignment(CellAlignment::Center);
        cells.push(if text.is_empty() {
            cell
        } else {
            cell.fg(color_of(*family))
        });
    }
    let build: Vec<&str> = result
        .scan
        .build_script
        .capabilities()
        .into_iter()
        .map(Capability::name)
        .collect();
    cells.push(Cell::new(build.join(" ")));
    let count = result.scan.code.findings.len() + result.scan.build_script.findings.len();
    cells.push(Cell::new(count).set_alignment(CellAlignment::Right));
    cells
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
            ", {unanalyzed} with source that could not be analysed (run with -v for why)"
        ));
    }
    line
}

fn write_evidence(
    out: &mut dyn Write,
    result: &PackageResult<'_>,
    options: HumanOptions,
) -> std::io::Result<()> {
    if result.scan.code.findings.is_empty() && result.scan.build_script.findings.is_empty() {
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
        result.package.root.display()
    )?;
    write_findings(out, &result.scan.code, "  ", options)?;
    if !result.scan.build_script.findings.is_empty() {
        writeln!(out, "  build script:")?;
        write_findings(out, &result.scan.build_script, "    ", options)?;
    }
    Ok(())
}

fn write_findings(
    out: &mut dyn Write,
    report: &CapabilityReport,
    indent: &str,
    options: HumanOptions,
) -> std::io::Result<()> {
    for finding in &report.findings {
        let cap = finding.capability.name();
        let cap = if options.color {
            let style = anstyle::Style::new()
                .fg_color(Some(ansi_color(color_of(finding.capability.family()))));
            format!("{}{cap:<13}{}", style.render(), style.render_reset())
        } else {
            format!("{cap:<13}")
        };
        writeln!(
            out,
            "{indent}{cap} {}  {}  [{}]",
            finding.location, finding.evidence, finding.rule
        )?;
        if !finding.via.is_empty() {
            writeln!(out, "{indent}{:13} via {}", "", finding.via.join(" -> "))?;
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

/// A diff for a terminal: what changed, then the verdict.
pub fn write_diff(
    out: &mut dyn Write,
    diff: &crate::evaluate::diff::GraphDiff,
    base: &str,
    head: &str,
) -> std::io::Result<()> {
    let names = |caps: &[Capability]| caps.iter().map(|c| c.name()).collect::<Vec<_>>().join(" ");
    writeln!(out, "{head} compared with {base}")?;
    for p in &diff.added {
        writeln!(
            out,
            "  added     {} {}  [{}]",
            p.name,
            p.version,
            names(&p.capabilities)
        )?;
    }
    for p in &diff.removed {
        writeln!(out, "  removed   {} {}", p.name, p.version)?;
    }
    for u in &diff.upgraded {
        writeln!(out, "  upgraded  {} {} -> {}", u.name, u.from, u.to)?;
    }
    for c in &diff.changes {
        let scope = match c.scope {
            crate::evaluate::Scope::Code => "",
            crate::evaluate::Scope::BuildScript => " (build script)",
        };
        if !c.gained.is_empty() {
            writeln!(
                out,
                "  gained    {} {}{scope}: {}",
                c.package,
                c.version,
                names(&c.gained)
            )?;
            for f in &c.findings {
                writeln!(
                    out,
                    "              {} {}  {}",
                    f.capability, f.location, f.evidence
                )?;
            }
        }
        if !c.lost.is_empty() {
            writeln!(
                out,
                "  lost      {} {}{scope}: {}",
                c.package,
                c.version,
                names(&c.lost)
            )?;
        }
    }
    for g in &diff.grants_added {
        writeln!(
            out,
            "  granted   {} {} {}",
            g.package,
            g.scope.as_str(),
            g.capability
        )?;
    }
    for g in &diff.grants_removed {
        writeln!(
            out,
            "  revoked   {} {} {}",
            g.package,
            g.scope.as_str(),
            g.capability
        )?;
    }
    for v in &diff.new_violations {
        writeln!(
            out,
            "  violation {} {} {} {}: not granted",
            v.package,
            v.version,
            v.scope.as_str(),
            v.capability
        )?;
    }
    for a in &diff.new_advisory_violations {
        writeln!(
            out,
            "  violation {} {}: {} ({})",
            a.package,
            a.version,
            a.id,
            a.kind.as_str()
        )?;
    }
    let plain = super::markdown::verdict_line(diff).replace("**", "");
    writeln!(out, "{plain}")
}

/// `vet-bom`'s components, one line each with what to do, then the verdict.
pub fn write_components(
    out: &mut dyn Write,
    components: &[super::json::JsonComponent],
    verdict: &str,
    color: bool,
) -> std::io::Result<()> {
    let paint = |text: &str, ansi: Option<anstyle::AnsiColor>| match (color, ansi) {
        (true, Some(ansi)) => {
            let style = anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(ansi)));
            format!("{}{text:<22}{}", style.render(), style.render_reset())
        }
        _ => format!("{text:<22}"),
    };
    for c in components {
        let ansi = match c.status {
            "ok" => Some(anstyle::AnsiColor::Green),
            "violation" | "too-new" | "typosquat-suspect" | "unvetted" => {
                Some(anstyle::AnsiColor::Yellow)
            }
            _ => Some(anstyle::AnsiColor::Red),
        };
        let name = match &c.version {
            Some(v) => format!("{}@{v}", c.name),
            None => c.name.clone(),
        };
        writeln!(out, "{} {name}", paint(c.status, ansi))?;
        if c.status != "ok" {
            writeln!(out, "{:22} {}", "", c.message)?;
        }
    }
    let ok = components.iter().filter(|c| c.status == "ok").count();
    let scanned = components.iter().filter(|c| c.features.is_some()).count();
    writeln!(
        out,
        "\n{ok} of {} components ok, {scanned} scanned; verdict: {verdict}\n",
        components.len()
    )
}
