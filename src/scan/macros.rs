//! Invocations of `macro_rules!` macros, expanded where they are invoked.
//!
//! rustc resolves a macro name to a `macro_rules!` in scope before the
//! built-ins and the standard prelude, so a crate's own `line!`, `env!`,
//! `stringify!` or `cfg_if!` (defined locally, in a `#[macro_use]` module,
//! or imported from a dependency's `#[macro_export]`) is that macro, and
//! whatever it produces is the crate's code. Likewise a macro that builds
//! paths, `use`s, `mod`s or `extern` blocks from its arguments
//! (`$m::Command::new`) only shows them once expanded.
//!
//! So after a crate's files are read, every invocation whose name a
//! `macro_rules!` of the crate, or a visible one of a dependency, may be is
//! expanded (`expand.rs`) and the result collected at the invocation, in its
//! scope and item, with its position. Which definition is in scope is
//! approximated upwards: every definition of that name in the crate counts,
//! except one rustc's scopes certainly keep out (`macros/scope.rs`: out of
//! textual scope and not imported, or behind a path through another
//! crate's module).
//! Where an expansion cannot be made, the arguments are read as code, and a
//! macro that builds paths or items from its arguments makes the crate
//! `unanalyzed` with the reason; nesting and total work are bounded.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::time::Instant;

use proc_macro2::TokenStream;

use super::collect::macroargs::COMPILE_TIME_MACROS;
use super::collect::{ChildModule, Collector, CrateInputs};
use super::expand::{self, Arm, Editions, Failure};
use super::facts::{CrateFacts, Invocation, Unanalyzed};
use super::limits::LIMITS;
use super::names::ExternPrelude;
use crate::model::Edition;
use candidates::{
    Body, Candidate, Found, LocalDefs, Lookup, MacroImports, candidates, dependency_key, local_key,
};
use carried::carried_keywords;
use dependency_paths::DependencyPaths;
use scope::{Fingerprint, LocalNames, fingerprint};
use shape::{Shape, shape};

mod candidates;
mod carried;
mod dependency_paths;
mod link_names;
mod scope;
mod shape;
mod textual;

pub use link_names::resolve_link_names;

/// Expansions nested inside each other, as rustc's default
/// `recursion_limit`.
pub const MAX_EXPANSION_DEPTH: usize = 128;

/// The most a crate's `#![recursion_limit]` raises that to: ctor asks for
/// 256. Nesting costs no stack (expansions are queued, not recursed), and
/// the expansion and token bounds hold whatever the depth.
pub const MAX_RECURSION_LIMIT: usize = 1024;

/// Expansions per crate (the most-downloaded crates need up to about
/// 32,000 with every feature on: rustix, wasm-bindgen-macro-support).
pub const MAX_EXPANSIONS: usize = 100_000;

/// The `#[macro_export]` macros of a crate's dependencies: by the
/// dependency's name in code, each macro's bodies by its name.
#[derive(Default)]
pub struct DependencyMacros<'a> {
    pub by_crate: BTreeMap<String, &'a BTreeMap<String, Vec<String>>>,
    /// The edition each dependency's macros are defined in.
    pub editions: BTreeMap<String, Edition>,
    /// Each dependency's re-exports of other crates' paths
    /// (`Exports::aliases`), by its name in code: a macro path through
    /// its modules may lead into another crate.
    pub aliases: BTreeMap<String, &'a BTreeMap<String, Vec<String>>>,
    /// The crates the code can name, for paths the crate's own names bend
    /// (`use other as o; o::run!`).
    pub prelude: ExternPrelude,
    /// Each dependency's names in code, by library name.
    pub names_by_lib: BTreeMap<String, Vec<String>>,
    /// The dependencies (names in code) that re-export other crates'
    /// items: their exported macros may be another crate's, whose `$crate`
    /// paths lead through that crate's modules, not theirs.
    pub re_exporting: BTreeSet<String>,
    /// The names of all of `by_crate`'s macros, once asked.
    pub macro_names: std::cell::OnceCell<HashSet<String>>,
}

