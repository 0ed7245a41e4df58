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

use super::facts::{CrateFacts, Def, ScopeId, ScopeKind, WrittenPath};
use crate::resolve::Edition;

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

    fn lib(&self, name: &str) -> Option<&str> {
        self.names.get(name).map(String::as_str)
    }
}

/// What a single name is bound to in some scope.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Binding {
    /// A module of this crate: later segments are looked up inside it.
    Module(ScopeId),
    /// Anything else, as a canonical path: later segments are appended.
    Path(String),
}

/// Resolves paths within one crate.
///
/// What a name is bound to in a module is memoised per crate: real crates
/// (libc) re-export through hundreds of glob imports, and every reference
/// would otherwise walk them again.
pub struct Resolver<'a> {
    facts: &'a CrateFacts,
    prelude: &'a ExternPrelude,
    edition: Edition,
    root: ScopeId,
    /// Module scopes by canonical path (`crate::a::b`).
    modules: HashMap<String, ScopeId>,
    /// (scope, name) -> what the scope's own definitions, imports and
    /// in-crate globs bind the name to. An entry is inserted empty before it
    /// is computed, so import cycles end instead of recursing forever.
    bindings: RefCell<HashMap<(ScopeId, String), Vec<Binding>>>,
    /// scope -> other crates' paths its globs bring in (see
    /// `external_glob_bases`).
    glob_bases_memo: RefCell<HashMap<ScopeId, Vec<String>>>,
    /// Per scope: its named imports by name (indices into `imports`), and
    /// whether it has glob imports. Lookups stay constant-time however many
    /// imports a scope has.
    named_imports: Vec<HashMap<&'a str, Vec<usize>>>,
    has_globs: Vec<bool>,
    /// Lookups computed so far, against the resolution-work limit; past it
    /// every further lookup finds nothing and `exhausted` is set.
    steps: Cell<u64>,
    max_steps: u64,
    exhausted: Cell<bool>,
}

