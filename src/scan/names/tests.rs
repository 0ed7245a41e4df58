//! Name resolution on small crates written inline.

use super::*;
use crate::scan::collect::Collector;
use crate::scan::facts::{RefKind, Scope};
use std::path::Path;

/// Collects `src` as a crate root and resolves the path of the first
/// call to `target!()`-free code: every path ref, resolved, in order.
fn resolved(src: &str, deps: &[(&str, &str)], edition: Edition) -> Vec<Vec<String>> {
    let facts = collected(src, edition);
    let prelude = ExternPrelude::new(
        deps.iter().map(|(a, b)| (a.to_string(), b.to_string())),
        false,
    );
    let resolver = Resolver::new(&facts, &prelude, edition);
    facts
        .refs()
        .iter()
        .filter_map(|r| match &r.kind {
            RefKind::Path(p) | RefKind::Macro(p) => Some(resolver.resolve_ns(r.scope, p, r.ns)),
            RefKind::Method(_) => None,
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// The facts of `src` as a crate root.
fn collected(src: &str, edition: Edition) -> CrateFacts {
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
        std::path::Path::new("src/lib.rs"),
        crate::scan::moddir::ModDir::owning(Path::new("src/lib.rs")),
        root,
    )
    .collect_file(&syntax);
    facts
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

/// Every path ref of `facts` resolved by one fresh resolver that is asked
/// in the order `order` gives, the answers kept in the refs' order.
fn asked_in_order(facts: &CrateFacts, order: &[usize]) -> Vec<Vec<String>> {
    let prelude = ExternPrelude::new([], false);
    let resolver = Resolver::new(facts, &prelude, Edition::E2021);
    let mut answers = vec![Vec::new(); facts.refs().len()];
    for &i in order {
        let r = &facts.refs()[i];
        if let RefKind::Path(p) | RefKind::Macro(p) = &r.kind {
            answers[i] = resolver.resolve_ns(r.scope, p, r.ns);
        }
    }
    answers
}

/// The answers with each ref asked first in turn, then the others in
/// order: a resolution that depends on what was asked first shows.
fn answers_from_each_start(facts: &CrateFacts) -> Vec<(usize, Vec<Vec<String>>)> {
    let n = facts.refs().len();
    (0..n)
        .map(|start| {
            let order: Vec<usize> = (start..n).chain(0..start).collect();
            (start, asked_in_order(facts, &order))
        })
        .collect()
}

/// Whether a reference is a path ending in `new` (the calls under test).
fn calls_new(r: &crate::scan::facts::Ref) -> bool {
    matches!(&r.kind, RefKind::Path(p) if p.segments.last().is_some_and(|s| s == "new"))
}

/// Every order of `items`, as the source of a crate root.
fn permutations(items: &[&str]) -> Vec<String> {
    if items.len() <= 1 {
        return vec![items.concat()];
    }
    let mut out = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for tail in permutations(&rest) {
            out.push(format!("{first}\n{tail}"));
        }
    }
    out
}

/// Modules that glob each other (a child's `use super::*` and the root's
/// `pub use child::*`, rings of `pub use super::x::*`) resolve a name the
/// same whichever of them is asked first and whatever order their items are
/// declared in: a cycle's answer is its fixpoint, never the half-finished
/// one the first scope asked saw.
#[test]
fn glob_cycles_resolve_alike_in_any_order() {
    let crates: [&[&str]; 4] = [
        // The root names the type first; the module calls through it.
        &[
            "pub struct Holder(pub Option<Command>);",
            "mod inner { use super::*; pub fn run() { Command::new(); } }",
            "pub use inner::*;",
            "mod sys { pub use std::process::Command; }",
            "pub use sys::*;",
        ],
        // A ring of three modules, the name brought in from outside it.
        &[
            "mod a { pub use super::b::*; }",
            "mod b { pub use super::c::*; }",
            "mod c { pub use super::a::*; pub use super::sys::*; }",
            "mod sys { pub use std::process::Command; }",
            "fn f() { a::Command::new(); b::Command::new(); c::Command::new(); }",
        ],
        // Globs of another crate, seen through the cycle.
        &[
            "mod a { pub use super::b::*; pub use std::process::*; }",
            "mod b { pub use super::a::*; }",
            "fn fa() { a::Command::new(); }",
            "fn fb() { b::Command::new(); }",
        ],
        // A cycle inside a cycle: `k2` reads `k` while `k` is unfinished.
        &[
            "mod h { pub use super::k::*; }",
            "mod k { pub use super::d::*; pub use super::h::*; pub use super::k2::*; }",
            "mod k2 { pub use super::k::*; }",
            "mod d { pub use std::process::Command; }",
            "fn f() { h::Command::new(); k::Command::new(); k2::Command::new(); }",
        ],
    ];
    for items in crates {
        for src in permutations(items) {
            let facts = collected(&src, Edition::E2021);
            for (start, answers) in answers_from_each_start(&facts) {
                let calls = facts
                    .refs()
                    .iter()
                    .zip(&answers)
                    .filter(|(r, _)| calls_new(r));
                for (_, answer) in calls {
                    assert_eq!(
                        answer,
                        &["std::process::Command::new"],
                        "asked from ref {start} first:\n{src}\n{answers:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_name_that_may_not_be_built_hides_nothing() {
    let std_shim = "mod std { pub mod fs { pub fn write() {} } }";
    assert_eq!(
        first(&format!("{std_shim} fn a() {{ std::fs::write(); }}")),
        ["crate::std::fs::write"]
    );
    // Under a `cfg` not known before a build, or in a macro's arguments:
    // a candidate beside std's.
    for wrapped in [
        format!("#[cfg(debug_assertions)] {std_shim}"),
        format!("m! {{ {std_shim} }}"),
    ] {
        let all = resolved(
            &format!("{wrapped} fn a() {{ std::fs::write(); }}"),
            &[],
            Edition::E2021,
        );
        assert!(
            all.iter()
                .any(|r| r == &["crate::std::fs::write", "std::fs::write"]),
            "{wrapped}: {all:?}"
        );
    }
}

#[test]
fn an_import_of_the_crates_item_hides_globs_in_its_namespaces_only() {
    assert_eq!(
        first("mod q { pub fn write() {} } use q::write; use std::fs::*; fn a() { write(1); }"),
        ["crate::q::write"]
    );
    // A braced struct is a type only: the value is still the glob's.
    assert_eq!(
        first("mod q { pub struct write {} } use q::write; use std::fs::*; fn a() { write(1); }"),
        ["crate::q::write", "std::fs::write"]
    );
}

#[test]
fn a_named_import_back_through_a_glob_is_resolved_in_any_order() {
    // The root globs `m`, whose named import is the root's `Command`: the
    // root's other glob brings std's. Asked from the root first, `m`'s
    // import met the root's unfinished lookup and found nothing.
    let items: &[&str] = &[
        "pub struct Holder(pub Option<Command>);",
        "pub mod m { pub use crate::Command; }",
        "pub use m::*;",
        "mod sys { pub use std::process::Command; }",
        "pub use sys::*;",
        "fn f() { m::Command::new(); }",
    ];
    for src in permutations(items) {
        let facts = collected(&src, Edition::E2021);
        for (start, answers) in answers_from_each_start(&facts) {
            let call = facts
                .refs()
                .iter()
                .zip(&answers)
                .find(|(r, _)| calls_new(r))
                .map(|(_, a)| a)
                .unwrap();
            assert!(
                call.iter().any(|p| p == "std::process::Command::new"),
                "asked from ref {start} first:\n{src}\n{answers:?}"
            );
        }
    }
}

#[test]
fn paths_through_associated_types_reach_their_target() {
    let src = "trait S { type F; fn f(); } struct X; \
               impl S for X { type F = std::fs::File; fn f() { Self::F::create(1); } }";
    let all = resolved(src, &[], Edition::E2021);
    assert!(
        all.iter()
            .any(|r| r.contains(&"std::fs::File::create".to_owned())),
        "{all:?}"
    );
    let src = "fn g<T: Tr<F = std::fs::File>>() { T::F::open(1); }";
    let all = resolved(src, &[], Edition::E2021);
    assert!(all.iter().any(|r| r == &["std::fs::File::open"]), "{all:?}");
}

#[test]
fn another_modules_glob_brings_only_its_imports_with_some_pub() {
    let src = r#"
        mod a {
            use std::process::Command;
            pub(crate) use std::fs::File;
            pub mod inner {
                use super::*;
                pub fn f() { Command::new("x"); }
            }
        }
        mod b {
            use crate::a::*;
            fn g() { File::open("x"); Command::new("y"); }
        }
    "#;
    let all = resolved(src, &[], Edition::E2021);
    // Inside `a`, its plain `use` counts; from `b`, only `pub(crate)` does.
    let command = "std::process::Command::new".to_owned();
    assert!(all[0].contains(&command), "{all:?}");
    assert!(
        all[1].contains(&"std::fs::File::open".to_owned()),
        "{all:?}"
    );
    assert!(all[2..].iter().all(|r| !r.contains(&command)), "{all:?}");
}

#[test]
fn a_module_globbing_thousands_of_modules_that_glob_it_back_resolves_within_the_bound() {
    // web-sys's `features`: 1,725 generated modules, each `use super::*`.
    let n = 2_000;
    let mut src = String::from("pub mod features {\n");
    for i in 0..n {
        let (next, after) = ((i + 1) % n, (i + 2) % n);
        src.push_str(&format!(
            "mod gen_{i} {{ use super::*; pub struct T{i}; \
             pub fn f{i}() {{ T{next}::new(); U{after}::new(); g{next}(); }} \
             pub fn g{i}() {{}} pub struct U{i}; }}\npub use gen_{i}::*;\n"
        ));
    }
    src.push_str("}\n");
    let facts = collected(&src, Edition::E2021);
    let prelude = ExternPrelude::new([], false);
    let resolver = Resolver::new(&facts, &prelude, Edition::E2021);
    let mut resolved = 0;
    for r in facts.refs() {
        if let RefKind::Path(p) = &r.kind {
            let found = resolver.resolve_ns(r.scope, p, r.ns);
            resolved += usize::from(found.iter().any(|f| f.starts_with("crate::features::gen_")));
        }
    }
    assert_eq!(resolver.exhausted(), None);
    assert_eq!(resolved, 3 * n);
}
