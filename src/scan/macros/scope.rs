//! Whether an invocation may name one of the crate's own `macro_rules!`,
//! as rustc scopes them, decided only where that is certain.
//!
//! rustc looks a macro's name up first in textual scope (the
//! `macro_rules!` written before it in its module or an enclosing one, and
//! in modules declared after it with `#[macro_use]` on the way out), then
//! by path among the module's items: its imports, and at the crate root the
//! `#[macro_export]` macros. A path (`$crate::__priv::mem::offset_of!`)
//! walks modules: a crate's macro is there only if that module imports it.
//! Taking every definition of the name instead makes a crate's own
//! `offset_of` expand to itself without end, and a module's
//! `use tracing::trace` try the crate's `trace!` on tracing's arguments.
//!
//! A definition is left out only when it is certainly not the one:
//! written in a file at a known place, in a module (not a block), met by
//! an invocation written in a file, and with every import on the way
//! certainly another crate's. An `include!`d file's text stands at its
//! `include!` (bigdecimal's test files each define their own `impl_case!`).
//! Anything unknown (a module a macro declares, a token-fallback file, a
//! glob of the crate's own modules, a name the crate itself binds) keeps
//! the definition.

use std::collections::HashMap;

use super::textual::{in_textual_scope, reaches};
use crate::model::Edition;
use crate::scan::facts::{
    CrateFacts, Def, Import, Invocation, MacroDef, NS_TYPE, ScopeId, ScopeKind,
};

/// The names the crate itself may bind (its items, and imports of its own
/// items): a path or import starting with any other name starts at
/// another crate. Asked rarely (a definition out of textual scope), so
/// found on demand and remembered until the facts change.
#[derive(Default)]
pub(super) struct LocalNames {
    /// [`fingerprint`] the answers hold for.
    made_at: Option<Fingerprint>,
    known: HashMap<String, bool>,
    /// Imports followed inside one question ([`LocalNames::local`]).
    depth: usize,
    /// Globs still to follow for the current invocation: past it, a
    /// glob may bring anything.
    budget: usize,
    /// The modules and names [`glob_binds`] is asking about, innermost
    /// last.
    visiting: Vec<(ScopeId, String)>,
    /// The crate is 2015 edition code: `use name;` starts at its root.
    edition_2015: bool,
}

/// Imports of imports followed before a name counts as the crate's own.
const MAX_IMPORT_CHAIN: usize = 64;

/// Globs followed for one invocation's definitions (each glob a module's
/// imports): a crate of many globs is not searched without end.
const GLOB_BUDGET: usize = 4_096;

impl LocalNames {
    pub(super) fn refresh(&mut self, facts: &CrateFacts, edition: Edition) {
        self.edition_2015 = edition == Edition::E2015;
        let now = fingerprint(facts);
        if self.made_at != Some(now) {
            self.made_at = Some(now);
            self.known.clear();
        }
    }

    /// Whether a path starting at `name`, written in `scope`, may start in
    /// the crate itself. A path's first segment is looked up in the
    /// scope's blocks and its module, then in the extern prelude: never in
    /// a parent module. So a `mod tracing` elsewhere in the crate leaves
    /// `tracing::trace!` in another module the tracing crate's (tokio-util
    /// wraps tracing's macros so), while a glob there, or a `::name` path
    /// (the crate root's in 2015), may bring the crate's own; a module read
    /// from alternatives (mio's `selector`) holds every alternative's
    /// names, so its definitions decide.
    pub(super) fn may_be_local(
        &mut self,
        facts: &CrateFacts,
        scope: ScopeId,
        name: &str,
        leading_colon: bool,
    ) -> bool {
        if leading_colon {
            return self.local(facts, name);
        }
        let mut current = scope;
        loop {
            let data = &facts.scopes[current];
            // A path's first segment is in the type namespace: the crate's
            // own `macro_rules! log` leaves `log::trace!` the log crate's
            // (memchr, mio and jiff wrap it so).
            let defined = data.defs.get(name).is_some_and(|defs| {
                defs.iter().any(|d| {
                    d.ns() & NS_TYPE != 0 && !matches!(d, Def::ExternCrate(lib) if lib != "self")
                })
            });
            // A module read from alternatives holds the names of each.
            if defined {
                return true;
            }
            for import in &data.imports {
                match import.name.as_deref() {
                    // What a glob brings is not followed here.
                    None => return true,
                    Some(bound) if bound == name && !self.external(facts, import) => return true,
                    Some(_) => {}
                }
            }
            match data.kind {
                ScopeKind::Block { parent } => current = parent,
                ScopeKind::Module { .. } => return false,
            }
        }
    }

