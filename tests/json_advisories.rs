//! Advisories as actions: wherever an advisory appears in JSON (`check`'s
//! `advisory_violations`, a `vet-bom` component's `advisories`, `diff`'s
//! `new_advisories` and `new_advisory_violations`) it carries `fixed_in`,
//! the RustSec advisory's patched version requirements, with its title and
//! url. Also the error object `vet-bom` and `diff` print on exit 2.
//!
//! Advisories come from `fixtures/advisory-db` (see its README): smallvec
//! 1.6.0 is affected by RUSTSEC-2021-0003, patched in
//! `>= 0.6.14, < 1.0.0` and `>= 1.6.1`.

use std::path::Path;

use serde_json::Value;

use crate::registry_server::{Published, Registry, simple_crate};
use crate::schema::{assert_error_object, assert_valid, validator};
use crate::util::{self, Run};
use crate::vet_bom::{Env, bom, cargo, vetted};

const SMALLVEC_ADVISORY: &str = "RUSTSEC-2021-0003";

fn advisory_db() -> String {
    util::fixture_dir("advisory-db").display().to_string()
}

/// The advisory's front matter in the fixture database.
fn advisory_file(krate: &str, id: &str) -> toml::Table {
    let path = util::fixture_dir("advisory-db")
        .join("crates")
        .join(krate)
        .join(format!("{id}.md"));
    let text = std::fs::read_to_string(&path).unwrap();
    let front = text
        .strip_prefix("```toml\n")
        .and_then(|t| t.split_once("\n```\n"))
        .expect("front matter")
        .0;
    front.parse().expect("front matter is TOML")
}

/// Version requirements compared by meaning, not spelling (`>= 1.6.1` and
/// `>=1.6.1` are one requirement).
fn requirements(list: impl IntoIterator<Item = String>) -> Vec<String> {
    list.into_iter()
        .map(|r| {
            semver::VersionReq::parse(&r)
                .unwrap_or_else(|e| panic!("{r:?} is a version requirement: {e}"))
                .to_string()
        })
        .collect()
}

