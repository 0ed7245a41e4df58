//! `bom` (CycloneDX 1.5 / 1.6 JSON) and RustSec advisories in `bom`, `scan`
//! and `check`, on `fixtures/vendored` with the small advisory database in
//! `fixtures/advisory-db`.
//!
//! `fixtures/vendored` takes its crates.io dependencies from a vendored
//! directory source (`.cargo/config.toml`), so they are real registry
//! packages (`"source": "registry"`, a checksum in Cargo.lock) that resolve
//! offline. Cargo reads `.cargo/config.toml` from the *working directory*,
//! not from `--manifest-path`, so every run here starts inside the copy.
//!
//! | package (version) | how it is reached | capabilities | advisories that match |
//! | --- | --- | --- | --- |
//! | vendored-app 0.1.0 | root, bin only | fs.read | |
//! | app-util 0.1.0 | path member | build, fs.write, unanalyzed; build script env.read | |
//! | base64 0.5.2 | build-dependency of app-util | | none (RUSTSEC-2017-0004 patched) |
//! | clap 2.33.0 | dependency of structopt | | |
//! | humantime 2.1.0 | root | | none (RUSTSEC-2025-0014 is withdrawn) |
//! | personnummer 3.0.0 | root | | RUSTSEC-2020-0166 (notice) |
//! | rand 0.7.2 | root | fs.read | RUSTSEC-2026-0097 (unsound) |
//! | smallvec 1.6.0 | root | unsafe | RUSTSEC-2021-0003 (CVSS:3.1); four older ones patched |
//! | structopt 0.3.11 | root | | RUSTSEC-2022-0104 (unmaintained) |
//! | time 0.3.20 | root | env.read | RUSTSEC-2026-0009 (CVSS:4.0); RUSTSEC-2020-0071 patched |
//!
//! Every run also gets an empty `CARGO_HOME`, so no advisory database at the
//! default location (`$CARGO_HOME/advisory-db`) leaks into a test, and the
//! repository is never written: fixtures are copied to a temporary
//! directory first. Nothing here touches the network.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{self, Run};

const FIXTURE: &str = "vendored";

/// name -> version of every package in the fixture's graph.
const PACKAGES: &[(&str, &str)] = &[
    ("app-util", "0.1.0"),
    ("base64", "0.5.2"),
    ("clap", "2.33.0"),
    ("humantime", "2.1.0"),
    ("personnummer", "3.0.0"),
    ("rand", "0.7.2"),
    ("smallvec", "1.6.0"),
    ("structopt", "0.3.11"),
    ("time", "0.3.20"),
    ("vendored-app", "0.1.0"),
];

/// Packages that are not from the registry (no checksum, no hash).
const PATH_PACKAGES: &[&str] = &["app-util", "vendored-app"];

/// Direct dependencies (normal and build) of each package.
const DEPENDENCIES: &[(&str, &[&str])] = &[
    (
        "vendored-app",
        &[
            "app-util",
            "humantime",
            "personnummer",
            "rand",
            "smallvec",
            "structopt",
            "time",
        ],
    ),
    ("app-util", &["base64"]),
    ("structopt", &["clap"]),
    ("base64", &[]),
    ("clap", &[]),
    ("humantime", &[]),
    ("personnummer", &[]),
    ("rand", &[]),
    ("smallvec", &[]),
    ("time", &[]),
];

/// (package, advisory, kind) of every advisory in fixtures/advisory-db that
/// affects the fixture's graph.
const MATCHES: &[(&str, &str, &str)] = &[
    ("personnummer", "RUSTSEC-2020-0166", "notice"),
    ("rand", "RUSTSEC-2026-0097", "unsound"),
    ("smallvec", "RUSTSEC-2021-0003", "vulnerability"),
    ("structopt", "RUSTSEC-2022-0104", "unmaintained"),
    ("time", "RUSTSEC-2026-0009", "vulnerability"),
];

/// Advisories in the database for crates of the graph that must never match:
/// withdrawn, or the vendored version is patched / unaffected.
const NON_MATCHES: &[(&str, &str)] = &[
    ("humantime", "RUSTSEC-2025-0014"),
    ("base64", "RUSTSEC-2017-0004"),
    ("smallvec", "RUSTSEC-2018-0003"),
    ("smallvec", "RUSTSEC-2018-0018"),
    ("smallvec", "RUSTSEC-2019-0009"),
    ("smallvec", "RUSTSEC-2019-0012"),
    ("time", "RUSTSEC-2020-0071"),
];

/// A policy granting everything the fixture's packages do, so `check`
/// verdicts depend on advisories alone.
const GRANT_ALL: &str = r#"[defaults]
allow = ["fs", "env", "unsafe", "build", "unanalyzed"]
build-script.allow = ["env"]
"#;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A copy of a fixture (or a generated workspace) in a temporary directory
/// with an empty `CARGO_HOME` ([`util::TempWorkspace`]), with the `bom` and
/// `scan` runs these tests make.
struct Project(util::TempWorkspace);

impl std::ops::Deref for Project {
    type Target = util::TempWorkspace;
    fn deref(&self) -> &util::TempWorkspace {
        &self.0
    }
}

impl Project {
    fn empty(ws_name: &str) -> Project {
        Project(util::TempWorkspace::empty(ws_name))
    }

    /// A copy of `fixtures/vendored`.
    fn vendored() -> Project {
        Project(util::TempWorkspace::copy(FIXTURE))
    }

    /// `bom ARGS...`, which must exit 0 with a JSON BoM on stdout.
    fn bom(&self, args: &[&str]) -> Value {
        self.run("bom", args).assert_code(0).json()
    }

    /// `scan --format json ARGS...`, which must exit 0; the report is checked
    /// for the invariants of every report.
    fn scan(&self, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.run("scan", &all).assert_code(0).report()
    }
}

/// The fixture database in the repository (read only).
fn advisory_db() -> String {
    util::fixture_dir("advisory-db").display().to_string()
}