    /// Whether the crate may bind `name` itself.
    fn local(&mut self, facts: &CrateFacts, name: &str) -> bool {
        if let Some(&known) = self.known.get(name) {
            return known;
        }
        if self.depth >= MAX_IMPORT_CHAIN {
            return true;
        }
        // A cycle of imports is decided by its other members.
        self.known.insert(name.to_owned(), false);
        // Any namespace: an import's first segment may be the item itself
        // (`pub(crate) use run;` of a macro).
        let defined = facts.scopes.iter().any(|scope| {
            scope.defs.get(name).is_some_and(|defs| {
                // `extern crate self as name` names the crate itself.
                defs.iter()
                    .any(|d| !matches!(d, Def::ExternCrate(lib) if lib != "self"))
            })
        });
        self.depth += 1;
        let local = defined
            || facts
                .scopes
                .iter()
                .flat_map(|s| &s.imports)
                .filter(|import| import.name.as_deref() == Some(name))
                .any(|import| !self.external(facts, import));
        self.depth -= 1;
        self.known.insert(name.to_owned(), local);
        local
    }

    /// Whether an import certainly brings another crate's item.
    fn external(&mut self, facts: &CrateFacts, import: &Import) -> bool {
        match import.path.iter().find(|s| !s.is_empty()) {
            None => false,
            Some(first) => {
                !matches!(
                    first.as_str(),
                    "crate" | "self" | "super" | "Self" | "$crate"
                ) && !self.local(facts, first)
            }
        }
    }
}

/// What the crate's facts hold so far, as far as it decides scopes: when
/// it changes, a definition left out may have to be tried after all.
pub(super) fn fingerprint(facts: &CrateFacts) -> Fingerprint {
    (
        facts.scopes.len(),
        facts.imports_added,
        facts.macro_defs.len(),
        facts.scope_edits,
    )
}

pub(super) type Fingerprint = (usize, usize, usize, usize);

/// Whether `inv` (whose last segment is `def`'s name) may name `def`.
pub(super) fn may_name(
    facts: &CrateFacts,
    names: &mut LocalNames,
    inv: &Invocation,
    def: &MacroDef,
) -> bool {
    names.budget = GLOB_BUDGET;
    let segments = &inv.path.segments;
    if segments.len() == 1 {
        if in_textual_scope(facts, def, inv) || imported_in(facts, names, inv.scope, def) {
            return true;
        }
        if inv.depth == 0 {
            return false;
        }
        // In a `#[macro_export(local_inner_macros)]` transcriber rustc
        // reads a bare name as `$crate::name!`: the crate root's exported
        // one, wherever it is defined.
        if def.exported {
            return true;
        }
        // A name an expansion wrote: rustc looks it up at the invocation
        // (a `macro_rules!` of the definition's module that the invocation
        // does not see is not found). Its hygiene is not modelled, so the
        // place of each definition in the chain that may have written it
        // counts too.
        let Some(mut link) = inv.expanded_by.as_deref() else {
            return true;
        };
        loop {
            if let Some(index) = link.def {
                let site = &facts.macro_defs[index];
                if reaches(facts, def, site.scope, site.pos)
                    || imported_in(facts, names, site.scope, def)
                {
                    return true;
                }
            }
            match link.parent.as_deref() {
                Some(parent) => link = parent,
                None => return false,
            }
        }
    }
    let Some(mut module) = (match segments[0].as_str() {
        "crate" | "$crate" => Some(root(facts)),
        // `macro_rules!` hygiene covers local variables, labels and
        // `$crate`: `self` and `super` in an expansion start at the module
        // it is collected in, the invocation's.
        "self" => Some(facts.module_of(inv.scope)),
        "super" => parent(facts, facts.module_of(inv.scope)),
        _ => None,
    }) else {
        return true;
    };
    for segment in &segments[1..segments.len() - 1] {
        match step(facts, names, module, segment, 0) {
            Step::Module(next) => module = next,
            Step::External => return false,
            Step::Unknown => return true,
        }
    }
    imported_in(facts, names, module, def)
}

