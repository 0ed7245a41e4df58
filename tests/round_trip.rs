//! The `bom` → `vet-bom` round trip: the BoM capgate writes for a workspace,
//! vetted with the same policy, passes exactly when `check` passes, with the
//! same violations; workspace and path crates are read from disk and never
//! looked up in a registry; recorded features and target are honoured, and
//! a BoM that records no features is vetted with every feature on.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::registry_server::{Registry, Server};
use crate::util::{self, Run};

/// A private cache and an empty loopback registry, so that a lookup of a
/// local crate in a registry would show as a request (and fail).
struct RoundTrip {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    server: Server,
}

impl RoundTrip {
    fn of(fixture: &str) -> RoundTrip {
        RoundTrip {
            dir: util::copy_fixture(fixture),
            cache: tempfile::tempdir().unwrap(),
            server: Registry::new().start(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = util::capgate();
        cmd.current_dir(self.root())
            .env("CAPGATE_CACHE_DIR", self.cache.path())
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1");
        Run::of(&mut cmd, args)
    }

    /// `bom ARGS` written to `bom.json`; returns the BoM.
    fn bom(&self, args: &[&str]) -> Value {
        let mut all = vec!["bom", "--locked", "--offline"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        run.assert_code(0);
        std::fs::write(self.root().join("bom.json"), &run.stdout).unwrap();
        serde_json::from_str(&run.stdout).unwrap()
    }

    fn write_bom(&self, bom: &Value) {
        std::fs::write(
            self.root().join("bom.json"),
            serde_json::to_string_pretty(bom).unwrap(),
        )
        .unwrap();
    }

    fn check(&self, args: &[&str]) -> Run {
        let mut all = vec!["check", "--locked", "--offline", "--format", "json"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    fn vet(&self, args: &[&str]) -> Run {
        let url = self.server.index_url();
        let mut all = vec![
            "vet-bom",
            "bom.json",
            "--registry",
            &url,
            "--format",
            "json",
        ];
        all.extend_from_slice(args);
        let run = self.run(&all);
        assert!(
            self.server.requests().is_empty(),
            "a local crate was looked up in the registry: {:?}\n{}",
            self.server.requests(),
            run.describe()
        );
        run
    }
}

/// The violations of a JSON report, each as `describe` writes it.
fn violations_as(run: &Run, describe: impl Fn(&Value) -> String) -> BTreeSet<String> {
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", run.describe()));
    report["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(describe)
        .collect()
}

/// Each violation as (package, version, capability, scope, findings).
fn violations(run: &Run) -> BTreeSet<String> {
    violations_as(run, |v| {
        let findings: BTreeSet<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}:{} {}", f["file"], f["line"], f["evidence"]))
            .collect();
        format!(
            "{} {} {} {} {findings:?}",
            v["package"], v["version"], v["capability"], v["scope"]
        )
    })
}

/// Each violation as (package, capability, scope), without its findings.
fn capabilities(run: &Run) -> BTreeSet<String> {
    violations_as(run, |v| {
        format!("{} {} {}", v["package"], v["capability"], v["scope"])
    })
}

fn component<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}: {report}"))
}

/// `check` and `vet-bom` of the workspace's own BoM agree on the exit code
/// and on every violation.
fn assert_agree(rt: &RoundTrip, select: &[&str], policy: &[&str]) {
    rt.bom(select);
    let mut check_args = select.to_vec();
    check_args.extend_from_slice(policy);
    let check = rt.check(&check_args);
    // A BoM made for another platform than this host is vetted for every
    // platform unless vet-bom is told the target: a cross build's vetting
    // names it, as its check does.
    let mut vet_args = policy.to_vec();
    if let Some(i) = select.iter().position(|a| *a == "--target") {
        vet_args.extend_from_slice(&select[i..i + 2]);
    }
    let vet = rt.vet(&vet_args);
    util::assert_no_crash(&vet);
    assert_eq!(
        check.code,
        vet.code,
        "{select:?} {policy:?}: check and vet-bom disagree\n{}\n{}",
        check.describe(),
        vet.describe()
    );
    assert_eq!(
        violations(&check),
        violations(&vet),
        "{select:?} {policy:?}: the same violations"
    );
}

#[test]
fn vet_bom_of_the_workspace_bom_agrees_with_check_under_every_policy() {
    let rt = RoundTrip::of("policy");
    let mut policies: Vec<String> = std::fs::read_dir(rt.root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    policies.sort();
    assert!(policies.len() >= 10, "{policies:?}");
    let mut passed = 0;
    for policy in &policies {
        assert_agree(&rt, &[], &["--policy", policy]);
        passed += usize::from(rt.check(&["--policy", policy]).code == Some(0));
    }
    // Both verdicts occur, so agreement is not agreement on one answer.
    assert!(passed > 0 && passed < policies.len(), "{passed} passed");
}

#[test]
fn vet_bom_of_the_workspace_bom_agrees_with_check_for_every_selection() {
    let empty = ["--policy", "empty.toml"];
    for (fixture, selections) in [
        (
            "features-targets",
            vec![
                vec![],
                vec!["--all-features"],
                vec!["--no-default-features"],
                vec!["--target", "x86_64-pc-windows-msvc"],
                vec!["--all-targets-cfg"],
                vec!["--dev"],
            ],
        ),
        (
            "cfg",
            vec![
                vec![],
                vec!["--all-features"],
                vec!["--target", "x86_64-pc-windows-msvc"],
                vec!["--target", "aarch64-apple-darwin"],
            ],
        ),
        ("capabilities", vec![vec![]]),
        ("build-proc-macro", vec![vec![]]),
        ("layout", vec![vec![]]),
    ] {
        let rt = RoundTrip::of(fixture);
        std::fs::write(rt.root().join("empty.toml"), "[defaults]\nallow = []\n").unwrap();
        for select in selections {
            assert_agree(&rt, &select, &empty);
        }
    }
}

#[test]
fn local_crates_are_read_from_their_directories_with_the_workspace_policy() {
    let rt = RoundTrip::of("round-trip");
    let bom = rt.bom(&[]);
    let featured = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rt-featured")
        .expect("rt-featured in the BoM");
    assert_eq!(
        featured["purl"],
        "pkg:cargo/rt-featured@0.3.1?download_url=file:%2F%2Fdeps%2Ffeatured"
    );
    let check = rt.check(&[]);
    check.assert_code(0);
    let vet = rt.vet(&[]);
    vet.assert_code(0);
    let report = vet.report();
    util::assert_markers("round-trip", &report);
    for name in ["rt-app", "rt-featured"] {
        let c = component(&report, name);
        assert_eq!(c["status"], "ok", "{c}");
        assert_eq!(c["all_features_assumed"], false, "{c}");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("read from its directory"),
            "{c}"
        );
        let p = util::package(&report, name);
        assert_ne!(p["source"], "registry", "{name} is local: {p}");
    }
    assert_eq!(
        component(&report, "rt-featured")["features"],
        serde_json::json!(["default", "loader"])
    );
    // The member's binary is vetted as `check` scans it.
    assert!(
        util::strings(&util::package(&report, "rt-app")["capabilities"])
            .contains(&"process.spawn".to_string())
    );
}

/// Removes every `capgate:features` property, as a BoM from another tool.
fn without_features(mut bom: Value) -> Value {
    for c in bom["components"].as_array_mut().unwrap() {
        if let Some(props) = c.get_mut("properties").and_then(Value::as_array_mut) {
            props.retain(|p| p["name"] != "capgate:features");
        }
    }
    bom
}

#[test]
fn a_bom_without_features_is_vetted_with_every_feature_on_and_says_so() {
    let rt = RoundTrip::of("round-trip");
    let bom = rt.bom(&[]);
    rt.write_bom(&without_features(bom));
    let vet = rt.vet(&[]);
    // The module behind the optional `remote` feature is read: net, which
    // the policy does not grant.
    vet.assert_code(1);
    let report = vet.report();
    let featured = component(&report, "rt-featured");
    assert_eq!(featured["status"], "violation", "{featured}");
    assert_eq!(featured["all_features_assumed"], true, "{featured}");
    assert_eq!(
        featured["features"],
        serde_json::json!(["default", "loader", "remote"])
    );
    assert!(
        util::strings(&util::package(&report, "rt-featured")["capabilities"])
            .contains(&"net.connect".to_string())
    );
    assert!(
        vet.stderr.contains("every feature"),
        "the human note says features were assumed\n{}",
        vet.describe()
    );
}

#[test]
fn recorded_features_are_honoured_even_without_the_defaults() {
    let rt = RoundTrip::of("round-trip");
    // `--no-default-features` drops the member's own defaults; the path
    // dependency keeps its default `loader`, as cargo builds it.
    let no_defaults = rt.bom(&["--no-default-features"]);
    assert_eq!(
        component_property(&no_defaults, "rt-featured", "capgate:features"),
        Some("default,loader".into())
    );
    // The dependent asks for the dependency's defaults, so a BoM that
    // records none for it still gets them, as cargo would build it.
    let mut bom = rt.bom(&[]);
    set_property(&mut bom, "rt-featured", "capgate:features", "");
    rt.write_bom(&bom);
    let vet = rt.vet(&[]);
    vet.assert_code(0);
    assert_eq!(
        component(&vet.report(), "rt-featured")["features"],
        serde_json::json!(["default", "loader"])
    );
    // Alone, with no feature recorded, the default-feature module is not
    // built, so not vetted: nothing found.
    bom["components"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["name"] == "rt-featured");
    bom.as_object_mut().unwrap().remove("dependencies");
    rt.write_bom(&bom);
    let vet = rt.vet(&[]);
    vet.assert_code(0);
    let report = vet.report();
    assert_eq!(
        component(&report, "rt-featured")["features"],
        serde_json::json!([])
    );
    assert_eq!(
        util::package(&report, "rt-featured")["capabilities"],
        serde_json::json!([])
    );
}

fn component_property(bom: &Value, name: &str, property: &str) -> Option<String> {
    bom["components"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)?["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == property)
        .map(|p| p["value"].as_str().unwrap().to_owned())
}

fn set_property(bom: &mut Value, name: &str, property: &str, value: &str) {
    let c = bom["components"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == name)
        .unwrap();
    let props = c["properties"].as_array_mut().unwrap();
    let p = props.iter_mut().find(|p| p["name"] == property).unwrap();
    p["value"] = value.into();
}

#[test]
fn the_bom_target_is_the_target_vetted_and_target_overrides_it() {
    let rt = RoundTrip::of("cfg");
    std::fs::write(rt.root().join("empty.toml"), "[defaults]\nallow = []\n").unwrap();
    let windows = ["--target", "x86_64-pc-windows-msvc"];
    let bom = rt.bom(&windows);
    assert_eq!(
        bom["metadata"]["properties"],
        serde_json::json!([{"name": "cdx:rustc:sbom:target:triple", "value": "x86_64-pc-windows-msvc"}])
    );
    // Vetted for that target, as check is for it.
    let vet = rt.vet(&[
        "--policy",
        "empty.toml",
        "--target",
        "x86_64-pc-windows-msvc",
    ]);
    let check = rt.check(&[
        "--policy",
        "empty.toml",
        "--target",
        "x86_64-pc-windows-msvc",
    ]);
    assert_eq!(violations(&vet), violations(&check));
    // Without --target, a BoM made for another platform than this host is
    // vetted for every platform: all the windows violations and the host's.
    let every = rt.vet(&["--policy", "empty.toml"]);
    let host = rt.check(&["--policy", "empty.toml"]);
    assert!(
        capabilities(&every).is_superset(&capabilities(&check)),
        "{}",
        every.describe()
    );
    assert!(
        capabilities(&every).is_superset(&capabilities(&host)),
        "{}",
        every.describe()
    );
    assert!(
        every
            .stderr
            .contains("not this host: vetted for every platform")
    );
    // An explicit --target wins over the BoM's.
    let linux = rt.vet(&[
        "--policy",
        "empty.toml",
        "--target",
        "x86_64-unknown-linux-gnu",
    ]);
    assert_ne!(violations(&linux), violations(&vet), "{}", linux.describe());
}

#[test]
fn a_local_component_whose_directory_is_missing_or_another_crate_is_not_found() {
    let rt = RoundTrip::of("round-trip");
    let bom = rt.bom(&[]);
    for (purl, why) in [
        (
            "pkg:cargo/rt-featured@0.3.1?download_url=file:%2F%2Fdeps%2Fgone",
            "no such directory",
        ),
        (
            "pkg:cargo/rt-featured@0.3.1?download_url=file:%2F%2Fapp",
            "another crate there",
        ),
        (
            "pkg:cargo/rt-featured@9.9.9?download_url=file:%2F%2Fdeps%2Ffeatured",
            "another version there",
        ),
    ] {
        let mut bom = bom.clone();
        for c in bom["components"].as_array_mut().unwrap() {
            if c["name"] == "rt-featured" {
                c["purl"] = purl.into();
                if purl.contains("9.9.9") {
                    c["version"] = "9.9.9".into();
                }
            }
        }
        rt.write_bom(&bom);
        let vet = rt.vet(&[]);
        vet.assert_code(1);
        let report = vet.report();
        let c = component(&report, "rt-featured");
        assert_eq!(c["status"], "not-found", "{why}: {c}");
    }
}

#[test]
fn a_local_path_outside_the_workspace_is_refused() {
    let rt = RoundTrip::of("round-trip");
    let mut bom = rt.bom(&[]);
    for c in bom["components"].as_array_mut().unwrap() {
        if c["name"] == "rt-featured" {
            c["purl"] = "pkg:cargo/rt-featured@0.3.1?download_url=file:%2F%2F..%2F..%2Fetc".into();
        }
    }
    rt.write_bom(&bom);
    let vet = rt.vet(&[]);
    util::assert_no_crash(&vet);
    assert_ne!(vet.code, Some(0), "{}", vet.describe());
}

#[test]
fn git_and_unknown_sources_are_unvetted_and_fail_unless_accepted() {
    let rt = RoundTrip::of("round-trip");
    let bom = rt.bom(&[]);
    for purl in [
        "pkg:cargo/rt-featured@0.3.1?vcs_url=git%2Bhttps:%2F%2Fgit.example.invalid%2Frt%40abc123",
        "pkg:cargo/rt-featured@0.3.1?unknown_qualifier=1",
        "pkg:cargo/rt-featured@0.3.1?download_url=https:%2F%2Fexample.invalid%2Frt.crate",
    ] {
        let mut bom = bom.clone();
        for c in bom["components"].as_array_mut().unwrap() {
            if c["name"] == "rt-featured" {
                c["purl"] = purl.into();
            }
        }
        rt.write_bom(&bom);
        let vet = rt.vet(&[]);
        vet.assert_code(1);
        let report = vet.report();
        let c = component(&report, "rt-featured");
        assert_eq!(c["status"], "unvetted", "{purl}: {c}");

        // A component with a purl is accepted by that exact purl (the
        // commit included), never by its bare name, which anyone can take.
        let workspace_policy = std::fs::read_to_string(rt.root().join("capgate.toml")).unwrap();
        for (entry, code) in [(purl, 0), ("rt-featured", 1)] {
            let policy = format!(
                "{workspace_policy}\n[vet-bom]\naccept-unvetted = [{{ component = \"{entry}\", reason = \"reviewed by hand\" }}]\n",
            );
            std::fs::write(rt.root().join("accepting.toml"), policy).unwrap();
            let accepted = rt.vet(&["--policy", "accepting.toml"]);
            accepted.assert_code(code);
        }
    }
}

#[test]
fn a_recorded_feature_the_crate_does_not_have_means_every_feature() {
    // Attack: a BoM that records a feature name the crate does not define
    // (so no real feature) would hide the default-feature module from the
    // scan. Such a record does not describe this crate: every feature on.
    let rt = RoundTrip::of("round-trip");
    let mut bom = rt.bom(&[]);
    bom["components"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["name"] == "rt-featured");
    bom.as_object_mut().unwrap().remove("dependencies");
    for bogus in ["bogus", "loader,bogus", "dep:bogus", "bogus/x"] {
        set_property(&mut bom, "rt-featured", "capgate:features", bogus);
        rt.write_bom(&bom);
        let vet = rt.vet(&[]);
        vet.assert_code(1);
        let report = vet.report();
        let c = component(&report, "rt-featured");
        assert_eq!(c["all_features_assumed"], true, "{bogus}: {c}");
        assert_eq!(
            c["features"],
            serde_json::json!(["default", "loader", "remote"]),
            "{bogus}"
        );
    }
}