/// A copy of the fixture database at `project`'s scratch path `name`, with
/// only the crate folders in `keep` (all when `None`).
fn copy_advisory_db(project: &Project, name: &str, keep: Option<&[&str]>) -> PathBuf {
    let dst = project.scratch(name);
    util::copy_dir(&util::fixture_dir("advisory-db"), &dst);
    if let Some(keep) = keep {
        for entry in std::fs::read_dir(dst.join("crates")).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !keep.contains(&name.as_str()) {
                std::fs::remove_dir_all(entry.path()).unwrap();
            }
        }
    }
    dst
}

fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A validator for the official CycloneDX schema of `version` ("1.5" or
/// "1.6") from fixtures/schemas/cyclonedx. The schemas `$ref` spdx and jsf by
/// relative URI; both are registered under their `$id`, so nothing is
/// fetched (and `offline()` makes any other reference an error).
fn cyclonedx_validator(version: &str) -> jsonschema::Validator {
    let dir = util::fixture_dir("schemas/cyclonedx");
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load_json(&dir.join("spdx.schema.json")),
        )
        .and_then(|r| {
            r.add(
                "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                load_json(&dir.join("jsf-0.82.schema.json")),
            )
        })
        .and_then(|r| r.prepare())
        .expect("the spdx and jsf schemas register");
    let schema = load_json(&dir.join(format!("bom-{version}.schema.json")));
    jsonschema::options()
        .offline()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("bom-{version}.schema.json compiles: {e}"))
}

fn assert_valid_bom(version: &str, what: &str, bom: &Value) {
    let validator = cyclonedx_validator(version);
    let errors: Vec<String> = validator
        .iter_errors(bom)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: not a valid CycloneDX {version} BoM\n{}",
        errors.join("\n")
    );
}

/// `metadata.component` (when it is given) followed by `components`.
fn all_components(bom: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    if let Some(c) = bom["metadata"].get("component") {
        out.push(c);
    }
    if let Some(list) = bom.get("components") {
        out.extend(list.as_array().expect("components is an array"));
    }
    out
}

/// The one component (metadata.component or in components) with this name.
fn component<'a>(bom: &'a Value, name: &str) -> &'a Value {
    let found: Vec<&Value> = all_components(bom)
        .into_iter()
        .filter(|c| c["name"] == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one component named {name} (in metadata.component and components): {found:?}"
    );
    found[0]
}

fn bom_ref(c: &Value) -> String {
    c["bom-ref"]
        .as_str()
        .unwrap_or_else(|| panic!("component without a bom-ref: {c}"))
        .to_string()
}

/// Every `bom-ref` anywhere in the document.
fn collect_bom_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "bom-ref"
                    && let Some(s) = child.as_str()
                {
                    out.push(s);
                }
                collect_bom_refs(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_bom_refs(i, out)),
        _ => {}
    }
}