/// `fixed_in`, `title` and `url` of `entry` are the advisory's.
fn assert_is_the_advisory(entry: &Value, krate: &str, id: &str) {
    assert_eq!(entry["id"], id, "{entry}");
    let file = advisory_file(krate, id);
    let patched: Vec<String> = file["versions"]["patched"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    assert_eq!(
        requirements(util::strings(&entry["fixed_in"])),
        requirements(patched),
        "{id}: fixed_in is the advisory's patched versions: {entry}"
    );
    let url = file["advisory"].get("url").map(|u| u.as_str().unwrap());
    assert_eq!(entry["url"].as_str(), url, "{entry}");
    assert!(
        !entry["title"].as_str().unwrap_or_default().is_empty(),
        "{entry}"
    );
}

/// `check` on the vendored fixture: each advisory violation's `fixed_in`
/// is its advisory's patched list, and the same as the package's
/// `advisories[].patched`.
#[test]
fn check_advisory_violations_say_what_fixes_them() {
    let tmp = util::copy_fixture("vendored");
    std::fs::write(
        tmp.path().join("capgate.toml"),
        "[defaults]\nallow = [\"fs\", \"env\", \"unsafe\", \"build\", \"unanalyzed\"]\nbuild-script.allow = [\"env\"]\n",
    )
    .unwrap();
    let db = advisory_db();
    let run = Run::of(
        util::capgate()
            .current_dir(tmp.path())
            .env("CARGO_HOME", tmp.path().join("cargo-home")),
        &util::manifest_args(
            "check",
            tmp.path(),
            &["--advisory-db", &db, "--format", "json"],
        ),
    );
    run.assert_code(1);
    let report = run.report();
    assert_valid(&validator("check"), "check with advisories", &report);
    let list = report["advisory_violations"].as_array().unwrap();
    assert!(list.len() >= 2, "{list:?}");
    for v in list {
        let package = util::package(&report, v["package"].as_str().unwrap());
        let matched = package["advisories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == v["id"])
            .expect("the package lists the advisory");
        assert_eq!(v["fixed_in"], matched["patched"], "{v}");
        assert_eq!(v["title"], matched["title"], "{v}");
        assert_is_the_advisory(v, v["package"].as_str().unwrap(), v["id"].as_str().unwrap());
    }
    let smallvec = list
        .iter()
        .find(|v| v["id"] == SMALLVEC_ADVISORY)
        .expect("smallvec's advisory");
    let fixed = semver::Version::parse("1.6.1").unwrap();
    assert!(
        requirements(util::strings(&smallvec["fixed_in"]))
            .iter()
            .any(|r| semver::VersionReq::parse(r).unwrap().matches(&fixed)),
        "{smallvec}"
    );
}

/// A BoM naming smallvec 1.6.0: the component is a violation, and its
/// `advisories` say what fixes it.
#[test]
fn vet_bom_components_carry_their_advisories_with_fixed_in() {
    let env = Env::new();
    let server = Registry::new()
        .publish(Published::archive(
            "smallvec",
            "1.6.0",
            simple_crate("smallvec", "1.6.0", "pub fn f() {}\n"),
        ))
        .start();
    let db = advisory_db();
    let v = vetted(
        env.vet(
            &server,
            &bom(vec![cargo("smallvec", "1.6.0")]),
            &["--advisory-db", &db, "--min-age", "0"],
        ),
        1,
    );
    assert_valid(&validator("vet-bom"), "vet-bom with advisories", &v.report);
    v.expect_status("smallvec", "violation")
        .expect_message("smallvec", &[SMALLVEC_ADVISORY, "1.6.1"]);
    let c = v.component("smallvec");
    let advisories = c["advisories"].as_array().unwrap();
    assert_eq!(advisories.len(), 1, "{c}");
    assert_is_the_advisory(&advisories[0], "smallvec", SMALLVEC_ADVISORY);
    assert_eq!(c["violations"], serde_json::json!([]), "no capability: {c}");
    assert!(c["grant"].is_null(), "an advisory is not granted: {c}");
    assert_eq!(
        v.report["advisory_violations"][0]["fixed_in"],
        advisories[0]["fixed_in"]
    );
}

/// `diff --manifest-path DIR/Cargo.toml --offline ARGS...` run in the
/// workspace `dir` with git isolated (`util::isolate_git`) and an empty
/// `CARGO_HOME`.
fn diff(dir: &Path, tmp: &Path, args: &[&str]) -> Run {
    let mut cmd = util::capgate();
    cmd.current_dir(dir)
        .env("CARGO_HOME", tmp.join("cargo-home"));
    util::isolate_git(&mut cmd, tmp);
    Run::of(&mut cmd, &util::manifest_args("diff", dir, args))
}

/// Base: the vendored fixture without smallvec; head adds it. The new
/// advisory, and the new failing advisory, carry `fixed_in`.
#[test]
fn diff_new_advisories_say_what_fixes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    util::copy_dir(&util::fixture_dir("vendored"), &repo);
    let manifest = repo.join("Cargo.toml");
    let head_manifest = std::fs::read_to_string(&manifest).unwrap();
    let base_manifest: String = head_manifest
        .lines()
        .filter(|l| !l.starts_with("smallvec"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(
        repo.join("capgate.toml"),
        "[defaults]\nallow = [\"fs\", \"env\", \"unsafe\", \"build\", \"unanalyzed\"]\nbuild-script.allow = [\"env\"]\n",
    )
    .unwrap();
    std::fs::write(&manifest, base_manifest).unwrap();
    util::git(&repo, tmp.path(), &["init", "-q"]);
    util::git(&repo, tmp.path(), &["add", "-A"]);
    util::git(&repo, tmp.path(), &["commit", "-q", "-m", "base"]);
    std::fs::write(&manifest, head_manifest).unwrap();

    let db = advisory_db();
    let run = diff(
        &repo,
        tmp.path(),
        &["--base", "HEAD", "--advisory-db", &db, "--format", "json"],
    );
    run.assert_code(1);
    let report: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    assert_valid(&validator("diff"), "diff with advisories", &report);
    for key in ["new_advisories", "new_advisory_violations"] {
        let list = report[key].as_array().unwrap();
        assert_eq!(list.len(), 1, "{key}: {list:?}");
        assert_eq!(list[0]["package"], "smallvec");
        assert_is_the_advisory(&list[0], "smallvec", SMALLVEC_ADVISORY);
    }
}

/// `diff` outside a git repository, and with an unknown revision: the
/// error object.
#[test]
fn diff_errors_are_the_error_object() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    util::copy_dir(&util::fixture_dir("capabilities"), &ws);
    let args = ["--base", "HEAD~1", "--format", "json"];
    assert_error_object(&diff(&ws, tmp.path(), &args), "git");
    util::git(&ws, tmp.path(), &["init", "-q"]);
    util::git(&ws, tmp.path(), &["add", "-A"]);
    util::git(&ws, tmp.path(), &["commit", "-q", "-m", "one"]);
    let args = ["--base", "no-such-rev", "--format", "json"];
    assert_error_object(&diff(&ws, tmp.path(), &args), "no-such-rev");
}

/// `vet-bom` with a BoM that is not JSON, and one whose cargo purl has no
/// version: the error object, naming the line or the component.
#[test]
fn vet_bom_errors_are_the_error_object() {
    let env = Env::new();
    let server = Registry::new().start();
    let run = env.run_raw(&server, "{\n  \"bomFormat\": \n", &["--format", "json"]);
    assert_error_object(&run, "line");
    let b = bom(vec![serde_json::json!({
        "type": "library", "name": "capfix-calm", "purl": "pkg:cargo/capfix-calm",
    })]);
    let run = env.vet(&server, &b, &[]);
    assert_error_object(&run, "capfix-calm");
}
