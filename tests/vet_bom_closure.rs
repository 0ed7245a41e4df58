//! A BoM is complete only if it holds the closure of its crates: every
//! dependency a crate needs (for the features and target the BoM records,
//! or all features) must be a component, or the crate is
//! `missing-dependency`, naming what it needs. And a BoM's `dependencies`
//! section cannot hide an edge the crate's manifest has.

use serde_json::json;

use crate::registry_server::{Archive, Published, Registry};
use crate::schema::{assert_valid, validator};
use crate::vet_bom::{CALM, Env, NETTY, bom, cargo, fixture_component, vetted, with_features};

/// A published crate `capfix-needy 1.0.0` with this `[dependencies]`-and-
/// more manifest tail and this lib.rs.
fn needy(manifest_tail: &str, lib_rs: &str) -> Published {
    let manifest = format!(
        "[package]\nname = \"capfix-needy\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n{manifest_tail}"
    );
    Published::archive(
        "capfix-needy",
        "1.0.0",
        Archive::new()
            .file("capfix-needy-1.0.0/Cargo.toml", manifest.as_bytes())
            .file("capfix-needy-1.0.0/src/lib.rs", lib_rs.as_bytes())
            .gz(),
    )
}

#[test]
fn a_dependency_the_bom_does_not_hold_fails_and_is_named() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM])
        .publish(needy(
            "[dependencies]\ncapfix-calm = \"1\"\n",
            "pub fn f() {}\n",
        ))
        .start();
    let alone = bom(vec![cargo("capfix-needy", "1.0.0")]);
    let v = vetted(env.vet(&server, &alone, &[]), 1);
    assert_valid(&validator("vet-bom"), "missing", &v.report);
    let needy = v.component("capfix-needy");
    assert_eq!(needy["status"], "missing-dependency", "{needy:#}");
    assert_eq!(
        needy["missing_dependencies"],
        json!([{"name": "capfix-calm", "req": "1", "kind": "normal", "reason": "not-in-bom"}])
    );
    let message = needy["message"].as_str().unwrap();
    assert!(
        message.contains("needs capfix-calm 1, which the BoM does not hold"),
        "{message}"
    );

    // The closure: ok.
    let complete = bom(vec![
        cargo("capfix-needy", "1.0.0"),
        fixture_component(CALM),
    ]);
    let v = vetted(env.vet(&server, &complete, &[]), 0);
    assert_eq!(v.component("capfix-needy")["status"], "ok");
    assert_eq!(
        v.component("capfix-needy")["missing_dependencies"],
        json!([])
    );
}

#[test]
fn a_version_the_requirement_does_not_accept_is_not_the_dependency() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM])
        .publish(needy(
            "[dependencies]\ncapfix-calm = \"2\"\n",
            "pub fn f() {}\n",
        ))
        .start();
    let b = bom(vec![
        cargo("capfix-needy", "1.0.0"),
        fixture_component(CALM),
    ]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    assert_eq!(
        v.component("capfix-needy")["missing_dependencies"][0]["req"],
        "2"
    );
}

#[test]
fn optional_dependencies_count_when_their_feature_is_on_or_features_are_unknown() {
    let env = Env::new();
    let server = Registry::new()
        .publish(needy(
            "[dependencies]\ncapfix-calm = { version = \"1\", optional = true }\n\n[features]\nextra = [\"dep:capfix-calm\"]\n",
            "pub fn f() {}\n",
        ))
        .start();
    // Recorded: no features, so the optional dependency is not built.
    let none = bom(vec![with_features(cargo("capfix-needy", "1.0.0"), "")]);
    let v = vetted(env.vet(&server, &none, &[]), 0);
    assert_eq!(v.component("capfix-needy")["status"], "ok");
    // Recorded: `extra`, which turns it on.
    let extra = bom(vec![with_features(cargo("capfix-needy", "1.0.0"), "extra")]);
    let v = vetted(env.vet(&server, &extra, &[]), 1);
    assert_eq!(v.component("capfix-needy")["status"], "missing-dependency");
    // Not recorded: every feature could be built, so it is needed.
    let unknown = bom(vec![cargo("capfix-needy", "1.0.0")]);
    let v = vetted(env.vet(&server, &unknown, &[]), 1);
    let needy = v.component("capfix-needy");
    assert_eq!(needy["status"], "missing-dependency");
    assert_eq!(needy["all_features_assumed"], true);
}

