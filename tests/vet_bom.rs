//! `vet-bom FILE|-`: fetch, verify and scan every `pkg:cargo` component of a
//! CycloneDX BoM from a sparse registry, then check it against a policy.
//!
//! Every test starts its own registry on 127.0.0.1 (`registry_server.rs`)
//! with crates from `fixtures/registry/` or archives built here, and runs
//! the binary with a fresh `CARGO_HOME` and `CAPGATE_CACHE_DIR` inside one
//! temporary directory, which is also the working directory, so anything
//! written outside the cache is found there. Nothing here reaches any host
//! but 127.0.0.1.
//!
//! | exit | verdict | when |
//! | --- | --- | --- |
//! | 0 | pass | at least one component vetted, every cargo component vetted within policy, and every other component accepted unvetted by the policy (`[vet-bom] accept-unvetted`; not with `--strict`) |
//! | 1 | fail | a violation (`unanalyzed` source included), not-found, yanked, typosquat-suspect or too-new component, one of another ecosystem the policy does not accept, or no component vetted at all |
//! | 2 | error | a checksum mismatch, a crate that could not be fetched or unpacked (the JSON report is still printed), or a bad BoM (no report) |

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::registry_server::{
    Archive, Dl, Published, Registry, Server, crate_base, gzip_bomb, gzip_bomb_entries, sha256_hex,
    simple_crate,
};
use crate::util::{self, Run};

pub(crate) const CALM: &str = "capfix-calm-1.0.0";
pub(crate) const NETTY: &str = "capfix-netty-0.3.0";
pub(crate) const FILER: &str = "capfix-filer-2.1.0";
const BUILDY: &str = "capfix-buildy-0.1.0";
pub(crate) const JSOM: &str = "serde_jsom-1.0.0";
pub(crate) const OLDIE_YANKED: &str = "capfix-oldie-1.0.1";
pub(crate) const OLDIE: &str = "capfix-oldie-1.0.2";

/// Every `status` (and `flags` entry) of a component.
pub(crate) const STATUSES: &[&str] = &[
    "ok",
    "violation",
    "unanalyzed",
    "not-found",
    "missing-dependency",
    "yanked",
    "checksum-mismatch",
    "typosquat-suspect",
    "too-new",
    "unvetted",
    "error",
];

// ---------------------------------------------------------------------------
// BoMs

pub(crate) fn bom(components: Vec<Value>) -> Value {
    bom_spec("1.5", components)
}

fn bom_spec(spec: &str, components: Vec<Value>) -> Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "components": components,
    })
}

fn bom_ref(name: &str, vers: &str) -> String {
    format!("ref:{name}@{vers}")
}

/// `component` with the features the BoM records for it
/// (`capgate:features`, comma separated).
pub(crate) fn with_features(mut component: Value, features: &str) -> Value {
    component["properties"] = json!([{ "name": "capgate:features", "value": features }]);
    component
}

/// A library component with a `pkg:cargo` purl.
pub(crate) fn cargo(name: &str, vers: &str) -> Value {
    json!({
        "type": "library",
        "bom-ref": bom_ref(name, vers),
        "name": name,
        "version": vers,
        "purl": format!("pkg:cargo/{name}@{vers}"),
    })
}

/// The component of a fixture directory `NAME-VERSION`.
pub(crate) fn fixture_component(dir: &str) -> Value {
    let p = Published::fixture(dir);
    cargo(&p.name, &p.vers)
}

fn with_sha256(mut component: Value, hex: &str) -> Value {
    component["hashes"] = json!([{ "alg": "SHA-256", "content": hex }]);
    component
}

/// `dependencies`: (bom-ref, [bom-ref it depends on]).
fn with_dependencies(mut bom: Value, deps: &[(&str, &[&str])]) -> Value {
    bom["dependencies"] = deps
        .iter()
        .map(|(r, on)| json!({ "ref": r, "dependsOn": on }))
        .collect();
    bom
}

// ---------------------------------------------------------------------------
// Running the binary

/// One test's private directories: `cargo-home/`, `cache/` and `work/` (the
/// working directory, where BoMs and policies are written).
pub(crate) struct Env {
    root: TempDir,
    token: String,
}

impl Env {
    pub(crate) fn new() -> Env {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = tempfile::tempdir().expect("tempdir");
        for d in ["cargo-home", "cache", "work"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        let token = format!(
            "{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        Env { root, token }
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    pub(crate) fn cache(&self) -> PathBuf {
        self.root().join("cache")
    }

    fn cargo_home(&self) -> PathBuf {
        self.root().join("cargo-home")
    }

    pub(crate) fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.work().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub(crate) fn policy(&self, toml: &str) -> String {
        self.write("policy.toml", toml).display().to_string()
    }

    /// The binary with this test's environment.
    pub(crate) fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = util::capgate();
        cmd.current_dir(self.work())
            .env("CARGO_HOME", self.cargo_home())
            .env("CAPGATE_CACHE_DIR", self.cache())
            .env("CAPGATE_HTTP_RETRIES", "1")
            .env("CAPGATE_HTTP_BACKOFF_MS", "10")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "CARGO_HTTP_PROXY",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// `vet-bom BOM.json --registry URL ARGS...`
    pub(crate) fn run_raw(&self, server: &Server, bom_text: &str, args: &[&str]) -> Run {
        let path = self.write("bom.json", bom_text).display().to_string();
        let url = server.index_url();
        let mut all = vec!["vet-bom", path.as_str(), "--registry", url.as_str()];
        all.extend_from_slice(args);
        Run::of(&mut self.cmd(), &all)
    }

    /// `vet-bom BOM.json --registry URL --format json ARGS...`
    pub(crate) fn vet(&self, server: &Server, bom: &Value, args: &[&str]) -> Run {
        let text = serde_json::to_string_pretty(bom).unwrap();
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.run_raw(server, &text, &all)
    }

    /// Every file under the test's directory that carries this test's token
    /// in its name, outside the cache; and the same names in every ancestor
    /// of the test directory. Found files are removed, then reported.
    fn escaped_files(&self, names: &[String]) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk_files(self.root(), &mut |p| {
            if !p.starts_with(self.cache())
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(&self.token))
            {
                found.push(p.to_path_buf());
            }
        });
        for dir in self.root().ancestors().skip(1) {
            for name in names {
                let p = dir.join(name);
                if p.symlink_metadata().is_ok() {
                    found.push(p);
                }
            }
        }
        for p in &found {
            let _ = std::fs::remove_file(p);
        }
        found
    }

    fn assert_nothing_escaped(&self, run: &Run, names: &[String]) {
        let escaped = self.escaped_files(names);
        assert!(
            escaped.is_empty(),
            "files were written outside CAPGATE_CACHE_DIR: {escaped:?}\n{}",
            run.describe()
        );
    }
}

pub(crate) fn walk_files(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = p.symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            walk_files(&p, f);
        } else {
            f(&p);
        }
    }
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    walk_files(dir, &mut |p| {
        total += p.symlink_metadata().map(|m| m.len()).unwrap_or(0);
    });
    total
}

