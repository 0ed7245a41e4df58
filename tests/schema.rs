//! The JSON Schemas under `schemas/`, one per machine output (`scan-v1`,
//! `check-v1`, `vet-bom-v1`, `diff-v1`, `error-v1`, sharing `defs-v1`; and
//! `report-v1`, any of the first three): each is a valid schema, resolves
//! its relative references offline, accepts real output, and is strict
//! enough to reject what the contract forbids. Real vet-bom and diff
//! outputs are validated where those tests run them (`json_actions.rs`,
//! `diff.rs`, `vet_bom.rs`).

use serde_json::{Value, json};

use crate::util::{self, Run, scan, scan_dir};

/// Every schema file, by the name of the output it describes.
pub(crate) const SCHEMAS: &[&str] = &[
    "defs", "scan", "check", "vet-bom", "diff", "error", "report", "explain", "init",
];

fn schema_path(name: &str) -> std::path::PathBuf {
    util::repo_root().join(format!("schemas/{name}-v1.schema.json"))
}

fn schema(name: &str) -> Value {
    let path = schema_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A file URI for a schema, the base its relative `$ref`s resolve against,
/// as they would for a tool reading the files from a checkout.
fn uri(name: &str) -> String {
    let path = schema_path(name);
    format!("file://{}", path.display())
}

/// The validator of output `name` ("scan", "check", "vet-bom", "diff",
/// "error", "report"). Every schema file is registered under its file URI
/// and `offline()` forbids fetching anything, so a reference that does not
/// resolve among the files is an error here.
pub(crate) fn validator(name: &str) -> jsonschema::Validator {
    let mut registry = jsonschema::Registry::new();
    for other in SCHEMAS {
        registry = registry
            .add(uri(other), schema(other))
            .unwrap_or_else(|e| panic!("{other}-v1.schema.json registers: {e}"));
    }
    let registry = registry.prepare().expect("the schemas register");
    jsonschema::options()
        .offline()
        .with_registry(&registry)
        .with_base_uri(uri(name))
        .build(&schema(name))
        .unwrap_or_else(|e| panic!("{name}-v1.schema.json compiles: {e}"))
}

pub(crate) fn assert_valid(validator: &jsonschema::Validator, what: &str, report: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: output does not match the schema\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(report).unwrap()
    );
}

/// `run` exited 2 with `--format json`: stdout is exactly the error
/// object, valid against `error-v1`, and its message contains `needle`.
pub(crate) fn assert_error_object(run: &Run, needle: &str) {
    run.assert_code(2);
    let object: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON object: {e}\n{}", run.describe()));
    assert_valid(&validator("error"), "error object", &object);
    let message = object["error"]["message"].as_str().unwrap_or_default();
    let causes = object["error"]["causes"].to_string();
    assert!(
        message.contains(needle) || causes.contains(needle),
        "the error names {needle:?}\n{}",
        run.describe()
    );
}

