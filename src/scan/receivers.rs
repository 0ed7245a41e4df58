//! What a method call's receiver is, in canonical paths: the [`Root`] the
//! collector wrote down, resolved. A path root is what it names (and, for
//! a function of this crate whose return type is written, that type: a
//! `fn log() -> io::Result<File>` makes `log()?.sync_all()` a `File`'s);
//! a type root the type; a field root the field's written type, of the
//! owner's struct when the owner is known, else of every field of that
//! name in the crate.
//!
//! Also each item's canonical definition path, which reach reuses.

use std::collections::{BTreeSet, HashMap};

use super::facts::{CrateFacts, NS_TYPE, NS_VALUE, Owner, Root, ScopeId, ScopeKind};
use super::names::Resolver;

/// A receiver's candidate types, and whether they are sure: the chain's
/// calls hand the root's value on, and a field root is not one of several
/// same-named fields of different types.
pub struct Receiver {
    pub paths: Vec<String>,
    pub sure: bool,
    /// How many of `paths`, from the first, the code names itself (what a
    /// path root resolves to, not the types found behind it).
    pub named: usize,
}

/// Types of the std prelude a receiver may be written with.
const PRELUDE_TYPES: &[&str] = &["std::string::String", "std::vec::Vec"];

/// The crate's tables for resolving receivers.
pub struct Receivers<'f> {
    /// Canonical type paths each own function with a written return type
    /// gives, by the function's canonical path.
    returns: HashMap<String, Vec<String>>,
    /// Per field name: the canonical path of its struct and the field's
    /// type's canonical paths.
    fields: HashMap<&'f str, Vec<(String, Vec<String>)>>,
}

impl<'f> Receivers<'f> {
    pub fn new(
        facts: &'f CrateFacts,
        resolver: &Resolver<'_>,
        def_paths: &[Option<String>],
    ) -> Self {
        let mut returns: HashMap<String, Vec<String>> = HashMap::new();
        for (item, path) in facts.items.iter().zip(def_paths) {
            if let (Some(ty), Some(path)) = (item.returns(), path) {
                let types = resolver.resolve_ns(item.scope, ty, NS_TYPE);
                returns.entry(path.clone()).or_default().extend(types);
            }
        }
        let mut fields: HashMap<&str, Vec<(String, Vec<String>)>> = HashMap::new();
        for field in &facts.fields {
            let owner = format!("{}::{}", module_path(facts, field.scope), field.owner);
            let types = resolver.resolve_ns(field.scope, &field.ty, NS_TYPE);
            fields
                .entry(field.name.as_str())
                .or_default()
                .push((owner, types));
        }
        Receivers { returns, fields }
    }

    /// The candidate types of a receiver chain rooted at `root`, written in
    /// `scope`; `direct` when the call is made on the root itself.
    pub fn resolve(
        &self,
        resolver: &Resolver<'_>,
        scope: ScopeId,
        root: &Root,
        direct: bool,
    ) -> Receiver {
        match root {
            Root::Path(p) => {
                let mut paths = resolver.resolve_ns(scope, p, NS_VALUE);
                let named = paths.len();
                let given: Vec<String> = paths
                    .iter()
                    .filter_map(|p| self.returns.get(p))
                    .flatten()
                    .cloned()
                    .collect();
                paths.extend(given);
                Receiver {
                    paths,
                    sure: direct,
                    named,
                }
            }
            Root::Type(t) => {
                let mut paths = resolver.resolve_ns(scope, t, NS_TYPE);
                // The std prelude's types resolve to nothing (it holds no
                // capability); as a receiver's type they say what it is.
                if paths.is_empty()
                    && let [name] = &t.segments[..]
                    && let Some(std) = PRELUDE_TYPES
                        .iter()
                        .find(|p| p.ends_with(&format!("::{name}")))
                {
                    paths.push((*std).to_owned());
                }
                Receiver {
                    paths,
                    sure: direct,
                    named: 0,
                }
            }
            Root::Field { owner, name } => {
                let candidates = self.fields.get(name.as_str()).map(Vec::as_slice);
                let owners: Option<Vec<String>> = owner
                    .as_ref()
                    .map(|o| resolver.resolve_ns(scope, o, NS_TYPE));
                let mut types: BTreeSet<&String> = BTreeSet::new();
                let mut kinds = 0;
                for (struct_path, field_types) in candidates.into_iter().flatten() {
                    if owners.as_ref().is_some_and(|o| !o.contains(struct_path)) {
                        continue;
                    }
                    kinds += 1;
                    types.extend(field_types);
                }
                Receiver {
                    sure: direct && (kinds <= 1 || types.len() <= 1),
                    paths: types.into_iter().cloned().collect(),
                    named: 0,
                }
            }
        }
    }
}

/// Each item's canonical definition path (`crate::client::Client::send`),
/// when it has one, then each foreign function's.
pub fn definition_paths(facts: &CrateFacts, resolver: &Resolver<'_>) -> Vec<Option<String>> {
    let mut paths = Vec::with_capacity(facts.items.len() + facts.foreign_fns.len());
    for item in &facts.items {
        let module = module_path(facts, item.scope);
        paths.push(match &item.owner {
            Owner::Module | Owner::Macro { .. } => Some(format!("{module}::{}", item.name)),
            Owner::Trait(name) => Some(format!("{module}::{name}::{}", item.name)),
            Owner::Impl(self_type) => resolver
                .resolve(item.scope, self_type)
                .into_iter()
                .next()
                .map(|ty| format!("{ty}::{}", item.name)),
        });
    }
    for foreign in &facts.foreign_fns {
        let module = module_path(facts, foreign.scope);
        paths.push(Some(format!("{module}::{}", foreign.name)));
    }
    paths
}

/// `crate::a::b` for the module a scope is in.
pub fn module_path(facts: &CrateFacts, scope: ScopeId) -> String {
    let mut out = String::from("crate");
    if let ScopeKind::Module { path, .. } = &facts.scopes[facts.module_of(scope)].kind {
        for segment in path {
            out.push_str("::");
            out.push_str(segment);
        }
    }
    out
}
