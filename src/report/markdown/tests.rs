//! The Markdown diff's ranking, its size limit and what it shows of text an
//! attacker wrote, on diffs built by hand (the command's own output is
//! snapshot-tested in `tests/snapshot.rs`).

use super::*;
use crate::evaluate::diff::{Gate, GrantChange, NewViolation, PolicyChanges};
use crate::model::{Finding, Location};
use crate::policy::ProposedGrant;

fn finding(capability: Capability, file: &str, evidence: &str) -> Finding {
    Finding {
        capability,
        location: Location::at(file, 3, 5),
        evidence: evidence.to_owned(),
        rule: "a-rule".to_owned(),
        via: Vec::new(),
        resolution: None,
    }
}

fn gain(package: &str, gained: &[Capability]) -> CapabilityChange {
    CapabilityChange {
        package: package.to_owned(),
        version: "1.0.0".to_owned(),
        scope: Scope::Code,
        gained: gained.to_vec(),
        lost: Vec::new(),
        findings: gained
            .iter()
            .map(|&c| finding(c, "src/lib.rs", "std::fs::read"))
            .collect(),
    }
}

fn context() -> MarkdownContext<'static> {
    MarkdownContext {
        base: "origin/main",
        head: "working tree",
        limit: COMMENT_LIMIT,
        full_report_url: None,
    }
}

fn granting(package: &str, capability: Capability) -> PolicyChanges {
    PolicyChanges {
        grants_added: vec![GrantChange {
            package: package.to_owned(),
            scope: Scope::Code,
            capability,
        }],
        ..PolicyChanges::default()
    }
}

#[test]
fn new_capabilities_are_ranked_most_dangerous_first() {
    let diff = GraphDiff {
        changes: vec![
            gain("a-env", &[Capability::EnvRead]),
            gain("b-fs", &[Capability::FsWrite]),
            gain("c-net", &[Capability::NetConnect, Capability::EnvRead]),
            gain("d-process", &[Capability::ProcessSpawn]),
            gain("e-ffi", &[Capability::Ffi]),
        ],
        ..GraphDiff::default()
    };
    let md = diff_markdown(&diff, &context());
    let order: Vec<usize> = ["d-process", "c-net", "e-ffi", "b-fs", "a-env"]
        .iter()
        .map(|p| md.find(&format!("| {p} |")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{md}");
    assert!(md.contains("| `net.connect` `env.read` |"), "{md}");
}

#[test]
fn a_change_that_grants_itself_is_never_a_plain_pass() {
    let diff = GraphDiff {
        changes: vec![gain("app", &[Capability::NetConnect])],
        policy: granting("app", Capability::Net),
        ..GraphDiff::default()
    };
    assert!(diff.passed());
    let md = diff_markdown(&diff, &context());
    assert!(
        md.starts_with("⚠️ **cargo-capgate**: no new violations, but this change widens its own policy (1 grant)"),
        "{md}"
    );
    // What it grants itself comes before anything else it shows.
    let grant = md.find("### What this change grants itself").unwrap();
    assert!(grant < md.find("### New capabilities").unwrap(), "{md}");
    assert!(md.contains("| grant | `app` | code | `net` |"), "{md}");

    let denied = GraphDiff {
        gate: Gate {
            deny_grant_changes: true,
        },
        ..diff
    };
    assert!(!denied.passed());
    let md = diff_markdown(&denied, &context());
    assert!(md.starts_with("❌ **cargo-capgate**: this change widens its own policy (1 grant), denied by --deny-grant-changes"), "{md}");
    assert!(md.contains("> [!CAUTION]"), "{md}");
}

#[test]
fn the_report_fits_a_comment_however_large_the_change() {
    let changes: Vec<CapabilityChange> = (0..20_000)
        .map(|i| {
            let mut c = gain(&format!("crate-{i:05}"), &[Capability::FsRead]);
            c.findings = (0..5)
                .map(|j| finding(Capability::FsRead, &format!("src/m{j}.rs"), "std::fs::read"))
                .collect();
            c
        })
        .collect();
    let violations = (0..3)
        .map(|i| NewViolation {
            package: format!("crate-{i:05}"),
            version: "1.0.0".to_owned(),
            scope: Scope::Code,
            capability: Capability::FsRead,
            grant: ProposedGrant {
                package: format!("crate-{i:05}"),
                grants: Default::default(),
            },
        })
        .collect();
    let diff = GraphDiff {
        changes,
        new_violations: violations,
        policy: granting("[defaults]", Capability::Process),
        ..GraphDiff::default()
    };
    let mut context = context();
    context.full_report_url = Some("https://ci.invalid/runs/1");
    let md = diff_markdown(&diff, &context);
    assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
    // The top of the ranking is whole; the cut says what it left out.
    assert!(md.contains("| grant | `[defaults]` | code | `process` |"));
    assert!(md.contains("| crate-00002 | 1.0.0 | code | `fs.read` |"));
    let shown = md.matches("| code | `fs.read` |").count() - 3;
    let left_out = 20_000 - shown + 100_000;
    assert!(
        md.contains(&format!(
            "**Cut to fit a comment:** {left_out} rows left out (new capabilities, evidence). The full report: `cargo capgate diff --base origin/main --format json`. It is also at https://ci.invalid/runs/1.\n"
        )),
        "{}",
        &md[md.len() - 400..]
    );
    // A cut never leaves a table or a fold open.
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
}

#[test]
fn a_revision_s_name_cannot_end_the_cut_note_s_code_span() {
    let changes: Vec<CapabilityChange> = (0..200)
        .map(|i| gain(&format!("crate-{i:05}"), &[Capability::FsRead]))
        .collect();
    let diff = GraphDiff {
        changes,
        ..GraphDiff::default()
    };
    let mut context = context();
    context.base = "evil`branch\n\n✅ **cargo-capgate**: no new violations";
    context.limit = 4_000;
    let md = diff_markdown(&diff, &context);
    assert!(md.contains("**Cut to fit a comment:**"), "{md}");
    assert!(
        md.contains(
            "The full report: ``cargo capgate diff --base evil`branch\\u{a}\\u{a}✅ **cargo-capgate**: no new violations --format json``."
        ),
        "{}",
        &md[md.len().saturating_sub(400)..]
    );
}

#[test]
fn text_from_the_scanned_tree_cannot_forge_the_report() {
    let mut change = gain("evil", &[Capability::FsRead]);
    change.findings = vec![finding(
        Capability::FsRead,
        "src/x`\n\n✅ **cargo-capgate**: no new violations\n<details>.rs",
        "read|`",
    )];
    let diff = GraphDiff {
        changes: vec![change],
        ..GraphDiff::default()
    };
    let md = diff_markdown(&diff, &context());
    let evidence = md.lines().find(|l| l.starts_with("- `evil")).unwrap();
    assert_eq!(
        evidence,
        "- `evil 1.0.0` **fs.read** at ``src/x`\\u{a}\\u{a}✅ **cargo-capgate**: no new violations\\u{a}<details>.rs:3:5``: `` read|` `` [`a-rule`]"
    );
    // The forged verdict stays inside the code span, on the evidence's line.
    assert_eq!(md.lines().filter(|l| l.contains("✅")).count(), 2, "{md}");
    assert_eq!(
        md.lines().filter(|l| l.starts_with("✅")).count(),
        1,
        "{md}"
    );
}
