//! The human report as a person meets it: a table that fits a 100-column
//! terminal whatever the names (`--wide` spells it out), colour as
//! `--color`, `NO_COLOR` and `CLICOLOR` say, and text from the scanned tree
//! that cannot drive the terminal.

use cargo_capgate::model::{Capability, Finding, Location};
use cargo_capgate::report::ScanResults;
use cargo_capgate::report::human::{self, HumanOptions};

use crate::util::{self, Run};

const LONG_NAME: &str = "a-package-name-far-longer-than-any-column-should-be";

/// The `capabilities` fixture's human report, with its first package
/// renamed to [`LONG_NAME`] and `edit` applied to the scans.
fn render(
    options: HumanOptions,
    edit: impl FnOnce(&mut [cargo_capgate::model::PackageScan]),
) -> String {
    let (mut graph, mut scans) = util::Scan::fixture("capabilities").analyze();
    graph.packages[0].name = LONG_NAME.to_owned();
    edit(&mut scans);
    let mut out = Vec::new();
    human::write_scan(&mut out, &ScanResults::new(&graph, &scans), options).unwrap();
    String::from_utf8(out).unwrap()
}

fn narrow() -> HumanOptions {
    HumanOptions {
        color: false,
        verbose: false,
        width: Some(human::DEFAULT_WIDTH),
    }
}

#[test]
fn the_table_fits_100_columns_and_wide_spells_it_out() {
    let text = render(narrow(), |_| {});
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}\n{text}",
            line.chars().count()
        );
    }
    assert!(
        !text.contains(LONG_NAME),
        "a name too long for its column is wrapped"
    );
    assert!(text.contains("│ package "), "{text}");
    assert!(text.contains(" proc "), "short headings: {text}");

    let wide = render(
        HumanOptions {
            width: None,
            ..narrow()
        },
        |_| {},
    );
    assert!(
        wide.lines().any(|l| l.contains(LONG_NAME)),
        "--wide keeps every name whole\n{wide}"
    );
    assert!(wide.contains(" process ") && wide.contains(" proc-macro "));
    assert!(wide.lines().next().unwrap().chars().count() > 100);
}

#[test]
fn control_characters_in_evidence_reach_the_terminal_escaped() {
    let text = render(
        HumanOptions {
            verbose: true,
            ..narrow()
        },
        |scans| {
            scans[0].code.findings.push(Finding {
                capability: Capability::FsRead,
                location: Location::at("src/\x1b[2K\rclean.rs", 1, 1),
                evidence: "std::fs::read\u{202E}".to_owned(),
                rule: "std-fs-read".to_owned(),
                via: vec!["x\x07".to_owned()],
                resolution: None,
            });
        },
    );
    assert!(!text.contains('\x1b') && !text.contains('\r') && !text.contains('\x07'));
    assert!(!text.contains('\u{202E}'));
    assert!(
        text.contains("src/\\u{1b}[2K\\u{d}clean.rs:1:1  std::fs::read\\u{202e}"),
        "{text}"
    );
}

fn scan_with_env(env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = util::capgate();
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let dir = util::fixture_dir("capabilities");
    let manifest = dir.join("Cargo.toml");
    let mut all = vec![
        "capgate",
        "scan",
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--offline",
    ];
    all.extend_from_slice(args);
    let run = Run::of(&mut cmd, &all);
    run.assert_code(0);
    run
}

#[test]
fn colour_follows_the_flag_then_no_color_and_clicolor() {
    let coloured = |run: &Run| run.stdout.contains("\x1b[");
    assert!(!coloured(&scan_with_env(&[], &[])), "piped: no colour");
    assert!(coloured(&scan_with_env(&[("CLICOLOR_FORCE", "1")], &[])));
    assert!(!coloured(&scan_with_env(
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &[]
    )));
    assert!(!coloured(&scan_with_env(
        &[("CLICOLOR_FORCE", "1")],
        &["--color", "never"]
    )));
    assert!(coloured(&scan_with_env(
        &[("NO_COLOR", "1")],
        &["--color", "always"]
    )));
}

#[test]
fn wide_is_refused_where_it_would_do_nothing() {
    let dir = util::fixture_dir("capabilities");
    util::run_on("scan", &dir, &["--wide", "--format", "json"])
        .assert_code(2)
        .assert_error(&["--wide"]);
    let wide = util::run_on("scan", &dir, &["--wide", "--color", "never"]);
    wide.assert_code(0);
    assert!(wide.stdout.contains(" proc-macro "), "{}", wide.describe());
}

#[test]
fn control_characters_reach_check_and_explain_escaped() {
    use cargo_capgate::evaluate::{evaluate, explain};
    use cargo_capgate::policy::{Grants, PackageEntry, Policy};
    let (graph, mut scans) = util::Scan::fixture("capabilities").analyze();
    // One finding shown as a note (no line), one on a line of a real file.
    for location in [
        Location::file("src/\x1b[2K\rclean.rs"),
        Location::at("build.rs", 1, 1),
    ] {
        scans[0].code.findings.push(Finding {
            capability: Capability::FsRead,
            location,
            evidence: "std::fs::read\u{202E}".to_owned(),
            rule: "std-fs-read".to_owned(),
            via: vec!["x\x07".to_owned()],
            resolution: None,
        });
    }
    // The policy is untrusted too: a pull request may write its reasons.
    let mut policy = Policy::empty();
    policy.packages.push(PackageEntry {
        name: graph.packages[0].name.clone(),
        version: None,
        grants: Grants::default(),
        reason: Some("ok\x1b[2J\x1b[32m all granted".to_owned()),
        span: None,
    });
    let evaluation = evaluate(&graph, &scans, None, &policy);
    let mut check = Vec::new();
    cargo_capgate::report::diagnostics::write_violations(&mut check, &graph, &evaluation, false)
        .unwrap();
    let explanation = explain::explain(&graph, &scans, &evaluation, 0, Some(Capability::FsRead));
    let mut explained = Vec::new();
    cargo_capgate::report::explain::write_explanations(
        &mut explained,
        &graph,
        &[explanation],
        false,
    )
    .unwrap();
    // GitHub annotations: a workflow log shows colour codes too.
    let violations: Vec<_> = evaluation.violations.iter().collect();
    let annotations = cargo_capgate::report::sarif::github_annotations(&graph, &violations, &[]);
    assert!(!annotations.is_empty());
    for text in [check, explained] {
        let text = String::from_utf8(text).unwrap();
        assert!(!text.contains(['\x1b', '\r', '\x07', '\u{202E}']), "{text}");
        assert!(text.contains("src/\\u{1b}[2K\\u{d}clean.rs"), "{text}");
        assert!(
            text.contains("std::fs::read\\u{202e} [std-fs-read] via x\\u{7}"),
            "{text}"
        );
    }
    assert!(
        !annotations.contains(['\x1b', '\r', '\x07', '\u{202E}']),
        "{annotations}"
    );
}