/// A run's parsed report, checked: exit code, verdict, the shape of every
/// component.
pub(crate) struct Vetted {
    pub(crate) run: Run,
    pub(crate) report: Value,
}

pub(crate) fn vetted(run: Run, code: i32) -> Vetted {
    run.assert_code(code);
    let report = run.report();
    let verdict = match code {
        0 => "pass",
        1 => "fail",
        _ => "error",
    };
    assert_eq!(
        report["verdict"],
        verdict,
        "verdict for exit {code}\n{}",
        run.describe()
    );
    let v = Vetted { run, report };
    v.check_components();
    v
}

impl Vetted {
    fn components(&self) -> &Vec<Value> {
        self.report["components"]
            .as_array()
            .unwrap_or_else(|| panic!("`components` is an array\n{}", self.run.describe()))
    }

    fn check_components(&self) {
        for c in self.components() {
            let ctx = || format!("component {c}\n{}", self.run.describe());
            assert!(c["name"].is_string(), "name is a string: {}", ctx());
            for key in ["bom_ref", "version", "purl"] {
                assert!(
                    c[key].is_string() || c[key].is_null(),
                    "{key} is a string or null: {}",
                    ctx()
                );
            }
            let status = c["status"]
                .as_str()
                .unwrap_or_else(|| panic!("status: {}", ctx()));
            assert!(STATUSES.contains(&status), "unknown status: {}", ctx());
            let flags = util::strings(&c["flags"]);
            for f in &flags {
                assert!(
                    STATUSES.contains(&f.as_str()),
                    "unknown flag {f}: {}",
                    ctx()
                );
            }
            if status != "ok" {
                assert!(
                    flags.iter().any(|f| f == status),
                    "flags must include the status: {}",
                    ctx()
                );
            } else {
                assert!(
                    flags.iter().all(|f| f == "ok"),
                    "a vetted component has no other flag: {}",
                    ctx()
                );
            }
            assert!(
                c["message"].as_str().is_some_and(|m| !m.trim().is_empty()),
                "message is a non-empty string: {}",
                ctx()
            );
        }
    }

    pub(crate) fn component(&self, name: &str) -> &Value {
        let matches: Vec<&Value> = self
            .components()
            .iter()
            .filter(|c| c["name"] == name)
            .collect();
        assert_eq!(
            matches.len(),
            1,
            "exactly one component named {name}\n{}",
            self.run.describe()
        );
        matches[0]
    }

    pub(crate) fn status(&self, name: &str) -> String {
        self.component(name)["status"].as_str().unwrap().to_string()
    }

    fn flags(&self, name: &str) -> BTreeSet<String> {
        util::strings(&self.component(name)["flags"])
            .into_iter()
            .collect()
    }

    pub(crate) fn message(&self, name: &str) -> String {
        self.component(name)["message"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub(crate) fn expect_status(&self, name: &str, status: &str) -> &Self {
        assert_eq!(
            self.status(name),
            status,
            "status of {name}\n{}",
            self.run.describe()
        );
        self
    }

    fn expect_flag(&self, name: &str, flag: &str) -> &Self {
        assert!(
            self.flags(name).contains(flag),
            "flags of {name} must include {flag}\n{}",
            self.run.describe()
        );
        self
    }

    /// The component's message contains every needle (case-insensitive).
    pub(crate) fn expect_message(&self, name: &str, needles: &[&str]) -> &Self {
        let msg = self.message(name).to_lowercase();
        for n in needles {
            assert!(
                msg.contains(&n.to_lowercase()),
                "the message of {name} must mention {n:?}\n{}",
                self.run.describe()
            );
        }
        self
    }

    /// The component's message contains one of the needles (case-insensitive).
    fn expect_message_any(&self, name: &str, needles: &[&str]) -> &Self {
        let msg = self.message(name).to_lowercase();
        assert!(
            needles.iter().any(|n| msg.contains(&n.to_lowercase())),
            "the message of {name} must mention one of {needles:?}\n{}",
            self.run.describe()
        );
        self
    }

    pub(crate) fn expect_stderr_names(&self, name: &str) -> &Self {
        assert!(
            self.run.stderr.contains(name),
            "stderr must name {name}\n{}",
            self.run.describe()
        );
        self
    }

    fn package_names(&self) -> BTreeSet<String> {
        util::package_names(&self.report)
    }

    fn expect_packages(&self, names: &[&str]) -> &Self {
        let expected: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            self.package_names(),
            expected,
            "scanned packages\n{}",
            self.run.describe()
        );
        self
    }

    /// The package was not scanned: no entry, or one without any capability
    /// or finding.
    pub(crate) fn expect_not_scanned(&self, name: &str) -> &Self {
        for p in util::packages(&self.report) {
            if p["name"] == name {
                let empty = |v: &Value| v.as_array().is_none_or(|a| a.is_empty());
                assert!(
                    empty(&p["capabilities"])
                        && empty(&p["findings"])
                        && empty(&p["build_script"]["capabilities"]),
                    "{name} must not be scanned\n{}",
                    self.run.describe()
                );
            }
        }
        self
    }

    /// The findings of the packages in the report equal the markers of
    /// `fixtures/registry`.
    fn expect_markers(&self) -> &Self {
        util::assert_markers("registry", &self.report);
        self
    }

    fn violations_of(&self, name: &str) -> Vec<&Value> {
        self.report["violations"]
            .as_array()
            .map(|v| v.iter().filter(|x| x["package"] == name).collect())
            .unwrap_or_default()
    }
}

/// An error that prints no passing report: exit 2, and stdout says nothing
/// about passing.
fn assert_bom_error(run: &Run) {
    run.assert_code(2);
    assert!(
        !run.stdout.to_lowercase().contains("pass"),
        "a bad BoM must not print a passing report\n{}",
        run.describe()
    );
    assert!(
        !run.stderr.trim().is_empty(),
        "a bad BoM must be explained on stderr\n{}",
        run.describe()
    );
}

/// `YYYY-MM-DDTHH:MM:SSZ` of `t`.
fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

// ---------------------------------------------------------------------------
// The harness itself

#[test]
fn harness_rfc3339_formats_utc_dates() {
    assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    assert_eq!(
        rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661)),
        "2000-02-29T01:01:01Z"
    );
    assert_eq!(
        rfc3339(UNIX_EPOCH + Duration::from_secs(1_735_689_599)),
        "2024-12-31T23:59:59Z"
    );
}

fn http_get(server: &Server, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    let body = out[split + 4..].to_vec();
    assert_eq!(body.len(), len, "Content-Length");
    (status, body)
}

