//! Actions, not prose: what the JSON outputs give an agent to act on, and
//! that acting on it works. A violation's `grant` (in `check` and in
//! `vet-bom`'s components), applied with `cargo capgate allow` or pasted
//! as TOML, makes the violation go away and nothing else appear; a crate
//! whose source cannot be analysed is `unanalyzed` in a BoM; every status
//! a component can have is valid against `schemas/vet-bom-v1.schema.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::registry_server::{Published, Registry, simple_crate};
use crate::schema::{assert_valid, validator};
use crate::util::{self, Run};
use crate::vet_bom::{
    CALM, Env, FILER, JSOM, NETTY, OLDIE, OLDIE_YANKED, STATUSES, bom, cargo, fixture_component,
    npm_left_pad, vetted,
};

/// `[defaults]` that grant something, so that a package without an entry
/// of its own has grants an entry would take away; and one package
/// (`cap-fs`) with an entry.
const POLICY: &str = r#"[defaults]
allow = ["unsafe"]
build-script.allow = ["env.read"]

[pkg.cap-fs]
allow = ["fs.read"]
"#;

fn check(dir: &Path) -> (Run, Value) {
    let run = util::check_dir(dir);
    let report = run.report();
    assert_valid(&validator("check"), "check", &report);
    (run, report)
}

fn violations(report: &Value) -> &Vec<Value> {
    report["violations"].as_array().expect("violations")
}

/// `key` -> capabilities of a grant's `lines`.
fn lines(grant: &Value) -> BTreeMap<String, Vec<String>> {
    grant["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["key"].as_str().unwrap().to_owned(),
                util::strings(&l["add"]),
            )
        })
        .collect()
}

/// The grant's `toml` says what its fields say: one `[pkg.NAME]` table
/// whose `allow` and `build-script.allow` are the lines.
fn assert_toml_is_the_lines(grant: &Value) {
    let text = grant["toml"].as_str().expect("toml");
    let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    let table = grant["table"].as_str().unwrap();
    let name = table.strip_prefix("pkg.").expect("a [pkg] table");
    let entry = doc["pkg"][name].as_table().expect("the table");
    let mut found = BTreeMap::new();
    if let Some(allow) = entry.get("allow") {
        found.insert("allow".to_owned(), strings(allow));
    }
    if let Some(build) = entry.get("build-script") {
        found.insert("build-script.allow".to_owned(), strings(&build["allow"]));
    }
    assert_eq!(found, lines(grant), "{text}");
}