#[test]
fn platform_dependencies_count_on_their_platform_and_build_dependencies_say_so() {
    let env = Env::new();
    let server = Registry::new()
        .publish(needy(
            "[target.'cfg(windows)'.dependencies]\ncapfix-calm = \"1\"\n\n[build-dependencies]\ncapfix-netty = \"0.3\"\n",
            "pub fn f() {}\n",
        ))
        .start();
    let b = bom(vec![with_features(cargo("capfix-needy", "1.0.0"), "")]);
    let v = vetted(
        env.vet(&server, &b, &["--target", "x86_64-unknown-linux-gnu"]),
        1,
    );
    assert_eq!(
        v.component("capfix-needy")["missing_dependencies"],
        json!([{"name": "capfix-netty", "req": "0.3", "kind": "build", "reason": "not-in-bom"}])
    );
    let v = vetted(
        env.vet(&server, &b, &["--target", "x86_64-pc-windows-msvc"]),
        1,
    );
    let names: Vec<&str> = v.component("capfix-needy")["missing_dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["capfix-calm", "capfix-netty"]);
}

/// The attack: a BoM whose `dependencies` section leaves out an edge, so
/// that what a crate reaches through that dependency goes unseen. The edge
/// is vetted anyway (the crate reaches `net`), and the omission reported.
#[test]
fn a_dependencies_section_that_leaves_out_an_edge_hides_nothing() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[NETTY])
        .publish(needy(
            "[dependencies]\ncapfix-netty = \"0.3\"\n",
            "pub fn ping() { let _ = capfix_netty::send(\"127.0.0.1:9\", b\"x\"); }\n",
        ))
        .start();
    let mut b = bom(vec![
        with_features(cargo("capfix-needy", "1.0.0"), ""),
        with_features(fixture_component(NETTY), ""),
    ]);
    let needy_ref = b["components"][0]["bom-ref"].clone();
    let netty_ref = b["components"][1]["bom-ref"].clone();
    b["dependencies"] = json!([
        {"ref": needy_ref, "dependsOn": []},
        {"ref": netty_ref, "dependsOn": []},
    ]);
    let policy = env.policy("[pkg.capfix-netty]\nallow = [\"net\"]\n");
    let v = vetted(env.vet(&server, &b, &["--policy", &policy]), 1);
    let needy = v.component("capfix-needy");
    let flags: Vec<&str> = needy["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(flags.contains(&"missing-dependency"), "{needy:#}");
    assert!(flags.contains(&"violation"), "the reach is seen: {needy:#}");
    assert_eq!(
        needy["missing_dependencies"],
        json!([{"name": "capfix-netty", "req": "0.3", "kind": "normal", "reason": "not-listed"}])
    );
    let caps: Vec<&str> = needy["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["capability"].as_str().unwrap())
        .collect();
    assert_eq!(caps, ["net.connect"], "{needy:#}");

    // Listed, granted: ok.
    b["dependencies"][0]["dependsOn"] = json!([netty_ref]);
    let policy = env
        .policy("[pkg.capfix-netty]\nallow = [\"net\"]\n\n[pkg.capfix-needy]\nallow = [\"net\"]\n");
    let v = vetted(env.vet(&server, &b, &["--policy", &policy]), 0);
    assert_eq!(v.component("capfix-needy")["status"], "ok");
}

/// A dependency the BoM holds but could not scan (here: not in the
/// registry) fails on its own; its dependents are not also missing it.
#[test]
fn a_dependency_held_but_not_scanned_is_not_missing() {
    let env = Env::new();
    let server = Registry::new()
        .publish(needy(
            "[dependencies]\ncapfix-calm = \"1\"\n",
            "pub fn f() {}\n",
        ))
        .start();
    let b = bom(vec![
        cargo("capfix-needy", "1.0.0"),
        cargo("capfix-calm", "1.0.0"),
    ]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    assert_eq!(v.component("capfix-calm")["status"], "not-found");
    assert_eq!(v.component("capfix-needy")["status"], "ok");
}

/// Variants: a renamed dependency is still the package it names, and a
/// dependency under a literal target triple is required on that triple.
#[test]
fn renamed_and_triple_dependencies_are_required_too() {
    let env = Env::new();
    let server = Registry::new()
        .publish(needy(
            "[dependencies]\nquiet = { package = \"capfix-calm\", version = \"1\" }\n\n[target.x86_64-unknown-linux-gnu.dependencies]\ncapfix-netty = \"0.3\"\n",
            "pub fn f() {}\n",
        ))
        .start();
    let b = bom(vec![with_features(cargo("capfix-needy", "1.0.0"), "")]);
    let v = vetted(
        env.vet(&server, &b, &["--target", "x86_64-unknown-linux-gnu"]),
        1,
    );
    let names: Vec<&str> = v.component("capfix-needy")["missing_dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["capfix-calm", "capfix-netty"]);
    let v = vetted(
        env.vet(&server, &b, &["--target", "aarch64-apple-darwin"]),
        1,
    );
    assert_eq!(
        v.component("capfix-needy")["missing_dependencies"][0]["name"],
        "capfix-calm"
    );
    assert_eq!(
        v.component("capfix-needy")["missing_dependencies"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Variant of the target attack: a BoM naming a triple that is not one
/// (or the host's with stray spaces) is not the host's, so it is vetted
/// for every platform, never for none.
#[test]
fn a_bom_target_that_is_no_platform_hides_nothing() {
    let env = Env::new();
    let server = Registry::new()
        .publish(needy(
            "",
            "#[cfg(unix)]\npub fn send() { let _ = std::net::TcpStream::connect(\"127.0.0.1:9\"); }\n",
        ))
        .start();
    for triple in ["not-a-triple", " x86_64-unknown-linux-gnu"] {
        let mut b = bom(vec![with_features(cargo("capfix-needy", "1.0.0"), "")]);
        b["metadata"] = json!({ "properties": [
            { "name": "cdx:rustc:sbom:target:triple", "value": triple },
        ]});
        let run = env.vet(&server, &b, &[]);
        crate::util::assert_no_crash(&run);
        assert_ne!(run.code, Some(0), "{triple:?}: {}", run.describe());
        assert!(
            run.stdout.contains("net.connect"),
            "{triple:?}: {}",
            run.describe()
        );
    }
}