impl DependencyMacros<'_> {
    /// The names in code of the dependency whose library is `lib`.
    fn names_of(&self, lib: &str) -> &[String] {
        self.names_by_lib.get(lib).map_or(&[], Vec::as_slice)
    }

    /// Whether `name` is a dependency whose paths may lead to macros: it
    /// exports some, or re-exports other crates' paths.
    fn names_any_macros(&self, name: &str) -> bool {
        self.by_crate.contains_key(name) || self.aliases.contains_key(name)
    }

    /// Whether some dependency exports a macro called `name`: asked for
    /// most invocations, so the names are gathered once.
    fn exports_macro_named(&self, name: &str) -> bool {
        self.macro_names
            .get_or_init(|| {
                self.by_crate
                    .values()
                    .flat_map(|macros| macros.keys().cloned())
                    .collect()
            })
            .contains(name)
    }
}

/// What has been expanded so far, across the module walker's rounds.
#[derive(Default)]
pub struct ExpansionState {
    /// The candidates already expanded, by invocation.
    done: HashMap<usize, HashSet<String>>,
    /// The imports that may name a dependency's macro.
    macro_imports: MacroImports,
    /// The crate's own definitions by name, as far as indexed.
    local_defs: LocalDefs,
    /// Names the crate binds itself, for the definitions scopes keep out.
    local_names: LocalNames,
    /// Which dependency macros paths of several segments name.
    dependency_paths: DependencyPaths,
    /// Invocations already reported for a path that leads where macros
    /// are not known.
    unknown_reported: HashSet<usize>,
    expansions: usize,
    /// Tokens the expansions have read and written, against
    /// [`expand::MAX_CRATE_EXPANSION_TOKENS`].
    tokens: usize,
    /// A crate-wide limit was passed: nothing more is expanded.
    stopped: bool,
    /// The crate's budget ran out (reported once).
    exhausted: bool,
    /// Whether the macros of a name (in the crate, or in a dependency) do
    /// more than pass their input on, by `namespace:name`.
    relevant: HashMap<String, bool>,
    /// Each definition's rules, parsed once per crate, by candidate key.
    rules: HashMap<String, Option<Rc<Rules>>>,
    /// Invocations some definition expanded, in any round.
    expanded: HashSet<usize>,
    /// Invocations expanded completely: what they compile to was collected.
    settled: HashSet<usize>,
    /// Written invocations no definition known so far accepts, reported
    /// once the whole crate is read unless a definition found later does.
    unmatched: BTreeMap<usize, Unanalyzed>,
}

impl ExpansionState {
    /// Whether invocation `index` was expanded completely, so that its
    /// expansion, not its arguments read as code, says what it declares.
    pub fn settled(&self, index: usize) -> bool {
        self.settled.contains(&index)
    }

    /// The written invocations that no definition accepted, once every
    /// file of the crate has been read.
    pub fn into_unmatched(self) -> impl Iterator<Item = Unanalyzed> {
        self.unmatched.into_values()
    }
}

/// A definition's rules and what its transcribers do.
struct Rules {
    arms: Vec<Arm>,
    shape: Shape,
}

/// The rules of the definition `key`, parsed from `body` the first time;
/// `None` when the body is not a `macro_rules!` capgate can read.
fn rules_of(state: &mut ExpansionState, key: &str, body: &str) -> Option<Rc<Rules>> {
    if let Some(known) = state.rules.get(key) {
        return known.clone();
    }
    let rules = expand::decode_rules(body)
        .and_then(|(body, settled)| expand::parse_rules(body, settled))
        .map(|arms| {
            let shape = shape(&arms);
            Rc::new(Rules { arms, shape })
        });
    state.rules.insert(key.to_owned(), rules.clone());
    rules
}