/// Whether `def` may be an item of `scope` by path: the crate root holds
/// the `#[macro_export]` macros, and any module or block (up to its
/// module) what it imports of the crate's own. `use name;` re-exports the
/// `macro_rules!` in textual scope there; a glob brings what its module
/// may hold.
fn imported_in(facts: &CrateFacts, names: &mut LocalNames, scope: ScopeId, def: &MacroDef) -> bool {
    let mut current = scope;
    loop {
        let here = &facts.scopes[current];
        for import in &here.imports {
            if names.external(facts, import) {
                continue;
            }
            let found = match &import.name {
                None => {
                    let wanted = Wanted::Macro {
                        exported: def.exported,
                    };
                    glob_binds(facts, names, current, &import.path, &def.name, wanted, 0)
                        != Some(false)
                }
                Some(bound) if bound != &def.name => false,
                Some(_) => {
                    let path: Vec<&str> = import
                        .path
                        .iter()
                        .map(String::as_str)
                        .filter(|s| !s.is_empty())
                        .collect();
                    match path.as_slice() {
                        // `use name;`: the definition in textual scope here,
                        // or in 2015 (where `use name;` starts at the crate
                        // root) one the root holds: exported, or imported
                        // there.
                        [only] if *only == def.name && names.edition_2015 => {
                            reaches(facts, def, facts.module_of(current), None)
                                || glob_binds(
                                    facts,
                                    names,
                                    current,
                                    &["crate".to_owned()],
                                    &def.name,
                                    Wanted::Macro {
                                        exported: def.exported,
                                    },
                                    0,
                                ) != Some(false)
                        }
                        [only] | ["self", only] if *only == def.name => {
                            reaches(facts, def, facts.module_of(current), None)
                        }
                        _ => true,
                    }
                }
            };
            if found {
                return true;
            }
        }
        match here.kind {
            ScopeKind::Block { parent } => current = parent,
            ScopeKind::Module { parent, .. } => return parent.is_none(),
        }
    }
}

/// What a glob is asked to bring.
#[derive(Clone, Copy)]
enum Wanted {
    /// Any item of the name.
    Item,
    /// One `macro_rules!` of the name, which the crate root holds if it is
    /// (or may be) `#[macro_export]`ed.
    Macro { exported: bool },
}

/// Whether the module a glob import in `from` names (`path`) may bind
/// `name` (`None`: cannot tell), following its own globs a few deep.
fn glob_binds(
    facts: &CrateFacts,
    names: &mut LocalNames,
    from: ScopeId,
    path: &[String],
    name: &str,
    wanted: Wanted,
    depth: usize,
) -> Option<bool> {
    if depth > MAX_GLOB_DEPTH || names.budget == 0 {
        return None;
    }
    names.budget -= 1;
    let Step::Module(module) = resolve(facts, names, from, path, depth) else {
        return None;
    };
    // The crate root holds every `#[macro_export]` macro; any other
    // `macro_rules!` only as it imports it.
    if let Wanted::Macro { exported: true } = wanted
        && facts.scopes[module].kind.is_root()
    {
        return Some(true);
    }
    // A cycle of globs brings nothing its members do not bind otherwise.
    let key = (module, name.to_owned());
    if names.visiting.contains(&key) {
        return Some(false);
    }
    names.visiting.push(key);
    let found = module_binds(facts, names, module, name, wanted, depth);
    names.visiting.pop();
    found
}

