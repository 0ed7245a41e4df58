//! Which packages are in the graph: features, target platforms,
//! dev-dependencies (fixtures/features-targets).
//!
//! In-process: the graph is `resolve`'s and the findings `scan`'s, through
//! the library ([`Scan`]).

use crate::util::{self, LINUX, Scan, assert_markers, assert_packages, package};

const FIXTURE: &str = "features-targets";

/// Always in the graph on a Unix target with default features: the member,
/// its default-feature dependency, a plain path dependency, the cfg(unix)
/// dependency and the build-dependency.
const UNIX_DEFAULT: &[&str] = &[
    "ft-app",
    "ft-buildtool",
    "ft-default",
    "ft-unix",
    "ft-vendored",
];

fn with(base: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
    base.iter().chain(extra).copied().collect()
}

fn without(base: &[&'static str], drop: &[&'static str]) -> Vec<&'static str> {
    base.iter().filter(|n| !drop.contains(n)).copied().collect()
}

#[cfg(target_os = "linux")]
#[test]
fn default_graph_on_linux_host_has_no_optional_windows_or_dev_dependencies() {
    let report = Scan::fixture(FIXTURE).report();
    assert_packages(&report, UNIX_DEFAULT);
    assert_markers(FIXTURE, &report);
}

#[test]
fn linux_target_excludes_cfg_windows_dependency() {
    let report = Scan::fixture(FIXTURE).target(LINUX).report();
    assert_packages(&report, UNIX_DEFAULT);
    assert_markers(FIXTURE, &report);
}

#[test]
fn windows_target_includes_cfg_windows_dependency_and_drops_cfg_unix_one() {
    let report = Scan::fixture(FIXTURE)
        .target("x86_64-pc-windows-msvc")
        .report();
    assert_packages(
        &report,
        &[
            "ft-app",
            "ft-buildtool",
            "ft-default",
            "ft-vendored",
            "ft-windows",
        ],
    );
    assert_markers(FIXTURE, &report);
}

#[test]
fn feature_flag_brings_in_optional_dependency() {
    let report = Scan::fixture(FIXTURE)
        .target(LINUX)
        .features("extra")
        .report();
    assert_packages(&report, &with(UNIX_DEFAULT, &["ft-optional"]));
    assert_markers(FIXTURE, &report);
}

#[test]
fn all_features_brings_in_every_optional_dependency() {
    let report = Scan::fixture(FIXTURE).target(LINUX).all_features().report();
    assert_packages(&report, &with(UNIX_DEFAULT, &["ft-optional"]));
}

#[test]
fn no_default_features_drops_default_feature_dependency() {
    let report = Scan::fixture(FIXTURE)
        .target(LINUX)
        .no_default_features()
        .report();
    assert_packages(&report, &without(UNIX_DEFAULT, &["ft-default"]));
}

#[test]
fn no_default_features_with_explicit_feature() {
    let report = Scan::fixture(FIXTURE)
        .target(LINUX)
        .no_default_features()
        .features("extra")
        .report();
    assert_packages(
        &report,
        &with(&without(UNIX_DEFAULT, &["ft-default"]), &["ft-optional"]),
    );
}

#[test]
fn dev_flag_adds_member_dev_dependencies_and_their_dependencies_only() {
    let report = Scan::fixture(FIXTURE).target(LINUX).dev().report();
    // ft-vendored-dev is a dev-dependency of a non-member: never built.
    assert_packages(&report, &with(UNIX_DEFAULT, &["ft-dev", "ft-dev-child"]));
    assert_markers(FIXTURE, &report);
}

#[test]
fn member_is_workspace_source_and_path_dependencies_are_path_source() {
    let report = Scan::fixture(FIXTURE)
        .target(LINUX)
        .all_features()
        .dev()
        .report();
    for p in util::packages(&report) {
        let name = p["name"].as_str().unwrap();
        let source = if name == "ft-app" {
            "workspace"
        } else {
            "path"
        };
        assert_eq!(p["source"], source, "source of {name}");
    }
    let app = package(&report, "ft-app");
    assert_eq!(
        util::strings(&app["capabilities"]),
        ["build"],
        "ft-app only has a build script"
    );
}

#[test]
fn committed_lockfiles_are_up_to_date_so_locked_scans_succeed() {
    for fixture in util::SCANNABLE_FIXTURES {
        Scan::fixture(fixture).locked().report();
    }
}
