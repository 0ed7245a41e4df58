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

/// A `### title` table with these columns, one line a row, and a blank
/// line after it; nothing at all without rows. Whether it was written.
fn table(out: &mut String, title: &str, columns: &[&str], rows: Vec<Vec<String>>) -> bool {
    if rows.is_empty() {
        return false;
    }
    let _ = write!(
        out,
        "### {title}\n\n| {} |\n|{}\n",
        columns.join(" | "),
        " --- |".repeat(columns.len())
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
    true
}

/// A `### title` table of packages with their capabilities, if any.
fn package_table(out: &mut String, title: &str, packages: &[PackageSummary]) {
    let rows = packages
        .iter()
        .map(|p| vec![p.name.clone(), p.version.clone(), caps(&p.capabilities)])
        .collect();
    table(out, title, &["package", "version", "capabilities"], rows);
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

    let violations = diff.new_violations.iter().map(|v| {
        vec![
            v.package.clone(),
            v.version.clone(),
            v.scope.as_str().to_owned(),
            format!("`{}`", v.capability),
        ]
    });
    let advisory_violations = diff.new_advisory_violations.iter().map(|a| {
        vec![
            a.package.clone(),
            a.version.clone(),
            "code".to_owned(),
            format!("{} ({})", a.id, a.kind.as_str()),
        ]
    });
    if table(
        &mut out,
        "New violations",
        &["package", "version", "scope", "capability or advisory"],
        violations.chain(advisory_violations).collect(),
    ) {
        out.push_str("If a new capability is intended, grant it with `cargo capgate allow PACKAGE CAPABILITY` and commit capgate.toml.\n\n");
    }
    package_table(&mut out, "Added packages", &diff.added);
    package_table(&mut out, "Removed packages", &diff.removed);
    let upgrades = diff
        .upgraded
        .iter()
        .map(|u| vec![u.name.clone(), u.from.clone(), u.to.clone()])
        .collect();
    table(
        &mut out,
        "Upgraded packages",
        &["package", "from", "to"],
        upgrades,
    );
    let changes = diff.changes.iter().map(|c| {
        vec![
            c.package.clone(),
            c.version.clone(),
            c.scope.as_str().to_owned(),
            caps(&c.gained),
            caps(&c.lost),
        ]
    });
    if table(
        &mut out,
        "Capability changes",
        &["package", "version", "scope", "gained", "lost"],
        changes.collect(),
    ) {
        out.push_str("<details><summary>Evidence for gained capabilities</summary>\n\n");
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
    let grants = [
        ("granted", &diff.grants_added),
        ("revoked", &diff.grants_removed),
    ]
    .into_iter()
    .flat_map(|(change, list)| {
        list.iter().map(move |g| {
            vec![
                change.to_owned(),
                g.package.clone(),
                g.scope.as_str().to_owned(),
                format!("`{}`", g.capability),
            ]
        })
    });
    table(
        &mut out,
        "Policy changes",
        &["change", "package", "scope", "capability"],
        grants.collect(),
    );
    let advisories = diff.new_advisories.iter().map(|a| {
        vec![
            a.package.clone(),
            a.version.clone(),
            a.id.clone(),
            a.kind.as_str().to_owned(),
        ]
    });
    table(
        &mut out,
        "New advisories",
        &["package", "version", "advisory", "kind"],
        advisories.collect(),
    );
    out
}
