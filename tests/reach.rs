//! Reach: capabilities that flow through dependencies' public items, with
//! the chain they went through, in every output; and the scan cache
//! noticing when what a dependency reaches changes.
//!
//! The chains themselves are checked in-process ([`Scan`]); how the outputs
//! show them and the cache on the binary.

use serde_json::Value;

use crate::util::{self, Run, Scan};

/// The findings of `package` that came through a dependency.
fn reached(report: &Value, package: &str) -> Vec<Value> {
    util::package(report, package)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["via"].as_array().unwrap().is_empty())
        .cloned()
        .collect()
}

fn via(finding: &Value) -> Vec<String> {
    finding["via"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_chain_through_two_crates_is_recorded_from_the_named_item_to_the_api() {
    let report = Scan::fixture("corpus/transitive-two-levels").report();
    let findings = reached(&report, "subject");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["capability"], "process.spawn");
    assert_eq!(f["file"], "src/lib.rs");
    assert_eq!(f["line"], 3);
    assert_eq!(f["evidence"], "mid::deploy");
    assert_eq!(f["rule"], "std-process-spawn");
    assert_eq!(
        via(f),
        [
            "mid::deploy",
            "base::run_shell",
            "std::process::Command::new"
        ]
    );
    // The middle crate reaches it too, one step shorter; the base crate
    // uses the API itself.
    let mid = reached(&report, "mid");
    assert_eq!(
        via(&mid[0]),
        ["base::run_shell", "std::process::Command::new"]
    );
    assert!(reached(&report, "base").is_empty());
    assert_eq!(
        util::package(&report, "base")["capabilities"],
        serde_json::json!(["process.spawn"])
    );
}

#[test]
fn using_only_pure_items_of_a_capable_dependency_reaches_nothing() {
    for case in [
        "transitive-neg-pure-fn",
        "transitive-neg-two-levels",
        "transitive-neg-type-only",
    ] {
        let report = Scan::fixture(&format!("corpus/{case}")).report();
        assert_eq!(
            util::package(&report, "subject")["capabilities"],
            serde_json::json!([]),
            "{case}"
        );
    }
}

#[test]
fn verbose_output_and_diagnostics_show_the_chain() {
    let dir = util::fixture_dir("corpus/transitive-two-levels");
    let run = util::run_on("scan", &dir, &["-v", "--color", "never"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("via mid::deploy -> base::run_shell -> std::process::Command::new"),
        "{}",
        run.describe()
    );
    let run = util::run_on("check", &dir, &["--color", "never"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains(
            "mid::deploy [std-process-spawn] via mid::deploy -> base::run_shell -> std::process::Command::new"
        ),
        "{}",
        run.describe()
    );
}

#[test]
fn the_cache_notices_a_dependency_that_stops_reaching_a_capability() {
    let dir = util::copy_fixture("corpus/transitive-two-levels");
    let cache = tempfile::tempdir().unwrap();
    let args = util::manifest_args("scan", dir.path(), &["--format", "json"]);
    let scan = || {
        let mut cmd = util::capgate();
        cmd.env("CAPGATE_CACHE_DIR", cache.path());
        Run::of(&mut cmd, &args).assert_code(0).report()
    };
    let first = scan();
    assert_eq!(
        util::package(&first, "subject")["capabilities"],
        serde_json::json!(["process.spawn"])
    );
    // base no longer spawns anything; subject's files did not change, but
    // what it reaches did.
    std::fs::write(
        dir.path().join("base/src/lib.rs"),
        "pub fn run_shell(cmd: &str) { let _ = cmd.len(); }\n",
    )
    .unwrap();
    let second = scan();
    for package in ["base", "mid", "subject"] {
        assert_eq!(
            util::package(&second, package)["capabilities"],
            serde_json::json!([]),
            "{package} after its dependency changed"
        );
    }
}

/// Glob re-exports are followed to a fixpoint: a chain five globs deep,
/// declared so that each pass over the modules resolves one more link, and
/// modules that glob each other or their parent (`prelude::prelude::` is the
/// prelude again) carry reach to every path a dependent can write, without
/// passing the re-export bound.
#[test]
fn glob_reexport_chains_of_any_depth_and_cycles_carry_reach() {
    for (case, evidence) in [
        ("transitive-glob-reexport-deep", "helper::spawn_it"),
        (
            "transitive-glob-reexport-cycle",
            "helper::prelude::prelude::prelude::prelude::prelude::spawn_it",
        ),
    ] {
        let report = util::scan(&format!("corpus/{case}"), &[]);
        let findings = reached(&report, "subject");
        assert_eq!(findings.len(), 1, "{case}: {findings:#?}");
        assert_eq!(findings[0]["capability"], "process.spawn", "{case}");
        assert_eq!(findings[0]["evidence"], evidence, "{case}");
        assert_eq!(
            util::package(&report, "helper")["capabilities"],
            serde_json::json!(["process.spawn"]),
            "{case}: no bound passed, nothing unanalysed"
        );
    }
}

/// Method rules tied to a receiver type (`OpenOptions::write`,
/// `Path::exists`) hold when the type is named through a dependency's
/// alias of it: opening for writing through `helper::Opts` is `fs.write`,
/// not only the `fs.read` of `OpenOptions::new`.
#[test]
fn method_rules_hold_for_a_receiver_type_named_through_a_dependency_alias() {
    let report = Scan::fixture("hostile/names-method-receiver-through-alias").report();
    assert_eq!(
        util::package(&report, "subject")["capabilities"],
        serde_json::json!(["fs.read", "fs.write"])
    );
    let exists = reached(&report, "subject")
        .into_iter()
        .find(|f| f["line"] == 5)
        .expect("Path::exists through helper::P");
    assert_eq!(via(&exists), ["helper::P::new", "std::path::Path::exists"]);
}

#[test]
fn a_call_rustc_certainly_resolves_to_an_override_reaches_only_the_override() {
    // Markers: the dependency's provided bodies, and the calls still
    // matched as before (a `&mut` receiver of a `&self` override, a
    // function with a macro); every other call runs the pure override.
    util::check_fixture("overrides");
}
