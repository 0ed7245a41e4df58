//! The crate side of reach: what this crate's own items reach, and what the
//! items of its dependencies that it names reach.
//!
//! Every item with a body (function, method, const or static initialiser,
//! macro body, foreign function) is a node. A node reaches the run-time
//! capabilities its own code matched, plus those of the dependency items it
//! names (looked up in their [`Exports`]), plus those of every node it calls
//! inside the crate, to a fixpoint. Calls are found by resolved path; a
//! method call `.name()`, whose receiver type is not known without type
//! inference, links to the methods of that name of the types the same item
//! names (or its module names outside items, as struct fields do, or the
//! item's own `impl` type), in this crate and in dependencies, and to the
//! only method of that name in the crate when there is just one. Linking
//! every method of a name instead made `.write()` on a pointer reach the
//! file system through an unrelated builder.
//!
//! The nodes that other crates can name become this crate's [`Exports`],
//! under every path they can be named by: their definition path, re-exports
//! (`pub use`, globs, type aliases) and, for methods, their type's path.

mod exports;
mod growing;
mod index;
mod overrides;
mod receivers;
mod self_calls;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{DependencyExports, bounded, flows, names_type};
use crate::model::{Capability, Exports, Finding, Location, Resolution, Witness};
use crate::rules::RuleSet;
use crate::scan::facts::{CrateFacts, NS_VALUE, Owner, RefKind, ScopeId};
use crate::scan::limits::LIMITS;
use crate::scan::names::{Resolver, is_own};
use crate::scan::{Matched, Origin};
use index::NodesByName;

/// What reach adds to a target's scan.
pub struct CrateReach {
    /// Findings where this crate's code names a dependency item that
    /// reaches a capability.
    pub findings: Vec<Finding>,
    /// What this crate's nameable items reach, for its dependents.
    pub exports: Exports,
    /// The limit passed while computing exports, as evidence: they are
    /// then incomplete.
    pub limit: Option<String>,
}

type Reach = BTreeMap<Capability, Witness>;

/// Where a type was named: in an item's code, or outside items in a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Holder {
    Node(usize),
    Module(ScopeId),
}

/// The dependency items a module imports by name (types and traits), and
/// the other crates' modules its globs bring in.
#[derive(Default)]
struct Imported {
    items: BTreeSet<String>,
    globs: Vec<String>,
}

impl Imported {
    /// The paths of the methods called `name` of the imported items and of
    /// the types and traits directly in a globbed module
    /// (`helper::prelude::Persist::persist` for `use helper::prelude::*`).
    fn methods(&self, deps: &DependencyExports<'_>, name: &str) -> BTreeSet<String> {
        // Through the dependencies' methods of that name, not through what
        // is imported: a module can import thousands of items, and call
        // methods thousands of times.
        let libs: BTreeSet<&str> = self
            .items
            .iter()
            .chain(&self.globs)
            .map(|p| p.split("::").next().unwrap_or(p))
            .collect();
        let mut out = BTreeSet::new();
        for lib in libs {
            for path in deps.methods_named(lib, name) {
                let Some((owner, _)) = path.rsplit_once("::") else {
                    continue;
                };
                let globbed = owner
                    .rsplit_once("::")
                    .is_some_and(|(module, _)| self.globs.iter().any(|g| g == module));
                if self.items.contains(owner) || globbed {
                    out.insert(path.clone());
                }
            }
        }
        out
    }
}

/// Methods of std's I/O, iterator, future and formatting traits, which
/// half the types of a crate implement: a call to one of them is matched
/// only against the types the calling code names, never against every type
/// of a dependency (`.write()` on a buffer is not `OpenOptions::write`).
const GENERIC_METHODS: &[&str] = &[
    "call",
    "clone",
    "cmp",
    "deref",
    "deref_mut",
    "drop",
    "eq",
    "flush",
    "fmt",
    "from",
    "hash",
    "into",
    "next",
    "poll",
    "poll_close",
    "poll_flush",
    "poll_next",
    "poll_read",
    "poll_ready",
    "poll_shutdown",
    "poll_write",
    "poll_write_vectored",
    "read",
    "read_exact",
    "read_to_end",
    "read_to_string",
    "read_vectored",
    "write",
    "write_all",
    "write_fmt",
    "write_vectored",
];

