//! `scan` on the capability fixtures: findings must equal the markers.
//!
//! What the scanner finds is checked in-process, through the library
//! ([`util::Scan`], [`check_fixture`]); the command line (the `capgate`
//! subcommand forms, human output, `-q`/`-v`, printed bytes) on the binary.

use std::collections::BTreeSet;

use crate::util::{self, Run, Scan, check_fixture, findings_at, line_of, package, run, strings};

#[test]
fn capabilities_fixture_reports_every_capability_at_the_line_naming_the_api() {
    let report = check_fixture("capabilities");
    // Guard the fixture itself: every leaf capability is exercised.
    let mut seen = BTreeSet::new();
    for p in util::packages(&report) {
        seen.extend(strings(&p["capabilities"]));
        seen.extend(strings(&p["build_script"]["capabilities"]));
    }
    let leaves = util::leaf_capabilities();
    assert_eq!(leaves.len(), 12, "{leaves:?}");
    for cap in leaves {
        assert!(
            seen.contains(cap),
            "no package of the capabilities fixture reports {cap}"
        );
    }
}

#[test]
fn path_crate_named_libc_matches_the_libc_rules() {
    let report = Scan::fixture("capabilities").report();
    let user = package(&report, "cap-libc-user");
    assert_eq!(
        strings(&user["capabilities"]),
        [
            "env.read",
            "env.write",
            "ffi",
            "net.connect",
            "process.spawn"
        ]
    );
    // Defining `pub fn getenv` is not naming it.
    assert_eq!(
        strings(&package(&report, "libc")["capabilities"]),
        Vec::<String>::new()
    );
}

#[test]
fn packages_carry_kind_source_version_and_purl() {
    let report = Scan::fixture("capabilities").report();
    for p in util::packages(&report) {
        let name = p["name"].as_str().unwrap();
        assert_eq!(p["source"], "workspace", "{name} is a workspace member");
        let kind = if name == "cap-proc-macro" {
            "proc-macro"
        } else {
            "lib"
        };
        assert_eq!(p["kind"], kind, "kind of {name}");
    }
    let libc = package(&report, "libc");
    assert_eq!(libc["version"], "0.2.0");
    assert_eq!(
        libc["purl"], "pkg:cargo/libc@0.2.0?download_url=file:%2F%2Fcrates%2Flibc",
        "a path crate is local: its purl names its directory, never the registry"
    );
}

#[test]
fn finding_records_resolved_path_rule_line_and_column() {
    let report = Scan::fixture("capabilities").report();
    let (line, text) = line_of(
        "capabilities",
        "crates/cap-fs/src/lib.rs",
        "let _ = std::fs::read(p);",
    );
    let column = text.find("std::fs::read").unwrap() as u64 + 1;
    let found = findings_at(&report, "cap-fs", "src/lib.rs", line);
    assert_eq!(
        found.len(),
        1,
        "one finding at src/lib.rs:{line}: {found:?}"
    );
    let f = found[0];
    assert_eq!(f["capability"], "fs.read");
    assert_eq!(
        f["column"], column,
        "column is 1-based, where the path starts: {f}"
    );
    assert_eq!(f["evidence"], "std::fs::read", "{f}");
    assert!(f["rule"].as_str().is_some_and(|r| !r.is_empty()), "{f}");
    assert_eq!(
        f["via"],
        serde_json::json!([]),
        "direct use has an empty via: {f}"
    );
}

