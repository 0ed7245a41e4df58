//! A crate's [`Exports`]: what its nameable items reach, under every path a
//! dependent can name them by (definition paths, `pub use`, globs, type
//! aliases).

use std::collections::{BTreeMap, BTreeSet};

use super::Reach;
use crate::model::{Exports, Witness};
use crate::reach::{DependencyExports, alias_targets, bounded, names_type};
use crate::scan::facts::{CrateFacts, Def, Owner, ScopeKind, WrittenPath};
use crate::scan::names::{Resolver, is_own};

/// A re-export: `key` (or, for a glob, everything below it) stands for
/// `target`, a canonical path.
struct ReExport {
    target: String,
    key: String,
    glob: bool,
    /// An associated type of this crate's own type (`type Target =
    /// Utf8Path;`), or a type alias of one (`pub type Matrix3<T> =
    /// Matrix<T, U3, U3>;`): an alias of the crate's own path, never
    /// copies, since types that name each other so (`Deref` one way,
    /// `ToOwned` the other) would copy each other's entries without end,
    /// and hundreds of aliases of one type copy its every method each.
    own_alias: bool,
}

/// The exports: every node that reaches something, under its definition
/// path, then under every re-export of it or of a dependency's item.
/// Every entry copied is taken from `budget`.
pub(super) fn exports(
    facts: &CrateFacts,
    resolver: &Resolver<'_>,
    deps: &DependencyExports<'_>,
    (def_paths, trait_paths, own_types): (&[Option<String>], &[Vec<String>], &BTreeSet<&str>),
    reach: &[Reach],
    budget: &mut usize,
) -> Exports {
    let mut out = Exports::default();
    for def in facts.macro_defs.iter().filter(|d| d.exported) {
        out.macro_edition = Some(resolver.edition());
        out.macros
            .entry(def.name.clone())
            .or_default()
            .push(def.body.clone());
    }
    for (node, path) in def_paths.iter().enumerate() {
        let (Some(path), false) = (path, reach[node].is_empty()) else {
            continue;
        };
        let Some(key) = path.strip_prefix("crate::") else {
            continue;
        };
        let witnesses: Vec<Witness> = reach[node].values().cloned().collect();
        if let Some(item) = facts.items.get(node)
            && matches!(item.owner, Owner::Macro { exported: true })
        {
            merge_item(&mut out, item.name.clone(), witnesses.clone());
        }
        merge_item(&mut out, key.to_owned(), witnesses);
    }
    // Only types whose methods reach something need telling apart.
    for (node, path) in def_paths.iter().enumerate() {
        if let (Some(path), false) = (path, reach[node].is_empty())
            && let Some((ty, _)) = path.rsplit_once("::")
            && own_types.contains(ty)
            && let Some(key) = ty.strip_prefix("crate::")
            && !names_type(key)
        {
            out.types.insert(key.to_owned());
        }
    }
    // A trait's method stands for every impl of it here: a dependent that
    // calls it through the trait may run any of them.
    for (node, paths) in trait_paths.iter().enumerate() {
        if reach[node].is_empty() {
            continue;
        }
        for path in paths {
            let Some(key) = path.strip_prefix("crate::") else {
                continue;
            };
            let witnesses = reach[node].values().cloned().collect();
            merge_item(&mut out, key.to_owned(), witnesses);
        }
    }

    // Re-exports chain through each other (a glob of a module that
    // re-exports), in whatever order they are declared: passes over them
    // repeat until one adds nothing. Entries, a path's capabilities and an
    // alias's targets are only ever added, so that comes, unless modules
    // contain each other through globs and make paths without end; the
    // budget stops those, and the crate is marked.
    let re_exports = re_exports(facts, resolver);
    re_exported_macros(&mut out, deps, &re_exports);
    // The other crates whose items the crate re-exports: a procedural
    // macro's among them (`pub use serde_derive::Serialize`) generates its
    // code into whoever uses the re-export.
    out.re_exported_crates = re_exports
        .iter()
        .filter_map(|r| r.target.split_once("::").map(|(lib, _)| lib))
        .filter(|lib| !matches!(*lib, "crate" | "self" | "super" | "std" | "core" | "alloc"))
        .map(str::to_owned)
        .collect();
    // Re-exports on a cycle that makes paths grow are aliases of the
    // crate's own paths, followed when a dependent looks a path up.
    let growing = super::growing::growing(
        &re_exports
            .iter()
            .map(|r| {
                own_local(&r.target)
                    .filter(|_| !r.own_alias)
                    .map(|t| (t, r.key.as_str()))
            })
            .collect::<Vec<_>>(),
    );
    let mut copied = Vec::with_capacity(re_exports.len());
    for (r, growing) in re_exports.iter().zip(growing) {
        if !growing {
            copied.push(r);
        } else if *budget > 0 {
            *budget -= 1;
            let key = if r.glob {
                join(&r.key, "*")
            } else {
                r.key.clone()
            };
            insert_alias(&mut out, key, r.target.clone());
        }
    }
    while *budget > 0 {
        let mut changed = false;
        for r in &copied {
            changed |= re_export(&mut out, deps, r, budget);
            if *budget == 0 {
                break;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

/// Adds what `key` reaches: an item's path can be reached by several
/// items (a function and an exported macro of its name, alternatives under
/// `cfg`s, globs bringing one name), and each capability any of them
/// reaches counts, not the first one recorded. True when it added one.
fn merge_item(out: &mut Exports, key: String, witnesses: Vec<Witness>) -> bool {
    let known = out.items.entry(key).or_default();
    let mut changed = false;
    for w in witnesses {
        if !known.iter().any(|k| k.capability == w.capability) {
            known.push(w);
            changed = true;
        }
    }
    if changed {
        known.sort_by_key(|w| w.capability);
    }
    changed
}

/// Every public re-export of the crate's modules, in declaration order,
/// then the associated types impls define as paths: `<X as Store>::F` is
/// `Store::F` to a dependent (and `X::F`), standing for what `F` is.
fn re_exports(facts: &CrateFacts, resolver: &Resolver<'_>) -> Vec<ReExport> {
    let mut out = module_re_exports(facts, resolver);
    for assoc in &facts.assoc_types {
        let targets = resolver.resolve(assoc.scope, &assoc.target);
        let owners = [&assoc.trait_path, &assoc.self_type];
        for owner in owners.into_iter().flatten() {
            for owner in resolver.resolve(assoc.scope, owner) {
                let Some(owner) = owner.strip_prefix("crate::") else {
                    continue;
                };
                for target in &targets {
                    out.push(ReExport {
                        target: target.clone(),
                        key: format!("{owner}::{}", assoc.name),
                        glob: false,
                        own_alias: target == "crate" || target.starts_with("crate::"),
                    });
                }
            }
        }
    }
    out
}

/// A dependency's `macro_rules!` the crate re-exports (`pub use
/// other::spawn_it as helper;`, `pub use other::*;`) is invoked as the
/// crate's own (`dep::helper!`): its bodies are exported under the name
/// bound. `$crate` in them becomes this crate's name where they are
/// expanded, so every macro that crate exports is exported here too, under
/// its own name (beside this crate's of that name: more candidates, never
/// fewer).
fn re_exported_macros(out: &mut Exports, deps: &DependencyExports<'_>, re_exports: &[ReExport]) {
    let add = |out: &mut Exports, name: &str, bodies: &[String]| {
        let entry = out.macros.entry(name.to_owned()).or_default();
        for body in bodies {
            if !entry.contains(body) {
                entry.push(body.clone());
            }
        }
    };
    for r in re_exports {
        let lib = r.target.split("::").next().unwrap_or_default();
        if lib == "crate" && !r.glob {
            // The crate's own exported macro under another name (`pub mod
            // m { pub use crate::run as go; }`): `dep::m::go!` is `run!`.
            let original = r.target.rsplit("::").next().unwrap_or_default();
            let bound = r.key.rsplit("::").next().unwrap_or_default();
            if original != bound
                && let Some(bodies) = out.macros.get(original).cloned()
            {
                add(out, bound, &bodies);
            }
            continue;
        }
        if matches!(lib, "crate" | "self" | "super") {
            continue;
        }
        let Some(exports) = deps.by_lib.get(lib).filter(|e| !e.macros.is_empty()) else {
            continue;
        };
        // A macro under the name bound; a crate or one of its modules
        // (`pub use other as o;`, `pub extern crate other;`, serde's
        // `__private`, whatever its name looks like), or any other item,
        // which is not told from a module here, brings every macro of that
        // crate too: they are named through it (`dep::o::run!`).
        if !r.glob {
            let original = r.target.rsplit("::").next().unwrap_or_default();
            if let Some(bodies) = exports.macros.get(original) {
                let bound = r.key.rsplit("::").next().unwrap_or_default();
                add(out, bound, bodies);
            }
        }
        for (name, bodies) in &exports.macros {
            add(out, name, bodies);
        }
        if out.macro_edition.is_none() {
            out.macro_edition = exports.macro_edition;
        }
    }
}

/// The `pub use`s, type aliases and `extern crate`s of the crate's modules.
fn module_re_exports(facts: &CrateFacts, resolver: &Resolver<'_>) -> Vec<ReExport> {
    let mut out = Vec::new();
    for (scope_id, scope) in facts.scopes.iter().enumerate() {
        let ScopeKind::Module { path, .. } = &scope.kind else {
            continue;
        };
        let prefix = path.join("::");
        let key_of = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}::{name}")
            }
        };
        // A type alias is named as an alias (`TypeAlias::method` is the
        // target's method): of the crate's own type it is kept as one, not
        // copied. nalgebra's 388 aliases of its matrix and geometry types,
        // each copied with every method under every module that globs it,
        // came to more than a million entries.
        let mut names: Vec<(&str, bool)> = scope
            .defs
            .iter()
            .filter_map(|(name, defs)| {
                let alias = defs.iter().any(|def| matches!(def, Def::Alias(_)));
                let other = defs.iter().any(|def| matches!(def, Def::ExternCrate(_)));
                (alias || other).then_some((name.as_str(), alias && !other))
            })
            .collect();
        names.extend(
            scope
                .imports
                .iter()
                .filter(|i| i.public)
                .filter_map(|i| i.name.as_deref())
                .map(|name| (name, false)),
        );
        for (name, type_alias) in names {
            if name == "_" {
                continue;
            }
            let key = key_of(name);
            let written = WrittenPath::new(vec![name.to_owned()], false);
            for target in resolver.resolve(scope_id, &written) {
                if target != format!("crate::{key}") {
                    let own_alias = type_alias && is_own(&target);
                    out.push(ReExport {
                        target,
                        key: key.clone(),
                        glob: false,
                        own_alias,
                    });
                }
            }
        }
        for import in scope
            .imports
            .iter()
            .filter(|i| i.public && i.name.is_none())
        {
            let written = WrittenPath::new(import.path.clone(), import.leading_colon);
            for target in resolver.resolve(scope_id, &written) {
                out.push(ReExport {
                    target,
                    key: prefix.clone(),
                    glob: true,
                    own_alias: false,
                });
            }
        }
    }
    out
}

/// Makes `key` (or, for a glob, everything below `key`) stand for `target`:
/// copies what `target` reaches in this crate or a dependency, or records an
/// alias when `target` is outside every scanned crate. Every entry copied
/// is taken from `budget`; at zero nothing more is copied. True when it
/// added something.
fn re_export(
    out: &mut Exports,
    deps: &DependencyExports<'_>,
    r: &ReExport,
    budget: &mut usize,
) -> bool {
    let ReExport {
        target,
        key,
        glob,
        own_alias,
    } = r;
    let (key, glob) = (key.as_str(), *glob);
    if *budget == 0 {
        return false;
    }
    if *own_alias {
        *budget -= 1;
        let named = insert_type_alias_name(out, key);
        return insert_alias(out, key.to_owned(), target.clone()) || named;
    }
    // Modules re-exporting each other through globs copy each other's
    // entries: without a bound the cost grows with the cube of their number.
    let mut spend = |n: usize| {
        let ok = n <= *budget;
        *budget = budget.saturating_sub(n.max(1));
        ok
    };
    if let Some(local) = own_local(target) {
        // (A module re-exporting one it is inside, `pub mod prelude { pub
        // use super::*; }`, is an alias: see `growing`.)
        let copies = entries_below(&out.items, local, glob);
        let aliases = entries_below(&out.aliases, local, glob);
        let types = types_below(&out.types, local, glob, key);
        if !spend(copies.len() + aliases.len() + types.len()) {
            return false;
        }
        let mut changed = false;
        for ty in types {
            changed |= out.types.insert(ty);
        }
        for (rest, witnesses) in copies {
            changed |= merge_item(out, join(key, &rest), witnesses);
        }
        for (rest, targets) in aliases {
            for alias in targets {
                changed |= insert_alias(out, join(key, &rest), alias);
            }
        }
        return changed;
    }
    let (lib, inside) = target.split_once("::").unwrap_or((target, ""));
    if let Some(exports) = deps.get(lib) {
        let items = entries_below(&exports.items, inside, glob);
        let aliases = entries_below(&exports.aliases, inside, glob);
        // The dependency may name `inside` itself only through an alias of
        // a module above it (`pub use std::process as proc_;` re-exported
        // here as `helper::proc_::Command`, or `helper::proc_::*`).
        let above = alias_targets(exports, inside);
        let types = types_below(&exports.types, inside, glob, key);
        if !spend(items.len() + aliases.len() + above.len() + types.len()) {
            return false;
        }
        let mut changed = false;
        for ty in types {
            changed |= out.types.insert(ty);
        }
        for (rest, witnesses) in items {
            let witnesses = named_first(&join(target, &rest), witnesses);
            changed |= merge_item(out, join(key, &rest), witnesses);
        }
        for (rest, targets) in aliases {
            for alias in targets {
                let rebased = rebase(&alias, lib, inside, key);
                if let Some(own) = own_local(&alias)
                    && !is_own(&rebased)
                {
                    // The dependency's alias of its own item outside what is
                    // re-exported (`pub use helper::T;` where helper has
                    // `pub type T = inner::Real;`): a dependent of this crate
                    // cannot look that up in the dependency, so what it
                    // reaches is copied here, as the dependency's items are.
                    let copies = entries_below(&exports.items, own, false);
                    if !spend(copies.len()) {
                        return changed;
                    }
                    let key_here = join(key, &rest);
                    changed |= copy_aliased_type(out, exports, (lib, own), &key_here, copies);
                }
                changed |= insert_alias(out, join(key, &rest), rebased);
            }
        }
        let alias_key = if glob { join(key, "*") } else { key.to_owned() };
        for alias in above {
            // The dependency's own path again (a module that globs its
            // parent): its entries are copied above, under the shorter path.
            if alias == "crate" || alias.starts_with("crate::") {
                continue;
            }
            changed |= insert_alias(out, alias_key.clone(), alias);
        }
        return changed;
    }
    if !spend(1) {
        return false;
    }
    // std, core, alloc, or a crate that is not scanned: rules match the
    // target path when a dependent names it through this crate.
    let alias_key = if glob { join(key, "*") } else { key.to_owned() };
    insert_alias(out, alias_key, target.to_owned())
}

/// Records an alias unless it would name itself (`m` standing for `m`,
/// which a glob of a module holding such an alias copies). Every target a
/// key gets is kept. True when it is new.
fn insert_alias(out: &mut Exports, key: String, alias: String) -> bool {
    if alias == crate_path(&key) {
        return false;
    }
    let targets = out.aliases.entry(key).or_default();
    match targets.binary_search(&alias) {
        Ok(_) => false,
        Err(at) => {
            targets.insert(at, alias);
            true
        }
    }
}

/// A dependency's alias of its own path (`crate::prelude`), copied into
/// this crate from the dependency's `inside` re-exported at `key`: the same
/// place in this crate when it was copied too, else the dependency's path.
fn rebase(alias: &str, lib: &str, inside: &str, key: &str) -> String {
    let Some(own) = alias
        .strip_prefix("crate::")
        .or((alias == "crate").then_some(""))
    else {
        return alias.to_owned();
    };
    match below(own, inside) {
        Some(rest) => crate_path(&join(key, rest)),
        None => join(lib, own),
    }
}

/// Copies what a dependency's own type `own` reaches (its entries, copied
/// beforehand as `copies`, and its types) under `key`, where this crate
/// re-exports the dependency's alias of it. True when it added something.
fn copy_aliased_type(
    out: &mut Exports,
    exports: &Exports,
    (lib, own): (&str, &str),
    key: &str,
    copies: Vec<(String, Vec<Witness>)>,
) -> bool {
    let mut changed = false;
    for (below, witnesses) in copies {
        let witnesses = named_first(&join(&join(lib, own), &below), witnesses);
        changed |= merge_item(out, join(key, &below), witnesses);
    }
    for ty in types_below(&exports.types, own, false, key) {
        changed |= out.types.insert(ty);
    }
    insert_type_alias_name(out, key) || changed
}

/// Records `key`, a type alias, among the types: an alias names a type
/// whatever its case, and a dependent's value of it (`pub type t =
/// inner::real;`) has methods and a `Drop`. True when it is new.
fn insert_type_alias_name(out: &mut Exports, key: &str) -> bool {
    !names_type(key) && out.types.insert(key.to_owned())
}

/// A dependency's witnesses as this crate's, each chain starting at the
/// dependency's path `named`.
fn named_first(named: &str, witnesses: Vec<Witness>) -> Vec<Witness> {
    witnesses
        .into_iter()
        .map(|w| Witness {
            capability: w.capability,
            rule: w.rule,
            via: bounded(std::iter::once(named.to_owned()).chain(w.via)),
            resolution: w.resolution,
        })
        .collect()
}

/// A path of the crate's own (`crate::a::b`, `crate`) as a local path
/// (`a::b`, `""`).
fn own_local(path: &str) -> Option<&str> {
    path.strip_prefix("crate::")
        .or((path == "crate").then_some(""))
}

/// `path` relative to `base` when it is `base` or below it (`""` for
/// `base` itself); every path is below the root, `""`.
fn below<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    if base.is_empty() {
        return Some(path);
    }
    match path.strip_prefix(base) {
        Some("") => Some(""),
        Some(rest) => rest.strip_prefix("::"),
        None => None,
    }
}

