//! A diff as Markdown for a pull-request comment or job summary, ranked by
//! what a reviewer must see first and never longer than a comment can hold:
//!
//! 1. the verdict, and whether the change widens its own policy (a pull
//!    request that grants itself `net` is never shown as a plain pass);
//! 2. what it grants itself, then its new violations;
//! 3. new capabilities, most dangerous first;
//! 4. packages added, removed and upgraded, and new advisories;
//! 5. what it gives up, folded away, then the evidence, folded away.
//!
//! When the whole does not fit in [`COMMENT_LIMIT`], lower-ranked rows are
//! left out and the last lines say how many, and where the full report is.
//! Everything the scanned tree or its policy wrote goes through
//! [`super::text`], so it cannot end a code span or forge a verdict.

mod budget;

use std::fmt::Write;

use budget::{Budget, Section};

use super::text::{cell, code_span, plain};
use crate::evaluate::Scope;
use crate::evaluate::diff::{CapabilityChange, GraphDiff, PackageSummary, PolicyItem};
use crate::model::Capability;

/// The most a GitHub comment or job summary holds, in characters (counted
/// here in bytes, which are never fewer).
pub const COMMENT_LIMIT: usize = 65_536;

/// Where the report came from, and how big it may be.
pub struct MarkdownContext<'a> {
    pub base: &'a str,
    pub head: &'a str,
    /// The size limit, [`COMMENT_LIMIT`] unless a test wants a smaller one.
    pub limit: usize,
    /// Where the reader finds the full report when this one is cut (the
    /// CI run's artifacts, say).
    pub full_report_url: Option<&'a str>,
}

/// How harmful a capability is, most harmful first: the order in which new
/// capabilities are listed. What could not be read could do anything;
/// starting processes and talking to the network reach furthest; foreign
/// and build-time code escape the analysis; `unsafe`, files and the
/// environment follow.
pub fn severity(capability: Capability) -> u8 {
    match capability.family() {
        Capability::Unanalyzed => 0,
        Capability::Process => 1,
        Capability::Net => 2,
        Capability::Ffi => 3,
        Capability::Build => 4,
        Capability::ProcMacro => 5,
        Capability::Unsafe => 6,
        Capability::Fs => 7,
        Capability::Env => 8,
        _ => 9,
    }
}

