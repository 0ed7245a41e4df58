//! Which dependency's `#[macro_export]` macro a path of several segments
//! names.
//!
//! `other::run!` names `other`'s `run!`, but a crate can name it many other
//! ways: `o::run!` after `use other as o;` or `extern crate other as o;`,
//! `m::go!` through a module's `pub use other::run as go;` or `pub use
//! other::*;`, `m::o::run!` through a module's `pub extern crate other as
//! o;`. Taking the first segment for a crate's name made each of those name
//! a crate that does not exist, so `other`'s spawning `run!` was never
//! expanded and the crate came out clean. Such paths are resolved the way
//! the rest of the crate's paths are (`names.rs`), and a path the crate's
//! own names may bend is never read as a plain crate path.
//!
//! Inside a dependency, a longer path walks the dependency's modules:
//! `$crate::__priv::mem::offset_of!` is core's `offset_of!` (memoffset's
//! `__priv` re-exports `core::mem`), not memoffset's own `offset_of!`,
//! which would expand to itself without end. Where the dependency's
//! exports record a re-export of another crate on the way, the path is
//! followed there; with none, the dependency's macro of that name is taken.
//! A re-export into a crate the reading crate does not depend on leaves
//! the dependency's own exports, which hold the macros of the crates it
//! re-exports. A chain of re-exports too long to follow, or names the
//! resolver could not settle, are reported, not passed over.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::DependencyMacros;
use super::scope::Fingerprint;
use crate::model::Edition;
use crate::scan::facts::{CrateFacts, Import, Invocation, NS_MACRO, ScopeId};
use crate::scan::names::Resolver;

/// Re-exports of crates followed for one path: real crates re-export one
/// another a hop or two deep; a chain past this is reported.
const MAX_CRATE_HOPS: usize = 8;

/// The dependency macros a path may name.
#[derive(Default, Debug)]
pub(super) struct Targets {
    /// (the dependency's name in code, the macro's name there).
    pub(super) macros: Vec<(String, String)>,
    /// Why some of what the path may name is not known.
    pub(super) unknown: Option<String>,
}

/// A path as asked: where it is written, whether it has a leading `::`
/// and whether an expansion wrote it, and its segments.
type PathKey = (ScopeId, (bool, bool), Vec<String>);

/// Answers for the paths asked so far, while the crate's names stay as
/// they were: a crate invokes the same few paths thousands of times.
#[derive(Default)]
pub(super) struct DependencyPaths {
    made_at: Option<Fingerprint>,
    answers: HashMap<PathKey, Rc<Targets>>,
    /// For bare names, what the crate's imports through its own names
    /// bring ([`through_imports`]).
    bare: HashMap<String, Rc<Targets>>,
}

impl DependencyPaths {
    /// What `inv`'s path (two segments or more) may name among the
    /// dependencies' macros.
    pub(super) fn targets(
        &mut self,
        facts: &CrateFacts,
        deps: &DependencyMacros<'_>,
        (edition, renamed): (Edition, &HashSet<String>),
        inv: &Invocation,
    ) -> Rc<Targets> {
        self.refresh(facts);
        let key = (
            inv.scope,
            (inv.path.leading_colon, inv.depth > 0),
            inv.path.segments.to_vec(),
        );
        if let Some(known) = self.answers.get(&key) {
            return known.clone();
        }
        let answer = Rc::new(resolve(facts, deps, (edition, renamed), inv));
        self.answers.insert(key, answer.clone());
        answer
    }

    /// What a bare `name!` may be among the dependencies' macros through
    /// imports that start at a name the crate binds. `renamed`: the names
    /// the crate's renaming imports bind.
    pub(super) fn bare(
        &mut self,
        facts: &CrateFacts,
        deps: &DependencyMacros<'_>,
        (edition, renamed): (Edition, &HashSet<String>),
        name: &str,
    ) -> Rc<Targets> {
        if !may_be_dependency_macro(deps, renamed, name) {
            return Rc::default();
        }
        self.refresh(facts);
        if let Some(known) = self.bare.get(name) {
            return known.clone();
        }
        let answer = Rc::new(through_imports(facts, deps, edition, name));
        self.bare.insert(name.to_owned(), answer.clone());
        answer
    }

    fn refresh(&mut self, facts: &CrateFacts) {
        // Only the crate's modules, imports and items decide a path (the
        // `macro_rules!` it defines do not).
        let now = (
            facts.scopes.len(),
            facts.imports_added,
            0,
            facts.scope_edits,
        );
        if self.made_at != Some(now) {
            self.made_at = Some(now);
            self.answers.clear();
            self.bare.clear();
        }
    }
}

/// Whether a macro called `name` may be a dependency's, however it is
/// reached: some dependency exports one of that name (its own, or one it
/// re-exports), or the crate binds that name by a renaming import. Any
/// other name leads to no dependency's macro, so it costs no resolution.
fn may_be_dependency_macro(
    deps: &DependencyMacros<'_>,
    renamed: &HashSet<String>,
    name: &str,
) -> bool {
    deps.exports_macro_named(name) || renamed.contains(name)
}