/// The crate's own path `key` (`crate::a::b`), as an alias names it.
fn crate_path(key: &str) -> String {
    join("crate", key)
}

fn join(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (_, true) => base.to_owned(),
        _ => format!("{base}::{rest}"),
    }
}

/// The types of `types` at `base` (unless `glob`) and below it, as they
/// are named once `base` is re-exported at `key`.
fn types_below(types: &BTreeSet<String>, base: &str, glob: bool, key: &str) -> Vec<String> {
    let in_map: BTreeMap<String, ()> = types.iter().map(|t| (t.clone(), ())).collect();
    entries_below(&in_map, base, glob)
        .into_iter()
        .map(|(rest, ())| join(key, &rest))
        .filter(|ty| !ty.is_empty())
        .collect()
}

/// Entries of `map` at `base` (unless `glob`) and below it, keyed by the
/// path after `base` (empty for `base` itself).
fn entries_below<T: Clone>(map: &BTreeMap<String, T>, base: &str, glob: bool) -> Vec<(String, T)> {
    let mut out = Vec::new();
    if base.is_empty() {
        if glob {
            out.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        return out;
    }
    if !glob && let Some(v) = map.get(base) {
        out.push((String::new(), v.clone()));
    }
    let prefix = format!("{base}::");
    for (k, v) in map.range(prefix.clone()..) {
        let Some(rest) = k.strip_prefix(&prefix) else {
            break;
        };
        out.push((rest.to_owned(), v.clone()));
    }
    out
}