#[test]
fn harness_registry_serves_config_index_and_archives() {
    let calm = Published::fixture(CALM);
    let server = Registry::new()
        .publish(calm.clone())
        .stop_after_downloads(1)
        .start();
    let (status, body) = http_get(&server, "/index/config.json");
    assert_eq!(status, 200);
    let config: Value = serde_json::from_slice(&body).unwrap();
    let origin = format!("http://{}", server.addr());
    assert_eq!(
        config["dl"],
        format!("{origin}/dl/{{crate}}/{{version}}/download")
    );
    let (status, body) = http_get(&server, "/index/ca/pf/capfix-calm");
    assert_eq!(status, 200);
    let line: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(line["vers"], "1.0.0");
    assert_eq!(line["cksum"], sha256_hex(&calm.archive));
    assert_eq!(http_get(&server, "/index/ca/pf/capfix-nope").0, 404);
    let (status, body) = http_get(&server, "/dl/capfix-calm/1.0.0/download");
    assert_eq!(status, 200);
    assert_eq!(body, calm.archive);
    // One download served: the listener closes and refuses connections.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(server.addr()).is_ok() {
        assert!(std::time::Instant::now() < deadline, "still listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.downloads(), vec!["capfix-calm@1.0.0".to_string()]);
}

#[test]
fn harness_crate_archives_are_deterministic_and_prefixed() {
    let a = Published::fixture(FILER);
    let b = Published::fixture(FILER);
    assert_eq!(a.archive, b.archive);
    assert_eq!(a.deps, vec![("capfix-calm".to_string(), "^1".to_string())]);
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&a.archive[..]));
    let paths: Vec<String> = tar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "capfix-filer-2.1.0/Cargo.toml",
            "capfix-filer-2.1.0/src/lib.rs"
        ]
    );
}

#[test]
fn harness_gzip_bomb_is_a_valid_archive() {
    use std::io::Read;
    // The same construction as the 2 GiB bomb, small enough to check whole.
    let size = 64 << 20;
    let bomb = gzip_bomb("capfix-bomb", "1.0.0", size);
    assert!(bomb.len() < 1 << 20, "{} bytes of gzip", bomb.len());
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bomb[..]));
    let mut entries = archive.entries().unwrap();
    let mut entry = entries.next().unwrap().unwrap();
    assert_eq!(entry.header().size().unwrap(), size);
    assert_eq!(
        entry.path().unwrap().display().to_string(),
        "capfix-bomb-1.0.0/src/lib.rs"
    );
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = entry.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|&b| b == 0));
        total += n as u64;
    }
    assert_eq!(total, size);
    drop(entry);
    assert!(entries.next().is_none());
    // The decoder checks the CRC and size at the end of the stream.
    let mut decoder = flate2::read::GzDecoder::new(&bomb[..]);
    let n = std::io::copy(&mut decoder, &mut std::io::sink()).expect("valid gzip trailer");
    assert_eq!(n, 512 + size + 1024);
    // Several entries, sizes not multiples of the chunk.
    let sizes = [3 << 20, 512, (5 << 20) + 1536];
    let entries: Vec<(String, u64)> = sizes
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("capfix-bomb-1.0.0/src/f{i}.rs"), *s))
        .collect();
    let bomb = gzip_bomb_entries(&entries);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bomb[..]));
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        assert!(data.iter().all(|&b| b == 0));
        seen.push(data.len() as u64);
    }
    assert_eq!(seen, sizes);
    let mut decoder = flate2::read::GzDecoder::new(&bomb[..]);
    let n = std::io::copy(&mut decoder, &mut std::io::sink()).expect("valid gzip trailer");
    assert_eq!(n, sizes.iter().map(|s| 512 + s).sum::<u64>() + 1024);

    let big = gzip_bomb("capfix-bomb", "1.0.0", 2 << 30);
    assert!(big.len() < 16 << 20, "{} bytes of gzip", big.len());
}

// ---------------------------------------------------------------------------
// Passing, violations, policies

#[test]
fn a_crate_without_capabilities_is_vetted_and_passes() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let v = vetted(
        env.vet(&server, &bom(vec![fixture_component(CALM)]), &[]),
        0,
    );
    v.expect_status("capfix-calm", "ok")
        .expect_packages(&["capfix-calm"])
        .expect_markers();
    let c = v.component("capfix-calm");
    assert_eq!(c["bom_ref"], "ref:capfix-calm@1.0.0");
    assert_eq!(c["version"], "1.0.0");
    assert_eq!(c["purl"], "pkg:cargo/capfix-calm@1.0.0");
    assert_eq!(
        v.report["violations"].as_array().map(Vec::len),
        Some(0),
        "no violations\n{}",
        v.run.describe()
    );
    assert_eq!(server.downloads(), vec!["capfix-calm@1.0.0".to_string()]);
    let p = util::package(&v.report, "capfix-calm");
    assert_eq!(p["source"], "registry", "{}", v.run.describe());
    assert_eq!(p["version"], "1.0.0");
    // Downloads and unpacked crates go to CAPGATE_CACHE_DIR only: not to
    // CARGO_HOME, not to the working directory.
    let mut written = Vec::new();
    walk_files(env.root(), &mut |p| {
        if !p.starts_with(env.cache()) && p != env.work().join("bom.json") {
            written.push(p.to_path_buf());
        }
    });
    assert!(
        written.is_empty(),
        "files written outside CAPGATE_CACHE_DIR: {written:?}\n{}",
        v.run.describe()
    );
}

#[test]
fn a_component_without_a_bom_ref_is_reported_with_a_null_one() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let mut c = fixture_component(CALM);
    c.as_object_mut().unwrap().remove("bom-ref");
    let v = vetted(env.vet(&server, &bom(vec![c]), &[]), 0);
    v.expect_status("capfix-calm", "ok");
    assert!(
        v.component("capfix-calm")["bom_ref"].is_null(),
        "{}",
        v.run.describe()
    );
}

#[test]
fn spec_versions_1_4_to_1_6_are_read() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    for spec in ["1.4", "1.5", "1.6"] {
        let v = vetted(
            env.vet(&server, &bom_spec(spec, vec![fixture_component(CALM)]), &[]),
            0,
        );
        v.expect_status("capfix-calm", "ok");
    }
}

#[test]
fn a_capability_without_a_grant_is_a_violation_that_says_what_to_grant() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY]).start();
    let v = vetted(
        env.vet(&server, &bom(vec![fixture_component(NETTY)]), &[]),
        1,
    );
    v.expect_status("capfix-netty", "violation")
        .expect_message("capfix-netty", &["capgate.toml", "net"])
        .expect_packages(&["capfix-netty"])
        .expect_markers();
    let violations = v.violations_of("capfix-netty");
    assert!(
        violations.iter().any(|x| x["capability"]
            .as_str()
            .is_some_and(|c| c.starts_with("net"))),
        "a net violation for capfix-netty\n{}",
        v.run.describe()
    );
}

