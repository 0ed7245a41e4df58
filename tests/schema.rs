//! The repository's JSON Schema of the report (schemas/report-v1.schema.json)
//! is a valid schema, accepts the real output on every fixture, and is strict
//! enough to reject what the contract forbids.

use serde_json::{Value, json};

use crate::util::{self, scan, scan_dir};

fn schema() -> Value {
    let path = util::repo_root().join("schemas/report-v1.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("the report schema compiles")
}

pub(crate) fn assert_valid(validator: &jsonschema::Validator, what: &str, report: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: report does not match the schema\n{}",
        errors.join("\n")
    );
}

#[test]
fn report_schema_is_a_valid_json_schema() {
    let schema = schema();
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("schemas/report-v1.schema.json is not a valid JSON Schema: {e}");
    }
    assert_eq!(schema["properties"]["schema_version"]["const"], 1);
    let caps: Vec<&str> = schema["$defs"]["capability"]["enum"]
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
}

#[test]
fn every_fixture_report_matches_the_schema() {
    let v = validator();
    for fixture in util::SCANNABLE_FIXTURES {
        assert_valid(&v, fixture, &scan(fixture, &[]));
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
fn deep_nesting_report_matches_the_schema() {
    let tmp = util::copy_fixture("invalid/deep-nesting");
    let body = format!(
        "pub fn deep() -> u32 {{ {}1{} }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    std::fs::write(tmp.path().join("src/deep.rs"), body).unwrap();
    assert_valid(
        &validator(),
        "deep-nesting copy",
        &scan_dir(tmp.path(), &[]),
    );
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
    assert_valid(&validator(), "sample", &sample());
}

#[test]
fn schema_rejects_what_the_contract_forbids() {
    let v = validator();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
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
        (
            "missing via",
            Box::new(|r| {
                r["packages"][0]["findings"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("via");
            }),
        ),
        (
            "missing build_script",
            Box::new(|r| {
                r["packages"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("build_script");
            }),
        ),
        (
            "unknown source",
            Box::new(|r| r["packages"][0]["source"] = json!("crates.io")),
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
    ];
    for (what, mutate) in mutations {
        let mut r = sample();
        mutate(&mut r);
        assert!(!v.is_valid(&r), "the schema must reject: {what}");
    }
}
