//! A diff and `vet-bom`'s components for a terminal: one line a change or
//! component, then the verdict.

use std::io::Write;

use super::plain;
use crate::evaluate::diff::PolicyItem;
use crate::model::Capability;

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
                let by_name = if f.resolution == Some(crate::model::Resolution::ByName) {
                    super::super::BY_NAME_MARK
                } else {
                    ""
                };
                writeln!(
                    out,
                    "              {} {}  {}{by_name}",
                    f.capability,
                    plain(&f.location.to_string()),
                    plain(&f.evidence)
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
    let verbs = [
        ("granted  ", "ignored   advisory", "accepted  unvetted"),
        ("revoked  ", "unignored advisory", "unaccepted unvetted"),
    ];
    let changes = [
        diff.policy.added().collect::<Vec<_>>(),
        diff.policy.removed().collect(),
    ];
    for ((grant, ignore, accept), items) in verbs.into_iter().zip(changes) {
        for item in items {
            match item {
                PolicyItem::Grant(g) => writeln!(
                    out,
                    "  {grant} {} {} {}",
                    plain(&g.package),
                    g.scope.as_str(),
                    g.capability
                )?,
                PolicyItem::Ignore(id) => writeln!(out, "  {ignore} {}", plain(id))?,
                PolicyItem::Accept(c) => writeln!(out, "  {accept} {}", plain(c))?,
            }
        }
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
    let verdict = crate::report::markdown::verdict_line(diff).replace("**", "");
    writeln!(out, "{verdict}")
}

/// `vet-bom`'s components, one line each with what to do, then the verdict.
pub fn write_components(
    out: &mut dyn Write,
    components: &[crate::report::json::JsonComponent],
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
        // A BoM's names and versions are anyone's text, and the message
        // quotes them.
        let name = match &c.version {
            Some(v) => format!("{}@{v}", c.name),
            None => c.name.clone(),
        };
        writeln!(out, "{} {}", paint(c.status, ansi), plain(&name))?;
        if c.status != "ok" {
            writeln!(out, "{:22} {}", "", plain(&c.message))?;
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