#[test]
fn a_policy_that_grants_the_capability_passes() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY]).start();
    let b = bom(vec![fixture_component(NETTY)]);

    let granted = env.policy("[defaults]\nallow = []\n\n[pkg.capfix-netty]\nallow = [\"net\"]\n");
    let v = vetted(env.vet(&server, &b, &["--policy", &granted]), 0);
    v.expect_status("capfix-netty", "ok").expect_markers();

    let other = env.policy("[defaults]\nallow = []\n\n[pkg.capfix-netty]\nallow = [\"fs\"]\n");
    let v = vetted(env.vet(&server, &b, &["--policy", &other]), 1);
    v.expect_status("capfix-netty", "violation")
        .expect_message("capfix-netty", &["net"]);

    let defaults = env.policy("[defaults]\nallow = [\"net.connect\"]\n");
    let v = vetted(env.vet(&server, &b, &["--policy", &defaults]), 0);
    v.expect_status("capfix-netty", "ok");
}

#[test]
fn a_build_script_is_the_build_capability() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[BUILDY]).start();
    let b = bom(vec![fixture_component(BUILDY)]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_status("capfix-buildy", "violation")
        .expect_message("capfix-buildy", &["build"])
        .expect_markers();
    let granted = env.policy("[pkg.capfix-buildy]\nallow = [\"build\"]\n");
    let v = vetted(env.vet(&server, &b, &["--policy", &granted]), 0);
    v.expect_status("capfix-buildy", "ok");
}

#[test]
fn a_bad_policy_is_an_error() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let bad = env.policy("[pkg.capfix-calm]\nallow = [\"nett\"]\n");
    let r = env.vet(
        &server,
        &bom(vec![fixture_component(CALM)]),
        &["--policy", &bad],
    );
    r.assert_code(2);
    assert!(
        r.stderr.contains("nett") || r.stderr.contains("policy.toml"),
        "stderr must name the policy or the unknown capability\n{}",
        r.describe()
    );
    assert!(!r.stdout.contains("\"pass\""), "{}", r.describe());
}

// ---------------------------------------------------------------------------
// Dependencies

fn filer_and_calm() -> Value {
    bom(vec![fixture_component(FILER), fixture_component(CALM)])
}

fn check_filer_and_calm(env: &Env, server: &Server, b: &Value) {
    let v = vetted(env.vet(server, b, &[]), 1);
    v.expect_status("capfix-calm", "ok")
        .expect_status("capfix-filer", "violation")
        .expect_message("capfix-filer", &["capgate.toml", "fs"])
        .expect_packages(&["capfix-calm", "capfix-filer"])
        .expect_markers();
    assert!(
        v.violations_of("capfix-calm").is_empty(),
        "calm has no violation\n{}",
        v.run.describe()
    );

    let granted = env.policy("[pkg.capfix-filer]\nallow = [\"fs\"]\n");
    let v = vetted(env.vet(server, b, &["--policy", &granted]), 0);
    v.expect_status("capfix-calm", "ok")
        .expect_status("capfix-filer", "ok")
        .expect_packages(&["capfix-calm", "capfix-filer"]);
}

#[test]
fn dependencies_from_the_bom_graph() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM, FILER]).start();
    let filer = bom_ref("capfix-filer", "2.1.0");
    let calm = bom_ref("capfix-calm", "1.0.0");
    let b = with_dependencies(
        filer_and_calm(),
        &[(&filer, &[calm.as_str()]), (&calm, &[])],
    );
    check_filer_and_calm(&env, &server, &b);
}

#[test]
fn dependencies_from_each_crates_manifest_without_a_bom_graph() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM, FILER]).start();
    check_filer_and_calm(&env, &server, &filer_and_calm());
}

#[test]
fn nested_components_are_vetted() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM, FILER, NETTY]).start();
    let mut filer = fixture_component(FILER);
    filer["components"] = json!([fixture_component(CALM)]);
    let mut netty = fixture_component(NETTY);
    netty["components"] = json!([]);
    let v = vetted(env.vet(&server, &bom(vec![filer, netty]), &[]), 1);
    v.expect_status("capfix-calm", "ok")
        .expect_status("capfix-filer", "violation")
        .expect_status("capfix-netty", "violation")
        .expect_packages(&["capfix-calm", "capfix-filer", "capfix-netty"])
        .expect_markers();
}

// ---------------------------------------------------------------------------
// Checksums

#[test]
fn an_archive_that_differs_from_the_index_checksum_is_never_scanned() {
    let env = Env::new();
    // Same name and version, different content: it would be `process`.
    let tampered = simple_crate(
        "capfix-netty",
        "0.3.0",
        "pub fn f() { let _ = std::process::Command::new(\"sh\").status(); }\n",
    );
    let server = Registry::new()
        .fixtures(&[CALM])
        .publish(Published::fixture(NETTY).serve(tampered))
        .start();
    let b = bom(vec![fixture_component(CALM), fixture_component(NETTY)]);
    let v = vetted(env.vet(&server, &b, &[]), 2);
    v.expect_status("capfix-netty", "checksum-mismatch")
        .expect_status("capfix-calm", "ok")
        .expect_stderr_names("capfix-netty")
        .expect_message_any("capfix-netty", &["checksum", "sha-256", "sha256"])
        .expect_not_scanned("capfix-netty");
    assert!(
        !v.run.stdout.contains("process"),
        "the tampered archive must not be scanned\n{}",
        v.run.describe()
    );
}

#[test]
fn an_archive_that_differs_from_the_bom_hash_is_never_scanned() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY]).start();
    let wrong = sha256_hex(b"not the archive");
    let b = bom(vec![with_sha256(fixture_component(NETTY), &wrong)]);
    let v = vetted(env.vet(&server, &b, &[]), 2);
    v.expect_status("capfix-netty", "checksum-mismatch")
        .expect_stderr_names("capfix-netty")
        .expect_not_scanned("capfix-netty");
    assert!(
        v.violations_of("capfix-netty").is_empty(),
        "an unscanned crate has no violations\n{}",
        v.run.describe()
    );
}

#[test]
fn a_bom_hash_that_matches_the_archive_is_accepted() {
    let env = Env::new();
    let calm = Published::fixture(CALM);
    let right = sha256_hex(&calm.archive);
    let server = Registry::new().publish(calm).start();
    let b = bom(vec![with_sha256(fixture_component(CALM), &right)]);
    let v = vetted(env.vet(&server, &b, &[]), 0);
    v.expect_status("capfix-calm", "ok");
}

// ---------------------------------------------------------------------------
// Registry facts: not found, yanked, typosquats, too new

#[test]
fn a_crate_missing_from_the_index_is_not_found() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let b = bom(vec![
        fixture_component(CALM),
        cargo("capfix-ghost", "1.0.0"),
    ]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_status("capfix-ghost", "not-found")
        .expect_status("capfix-calm", "ok")
        .expect_message("capfix-ghost", &["capfix-ghost"])
        .expect_message_any(
            "capfix-ghost",
            &["not exist", "does not exist", "not found", "no crate"],
        )
        .expect_packages(&["capfix-calm"]);
    assert!(
        server.was_asked("/index/ca/pf/capfix-ghost"),
        "the index entry was asked for: {:?}",
        server.requests()
    );
}