/// Whether module `module` may bind `name` itself or through its globs.
fn module_binds(
    facts: &CrateFacts,
    names: &mut LocalNames,
    module: ScopeId,
    name: &str,
    wanted: Wanted,
    depth: usize,
) -> Option<bool> {
    let here = &facts.scopes[module];
    // A `macro_rules!` is no item of its module: a glob brings one only
    // as the module imports it (or from the crate root).
    if matches!(wanted, Wanted::Item)
        && here.defs.get(name).is_some_and(|defs| {
            defs.iter()
                .any(|d| !matches!(d, Def::ExternCrate(lib) if lib != "self"))
        })
    {
        return Some(true);
    }
    let mut unknown = false;
    for import in &here.imports {
        if names.external(facts, import) {
            continue;
        }
        match &import.name {
            Some(bound) if bound == name => return Some(true),
            Some(_) => {}
            None => match glob_binds(facts, names, module, &import.path, name, wanted, depth + 1) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => unknown = true,
            },
        }
    }
    (!unknown).then_some(false)
}

/// Globs followed through other globs before giving up.
const MAX_GLOB_DEPTH: usize = 8;

/// Where a path from module `from` leads, as far as certain.
fn resolve(
    facts: &CrateFacts,
    names: &mut LocalNames,
    from: ScopeId,
    path: &[String],
    depth: usize,
) -> Step {
    let module = facts.module_of(from);
    let mut segments = path.iter().filter(|s| !s.is_empty());
    let mut current = match segments.next().map(String::as_str) {
        Some("crate" | "$crate") => root(facts),
        Some("self") => module,
        Some("super") => match parent(facts, module) {
            Some(up) => up,
            None => return Step::Unknown,
        },
        // A name of the module (rustc refuses one that is an extern
        // crate's too), or another crate's. In 2015 an import's path
        // starts at the crate root instead: where the root has another
        // module of that name, which one is not known here.
        Some(first) => match step(facts, names, module, first, depth) {
            Step::Module(found) => {
                let root = root(facts);
                if module != root {
                    match step(facts, names, root, first, depth) {
                        Step::Module(at_root) if at_root == found => {}
                        Step::External => {}
                        _ => return Step::Unknown,
                    }
                }
                found
            }
            other => return other,
        },
        None => return Step::Unknown,
    };
    for segment in segments {
        match step(facts, names, current, segment, depth) {
            Step::Module(next) => current = next,
            other => return other,
        }
    }
    Step::Module(current)
}

enum Step {
    Module(ScopeId),
    External,
    Unknown,
}

/// Where path segment `name` leads from module `module` (`depth`: globs
/// followed so far).
fn step(
    facts: &CrateFacts,
    names: &mut LocalNames,
    module: ScopeId,
    name: &str,
    depth: usize,
) -> Step {
    match name {
        "self" => return Step::Module(module),
        "super" => return parent(facts, module).map_or(Step::Unknown, Step::Module),
        _ => {}
    }
    let here = &facts.scopes[module];
    let mut modules: Vec<ScopeId> = Vec::new();
    for def in here.defs.get(name).into_iter().flatten() {
        match def {
            Def::Module(scope) => modules.push(*scope),
            Def::ExternCrate(lib) if lib != "self" => {}
            Def::ExternCrate(_) => return Step::Unknown,
            // Not a module: no macro is found under it.
            Def::Item(_) | Def::Alias(_) => {}
        }
    }
    // A definition shadows what globs bring; a named import beside it
    // (alternatives under `cfg`s) may be another module.
    for import in &here.imports {
        if import.name.as_deref() == Some(name) && !names.external(facts, import) {
            return Step::Unknown;
        }
    }
    match modules.as_slice() {
        [only] => return Step::Module(*only),
        [] => {}
        _ => return Step::Unknown,
    }
    for import in &here.imports {
        if import.name.is_none()
            && !names.external(facts, import)
            && glob_binds(
                facts,
                names,
                module,
                &import.path,
                name,
                Wanted::Item,
                depth + 1,
            ) != Some(false)
        {
            return Step::Unknown;
        }
    }
    Step::External
}

fn root(facts: &CrateFacts) -> ScopeId {
    facts
        .scopes
        .iter()
        .position(|s| matches!(s.kind, ScopeKind::Module { parent: None, .. }))
        .unwrap_or(0)
}

fn parent(facts: &CrateFacts, module: ScopeId) -> Option<ScopeId> {
    match facts.scopes[module].kind {
        ScopeKind::Module { parent, .. } => parent,
        ScopeKind::Block { parent } => Some(facts.module_of(parent)),
    }
}
