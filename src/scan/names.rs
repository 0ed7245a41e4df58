//! Name resolution on facts: turns a path as written in some scope into
//! canonical paths, the way rustc would for this purpose.
//!
//! A canonical path starts with a library name (`std::fs::read`,
//! `libc::open`, using a dependency's library name even when Cargo.toml
//! renames it) or with `crate` for the crate's own items
//! (`crate::net::Client::get`). Lookup order follows rustc: the scope's own
//! items and imports (local items shadow everything), enclosing blocks,
//! glob imports, the extern prelude, then the std prelude (which holds no
//! capability, so it resolves to nothing).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use self::memo::Memo;
use self::scope::{Answer, Bound, Query};
use super::facts::{CrateFacts, Def, Import, NS_ANY, NS_TYPE, Ns, ScopeId, ScopeKind, WrittenPath};
use crate::model::Edition;

/// Bound on alias and re-export chains; real code stays far below it, and
/// it stops cycles (`use a::b as c; use c as b;` in broken code).
const MAX_HOPS: usize = 32;

/// The crates a target's code can name without `extern crate`.
pub struct ExternPrelude {
    /// extern name (as written in code) -> library name.
    names: HashMap<String, String>,
}

impl ExternPrelude {
    /// `dependencies` are (extern name, library name) pairs; std, core and
    /// alloc are always there, `proc_macro` for proc-macro crates.
    pub fn new(dependencies: impl IntoIterator<Item = (String, String)>, proc_macro: bool) -> Self {
        let mut names: HashMap<String, String> = ["std", "core", "alloc"]
            .into_iter()
            .map(|n| (n.to_owned(), n.to_owned()))
            .collect();
        if proc_macro {
            names.insert("proc_macro".into(), "proc_macro".into());
        }
        names.extend(dependencies);
        ExternPrelude { names }
    }

    /// The library an extern name stands for.
    pub(crate) fn lib(&self, name: &str) -> Option<&str> {
        self.names.get(name).map(String::as_str)
    }
}

impl Default for ExternPrelude {
    /// std, core and alloc only.
    fn default() -> Self {
        ExternPrelude::new([], false)
    }
}

/// What a single name is bound to in some scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Binding {
    /// A module of this crate: later segments are looked up inside it.
    Module(ScopeId),
    /// Anything else, as a canonical path: later segments are appended.
    Path(String),
}

/// Resolves paths within one crate.
///
/// Each namespace is resolved on its own, as rustc does: the prefix of a
/// path (`fs` in `fs::read`) is looked up among modules and types, a
/// one-segment path among values, types or macros by where it is written
/// (all of them where that is not known). A definition hides outer names,
/// imports and globs only in the namespaces it occupies.
///
/// What a name is bound to in a module is memoised per crate: real crates
/// (libc) re-export through hundreds of glob imports, and every reference
/// would otherwise walk them again. Modules that glob each other are
/// resolved to their cycle's fixpoint (`memo.rs`), so an answer does not
/// depend on which was asked first.
pub struct Resolver<'a> {
    facts: &'a CrateFacts,
    prelude: &'a ExternPrelude,
    edition: Edition,
    root: ScopeId,
    /// Module scopes by canonical path (`crate::a::b`).
    modules: HashMap<String, ScopeId>,
    /// What a scope's own definitions, imports and in-crate globs bind a
    /// name to (`bound_in`), and the other crates' paths its globs bring in
    /// (`external_glob_bases`).
    memo: Memo<Query, Answer>,
    /// Associated types impls and bounds define as paths, by name (indices
    /// into `facts.assoc_types`), and the canonical paths each name stands
    /// for once asked (`assoc.rs`).
    assoc_types: HashMap<&'a str, Vec<usize>>,
    assoc_targets: RefCell<HashMap<&'a str, Rc<Vec<String>>>>,
    /// Per scope: its named imports by name (indices into `imports`), and
    /// whether it has glob imports. Lookups stay constant-time however many
    /// imports a scope has.
    named_imports: Vec<HashMap<&'a str, Vec<usize>>>,
    has_globs: Vec<bool>,
    /// Per scope: whether it has a glob import with some `pub`, which other
    /// modules' globs see.
    has_visible_globs: Vec<bool>,
    /// Per scope and view (another module's glob or not): its globs by the
    /// names they may bring (`globs.rs`).
    glob_indexes: RefCell<HashMap<(ScopeId, bool), Rc<globs::GlobIndex<'a>>>>,
    /// Lookups computed so far, against the resolution-work limit; past it
    /// every further lookup finds nothing and `exhausted` is set.
    steps: Cell<u64>,
    max_steps: u64,
    exhausted: Cell<bool>,
    /// A chain of aliases and imports past [`MAX_HOPS`] was cut: what its
    /// end names is not known.
    chain_cut: Cell<bool>,
    /// How many glob paths are being resolved, one inside another.
    glob_bases_open: Cell<u32>,
    /// How many imports and aliases are being followed, one inside another.
    links_open: Cell<u32>,
    /// A chain was cut while a glob's path was being resolved.
    glob_path_cut: Cell<bool>,
}