/// Expands every invocation not yet expanded against every definition it
/// may refer to; returns the modules the expansions declare.
pub fn expand_invocations(
    facts: &mut CrateFacts,
    inputs: CrateInputs<'_>,
    deps: &DependencyMacros<'_>,
    state: &mut ExpansionState,
    started: Instant,
) -> Vec<ChildModule> {
    let mut children = Vec::new();
    let mut i = 0;
    // The facts when a definition was first left out of this pass as out
    // of scope: if they changed after, it may be in scope after all (an
    // expansion declared a module or an import), and the pass is made
    // again for the definitions that now count.
    let mut left_out: Option<Fingerprint> = None;
    loop {
        if i == facts.invocations.len() || state.stopped {
            match left_out.take() {
                Some(then) if !state.stopped && then != fingerprint(facts) => i = 0,
                _ => break,
            }
        }
        let invocation = facts.invocations[i].clone();
        // One round of expansions can add as much as many files: the
        // crate's limits are checked between invocations as well.
        if let Some(limit) = LIMITS.crate_budget_spent(facts, started) {
            facts.unanalyzed_at(
                "scan-limit",
                invocation.pos,
                format!("{limit}; this macro invocation and the rest were not expanded"),
            );
            state.stopped = true;
            break;
        }
        state.macro_imports.refresh(facts, deps);
        state.local_defs.refresh(facts);
        state.local_names.refresh(facts, inputs.edition);
        let Found {
            candidates,
            out_of_scope,
            unknown,
        } = candidates(
            facts,
            deps,
            Lookup {
                local_defs: &state.local_defs,
                imports: &state.macro_imports,
                names: &mut state.local_names,
                paths: &mut state.dependency_paths,
                edition: inputs.edition,
            },
            &invocation,
        );
        if let Some(reason) = unknown
            && state.unknown_reported.insert(i)
        {
            facts.unanalyzed_at("macro-unexpanded", invocation.pos, reason);
        }
        if out_of_scope && left_out.is_none() {
            left_out = Some(fingerprint(facts));
        }
        let candidates: Vec<Candidate> = candidates
            .into_iter()
            .filter(|c| !state.done.get(&i).is_some_and(|done| done.contains(&c.key)))
            .collect();
        if !candidates.is_empty() {
            expand_one(
                facts,
                inputs,
                deps,
                state,
                &invocation,
                i,
                candidates,
                &mut children,
            );
        }
        i += 1;
    }
    children
}

