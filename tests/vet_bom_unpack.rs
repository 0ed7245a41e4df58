//! What `vet-bom` unpacks, and when. A crate is unpacked only when its
//! scan is not in the cache, and then every file of its archive is there:
//! `include!` and `#[path]` may name any file (a 300 KB `.rs.data` table,
//! a `.h`), and one the archive holds must be read, never reported
//! missing, while one it does not hold is reported missing as before.
//! `-v` says where each crate's time went, on stderr only.

use std::path::Path;

use serde_json::Value;

use crate::registry_server::{Published, Registry, Server, crate_base};
use crate::util::{self, Run};
use crate::vet_bom::{CALM, Env, NETTY, bom, cargo, fixture_component, vetted};

/// A table larger than any subset would keep, ending in a process spawn.
fn big_table() -> String {
    let mut text = String::from("pub static TABLE: &[u32] = &[\n");
    while text.len() < 300 << 10 {
        text.push_str("    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,\n");
    }
    text.push_str(
        "];\n\npub fn spawn() {\n    let _ = std::process::Command::new(\"sh\").status();\n}\n",
    );
    text
}

const LIB: &str = "include!(\"../data/table.rs.data\");\n\
#[path = \"sys.h\"]\n\
mod sys;\n\
mod absent;\n\
pub fn run() { sys::read(); }\n";

const SYS_H: &str = "pub fn read() {\n    let _ = std::fs::read(\"/etc/hostname\");\n}\n";

fn includer() -> Published {
    let archive = crate_base("capfix-includer", "1.0.0", LIB)
        .file(
            "capfix-includer-1.0.0/data/table.rs.data",
            big_table().as_bytes(),
        )
        .file("capfix-includer-1.0.0/src/sys.h", SYS_H.as_bytes())
        .gz();
    Published::archive("capfix-includer", "1.0.0", archive)
}

/// (file, rule, capability) of every finding of `name`.
fn findings(report: &Value, name: &str) -> Vec<(String, String, String)> {
    util::package(report, name)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("file"), s("rule"), s("capability"))
        })
        .collect()
}

#[test]
fn every_file_of_the_archive_a_scan_names_is_read_and_only_absent_ones_are_missing() {
    let env = Env::new();
    let server = Registry::new().publish(includer()).start();
    let v = vetted(
        env.vet(&server, &bom(vec![cargo("capfix-includer", "1.0.0")]), &[]),
        1,
    );
    let found = findings(&v.report, "capfix-includer");
    let has = |file: &str, cap: &str| {
        found
            .iter()
            .any(|(f, _, c)| f == file && c.starts_with(cap))
    };
    assert!(
        has("data/table.rs.data", "process"),
        "the include!d 300 KB table is read\n{found:?}\n{}",
        v.run.describe()
    );
    assert!(
        has("src/sys.h", "fs"),
        "the #[path] .h module is read\n{found:?}"
    );
    let missing: Vec<_> = found
        .iter()
        .filter(|(_, rule, _)| rule == "missing-module-file")
        .collect();
    assert_eq!(missing.len(), 1, "only `mod absent;` is missing\n{found:?}");
    let absent = &util::package(&v.report, "capfix-includer")["findings"];
    assert!(
        absent.to_string().contains("src/absent.rs"),
        "the missing module names the files looked for\n{absent}"
    );
}

/// The names of the crates unpacked in the cache.
fn unpacked(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache.join("src"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn vet_two(env: &Env, server: &Server, args: &[&str]) -> Run {
    env.vet(
        server,
        &bom(vec![fixture_component(NETTY), fixture_component(CALM)]),
        args,
    )
}

#[test]
fn a_crate_whose_scan_is_cached_is_not_unpacked() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY, CALM]).start();
    let first = vetted(vet_two(&env, &server, &[]), 1);
    let names = unpacked(&env.cache());
    assert_eq!(names.len(), 2, "both unpacked for their scans: {names:?}");
    assert!(names.iter().all(|n| n.ends_with("-all")), "{names:?}");

    std::fs::remove_dir_all(env.cache().join("src")).unwrap();
    let again = vetted(vet_two(&env, &server, &[]), 1);
    assert_eq!(again.run.stdout, first.run.stdout, "the same report");
    assert_eq!(
        unpacked(&env.cache()),
        Vec::<String>::new(),
        "scans from the cache unpack nothing"
    );

    // Without the scans, the crates are unpacked again for them.
    std::fs::remove_dir_all(env.cache().join("v2")).unwrap();
    let third = vetted(vet_two(&env, &server, &[]), 1);
    assert_eq!(third.run.stdout, first.run.stdout, "the same report");
    assert_eq!(unpacked(&env.cache()), names);
}

#[test]
fn verbose_names_each_crate_s_times_on_stderr_only() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY, CALM]).start();
    let quiet = vetted(vet_two(&env, &server, &[]), 1);
    std::fs::remove_dir_all(env.cache()).unwrap();
    let verbose = vetted(vet_two(&env, &server, &["-v"]), 1);
    assert_eq!(
        verbose.run.stdout, quiet.run.stdout,
        "timings stay off the report"
    );
    for name in ["capfix-netty 0.3.0", "capfix-calm 1.0.0"] {
        let line = verbose
            .run
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("timing: {name}: ")))
            .unwrap_or_else(|| panic!("a timing line for {name}\n{}", verbose.run.describe()));
        for stage in ["lookup ", "fetch ", "verify ", "check ", "unpack ", "scan "] {
            assert!(line.contains(stage), "{stage} in {line:?}");
        }
        assert!(!line.contains("unpack none"), "unpacked cold: {line:?}");
    }
    // Warm: the scans come from the cache and nothing is unpacked.
    let warm = vetted(vet_two(&env, &server, &["-v"]), 1);
    assert_eq!(warm.run.stdout, quiet.run.stdout);
    let line = warm
        .run
        .stderr
        .lines()
        .find(|l| l.starts_with("timing: capfix-netty 0.3.0: "))
        .unwrap_or_else(|| panic!("a timing line\n{}", warm.run.describe()));
    assert!(
        line.contains("unpack none") && line.contains("(cached)"),
        "{line:?}"
    );
}

#[test]
fn the_human_report_shows_source_lines_when_the_scans_come_from_the_cache() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY, CALM]).start();
    let b = bom(vec![fixture_component(NETTY), fixture_component(CALM)]);
    let text = serde_json::to_string_pretty(&b).unwrap();
    let cold = env.run_raw(&server, &text, &["--color", "never"]);
    cold.assert_code(1);
    assert!(
        cold.stdout.contains("TcpStream"),
        "netty's source line is shown\n{}",
        cold.describe()
    );
    std::fs::remove_dir_all(env.cache().join("src")).unwrap();
    let warm = env.run_raw(&server, &text, &["--color", "never"]);
    warm.assert_code(1);
    assert_eq!(
        warm.stdout,
        cold.stdout,
        "the same report\n{}",
        warm.describe()
    );
}