#[test]
fn every_schema_is_a_valid_json_schema_that_compiles_offline() {
    for name in SCHEMAS {
        if let Err(e) = jsonschema::meta::validate(&schema(name)) {
            panic!("schemas/{name}-v1.schema.json is not a valid JSON Schema: {e}");
        }
        if *name != "defs" {
            validator(name);
        }
    }
    let defs = schema("defs");
    assert_eq!(defs["$defs"]["schema_version"]["const"], 1);
    let caps: Vec<&str> = defs["$defs"]["capability"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        caps,
        util::CAPABILITIES,
        "the schema's capability enum is DESIGN.md's list"
    );
    let vet_bom = schema("vet-bom");
    let statuses: Vec<&str> = vet_bom["$defs"]["component_status"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(statuses, crate::vet_bom::STATUSES, "vet-bom's statuses");
}

/// Definitions are shared, not copied: no output schema defines a
/// finding, package, violation, grant or advisory of its own, and they
/// reach those through `defs-v1`.
#[test]
fn output_schemas_share_their_definitions() {
    for name in [
        "scan", "check", "vet-bom", "diff", "error", "explain", "init",
    ] {
        let own = schema(name);
        let defs: Vec<&String> = own["$defs"]
            .as_object()
            .map(|d| d.keys().collect())
            .unwrap_or_default();
        for shared in [
            "finding",
            "package",
            "violation",
            "grant",
            "advisory",
            "tool",
        ] {
            assert!(
                !defs.iter().any(|d| *d == shared),
                "{name}-v1 defines {shared} itself"
            );
        }
    }
    for name in [
        "scan", "check", "vet-bom", "diff", "error", "explain", "init",
    ] {
        let text = std::fs::read_to_string(schema_path(name)).unwrap();
        assert!(text.contains("\"defs-v1.schema.json#/$defs/"), "{name}");
    }
}

#[test]
fn every_fixture_report_matches_the_scan_schema() {
    let v = validator("scan");
    let any = validator("report");
    for fixture in util::SCANNABLE_FIXTURES {
        let report = scan(fixture, &[]);
        assert_valid(&v, fixture, &report);
        assert_valid(&any, fixture, &report);
    }
    let variants: [&[&str]; 2] = [
        &[
            "--all-features",
            "--dev",
            "--target",
            "x86_64-unknown-linux-gnu",
        ],
        &["--target", "x86_64-pc-windows-msvc"],
    ];
    for extra in variants {
        let what = format!("features-targets {}", extra.join(" "));
        assert_valid(&v, &what, &scan("features-targets", extra));
    }
}

#[test]
fn deep_nesting_report_matches_the_scan_schema() {
    let tmp = util::copy_fixture("invalid/deep-nesting");
    let body = format!(
        "pub fn deep() -> u32 {{ {}1{} }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    std::fs::write(tmp.path().join("src/deep.rs"), body).unwrap();
    assert_valid(
        &validator("scan"),
        "deep-nesting copy",
        &scan_dir(tmp.path(), &[]),
    );
}

/// `check` on a fixture that passes and one that fails, against
/// `check-v1` (and `report-v1`), but not against `scan-v1`, which has no
/// room for a verdict.
#[test]
fn check_reports_pass_and_fail_match_the_check_schema() {
    let v = validator("check");
    let any = validator("report");
    let scan_only = validator("scan");
    let tmp = util::copy_fixture("capabilities");
    let check = |policy: &str, code: i32| {
        std::fs::write(tmp.path().join("capgate.toml"), policy).unwrap();
        let run = util::check_dir(tmp.path());
        run.assert_code(code);
        run.report()
    };
    let failing = check("[defaults]\nallow = []\n", 1);
    assert!(!failing["violations"].as_array().unwrap().is_empty());
    let passing = check(
        "[defaults]\nallow = [\"fs\", \"net\", \"process\", \"env\", \"unsafe\", \"ffi\", \"build\", \"proc-macro\", \"unanalyzed\"]\nbuild-script.allow = [\"fs\", \"net\", \"process\", \"env\", \"unsafe\", \"ffi\", \"build\", \"proc-macro\", \"unanalyzed\"]\n",
        0,
    );
    for (what, report) in [("failing", &failing), ("passing", &passing)] {
        assert_valid(&v, what, report);
        assert_valid(&any, what, report);
        assert!(!scan_only.is_valid(report), "{what}: not a scan report");
    }
}

fn sample() -> Value {
    json!({
        "schema_version": 1,
        "tool": {"name": "cargo-capgate", "version": "0.1.0"},
        "packages": [{
            "name": "mio", "version": "1.0.2", "purl": "pkg:cargo/mio@1.0.2",
            "source": "registry", "kind": "lib",
            "capabilities": ["net.connect", "unanalyzed"],
            "findings": [
                {"capability": "net.connect", "file": "src/net/tcp/stream.rs", "line": 12, "column": 9,
                 "evidence": "std::net::TcpStream::connect", "rule": "std-net-connect", "via": []},
                {"capability": "unanalyzed", "file": null, "line": null, "column": null,
                 "evidence": "source missing", "rule": "unanalyzed-source", "via": []}
            ],
            "build_script": {"capabilities": [], "findings": []}
        }]
    })
}

#[test]
fn schema_accepts_the_design_example_with_null_locations() {
    assert_valid(&validator("scan"), "sample", &sample());
}

type Mutation = Box<dyn Fn(&mut Value)>;

/// Each mutation of `valid` must be rejected by `validator`.
pub(crate) fn assert_rejects(
    validator: &jsonschema::Validator,
    valid: &Value,
    mutations: Vec<(&str, Mutation)>,
) {
    assert_valid(validator, "the unmutated document", valid);
    for (what, mutate) in mutations {
        let mut r = valid.clone();
        mutate(&mut r);
        assert!(!validator.is_valid(&r), "the schema must reject: {what}");
    }
}

fn remove(path: &'static [&'static str], key: &'static str) -> Mutation {
    Box::new(move |r| {
        let mut v = r;
        for p in path {
            v = match p.parse::<usize>() {
                Ok(i) => &mut v[i],
                Err(_) => &mut v[*p],
            };
        }
        v.as_object_mut().unwrap().remove(key);
    })
}

#[test]
fn scan_schema_rejects_what_the_contract_forbids() {
    let f = &["packages", "0", "findings", "0"];
    assert_rejects(
        &validator("scan"),
        &sample(),
        vec![
            (
                "unknown capability",
                Box::new(|r| r["packages"][0]["findings"][0]["capability"] = json!("fs.delete")),
            ),
            (
                "unknown capability in list",
                Box::new(|r| r["packages"][0]["capabilities"] = json!(["network"])),
            ),
            (
                "duplicate capability",
                Box::new(|r| r["packages"][0]["capabilities"] = json!(["unsafe", "unsafe"])),
            ),
            (
                "extra field on a finding",
                Box::new(|r| r["packages"][0]["findings"][0]["severity"] = json!("high")),
            ),
            (
                "extra field on a package",
                Box::new(|r| r["packages"][0]["license"] = json!("MIT")),
            ),
            (
                "extra field at the top",
                Box::new(|r| r["generated_at"] = json!("now")),
            ),
            (
                "a verdict on a scan",
                Box::new(|r| r["verdict"] = json!("pass")),
            ),
            (
                "line 0",
                Box::new(|r| r["packages"][0]["findings"][0]["line"] = json!(0)),
            ),
            (
                "absolute file",
                Box::new(|r| r["packages"][0]["findings"][0]["file"] = json!("/src/lib.rs")),
            ),
            (
                "backslash file",
                Box::new(|r| r["packages"][0]["findings"][0]["file"] = json!("src\\lib.rs")),
            ),
            ("missing via", remove(f, "via")),
            (
                "missing build_script",
                remove(&["packages", "0"], "build_script"),
            ),
            (
                "unknown source",
                Box::new(|r| r["packages"][0]["source"] = json!("index")),
            ),
            (
                "unknown kind",
                Box::new(|r| r["packages"][0]["kind"] = json!("cdylib")),
            ),
            (
                "bad purl",
                Box::new(|r| r["packages"][0]["purl"] = json!("mio@1.0.2")),
            ),
            (
                "schema_version 2",
                Box::new(|r| r["schema_version"] = json!(2)),
            ),
        ],
    );
}

/// A check report with one violation and its grant, and an advisory.
pub(crate) fn check_sample() -> Value {
    let mut r = sample();
    r["violations"] = json!([{
        "package": "mio", "version": "1.0.2", "capability": "net.connect", "scope": "code",
        "findings": [r["packages"][0]["findings"][0].clone()],
        "grant": {
            "table": "pkg.mio",
            "lines": [{"key": "allow", "add": ["net.connect"]}],
            "toml": "[pkg.mio]\nallow = [\"net.connect\"]\n"
        }
    }]);
    r["advisory_violations"] = json!([{
        "package": "mio", "version": "1.0.2", "id": "RUSTSEC-2000-0001", "kind": "vulnerability",
        "title": "a bug", "url": null, "fixed_in": [">=1.0.3"]
    }]);
    r["verdict"] = json!("fail");
    r
}

#[test]
fn check_schema_rejects_what_the_contract_forbids() {
    let g = &["violations", "0", "grant"];
    assert_rejects(
        &validator("check"),
        &check_sample(),
        vec![
            ("no verdict", remove(&[], "verdict")),
            (
                "verdict error (vet-bom only)",
                Box::new(|r| r["verdict"] = json!("error")),
            ),
            (
                "a violation without a grant",
                remove(&["violations", "0"], "grant"),
            ),
            (
                "a grant for an unknown key",
                Box::new(|r| r["violations"][0]["grant"]["lines"][0]["key"] = json!("deny")),
            ),
            (
                "a grant of nothing",
                Box::new(|r| r["violations"][0]["grant"]["lines"] = json!([])),
            ),
            (
                "a grant line adding nothing",
                Box::new(|r| r["violations"][0]["grant"]["lines"][0]["add"] = json!([])),
            ),
            (
                "a grant of an unknown capability",
                Box::new(|r| r["violations"][0]["grant"]["lines"][0]["add"] = json!(["network"])),
            ),
            (
                "a grant outside [pkg]",
                Box::new(|r| r["violations"][0]["grant"]["table"] = json!("defaults")),
            ),
            ("a grant without its TOML", remove(g, "toml")),
            (
                "an extra field on a grant",
                Box::new(|r| r["violations"][0]["grant"]["reason"] = json!("x")),
            ),
            (
                "an unknown scope",
                Box::new(|r| r["violations"][0]["scope"] = json!("tests")),
            ),
            (
                "an advisory without fixed_in",
                remove(&["advisory_violations", "0"], "fixed_in"),
            ),
            (
                "fixed_in not a list",
                Box::new(|r| r["advisory_violations"][0]["fixed_in"] = json!(">=1.0.3")),
            ),
            (
                "components on a check report",
                Box::new(|r| r["components"] = json!([])),
            ),
        ],
    );
}

#[test]
fn error_schema_rejects_what_the_contract_forbids() {
    let valid = json!({"schema_version": 1, "error": {"message": "bad", "causes": ["worse"]}});
    assert_rejects(
        &validator("error"),
        &valid,
        vec![
            ("no causes", remove(&["error"], "causes")),
            (
                "an empty message",
                Box::new(|r| r["error"]["message"] = json!("")),
            ),
            (
                "a report beside the error",
                Box::new(|r| r["packages"] = json!([])),
            ),
            (
                "a verdict beside the error",
                Box::new(|r| r["verdict"] = json!("pass")),
            ),
            ("no schema version", remove(&[], "schema_version")),
        ],
    );
    assert!(
        !validator("report").is_valid(&valid),
        "an error is no report"
    );
}

/// `scan` and `check` with a bad input print the error object (vet-bom's
/// and diff's are in `json_actions.rs`).
#[test]
fn scan_and_check_errors_are_the_error_object() {
    let missing = util::fixture_dir("no-such-workspace");
    for cmd in ["scan", "check"] {
        let run = util::run_on(cmd, &missing, &["--format", "json"]);
        assert_error_object(&run, "no-such-workspace");
    }
    let tmp = util::copy_fixture("capabilities");
    std::fs::write(
        tmp.path().join("capgate.toml"),
        "[pkg.x]\nallow = [\"nett\"]\n",
    )
    .unwrap();
    let run = util::check_dir(tmp.path());
    assert_error_object(&run, "capgate.toml");
}