#[allow(clippy::too_many_arguments)]
fn expand_one(
    facts: &mut CrateFacts,
    inputs: CrateInputs<'_>,
    deps: &DependencyMacros<'_>,
    state: &mut ExpansionState,
    invocation: &Invocation,
    index: usize,
    candidates: Vec<Candidate<'_>>,
    children: &mut Vec<ChildModule>,
) {
    let name = invocation.path.segments.join("::");
    let last = invocation.path.segments.last().map_or("", String::as_str);
    // The built-ins whose arguments the collector did not read as code.
    let shadows_builtin =
        COMPILE_TIME_MACROS.contains(&last) || last == "cfg_if" || last == "include";
    let mut expanded = false;
    let mut attempted = false;
    let mut problem: Option<String> = None;
    let mut builds_from_arguments = false;
    // Why rustc would stop at this invocation, if a definition says so.
    let mut rejected: Option<&'static str> = None;
    // Why capgate cannot tell what rustc does with a definition.
    let mut undecided: Option<&'static str> = None;
    let args: Option<TokenStream> = expand::decode(&invocation.args);
    // The expansion's tokens are the transcriber's and the arguments':
    // keywords the arguments carry can be put together with other pieces
    // (`m!(unsafe, { .. })` into `unsafe { .. }`), which the arguments as
    // written do not show.
    let carried = args.as_ref().map(carried_keywords).unwrap_or_default();
    builds_from_arguments |= carried.apart;
    for candidate in candidates {
        state
            .done
            .entry(index)
            .or_default()
            .insert(candidate.key.clone());
        let rules = rules_of(state, &candidate.key, candidate.body.text(facts));
        // A macro that passes its arguments on to one that builds from
        // them builds from them too.
        builds_from_arguments = builds_from_arguments
            || match &rules {
                None => true,
                Some(r) => {
                    r.shape.builds_names
                        || r.shape.emits_code
                        || r.shape
                            .invokes
                            .iter()
                            .any(|n| relevant(facts, deps, state, &candidate.namespace, n))
                }
            };
        // A macro that only passes its input on (to macros that do the
        // same) adds nothing the written code did not show; but among an
        // impl's or trait's items only the expansion says which methods the
        // type has (`$name` may become any of them).
        if !shadows_builtin
            && !carried.apart
            && invocation.assoc.is_none()
            && !relevant(facts, deps, state, &candidate.namespace, &candidate.name)
        {
            continue;
        }
        attempted = true;
        let (Some(rules), Some(args)) = (rules, args.clone()) else {
            continue;
        };
        let depth_limit = facts.recursion_limit.map_or(MAX_EXPANSION_DEPTH, |limit| {
            limit.clamp(MAX_EXPANSION_DEPTH, MAX_RECURSION_LIMIT)
        });
        if invocation.depth >= depth_limit {
            problem = Some(format!(
                "cannot expand macro `{name}!`: expansions nest deeper than {depth_limit}"
            ));
            continue;
        }
        if state.exhausted || state.expansions >= MAX_EXPANSIONS {
            if !state.exhausted {
                problem = Some(format!(
                    "cannot expand macro `{name}!`: the crate needs more than {MAX_EXPANSIONS} macro expansions"
                ));
            }
            state.exhausted = true;
            continue;
        }
        state.expansions += 1;
        let defined_in = if candidate.namespace == "crate" {
            Some(inputs.edition)
        } else {
            deps.editions.get(&candidate.namespace).copied()
        };
        // Whether `await` or `dyn` in the input is a keyword depends on
        // where the input was written: known only when that edition is the
        // definition's too.
        let editions = Editions {
            definition: defined_in,
            input: defined_in.filter(|e| *e == inputs.edition),
        };
        match expand::expand(
            &rules.arms,
            args,
            &candidate.dollar_crate,
            &mut state.tokens,
            editions,
        ) {
            Ok(tokens) => {
                expanded = true;
                let def = match candidate.body {
                    Body::Local(index) => Some(index),
                    Body::Dependency(_) => None,
                };
                // Raw names come only from the arguments or the body.
                let raw =
                    invocation.args.contains("r#") || candidate.body.text(facts).contains("r#");
                let mut collector = collector_at(facts, inputs, invocation, def);
                collector.collect_expansion(tokens, raw);
                children.append(&mut collector.children);
            }
            Err(Failure::TooBig) => {
                problem = Some(format!(
                    "cannot expand macro `{name}!`: its expansion passes {} tokens",
                    expand::MAX_EXPANSION_TOKENS
                ));
            }
            Err(Failure::CrateBudget) => {
                if !state.exhausted {
                    problem = Some(format!(
                        "cannot expand macro `{name}!`: the crate's macro expansions pass {} tokens in all",
                        expand::MAX_CRATE_EXPANSION_TOKENS
                    ));
                }
                state.exhausted = true;
            }
            Err(Failure::NoMatch) => {}
            Err(Failure::Rejected(why)) => rejected = Some(why),
            Err(Failure::Undecided(why)) => undecided = Some(why),
        }
    }
    // A definition that matched in an earlier round (before this round's
    // candidates were read) is one rustc may use; one that does not match
    // is one it cannot, so its failure adds nothing to read.
    let matched_before = state.expanded.contains(&index);
    if expanded {
        state.expanded.insert(index);
        state.unmatched.remove(&index);
    }
    // A definition capgate cannot follow as rustc does may be the one in
    // scope: whichever other definition matched, and however deep in
    // expansions this is, it may hide code. (Tokens in another macro's
    // arguments are only maybe an invocation.)
    if let Some(why) = undecided
        && attempted
        && problem.is_none()
        && builds_from_arguments
        && invocation.enclosing.is_none()
    {
        problem = Some(format!("cannot expand macro `{name}!` ({why})"));
    }
    if attempted && expanded && problem.is_none() {
        state.settled.insert(index);
    }
    if !attempted || ((expanded || matched_before) && problem.is_none()) {
        return;
    }
    // Not expanded (or not completely): the arguments may still be code,
    // whatever the built-in of that name would have done with them.
    if let Some(args) = args {
        let mut collector = collector_at(facts, inputs, invocation, None);
        collector.collect_unexpanded_arguments(last, args, invocation.args.contains("r#"));
        children.append(&mut collector.children);
    }
    // Tokens inside another user macro's arguments are an invocation only if
    // that macro emits them, and then its expansion holds them again. An
    // invocation an expansion produced may pair definitions that never meet
    // in one build (each platform's `new!` with another platform's
    // `check!`): its arguments are read, but only a written invocation that
    // no definition accepts is reported.
    let inside_user_macro = invocation.depth > 0
        || invocation.enclosing.as_ref().is_some_and(|outer| {
            facts.macro_defs.iter().any(|d| &d.name == outer)
                || deps.by_crate.values().any(|m| m.contains_key(outer))
        });
    // Definitions found in later rounds (files read later) are tried on
    // their own: one that fails does not undo one that matched before.
    if problem.is_none()
        && !state.exhausted
        && !state.expanded.contains(&index)
        && builds_from_arguments
        && !inside_user_macro
    {
        // A definition in a file read later may still accept it.
        let why = rejected.unwrap_or("no rule matches its arguments");
        state.unmatched.entry(index).or_insert_with(|| Unanalyzed {
            rule: "macro-unexpanded",
            file: facts.file_name(invocation.pos.file).to_owned(),
            line: Some(invocation.pos.line),
            reason: format!(
                "cannot expand macro `{name}!` ({why}), and it builds paths or items from them"
            ),
        });
    }
    if let Some(reason) = problem {
        facts.unanalyzed_at("macro-unexpanded", invocation.pos, reason);
    }
}

