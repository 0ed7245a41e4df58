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
//! approximated upwards: every definition of that name in the crate counts.
//! Where an expansion cannot be made, the arguments are read as code, and a
//! macro that builds paths or items from its arguments makes the crate
//! `unanalyzed` with the reason; nesting and total work are bounded.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::time::Instant;

use proc_macro2::{TokenStream, TokenTree};

use super::collect::macroargs::COMPILE_TIME_MACROS;
use super::collect::{ChildModule, Collector, CrateInputs};
use super::expand::{self, Arm, Editions, Failure};
use super::facts::{CrateFacts, Invocation, Unanalyzed};
use super::limits::LIMITS;
use crate::model::Edition;
use shape::{Shape, shape};

mod shape;

/// Expansions nested inside each other, as rustc's default
/// `recursion_limit`.
pub const MAX_EXPANSION_DEPTH: usize = 128;

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

/// A definition an invocation may refer to.
struct Candidate<'a> {
    /// The same for the same definition in every round: `local:DIGEST` for
    /// the crate's own, `dep:CRATE:NAME:N` for a dependency's.
    key: String,
    /// `crate` for the crate's own macros, else the dependency's name.
    namespace: String,
    /// The macro's name there.
    name: String,
    body: Body<'a>,
    /// What `$crate` becomes.
    dollar_crate: String,
}

/// A candidate key for the crate's own definition with this body digest.
fn local_key(digest: &str) -> String {
    format!("local:{digest}")
}

/// A candidate key for the `index`th definition of `name` in `krate`.
fn dependency_key(krate: &str, name: &str, index: usize) -> String {
    format!("dep:{krate}:{name}:{index}")
}

/// Where a candidate's body is, so that it is copied only when first
/// parsed: a tt-muncher such as bitflags' is tried tens of thousands of
/// times in one crate.
#[derive(Clone, Copy)]
enum Body<'a> {
    /// The crate's own definition, by index in `CrateFacts::macro_defs`
    /// (which only grows).
    Local(usize),
    Dependency(&'a str),
}