fn strings(v: &toml::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn check_violations_carry_the_grant_that_allows_them() {
    let tmp = util::copy_fixture("capabilities");
    std::fs::write(tmp.path().join("capgate.toml"), POLICY).unwrap();
    let (run, report) = check(tmp.path());
    run.assert_code(1);
    for v in violations(&report) {
        let grant = &v["grant"];
        let package = v["package"].as_str().unwrap();
        assert_eq!(grant["table"], format!("pkg.{package}"), "{v}");
        let key = match v["scope"].as_str().unwrap() {
            "code" => "allow",
            _ => "build-script.allow",
        };
        let capability = v["capability"].as_str().unwrap().to_owned();
        assert!(lines(grant)[key].contains(&capability), "{v}");
        assert_toml_is_the_lines(grant);
    }
    let find = |package: &str, capability: &str| {
        violations(&report)
            .iter()
            .find(|v| v["package"] == package && v["capability"] == capability)
            .unwrap_or_else(|| panic!("a {capability} violation of {package}"))
    };
    // cap-ffi had only [defaults]: an entry of its own replaces them, so
    // the grant carries them, for its code and its build script.
    let ffi = find("cap-ffi", "ffi");
    assert_eq!(
        lines(&ffi["grant"]),
        BTreeMap::from([
            ("allow".into(), vec!["ffi".into(), "unsafe".into()]),
            ("build-script.allow".into(), vec!["env.read".into()]),
        ])
    );
    assert_eq!(
        ffi["grant"]["toml"],
        "[pkg.cap-ffi]\nallow = [\"ffi\", \"unsafe\"]\nbuild-script.allow = [\"env.read\"]\n"
    );
    // cap-fs has an entry: only what it lacks.
    let fs = find("cap-fs", "fs.write");
    assert_eq!(
        lines(&fs["grant"]),
        BTreeMap::from([("allow".into(), vec!["fs.write".into()])])
    );
}

/// Every grant, applied with the writer `allow` uses (the command line an
/// agent would run from `lines`), and check passes.
#[test]
fn check_grants_applied_with_allow_make_check_pass() {
    let tmp = util::copy_fixture("capabilities");
    let policy = tmp.path().join("capgate.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let (_, report) = check(tmp.path());
    let policy_arg = policy.display().to_string();
    let manifest = tmp.path().join("Cargo.toml").display().to_string();
    for v in violations(&report) {
        let table = v["grant"]["table"].as_str().unwrap();
        let package = table.strip_prefix("pkg.").unwrap();
        for (key, caps) in lines(&v["grant"]) {
            let mut args = vec![
                "allow",
                "-q",
                "--offline",
                "--manifest-path",
                &manifest,
                "--policy",
                &policy_arg,
                package,
            ];
            if key == "build-script.allow" {
                args.push("--build-script");
            }
            args.extend(caps.iter().map(String::as_str));
            util::run(&args).assert_code(0);
        }
    }
    let (run, report) = check(tmp.path());
    run.assert_code(0);
    assert_eq!(violations(&report).len(), 0);
    assert_eq!(report["verdict"], "pass");
}

/// The human report's help line is the same grant, as `allow` commands.
#[test]
fn the_human_help_line_runs_the_proposed_grant() {
    let tmp = util::copy_fixture("capabilities");
    std::fs::write(tmp.path().join("capgate.toml"), POLICY).unwrap();
    let manifest = tmp.path().join("Cargo.toml").display().to_string();
    let run = util::run(&[
        "check",
        "--manifest-path",
        &manifest,
        "--offline",
        "--color",
        "never",
    ]);
    run.assert_code(1);
    for help in [
        "if this is intended: cargo capgate allow cap-ffi ffi unsafe && cargo capgate allow cap-ffi --build-script env.read",
        "if this is intended: cargo capgate allow cap-fs fs.write\n",
    ] {
        assert!(run.stdout.contains(help), "{help}\n{}", run.describe());
    }
}

/// A package's one violation: its `toml` pasted at the end of the policy
/// makes that package pass, and no other package changes.
#[test]
fn check_grant_snippets_pasted_make_their_packages_pass() {
    let tmp = util::copy_fixture("capabilities");
    let policy = tmp.path().join("capgate.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let (_, before) = check(tmp.path());
    let mut per_package: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for v in violations(&before) {
        per_package
            .entry(v["package"].as_str().unwrap().to_owned())
            .or_default()
            .push(v);
    }
    let mut text = POLICY.to_owned();
    let mut pasted = BTreeSet::new();
    for (package, list) in &per_package {
        if let [one] = list.as_slice()
            && package != "cap-fs"
        {
            text.push('\n');
            text.push_str(one["grant"]["toml"].as_str().unwrap());
            pasted.insert(package.clone());
        }
    }
    for carried in ["cap-ffi", "cap-build"] {
        assert!(pasted.contains(carried), "{carried} is pasted: {pasted:?}");
    }
    std::fs::write(&policy, &text).unwrap();
    let (_, after) = check(tmp.path());
    let still: BTreeSet<String> = violations(&after)
        .iter()
        .map(|v| v["package"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = per_package
        .keys()
        .filter(|p| !pasted.contains(*p))
        .cloned()
        .collect();
    assert_eq!(still, expected, "policy:\n{text}");
}

/// A crate whose `mod` file is missing from its archive: `unanalyzed`.
fn murky() -> Published {
    Published::archive(
        "capfix-murky",
        "1.0.0",
        simple_crate("capfix-murky", "1.0.0", "mod gone;\n\npub fn f() {}\n"),
    )
}

#[test]
fn a_crate_whose_source_cannot_be_analysed_is_unanalyzed_in_vet_bom() {
    let env = Env::new();
    let server = Registry::new().publish(murky()).fixtures(&[NETTY]).start();
    let b = bom(vec![
        cargo("capfix-murky", "1.0.0"),
        fixture_component(NETTY),
    ]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    assert_valid(&validator("vet-bom"), "vet-bom", &v.report);
    v.expect_status("capfix-murky", "unanalyzed")
        .expect_status("capfix-netty", "violation")
        .expect_message(
            "capfix-murky",
            &["could not analyse", "src/lib.rs:1", "gone"],
        );
    let murky = v.component("capfix-murky");
    let list = murky["violations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{murky}");
    assert_eq!(list[0]["capability"], "unanalyzed");
    let finding = &list[0]["findings"][0];
    assert_eq!(finding["file"], "src/lib.rs", "{finding}");
    assert_eq!(finding["line"], 1, "{finding}");
    assert!(
        finding["evidence"].as_str().unwrap().contains("gone"),
        "the evidence is the reason: {finding}"
    );
    assert_eq!(
        murky["grant"]["toml"],
        "[pkg.capfix-murky]\nallow = [\"unanalyzed\"]\n"
    );

    // Granted, it is ok: the status is the policy's to lift, like any
    // violation.
    let granted = env.policy("[pkg.capfix-murky]\nallow = [\"unanalyzed\"]\n");
    let v = vetted(
        env.vet(
            &server,
            &bom(vec![cargo("capfix-murky", "1.0.0")]),
            &["--policy", &granted],
        ),
        0,
    );
    v.expect_status("capfix-murky", "ok");
    assert_eq!(
        v.component("capfix-murky")["violations"],
        serde_json::json!([])
    );
    assert!(v.component("capfix-murky")["grant"].is_null());
}

/// Each component's one `grant`, pasted into the policy, and vet-bom passes.
#[test]
fn vet_bom_component_grants_pasted_make_every_component_ok() {
    let env = Env::new();
    let server = Registry::new()
        .publish(murky())
        .fixtures(&[NETTY, CALM, "capfix-buildy-0.1.0"])
        .start();
    let b = bom(vec![
        cargo("capfix-murky", "1.0.0"),
        fixture_component(NETTY),
        fixture_component(CALM),
        fixture_component("capfix-buildy-0.1.0"),
    ]);
    let base = "[defaults]\nallow = []\nbuild-script.allow = [\"fs.read\"]\n";
    let policy = env.policy(base);
    let v = vetted(env.vet(&server, &b, &["--policy", &policy]), 1);
    let mut text = base.to_owned();
    for c in v.report["components"].as_array().unwrap() {
        assert_eq!(c["grant"].is_null(), c["status"] == "ok", "{c}");
        if let Some(toml) = c["grant"]["toml"].as_str() {
            assert_toml_is_the_lines(&c["grant"]);
            text.push('\n');
            text.push_str(toml);
        }
    }
    assert!(
        text.contains(
            "[pkg.capfix-netty]\nallow = [\"net.connect\"]\nbuild-script.allow = [\"fs.read\"]\n"
        ),
        "defaults carried: {text}"
    );
    let policy = env.policy(&text);
    let v = vetted(env.vet(&server, &b, &["--policy", &policy]), 0);
    for c in v.report["components"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c}\npolicy:\n{text}");
    }
}

/// One BoM with a component in every status vet-bom has, each valid against
/// the schema (exit 2: some could not be vetted; the report still holds all).
#[test]
fn every_component_status_matches_the_vet_bom_schema() {
    let env = Env::new();
    let hour_ago = humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() - std::time::Duration::from_secs(3600),
    )
    .to_string();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY, JSOM, OLDIE])
        .publish(Published::fixture(OLDIE_YANKED).yanked())
        .publish(murky())
        .publish(Published::fixture(FILER).serve(b"not a crate".to_vec()))
        .publish(
            Published::archive(
                "capfix-fresh",
                "1.0.0",
                simple_crate("capfix-fresh", "1.0.0", "pub fn f() {}\n"),
            )
            .pubtime(&hour_ago),
        )
        .publish(Published::archive(
            "capfix-gone",
            "1.0.0",
            simple_crate("capfix-gone", "1.0.0", "pub fn f() {}\n"),
        ))
        .route("/dl/capfix-gone/1.0.0/download", 404, b"gone\n")
        .publish(Published::archive(
            "capfix-needy",
            "1.0.0",
            crate::registry_server::Archive::new()
                .file(
                    "capfix-needy-1.0.0/Cargo.toml",
                    b"[package]\nname = \"capfix-needy\"\nversion = \"1.0.0\"\n\n[dependencies]\ncapfix-absent = \"1\"\n",
                )
                .file("capfix-needy-1.0.0/src/lib.rs", b"pub fn f() {}\n")
                .gz(),
        ))
        .start();
    let b = bom(vec![
        cargo("capfix-needy", "1.0.0"),
        fixture_component(CALM),
        fixture_component(NETTY),
        cargo("capfix-murky", "1.0.0"),
        cargo("capfix-ghost", "1.0.0"),
        fixture_component(OLDIE_YANKED),
        fixture_component(FILER),
        fixture_component(JSOM),
        cargo("capfix-fresh", "1.0.0"),
        npm_left_pad(),
        cargo("capfix-gone", "1.0.0"),
    ]);
    let v = vetted(env.vet(&server, &b, &[]), 2);
    assert_valid(&validator("vet-bom"), "every status", &v.report);
    assert_valid(&validator("report"), "every status", &v.report);
    let seen: BTreeSet<String> = v.report["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_owned())
        .collect();
    let all: BTreeSet<String> = STATUSES.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen, all, "{}", v.run.describe());
}