impl<'a> Resolver<'a> {
    /// The edition of the crate whose names this resolves.
    pub fn edition(&self) -> Edition {
        self.edition
    }

    pub fn new(facts: &'a CrateFacts, prelude: &'a ExternPrelude, edition: Edition) -> Self {
        let modules = facts
            .scopes
            .iter()
            .enumerate()
            .filter_map(|(id, scope)| match &scope.kind {
                ScopeKind::Module { path, .. } => Some((canonical_module(path), id)),
                ScopeKind::Block { .. } => None,
            })
            .collect();
        let named_imports = facts
            .scopes
            .iter()
            .map(|scope| {
                let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
                for (i, import) in scope.imports.iter().enumerate() {
                    if let Some(name) = &import.name {
                        by_name.entry(name.as_str()).or_default().push(i);
                    }
                }
                by_name
            })
            .collect();
        let has_globs = facts
            .scopes
            .iter()
            .map(|scope| scope.imports.iter().any(|i| i.name.is_none()))
            .collect();
        let has_visible_globs = facts
            .scopes
            .iter()
            .map(|scope| scope.imports.iter().any(|i| i.name.is_none() && i.visible))
            .collect();
        let mut assoc_types: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, assoc) in facts.assoc_types.iter().enumerate() {
            assoc_types.entry(assoc.name.as_str()).or_default().push(i);
        }
        Resolver {
            facts,
            prelude,
            assoc_types,
            assoc_targets: RefCell::new(HashMap::new()),
            edition,
            root: 0,
            modules,
            memo: Memo::new(),
            named_imports,
            has_globs,
            has_visible_globs,
            glob_indexes: RefCell::new(HashMap::new()),
            steps: Cell::new(0),
            max_steps: super::limits::LIMITS.max_resolution_steps,
            exhausted: Cell::new(false),
            chain_cut: Cell::new(false),
            glob_bases_open: Cell::new(0),
            links_open: Cell::new(0),
            glob_path_cut: Cell::new(false),
        }
    }

    /// The resolution-work limit, as evidence, when it was passed: some
    /// names were then left unresolved.
    pub fn exhausted(&self) -> Option<String> {
        if self.memo.unsettled() {
            return Some(
                "name resolution through a cycle of imports did not settle on one answer".into(),
            );
        }
        if self.chain_cut.get() {
            return Some(format!(
                "a chain of type aliases, imports and re-exports is longer than {MAX_HOPS} links"
            ));
        }
        self.exhausted.get().then(|| {
            format!(
                "name resolution took more than {} steps (glob imports and re-exports)",
                self.max_steps
            )
        })
    }

    /// Counts one step of work; false once the limit is passed.
    fn step(&self) -> bool {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > self.max_steps {
            self.exhausted.set(true);
            return false;
        }
        true
    }

    /// Whether `scope` may bind `name` at all: a definition, an import of
    /// that name, or a glob that may bring it; for a glob `outside` its
    /// module, only imports with some `pub`.
    fn may_bind(&self, scope: ScopeId, name: &str, outside: bool) -> bool {
        let data = &self.facts.scopes[scope];
        let imports = self.named_imports[scope].get(name);
        if !outside {
            return self.has_globs[scope] || data.defs.contains_key(name) || imports.is_some();
        }
        self.has_visible_globs[scope]
            || data.defs.contains_key(name)
            || imports.is_some_and(|is| is.iter().any(|&i| data.imports[i].visible))
    }

    /// Whether module `module` is `ancestor` or inside it.
    fn inside(&self, mut module: ScopeId, ancestor: ScopeId) -> bool {
        loop {
            if module == ancestor {
                return true;
            }
            match self.facts.scopes[module].kind {
                ScopeKind::Module {
                    parent: Some(p), ..
                } => module = p,
                _ => return false,
            }
        }
    }

    /// Every canonical path `path` may stand for, as written in `scope`,
    /// in any namespace.
    pub fn resolve(&self, scope: ScopeId, path: &WrittenPath) -> Vec<String> {
        self.resolve_ns(scope, path, NS_ANY)
    }

    /// Every canonical path a `use` in `scope` imports (for a glob, its
    /// base), resolved as `use` paths are.
    pub fn resolve_import(&self, scope: ScopeId, import: &Import) -> Vec<String> {
        let mut out: Vec<String> = self
            .resolve_path(
                scope,
                &import.path,
                import.leading_colon,
                true,
                0,
                import.name.is_some(),
                NS_ANY,
            )
            .into_iter()
            .map(|b| self.canonical(b))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The other crates' paths whose contents `scope`'s glob imports bring
    /// in, directly or through globs of this crate's modules.
    pub fn glob_crates(&self, scope: ScopeId) -> Vec<String> {
        self.external_glob_bases(scope, 0, false)
    }

    /// Every canonical path `path` may stand for, as written in `scope`,
    /// its last segment looked up in `ns`. Usually one; several when only
    /// glob imports of other crates could provide the name (we cannot see
    /// their contents), or when definitions in several namespaces may be
    /// meant.
    pub fn resolve_ns(&self, scope: ScopeId, path: &WrittenPath, ns: Ns) -> Vec<String> {
        let mut out: Vec<String> = self
            .resolve_path(
                scope,
                &path.segments,
                path.leading_colon,
                false,
                0,
                true,
                ns,
            )
            .into_iter()
            .map(|b| self.canonical(b))
            .collect();
        out.extend(self.through_assoc_types(&path.segments));
        out.sort();
        out.dedup();
        out
    }

    fn canonical(&self, binding: Binding) -> String {
        match binding {
            Binding::Module(m) => canonical_module(&self.module_path(m)),
            Binding::Path(p) => p,
        }
    }

    /// A canonical path as a binding: in-crate module paths become modules
    /// so that later segments are looked up inside them.
    fn binding_of(&self, canonical: String) -> Binding {
        match self.modules.get(&canonical) {
            Some(&m) => Binding::Module(m),
            None => Binding::Path(canonical),
        }
    }

    /// `external_globs`: whether a name nothing else binds may come from a
    /// glob import of another crate. Off while resolving a glob's own path,
    /// or globs would be searched through globs, exponentially. `last_ns`:
    /// the namespaces the last segment is looked up in; the others are in
    /// the type namespace (modules, types, traits, crates).
    #[allow(clippy::too_many_arguments)]
    fn resolve_path(
        &self,
        scope: ScopeId,
        segments: &[String],
        leading_colon: bool,
        is_use: bool,
        hops: usize,
        external_globs: bool,
        last_ns: Ns,
    ) -> Vec<Binding> {
        let Some((first, rest)) = segments.split_first() else {
            return Vec::new();
        };
        if hops > MAX_HOPS {
            // A chain of aliases and imports cut here would make its end
            // look harmless: the crate is unanalysed instead (`exhausted`).
            // Not so when the depth is a search through globs: resolving a
            // glob's own path through the scope's other globs (libc's
            // `cfg_if!` alternatives each glob a module another glob might
            // bring) nests one glob in another and finds nothing rustc
            // would; there the cut counts only if more than one import or
            // alias is being followed, or if the glob's path then names
            // nothing at all (`glob_bases`). libc's 13,734 cuts are all 31
            // globs deep with one import; a chain of 32 imports reached
            // through a glob's path is not.
            if self.glob_bases_open.get() == 0 || self.links_open.get() > 1 {
                self.chain_cut.set(true);
            } else {
                self.glob_path_cut.set(true);
            }
            return Vec::new();
        }
        let first_ns = if rest.is_empty() { last_ns } else { NS_TYPE };
        let starts = self.first_segment(
            scope,
            first,
            (leading_colon, is_use),
            hops,
            external_globs,
            first_ns,
        );
        self.follow(starts, rest, hops, last_ns)
    }

    /// Looks the remaining segments up from each starting binding.
    fn follow(
        &self,
        mut current: Vec<Binding>,
        rest: &[String],
        hops: usize,
        last_ns: Ns,
    ) -> Vec<Binding> {
        for (i, segment) in rest.iter().enumerate() {
            let ns = if i + 1 == rest.len() {
                last_ns
            } else {
                NS_TYPE
            };
            let mut next = Vec::new();
            for binding in current {
                match binding {
                    Binding::Module(m) => next.extend(self.in_module(m, segment, hops, ns)),
                    Binding::Path(p) => next.push(self.binding_of(format!("{p}::{segment}"))),
                }
            }
            current = next;
        }
        current
    }

    /// What one segment names inside module `m` (no lexical fallback), in
    /// namespaces `ns`.
    fn in_module(&self, m: ScopeId, segment: &str, hops: usize, ns: Ns) -> Vec<Binding> {
        match segment {
            "super" => return vec![Binding::Module(self.parent_module(m))],
            "self" => return vec![Binding::Module(m)],
            _ => {}
        }
        let Bound { mut found, covered } = self.bound_in(m, segment, hops, ns);
        let rest = ns & !covered;
        if rest == 0 {
            return found;
        }
        if m == self.root
            && rest & NS_TYPE != 0
            && let Some(lib) = self.prelude.lib(segment)
            && (self.edition == Edition::E2015 || lib == "std" || lib == "core")
        {
            // Extern crates are reachable through the crate root in 2015,
            // and `crate::std` still works today.
            found.push(Binding::Path(lib.to_owned()));
            return found;
        }
        // A glob re-export of another crate (`pub use std::fs::*;`) may
        // supply it; we cannot see that crate's contents, so take each.
        found.extend(self.external_glob_candidates(m, segment, hops));
        if !found.is_empty() {
            return found;
        }
        // Unknown inside a module (from a macro): keep the in-crate path so
        // reach can still see it.
        let mut path = self.module_path(m);
        path.push(segment.to_owned());
        vec![Binding::Path(canonical_module(&path))]
    }

    fn first_segment(
        &self,
        scope: ScopeId,
        first: &str,
        (leading_colon, is_use): (bool, bool),
        hops: usize,
        external_globs: bool,
        ns: Ns,
    ) -> Vec<Binding> {
        let crate_relative = leading_colon && self.edition == Edition::E2015
            || is_use
                && self.edition == Edition::E2015
                && !matches!(first, "crate" | "self" | "super");
        if leading_colon && !crate_relative {
            // `extern crate other as o;` at the root puts `o` in the
            // extern prelude, where `::o` looks.
            let mut found: Vec<Binding> = self
                .root_extern_crate(first)
                .map(|lib| self.extern_crate_binding(lib))
                .into_iter()
                .collect();
            found.extend(self.extern_crate(first));
            return found;
        }
        if crate_relative {
            // 2015: `::a` and `use a` start at the crate root, where extern
            // crates are injected.
            let Bound { mut found, covered } = self.bound_in(self.root, first, hops, ns);
            if ns & !covered != 0 && external_globs {
                found.extend(self.external_glob_candidates(self.root, first, hops));
            }
            if ns & !covered & NS_TYPE != 0 {
                found.extend(self.extern_crate(first));
            }
            return found;
        }
        match first {
            "crate" | "$crate" => return vec![Binding::Module(self.root)],
            "self" => return vec![Binding::Module(self.facts.module_of(scope))],
            "super" => {
                return vec![Binding::Module(
                    self.parent_module(self.facts.module_of(scope)),
                )];
            }
            "Self" => return Vec::new(),
            _ => {}
        }
        // Lexical scopes: blocks out to their module, then the preludes;
        // each namespace ends where something binds it. A scope's glob
        // imports of other crates, whose contents we cannot see, may bring
        // the name, and if they do it shadows every outer scope and the
        // extern prelude (`use evil::*;` bringing a module `log` makes
        // `log::info` evil's, not the crate `log`'s): each is a candidate
        // there, and the lookup goes on.
        let mut ns = ns;
        let mut out = Vec::new();
        let mut current = Some(scope);
        while let Some(s) = current {
            let Bound { found, covered } = self.bound_in(s, first, hops, ns);
            out.extend(found);
            ns &= !covered;
            if ns == 0 {
                return out;
            }
            if external_globs {
                out.extend(self.external_glob_candidates(s, first, hops));
            }
            current = self.lexical_parent(s);
        }
        if ns & NS_TYPE != 0 {
            // `extern crate` at the root joins the extern prelude.
            let root = &self.facts.scopes[self.root];
            if let Some(lib) = self.root_extern_crate(first) {
                out.push(self.extern_crate_binding(lib));
                if !root.alternatives && !root.conditional.contains(first) {
                    return out;
                }
            }
            if let Some(binding) = self.extern_crate(first) {
                out.push(binding);
            }
        }
        out
    }

    /// What `extern crate lib` binds: the library by its name, or this
    /// crate for `extern crate self as name`, whose paths (`name::x::f`)
    /// are then the crate's own (`crate::x::f`) and link calls inside it.
    fn extern_crate_binding(&self, lib: &str) -> Binding {
        if lib == "self" {
            return Binding::Module(self.root);
        }
        Binding::Path(self.prelude.lib(lib).unwrap_or(lib).to_owned())
    }

    /// The library an `extern crate lib as name;` at the crate root names.
    fn root_extern_crate(&self, name: &str) -> Option<&'a str> {
        self.facts.scopes[self.root]
            .defs
            .get(name)
            .into_iter()
            .flatten()
            .find_map(|d| match d {
                Def::ExternCrate(lib) => Some(lib.as_str()),
                _ => None,
            })
    }

    fn lexical_parent(&self, scope: ScopeId) -> Option<ScopeId> {
        match self.facts.scopes[scope].kind {
            ScopeKind::Block { parent } => Some(parent),
            ScopeKind::Module { .. } => None,
        }
    }

    fn extern_crate(&self, name: &str) -> Option<Binding> {
        self.prelude
            .lib(name)
            .map(|lib| Binding::Path(lib.to_owned()))
    }

    fn parent_module(&self, module: ScopeId) -> ScopeId {
        match self.facts.scopes[module].kind {
            ScopeKind::Module {
                parent: Some(p), ..
            } => p,
            _ => module,
        }
    }

    fn module_path(&self, module: ScopeId) -> Vec<String> {
        match &self.facts.scopes[module].kind {
            ScopeKind::Module { path, .. } => path.clone(),
            ScopeKind::Block { .. } => Vec::new(),
        }
    }
}

/// Whether a canonical path is the crate's own (`crate`, `crate::…`), not
/// a library's whose name starts alike (`crate_tools::…`).
pub fn is_own(path: &str) -> bool {
    path == "crate" || path.starts_with("crate::")
}

fn canonical_module(path: &[String]) -> String {
    join("crate", path)
}

fn join(first: &str, rest: &[String]) -> String {
    let mut s = first.to_owned();
    for segment in rest {
        s.push_str("::");
        s.push_str(segment);
    }
    s
}

mod assoc;
mod globs;
mod memo;
mod scope;
#[cfg(test)]
mod tests;