#[test]
fn a_version_missing_from_the_index_is_not_found() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let b = bom(vec![cargo("capfix-calm", "9.9.9")]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_status("capfix-calm", "not-found")
        .expect_message("capfix-calm", &["9.9.9"]);
    assert_eq!(v.component("capfix-calm")["nearest_release"], "1.0.0");
    assert!(server.downloads().is_empty(), "{:?}", server.downloads());
}

#[test]
fn a_missing_crate_close_to_a_popular_one_gets_a_suggestion() {
    let env = Env::new();
    let server = Registry::new().start();
    // One transposition from serde_json, and not a registry crate here.
    let b = bom(vec![cargo("serde_jsno", "1.0.0")]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_flag("serde_jsno", "not-found")
        .expect_message("serde_jsno", &["serde_json"]);
    assert_eq!(
        v.component("serde_jsno")["did_you_mean"],
        json!(["serde_json"])
    );
    assert_eq!(v.component("serde_jsno")["nearest_release"], Value::Null);
}

#[test]
fn a_yanked_version_names_the_nearest_release() {
    let env = Env::new();
    let server = Registry::new()
        .publish(Published::index_only("capfix-oldie", "1.0.0").yanked())
        .publish(Published::fixture(OLDIE_YANKED).yanked())
        .fixtures(&[OLDIE])
        .publish(Published::index_only("capfix-oldie", "2.0.0"))
        .start();
    let grant = env.policy("[pkg.capfix-oldie]\nallow = [\"env\"]\n");
    let b = bom(vec![fixture_component(OLDIE_YANKED)]);
    let v = vetted(env.vet(&server, &b, &["--policy", &grant]), 1);
    v.expect_status("capfix-oldie", "yanked")
        .expect_message("capfix-oldie", &["yanked", "1.0.1", "1.0.2"]);
    assert_eq!(v.component("capfix-oldie")["nearest_release"], "1.0.2");

    // The release itself passes.
    let b = bom(vec![fixture_component(OLDIE)]);
    let v = vetted(env.vet(&server, &b, &["--policy", &grant]), 0);
    v.expect_status("capfix-oldie", "ok");
}

#[test]
fn a_yanked_version_that_also_violates_has_both_flags() {
    let env = Env::new();
    let server = Registry::new()
        .publish(Published::fixture(OLDIE_YANKED).yanked())
        .fixtures(&[OLDIE])
        .start();
    let b = bom(vec![fixture_component(OLDIE_YANKED)]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_flag("capfix-oldie", "yanked")
        .expect_flag("capfix-oldie", "violation");
    let status = v.status("capfix-oldie");
    assert!(
        status == "yanked" || status == "violation",
        "status is the most severe of the flags, got {status}\n{}",
        v.run.describe()
    );
}

#[test]
fn a_name_close_to_a_popular_crate_is_a_typosquat_suspect() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[JSOM, CALM]).start();
    let b = bom(vec![fixture_component(JSOM), fixture_component(CALM)]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_status("serde_jsom", "typosquat-suspect")
        .expect_message("serde_jsom", &["serde_json"])
        .expect_status("capfix-calm", "ok");
    assert_eq!(
        v.component("serde_jsom")["did_you_mean"],
        json!(["serde_json"])
    );
    assert_eq!(v.component("capfix-calm")["did_you_mean"], json!([]));
}

#[test]
fn a_popular_name_itself_is_not_a_typosquat() {
    let env = Env::new();
    let server = Registry::new()
        .publish(Published::archive(
            "serde_json",
            "1.0.0",
            simple_crate(
                "serde_json",
                "1.0.0",
                "pub fn to_string() -> String { String::new() }\n",
            ),
        ))
        .start();
    let v = vetted(
        env.vet(&server, &bom(vec![cargo("serde_json", "1.0.0")]), &[]),
        0,
    );
    v.expect_status("serde_json", "ok");
}

#[test]
fn a_version_newer_than_min_age_is_too_new() {
    let env = Env::new();
    let hour_ago = rfc3339(SystemTime::now() - Duration::from_secs(3600));
    let server = Registry::new()
        .publish(Published::fixture(CALM).pubtime(&hour_ago))
        .start();
    let b = bom(vec![fixture_component(CALM)]);

    let v = vetted(env.vet(&server, &b, &["--min-age", "3"]), 1);
    v.expect_status("capfix-calm", "too-new");

    // The default minimum age is 3 days.
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_status("capfix-calm", "too-new");

    let v = vetted(env.vet(&server, &b, &["--min-age", "0"]), 0);
    v.expect_status("capfix-calm", "ok");
}

// ---------------------------------------------------------------------------
// Archives that must not be unpacked

/// Publishes `archive` as `capfix-evil 1.0.0` (with a matching checksum, so
/// that unpacking is reached) beside calm, vets both, and checks that evil
/// is an error naming one of `problem` while calm is still vetted.
fn vet_evil(env: &Env, archive: Vec<u8>, problem: &[&str]) -> Vetted {
    let server = Registry::new()
        .fixtures(&[CALM])
        .publish(Published::archive("capfix-evil", "1.0.0", archive))
        .start();
    let b = bom(vec![fixture_component(CALM), cargo("capfix-evil", "1.0.0")]);
    let v = vetted(env.vet(&server, &b, &[]), 2);
    v.expect_status("capfix-evil", "error")
        .expect_message_any("capfix-evil", problem)
        .expect_stderr_names("capfix-evil")
        .expect_not_scanned("capfix-evil")
        .expect_status("capfix-calm", "ok");
    v
}

fn evil_base() -> Archive {
    crate_base("capfix-evil", "1.0.0", "pub fn f() {}\n")
}

#[test]
fn an_archive_with_parent_dir_paths_is_refused() {
    // Each form in an archive (and a cache) of its own, so that each is
    // refused on its own.
    let forms: &[(&str, usize)] = &[
        ("capfix-evil-1.0.0/", 1),
        ("capfix-evil-1.0.0/", 8),
        ("capfix-evil-1.0.0/src/", 3),
        ("capfix-evil-1.0.0/./", 2),
        ("", 1),
    ];
    for (i, (dir, depth)) in forms.iter().enumerate() {
        let env = Env::new();
        let name = format!("capgate-escape-{}-{i}.txt", env.token);
        let entry = format!("{dir}{}{name}", "../".repeat(*depth));
        let archive = evil_base().raw_file(entry.as_bytes(), b"escaped\n");
        let v = vet_evil(&env, archive.gz(), &["..", "travers", "outside", "parent"]);
        env.assert_nothing_escaped(&v.run, &[name]);
    }
}

#[test]
fn an_archive_with_an_absolute_path_is_refused() {
    let env = Env::new();
    let name = format!("capgate-absolute-{}.txt", env.token);
    let target = env.root().join(&name);
    let archive = evil_base().raw_file(target.display().to_string().as_bytes(), b"escaped\n");
    let v = vet_evil(&env, archive.gz(), &["absolute", "outside", "path"]);
    env.assert_nothing_escaped(&v.run, &[name]);
    assert!(!target.exists());
}

#[test]
fn an_archive_with_a_symlink_is_refused() {
    let env = Env::new();
    let outside = env.root().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let name = format!("capgate-through-link-{}.txt", env.token);
    let archive = evil_base()
        .symlink(
            "capfix-evil-1.0.0/escape",
            outside.display().to_string().as_bytes(),
        )
        .symlink("capfix-evil-1.0.0/up", b"../../../..")
        .file(&format!("capfix-evil-1.0.0/escape/{name}"), b"escaped\n");
    let v = vet_evil(&env, archive.gz(), &["link"]);
    env.assert_nothing_escaped(&v.run, &[name]);
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing may be written through the link\n{}",
        v.run.describe()
    );
}