/// Whether the macros named `name` in `namespace` (the crate's own, or a
/// dependency's) do more than pass their input on: build names from it,
/// emit `unsafe`, `extern`, modules or imports, or invoke a macro that does.
fn relevant(
    facts: &CrateFacts,
    deps: &DependencyMacros<'_>,
    state: &mut ExpansionState,
    namespace: &str,
    name: &str,
) -> bool {
    let key = format!("{namespace}:{name}");
    if let Some(known) = state.relevant.get(&key) {
        return *known;
    }
    // A cycle of macros invoking each other: decided by the other members.
    state.relevant.insert(key.clone(), false);
    let bodies: Vec<(String, &str)> = if namespace == "crate" {
        facts
            .macro_defs
            .iter()
            .filter(|d| d.name == name)
            .map(|d| (local_key(&d.digest), d.body.as_str()))
            .collect()
    } else {
        deps.by_crate
            .get(namespace)
            .and_then(|m| m.get(name))
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(k, body)| (dependency_key(namespace, name, k), body.as_str()))
            .collect()
    };
    let mut result = false;
    for (key, body) in bodies {
        let Some(rules) = rules_of(state, &key, body) else {
            result = true;
            break;
        };
        if rules.shape.builds_names
            || rules.shape.emits_code
            || rules.shape.adds_cfg
            || rules
                .shape
                .invokes
                .iter()
                .any(|n| invokes_relevant(facts, deps, state, namespace, n))
        {
            result = true;
            break;
        }
    }
    state.relevant.insert(key, result);
    result
}

/// Whether a macro invoked by name in a transcriber of `namespace` may
/// do more than pass its input on: the one of that name there, or any
/// dependency's of that name (a wrapper `trace!` that hands its tokens to
/// `tracing::trace!` or to `other::run!` is only as harmless as that
/// macro), or one a renaming import binds; a dependency's macro only by
/// its own of that name.
fn invokes_relevant(
    facts: &CrateFacts,
    deps: &DependencyMacros<'_>,
    state: &mut ExpansionState,
    namespace: &str,
    name: &str,
) -> bool {
    if relevant(facts, deps, state, namespace, name) {
        return true;
    }
    // Only for the crate's own wrappers: a dependency's macro handing its
    // tokens to a third crate's is read as passing them on (a known hole;
    // icu_provider's macros, reached so, do not expand here).
    if namespace != "crate" {
        return false;
    }
    if state.macro_imports.renames(name) {
        return true;
    }
    let exporters: Vec<&str> = deps
        .by_crate
        .iter()
        .filter(|(krate, macros)| krate.as_str() != namespace && macros.contains_key(name))
        .map(|(krate, _)| krate.as_str())
        .collect();
    exporters
        .into_iter()
        .any(|krate| relevant(facts, deps, state, krate, name))
}

fn collector_at<'a>(
    facts: &'a mut CrateFacts,
    inputs: CrateInputs<'a>,
    invocation: &Invocation,
    def: Option<usize>,
) -> Collector<'a> {
    let file_path = inputs
        .package_root
        .join(facts.file_name(invocation.pos.file));
    Collector::for_expansion(facts, inputs, file_path, invocation, def)
}