impl<'a> Resolver<'a> {
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
        Resolver {
            facts,
            prelude,
            edition,
            root: 0,
            modules,
            bindings: RefCell::new(HashMap::new()),
            glob_bases_memo: RefCell::new(HashMap::new()),
            named_imports,
            has_globs,
            steps: Cell::new(0),
            max_steps: super::limits::LIMITS.max_resolution_steps,
            exhausted: Cell::new(false),
        }
    }

    /// The resolution-work limit, as evidence, when it was passed: some
    /// names were then left unresolved.
    pub fn exhausted(&self) -> Option<String> {
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
    /// that name, or a glob that may bring it.
    fn may_bind(&self, scope: ScopeId, name: &str) -> bool {
        self.has_globs[scope]
            || self.facts.scopes[scope].defs.contains_key(name)
            || self.named_imports[scope].contains_key(name)
    }

    /// Every canonical path `path` may stand for, as written in `scope`.
    /// Usually one; several when only glob imports of other crates could
    /// provide the name (we cannot see their contents).
    pub fn resolve(&self, scope: ScopeId, path: &WrittenPath) -> Vec<String> {
        let mut out: Vec<String> = self
            .resolve_path(scope, &path.segments, path.leading_colon, false, 0, true)
            .into_iter()
            .map(|b| self.canonical(b))
            .collect();
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
    /// or globs would be searched through globs, exponentially.
    fn resolve_path(
        &self,
        scope: ScopeId,
        segments: &[String],
        leading_colon: bool,
        is_use: bool,
        hops: usize,
        external_globs: bool,
    ) -> Vec<Binding> {
        let Some((first, rest)) = segments.split_first() else {
            return Vec::new();
        };
        if hops > MAX_HOPS {
            return Vec::new();
        }
        let starts = self.first_segment(scope, first, leading_colon, is_use, hops, external_globs);
        self.follow(starts, rest, hops)
    }

    /// Looks the remaining segments up from each starting binding.
    fn follow(&self, mut current: Vec<Binding>, rest: &[String], hops: usize) -> Vec<Binding> {
        for segment in rest {
            let mut next = Vec::new();
            for binding in current {
                match binding {
                    Binding::Module(m) => next.extend(self.in_module(m, segment, hops)),
                    Binding::Path(p) => next.push(self.binding_of(format!("{p}::{segment}"))),
                }
            }
            current = next;
        }
        current
    }

    /// What one segment names inside module `m` (no lexical fallback).
    fn in_module(&self, m: ScopeId, segment: &str, hops: usize) -> Vec<Binding> {
        match segment {
            "super" => return vec![Binding::Module(self.parent_module(m))],
            "self" => return vec![Binding::Module(m)],
            _ => {}
        }
        let bound = self.bound_in(m, segment, hops);
        if !bound.is_empty() {
            return bound;
        }
        if m == self.root
            && let Some(lib) = self.prelude.lib(segment)
            && (self.edition == Edition::E2015 || lib == "std" || lib == "core")
        {
            // Extern crates are reachable through the crate root in 2015,
            // and `crate::std` still works today.
            return vec![Binding::Path(lib.to_owned())];
        }
        // A glob re-export of another crate (`pub use std::fs::*;`) may
        // supply it; we cannot see that crate's contents, so take each.
        let external: Vec<Binding> = self.external_glob_candidates(m, segment, hops);
        if !external.is_empty() {
            return external;
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
        leading_colon: bool,
        is_use: bool,
        hops: usize,
        external_globs: bool,
    ) -> Vec<Binding> {
        let crate_relative = leading_colon && self.edition == Edition::E2015
            || is_use
                && self.edition == Edition::E2015
                && !matches!(first, "crate" | "self" | "super");
        if leading_colon && !crate_relative {
            return self.extern_crate(first).into_iter().collect();
        }
        if crate_relative {
            // 2015: `::a` and `use a` start at the crate root, where extern
            // crates are injected.
            let bound = self.bound_in(self.root, first, hops);
            if !bound.is_empty() {
                return bound;
            }
            return self.extern_crate(first).into_iter().collect();
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
        // Lexical scopes: blocks out to their module, then the preludes.
        let mut current = Some(scope);
        while let Some(s) = current {
            let bound = self.bound_in(s, first, hops);
            if !bound.is_empty() {
                return bound;
            }
            current = self.lexical_parent(s);
        }
        // `extern crate` at the root joins the extern prelude.
        if let Some(Def::ExternCrate(lib)) = self.facts.scopes[self.root].defs.get(first) {
            let lib = self.prelude.lib(lib).unwrap_or(lib);
            return vec![Binding::Path(lib.to_owned())];
        }
        if let Some(binding) = self.extern_crate(first) {
            return vec![binding];
        }
        if !external_globs {
            return Vec::new();
        }
        // Glob imports of other crates, whose contents we cannot see: the
        // name may come from any of them.
        let mut out = Vec::new();
        let mut current = Some(scope);
        while let Some(s) = current {
            out.extend(self.external_glob_candidates(s, first, hops));
            current = self.lexical_parent(s);
        }
        out
    }

    /// `base::name` for each glob import in `scope` whose base is another
    /// crate's path, including those reached through globs of this crate's
    /// modules (`use q::*` where `q` has `pub use std::net::*`).
    fn external_glob_candidates(&self, scope: ScopeId, name: &str, hops: usize) -> Vec<Binding> {
        self.external_glob_bases(scope, hops)
            .into_iter()
            .map(|base| Binding::Path(format!("{base}::{name}")))
            .collect()
    }

    /// The other crates' paths `scope`'s glob imports bring in, directly or
    /// through globs of this crate's modules. Memoised per scope (it does
    /// not depend on the name), with an empty entry while computing so that
    /// glob cycles end.
    fn external_glob_bases(&self, scope: ScopeId, hops: usize) -> Vec<String> {
        if let Some(known) = self.glob_bases_memo.borrow().get(&scope) {
            return known.clone();
        }
        if !self.step() {
            return Vec::new();
        }
        self.glob_bases_memo.borrow_mut().insert(scope, Vec::new());
        let mut out = Vec::new();
        for import in self.facts.scopes[scope]
            .imports
            .iter()
            .filter(|i| i.name.is_none())
        {
            for base in self.glob_bases(scope, import, hops) {
                match base {
                    Binding::Path(p) if !p.starts_with("crate") => out.push(p),
                    Binding::Module(m) if m != scope => {
                        out.extend(self.external_glob_bases(m, hops + 1));
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out.dedup();
        self.glob_bases_memo.borrow_mut().insert(scope, out.clone());
        out
    }

    fn lexical_parent(&self, scope: ScopeId) -> Option<ScopeId> {
        match self.facts.scopes[scope].kind {
            ScopeKind::Block { parent } => Some(parent),
            ScopeKind::Module { .. } => None,
        }
    }

    /// What `name` is bound to by a scope's own definitions, imports and
    /// globs of this crate's modules (whose contents we know). Memoised.
    fn bound_in(&self, scope: ScopeId, name: &str, hops: usize) -> Vec<Binding> {
        let key = (scope, name.to_owned());
        if let Some(known) = self.bindings.borrow().get(&key) {
            return known.clone();
        }
        if !self.step() {
            return Vec::new();
        }
        self.bindings.borrow_mut().insert(key.clone(), Vec::new());
        let found = self.compute_bound_in(scope, name, hops);
        self.bindings.borrow_mut().insert(key, found.clone());
        found
    }

    fn compute_bound_in(&self, scope: ScopeId, name: &str, hops: usize) -> Vec<Binding> {
        let data = &self.facts.scopes[scope];
        if let Some(def) = data.defs.get(name) {
            return match def {
                Def::Module(m) => vec![Binding::Module(*m)],
                Def::Item => {
                    let mut path = self.module_path(self.facts.module_of(scope));
                    path.push(name.to_owned());
                    vec![Binding::Path(canonical_module(&path))]
                }
                Def::Alias(target) => {
                    let (leading_colon, target) = match target.split_first() {
                        Some((s, rest)) if s.is_empty() => (true, rest),
                        _ => (false, &target[..]),
                    };
                    self.resolve_path(scope, target, leading_colon, false, hops + 1, true)
                }
                Def::ExternCrate(lib) => {
                    let lib = self.prelude.lib(lib).unwrap_or(lib);
                    vec![Binding::Path(lib.to_owned())]
                }
            };
        }
        let mut found = Vec::new();
        let named = self.named_imports[scope].get(name).into_iter().flatten();
        for import in named.map(|&i| &data.imports[i]) {
            found.extend(self.resolve_path(
                scope,
                &import.path,
                import.leading_colon,
                true,
                hops + 1,
                true,
            ));
        }
        if !found.is_empty() {
            return found;
        }
        for import in data.imports.iter().filter(|i| i.name.is_none()) {
            // Each glob followed is work: modules re-exporting each other's
            // globs multiply it.
            if !self.step() {
                return found;
            }
            for base in self.glob_bases(scope, import, hops) {
                if let Binding::Module(m) = base
                    && m != scope
                    && self.may_bind(m, name)
                {
                    found.extend(self.bound_in(m, name, hops + 1));
                }
            }
            if !found.is_empty() {
                return found;
            }
        }
        found
    }

    /// What a glob import's path names. Resolved without the external-glob
    /// fallback, or globs would be searched through globs, exponentially.
    fn glob_bases(
        &self,
        scope: ScopeId,
        import: &super::facts::Import,
        hops: usize,
    ) -> Vec<Binding> {
        self.resolve_path(
            scope,
            &import.path,
            import.leading_colon,
            true,
            hops + 1,
            false,
        )
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

#[cfg(test)]
mod tests {
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
        let cfg = crate::scan::CfgContext::new(None, &[], false);
        let env = crate::scan::strexpr::CompileEnv::default();
        let files = crate::scan::files::PackageFiles::new(Path::new("."), None);
        let inputs = crate::scan::collect::CrateInputs {
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
                RefKind::Path(p) | RefKind::Macro(p) => Some(resolver.resolve(r.scope, p)),
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
        let src =
            "pub mod a { pub use std::fs as sys; } mod b { fn f() { super::a::sys::write(1); } }";
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
    fn glob_of_external_module() {
        assert_eq!(
            first("use std::fs::*; fn a() { read_to_string(1); }"),
            ["std::fs::read_to_string"]
        );
    }
}