#[test]
fn an_archive_with_a_hard_link_is_refused() {
    use std::os::unix::fs::MetadataExt;
    let env = Env::new();
    let secret = env.root().join("secret.txt");
    std::fs::write(&secret, "secret\n").unwrap();
    let archive = evil_base()
        .hardlink(
            "capfix-evil-1.0.0/src/secret.rs",
            secret.display().to_string().as_bytes(),
        )
        .file("capfix-evil-1.0.0/src/secret.rs", b"overwritten\n");
    let v = vet_evil(&env, archive.gz(), &["link"]);
    assert_eq!(
        std::fs::metadata(&secret).unwrap().nlink(),
        1,
        "no hard link to a file outside the cache\n{}",
        v.run.describe()
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");
}

#[test]
fn a_gzip_bomb_is_stopped_at_the_size_limit() {
    let env = Env::new();
    // A few MB of gzip holding one 2 GiB file; the limit is 512 MiB.
    let bomb = gzip_bomb("capfix-evil", "1.0.0", 2 << 30);
    let v = vet_evil(&env, bomb, &["limit", "size", "large", "mib", "bytes"]);
    let size = dir_size(&env.cache());
    assert!(
        size <= 600 << 20,
        "the cache holds {size} bytes after a bomb: unpacking did not stop at the limit\n{}",
        v.run.describe()
    );
}

#[test]
fn a_bomb_spread_over_entries_is_stopped_at_the_total_limit() {
    let env = Env::new();
    // Five files of 200 MiB: each is under the 512 MiB limit, together they
    // are not.
    let entries: Vec<(String, u64)> = (0..5)
        .map(|i| (format!("capfix-evil-1.0.0/src/f{i}.rs"), 200 << 20))
        .collect();
    let v = vet_evil(
        &env,
        gzip_bomb_entries(&entries),
        &["limit", "size", "large", "mib", "bytes"],
    );
    let size = dir_size(&env.cache());
    assert!(
        size <= 600 << 20,
        "the cache holds {size} bytes after a bomb: unpacking did not stop at the limit\n{}",
        v.run.describe()
    );
}

#[test]
fn an_archive_with_too_many_files_is_refused() {
    let env = Env::new();
    let mut archive = evil_base();
    for i in 0..50_010 {
        archive = archive.file(&format!("capfix-evil-1.0.0/src/f/{i}.rs"), b"");
    }
    vet_evil(&env, archive.gz(), &["files", "entries", "limit", "many"]);
}

// ---------------------------------------------------------------------------
// Other ecosystems

pub(crate) fn npm_left_pad() -> Value {
    json!({
        "type": "library",
        "bom-ref": "ref:left-pad",
        "name": "left-pad",
        "version": "1.3.0",
        "purl": "pkg:npm/left-pad@1.3.0",
    })
}

#[test]
fn a_component_s_name_cannot_drive_the_terminal() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let mut evil = npm_left_pad();
    evil["name"] = json!("left\u{1b}[2J\u{1b}[32mok\u{202e}");
    evil["version"] = json!("1.0\u{1b}[1A\r");
    let b = bom(vec![fixture_component(CALM), evil]);
    let r = env.run_raw(&server, &b.to_string(), &["--format", "human"]);
    for out in [&r.stdout, &r.stderr] {
        assert!(!out.contains(['\x1b', '\r', '\u{202e}']), "{out}");
    }
    assert!(
        r.stdout
            .contains("left\\u{1b}[2J\\u{1b}[32mok\\u{202e}@1.0\\u{1b}[1A\\u{d}"),
        "{}",
        r.stdout
    );
}

#[test]
fn another_ecosystem_fails_unless_the_policy_accepts_it_by_purl() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let b = bom(vec![fixture_component(CALM), npm_left_pad()]);
    let r = env.vet(&server, &b, &[]);
    assert!(
        r.stdout
            .contains(r#"accept-unvetted = [\"pkg:npm/left-pad@1.3.0\"]"#),
        "the fix is named: {}",
        r.stdout
    );
    let v = vetted(r, 1);
    v.expect_status("left-pad", "unvetted")
        .expect_status("capfix-calm", "ok")
        .expect_packages(&["capfix-calm"]);
    assert!(
        !server.requests().iter().any(|r| r.contains("left-pad")),
        "an npm package is not looked up in a cargo registry: {:?}",
        server.requests()
    );

    let accepted = env.policy(
        "[vet-bom]\naccept-unvetted = [{ component = \"pkg:npm/left-pad@1.3.0\", reason = \"vetted by the npm audit\" }]\n",
    );
    let v = vetted(env.vet(&server, &b, &["--policy", &accepted]), 0);
    v.expect_status("left-pad", "unvetted")
        .expect_status("capfix-calm", "ok");
    assert!(
        v.report.to_string().contains("vetted by the npm audit"),
        "{}",
        v.report
    );

    // Another version is another component: not accepted.
    let other = env.policy("[vet-bom]\naccept-unvetted = [\"pkg:npm/left-pad@1.2.0\"]\n");
    vetted(env.vet(&server, &b, &["--policy", &other]), 1);

    // A component without a purl that takes the accepted purl as its name
    // is not that package.
    let impostor = json!({"type": "library", "name": "pkg:npm/left-pad@1.3.0", "version": "1.3.0"});
    let b2 = bom(vec![fixture_component(CALM), impostor]);
    vetted(env.vet(&server, &b2, &["--policy", &accepted]), 1);

    // --strict fails even what the policy accepts.
    let v = vetted(
        env.vet(&server, &b, &["--policy", &accepted, "--strict"]),
        1,
    );
    v.expect_status("left-pad", "unvetted");
}