/// Computes reach for one target. `own_lib` is the target's library name,
/// which qualifies the chains its exports carry.
pub fn analyze(
    facts: &CrateFacts,
    resolver: &Resolver<'_>,
    rules: &RuleSet,
    matched: &Matched,
    deps: &DependencyExports<'_>,
    own_lib: &str,
) -> CrateReach {
    let items = facts.items.len();
    let nodes = items + facts.foreign_fns.len();
    let def_paths = &matched.def_paths;
    let trait_paths = trait_method_paths(facts, resolver);
    let mut by_path = Vec::new();
    let mut methods = Vec::new();
    for (node, path) in def_paths.iter().enumerate() {
        if let Some(path) = path {
            by_path.push((path.as_str(), node));
        }
        // `Trait::method(&x)` may run any impl's method.
        for path in trait_paths.get(node).into_iter().flatten() {
            by_path.push((path.as_str(), node));
        }
        if let Some(item) = facts.items.get(node)
            && (matches!(item.owner, Owner::Impl(_) | Owner::Trait(_))
                || item.impl_trait().is_some())
        {
            methods.push((item.name.as_str(), node));
        }
    }
    let by_path = NodesByName::new(by_path);
    let methods = NodesByName::new(methods);
    let node_of = |function: u32| (function != 0).then(|| function as usize - 1);
    let qualified = |node: usize| -> String {
        match &def_paths[node] {
            Some(path) if is_own(path) => format!("{own_lib}{}", &path["crate".len()..]),
            Some(path) => path.clone(),
            None => format!("{own_lib}::<item>"),
        }
    };

    // What each node's own code reaches.
    let mut reach: Vec<Reach> = vec![Reach::new(); nodes];
    for (finding, origin) in matched.findings.iter().zip(&matched.origins) {
        let node = match origin {
            Origin::Item(f) => f.to_owned() as usize - 1,
            Origin::Foreign(k) => items + k,
            Origin::Outside => continue,
        };
        // A link directive a library prints is carried to the build
        // scripts that call it.
        let carried = (flows(finding.capability) && rules.flows(&finding.rule))
            || rules.links_native(&finding.rule);
        if carried && node < nodes {
            reach[node]
                .entry(finding.capability)
                .or_insert_with(|| Witness {
                    capability: finding.capability,
                    rule: finding.rule.clone(),
                    via: vec![finding.evidence.clone()],
                    resolution: finding.resolution.unwrap_or(Resolution::Path),
                });
        }
    }

    // Calls inside the crate (each with how it was resolved: by path, or
    // by the method's name), and dependency items named.
    let mut callees: Vec<BTreeMap<usize, Resolution>> = vec![BTreeMap::new(); nodes];
    let call = |callees: &mut BTreeMap<usize, Resolution>, target: usize, how: Resolution| {
        let slot = callees.entry(target).or_insert(how);
        *slot = (*slot).min(how);
    };
    let mut findings = Vec::new();
    let location = |pos: crate::scan::facts::Pos| {
        Location::at(facts.file_name(pos.file).to_owned(), pos.line, pos.column)
    };
    // `how`: how the dependency item was named here (by its path, or a
    // method by its name), which the chain's resolution is at most.
    let mut reached_here = |node: Option<usize>,
                            pos: crate::scan::facts::Pos,
                            evidence: &str,
                            witnesses: Vec<Witness>,
                            how: Resolution,
                            reach: &mut Vec<Reach>| {
        for mut w in witnesses {
            w.resolution = w.resolution.and(how);
            findings.push(Finding {
                capability: w.capability,
                location: location(pos),
                evidence: evidence.to_owned(),
                rule: w.rule.clone(),
                via: w.via.clone(),
                resolution: Some(w.resolution),
            });
            if let Some(node) = node
                && rules.flows(&w.rule)
            {
                reach[node].entry(w.capability).or_insert(w);
            }
        }
    };

    // The crate's own types and traits with methods, whatever their case.
    let own_types: BTreeSet<&str> = def_paths
        .iter()
        .zip(&facts.items)
        .filter(|(_, item)| matches!(item.owner, Owner::Impl(_) | Owner::Trait(_)))
        .filter_map(|(path, _)| path.as_deref()?.rsplit_once("::").map(|(ty, _)| ty))
        .collect();
    let is_type = |path: &str| {
        if is_own(path) {
            names_type(path) || own_types.contains(path)
        } else {
            deps.is_type(path)
        }
    };

    // The types each node names, and those named outside functions in each
    // module (struct fields): method calls are resolved against them.
    let mut named_types: HashMap<Holder, BTreeSet<String>> = HashMap::new();
    for (r, paths) in facts.refs().iter().zip(&matched.resolved) {
        let holder = match node_of(r.function) {
            Some(node) => Holder::Node(node),
            None => Holder::Module(facts.module_of(r.scope)),
        };
        for path in paths {
            for candidate in [Some(&**path), path.rsplit_once("::").map(|(t, _)| t)]
                .into_iter()
                .flatten()
            {
                if is_type(candidate) {
                    named_types
                        .entry(holder)
                        .or_default()
                        .insert(candidate.to_owned());
                }
            }
        }
    }
    for (node, item) in facts.items.iter().enumerate() {
        // A method's own type (`self.other()` calls).
        if let (Owner::Impl(_), Some(path)) = (&item.owner, &def_paths[node])
            && let Some((ty, _)) = path.rsplit_once("::")
        {
            named_types
                .entry(Holder::Node(node))
                .or_default()
                .insert(ty.to_owned());
        }
    }
    // What a module imports: a trait brought in by `use helper::Persist;`
    // (or `as _`) is what `7u8.persist()` calls, though no path in the code
    // names it; a glob of another crate's module (`use helper::prelude::*;`)
    // may bring any trait in it. Only those items' methods are matched (the
    // import names them), not every method of that name in the crate.
    let mut imported: HashMap<ScopeId, Imported> = HashMap::new();
    for (scope, data) in facts.scopes.iter().enumerate() {
        if data.imports.is_empty() {
            continue;
        }
        let module = facts.module_of(scope);
        for import in data.imports.iter().filter(|i| i.name.is_some()) {
            for path in resolver.resolve_import(scope, import) {
                if !is_type(&path) {
                    continue;
                }
                if path.starts_with("crate::") {
                    named_types
                        .entry(Holder::Module(module))
                        .or_default()
                        .insert(path);
                } else {
                    // A dependency's alias of its own type (`pub type T =
                    // inner::Real;`) imports the type it stands for: its
                    // methods are exported under that type's path.
                    let own = deps.own_aliased(&path);
                    let items = &mut imported.entry(module).or_default().items;
                    items.extend(own);
                    items.insert(path);
                }
            }
        }
        if data.imports.iter().any(|i| i.name.is_none()) {
            let globs = resolver.glob_crates(scope);
            imported.entry(module).or_default().globs.extend(globs);
        }
    }

    for (r, paths) in facts.refs().iter().zip(&matched.resolved) {
        let node = node_of(r.function);
        let (RefKind::Path(_) | RefKind::Macro(_)) = &r.kind else {
            continue;
        };
        for path in paths {
            if is_own(path) {
                let Some(targets) = by_path.get(path) else {
                    continue;
                };
                if let Some(node) = node {
                    for target in targets.iter().filter(|&t| t != node) {
                        call(&mut callees[node], target, Resolution::Path);
                    }
                }
                // A foreign declaration reaches what its symbol does, but
                // declaring is not calling: the crate has it where its
                // code names the declaration (a call, a function pointer,
                // a cast), as a dependent would.
                // A type of the same path (libc's `struct stat` beside
                // `fn stat`) is not the declaration.
                let value = r.ns & NS_VALUE != 0;
                for target in targets.iter().filter(|&t| t >= items && value) {
                    let step = qualified(target);
                    let witnesses: Vec<Witness> = reach[target]
                        .values()
                        .map(|w| Witness {
                            capability: w.capability,
                            rule: w.rule.clone(),
                            via: bounded(
                                std::iter::once(step.clone()).chain(w.via.iter().cloned()),
                            ),
                            resolution: w.resolution,
                        })
                        .collect();
                    reached_here(node, r.pos, &step, witnesses, Resolution::Path, &mut reach);
                }
                continue;
            }
            let Some((lib, _)) = path.split_once("::") else {
                continue;
            };
            if deps.get(lib).is_none() || !rules.match_path(path).is_empty() {
                // Not a scanned dependency (std), or a rule already names
                // the API itself.
                continue;
            }
            let mut witnesses = deps.lookup(path, rules);
            // A value of a type is dropped: its `Drop` runs in this code.
            if let (Some(_), Some((ty, _))) = (node, path.rsplit_once("::"))
                && deps.is_type(ty)
            {
                for w in deps.lookup(&format!("{ty}::drop"), rules) {
                    if !witnesses.iter().any(|x| x.capability == w.capability) {
                        witnesses.push(w);
                    }
                }
            }
            reached_here(node, r.pos, path, witnesses, Resolution::Path, &mut reach);
        }
    }

    // Provided methods of dependency traits this crate implements without
    // overriding them: a call by that name may run them.
    let mut inherited: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut implemented: BTreeSet<String> = BTreeSet::new();
    for imp in &facts.trait_impls {
        for trait_path in resolver.resolve(imp.scope, &imp.trait_path) {
            implemented.insert(trait_path.clone());
            let Some((lib, inside)) = trait_path.split_once("::") else {
                continue;
            };
            let Some(exports) = deps.get(lib) else {
                continue;
            };
            let prefix = format!("{inside}::");
            for key in exports.items.keys() {
                if let Some(method) = key.strip_prefix(&prefix)
                    && !method.contains("::")
                    && !imp.methods.iter().any(|m| m == method)
                {
                    inherited
                        .entry(method.to_owned())
                        .or_default()
                        .insert(format!("{trait_path}::{method}"));
                }
            }
        }
    }
    let no_types = BTreeSet::new();
    let overrides = overrides::Overrides::new(facts, resolver, def_paths, deps);
    let self_calls = self_calls::SelfCalls::new(facts);
    // The dependency crates whose types each holder names, computed once
    // per holder: a module of a large crate names thousands of types, and
    // every method call in it asks.
    let mut libs_named: HashMap<Holder, BTreeSet<&str>> = HashMap::new();
    let mut libs_of = |holder: Holder| -> BTreeSet<&str> {
        libs_named
            .entry(holder)
            .or_insert_with(|| {
                named_types
                    .get(&holder)
                    .into_iter()
                    .flatten()
                    .filter(|t| !is_own(t) && !implemented.contains(*t))
                    .filter_map(|ty| ty.split_once("::").map(|(lib, _)| lib))
                    .collect()
            })
            .clone()
    };
    for ((r, roots), &sure) in facts
        .refs()
        .iter()
        .zip(&matched.receivers)
        .zip(&matched.sure)
    {
        let (RefKind::Method(method), Some(node)) = (&r.kind, node_of(r.function)) else {
            continue;
        };
        let name = &method.name;
        // The crate's own override of a dependency trait's method, or the
        // caller's impl's own method called on `self`, which rustc
        // certainly picks: nothing else of that name runs here.
        if let Some(target) = self_calls
            .target(r)
            .or_else(|| overrides.target(facts, resolver, r))
        {
            if target != node {
                call(&mut callees[node], target, Resolution::Type);
            }
            continue;
        }
        for path in inherited.get(name).into_iter().flatten() {
            let witnesses = deps.lookup(path, rules);
            reached_here(
                Some(node),
                r.pos,
                path,
                witnesses,
                Resolution::ByName,
                &mut reach,
            );
        }
        let module = Holder::Module(facts.module_of(r.scope));
        let in_node = named_types.get(&Holder::Node(node)).unwrap_or(&no_types);
        let in_module = named_types.get(&module).unwrap_or(&no_types);
        let named = in_node.iter().chain(in_module);
        for (path, witness) in receivers::through_aliases(name, (roots, sure), named, deps, rules) {
            let how = witness.resolution;
            reached_here(Some(node), r.pos, &path, vec![witness], how, &mut reach);
        }
        // In this crate: the methods of that name of the types the code
        // names, or the only method of that name.
        if let Some(targets) = methods.get(name.as_str()) {
            let distinctive = targets.len() == 1;
            for target in targets.iter() {
                let owner_type = def_paths[target]
                    .as_deref()
                    .and_then(|p| p.rsplit_once("::"))
                    .map(|(ty, _)| ty);
                let named = |ty: &str| in_node.contains(ty) || in_module.contains(ty);
                // A method of an impl of a trait the code names (`t:
                // &dyn Persist`, `T: Persist`), for whatever type.
                let of_named_trait = trait_paths[target]
                    .iter()
                    .any(|p| p.rsplit_once("::").is_some_and(|(t, _)| named(t)));
                if target != node
                    && (distinctive || owner_type.is_some_and(named) || of_named_trait)
                {
                    call(&mut callees[node], target, Resolution::ByName);
                }
            }
        }
        // In dependencies: the methods of that name of the types of the
        // dependency crates the code names (a method is often called on a
        // value another of that crate's methods returned:
        // `client.get(url).send()`). A trait this crate implements is named
        // by its impl header; which of its methods run is decided above.
        // A std trait method's name is matched only against the dependency
        // types the code names, but against those it is: a type's own
        // `write` that connects is not hidden by its name. (Going through
        // the methods of that name, not the types named: a module can name
        // thousands of types, and `.clone()` is everywhere.)
        let generic = GENERIC_METHODS.contains(&name.as_str());
        let mut libs = libs_of(Holder::Node(node));
        libs.extend(libs_of(module));
        let mut paths: BTreeSet<String> = libs
            .into_iter()
            .flat_map(|lib| deps.methods_named(lib, name).iter())
            .filter(|path| {
                !generic
                    || path
                        .rsplit_once("::")
                        .is_some_and(|(ty, _)| in_node.contains(ty) || in_module.contains(ty))
            })
            .cloned()
            .collect();
        // The imported traits' and types' own methods of that name, std's
        // trait method names included: the import names which one.
        if let Some(imported) = imported.get(&facts.module_of(r.scope)) {
            paths.extend(imported.methods(deps, name));
        }

        for path in paths {
            let witnesses = deps.lookup(&path, rules);
            reached_here(
                Some(node),
                r.pos,
                &path,
                witnesses,
                Resolution::ByName,
                &mut reach,
            );
        }
    }

    // Calls propagate reach to callers, to a fixpoint.
    let mut callers: Vec<Vec<(usize, Resolution)>> = vec![Vec::new(); nodes];
    for (caller, targets) in callees.iter().enumerate() {
        for (&callee, &how) in targets {
            callers[callee].push((caller, how));
        }
    }
    let mut pending: Vec<usize> = (0..nodes).filter(|&n| !reach[n].is_empty()).collect();
    while let Some(callee) = pending.pop() {
        let from: Vec<Witness> = reach[callee].values().cloned().collect();
        let step = qualified(callee);
        for &(caller, how) in &callers[callee] {
            let mut changed = false;
            for w in &from {
                if let std::collections::btree_map::Entry::Vacant(slot) =
                    reach[caller].entry(w.capability)
                {
                    slot.insert(Witness {
                        capability: w.capability,
                        rule: w.rule.clone(),
                        via: bounded(std::iter::once(step.clone()).chain(w.via.iter().cloned())),
                        resolution: w.resolution.and(how),
                    });
                    changed = true;
                }
            }
            if changed {
                pending.push(caller);
            }
        }
    }

    let mut budget = LIMITS.max_export_entries;
    let exports = exports::exports(
        facts,
        resolver,
        deps,
        (def_paths, &trait_paths, &own_types),
        &reach,
        &mut budget,
    );
    let limit = (budget == 0).then(|| {
        format!(
            "re-exports copy more than {} entries (modules re-exporting each other through globs)",
            LIMITS.max_export_entries
        )
    });
    CrateReach {
        findings,
        exports,
        limit,
    }
}

/// For each node that is a method of `impl Trait for Type` of a trait of
/// this crate, `crate::…::Trait::method`: the path a call through the
/// trait names (`Trait::method(&x)`, `x.method()` on a `dyn Trait`), which
/// may run this impl whatever the type (`u8`, `&T`, a generic `T`, which
/// have no path of their own to export the method under).
fn trait_method_paths(facts: &CrateFacts, resolver: &Resolver<'_>) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); facts.items.len() + facts.foreign_fns.len()];
    for (node, item) in facts.items.iter().enumerate() {
        let Some(trait_path) = item.impl_trait() else {
            continue;
        };
        for path in resolver.resolve(item.scope, trait_path) {
            if path.starts_with("crate::") {
                out[node].push(format!("{path}::{}", item.name));
            }
        }
    }
    out
}
