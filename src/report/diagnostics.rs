//! Cargo-style diagnostics with source snippets (annotate-snippets): policy
//! errors and warnings, and `check`'s violations.

use std::collections::BTreeMap;
use std::io::Write;

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, Severity};
use crate::evaluate::{Evaluation, Violation};
use crate::model::BuildGraph;
use crate::model::Finding;

use super::text::plain;

/// How many findings of one violation are shown as snippets.
const SNIPPETS_PER_VIOLATION: usize = 3;

fn renderer(color: bool) -> Renderer {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.decor_style(DecorStyle::Ascii)
}

/// Renders policy errors and warnings.
pub fn render_diagnostics(diagnostics: &[Diagnostic], color: bool) -> String {
    let renderer = renderer(color);
    let mut out = String::new();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        // Messages, labels and notes quote the policy and the scanned tree:
        // shown plain, as annotate-snippets shows source lines.
        let (path, label);
        let message = plain(&d.message);
        let mut group = Group::with_title(level.primary_title(&*message).id(d.code));
        if let Some(span) = &d.span {
            path = plain(&span.path.display().to_string()).into_owned();
            label = plain(&d.label);
            group = group.element(
                Snippet::source(&*span.text).path(path.as_str()).annotation(
                    AnnotationKind::Primary
                        .span(span.range.clone())
                        .label(&*label),
                ),
            );
        }
        let notes: Vec<String> = d.notes.iter().map(|n| plain(n).into_owned()).collect();
        for note in &notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    out
}

/// Writes `check`'s violations, grouped per package, and a summary line.
pub fn write_violations(
    out: &mut dyn Write,
    graph: &BuildGraph,
    evaluation: &Evaluation,
    color: bool,
) -> std::io::Result<()> {
    let renderer = renderer(color);
    let mut by_package: BTreeMap<usize, Vec<&Violation>> = BTreeMap::new();
    for v in &evaluation.violations {
        by_package.entry(v.package).or_default().push(v);
    }
    for (&index, violations) in &by_package {
        let package = &graph.packages[index];
        for v in violations {
            let title = crate::evaluate::violation_headline(package, v);
            let sources: Vec<(String, String, std::ops::Range<usize>, usize, &Finding)> = v
                .findings
                .iter()
                .take(SNIPPETS_PER_VIOLATION)
                .filter_map(|f| snippet_source(&package.root, f))
                .map(|(path, text, range, line, f)| {
                    (plain(&path).into_owned(), text, range, line, f)
                })
                .collect();
            let mut group = Group::with_title(
                Level::ERROR
                    .primary_title(title)
                    .id("capability-not-granted"),
            );
            let labels: Vec<String> = sources
                .iter()
                .map(|(_, _, _, _, f)| plain(&super::evidence_label(f)).into_owned())
                .collect();
            for ((path, text, range, line_start, _), label) in sources.iter().zip(&labels) {
                group = group.element(
                    Snippet::source(text.as_str())
                        .line_start(*line_start)
                        .path(path.as_str())
                        .annotation(
                            AnnotationKind::Primary
                                .span(range.clone())
                                .label(label.as_str()),
                        ),
                );
            }
            let mut notes = Vec::new();
            // Findings without a readable line (a missing source) still say
            // what they are.
            for f in v.findings.iter().take(SNIPPETS_PER_VIOLATION) {
                if f.location.line.is_none() {
                    notes.push(format!("{}: {}", f.location, super::evidence_label(f)));
                }
            }
            if v.findings
                .iter()
                .take(SNIPPETS_PER_VIOLATION)
                .any(|f| f.resolution == Some(crate::model::Resolution::ByName))
            {
                notes.push(format!(
                    "`{}`: {}",
                    super::BY_NAME_MARK.trim(),
                    super::BY_NAME_NOTE
                ));
            }
            if v.findings.len() > SNIPPETS_PER_VIOLATION {
                notes.push(format!(
                    "and {} more place{} (run `cargo capgate scan -v` for all)",
                    v.findings.len() - SNIPPETS_PER_VIOLATION,
                    if v.findings.len() - SNIPPETS_PER_VIOLATION == 1 {
                        ""
                    } else {
                        "s"
                    }
                ));
            }
            if let Some(reason) = &v.reason {
                notes.push(format!(
                    "the policy's reason for `{}`: {reason}",
                    package.name
                ));
            }
            // The proposed grant, not just the capability: a package that
            // had only `[defaults]` keeps them once it has an entry.
            let help = format!("if this is intended: {}", v.grant.allow_command());
            // Evidence, file names and the policy's reasons are untrusted.
            let notes: Vec<String> = notes.iter().map(|n| plain(n).into_owned()).collect();
            let help = plain(&help).into_owned();
            for note in &notes {
                group = group.element(Level::NOTE.message(note.as_str()));
            }
            group = group.element(Level::HELP.message(help.as_str()));
            writeln!(out, "{}\n", renderer.render(&[group]))?;
        }
    }
    for v in &evaluation.advisory_violations {
        let package = &graph.packages[v.package];
        let a = &v.advisory;
        let title = crate::evaluate::advisory_headline(package, v);
        let mut notes = Vec::new();
        if !a.aliases.is_empty() {
            notes.push(format!("also known as {}", a.aliases.join(", ")));
        }
        if let Some(url) = &a.url {
            notes.push(format!("see {url}"));
        }
        let help = if a.patched.is_empty() {
            format!(
                "no patched version exists: replace `{}`, or accept it with `ignore = [\"{}\"]` under [advisories] in the policy, with a reason",
                package.name, a.id
            )
        } else {
            format!(
                "upgrade `{}` to {}, or accept it with `ignore = [\"{}\"]` under [advisories] in the policy, with a reason",
                package.name,
                crate::advisories::describe_patched(&a.patched),
                a.id
            )
        };
        let mut group = Group::with_title(Level::ERROR.primary_title(title).id("advisory"));
        for note in &notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        group = group.element(Level::HELP.message(help.as_str()));
        writeln!(out, "{}\n", renderer.render(&[group]))?;
    }
    writeln!(out, "{}", summary(graph, evaluation))
}