fn resolve(
    facts: &CrateFacts,
    deps: &DependencyMacros<'_>,
    (edition, renamed): (Edition, &HashSet<String>),
    inv: &Invocation,
) -> Targets {
    let segments = &inv.path.segments;
    let mut out = Targets::default();
    let first = segments[0].as_str();
    let crate_relative = matches!(first, "crate" | "self" | "super");
    if !crate_relative
        && !inv.path.leading_colon
        && deps.prelude.lib(first).is_some()
        && let Some(imports) = crate_binds(facts, deps, inv.scope, first)
    {
        // Nothing the crate binds stands for this name but imports from
        // dependencies (`use bitflags::bitflags;`, which may bind only a
        // macro): the dependency's (or std's, whose macros are built in),
        // or what such an import names.
        if deps.names_any_macros(first) {
            in_dependency(deps, first, &segments[1..], 0, &mut out);
        }
        for import in imports {
            let Some(lib) = deps.prelude.lib(&import[0]) else {
                continue;
            };
            let mut parts = vec![lib.to_owned()];
            parts.extend(import[1..].iter().cloned());
            parts.extend(segments[1..].iter().cloned());
            in_library(deps, &parts, 0, None, &mut out);
        }
        return out;
    }
    // In an expansion a dependency's name may be the `$crate` of its macro,
    // which is that crate whatever the invoking crate binds (`struct mid;`
    // beside `::mid::call!()` whose `$crate::helper!` is mid's).
    if inv.depth > 0 && !inv.path.leading_colon && deps.names_any_macros(first) {
        in_dependency(deps, first, &segments[1..], 0, &mut out);
    }
    let name = segments.last().map_or("", String::as_str);
    if !may_be_dependency_macro(deps, renamed, name) {
        return out;
    }
    let resolver = Resolver::new(facts, &deps.prelude, edition);
    for canonical in resolver.resolve_ns(inv.scope, &inv.path, NS_MACRO) {
        let parts: Vec<String> = canonical.split("::").map(str::to_owned).collect();
        if parts.len() >= 2 {
            in_library(deps, &parts, 0, None, &mut out);
        }
    }
    if let Some(why) = resolver.exhausted() {
        out.unknown = Some(format!(
            "cannot tell which macro `{}!` names: {why}",
            segments.join("::")
        ));
    }
    out
}

/// The dependency macros a bare `name!` may be through the crate's
/// imports whose path starts at a name it binds (`use o::run;` after `use
/// other as o;`, `use a::run as go;` through a module's re-export, a chain
/// of renames, `use o::*;`): each glob and each import binding `name`,
/// resolved with the crate's names as they are now. Imports starting at a
/// dependency's name are read in `candidates.rs`.
fn through_imports(
    facts: &CrateFacts,
    deps: &DependencyMacros<'_>,
    edition: Edition,
    name: &str,
) -> Targets {
    let mut out = Targets::default();
    let wanted = |import: &Import| {
        let first = import.path.iter().find(|s| !s.is_empty());
        !first.is_some_and(|f| deps.by_crate.contains_key(f))
            && import.name.as_deref().is_none_or(|bound| bound == name)
    };
    if !facts
        .scopes
        .iter()
        .any(|scope| scope.imports.iter().any(wanted))
    {
        return out;
    }
    let resolver = Resolver::new(facts, &deps.prelude, edition);
    for (scope_id, scope) in facts.scopes.iter().enumerate() {
        for import in scope.imports.iter().filter(|i| wanted(i)) {
            for canonical in resolver.resolve_import(scope_id, import) {
                let mut parts: Vec<String> = canonical.split("::").map(str::to_owned).collect();
                if deps.names_of(&parts[0]).is_empty() {
                    continue;
                }
                if import.name.is_none() {
                    parts.push(name.to_owned());
                }
                in_library(deps, &parts, 0, None, &mut out);
            }
        }
    }
    if let Some(why) = resolver.exhausted() {
        out.unknown
            .get_or_insert_with(|| format!("cannot tell which macro `{name}!` names: {why}"));
    }
    out
}

/// What the crate binds `name` to where `scope` looks a path's first
/// segment up (a definition or an import of that name in its blocks or
/// module), or at its root, where `extern crate x as name;` joins the
/// extern prelude: `use other as std;` makes `std::run!` `other`'s.
/// `Some` with the paths of the innermost imports of that name when each
/// starts at another crate's name (`use bitflags::bitflags;`), which need
/// no resolution; `None` when something else binds it. A glob is not
/// asked: a name a glob brings and the extern prelude's of that name make
/// a macro path ambiguous, which rustc refuses (E0659).
fn crate_binds<'f>(
    facts: &'f CrateFacts,
    deps: &DependencyMacros<'_>,
    scope: ScopeId,
    name: &str,
) -> Option<Vec<&'f [String]>> {
    for data in facts.lexical_scopes(scope) {
        if data.defs.contains_key(name) {
            return None;
        }
        let mut imports = Vec::new();
        for import in data
            .imports
            .iter()
            .filter(|i| i.name.as_deref() == Some(name))
        {
            let from_crate = !import.leading_colon
                && import.path.len() >= 2
                && deps.prelude.lib(&import.path[0]).is_some()
                && !binds_otherwise(facts, scope, &import.path[0]);
            if !from_crate {
                return None;
            }
            imports.push(import.path.as_slice());
        }
        if !imports.is_empty() {
            return Some(imports);
        }
    }
    (!defined_at_root(facts, name)).then(Vec::new)
}

