//! A diff as Markdown for a pull-request comment or job summary: the verdict
//! on the first line, then tables, with the evidence folded away.

use std::fmt::Write;

use crate::evaluate::diff::{GraphDiff, PackageSummary};

fn caps(list: &[crate::model::Capability]) -> String {
    if list.is_empty() {
        "–".to_owned()
    } else {
        list.iter()
            .map(|c| format!("`{}`", c.name()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A `### title` heading and a table header with these columns.
fn table_head(out: &mut String, title: &str, columns: &[&str]) {
    let _ = write!(
        out,
        "### {title}\n\n| {} |\n|{}\n",
        columns.join(" | "),
        " --- |".repeat(columns.len())
    );
}

/// A `### title` table of packages with their capabilities, if any.
fn package_table(out: &mut String, title: &str, packages: &[PackageSummary]) {
    if packages.is_empty() {
        return;
    }
    table_head(out, title, &["package", "version", "capabilities"]);
    for p in packages {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            p.name,
            p.version,
            caps(&p.capabilities)
        );
    }
    out.push('\n');
}

/// The one-line verdict that opens the comment.
pub fn verdict_line(diff: &GraphDiff) -> String {
    let violations = diff.new_violations.len() + diff.new_advisory_violations.len();
    let changes = format!(
        "{} added, {} removed, {} upgraded",
        plural(diff.added.len(), "package", "packages"),
        diff.removed.len(),
        diff.upgraded.len()
    );
    if violations == 0 {
        format!("✅ **cargo-capgate**: no new violations ({changes})")
    } else {
        format!(
            "❌ **cargo-capgate**: {} ({changes})",
            plural(violations, "new violation", "new violations")
        )
    }
}

pub fn diff_markdown(diff: &GraphDiff, base: &str, head: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", verdict_line(diff));
    let _ = writeln!(out, "Compared `{head}` with `{base}`.\n");

    if !diff.new_violations.is_empty() || !diff.new_advisory_violations.is_empty() {
        table_head(
            &mut out,
            "New violations",
            &["package", "version", "scope", "capability or advisory"],
        );
        for v in &diff.new_violations {
            let _ = writeln!(
                out,
                "| {} | {} | {} | `{}` |",
                v.package,
                v.version,
                v.scope.as_str(),
                v.capability
            );
        }
        for a in &diff.new_advisory_violations {
            let _ = writeln!(
                out,
                "| {} | {} | code | {} ({}) |",
                a.package,
                a.version,
                a.id,
                a.kind.as_str()
            );
        }
        out.push_str("\nIf a new capability is intended, grant it with `cargo capgate allow PACKAGE CAPABILITY` and commit capgate.toml.\n\n");
    }
    package_table(&mut out, "Added packages", &diff.added);
    package_table(&mut out, "Removed packages", &diff.removed);
    if !diff.upgraded.is_empty() {
        table_head(&mut out, "Upgraded packages", &["package", "from", "to"]);
        for u in &diff.upgraded {
            let _ = writeln!(out, "| {} | {} | {} |", u.name, u.from, u.to);
        }
        out.push('\n');
    }
    if !diff.changes.is_empty() {
        table_head(
            &mut out,
            "Capability changes",
            &["package", "version", "scope", "gained", "lost"],
        );
        for c in &diff.changes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                c.package,
                c.version,
                c.scope.as_str(),
                caps(&c.gained),
                caps(&c.lost)
            );
        }
        out.push_str("\n<details><summary>Evidence for gained capabilities</summary>\n\n");
        for c in &diff.changes {
            for f in &c.findings {
                let _ = writeln!(
                    out,
                    "- `{} {}` {} **{}** at `{}`: `{}` [{}]",
                    c.package,
                    c.version,
                    c.scope.as_str(),
                    f.capability,
                    f.location,
                    f.evidence,
                    f.rule
                );
            }
        }
        out.push_str("\n</details>\n\n");
    }
    if !diff.grants_added.is_empty() || !diff.grants_removed.is_empty() {
        table_head(
            &mut out,
            "Policy changes",
            &["change", "package", "scope", "capability"],
        );
        for (change, list) in [
            ("granted", &diff.grants_added),
            ("revoked", &diff.grants_removed),
        ] {
            for g in list {
                let _ = writeln!(
                    out,
                    "| {change} | {} | {} | `{}` |",
                    g.package,
                    g.scope.as_str(),
                    g.capability
                );
            }
        }
        out.push('\n');
    }
    if !diff.new_advisories.is_empty() {
        table_head(
            &mut out,
            "New advisories",
            &["package", "version", "advisory", "kind"],
        );
        for a in &diff.new_advisories {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                a.package,
                a.version,
                a.id,
                a.kind.as_str()
            );
        }
        out.push('\n');
    }
    out
}