#[test]
fn nothing_vetted_is_never_a_pass() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let accepted = env.policy("[vet-bom]\naccept-unvetted = [\"pkg:npm/left-pad@1.3.0\"]\n");
    // Every component accepted, none vetted.
    let b = bom(vec![npm_left_pad()]);
    let r = env.vet(&server, &b, &["--policy", &accepted]);
    assert!(
        r.stderr
            .contains("none of the BoM's 1 components could be vetted"),
        "{}",
        r.stderr
    );
    vetted(r, 1);
    // An empty BoM.
    vetted(env.vet(&server, &bom(Vec::new()), &[]), 1);
}

// ---------------------------------------------------------------------------
// Malformed BoMs

/// 1-based line of the first line of `text` containing `needle`.
fn line_in(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}"))
        + 1
}

/// stderr names one of `names`, or `line` of the BoM (`line N` or `:N:`).
fn assert_names_component_or_line(run: &Run, names: &[&str], line: Option<usize>) {
    let err = &run.stderr;
    let by_name = names.iter().any(|n| err.contains(n));
    let by_line = line.is_some_and(|line| {
        err.contains(&format!("line {line}")) || err.contains(&format!(":{line}:"))
    });
    assert!(
        by_name || by_line,
        "stderr must name {names:?} or line {line:?} of the BoM\n{}",
        run.describe()
    );
}

#[test]
fn malformed_json_names_the_line() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let text = "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.5\",\n  \"components\": [\n    {\"name\": \"capfix-calm\", \"purl\": \"pkg:cargo/capfix-calm@1.0.0\",}\n  ]\n}\n";
    let r = env.run_raw(&server, text, &["--format", "json"]);
    assert_bom_error(&r);
    assert!(
        r.stderr.contains("line 5") || r.stderr.contains(":5:"),
        "stderr must name line 5 of the BoM\n{}",
        r.describe()
    );
}

#[test]
fn components_of_the_wrong_type_is_an_error() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let mut b = bom(vec![]);
    b["components"] = json!("x");
    let text = serde_json::to_string_pretty(&b).unwrap();
    let r = env.run_raw(&server, &text, &["--format", "json"]);
    assert_bom_error(&r);
    assert_names_component_or_line(&r, &["components"], Some(line_in(&text, "\"components\"")));
}

#[test]
fn a_version_of_the_wrong_type_names_the_component() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let mut c = fixture_component(CALM);
    c["version"] = json!(5);
    let b = bom(vec![c]);
    let text = serde_json::to_string_pretty(&b).unwrap();
    let r = env.run_raw(&server, &text, &["--format", "json"]);
    assert_bom_error(&r);
    assert_names_component_or_line(
        &r,
        &["capfix-calm", "ref:capfix-calm@1.0.0"],
        Some(line_in(&text, "\"version\": 5")),
    );
}

#[test]
fn a_cargo_purl_without_a_version_names_the_component() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let c = json!({
        "type": "library",
        "bom-ref": "ref:unversioned",
        "name": "capfix-calm",
        "purl": "pkg:cargo/capfix-calm",
    });
    let text = serde_json::to_string_pretty(&bom(vec![c])).unwrap();
    let r = env.run_raw(&server, &text, &["--format", "json"]);
    assert_bom_error(&r);
    assert_names_component_or_line(&r, &["capfix-calm", "ref:unversioned"], None);
}

#[test]
fn an_unparsable_purl_names_the_component() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let c = json!({
        "type": "library",
        "bom-ref": "ref:broken-purl",
        "name": "broken-purl",
        "version": "1.0.0",
        "purl": "capfix-calm@1.0.0",
    });
    let text = serde_json::to_string_pretty(&bom(vec![fixture_component(CALM), c])).unwrap();
    let r = env.run_raw(&server, &text, &["--format", "json"]);
    assert_bom_error(&r);
    assert_names_component_or_line(
        &r,
        &["broken-purl", "ref:broken-purl"],
        Some(line_in(&text, "\"capfix-calm@1.0.0\"")),
    );
}

#[test]
fn a_missing_bom_file_is_an_error_naming_it() {
    let env = Env::new();
    let server = Registry::new().start();
    let missing = env.work().join("no-such-bom.json").display().to_string();
    let url = server.index_url();
    let r = Run::of(
        &mut env.cmd(),
        &["vet-bom", &missing, "--registry", &url, "--format", "json"],
    );
    assert_bom_error(&r);
    assert!(r.stderr.contains("no-such-bom.json"), "{}", r.describe());
}

// ---------------------------------------------------------------------------
// Network failures

#[test]
fn a_registry_that_goes_away_is_an_error_naming_what_was_not_fetched() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY, BUILDY, OLDIE])
        .stop_after_downloads(1)
        .start();
    let all = [
        "capfix-calm",
        "capfix-netty",
        "capfix-buildy",
        "capfix-oldie",
    ];
    let b = bom(vec![
        fixture_component(CALM),
        fixture_component(NETTY),
        fixture_component(BUILDY),
        fixture_component(OLDIE),
    ]);
    let v = vetted(env.vet(&server, &b, &[]), 2);
    let fetched: BTreeSet<String> = server
        .downloads()
        .iter()
        .map(|d| d.split('@').next().unwrap().to_string())
        .collect();
    assert_eq!(fetched.len(), 1, "one archive was served: {fetched:?}");
    for name in all {
        if fetched.contains(name) {
            assert_ne!(
                v.status(name),
                "error",
                "{name} was fetched\n{}",
                v.run.describe()
            );
        } else {
            v.expect_status(name, "error").expect_stderr_names(name);
        }
        assert!(
            !v.flags(name).contains("not-found"),
            "an unreachable registry does not make {name} not-found\n{}",
            v.run.describe()
        );
    }
}

#[test]
fn an_index_server_error_is_an_error_not_not_found() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .route("/index/ca/pf/capfix-calm", 500, b"boom\n")
        .start();
    let b = bom(vec![fixture_component(CALM), fixture_component(NETTY)]);
    let v = vetted(env.vet(&server, &b, &[]), 2);
    v.expect_status("capfix-calm", "error")
        .expect_stderr_names("capfix-calm")
        .expect_status("capfix-netty", "violation");
}

#[test]
fn a_download_that_fails_is_an_error() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM])
        .route("/dl/capfix-calm/1.0.0/download", 404, b"gone\n")
        .start();
    let v = vetted(
        env.vet(&server, &bom(vec![fixture_component(CALM)]), &[]),
        2,
    );
    v.expect_status("capfix-calm", "error")
        .expect_stderr_names("capfix-calm");
}

// ---------------------------------------------------------------------------
// Inputs and registry layouts

#[test]
fn the_bom_is_read_from_stdin() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM, NETTY]).start();
    let b = bom(vec![fixture_component(CALM), fixture_component(NETTY)]);
    let url = server.index_url();
    let mut cmd = env.cmd();
    cmd.write_stdin(serde_json::to_vec(&b).unwrap());
    let run = Run::of(
        &mut cmd,
        &["vet-bom", "-", "--registry", &url, "--format", "json"],
    );
    let v = vetted(run, 1);
    v.expect_status("capfix-calm", "ok")
        .expect_status("capfix-netty", "violation");
}