impl<'a> Body<'a> {
    fn text<'f>(self, facts: &'f CrateFacts) -> &'f str
    where
        'a: 'f,
    {
        match self {
            Body::Local(index) => &facts.macro_defs[index].body,
            Body::Dependency(body) => body,
        }
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
    let rules = expand::decode(body)
        .and_then(expand::parse_rules)
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
    while i < facts.invocations.len() && !state.stopped {
        let invocation = facts.invocations[i].clone();
        // One round of expansions can add as much as many files: the
        // crate's limits are checked between invocations as well.
        if let Some(limit) = LIMITS.crate_budget_spent(facts, started) {
            facts.unanalyzed.push(Unanalyzed {
                rule: "scan-limit",
                file: facts.files[invocation.pos.file].clone(),
                line: Some(invocation.pos.line),
                reason: format!("{limit}; this macro invocation and the rest were not expanded"),
            });
            state.stopped = true;
            break;
        }
        state.macro_imports.refresh(facts, deps);
        state.local_defs.refresh(facts);
        let candidates: Vec<Candidate> = candidates(
            facts,
            deps,
            &state.local_defs,
            &state.macro_imports,
            &invocation,
        )
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
        // same) adds nothing the written code did not show.
        if !shadows_builtin
            && !carried.apart
            && !relevant(facts, deps, state, &candidate.namespace, &candidate.name)
        {
            continue;
        }
        attempted = true;
        let (Some(rules), Some(args)) = (rules, args.clone()) else {
            continue;
        };
        if invocation.depth >= MAX_EXPANSION_DEPTH {
            problem = Some(format!(
                "cannot expand macro `{name}!`: expansions nest deeper than {MAX_EXPANSION_DEPTH}"
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
                let mut collector = collector_at(facts, inputs, invocation);
                collector.collect_expansion(tokens);
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
        let mut collector = collector_at(facts, inputs, invocation);
        collector.collect_unexpanded_arguments(last, args);
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
            file: facts.files[invocation.pos.file].clone(),
            line: Some(invocation.pos.line),
            reason: format!(
                "cannot expand macro `{name}!` ({why}), and it builds paths or items from them"
            ),
        });
    }
    if let Some(reason) = problem {
        facts.unanalyzed.push(Unanalyzed {
            rule: "macro-unexpanded",
            file: facts.files[invocation.pos.file].clone(),
            line: Some(invocation.pos.line),
            reason,
        });
    }
}

/// Words an expansion needs to be collected for when they come from the
/// arguments: they start structural findings (`unsafe`, `extern`), name
/// files or imports (`mod`, `use`, `path`, `include`), or make attributes
/// with effects (`no_mangle`, …).
const SIGNIFICANT_WORDS: &[&str] = &[
    "unsafe",
    "extern",
    "mod",
    "use",
    "macro_rules",
    "no_mangle",
    "export_name",
    "link_section",
    "link",
    "path",
    "include",
];

/// What significant words an invocation's arguments carry.
#[derive(Default)]
struct Carried {
    /// One appears where the arguments read as written do not show what it
    /// does: a keyword not followed by what it governs (`unsafe` then
    /// `,`), or an attribute name outside `#[…]`. The macro is expanded
    /// even if its own body only passes tokens on (one written in place,
    /// `unsafe { .. }`, is seen where it is written, and a macro such as
    /// `quote!` that turns it into data need not be followed through its
    /// token-by-token recursion); an expansion that cannot be made then
    /// hides it, so the crate is unanalysed.
    apart: bool,
}

fn carried_keywords(args: &TokenStream) -> Carried {
    let mut out = Carried::default();
    let mut pending: Vec<(Vec<TokenTree>, bool)> =
        vec![(args.clone().into_iter().collect(), false)];
    while let Some((trees, in_attribute)) = pending.pop() {
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => {
                    let attribute = g.delimiter() == proc_macro2::Delimiter::Bracket
                        && i > 0
                        && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '#' || p.as_char() == '!');
                    pending.push((g.stream().into_iter().collect(), in_attribute || attribute));
                }
                TokenTree::Ident(id) => {
                    let word = id.to_string();
                    if !SIGNIFICANT_WORDS.contains(&word.as_str()) {
                        continue;
                    }
                    let next = trees.get(i + 1);
                    let governs = match word.as_str() {
                        "unsafe" => {
                            matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Brace)
                                || matches!(next, Some(TokenTree::Ident(n)) if n == "fn" || n == "impl" || n == "trait" || n == "extern")
                        }
                        "extern" => {
                            matches!(next, Some(TokenTree::Group(_) | TokenTree::Literal(_)))
                                || matches!(next, Some(TokenTree::Ident(n)) if n == "crate" || n == "fn")
                        }
                        "mod" => matches!(next, Some(TokenTree::Ident(_))),
                        "use" => {
                            matches!(next, Some(TokenTree::Ident(_)))
                                || matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == ':')
                                || matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Brace)
                        }
                        "macro_rules" => {
                            matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '!')
                        }
                        // Plain identifiers too common as names to be
                        // suspicious on their own.
                        "path" | "link" | "include" => true,
                        _ => in_attribute,
                    };
                    out.apart |= !governs;
                }
                _ => {}
            }
        }
    }
    out
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
                .any(|n| relevant(facts, deps, state, namespace, n))
        {
            result = true;
            break;
        }
    }
    state.relevant.insert(key, result);
    result
}

fn collector_at<'a>(
    facts: &'a mut CrateFacts,
    inputs: CrateInputs<'a>,
    invocation: &Invocation,
) -> Collector<'a> {
    let file_path = inputs.package_root.join(&facts.files[invocation.pos.file]);
    Collector::for_expansion(facts, inputs, file_path, invocation)
}

