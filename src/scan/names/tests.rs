//! Name resolution on small crates written inline.

use super::*;
use crate::scan::collect::Collector;
use crate::scan::facts::{RefKind, Scope};
use std::path::Path;

/// Collects `src` as a crate root and resolves the path of the first
/// call to `target!()`-free code: every path ref, resolved, in order.
fn resolved(src: &str, deps: &[(&str, &str)], edition: Edition) -> Vec<Vec<String>> {
    let mut facts = CrateFacts::default();
    let root = facts.add_scope(Scope::module(Vec::new(), None));
    let file = facts.add_file("src/lib.rs".into());
    let syntax: syn::File = syn::parse_str(src).unwrap();
    let cfg = crate::platform::CfgContext::new(None, &[], false);
    let env = crate::scan::strexpr::CompileEnv::default();
    let files = crate::scan::files::PackageFiles::new(Path::new("."), None);
    let inputs = crate::scan::collect::CrateInputs {
        edition,
        cfg: &cfg,
        env: &env,
        files: &files,
        package_root: Path::new("."),
    };
    Collector::new(
        &mut facts,
        inputs,
        file,
        "src/lib.rs".into(),
        crate::scan::moddir::ModDir::owning(Path::new("src/lib.rs")),
        root,
    )
    .collect_file(&syntax);
    let prelude = ExternPrelude::new(
        deps.iter().map(|(a, b)| (a.to_string(), b.to_string())),
        false,
    );
    let resolver = Resolver::new(&facts, &prelude, edition);
    facts
        .refs
        .iter()
        .filter_map(|r| match &r.kind {
            RefKind::Path(p) | RefKind::Macro(p) => Some(resolver.resolve_ns(r.scope, p, r.ns)),
            RefKind::Method { .. } => None,
        })
        .filter(|v| !v.is_empty())
        .collect()
}

fn first(src: &str) -> Vec<String> {
    resolved(src, &[], Edition::E2021)
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[test]
fn use_groups_aliases_and_self() {
    assert_eq!(
        first("use std::{fs::{self as f}, io}; fn a() { f::read(1); }"),
        ["std::fs::read"]
    );
    assert_eq!(
        first("use std::fs::read as r; fn a() { r(1); }"),
        ["std::fs::read"]
    );
}

#[test]
fn local_items_shadow_std() {
    assert_eq!(
        first("mod fs { pub fn read() {} } fn a() { fs::read(); }"),
        ["crate::fs::read"]
    );
    assert_eq!(
        first("use std::process; struct Command; fn a() { Command::new(); }"),
        ["crate::Command::new"]
    );
}

#[test]
fn super_crate_and_reexports() {
    let src = "pub mod a { pub use std::fs as sys; } mod b { fn f() { super::a::sys::write(1); } }";
    assert_eq!(first(src), ["std::fs::write"]);
    let src = "mod a { pub use std::fs::*; } fn f() { crate::a::read(1); }";
    assert_eq!(first(src), ["std::fs::read"]);
}

#[test]
fn block_scoped_imports() {
    assert_eq!(
        first("fn a() { use std::env; env::var(1); }"),
        ["std::env::var"]
    );
}

#[test]
fn type_aliases_resolve_to_their_target() {
    assert_eq!(
        first("type F = std::fs::File; fn a() { F::open(1); }"),
        ["std::fs::File"]
    );
    let all = resolved(
        "type F = std::fs::File; fn a() { F::open(1); }",
        &[],
        Edition::E2021,
    );
    assert!(all.iter().any(|r| r == &["std::fs::File::open"]));
}

#[test]
fn renamed_dependencies_use_the_library_name() {
    let all = resolved(
        "fn a() { sys::getenv(); }",
        &[("sys", "libc")],
        Edition::E2021,
    );
    assert_eq!(all, [["libc::getenv"]]);
}

#[test]
fn extern_crate_alias_in_2015() {
    let src = "extern crate libc as c; mod m { use c::getpid; fn f() { getpid(); } }";
    let all = resolved(src, &[("libc", "libc")], Edition::E2015);
    assert!(all.iter().any(|r| r == &["libc::getpid"]), "{all:?}");
}

#[test]
fn absolute_paths_skip_local_names() {
    assert_eq!(
        first("mod std {} fn a() { ::std::fs::read(1); }"),
        ["std::fs::read"]
    );
}

#[test]
fn a_definition_hides_only_its_own_namespaces() {
    // A fn is a value: the type `Command` is still the import.
    let all = resolved(
        "use std::process::Command; fn Command() {} fn a() { Command::new(); }",
        &[],
        Edition::E2021,
    );
    assert!(
        all.iter().any(|r| r == &["std::process::Command::new"]),
        "{all:?}"
    );
    // The module a glob brings beside a fn of the same name.
    let all = resolved(
        "use std::*; fn fs() {} fn a() { fs::read(1); }",
        &[],
        Edition::E2021,
    );
    assert!(all.iter().any(|r| r == &["std::fs::read"]), "{all:?}");
    let all = resolved(
        "fn std() {} fn a() { std::env::var(1); }",
        &[],
        Edition::E2021,
    );
    assert!(all.iter().any(|r| r == &["std::env::var"]), "{all:?}");
    // A braced struct is only a type: a call is the glob's function.
    let all = resolved(
        "use std::fs::*; struct read {} fn a() { read(1); }",
        &[],
        Edition::E2021,
    );
    assert!(all.iter().any(|r| r == &["std::fs::read"]), "{all:?}");
    // A fn still hides a glob's fn of its name.
    let all = resolved(
        "use std::fs::*; fn read() {} fn a() { read(); }",
        &[],
        Edition::E2021,
    );
    assert!(all.iter().all(|r| r != &["std::fs::read"]), "{all:?}");
}

#[test]
fn glob_of_external_module() {
    assert_eq!(
        first("use std::fs::*; fn a() { read_to_string(1); }"),
        ["std::fs::read_to_string"]
    );
}

#[test]
fn an_import_of_another_crates_item_hides_no_other_namespace() {
    // `exit` is a value: `fs::` is still the glob's module.
    let all = resolved(
        "use std::*; use std::process::exit as fs; fn a() { fs::read(1); }",
        &[],
        Edition::E2021,
    );
    assert!(
        all.iter().any(|r| r.contains(&"std::fs::read".to_owned())),
        "{all:?}"
    );
    let all = resolved(
        "use core::mem::drop as std; fn a() { std::env::var(1); }",
        &[],
        Edition::E2021,
    );
    assert!(
        all.iter().any(|r| r.contains(&"std::env::var".to_owned())),
        "{all:?}"
    );
    // An import of the crate's own module hides the rest.
    let all = resolved(
        "mod fs { pub fn read() {} } use std::*; use self::fs as x; fn a() { x::read(); }",
        &[],
        Edition::E2021,
    );
    assert!(all.iter().any(|r| r == &["crate::fs::read"]), "{all:?}");
}