#[test]
fn a_registry_url_without_the_sparse_prefix() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let path = env
        .write(
            "bom.json",
            &serde_json::to_string(&bom(vec![fixture_component(CALM)])).unwrap(),
        )
        .display()
        .to_string();
    let url = server.plain_index_url();
    let run = Run::of(
        &mut env.cmd(),
        &["vet-bom", &path, "--registry", &url, "--format", "json"],
    );
    vetted(run, 0).expect_status("capfix-calm", "ok");
}

#[test]
fn a_download_template_with_every_marker() {
    let env = Env::new();
    let server = Registry::new()
        .dl(Dl::Template(
            "/files/{prefix}/{lowerprefix}/{crate}/{version}/{sha256-checksum}.crate".to_string(),
        ))
        .fixtures(&[CALM, NETTY])
        .start();
    let b = bom(vec![fixture_component(CALM), fixture_component(NETTY)]);
    let v = vetted(env.vet(&server, &b, &[]), 1);
    v.expect_status("capfix-calm", "ok")
        .expect_status("capfix-netty", "violation");
    let cksum = sha256_hex(&Published::fixture(CALM).archive);
    let expected = format!("/files/ca/pf/ca/pf/capfix-calm/1.0.0/{cksum}.crate");
    assert!(
        server.requests().contains(&expected),
        "{expected} was requested: {:?}",
        server.requests()
    );
}

#[test]
fn a_plain_download_base_url() {
    let env = Env::new();
    let server = Registry::new()
        .dl(Dl::Base("/api/v1/crates".to_string()))
        .fixtures(&[CALM])
        .start();
    let v = vetted(
        env.vet(&server, &bom(vec![fixture_component(CALM)]), &[]),
        0,
    );
    v.expect_status("capfix-calm", "ok");
    assert!(
        server.was_asked("/api/v1/crates/capfix-calm/1.0.0/download"),
        "{:?}",
        server.requests()
    );
}

#[test]
fn short_names_use_the_one_two_and_three_letter_index_layout() {
    let env = Env::new();
    let mut registry = Registry::new();
    let mut components = Vec::new();
    for name in ["q", "qz", "qzx"] {
        registry = registry.publish(Published::archive(
            name,
            "1.0.0",
            simple_crate(name, "1.0.0", "pub fn f() -> u8 { 1 }\n"),
        ));
        components.push(cargo(name, "1.0.0"));
    }
    let server = registry.start();
    let run = env.vet(&server, &bom(components), &[]);
    // Short names may be one or two edits from a popular crate: a typosquat
    // suspicion is allowed here, anything else is not.
    let code = run.code.unwrap_or(-1);
    let v = vetted(run, if code == 1 { 1 } else { 0 });
    for name in ["q", "qz", "qzx"] {
        let status = v.status(name);
        assert!(
            status == "ok" || status == "typosquat-suspect",
            "{name}: {status}\n{}",
            v.run.describe()
        );
    }
    let requests = server.requests();
    for path in ["/index/1/q", "/index/2/qz", "/index/3/q/qzx"] {
        assert!(
            requests.iter().any(|r| r == path),
            "{path} requested: {requests:?}"
        );
    }
}

#[test]
fn human_output_names_the_failing_component() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM, NETTY]).start();
    let b = bom(vec![fixture_component(CALM), fixture_component(NETTY)]);
    let text = serde_json::to_string_pretty(&b).unwrap();
    let r = env.run_raw(&server, &text, &[]);
    r.assert_code(1);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("capfix-netty"), "{}", r.describe());
    assert!(all.contains("net"), "{}", r.describe());
}

#[test]
fn vet_bom_reports_match_the_schema() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .publish(Published::fixture(FILER).serve(b"not a crate".to_vec()))
        .start();
    let validator = crate::schema::validator("vet-bom");
    for (components, code) in [
        (vec![fixture_component(CALM)], 0),
        (vec![fixture_component(CALM), fixture_component(NETTY)], 1),
        (vec![fixture_component(CALM), fixture_component(FILER)], 2),
    ] {
        let v = vetted(env.vet(&server, &bom(components), &[]), code);
        crate::schema::assert_valid(&validator, &format!("vet-bom exit {code}"), &v.report);
    }
}

// ---------------------------------------------------------------------------
// Offline: cargo's own caches only

/// Puts `published` where cargo keeps what it downloaded from the registry
/// at `index_url`: the index entry in the index cache (cargo's format,
/// written by tame-index) and the `.crate` in the download cache.
fn seed_cargo_caches(env: &Env, index_url: &str, published: &Published) {
    use tame_index::index::{IndexCache, IndexLocation, IndexUrl, cache::Revision};
    let root = tame_index::PathBuf::from_path_buf(env.cargo_home()).expect("UTF-8 temp path");
    let (index_dir, _) = IndexLocation::new(IndexUrl::NonCratesIo(index_url.into()))
        .with_root(Some(root))
        .into_parts()
        .expect("index location");
    let line = published.index_line() + "\n";
    let lines = tame_index::index::JsonLines::validate(line.as_bytes()).expect("index line");
    let name = tame_index::KrateName::cargo(&published.name).unwrap();
    IndexCache::at_path(index_dir.clone())
        .write_to_cache(
            name,
            lines,
            &Revision::Unknown,
            &tame_index::index::FileLock::unlocked(),
        )
        .expect("index cache entry");
    let crates = env
        .cargo_home()
        .join("registry/cache")
        .join(index_dir.file_name().unwrap());
    std::fs::create_dir_all(&crates).unwrap();
    std::fs::write(
        crates.join(format!("{}-{}.crate", published.name, published.vers)),
        &published.archive,
    )
    .unwrap();
}

#[test]
fn offline_uses_cargos_index_and_download_caches() {
    let env = Env::new();
    // Nothing listens here: offline must not try.
    let index_url = "sparse+http://127.0.0.1:9/index/";
    seed_cargo_caches(&env, index_url, &Published::fixture(NETTY));
    let bom_path = env
        .write("bom.json", &bom(vec![fixture_component(NETTY)]).to_string())
        .display()
        .to_string();
    let run = Run::of(
        &mut env.cmd(),
        &[
            "vet-bom",
            &bom_path,
            "--registry",
            index_url,
            "--offline",
            "--format",
            "json",
        ],
    );
    let v = vetted(run, 1);
    v.expect_status("capfix-netty", "violation")
        .expect_packages(&["capfix-netty"])
        .expect_markers();

    // A crate cargo never downloaded cannot be vetted offline: an error
    // that says so, not a pass.
    let run = Run::of(
        &mut env.cmd(),
        &[
            "vet-bom",
            &env.write("bom2.json", &bom(vec![fixture_component(CALM)]).to_string())
                .display()
                .to_string(),
            "--registry",
            index_url,
            "--offline",
            "--format",
            "json",
        ],
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("--offline"),
        "the error says what to do\n{}",
        run.describe()
    );
}
