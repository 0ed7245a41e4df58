//! Which `macro_rules!` definitions an invocation may name. rustc takes
//! the one in scope; capgate approximates that upwards, because a
//! definition left out here is code never expanded and never seen: the
//! crate's own of that name (or renamed by a `use`), and a dependency's
//! named by path, by `use` or through `#[macro_use]`. Each is keyed the
//! same in every round, so a definition already tried is not tried again.

use std::collections::{HashMap, HashSet};

use super::DependencyMacros;
use super::dependency_paths::DependencyPaths;
use super::scope::{self, LocalNames};
use crate::model::Edition;
use crate::scan::facts::{CrateFacts, Invocation};

/// A definition an invocation may refer to.
pub(super) struct Candidate<'a> {
    /// The same for the same definition in every round: `local:DIGEST` for
    /// the crate's own, `dep:CRATE:NAME:N` for a dependency's.
    pub(super) key: String,
    /// `crate` for the crate's own macros, else the dependency's name.
    pub(super) namespace: String,
    /// The macro's name there.
    pub(super) name: String,
    pub(super) body: Body<'a>,
    /// What `$crate` becomes.
    pub(super) dollar_crate: String,
}

/// A candidate key for the crate's own definition with this body digest.
pub(super) fn local_key(digest: &str) -> String {
    format!("local:{digest}")
}

/// A candidate key for the `index`th definition of `name` in `krate`.
pub(super) fn dependency_key(krate: &str, name: &str, index: usize) -> String {
    format!("dep:{krate}:{name}:{index}")
}

/// Where a candidate's body is, so that it is copied only when first
/// parsed: a tt-muncher such as bitflags' is tried tens of thousands of
/// times in one crate.
#[derive(Clone, Copy)]
pub(super) enum Body<'a> {
    /// The crate's own definition, by index in `CrateFacts::macro_defs`
    /// (which only grows).
    Local(usize),
    Dependency(&'a str),
}

impl<'a> Body<'a> {
    pub(super) fn text<'f>(self, facts: &'f CrateFacts) -> &'f str
    where
        'a: 'f,
    {
        match self {
            Body::Local(index) => &facts.macro_defs[index].body,
            Body::Dependency(body) => body,
        }
    }
}

/// The definitions an invocation may name, with whether a definition of
/// the crate's was left out as out of scope, and why some of what a path
/// may name is not known.
pub(super) struct Found<'a> {
    pub(super) candidates: Vec<Candidate<'a>>,
    pub(super) out_of_scope: bool,
    pub(super) unknown: Option<String>,
}

/// What the expander keeps between invocations to answer [`candidates`].
pub(super) struct Lookup<'s> {
    pub(super) local_defs: &'s LocalDefs,
    pub(super) imports: &'s MacroImports,
    pub(super) names: &'s mut LocalNames,
    pub(super) paths: &'s mut DependencyPaths,
    pub(super) edition: Edition,
}

/// The definitions an invocation may name: the crate's own of that name
/// (for a bare name or one under `crate`/`self`/`super`) unless its scope
/// certainly keeps it out (`scope.rs`), and a
/// dependency's when its path leads there (`dependency_paths.rs`), when a
/// `use` brings it in (by name or glob) or when `#[macro_use] extern
/// crate` does.
pub(super) fn candidates<'a>(
    facts: &CrateFacts,
    deps: &DependencyMacros<'a>,
    lookup: Lookup<'_>,
    inv: &Invocation,
) -> Found<'a> {
    let Lookup {
        local_defs,
        imports,
        names,
        paths,
        edition,
    } = lookup;
    let segments = &inv.path.segments;
    let Some(name) = segments.last() else {
        return Found {
            candidates: Vec::new(),
            out_of_scope: false,
            unknown: None,
        };
    };
    let mut out = Vec::new();
    let mut out_of_scope = false;
    // A path may also start at a name the crate binds itself: one of its
    // modules (`defs::run!` naming a `pub(crate) use run;`), `use crate as
    // me;` or `extern crate self as me;` (`me::run!`), or in 2015 a
    // `::defs::run!` from the root. Only another crate's name leaves the
    // crate's definitions out.
    let local = segments.len() == 1
        || (!inv.path.leading_colon && matches!(segments[0].as_str(), "crate" | "self" | "super"))
        || names.may_be_local(facts, inv.scope, &segments[0], inv.path.leading_colon);
    if local {
        // The crate's own macro under a `use` rename (`use m as n; n!()`).
        let renamed = imports
            .local_renames
            .iter()
            .filter(|(bound, _)| bound == name)
            .map(|(_, original)| original);
        let indices = std::iter::once(name).chain(renamed).flat_map(|n| {
            local_defs
                .by_name
                .get(n)
                .into_iter()
                .flatten()
                .map(move |&index| (n, index))
        });
        for (defined_as, index) in indices {
            let def = &facts.macro_defs[index];
            // A definition rustc's scopes certainly keep from this
            // invocation is not one it may name (a rename is kept).
            if defined_as == name && !scope::may_name(facts, names, inv, def) {
                out_of_scope = true;
                continue;
            }
            // Keyed by the body's digest, so that later rounds skip a
            // definition already tried whatever its place in the list.
            out.push(Candidate {
                key: local_key(&def.digest),
                namespace: "crate".into(),
                name: defined_as.clone(),
                body: Body::Local(index),
                dollar_crate: "crate".into(),
            });
        }
    }
    let add_dep = |krate: &str, macro_name: &str, out: &mut Vec<Candidate<'a>>| {
        let Some(bodies) = deps
            .by_crate
            .get(krate)
            .copied()
            .and_then(|m| m.get(macro_name))
        else {
            return;
        };
        for (k, body) in bodies.iter().enumerate() {
            let key = dependency_key(krate, macro_name, k);
            if out.iter().all(|c| c.key != key) {
                out.push(Candidate {
                    key,
                    namespace: krate.to_owned(),
                    name: macro_name.to_owned(),
                    body: Body::Dependency(body),
                    dollar_crate: krate.to_owned(),
                });
            }
        }
    };
    if segments.len() >= 2 {
        let targets = paths.targets(facts, deps, (edition, &imports.renamed), inv);
        for (krate, macro_name) in &targets.macros {
            add_dep(krate, macro_name, &mut out);
        }
        return Found {
            candidates: out,
            out_of_scope,
            unknown: targets.unknown.clone(),
        };
    }
    for krate in &facts.macro_use_crates {
        add_dep(krate, name, &mut out);
    }
    for import in &imports.list {
        match &import.bound {
            Some(bound) if bound == name => {
                if let Some(real) = &import.last {
                    add_dep(&import.krate, real, &mut out);
                }
            }
            None => add_dep(&import.krate, name, &mut out),
            Some(_) => {}
        }
    }
    // Imports whose path starts at a name the crate binds (`use o::run;`
    // after `use other as o;`, `use a::run as go;`).
    let targets = paths.bare(facts, deps, (edition, &imports.renamed), name);
    for (krate, macro_name) in &targets.macros {
        add_dep(krate, macro_name, &mut out);
    }
    Found {
        candidates: out,
        out_of_scope,
        unknown: targets.unknown.clone(),
    }
}