/// The definitions an invocation may name: the crate's own of that name
/// (for a bare name or one under `crate`/`self`/`super`), and a
/// dependency's when the path starts with it, when a `use` brings it in
/// (by name or glob) or when `#[macro_use] extern crate` does.
fn candidates<'a>(
    facts: &CrateFacts,
    deps: &DependencyMacros<'a>,
    local_defs: &LocalDefs,
    imports: &MacroImports,
    inv: &Invocation,
) -> Vec<Candidate<'a>> {
    let segments = &inv.path.segments;
    let Some(name) = segments.last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let local = segments.len() == 1
        || (!inv.path.leading_colon && matches!(segments[0].as_str(), "crate" | "self" | "super"));
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
        add_dep(&segments[0], name, &mut out);
        return out;
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
    out
}

/// The crate's own `macro_rules!` by name, in the order defined.
#[derive(Default)]
struct LocalDefs {
    /// How many of `CrateFacts::macro_defs` (which only grows) are indexed.
    indexed: usize,
    by_name: HashMap<String, Vec<usize>>,
}

impl LocalDefs {
    fn refresh(&mut self, facts: &CrateFacts) {
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
struct MacroImports {
    /// `CrateFacts::imports_added` when the list was made.
    made_at: Option<usize>,
    list: Vec<MacroImport>,
    /// Renaming imports of the crate's own items (`use crate::m as n`,
    /// `use m as n`): the name bound, and the name it stands for.
    local_renames: Vec<(String, String)>,
}

struct MacroImport {
    krate: String,
    /// The name bound (`None` for a glob).
    bound: Option<String>,
    last: Option<String>,
}

impl MacroImports {
    fn refresh(&mut self, facts: &CrateFacts, deps: &DependencyMacros<'_>) {
        if self.made_at == Some(facts.imports_added) {
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn builds(body: &str) -> bool {
        shape(&expand::parse_rules(body.parse().unwrap()).unwrap()).builds_names
    }

    #[test]
    fn keywords_the_arguments_carry() {
        let apart = |args: &str| carried_keywords(&args.parse().unwrap()).apart;
        assert!(!apart("a, b + 1"));
        // As written, `unsafe { .. }` is already seen where it is.
        assert!(!apart("unsafe { *p = 0 }"));
        assert!(apart("unsafe, { *p = 0 }"));
        assert!(apart("{ x } unsafe"));
        assert!(apart("mod; hidden"));
        assert!(apart("no_mangle"));
        assert!(!apart("#[no_mangle] fn f() {}"));
        assert!(!apart("(path)"));
    }

    #[test]
    fn tokens_joined_from_separate_arguments_build_names() {
        // `std $c process $c Command` with `$c = ::`.
        assert!(builds(
            "($c:tt) => { std $c process $c Command::new(\"sh\") }"
        ));
        // `std::$($t)*`: a repetition that goes on a path.
        assert!(builds("($($t:tt)*) => { std::$($t)* }"));
        // Runs of a repetition with separators dropped join pieces.
        assert!(builds("($($t:tt),*) => { fn f() { $($t)* } }"));
        // Runs that are a stretch of the input as written join nothing new.
        assert!(!builds("($($t:tt)*) => { fn f() { $($t)* } }"));
        // A keyword next to a metavariable is no part of a name.
        assert!(!builds("($n:ident) => { fn $n() {} }"));
        // Inside another macro's arguments that macro decides.
        assert!(!builds("($n:ident) => { other!(std $n) }"));
        assert!(!builds(
            "($n:ident) => { asm!(\"x\", options(nostack $n)) }"
        ));
    }

    #[test]
    fn bodies_that_build_names_from_arguments() {
        assert!(builds("($m:path) => { $m::Command::new() }"));
        assert!(builds("($m:ident) => { std::$m::read() }"));
        assert!(builds("($m:ident) => { use $m; }"));
        assert!(builds("($f:ident) => { extern \"C\" { fn $f(); } }"));
        assert!(builds("($m:ident) => { $m!() }"));
        assert!(builds("($($p:ident)*) => { $($p)::*() }"));
        assert!(!builds("($e:expr) => { println!(\"{}\", $e) }"));
        assert!(!builds("($e:expr) => { $crate::run($e) }"));
        assert!(!builds("($t:ty) => { let x: $t = 1; }"));
        // A matcher's `$t:ident ::` is not a path.
        assert!(!builds("($t:ident ::) => { push(&mut $t) }"));
    }
}