/// Whether `name` is bound where `scope` looks it up by anything but an
/// import of a path that starts at that name (`use bitflags::bitflags;`):
/// then a path starting at `name` may not start at the crate of that name.
fn binds_otherwise(facts: &CrateFacts, scope: ScopeId, name: &str) -> bool {
    facts.lexical_scopes(scope).any(|data| {
        data.defs.contains_key(name)
            || data.imports.iter().any(|i| {
                i.name.as_deref() == Some(name)
                    && (i.leading_colon || i.path.len() < 2 || i.path[0] != name)
            })
    }) || defined_at_root(facts, name)
}

/// Whether the crate root defines `name`: an `extern crate x as name;`
/// there joins the extern prelude.
fn defined_at_root(facts: &CrateFacts, name: &str) -> bool {
    facts
        .scopes
        .first()
        .is_some_and(|root| root.defs.contains_key(name))
}

/// A canonical path (`lib::a::name`, or `crate::..` for the crate's own):
/// the dependency macros it may be. `through`: the dependency whose
/// re-export led here, if any.
fn in_library(
    deps: &DependencyMacros<'_>,
    parts: &[String],
    hops: usize,
    through: Option<&str>,
    out: &mut Targets,
) {
    let lib = parts[0].as_str();
    if matches!(lib, "crate" | "std" | "core" | "alloc" | "proc_macro") {
        // The crate's own (looked up elsewhere), or a standard macro.
        return;
    }
    let names = deps.names_of(lib);
    match (names.is_empty(), through) {
        (false, _) => {
            for name in names {
                in_dependency(deps, name, &parts[1..], hops, out);
            }
        }
        // A crate this one does not depend on, reached through a
        // dependency's re-export: that dependency's exports hold the
        // macros of the crates it re-exports (`reach/analysis/exports.rs`).
        (true, Some(krate)) => {
            if let Some(name) = parts.last() {
                push(out, (krate.to_owned(), name.clone()));
            }
        }
        // Named by the crate itself but not among its dependencies: only
        // code no build compiles (an inactive optional dependency's).
        (true, None) => {}
    }
}

/// `rest` (the path after the dependency's name) inside dependency
/// `krate` (its name in code).
fn in_dependency(
    deps: &DependencyMacros<'_>,
    krate: &str,
    rest: &[String],
    hops: usize,
    out: &mut Targets,
) {
    let Some(name) = rest.last() else {
        return;
    };
    let own = (krate.to_owned(), name.clone());
    if rest.len() == 1 {
        push(out, own);
        return;
    }
    if hops >= MAX_CRATE_HOPS {
        out.unknown.get_or_insert_with(|| {
            format!(
                "macro path `{krate}::{}!` re-exports crates more than {MAX_CRATE_HOPS} deep",
                rest.join("::")
            )
        });
        return;
    }
    // The longest module path on the way that the dependency re-exports
    // from elsewhere decides; a glob re-export may or may not hold the
    // name, so the dependency's own macro stays a candidate beside it.
    if let Some(aliases) = deps.aliases.get(krate) {
        for split in (1..rest.len()).rev() {
            let prefix = rest[..split].join("::");
            let tail = &rest[split..];
            if let Some(targets) = aliases.get(&prefix) {
                for target in targets {
                    follow(deps, krate, target, tail, hops, out);
                }
                // A macro this dependency re-exports from another crate
                // writes that crate's paths under this one's name (its
                // `$crate`): they may not lead through this alias.
                if deps.re_exporting.contains(krate) {
                    push(out, own);
                }
                return;
            }
            if let Some(targets) = aliases.get(&format!("{prefix}::*")) {
                for target in targets {
                    follow(deps, krate, target, tail, hops, out);
                }
                push(out, own);
                return;
            }
        }
    }
    push(out, own);
}

/// `tail` below `target`, a re-export recorded in `krate`'s exports.
fn follow(
    deps: &DependencyMacros<'_>,
    krate: &str,
    target: &str,
    tail: &[String],
    hops: usize,
    out: &mut Targets,
) {
    let mut parts: Vec<String> = target.split("::").map(str::to_owned).collect();
    parts.extend(tail.iter().cloned());
    if parts[0] == "crate" {
        // Another of the dependency's own paths: its macros are its
        // crate root's, whatever module the path walks.
        if let Some(name) = parts.last() {
            push(out, (krate.to_owned(), name.clone()));
        }
    } else {
        in_library(deps, &parts, hops + 1, Some(krate), out);
    }
}

fn push(out: &mut Targets, target: (String, String)) {
    if !out.macros.contains(&target) {
        out.macros.push(target);
    }
}
