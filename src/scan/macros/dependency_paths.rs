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

use std::collections::HashMap;
use std::rc::Rc;

use super::DependencyMacros;
use super::scope::Fingerprint;
use crate::model::Edition;
use crate::scan::facts::{CrateFacts, Invocation, NS_MACRO, ScopeId, ScopeKind};
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

/// Answers for the paths asked so far, while the crate's names stay as
/// they were: a crate invokes the same few paths thousands of times.
#[derive(Default)]
pub(super) struct DependencyPaths {
    made_at: Option<Fingerprint>,
    answers: HashMap<(ScopeId, bool, Vec<String>), Rc<Targets>>,
}

impl DependencyPaths {
    /// What `inv`'s path (two segments or more) may name among the
    /// dependencies' macros. `may_be_local`: the first segment may be a
    /// name the crate binds itself (then it is resolved through the
    /// crate's scopes, not taken for a crate's name).
    pub(super) fn targets(
        &mut self,
        facts: &CrateFacts,
        deps: &DependencyMacros<'_>,
        edition: Edition,
        inv: &Invocation,
        may_be_local: bool,
    ) -> Rc<Targets> {
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
        }
        let key = (inv.scope, inv.path.leading_colon, inv.path.segments.clone());
        if let Some(known) = self.answers.get(&key) {
            return known.clone();
        }
        let answer = Rc::new(resolve(facts, deps, edition, inv, may_be_local));
        self.answers.insert(key, answer.clone());
        answer
    }
}

fn resolve(
    facts: &CrateFacts,
    deps: &DependencyMacros<'_>,
    edition: Edition,
    inv: &Invocation,
    may_be_local: bool,
) -> Targets {
    let segments = &inv.path.segments;
    let mut out = Targets::default();
    let first = segments[0].as_str();
    let crate_relative = matches!(first, "crate" | "self" | "super");
    if !may_be_local
        && !crate_relative
        && !inv.path.leading_colon
        && deps.prelude.lib(first).is_some()
        && !crate_may_bind(facts, inv.scope, first)
    {
        // Nothing the crate binds can stand for this name: it is the
        // dependency's (or std's, whose macros are built in).
        if deps.by_crate.contains_key(first) || deps.aliases.contains_key(first) {
            in_dependency(deps, first, &segments[1..], 0, &mut out);
        }
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

/// Whether the crate may bind `name` itself where `scope` looks a path's
/// first segment up (its blocks and module: a definition, an import of
/// any crate's, a glob), or at its root, where `extern crate x as name;`
/// joins the extern prelude. `use other as std;` makes `std::run!`
/// `other`'s.
fn crate_may_bind(facts: &CrateFacts, scope: ScopeId, name: &str) -> bool {
    let mut current = scope;
    loop {
        let data = &facts.scopes[current];
        if data.defs.contains_key(name)
            || data
                .imports
                .iter()
                .any(|i| i.name.as_deref().is_none_or(|bound| bound == name))
        {
            return true;
        }
        match data.kind {
            ScopeKind::Block { parent } => current = parent,
            ScopeKind::Module { .. } => break,
        }
    }
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
        // Another of the dependency's own paths.
        in_dependency(deps, krate, &parts[1..], hops + 1, out);
    } else {
        in_library(deps, &parts, hops + 1, Some(krate), out);
    }
}

fn push(out: &mut Targets, target: (String, String)) {
    if !out.macros.contains(&target) {
        out.macros.push(target);
    }
}
