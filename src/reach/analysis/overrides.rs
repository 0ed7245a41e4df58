//! A method call that rustc resolves, before any other candidate can
//! match, to the crate's own override of a dependency trait's provided
//! method: `save(m: &Mem) { m.persist(..) }` where `impl helper::Persist
//! for Mem` writes `persist` itself runs that body, not the trait's.
//!
//! rustc's method probe takes the receiver's type as it is, then `&` and
//! `&mut` of it, then dereferences; at each step a type's inherent methods
//! come before trait methods, and two trait methods matching at one step
//! are an error. Mem's `persist(&self)` takes a `&Mem` as it is, and a
//! `Mem` at the first `&`: nothing comes before it but an inherent method
//! of Mem or a method of another trait in scope taking `self` (`Into::into`
//! on a `Mem`). So the override is taken only when all of this holds, and
//! the call is matched as before otherwise:
//!
//! - the receiver is a binding written as `T`, `&T` or `&mut T`, and the
//!   method takes `self`, `&self` or `&mut self` so that it matches at the
//!   first step or at the first `&` (`collect/plain.rs`: no macro, `cfg`,
//!   generic or wrapper in the way); the calling function has no macro
//!   invocation (which may bind the name again) and is not in a block;
//! - `T` is a struct, enum or union defined once, without generics, in a
//!   module certainly built, no block of the crate defining that name;
//! - its impl of the trait is plain (`PlainImpl`), the trait resolves by
//!   path to one dependency's, and that impl's method is the crate's only
//!   item of that name;
//! - no dependency has another method of that name reaching something, the
//!   name is no std trait's method (`rules/std-trait-methods.txt`), no
//!   procedural macro may generate code, no file fell back to tokens, and
//!   no macro invocation left unexpanded is given or writes that name.

use std::collections::{HashMap, HashSet};

use crate::reach::DependencyExports;
use crate::scan::facts::{
    CrateFacts, Def, Held, MethodRef, NS_TYPE, Ref, RefKind, ScopeId, ScopeKind,
};
use crate::scan::names::{Resolver, is_own};

/// One name a line, `#` comments.
const STD_TRAIT_METHODS: &str = include_str!("../../../rules/std-trait-methods.txt");

/// An override a call can be resolved to: its node, and how its method
/// takes `self`.
struct Override {
    node: usize,
    held: Held,
}

/// The crate's overrides of dependency traits' methods that calls on
/// exactly typed bindings resolve to.
pub(super) struct Overrides {
    /// By (canonical type, method name).
    by_method: HashMap<(String, String), Override>,
    /// The functions (`Ref::function`) with a macro invocation in them.
    with_macros: HashSet<u32>,
}

impl Overrides {
    pub(super) fn new(
        facts: &CrateFacts,
        resolver: &Resolver<'_>,
        def_paths: &[Option<String>],
        deps: &DependencyExports<'_>,
    ) -> Overrides {
        let with_macros: HashSet<u32> = facts
            .invocations
            .iter()
            .map(|i| i.function)
            .chain(facts.refs().iter().filter_map(|r| match r.kind {
                RefKind::Macro(_) => Some(r.function),
                _ => None,
            }))
            .collect();
        let mut out = Overrides {
            by_method: HashMap::new(),
            with_macros,
        };
        if !facts.token_fallback_files.is_empty() || deps.proc_macro().is_some() {
            return out;
        }
        let types = plain_types(facts);
        let std_methods: HashSet<&str> = STD_TRAIT_METHODS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        // Indexed once: looking each override's name up among every item
        // would be quadratic in crates with thousands of impls.
        let mut items_named: HashMap<&str, Vec<usize>> = HashMap::new();
        if facts.trait_impls.iter().any(|imp| imp.plain.is_some()) {
            for (index, item) in facts.items.iter().enumerate() {
                items_named
                    .entry(item.name.as_str())
                    .or_default()
                    .push(index);
            }
        }
        for imp in &facts.trait_impls {
            let Some(plain) = &imp.plain else {
                continue;
            };
            if !certain_module(facts, imp.scope) {
                continue;
            }
            let Some(trait_path) = only(resolver.resolve(imp.scope, &imp.trait_path)) else {
                continue;
            };
            let lib = trait_path.split("::").next().unwrap_or_default();
            if is_own(&trait_path) || deps.get(lib).is_none() {
                continue;
            }
            let Some(ty) = only(resolver.resolve_ns(imp.scope, &plain.self_type, NS_TYPE)) else {
                continue;
            };
            if !types.contains(ty.as_str()) {
                continue;
            }
            for (method, held) in &plain.receivers {
                let provided = format!("{trait_path}::{method}");
                let own = format!("{ty}::{method}");
                // The crate's only item of that name, if it has one.
                let Some(&[node]) = items_named.get(method.as_str()).map(Vec::as_slice) else {
                    continue;
                };
                let item = &facts.items[node];
                let sole = item.impl_trait().is_some()
                    && def_paths[node].as_deref() == Some(own.as_str())
                    && !std_methods.contains(method.as_str())
                    && deps.methods_named_anywhere(method).all(|p| *p == provided)
                    && !unexpanded_mention(facts, deps, method);
                if sole {
                    out.by_method
                        .insert((ty.clone(), method.clone()), Override { node, held: *held });
                }
            }
        }
        out
    }