/// Values of the component's properties named `name`, sorted.
fn properties(c: &Value, name: &str) -> Vec<String> {
    let mut out: Vec<String> = c
        .get("properties")
        .and_then(Value::as_array)
        .map(|props| {
            props
                .iter()
                .filter(|p| p["name"] == name)
                .map(|p| {
                    p["value"]
                        .as_str()
                        .unwrap_or_else(|| panic!("property value is a string: {p}"))
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// name -> checksum of the registry packages in a Cargo.lock.
fn lock_checksums(lock: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(lock).unwrap_or_else(|e| panic!("{}: {e}", lock.display()));
    let table: toml::Table = text.parse().expect("Cargo.lock is TOML");
    let mut out = BTreeMap::new();
    for p in table["package"].as_array().unwrap() {
        if let Some(sum) = p.get("checksum").and_then(|c| c.as_str()) {
            out.insert(p["name"].as_str().unwrap().to_string(), sum.to_string());
        }
    }
    out
}

/// One advisory of fixtures/advisory-db as the fixture file says it.
struct Advisory {
    title: String,
    url: Option<String>,
    aliases: Vec<String>,
    cvss: Option<String>,
    patched: Vec<String>,
}

fn advisory(krate: &str, id: &str) -> Advisory {
    let path = util::fixture_dir("advisory-db")
        .join("crates")
        .join(krate)
        .join(format!("{id}.md"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = text.strip_prefix("```toml\n").expect("front matter");
    let (front, rest) = body.split_once("\n```\n").expect("end of front matter");
    let table: toml::Table = front.parse().expect("front matter is TOML");
    let adv = table["advisory"].as_table().unwrap();
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let title = rest
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .expect("a title")
        .trim()
        .to_string();
    Advisory {
        title,
        url: adv.get("url").map(|u| u.as_str().unwrap().to_string()),
        aliases: strings(adv.get("aliases")),
        cvss: adv.get("cvss").map(|u| u.as_str().unwrap().to_string()),
        patched: strings(table["versions"].get("patched")),
    }
}

fn version_of(name: &str) -> &'static str {
    PACKAGES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is not a fixture package"))
        .1
}

/// A manifest's `[package]` table.
fn manifest_package(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: toml::Table = text.parse().unwrap();
    table["package"].as_table().unwrap().clone()
}

/// name -> `[package]` table of every package of the fixture.
fn fixture_manifests() -> BTreeMap<String, toml::Table> {
    let root = util::fixture_dir(FIXTURE);
    let mut paths = vec![
        root.join("Cargo.toml"),
        root.join("crates/app-util/Cargo.toml"),
    ];
    for entry in std::fs::read_dir(root.join("vendor")).unwrap() {
        paths.push(entry.unwrap().path().join("Cargo.toml"));
    }
    paths
        .iter()
        .map(|p| {
            let pkg = manifest_package(p);
            (pkg["name"].as_str().unwrap().to_string(), pkg)
        })
        .collect()
}

/// (package, version, id, kind) of a check report's `advisory_violations`.
fn advisory_violations(report: &Value) -> BTreeSet<(String, String, String, String)> {
    report["advisory_violations"]
        .as_array()
        .unwrap_or_else(|| panic!("advisory_violations is an array: {report}"))
        .iter()
        .map(|v| {
            let s = |k: &str| {
                v[k].as_str()
                    .unwrap_or_else(|| panic!("{k} is a string in {v}"))
                    .to_string()
            };
            (s("package"), s("version"), s("id"), s("kind"))
        })
        .collect()
}

fn expected_advisory_violations(ids: &[&str]) -> BTreeSet<(String, String, String, String)> {
    MATCHES
        .iter()
        .filter(|(_, id, _)| ids.contains(id))
        .map(|(p, id, kind)| {
            (
                p.to_string(),
                version_of(p).to_string(),
                id.to_string(),
                kind.to_string(),
            )
        })
        .collect()
}

/// The ids of the advisories `check` fails on (not the notice).
const FAILING: &[&str] = &[
    "RUSTSEC-2021-0003",
    "RUSTSEC-2022-0104",
    "RUSTSEC-2026-0009",
    "RUSTSEC-2026-0097",
];

// ---------------------------------------------------------------------------
// The fixture itself
// ---------------------------------------------------------------------------

#[test]
fn vendored_fixture_scans_as_registry_packages_with_its_markers() {
    let p = Project::vendored();
    let report = p.scan(&[]);
    let expected: Vec<&str> = PACKAGES.iter().map(|(n, _)| *n).collect();
    util::assert_packages(&report, &expected);
    for (name, version) in PACKAGES {
        let pkg = util::package(&report, name);
        assert_eq!(pkg["version"], *version, "{name}");
        if PATH_PACKAGES.contains(name) {
            assert_ne!(pkg["source"], "registry", "{name} is a path package");
        } else {
            assert_eq!(
                pkg["source"], "registry",
                "{name} comes from the vendored registry source"
            );
        }
    }
    assert_eq!(util::package(&report, "vendored-app")["kind"], "bin");
    util::Fixture::load(&p.ws).assert_matches(&report);
}

#[test]
fn vendored_lock_file_checksums_are_the_vendored_package_sums() {
    // A directory source is only usable if Cargo.lock's checksum of each
    // package is the `package` sum of its `.cargo-checksum.json`.
    let root = util::fixture_dir(FIXTURE);
    let locked = lock_checksums(&root.join("Cargo.lock"));
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("vendor")).unwrap() {
        let dir = entry.unwrap().path();
        let sums = load_json(&dir.join(".cargo-checksum.json"));
        let name = manifest_package(&dir.join("Cargo.toml"))["name"]
            .as_str()
            .unwrap()
            .to_string();
        let files: BTreeSet<&str> = sums["files"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            files,
            BTreeSet::from(["Cargo.toml", "src/lib.rs"]),
            "{name}: files"
        );
        assert_eq!(
            locked.get(&name).map(String::as_str),
            sums["package"].as_str(),
            "{name}: Cargo.lock checksum is .cargo-checksum.json's package"
        );
        seen.insert(name);
    }
    let registry: BTreeSet<String> = PACKAGES
        .iter()
        .filter(|(n, _)| !PATH_PACKAGES.contains(n))
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(
        seen, registry,
        "vendor/ holds exactly the registry packages"
    );
    assert_eq!(locked.keys().cloned().collect::<BTreeSet<_>>(), registry);
}

// ---------------------------------------------------------------------------
// The validator itself (runs without the binary)
// ---------------------------------------------------------------------------

#[test]
fn cyclonedx_schemas_validate_offline_and_reject_invalid_boms() {
    for version in ["1.5", "1.6"] {
        let good = serde_json::json!({
            "bomFormat": "CycloneDX",
            "specVersion": version,
            "version": 1,
            "components": [{
                "type": "library", "bom-ref": "pkg:cargo/rand@0.7.2", "name": "rand",
                "version": "0.7.2", "purl": "pkg:cargo/rand@0.7.2",
                "licenses": [{"expression": "MIT OR Apache-2.0"}],
                "hashes": [{"alg": "SHA-256", "content": "abecf537db4049ac5f2f63a46541f936cc4e096ea93ef917c27d468082f61fb7"}]
            }]
        });
        assert_valid_bom(version, "a minimal BoM", &good);
        let v = cyclonedx_validator(version);
        let mut bad = good.clone();
        bad["components"][0]["type"] = "crate".into();
        assert!(!v.is_valid(&bad), "{version}: unknown component type");
        let mut bad = good.clone();
        bad["components"][0]["hashes"][0]["alg"] = "SHA256".into();
        assert!(!v.is_valid(&bad), "{version}: unknown hash algorithm");
        let mut bad = good.clone();
        bad["components"][0]["licenses"][0] =
            serde_json::json!({"license": {"id": "NOT-A-LICENSE"}});
        assert!(
            !v.is_valid(&bad),
            "{version}: unknown SPDX id (spdx.schema.json resolved)"
        );
        let mut bad = good.clone();
        bad["components"][0]["capabilities"] = serde_json::json!(["fs"]);
        assert!(!v.is_valid(&bad), "{version}: unknown property");
    }
}

// ---------------------------------------------------------------------------
// bom
// ---------------------------------------------------------------------------

#[test]
fn bom_1_5_and_1_6_are_valid_cyclonedx_with_unique_refs() {
    let p = Project::vendored();
    for (version, args) in [
        ("1.5", &["--spec-version", "1.5"][..]),
        ("1.6", &["--spec-version", "1.6"][..]),
    ] {
        let bom = p.bom(args);
        assert_eq!(bom["bomFormat"], "CycloneDX");
        assert_eq!(bom["specVersion"], version);
        assert_valid_bom(version, &format!("vendored bom {version}"), &bom);

        let mut refs = Vec::new();
        collect_bom_refs(&bom, &mut refs);
        let unique: BTreeSet<&str> = refs.iter().copied().collect();
        assert_eq!(
            unique.len(),
            refs.len(),
            "{version}: every bom-ref in the document is unique: {refs:?}"
        );
    }
    // 1.6 is the default.
    assert_eq!(p.bom(&[])["specVersion"], "1.6");
}

#[test]
fn bom_has_one_component_per_package_like_scan() {
    let p = Project::vendored();
    let scan = p.scan(&[]);
    let locked = lock_checksums(&p.path("Cargo.lock"));
    let manifests = fixture_manifests();
    for version in ["1.5", "1.6"] {
        let bom = p.bom(&["--spec-version", version]);
        let components = all_components(&bom);
        assert_eq!(
            components.len(),
            PACKAGES.len(),
            "{version}: one component per package (metadata.component included): {:?}",
            components.iter().map(|c| &c["name"]).collect::<Vec<_>>()
        );
        assert_eq!(bom["metadata"]["component"]["name"], "vendored-app");
        assert_eq!(bom["metadata"]["component"]["type"], "application");

        for pkg in util::packages(&scan) {
            let name = pkg["name"].as_str().unwrap();
            let c = component(&bom, name);
            let what = format!("{version} {name}");
            assert_eq!(c["version"], pkg["version"], "{what}: version");
            assert_eq!(c["purl"], pkg["purl"], "{what}: purl equals scan's");
            let plain = format!("pkg:cargo/{name}@{}", version_of(name));
            if pkg["source"] == "registry" {
                assert_eq!(
                    c["purl"], plain,
                    "{what}: default-registry purl has no qualifier"
                );
            } else {
                // Local crates are never read back as registry crates.
                let dir = pkg["source"].as_str().unwrap();
                assert!(
                    c["purl"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{plain}?download_url=file:")),
                    "{what}: a {dir} crate's purl names its directory: {}",
                    c["purl"]
                );
            }
            let kind = if name == "vendored-app" {
                "application"
            } else {
                "library"
            };
            assert_eq!(c["type"], kind, "{what}: type");

            // Hashes: the Cargo.lock checksum, none for path packages.
            let hashes = c.get("hashes").cloned().unwrap_or(Value::Array(vec![]));
            match locked.get(name) {
                Some(sum) => assert_eq!(
                    hashes,
                    serde_json::json!([{"alg": "SHA-256", "content": sum}]),
                    "{what}: hashes"
                ),
                None => {
                    assert!(PATH_PACKAGES.contains(&name), "{what} has a checksum");
                    assert_eq!(
                        hashes,
                        serde_json::json!([]),
                        "{what}: path package has no hash"
                    );
                }
            }

            // Manifest metadata.
            let m = &manifests[name];
            assert_eq!(
                c["licenses"],
                serde_json::json!([{"expression": "MIT OR Apache-2.0"}]),
                "{what}: licenses"
            );
            assert_eq!(
                c["description"],
                m["description"].as_str().unwrap(),
                "{what}: description"
            );
            let mut expected_refs = BTreeSet::new();
            for (key, kind) in [
                ("repository", "vcs"),
                ("documentation", "documentation"),
                ("homepage", "website"),
            ] {
                if let Some(url) = m.get(key) {
                    expected_refs.insert((kind.to_string(), url.as_str().unwrap().to_string()));
                }
            }
            let actual_refs: BTreeSet<(String, String)> = c
                .get("externalReferences")
                .and_then(Value::as_array)
                .map(|refs| {
                    refs.iter()
                        .map(|r| {
                            (
                                r["type"].as_str().unwrap().to_string(),
                                r["url"].as_str().unwrap().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(actual_refs, expected_refs, "{what}: externalReferences");
        }
    }
}

#[test]
fn bom_dependencies_are_the_graph() {
    let p = Project::vendored();
    for version in ["1.5", "1.6"] {
        let bom = p.bom(&["--spec-version", version]);
        let name_of: BTreeMap<String, String> = all_components(&bom)
            .into_iter()
            .map(|c| (bom_ref(c), c["name"].as_str().unwrap().to_string()))
            .collect();
        let deps = bom["dependencies"].as_array().expect("dependencies");
        let mut actual: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for d in deps {
            let r = d["ref"].as_str().expect("ref");
            let name = name_of
                .get(r)
                .unwrap_or_else(|| panic!("{version}: dependency ref {r} names no component"));
            let on: BTreeSet<String> = d
                .get("dependsOn")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            let x = x.as_str().unwrap();
                            name_of
                                .get(x)
                                .unwrap_or_else(|| {
                                    panic!("{version}: dependsOn {x} names no component")
                                })
                                .clone()
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert!(
                actual.insert(name.clone(), on).is_none(),
                "{version}: one dependencies entry per component, {name} has several"
            );
        }
        let expected: BTreeMap<String, BTreeSet<String>> = DEPENDENCIES
            .iter()
            .map(|(n, on)| (n.to_string(), on.iter().map(|s| s.to_string()).collect()))
            .collect();
        assert_eq!(
            actual, expected,
            "{version}: dependencies (normal and build)"
        );
    }
}

#[test]
fn bom_properties_carry_the_capabilities_of_scan() {
    let p = Project::vendored();
    let scan = p.scan(&[]);
    for version in ["1.5", "1.6"] {
        let bom = p.bom(&["--spec-version", version]);
        for pkg in util::packages(&scan) {
            let name = pkg["name"].as_str().unwrap();
            let c = component(&bom, name);
            let what = format!("{version} {name}");
            assert_eq!(
                properties(c, "capgate:capability"),
                util::strings(&pkg["capabilities"]),
                "{what}: capgate:capability properties"
            );
            assert_eq!(
                properties(c, "capgate:build-script:capability"),
                util::strings(&pkg["build_script"]["capabilities"]),
                "{what}: capgate:build-script:capability properties"
            );
            let unanalyzed = pkg["capabilities"]
                .as_array()
                .unwrap()
                .iter()
                .chain(pkg["build_script"]["capabilities"].as_array().unwrap())
                .any(|c| c == "unanalyzed");
            let reasons = properties(c, "capgate:unanalyzed:reason");
            if unanalyzed {
                assert!(
                    !reasons.is_empty(),
                    "{what}: unanalyzed needs a reason property"
                );
                assert!(
                    reasons.iter().all(|r| !r.trim().is_empty()),
                    "{what}: {reasons:?}"
                );
            } else {
                assert!(
                    reasons.is_empty(),
                    "{what}: no unanalyzed finding, yet {reasons:?}"
                );
            }
        }
    }
    // The fixture exercises every kind of property.
    let bom = p.bom(&[]);
    assert_eq!(
        properties(component(&bom, "rand"), "capgate:capability"),
        ["fs.read"]
    );
    let util_c = component(&bom, "app-util");
    assert_eq!(
        properties(util_c, "capgate:capability"),
        ["build", "fs.write", "unanalyzed"]
    );
    assert_eq!(
        properties(util_c, "capgate:build-script:capability"),
        ["env.read"]
    );
    assert_eq!(properties(util_c, "capgate:unanalyzed:reason").len(), 1);
}

#[test]
fn bom_1_6_has_evidence_occurrences_and_1_5_does_not() {
    let p = Project::vendored();
    let scan = p.scan(&[]);

    let bom = p.bom(&["--spec-version", "1.6"]);
    for pkg in util::packages(&scan) {
        let name = pkg["name"].as_str().unwrap();
        let c = component(&bom, name);
        let occurrences: Vec<Value> = c["evidence"]["occurrences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for f in pkg["findings"].as_array().unwrap() {
            let (Some(file), Some(line)) = (f["file"].as_str(), f["line"].as_u64()) else {
                continue;
            };
            let expected = serde_json::json!({
                "location": file,
                "line": line,
                "symbol": f["evidence"],
                "additionalContext": f["capability"],
            });
            assert!(
                occurrences.iter().any(|o| {
                    o["location"] == expected["location"]
                        && o["line"] == expected["line"]
                        && o["symbol"] == expected["symbol"]
                        && o["additionalContext"] == expected["additionalContext"]
                }),
                "1.6 {name}: no occurrence {expected} in {occurrences:?}"
            );
        }
        if pkg["findings"].as_array().unwrap().is_empty()
            && pkg["build_script"]["findings"]
                .as_array()
                .unwrap()
                .is_empty()
        {
            assert!(
                occurrences.is_empty(),
                "1.6 {name}: occurrences without findings"
            );
        }
    }
    // The contract's example, verbatim.
    let rand = component(&bom, "rand");
    assert!(
        rand["evidence"]["occurrences"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({
                "location": "src/lib.rs", "line": 3, "symbol": "std::fs::read",
                "additionalContext": "fs.read"
            })),
        "rand: {}",
        rand["evidence"]
    );

    let bom = p.bom(&["--spec-version", "1.5"]);
    for c in all_components(&bom) {
        assert!(
            c.get("evidence")
                .and_then(|e| e.get("occurrences"))
                .is_none(),
            "1.5 has no evidence.occurrences: {}",
            c["name"]
        );
    }
}

#[test]
fn bom_output_writes_the_file_instead_of_stdout() {
    let p = Project::vendored();
    let out = p.scratch("out/bom.cdx.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let out_s = out.display().to_string();
    let r = p.run("bom", &["--spec-version", "1.5", "--output", &out_s]);
    r.assert_code(0);
    assert!(
        !r.stdout.contains("bomFormat"),
        "with --output the BoM is not on stdout\n{}",
        r.describe()
    );
    let bom = load_json(&out);
    assert_eq!(bom["specVersion"], "1.5");
    assert_valid_bom("1.5", "bom --output", &bom);
    assert_eq!(all_components(&bom).len(), PACKAGES.len());
}

#[test]
fn bom_of_a_virtual_workspace_names_it_after_its_directory() {
    // Generated here rather than kept as a fixture: a member whose version
    // has build metadata (`+`) and a bin-only member.
    let p = Project::empty("virtual-ws");
    p.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
    );
    p.write(
        "crates/plus/Cargo.toml",
        "[package]\nname = \"plus\"\nversion = \"0.1.0+local.1\"\nedition = \"2021\"\nlicense = \"MIT\"\n",
    );
    p.write(
        "crates/plus/src/lib.rs",
        "pub fn one() -> u32 {\n    1\n}\n",
    );
    p.write(
        "crates/tool/Cargo.toml",
        "[package]\nname = \"tool\"\nversion = \"0.2.0\"\nedition = \"2021\"\n\n[dependencies]\nplus = { path = \"../plus\" }\n",
    );
    p.write(
        "crates/tool/src/main.rs",
        "fn main() {\n    let _ = plus::one();\n}\n",
    );

    for version in ["1.5", "1.6"] {
        let bom = p.bom(&["--spec-version", version]);
        assert_valid_bom(version, "virtual workspace", &bom);
        assert_eq!(
            bom["metadata"]["component"]["name"], "virtual-ws",
            "{version}: metadata.component is named after the workspace directory"
        );
        let components = bom["components"].as_array().expect("components");
        let find = |name: &str| {
            components
                .iter()
                .find(|c| c["name"] == name)
                .unwrap_or_else(|| panic!("{version}: no component {name}"))
        };
        let plus = find("plus");
        assert_eq!(plus["version"], "0.1.0+local.1");
        assert_eq!(
            plus["purl"], "pkg:cargo/plus@0.1.0%2Blocal.1?download_url=file:%2F%2Fcrates%2Fplus",
            "{version}: `+` in a version is percent-encoded in the purl, a member names its directory"
        );
        assert_eq!(plus["type"], "library");
        assert_eq!(plus["licenses"], serde_json::json!([{"expression": "MIT"}]));
        let tool = find("tool");
        assert_eq!(tool["type"], "application", "{version}: bin-only member");
        assert!(
            tool.get("licenses").is_none(),
            "{version}: tool has no licence"
        );
        assert_eq!(
            tool["purl"],
            "pkg:cargo/tool@0.2.0?download_url=file:%2F%2Fcrates%2Ftool"
        );

        let mut refs = Vec::new();
        collect_bom_refs(&bom, &mut refs);
        let unique: BTreeSet<&str> = refs.iter().copied().collect();
        assert_eq!(
            unique.len(),
            refs.len(),
            "{version}: unique bom-refs {refs:?}"
        );
        let tool_deps = bom["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["ref"] == tool["bom-ref"])
            .unwrap_or_else(|| panic!("{version}: tool has a dependencies entry"));
        assert_eq!(tool_deps["dependsOn"], serde_json::json!([plus["bom-ref"]]));
    }

    // scan reports the same purl (read without the shape checks of
    // util::Run::report, which assume versions without `+`).
    let r = p.run("scan", &["--format", "json"]);
    r.assert_code(0);
    let scan: Value = serde_json::from_str(&r.stdout).unwrap();
    let plus = util::packages(&scan)
        .iter()
        .find(|p| p["name"] == "plus")
        .expect("plus in scan");
    assert_eq!(
        plus["purl"],
        "pkg:cargo/plus@0.1.0%2Blocal.1?download_url=file:%2F%2Fcrates%2Fplus"
    );
}

// ---------------------------------------------------------------------------
// purl test data (package-url/purl-spec)
// ---------------------------------------------------------------------------

#[test]
fn purls_match_the_purl_spec_cargo_test_cases() {
    let data = load_json(&util::fixture_dir("purl/tests/types/cargo-test.json"));
    let p = Project::vendored();
    let bom = p.bom(&[]);
    let scan = p.scan(&[]);
    let mut checked = 0;
    for case in data["tests"].as_array().unwrap() {
        let kind = case["test_type"].as_str().unwrap();
        if !["build", "validate"].contains(&kind) || case["expected_failure"] != false {
            continue;
        }
        let expected = case["expected_output"].as_str().unwrap();
        assert!(expected.starts_with("pkg:cargo/"), "{case}");
        let (name, version) = match kind {
            "build" => {
                let input = &case["input"];
                assert_eq!(input["type"], "cargo");
                assert!(
                    input["namespace"].is_null()
                        && input["qualifiers"].is_null()
                        && input["subpath"].is_null()
                );
                (
                    input["name"].as_str().unwrap().to_string(),
                    input["version"].as_str().unwrap().to_string(),
                )
            }
            _ => {
                let input = case["input"].as_str().unwrap();
                let rest = input.strip_prefix("pkg:cargo/").expect("a cargo purl");
                let (n, v) = rest.split_once('@').expect("with a version");
                (n.to_string(), v.to_string())
            }
        };
        // Every case names a crate the fixture vendors at that version, so
        // the rule is checked through the real output.
        let c = component(&bom, &name);
        assert_eq!(c["version"], version.as_str(), "{case}");
        assert_eq!(c["purl"], expected, "bom purl for {case}");
        let s = util::packages(&scan)
            .iter()
            .find(|p| p["name"] == name.as_str())
            .unwrap();
        assert_eq!(s["purl"], expected, "scan purl for {case}");
        checked += 1;
    }
    assert_eq!(
        checked, 6,
        "the 3 build and 3 validate cases of cargo-test.json"
    );
}

// ---------------------------------------------------------------------------
// Advisories in the BoM
// ---------------------------------------------------------------------------

#[test]
fn bom_vulnerabilities_are_the_matching_advisories() {
    let p = Project::vendored();
    let db = advisory_db();
    for version in ["1.5", "1.6"] {
        let bom = p.bom(&["--spec-version", version, "--advisory-db", &db]);
        assert_valid_bom(version, &format!("bom {version} with advisories"), &bom);
        let name_of: BTreeMap<String, String> = all_components(&bom)
            .into_iter()
            .map(|c| (bom_ref(c), c["name"].as_str().unwrap().to_string()))
            .collect();
        let vulns = bom["vulnerabilities"].as_array().expect("vulnerabilities");
        let mut actual = BTreeSet::new();
        for v in vulns {
            let id = v["id"].as_str().expect("id").to_string();
            assert_eq!(v["source"]["name"], "RustSec", "{version} {id}: source");
            let affects = v["affects"].as_array().expect("affects");
            assert_eq!(
                affects.len(),
                1,
                "{version} {id}: one vulnerability per (advisory, affected)"
            );
            let r = affects[0]["ref"].as_str().unwrap();
            let name = name_of
                .get(r)
                .unwrap_or_else(|| panic!("{version} {id}: affects {r}, which is no component"))
                .clone();
            assert!(
                actual.insert((name.clone(), id.clone())),
                "{version}: {id} twice for {name}"
            );

            let adv = advisory(&name, &id);
            let what = format!("{version} {id}");
            assert!(
                v["description"]
                    .as_str()
                    .is_some_and(|d| !d.trim().is_empty()),
                "{what}: description"
            );
            let ratings = v
                .get("ratings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match &adv.cvss {
                Some(vector) => {
                    let method = if vector.starts_with("CVSS:4.0/") {
                        "CVSSv4"
                    } else if vector.starts_with("CVSS:3.1/") {
                        "CVSSv31"
                    } else {
                        "CVSSv3"
                    };
                    assert!(
                        ratings
                            .iter()
                            .any(|r| r["method"] == method && r["vector"] == vector.as_str()),
                        "{what}: a {method} rating with vector {vector}: {ratings:?}"
                    );
                }
                None => assert!(
                    ratings.iter().all(|r| r.get("vector").is_none()),
                    "{what}: no cvss, no vector: {ratings:?}"
                ),
            }
            if !adv.patched.is_empty() {
                let rec = v["recommendation"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{what}: recommendation"));
                // Each patched requirement's lowest version is named.
                for req in &adv.patched {
                    let lowest = req
                        .split(',')
                        .find_map(|part| part.trim().strip_prefix(">="))
                        .map(str::trim);
                    if let Some(lowest) = lowest {
                        assert!(
                            rec.contains(lowest),
                            "{what}: recommendation names {lowest}: {rec:?}"
                        );
                    }
                }
            }
        }
        let expected: BTreeSet<(String, String)> = MATCHES
            .iter()
            .map(|(n, id, _)| (n.to_string(), id.to_string()))
            .collect();
        assert_eq!(actual, expected, "{version}: (package, advisory) pairs");
        for (name, id) in NON_MATCHES {
            assert!(
                !vulns.iter().any(|v| v["id"] == *id),
                "{version}: {id} ({name}) must not appear"
            );
        }
    }
}

#[test]
fn bom_rates_cvss_3_1_and_4_0_vectors() {
    let p = Project::vendored();
    let bom = p.bom(&["--advisory-db", &advisory_db()]);
    let vulns = bom["vulnerabilities"].as_array().expect("vulnerabilities");
    let rating = |id: &str| -> Vec<Value> {
        vulns
            .iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("{id} in vulnerabilities"))["ratings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        rating("RUSTSEC-2021-0003")
            .iter()
            .any(|r| r["method"] == "CVSSv31"
                && r["vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );
    assert!(
        rating("RUSTSEC-2026-0009")
            .iter()
            .any(|r| r["method"] == "CVSSv4"
                && r["vector"]
                    == "CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:N/VA:H/SC:N/SI:N/SA:H")
    );
}

// ---------------------------------------------------------------------------
// Advisories in scan and check
// ---------------------------------------------------------------------------

#[test]
fn scan_reports_advisories_per_package() {
    let p = Project::vendored();
    let report = p.scan(&["--advisory-db", &advisory_db()]);
    for (name, version) in PACKAGES {
        let pkg = util::package(&report, name);
        let list = pkg["advisories"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: advisories is an array: {pkg}"));
        let expected: Vec<&(&str, &str, &str)> =
            MATCHES.iter().filter(|(n, _, _)| n == name).collect();
        let ids: Vec<&str> = list.iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            expected.iter().map(|(_, id, _)| *id).collect::<Vec<_>>(),
            "{name}: advisory ids"
        );
        for ((_, id, kind), a) in expected.iter().zip(list) {
            let adv = advisory(name, id);
            assert_eq!(a["kind"], *kind, "{id}: kind");
            assert_eq!(a["title"], adv.title.as_str(), "{id}: title");
            assert_eq!(util::strings(&a["aliases"]), adv.aliases, "{id}: aliases");
            match &adv.url {
                Some(url) => assert_eq!(a["url"], url.as_str(), "{id}: url"),
                None => assert!(a["url"].is_null(), "{id}: url"),
            }
            // `patched` holds the advisory's requirements: none matches the
            // vendored version, and they are as many as the advisory's.
            let patched = util::strings(&a["patched"]);
            assert_eq!(
                patched.len(),
                adv.patched.len(),
                "{id}: patched {patched:?}"
            );
            let v = semver::Version::parse(version).unwrap();
            for req in &patched {
                let req = semver::VersionReq::parse(req).unwrap_or_else(|e| {
                    panic!("{id}: patched {req:?} is a version requirement: {e}")
                });
                assert!(
                    !req.matches(&v),
                    "{id}: {name} {version} matches patched {req}"
                );
            }
        }
    }
    // A patched version of the crate the vulnerability is about does match
    // a `patched` requirement of it.
    let smallvec = &util::package(&report, "smallvec")["advisories"][0];
    let fixed = semver::Version::parse("1.6.1").unwrap();
    assert!(
        util::strings(&smallvec["patched"])
            .iter()
            .any(|r| semver::VersionReq::parse(r).unwrap().matches(&fixed))
    );
}

#[test]
fn without_an_advisory_database_scan_and_check_work_and_say_so() {
    let p = Project::vendored();
    p.write("capgate.toml", GRANT_ALL);
    let r = p.run("scan", &["--format", "json"]);
    r.assert_code(0).report();
    assert!(
        r.stderr.to_lowercase().contains("advisor"),
        "scan says advisories were not checked\n{}",
        r.describe()
    );
    let r = p.run("check", &[]);
    r.assert_code(0);
    assert!(
        r.stderr.to_lowercase().contains("advisor"),
        "check says advisories were not checked\n{}",
        r.describe()
    );
}

#[test]
fn check_fails_on_vulnerable_unsound_and_unmaintained_packages() {
    let p = Project::vendored();
    p.write("capgate.toml", GRANT_ALL);
    let db = advisory_db();

    let r = p.run("check", &["--format", "json", "--advisory-db", &db]);
    r.assert_code(1);
    let report = r.report();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(
        report["violations"],
        serde_json::json!([]),
        "capabilities are all granted"
    );
    assert_eq!(
        advisory_violations(&report),
        expected_advisory_violations(FAILING),
        "the notice (RUSTSEC-2020-0166) is no violation"
    );

    let r = p.run("check", &["--advisory-db", &db]);
    r.assert_code(1);
    let out = format!("{}{}", r.stdout, r.stderr);
    for id in FAILING {
        assert!(out.contains(id), "human check names {id}\n{}", r.describe());
    }
}

#[test]
fn check_passes_when_the_policy_ignores_the_advisories() {
    let db = advisory_db();
    let lists = [
        format!(
            "{GRANT_ALL}\n[advisories]\nignore = [{}]\n",
            FAILING
                .iter()
                .map(|id| format!("\"{id}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "{GRANT_ALL}\n[advisories]\nignore = [\n{}]\n",
            FAILING
                .iter()
                .map(|id| format!(
                    "    {{ id = \"{id}\", reason = \"test fixture, never built\" }},\n"
                ))
                .collect::<String>()
        ),
    ];
    for policy in &lists {
        let p = Project::vendored();
        p.write("capgate.toml", policy);
        let r = p.run("check", &["--format", "json", "--advisory-db", &db]);
        r.assert_code(0);
        let report = r.report();
        assert_eq!(report["verdict"], "pass", "{policy}");
        assert_eq!(advisory_violations(&report), BTreeSet::new(), "{policy}");
        assert!(
            r.stderr.contains("RUSTSEC-2020-0166"),
            "the notice is still a warning\n{}",
            r.describe()
        );
    }

    // Ignoring all but one still fails, on that one.
    let p = Project::vendored();
    p.write(
        "capgate.toml",
        &format!(
            "{GRANT_ALL}\n[advisories]\nignore = [\"RUSTSEC-2021-0003\", \"RUSTSEC-2022-0104\", \"RUSTSEC-2026-0097\"]\n"
        ),
    );
    let r = p.run("check", &["--format", "json", "--advisory-db", &db]);
    r.assert_code(1);
    assert_eq!(
        advisory_violations(&r.report()),
        expected_advisory_violations(&["RUSTSEC-2026-0009"])
    );
}

#[test]
fn informational_notices_only_warn() {
    let p = Project::vendored();
    p.write("capgate.toml", GRANT_ALL);
    let db = copy_advisory_db(
        &p,
        "advisory-db",
        Some(&["personnummer", "humantime", "base64"]),
    );
    let db = db.display().to_string();
    let r = p.run("check", &["--format", "json", "--advisory-db", &db]);
    r.assert_code(0);
    let report = r.report();
    assert_eq!(report["verdict"], "pass");
    assert_eq!(advisory_violations(&report), BTreeSet::new());
    assert!(
        r.stderr.contains("RUSTSEC-2020-0166"),
        "the notice is a warning on stderr\n{}",
        r.describe()
    );
    assert!(
        !r.stderr.contains("RUSTSEC-2025-0014"),
        "withdrawn: not even a warning"
    );
    let pkg = util::package(&report, "personnummer");
    assert_eq!(pkg["advisories"][0]["kind"], "notice");
}

#[test]
fn advisory_reports_match_the_report_schema() {
    // The JSON Schemas document the `advisories` and `advisory_violations`
    // extensions.
    let p = Project::vendored();
    p.write("capgate.toml", GRANT_ALL);
    let db = advisory_db();
    let scan = p.scan(&["--advisory-db", &db]);
    let check = p.run("check", &["--format", "json", "--advisory-db", &db]);
    check.assert_code(1);
    for (what, report) in [("scan", scan), ("check", check.report())] {
        let validator = crate::schema::validator(what);
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("  at {}: {e}", e.instance_path()))
            .take(10)
            .collect();
        assert!(
            errors.is_empty(),
            "{what} with advisories:\n{}",
            errors.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

fn assert_error(r: &Run, needles: &[&str]) {
    r.assert_error(needles)
        .assert_stdout_lacks(&["bomFormat", "\"pass\""], "an error reports nothing");
}

#[test]
fn unknown_spec_version_is_an_error() {
    let p = Project::vendored();
    for bad in ["1.4", "2"] {
        let r = p.run("bom", &["--spec-version", bad]);
        assert_error(&r, &[bad]);
    }
}

#[test]
fn missing_advisory_database_is_an_error_naming_the_path() {
    let p = Project::vendored();
    p.write("capgate.toml", GRANT_ALL);
    let missing = p.scratch("no-such-advisory-db").display().to_string();
    for (cmd, extra) in [
        ("bom", &[][..]),
        ("scan", &["--format", "json"][..]),
        ("check", &[][..]),
    ] {
        let mut args = extra.to_vec();
        args.extend(["--advisory-db", missing.as_str()]);
        assert_error(&p.run(cmd, &args), &[&missing]);
    }
    // A directory that is not an advisory database (no `crates/`).
    let empty = p.scratch("empty-db");
    std::fs::create_dir_all(&empty).unwrap();
    let empty = empty.display().to_string();
    assert_error(&p.run("bom", &["--advisory-db", &empty]), &[&empty]);
}

#[test]
fn broken_advisory_file_is_an_error_naming_the_file() {
    let p = Project::vendored();
    p.write("capgate.toml", GRANT_ALL);

    let db = copy_advisory_db(&p, "broken-toml-db", None);
    std::fs::write(
        db.join("crates/smallvec/RUSTSEC-2021-0003.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2021-0003\"\npackage = \n```\n\n# Broken\n",
    )
    .unwrap();
    let db_s = db.display().to_string();
    for (cmd, extra) in [
        ("bom", &[][..]),
        ("scan", &["--format", "json"][..]),
        ("check", &[][..]),
    ] {
        let mut args = extra.to_vec();
        args.extend(["--advisory-db", db_s.as_str()]);
        assert_error(&p.run(cmd, &args), &["RUSTSEC-2021-0003.md"]);
    }

    // Any other file in a crate folder is an error too.
    let db = copy_advisory_db(&p, "stray-file-db", None);
    std::fs::write(db.join("crates/rand/notes.txt"), "not an advisory\n").unwrap();
    let db_s = db.display().to_string();
    assert_error(&p.run("bom", &["--advisory-db", &db_s]), &["notes.txt"]);
}

/// A git repository holding the fixture advisory database, standing in for
/// the published one.
fn advisory_db_repository(project: &Project) -> PathBuf {
    let repo = copy_advisory_db(project, "advisory-db-origin", None);
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .status()
            .expect("run git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "advisories"]);
    repo
}

#[test]
fn fetch_advisories_clones_then_updates_the_database() {
    let p = Project::vendored();
    p.write("capgate.toml", GRANT_ALL);
    let origin = advisory_db_repository(&p);
    let db = p.scratch("fetched-db");
    let db_arg = db.display().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        p.command()
            .env("CAPGATE_ADVISORY_DB_URL", &origin)
            .args(util::manifest_args("check", &p.ws, &all))
            .output()
            .expect("spawn cargo-capgate")
    };
    for attempt in ["clone", "update"] {
        let out = run(&["--fetch-advisories", "--advisory-db", &db_arg]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{attempt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            advisory_violations(&report),
            expected_advisory_violations(FAILING),
            "{attempt}"
        );
        assert!(
            db.join("crates/smallvec").is_dir(),
            "{attempt}: the database is on disk"
        );
    }
}

#[test]
fn fetch_advisories_failure_is_an_error_naming_the_source() {
    let p = Project::vendored();
    let db = p.scratch("never-fetched");
    let missing = p.scratch("no-such-origin");
    let out = p
        .command()
        .env("CAPGATE_ADVISORY_DB_URL", &missing)
        .args(util::manifest_args("scan", &p.ws, &["--fetch-advisories"]))
        .arg("--advisory-db")
        .arg(&db)
        .output()
        .expect("spawn cargo-capgate");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not fetch the advisory database")
            && stderr.contains("no-such-origin"),
        "{stderr}"
    );
}

#[test]
fn human_scan_lists_each_advisory_with_its_kind_and_fix() {
    let p = Project::vendored();
    let db = advisory_db();
    let r = p.run("scan", &["--advisory-db", &db, "--color", "never"]);
    r.assert_code(0);
    for line in [
        "smallvec 1.6.0  RUSTSEC-2021-0003 (CVE-2021-25900, GHSA-43w2-9j62-hq99) [vulnerability]",
        "structopt 0.3.11  RUSTSEC-2022-0104 [unmaintained]",
    ] {
        assert!(
            r.stdout.contains(line),
            "missing `{line}`\n{}",
            r.describe()
        );
    }
    assert!(
        !r.stdout.contains("RUSTSEC-2025-0014"),
        "withdrawn advisory shown"
    );
}
