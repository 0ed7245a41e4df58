//! What one scope binds a name to, from its own definitions, imports and
//! glob imports, and which other crates' paths its globs bring in: the
//! lookups the resolver memoises (`memo.rs`), since every path goes
//! through them.

use super::memo::Known;
use super::{Binding, Resolver, canonical_module, is_own};
use crate::scan::facts::{Def, Import, NS_TYPE, Ns, ScopeId};

/// What a scope binds a name to, and in which of the namespaces asked for:
/// the lookup goes on outwards for the others. `found` is sorted and
/// without repeats, so that equal answers compare equal.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Bound {
    pub(super) found: Vec<Binding>,
    pub(super) covered: Ns,
}

/// A memoised lookup: what a scope binds a name to in some namespaces, or
/// which other crates' paths its globs bring in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Query {
    /// What a scope binds a name to, for itself and the modules inside it,
    /// or (`true`) for another module's glob: its plain `use`s are then
    /// not seen.
    Bound(ScopeId, String, Ns, bool),
    GlobBases(ScopeId),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Answer {
    Bound(Bound),
    GlobBases(Vec<String>),
}

impl Resolver<'_> {
    /// The answer to `query`, memoised; `empty` when the work limit is
    /// passed, for a cycle not `through_glob`, and what a cycle through
    /// globs reads first.
    fn memoised(
        &self,
        query: Query,
        empty: Answer,
        through_glob: bool,
        compute: impl Fn() -> Answer,
    ) -> Answer {
        match self.memo.known(&query, through_glob) {
            Known::Answer(known) => return known,
            Known::Cycle => return empty,
            Known::Unknown => {}
        }
        if !self.step() {
            return empty;
        }
        self.memo.compute(query, empty, through_glob, compute)
    }

    /// `base::name` for each glob import in `scope` whose base is another
    /// crate's path, including those reached through globs of this crate's
    /// modules (`use q::*` where `q` has `pub use std::net::*`).
    pub(super) fn external_glob_candidates(
        &self,
        scope: ScopeId,
        name: &str,
        hops: usize,
    ) -> Vec<Binding> {
        self.external_glob_bases(scope, hops, false)
            .into_iter()
            .map(|base| Binding::Path(format!("{base}::{name}")))
            .collect()
    }

    /// The other crates' paths `scope`'s glob imports bring in, directly or
    /// through globs of this crate's modules. Memoised per scope (it does
    /// not depend on the name).
    pub(super) fn external_glob_bases(
        &self,
        scope: ScopeId,
        hops: usize,
        through_glob: bool,
    ) -> Vec<String> {
        let answer = self.memoised(
            Query::GlobBases(scope),
            Answer::GlobBases(Vec::new()),
            through_glob,
            || Answer::GlobBases(self.compute_external_glob_bases(scope, hops)),
        );
        match answer {
            Answer::GlobBases(bases) => bases,
            Answer::Bound(_) => Vec::new(),
        }
    }

    fn compute_external_glob_bases(&self, scope: ScopeId, hops: usize) -> Vec<String> {
        let mut out = Vec::new();
        for import in self.facts.scopes[scope]
            .imports
            .iter()
            .filter(|i| i.name.is_none())
        {
            for base in self.glob_bases(scope, import, hops) {
                match base {
                    Binding::Path(p) if !is_own(&p) => out.push(p),
                    Binding::Module(m) if m != scope => {
                        out.extend(self.external_glob_bases(m, hops + 1, true));
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// What `name` is bound to in namespaces `ns` by a scope's own
    /// definitions, imports and globs of this crate's modules (whose
    /// contents we know). Memoised.
    pub(super) fn bound_in(&self, scope: ScopeId, name: &str, hops: usize, ns: Ns) -> Bound {
        self.bound(scope, name, hops, ns, false, false)
    }

    /// `bound_in`, asked by a glob of another scope when `through_glob`;
    /// by one outside the scope's module when `outside`.
    fn bound(
        &self,
        scope: ScopeId,
        name: &str,
        hops: usize,
        ns: Ns,
        through_glob: bool,
        outside: bool,
    ) -> Bound {
        let answer = self.memoised(
            Query::Bound(scope, name.to_owned(), ns, outside),
            Answer::Bound(Bound::default()),
            through_glob,
            || {
                let mut bound = self.compute_bound_in(scope, name, hops, ns, outside);
                // Modules that glob each other (libc's do, by the hundred)
                // reach one item by many routes: kept once, a binding list
                // stays as long as the distinct items it names, not the
                // routes to them.
                bound.found.sort();
                bound.found.dedup();
                Answer::Bound(bound)
            },
        );
        match answer {
            Answer::Bound(bound) => bound,
            Answer::GlobBases(_) => Bound::default(),
        }
    }

    fn compute_bound_in(
        &self,
        scope: ScopeId,
        name: &str,
        hops: usize,
        ns: Ns,
        outside: bool,
    ) -> Bound {
        let data = &self.facts.scopes[scope];
        // A name that may not be defined in the build is a candidate, but
        // the lookup goes on past it (`Scope::conditional`).
        let certain = |conditional: bool| !conditional && !data.alternatives;
        let mut found = Vec::new();
        let mut covered = 0;
        for def in data.defs.get(name).into_iter().flatten() {
            if def.ns() & ns == 0 {
                // `fn fs()` does not hide the module `fs` a glob brings.
                continue;
            }
            if certain(data.conditional.contains(name)) {
                covered |= def.ns() & ns;
            }
            found.extend(self.def_bindings(scope, name, def, hops));
        }
        let rest = ns & !covered;
        if rest == 0 {
            return Bound { found, covered };
        }
        // A named import may bind any namespace; rustc rejects one that
        // binds what a definition here binds, so it fills the rest.
        // Which namespaces another crate's item occupies is not known here
        // (`use std::process::exit as fs;` binds a value only, and `fs::`
        // is then still a glob's or the extern prelude's module), so such
        // an import hides nothing: the lookup goes on, and every candidate
        // counts. An import of this crate's items hides what it names, in
        // the namespaces the item is in: `use quiet::write;` of a braced
        // struct leaves the value `write` to a glob (`std::fs::*`).
        let mut filled = 0;
        let named = self.named_imports[scope].get(name).into_iter().flatten();
        // Another module's glob brings only the imports it can see: a
        // plain `use` is private to its module (and those inside it).
        let named = named
            .map(|&i| &data.imports[i])
            .filter(|i| !outside || i.visible);
        for import in named {
            self.links_open.set(self.links_open.get() + 1);
            let imported = self.resolve_path(
                scope,
                &import.path,
                import.leading_colon,
                true,
                hops + 1,
                true,
                rest,
            );
            self.links_open.set(self.links_open.get() - 1);
            let in_crate = !imported.is_empty()
                && imported.iter().all(|b| match b {
                    Binding::Module(_) => true,
                    Binding::Path(p) => is_own(p),
                });
            if in_crate && certain(import.conditional) {
                filled |= self.import_fills(scope, import, hops, rest);
            }
            found.extend(imported);
        }
        covered |= filled;
        if ns & !covered == 0 {
            return Bound { found, covered };
        }
        let rest = ns & !covered;
        // Globs are hidden only in the namespaces something here binds.
        // Every glob counts, as in rustc, where none has precedence (two
        // bringing different items is an ambiguity): taking the first that
        // answered made the answer depend on which was looked at first, and
        // in a cycle of globs on which module was asked first.
        // Only the globs that may bring the name are followed (`globs.rs`).
        let index = self.glob_index(scope, outside);
        let mut globs: Vec<usize> = index.always.clone();
        globs.extend(index.by_name.get(name).into_iter().flatten());
        globs.sort_unstable();
        globs.dedup();
        for import in globs.into_iter().map(|i| &data.imports[i]) {
            // Each glob followed is work: modules re-exporting each other's
            // globs multiply it.
            if !self.step() {
                break;
            }
            for base in self.glob_bases(scope, import, hops) {
                if let Binding::Module(m) = base
                    && m != scope
                {
                    let outside = !self.inside(self.facts.module_of(scope), m);
                    if !self.may_bind(m, name, outside) {
                        continue;
                    }
                    let bound = self.bound(m, name, hops + 1, rest, true, outside);
                    if !bound.found.is_empty() {
                        found.extend(bound.found);
                        if certain(import.conditional) {
                            covered |= bound.covered;
                        }
                    }
                }
            }
        }
        Bound { found, covered }
    }

    /// The namespaces among `ns` in which an import of this crate's item
    /// binds its name: those its module certainly binds the last segment
    /// in. All of `ns` when that module is not known (`use x;`, an enum's
    /// variant), as before it was asked.
    fn import_fills(&self, scope: ScopeId, import: &Import, hops: usize, ns: Ns) -> Ns {
        let Some((last, parent)) = import.path.split_last() else {
            return ns;
        };
        if parent.is_empty() || matches!(last.as_str(), "self" | "super" | "crate") {
            return ns;
        }
        let parents = self.resolve_path(
            scope,
            parent,
            import.leading_colon,
            true,
            hops + 1,
            false,
            NS_TYPE,
        );
        let mut fills = 0;
        for binding in parents {
            match binding {
                Binding::Module(m) => fills |= self.bound_in(m, last, hops + 1, ns).covered,
                Binding::Path(_) => return ns,
            }
        }
        fills
    }

    /// What one definition binds its name to.
    fn def_bindings(&self, scope: ScopeId, name: &str, def: &Def, hops: usize) -> Vec<Binding> {
        match def {
            Def::Module(m) => vec![Binding::Module(*m)],
            Def::Item(_) => {
                let mut path = self.module_path(self.facts.module_of(scope));
                path.push(name.to_owned());
                vec![Binding::Path(canonical_module(&path))]
            }
            Def::Alias(target) => {
                let (leading_colon, target) = match target.split_first() {
                    Some((s, rest)) if s.is_empty() => (true, rest),
                    _ => (false, &target[..]),
                };
                self.links_open.set(self.links_open.get() + 1);
                let bindings =
                    self.resolve_path(scope, target, leading_colon, false, hops + 1, true, NS_TYPE);
                self.links_open.set(self.links_open.get() - 1);
                bindings
            }
            Def::ExternCrate(lib) => vec![self.extern_crate_binding(lib)],
        }
    }

    /// What a glob import's path names. Resolved without the external-glob
    /// fallback, or globs would be searched through globs, exponentially.
    fn glob_bases(&self, scope: ScopeId, import: &Import, hops: usize) -> Vec<Binding> {
        self.glob_bases_open.set(self.glob_bases_open.get() + 1);
        let bases = self.resolve_path(
            scope,
            &import.path,
            import.leading_colon,
            true,
            hops + 1,
            false,
            NS_TYPE,
        );
        let open = self.glob_bases_open.get() - 1;
        self.glob_bases_open.set(open);
        if open == 0 && self.glob_path_cut.replace(false) && bases.is_empty() {
            // The glob's own path is what the cut chain named.
            self.chain_cut.set(true);
        }
        bases
    }
}