/// `3 packages exceed their permissions: a, b, c`, or that all are within.
pub fn summary(graph: &BuildGraph, evaluation: &Evaluation) -> String {
    let failing = evaluation.failing_packages();
    if failing.is_empty() {
        return match graph.packages.len() {
            1 => "the 1 package is within its permissions".to_owned(),
            n => format!("all {n} packages are within their permissions"),
        };
    }
    let names: Vec<String> = failing
        .iter()
        .map(|&i| format!("{} {}", graph.packages[i].name, graph.packages[i].version))
        .collect();
    format!(
        "{} package{} exceed{} {} permissions: {}",
        failing.len(),
        if failing.len() == 1 { "" } else { "s" },
        if failing.len() == 1 { "s" } else { "" },
        if failing.len() == 1 { "its" } else { "their" },
        names.join(", ")
    )
}

/// The text of a finding's line (with its neighbours) and the byte range of
/// the evidence on it. `None` when the file cannot be read.
fn snippet_source<'f>(
    root: &std::path::Path,
    finding: &'f Finding,
) -> Option<(String, String, std::ops::Range<usize>, usize, &'f Finding)> {
    let file = finding.location.file.as_ref()?;
    let line = finding.location.line? as usize;
    let column = finding.location.column.unwrap_or(1) as usize;
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let target = lines.get(line.checked_sub(1)?)?;
    // The marked text: the path or keyword starting at the column.
    let start: usize = target
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let len = target[start..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '#' || c == '!'))
        .unwrap_or(target.len() - start)
        .max(1)
        .min(target.len().saturating_sub(start).max(1));
    let first = line.saturating_sub(2).max(1);
    let last = (line + 1).min(lines.len());
    let mut excerpt = String::new();
    let mut offset = 0;
    for (n, l) in lines[first - 1..last].iter().enumerate() {
        if first + n == line {
            offset = excerpt.len();
        }
        excerpt.push_str(l);
        excerpt.push('\n');
    }
    let range = offset + start..(offset + start + len).min(excerpt.len());
    // The renderer appends `:line:column` from the annotation.
    let shown = path.display().to_string();
    Some((shown, excerpt, range, first, finding))
}
