//! Which of a scope's glob imports may bring a name.
//!
//! web-sys's `features` module globs 1,725 generated modules, each of which
//! globs `features` back (`use super::*`): asking each glob for each name
//! cost 25 million lookups and passed the resolution bound. A glob of a
//! module whose path names it for certain (`gen_Window::*`, `super::*`,
//! `crate::a::b::*`: each segment a module defined once, under no `cfg`
//! that may not hold) is asked only for the names that module defines or
//! imports, unless it has globs of its own that the importer sees; every
//! other glob is asked for every name, as before. The globs left out are
//! those `may_bind` would have passed over.

use super::{Resolver, ScopeKind};
use crate::model::Edition;
use crate::scan::facts::{Def, Import, NS_TYPE, ScopeId};
use std::collections::HashMap;
use std::rc::Rc;

/// A scope's glob imports (indices into its `imports`): those to ask for
/// any name, and those to ask only for the names listed.
pub(super) struct GlobIndex<'a> {
    pub(super) always: Vec<usize>,
    pub(super) by_name: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Resolver<'a> {
    /// The glob index of `scope`, as seen by another module's glob when
    /// `outside` (its plain `use`s then do not count). Built once; each
    /// name it lists is a step of work.
    pub(super) fn glob_index(&self, scope: ScopeId, outside: bool) -> Rc<GlobIndex<'a>> {
        if let Some(index) = self.glob_indexes.borrow().get(&(scope, outside)) {
            return index.clone();
        }
        let facts = self.facts;
        let mut index = GlobIndex {
            always: Vec::new(),
            by_name: HashMap::new(),
        };
        let module = facts.module_of(scope);
        for (i, import) in facts.scopes[scope].imports.iter().enumerate() {
            if import.name.is_some() || outside && !import.visible {
                continue;
            }
            let Some(target) = self.certain_glob_module(scope, import) else {
                index.always.push(i);
                continue;
            };
            let target_outside = !self.inside(module, target);
            let sees_globs = if target_outside {
                self.has_visible_globs[target]
            } else {
                self.has_globs[target]
            };
            if target == scope || sees_globs {
                index.always.push(i);
                continue;
            }
            let data = &facts.scopes[target];
            let mut names: Vec<&'a str> = data.defs.keys().map(String::as_str).collect();
            names.extend(
                data.imports
                    .iter()
                    .filter(|im| !target_outside || im.visible)
                    .filter_map(|im| im.name.as_deref()),
            );
            for _ in 0..names.len().max(1) {
                self.step();
            }
            for name in names {
                let globs = index.by_name.entry(name).or_default();
                if globs.last() != Some(&i) {
                    globs.push(i);
                }
            }
        }
        let index = Rc::new(index);
        self.glob_indexes
            .borrow_mut()
            .insert((scope, outside), index.clone());
        index
    }

    /// The module a glob import's path names for certain, as `glob_bases`
    /// resolves it: `None` where that takes more than following modules
    /// each defined once (an import, a glob, a `cfg` that may not hold, a
    /// block's lexical scopes, another crate).
    fn certain_glob_module(&self, scope: ScopeId, import: &Import) -> Option<ScopeId> {
        let (first, rest) = import.path.split_first()?;
        if import.leading_colon {
            return None;
        }
        let module = self.facts.module_of(scope);
        let mut current = match first.as_str() {
            "crate" | "$crate" => self.root,
            "self" => module,
            "super" => self.parent_module(module),
            name => {
                // 2015 `use` paths start at the root; later ones in the
                // scope, which must be the module itself (no block around
                // it to look through).
                let start = if self.edition == Edition::E2015 {
                    self.root
                } else if matches!(self.facts.scopes[scope].kind, ScopeKind::Module { .. }) {
                    scope
                } else {
                    return None;
                };
                self.certain_child(start, name)?
            }
        };
        for segment in rest {
            current = match segment.as_str() {
                "super" => self.parent_module(current),
                "self" => current,
                name => self.certain_child(current, name)?,
            };
        }
        Some(current)
    }

    /// The module `name` is in `module`'s type namespace when that is
    /// certain: defined once there, as a module, under no `cfg` that may
    /// not hold (then no import or glob can bind it too).
    fn certain_child(&self, module: ScopeId, name: &str) -> Option<ScopeId> {
        let data = &self.facts.scopes[module];
        if data.alternatives || data.conditional.contains(name) {
            return None;
        }
        let mut found = None;
        for def in data.defs.get(name)? {
            if def.ns() & NS_TYPE == 0 {
                continue;
            }
            match (def, found) {
                (Def::Module(m), None) => found = Some(*m),
                _ => return None,
            }
        }
        found
    }
}