#[test]
fn build_finding_is_at_line_one_of_the_build_script() {
    let report = Scan::fixture("capabilities").report();
    let p = package(&report, "cap-build");
    let build: Vec<_> = p["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["capability"] == "build")
        .collect();
    assert_eq!(build.len(), 1, "{build:?}");
    assert_eq!(build[0]["file"], "build.rs");
    assert_eq!(build[0]["line"], 1);
    assert_eq!(strings(&p["build_script"]["capabilities"]), ["env.read"]);
}

#[test]
fn resolution_fixture_resolves_every_path_form() {
    check_fixture("resolution");
}

#[test]
fn evidence_is_the_canonical_path_behind_aliases_and_renames() {
    let report = Scan::fixture("resolution").report();
    let cases = [
        (
            "res-main",
            "src/lib.rs",
            "let _ = Cmd::new(\"ls\");",
            "std::process::Command::new",
        ),
        (
            "res-main",
            "src/lib.rs",
            "let _ = Handle::create(p);",
            "std::fs::File::create",
        ),
        (
            "res-main",
            "src/lib.rs",
            "let _ = environment::var(\"X\");",
            "std::env::var",
        ),
        (
            "res-main",
            "src/lib.rs",
            "let _ = Sock::connect(",
            "std::net::TcpStream::connect",
        ),
        (
            "res-main",
            "src/lib.rs",
            "let _ = sys::setenv(",
            "libc::setenv",
        ),
        (
            "res-main",
            "src/reexports.rs",
            "let _ = get(\"K\");",
            "std::env::var",
        ),
        (
            "res-main",
            "src/reexports.rs",
            "let _ = facade::fsys::write(",
            "std::fs::write",
        ),
        ("res-2015", "src/lib.rs", "!c::getenv(", "libc::getenv"),
        (
            "res-2015",
            "src/lib.rs",
            "let _ = stdlib::fs::read(",
            "std::fs::read",
        ),
    ];
    for (pkg, file, needle, evidence) in cases {
        let dir = format!("crates/{pkg}/{file}");
        let (line, _) = line_of("resolution", &dir, needle);
        let found = findings_at(&report, pkg, file, line);
        assert!(
            found.iter().any(|f| f["evidence"] == evidence),
            "{pkg} {file}:{line}: expected evidence {evidence:?}, got {found:?}"
        );
    }
}

#[test]
fn decoys_fixture_reports_only_the_positive_control() {
    let report = check_fixture("decoys");
    assert_eq!(
        strings(&package(&report, "decoys")["capabilities"]),
        ["env.read"]
    );
}

#[test]
fn macros_fixture_finds_paths_in_macro_arguments_and_macro_rules_bodies() {
    check_fixture("macros");
}

#[test]
fn unsafe_ffi_fixture_reports_every_unsafe_and_ffi_form() {
    let report = check_fixture("unsafe-ffi");
    assert_eq!(
        strings(&package(&report, "unsafe-forms")["capabilities"]),
        ["unsafe"]
    );
    // Declared socket and setenv are not called: `ffi` only for them.
    assert_eq!(
        strings(&package(&report, "ffi-forms")["capabilities"]),
        ["build", "env.read", "ffi", "unsafe"]
    );
    assert_eq!(
        strings(&package(&report, "ffi-declared")["capabilities"]),
        ["ffi"]
    );
    assert_eq!(
        strings(&package(&report, "ffi-caller")["capabilities"]),
        ["env.read", "net.connect", "process.spawn", "unsafe"]
    );
}

/// `#[link(wasm_import_module)]` imports from the host only when compiling
/// for wasm; rustc ignores it on other targets, where `bind` is libc's.
#[test]
fn wasm_imports_are_no_libc_functions_on_wasm_only() {
    let bind = |report: &serde_json::Value| {
        strings(&package(report, "wasm-imports")["capabilities"]).contains(&"net.listen".into())
    };
    let linux = Scan::fixture("unsafe-ffi").target(util::LINUX).report();
    assert!(bind(&linux), "on Linux js_bind links the C library's bind");
    let wasm = Scan::fixture("unsafe-ffi")
        .target("wasm32-unknown-unknown")
        .report();
    assert!(!bind(&wasm), "on wasm js_bind is imported from \"env\"");
    assert_eq!(
        strings(&package(&wasm, "wasm-imports")["capabilities"]),
        ["ffi", "unsafe"]
    );
}

#[test]
fn build_scripts_and_proc_macros_are_reported_separately() {
    let report = check_fixture("build-proc-macro");
    let app = package(&report, "app");
    assert_eq!(strings(&app["capabilities"]), ["build"]);
    assert_eq!(
        strings(&app["build_script"]["capabilities"]),
        ["env.read", "fs.write"]
    );
    let derive = package(&report, "derive-thing");
    assert_eq!(derive["kind"], "proc-macro");
    assert_eq!(
        strings(&derive["capabilities"]),
        ["env.read", "fs.read", "proc-macro"]
    );
    // The build-dependency is in the graph with its own capabilities.
    assert_eq!(
        strings(&package(&report, "gen-helper")["capabilities"]),
        ["env.read", "fs.read"]
    );
    let custom = package(&report, "custom-build");
    assert_eq!(
        strings(&custom["build_script"]["capabilities"]),
        ["env.write", "process.spawn"]
    );
    // What a build script links is the package's `ffi`, not the script's;
    // `links` alone links nothing.
    for linking in [
        "link-directive",
        "link-computed",
        "link-cc",
        "link-via-helper",
    ] {
        let pkg = package(&report, linking);
        assert!(
            strings(&pkg["capabilities"]).contains(&"ffi".to_string()),
            "{linking}"
        );
        assert!(
            !strings(&pkg["build_script"]["capabilities"]).contains(&"ffi".to_string()),
            "{linking}"
        );
    }
    assert_eq!(
        strings(&package(&report, "links-only")["capabilities"]),
        ["build"]
    );
    // A library printing a directive links nothing itself.
    assert_eq!(
        strings(&package(&report, "link-helper")["capabilities"]),
        Vec::<String>::new()
    );
    // `build = false`: the build.rs on disk is not a build script.
    let none = package(&report, "no-build");
    assert_eq!(strings(&none["capabilities"]), Vec::<String>::new());
    assert_eq!(
        strings(&none["build_script"]["capabilities"]),
        Vec::<String>::new()
    );
}

#[test]
fn layout_fixture_follows_the_module_tree_of_every_target() {
    let report = check_fixture("layout");
    assert_eq!(
        package(&report, "layout-lib")["kind"],
        "lib",
        "a lib with bins is a lib"
    );
    assert_eq!(package(&report, "layout-bin-only")["kind"], "bin");
    assert_eq!(package(&report, "layout-custom-root")["kind"], "lib");
}

/// The in-process tests stand for the binary: `scan --format json` prints
/// the report the library computes (no advisory database: an empty
/// `CARGO_HOME`).
#[test]
fn the_binary_prints_the_report_the_library_computes() {
    for fixture in ["capabilities", "cfg", "corpus/transitive-two-levels"] {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = util::capgate();
        cmd.env("CARGO_HOME", home.path());
        let args = util::manifest_args(
            "scan",
            &util::fixture_dir(fixture),
            &["--format", "json", "--target", util::LINUX],
        );
        let printed = Run::of(&mut cmd, &args).assert_code(0).report();
        let computed = Scan::fixture(fixture).target(util::LINUX).report();
        assert_eq!(printed, computed, "{fixture}");
    }
}

#[test]
fn capgate_subcommand_form_prints_the_same_report() {
    let m = util::manifest("capabilities");
    let direct = util::scan("capabilities", &[]);
    let forms: [&[&str]; 3] = [
        &[
            "capgate",
            "scan",
            "--manifest-path",
            &m,
            "--offline",
            "--format",
            "json",
        ],
        &[
            "capgate",
            "--manifest-path",
            &m,
            "--offline",
            "--format",
            "json",
        ],
        &["--manifest-path", &m, "--offline", "--format", "json"],
    ];
    for args in forms {
        let r = run(args);
        assert_eq!(
            r.assert_code(0).report(),
            direct,
            "cargo-capgate {}",
            args.join(" ")
        );
    }
}

#[test]
fn human_output_lists_every_package_and_exits_0() {
    let r = util::run_on(
        "scan",
        &util::fixture_dir("capabilities"),
        &["--color", "never"],
    );
    r.assert_code(0);
    for name in util::Fixture::load(&util::fixture_dir("capabilities")).package_names() {
        assert!(
            r.stdout.contains(&name),
            "human output does not name {name}\n{}",
            r.describe()
        );
    }
    assert!(
        !r.stdout.contains("\x1b["),
        "--color never must not print escape codes"
    );
}

#[test]
fn quiet_and_verbose_keep_stdout_a_valid_report() {
    for flag in ["-q", "-v"] {
        let report = util::scan("decoys", &[flag]);
        util::assert_markers("decoys", &report);
    }
}

#[test]
fn scan_output_is_deterministic() {
    let dir = util::fixture_dir("resolution");
    let a = util::run_on("scan", &dir, &["--format", "json"]);
    let b = util::run_on("scan", &dir, &["--format", "json"]);
    a.assert_code(0);
    b.assert_code(0);
    assert_eq!(
        a.stdout, b.stdout,
        "two scans of the same tree must print the same bytes"
    );
}

/// How each finding was resolved: the handle rules only where the
/// receiver's type is known (`type`, evidence naming the type's method),
/// a receiver whose type is not written by the method's name (`by-name`,
/// evidence `.name()`), paths as `path`, structural findings without.
#[test]
fn findings_say_how_they_were_resolved_and_handles_need_a_known_type() {
    let report = Scan::fixture("capabilities").report();
    let handles = package(&report, "cap-handles");
    let findings = handles["findings"].as_array().expect("findings");
    assert!(findings.len() >= 12, "{findings:#?}");
    for f in findings {
        assert_eq!(f["resolution"], "type", "{f:#}");
        let evidence = f["evidence"].as_str().unwrap();
        assert!(evidence.starts_with("std::"), "{f:#}");
    }
    // The negative twin: the same names on receivers that are not handles,
    // beside code that names a handle type.
    assert_eq!(
        strings(&package(&report, "cap-handles-none")["capabilities"]),
        Vec::<String>::new()
    );

    let (line, _) = line_of(
        "capabilities",
        "crates/cap-fs/src/lib.rs",
        "p.exists()).count()",
    );
    let [by_name] = findings_at(&report, "cap-fs", "src/lib.rs", line)[..] else {
        panic!("one finding at cap-fs line {line}");
    };
    assert_eq!(by_name["resolution"], "by-name");
    assert_eq!(by_name["evidence"], ".exists()");
    // Structural findings, and only they, have none.
    let structural = include_str!("../rules/structural.toml");
    for p in util::packages(&report) {
        for f in p["findings"].as_array().unwrap() {
            let id = format!("id = {}", f["rule"]);
            assert_eq!(
                f.get("resolution").is_none(),
                structural.contains(&id),
                "{f:#}"
            );
            if ["std-env-read", "std-process-spawn"].contains(&f["rule"].as_str().unwrap()) {
                assert_eq!(f["resolution"], "path", "{f:#}");
            }
        }
    }

    // The terminal and `check` say which findings were matched by name.
    let run = util::run_on(
        "scan",
        &util::fixture_dir("capabilities"),
        &["-v", "--color", "never"],
    );
    assert!(
        run.stdout
            .contains(".exists()  [std-path-fs-query] (by method name)"),
        "{}",
        run.describe()
    );
    assert!(
        run.stdout
            .contains("matched by method name: the receiver's type is not written"),
        "{}",
        run.describe()
    );
}
