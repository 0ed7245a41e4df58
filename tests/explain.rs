//! `cargo capgate explain PACKAGE [CAPABILITY]`: every place behind a
//! capability, the packages a reach went through, whether the policy grants
//! it, how the package came into the build, and clear errors for names the
//! build does not have.

use serde_json::{Value, json};

use crate::schema;
use crate::util::{self, Run};

fn explain(fixture_dir: &std::path::Path, args: &[&str]) -> Run {
    util::run_on("explain", fixture_dir, args)
}

fn explain_json(fixture: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    let run = explain(&util::fixture_dir(fixture), &all);
    run.assert_code(0);
    let report: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    schema::assert_valid(&schema::validator("explain"), fixture, &report);
    report
}

#[test]
fn a_reach_through_two_crates_names_every_place_and_package() {
    let report = explain_json(
        "corpus/transitive-two-levels",
        &["subject", "process.spawn"],
    );
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["package"], "subject");
    assert_eq!(report["capability"], "process.spawn");
    let packages = report["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 1);
    let subject = &packages[0];
    assert_eq!(subject["name"], "subject");
    assert_eq!(subject["source"], "workspace");
    assert_eq!(subject["required_by"], Value::Null, "a member");
    let caps = subject["capabilities"].as_array().unwrap();
    assert_eq!(caps.len(), 1, "{caps:#?}");
    let cap = &caps[0];
    assert_eq!(cap["capability"], "process.spawn");
    assert_eq!(cap["scope"], "code");
    // The fixture has no policy: nothing is granted.
    assert_eq!(cap["granted"], false);
    assert_eq!(
        cap["allow_command"],
        "cargo capgate allow subject process.spawn"
    );
    assert_eq!(cap["grant"]["table"], "pkg.subject");
    assert_eq!(
        cap["grant"]["lines"],
        json!([{"key": "allow", "add": ["process.spawn"]}])
    );
    let finding = &cap["findings"][0];
    assert_eq!(finding["file"], "src/lib.rs");
    assert_eq!(finding["line"], 3);
    assert_eq!(
        finding["via"],
        json!([
            "mid::deploy",
            "base::run_shell",
            "std::process::Command::new"
        ])
    );
    assert_eq!(
        finding["through"],
        json!(["subject 0.1.0", "mid 0.1.0", "base 0.1.0"])
    );
}

#[test]
fn a_family_covers_its_sub_capabilities_and_an_unused_one_is_said() {
    let report = explain_json("corpus/transitive-two-levels", &["subject", "process"]);
    let caps = report["packages"][0]["capabilities"].as_array().unwrap();
    assert_eq!(caps.len(), 1);
    assert_eq!(caps[0]["capability"], "process.spawn");

    let report = explain_json("corpus/transitive-two-levels", &["subject", "net"]);
    assert_eq!(report["packages"][0]["capabilities"], json!([]));
    let run = explain(
        &util::fixture_dir("corpus/transitive-two-levels"),
        &["subject", "net", "--color", "never"],
    );
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("does not use `net`: no finding in its code or build script"),
        "{}",
        run.describe()
    );
}

#[test]
fn the_human_explanation_shows_the_chain_and_how_to_grant_it() {
    let run = explain(
        &util::fixture_dir("corpus/transitive-two-levels"),
        &["subject", "--color", "never"],
    );
    run.assert_code(0);
    for needle in [
        "subject 0.1.0 (workspace)",
        "process.spawn: not granted, 1 place",
        "src/lib.rs:3:5  mid::deploy [std-process-spawn] via mid::deploy -> base::run_shell -> std::process::Command::new",
        "through subject 0.1.0 -> mid 0.1.0 -> base 0.1.0",
        "help: if this is intended: cargo capgate allow subject process.spawn",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{}", run.describe());
    }
}

#[test]
fn a_granted_capability_says_so_and_offers_no_grant() {
    let dir = util::copy_fixture("corpus/transitive-two-levels");
    std::fs::write(
        dir.path().join("capgate.toml"),
        "[pkg.subject]\nallow = [\"process\"]\nreason = \"deploys\"\n",
    )
    .unwrap();
    let run = explain(
        dir.path(),
        &["subject", "process.spawn", "--format", "json"],
    );
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    schema::assert_valid(&schema::validator("explain"), "granted", &report);
    let cap = &report["packages"][0]["capabilities"][0];
    assert_eq!(cap["granted"], true);
    assert_eq!(cap["grant"], Value::Null);
    assert_eq!(cap["allow_command"], Value::Null);
}