/// The crate's own `macro_rules!` by name, in the order defined.
#[derive(Default)]
pub(super) struct LocalDefs {
    /// How many of `CrateFacts::macro_defs` (which only grows) are indexed.
    indexed: usize,
    by_name: HashMap<String, Vec<usize>>,
}

impl LocalDefs {
    pub(super) fn refresh(&mut self, facts: &CrateFacts) {
        for (index, def) in facts.macro_defs.iter().enumerate().skip(self.indexed) {
            self.by_name
                .entry(def.name.clone())
                .or_default()
                .push(index);
        }
        self.indexed = facts.macro_defs.len();
    }
}

/// The crate's imports from dependencies that export macros, in the
/// crate's order: a crate of thousands of `use` items asks for them at
/// every one of tens of thousands of invocations.
#[derive(Default)]
pub(super) struct MacroImports {
    /// `CrateFacts::imports_added` when the list was made.
    made_at: Option<usize>,
    list: Vec<MacroImport>,
    /// Renaming imports of the crate's own items (`use crate::m as n`,
    /// `use m as n`): the name bound, and the name it stands for.
    local_renames: Vec<(String, String)>,
    /// The names the crate's renaming imports bind (`use a::run as go;`):
    /// a dependency's macro may be imported by them.
    renamed: HashSet<String>,
}

struct MacroImport {
    krate: String,
    /// The name bound (`None` for a glob).
    bound: Option<String>,
    last: Option<String>,
}

impl MacroImports {
    /// Whether a renaming import of the crate binds `name`.
    pub(super) fn renames(&self, name: &str) -> bool {
        self.renamed.contains(name)
    }

    pub(super) fn refresh(&mut self, facts: &CrateFacts, deps: &DependencyMacros<'_>) {
        if self.made_at == Some(facts.imports_added) {
            return;
        }
        self.renamed = facts
            .scopes
            .iter()
            .flat_map(|scope| &scope.imports)
            .filter_map(|i| {
                let bound = i.name.as_ref()?;
                (i.path.last() != Some(bound)).then(|| bound.clone())
            })
            .collect();
        self.made_at = Some(facts.imports_added);
        self.list = facts
            .scopes
            .iter()
            .flat_map(|scope| &scope.imports)
            .filter_map(|import| {
                let krate = import.path.iter().find(|s| !s.is_empty())?;
                deps.by_crate.contains_key(krate).then(|| MacroImport {
                    krate: krate.clone(),
                    bound: import.name.clone(),
                    last: import.path.last().cloned(),
                })
            })
            .collect();
        self.local_renames = facts
            .scopes
            .iter()
            .flat_map(|scope| &scope.imports)
            .filter_map(|import| {
                let first = import.path.iter().find(|s| !s.is_empty())?;
                let original = import.path.last()?;
                let bound = import.name.as_ref()?;
                let local =
                    import.path.len() == 1 || matches!(first.as_str(), "crate" | "self" | "super");
                (local && bound != original).then(|| (bound.clone(), original.clone()))
            })
            .collect();
    }
}