fn caps(list: &[Capability]) -> String {
    if list.is_empty() {
        return "–".to_owned();
    }
    let mut sorted = list.to_vec();
    sorted.sort_by_key(|&c| (severity(c), c));
    sorted
        .iter()
        .map(|c| format!("`{}`", c.name()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One table row from its cells (each already escaped).
fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

/// A table's header row and its rule.
fn header(columns: &[&str]) -> String {
    format!(
        "| {} |\n|{}\n",
        columns.join(" | "),
        " --- |".repeat(columns.len())
    )
}

/// A table's opening: `### title`, the header and its rule.
fn table_open(title: &str, columns: &[&str]) -> String {
    format!("### {title}\n\n{}", header(columns))
}

/// A table folded into `<details>`, its summary naming what it holds.
fn folded_open(summary: &str, columns: &[&str]) -> String {
    format!(
        "<details><summary>{summary}</summary>\n\n{}",
        header(columns)
    )
}

const FOLDED_CLOSE: &str = "\n</details>\n\n";

/// The one-line verdict that opens the comment.
pub fn verdict_line(diff: &GraphDiff) -> String {
    let violations = diff.new_violations.len() + diff.new_advisory_violations.len();
    let changes = format!(
        "{} added, {} removed, {} upgraded",
        plural(diff.added.len(), "package", "packages"),
        diff.removed.len(),
        diff.upgraded.len()
    );
    let widening = diff.policy.widens().then(|| {
        format!(
            "this change widens its own policy ({})",
            diff.policy.widening_summary()
        )
    });
    match (violations, widening) {
        (0, None) => format!("✅ **cargo-capgate**: no new violations ({changes})"),
        (0, Some(widening)) if diff.fails_by_widening() => {
            format!("❌ **cargo-capgate**: {widening}, denied by --deny-grant-changes ({changes})")
        }
        (0, Some(widening)) => {
            format!("⚠️ **cargo-capgate**: no new violations, but {widening} ({changes})")
        }
        (n, widening) => format!(
            "❌ **cargo-capgate**: {}{} ({changes})",
            plural(n, "new violation", "new violations"),
            widening.map(|w| format!("; {w}")).unwrap_or_default()
        ),
    }
}

pub fn diff_markdown(diff: &GraphDiff, context: &MarkdownContext<'_>) -> String {
    let command = format!(
        "cargo capgate diff --base {}{} --format json",
        context.base,
        if context.head == "working tree" {
            String::new()
        } else {
            format!(" --head {}", context.head)
        }
    );
    // The note on what was cut names counts, a few section names, the
    // command and the link: this much is always kept free for it.
    let reserve = 1_024 + command.len() + context.full_report_url.map_or(0, str::len);
    let mut budget = Budget::new(context.limit, reserve);
    budget.text(&format!("{}\n\n", verdict_line(diff)));
    budget.text(&format!(
        "Compared {} with {}.\n\n",
        code_span(context.head),
        code_span(context.base)
    ));
    policy_widened(&mut budget, diff);
    new_violations(&mut budget, diff);
    let gains = ranked_gains(diff);
    new_capabilities(&mut budget, &gains);
    packages(&mut budget, "Added packages", "added packages", &diff.added);
    packages(
        &mut budget,
        "Removed packages",
        "removed packages",
        &diff.removed,
    );
    let upgrades: Vec<String> = diff
        .upgraded
        .iter()
        .map(|u| row(&[cell(&u.name), cell(&u.from), cell(&u.to)]))
        .collect();
    budget.section(Section {
        name: "upgraded packages",
        open: &folded_open(
            &plural(upgrades.len(), "upgraded package", "upgraded packages"),
            &["package", "from", "to"],
        ),
        rows: &upgrades,
        close: FOLDED_CLOSE,
    });
    new_advisories(&mut budget, diff);
    given_up(&mut budget, diff);
    evidence(&mut budget, &gains);

    let (left_out, sections) = budget.left_out();
    let note = if left_out == 0 {
        String::new()
    } else {
        let link = context
            .full_report_url
            .map(|url| format!(" It is also at {}.", plain(url)))
            .unwrap_or_default();
        format!(
            "---\n\n**Cut to fit a comment:** {} left out ({}). The full report: {}.{link}\n",
            plural(left_out, "row", "rows"),
            sections.join(", "),
            // The revisions are as given: a branch name may hold a backtick.
            code_span(&command),
        )
    };
    budget.finish(&note)
}

fn policy_widened(budget: &mut Budget, diff: &GraphDiff) {
    let policy = &diff.policy;
    if !policy.widens() {
        return;
    }
    let (kind, consequence) = if diff.fails_by_widening() {
        (
            "CAUTION",
            "`--deny-grant-changes` is set, so it fails: change the policy in a pull request of its own.",
        )
    } else {
        (
            "WARNING",
            "Whoever approves it grants what is listed here: review these policy lines as closely as code.",
        )
    };
    budget.text(&format!(
        "> [!{kind}]\n> **This change widens its own policy** ({}). {consequence}\n\n",
        policy.widening_summary()
    ));
    let rows = policy_rows(
        policy.added(),
        ["grant", "ignore advisory", "accept unvetted"],
    );
    budget.section(Section {
        name: "policy widened",
        open: &table_open(
            "What this change grants itself",
            &["change", "policy entry", "scope", "capability or item"],
        ),
        rows: &rows,
        close: "\n",
    });
}

/// One table row a policy item, each kind named by its verb.
fn policy_rows<'a>(items: impl Iterator<Item = PolicyItem<'a>>, verbs: [&str; 3]) -> Vec<String> {
    items
        .map(|item| match item {
            PolicyItem::Grant(g) => row(&[
                verbs[0].to_owned(),
                cell(&code_span(&g.package)),
                g.scope.as_str().to_owned(),
                format!("`{}`", g.capability),
            ]),
            PolicyItem::Ignore(id) => row(&[
                verbs[1].to_owned(),
                "–".to_owned(),
                "–".to_owned(),
                cell(&code_span(id)),
            ]),
            PolicyItem::Accept(c) => row(&[
                verbs[2].to_owned(),
                "–".to_owned(),
                "–".to_owned(),
                cell(&code_span(c)),
            ]),
        })
        .collect()
}

fn new_violations(budget: &mut Budget, diff: &GraphDiff) {
    let violations = diff.new_violations.iter().map(|v| {
        row(&[
            cell(&v.package),
            cell(&v.version),
            v.scope.as_str().to_owned(),
            format!("`{}`", v.capability),
        ])
    });
    let advisories = diff.new_advisory_violations.iter().map(|a| {
        row(&[
            cell(&a.package),
            cell(&a.version),
            "code".to_owned(),
            format!("{} ({})", cell(&code_span(&a.id)), a.kind.as_str()),
        ])
    });
    let rows: Vec<String> = violations.chain(advisories).collect();
    let hint = "\nIf a new capability is intended, grant it with `cargo capgate allow PACKAGE CAPABILITY` and commit capgate.toml.\n\n";
    budget.section(Section {
        name: "new violations",
        open: &table_open(
            "New violations",
            &["package", "version", "scope", "capability or advisory"],
        ),
        rows: &rows,
        close: if diff.new_violations.is_empty() {
            "\n"
        } else {
            hint
        },
    });
}

/// The changes that gained something, most dangerous gain first.
fn ranked_gains(diff: &GraphDiff) -> Vec<&CapabilityChange> {
    let mut gains: Vec<&CapabilityChange> = diff
        .changes
        .iter()
        .filter(|c| !c.gained.is_empty())
        .collect();
    let rank = |c: &CapabilityChange| c.gained.iter().map(|&g| severity(g)).min();
    gains.sort_by(|a, b| {
        (rank(a), &a.package, &a.version, a.scope).cmp(&(rank(b), &b.package, &b.version, b.scope))
    });
    gains
}

fn new_capabilities(budget: &mut Budget, gains: &[&CapabilityChange]) {
    let rows: Vec<String> = gains
        .iter()
        .map(|c| {
            row(&[
                cell(&c.package),
                cell(&c.version),
                c.scope.as_str().to_owned(),
                caps(&c.gained),
            ])
        })
        .collect();
    budget.section(Section {
        name: "new capabilities",
        open: &table_open(
            "New capabilities",
            &[
                "package",
                "version",
                "scope",
                "gained (most dangerous first)",
            ],
        ),
        rows: &rows,
        close: "\n",
    });
}

fn packages(budget: &mut Budget, title: &str, name: &'static str, list: &[PackageSummary]) {
    let rows: Vec<String> = list
        .iter()
        .map(|p| row(&[cell(&p.name), cell(&p.version), caps(&p.capabilities)]))
        .collect();
    budget.section(Section {
        name,
        open: &table_open(title, &["package", "version", "capabilities"]),
        rows: &rows,
        close: "\n",
    });
}

fn new_advisories(budget: &mut Budget, diff: &GraphDiff) {
    let rows: Vec<String> = diff
        .new_advisories
        .iter()
        .map(|a| {
            row(&[
                cell(&a.package),
                cell(&a.version),
                cell(&code_span(&a.id)),
                a.kind.as_str().to_owned(),
            ])
        })
        .collect();
    budget.section(Section {
        name: "new advisories",
        open: &table_open(
            "New advisories",
            &["package", "version", "advisory", "kind"],
        ),
        rows: &rows,
        close: "\n",
    });
}

/// Capabilities no longer used and grants the policy no longer makes:
/// good news, folded away.
fn given_up(budget: &mut Budget, diff: &GraphDiff) {
    let lost: Vec<String> = diff
        .changes
        .iter()
        .filter(|c| !c.lost.is_empty())
        .map(|c| {
            row(&[
                cell(&c.package),
                cell(&c.version),
                c.scope.as_str().to_owned(),
                caps(&c.lost),
            ])
        })
        .collect();
    budget.section(Section {
        name: "capabilities given up",
        open: &folded_open(
            &plural(
                lost.len(),
                "package gives up capabilities",
                "packages give up capabilities",
            ),
            &["package", "version", "scope", "lost"],
        ),
        rows: &lost,
        close: FOLDED_CLOSE,
    });
    let policy = &diff.policy;
    let narrowed = policy_rows(
        policy.removed(),
        [
            "revoke",
            "stop ignoring advisory",
            "stop accepting unvetted",
        ],
    );
    budget.section(Section {
        name: "policy narrowed",
        open: &folded_open(
            &plural(
                narrowed.len(),
                "policy entry narrowed",
                "policy entries narrowed",
            ),
            &["change", "policy entry", "scope", "capability or item"],
        ),
        rows: &narrowed,
        close: FOLDED_CLOSE,
    });
}

fn evidence(budget: &mut Budget, gains: &[&CapabilityChange]) {
    let mut rows = Vec::new();
    for c in gains {
        let mut findings: Vec<_> = c.findings.iter().collect();
        findings.sort_by_key(|f| severity(f.capability));
        for f in findings {
            let scope = match c.scope {
                Scope::Code => "",
                Scope::BuildScript => " (build script)",
            };
            let by_name = if f.resolution == Some(crate::model::Resolution::ByName) {
                super::BY_NAME_MARK
            } else {
                ""
            };
            let mut line = String::new();
            let _ = writeln!(
                line,
                "- `{} {}`{scope} **{}** at {}: {} [{}]{by_name}",
                c.package,
                c.version,
                f.capability,
                code_span(&f.location.to_string()),
                code_span(&f.evidence),
                code_span(&f.rule)
            );
            rows.push(line);
        }
    }
    budget.section(Section {
        name: "evidence",
        open: "<details><summary>Evidence for new capabilities</summary>\n\n",
        rows: &rows,
        close: FOLDED_CLOSE,
    });
}

#[cfg(test)]
mod tests;