/// A package under `[defaults]` that gets an entry of its own loses the
/// defaults, so the grant explain proposes keeps them.
#[test]
fn the_proposed_grant_keeps_the_defaults_a_new_entry_would_replace() {
    let dir = util::copy_fixture("corpus/transitive-two-levels");
    std::fs::write(
        dir.path().join("capgate.toml"),
        "[defaults]\nallow = [\"fs.read\", \"env\"]\n",
    )
    .unwrap();
    let run = explain(dir.path(), &["subject", "process", "--format", "json"]);
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let cap = &report["packages"][0]["capabilities"][0];
    assert_eq!(cap["granted"], false);
    assert_eq!(
        cap["grant"]["lines"],
        json!([{"key": "allow", "add": ["env", "fs.read", "process.spawn"]}])
    );
    assert_eq!(
        cap["allow_command"],
        "cargo capgate allow subject env fs.read process.spawn"
    );
    // Running it makes the capability granted.
    util::run_on(
        "allow",
        dir.path(),
        &["subject", "env", "fs.read", "process.spawn"],
    )
    .assert_code(0);
    let run = explain(dir.path(), &["subject", "process", "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["packages"][0]["capabilities"][0]["granted"], true);
}

#[test]
fn init_dry_run_prints_the_policy_and_writes_nothing() {
    let dir = util::copy_fixture("corpus/transitive-two-levels");
    let run = util::run_on("init", dir.path(), &["--dry-run", "--format", "json"]);
    run.assert_code(0);
    let proposal: Value = serde_json::from_str(&run.stdout).unwrap();
    schema::assert_valid(&schema::validator("init"), "init --dry-run", &proposal);
    assert_eq!(proposal["exists"], false);
    assert_eq!(proposal["packages"], 3);
    assert!(proposal["path"].as_str().unwrap().ends_with("capgate.toml"));
    let policy = proposal["policy"].as_str().unwrap();
    assert!(policy.contains("[pkg.subject]"), "{policy}");
    assert!(!dir.path().join("capgate.toml").exists(), "nothing written");
    // The text is what `init` writes.
    util::run_on("init", dir.path(), &[]).assert_code(0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("capgate.toml")).unwrap(),
        policy
    );
    // JSON without --dry-run would have to print something `init` does not.
    let manifest = dir.path().join("Cargo.toml").display().to_string();
    let run = util::run(&["init", "--manifest-path", &manifest, "--format", "json"]);
    run.assert_code(2);
}

#[test]
fn a_dependency_says_which_member_brought_it_in() {
    let report = explain_json("round-trip", &["rt-featured"]);
    let featured = &report["packages"][0];
    assert_eq!(featured["source"], "path");
    assert_eq!(
        featured["required_by"],
        json!(["rt-app 0.1.0", "rt-featured 0.3.1"])
    );
    // Its policy grants fs.read, which its default feature uses.
    let caps = featured["capabilities"].as_array().unwrap();
    assert_eq!(caps.len(), 1, "{caps:#?}");
    assert_eq!(caps[0]["capability"], "fs.read");
    assert_eq!(caps[0]["granted"], true);

    // NAME@VERSION picks that version.
    let report = explain_json("round-trip", &["rt-featured@0.3.1", "fs"]);
    assert_eq!(report["packages"][0]["version"], "0.3.1");
}

#[test]
fn names_the_build_does_not_have_are_errors_that_help() {
    let dir = util::fixture_dir("corpus/transitive-two-levels");
    let cases: [(&[&str], &str); 4] = [
        (
            &["subjcet"],
            "no package `subjcet` in the build graph; did you mean `subject`?",
        ),
        (
            &["nothing-like-it"],
            "no package `nothing-like-it` in the build graph",
        ),
        (
            &["subject@9.9.9"],
            "`subject@9.9.9`: the build has subject 0.1.0, not 9.9.9",
        ),
        (
            &["subject", "proces"],
            "unknown capability `proces`: did you mean `process`?",
        ),
    ];
    for (args, message) in cases {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let run = explain(&dir, &all);
        assert!(
            run.stderr.contains(message),
            "{message}\n{}",
            run.describe()
        );
        // The JSON error object, never a partial explanation.
        schema::assert_error_object(&run, message);
    }
}

#[test]
fn other_formats_are_refused() {
    let run = explain(
        &util::fixture_dir("corpus/transitive-two-levels"),
        &["subject", "--format", "sarif"],
    );
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("`--format sarif` is not available for `explain`")
    );
}