    /// The override `r` certainly calls, if it is such a call.
    pub(super) fn target(
        &self,
        facts: &CrateFacts,
        resolver: &Resolver<'_>,
        r: &Ref,
    ) -> Option<usize> {
        let RefKind::Method(method) = &r.kind else {
            return None;
        };
        let MethodRef {
            name,
            exact: Some(exact),
            ..
        } = &**method
        else {
            return None;
        };
        if self.by_method.is_empty()
            || r.pos.expanded
            || r.pos.emitted != 0
            || r.function == 0
            || self.with_macros.contains(&r.function)
        {
            return None;
        }
        let caller = facts.items.get(r.function as usize - 1)?;
        if !matches!(facts.scopes[caller.scope].kind, ScopeKind::Module { .. }) {
            return None;
        }
        let ty = only(resolver.resolve_ns(r.scope, &exact.ty, NS_TYPE))?;
        let found = self.by_method.get(&(ty, name.clone()))?;
        // The method matches the receiver as it is, or at the first `&`
        // (`&mut` comes after `&`, which a `&mut self` method does not take).
        let first = matches!(
            (found.held, exact.held),
            (Held::Value, Held::Value)
                | (Held::Ref, Held::Ref | Held::Value)
                | (Held::RefMut, Held::RefMut | Held::Value)
        );
        first.then_some(found.node)
    }
}

/// The one path a resolution gives, if it gives one.
fn only(paths: Vec<String>) -> Option<String> {
    let [path] = <[String; 1]>::try_from(paths).ok()?;
    Some(path)
}

/// The canonical paths of the crate's plain types that are certainly the
/// one type of that path: defined once in a module certainly built, no
/// block defining a type of that name (its items take the module's path).
fn plain_types(facts: &CrateFacts) -> HashSet<String> {
    let in_blocks: HashSet<&str> = facts
        .scopes
        .iter()
        .filter(|s| matches!(s.kind, ScopeKind::Block { .. }))
        .flat_map(|s| s.defs.keys().map(String::as_str))
        .collect();
    let mut paths: HashMap<String, usize> = HashMap::new();
    for (name, scope) in &facts.plain_types {
        let data = &facts.scopes[*scope];
        let ScopeKind::Module { path, .. } = &data.kind else {
            continue;
        };
        let once = data.defs.get(name).is_some_and(|d| d.len() == 1)
            && !data.conditional.contains(name)
            && !in_blocks.contains(name.as_str())
            && certain_module(facts, *scope);
        let full = std::iter::once("crate")
            .chain(path.iter().map(String::as_str))
            .chain(std::iter::once(name.as_str()))
            .collect::<Vec<_>>()
            .join("::");
        // A path met twice is counted out below.
        *paths.entry(full).or_default() += if once { 1 } else { 2 };
    }
    paths
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(p, _)| p)
        .collect()
}

/// `scope` is a module certainly built, as is each module it is in: each
/// declared once in its parent module, not under a `cfg` not known before
/// a build, not read from alternatives.
fn certain_module(facts: &CrateFacts, mut scope: ScopeId) -> bool {
    loop {
        let data = &facts.scopes[scope];
        let ScopeKind::Module { path, parent } = &data.kind else {
            return false;
        };
        if data.alternatives {
            return false;
        }
        let (Some(parent), Some(name)) = (parent, path.last()) else {
            return parent.is_none() && path.is_empty();
        };
        let parent_data = &facts.scopes[*parent];
        let declared = parent_data
            .defs
            .get(name)
            .is_some_and(|defs| defs.len() == 1 && matches!(defs[0], Def::Module(m) if m == scope));
        if !declared || parent_data.conditional.contains(name) {
            return false;
        }
        scope = *parent;
    }
}

/// A macro invocation no expansion settled is given `name`, or its
/// definitions (the crate's, a dependency's) write it: what it makes of
/// them is not known (an inherent method of that name, comes first).
fn unexpanded_mention(facts: &CrateFacts, deps: &DependencyExports<'_>, name: &str) -> bool {
    facts.invocations.iter().filter(|i| !i.settled).any(|i| {
        let last = i.path.segments.last().map_or("", String::as_str);
        mentions(&i.args, name)
            || facts
                .macro_defs
                .iter()
                .any(|d| d.name == last && mentions(&d.body, name))
            || deps.macro_bodies(last).iter().any(|b| mentions(b, name))
    })
}

/// `text` holds `word` as an identifier (not inside a longer one).
fn mentions(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

#[cfg(test)]
mod tests {
    use super::mentions;

    #[test]
    fn a_word_is_mentioned_only_as_a_whole_identifier() {
        assert!(mentions("fn persist(&self)", "persist"));
        assert!(mentions("$x.persist", "persist"));
        assert!(!mentions("fn persisted()", "persist"));
        assert!(!mentions("unpersist", "persist"));
    }
}
