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
use std::path::Path;
use std::rc::Rc;

use proc_macro2::{TokenStream, TokenTree};

use super::cfg::CfgContext;
use super::collect::{ChildModule, Collector};
use super::expand::{self, Arm, Failure};
use super::facts::{CrateFacts, Invocation, Unanalyzed};

/// Expansions nested inside each other, as rustc's default
/// `recursion_limit`.
pub const MAX_EXPANSION_DEPTH: usize = 128;

/// Expansions per crate.
pub const MAX_EXPANSIONS: usize = 50_000;

/// The `#[macro_export]` macros of a crate's dependencies: by the
/// dependency's name in code, each macro's bodies by its name.
#[derive(Default)]
pub struct DependencyMacros<'a> {
    pub by_crate: BTreeMap<String, &'a BTreeMap<String, Vec<String>>>,
}

/// What has been expanded so far, across the module walker's rounds.
#[derive(Default)]
pub struct ExpansionState {
    /// (invocation, candidate) pairs already expanded.
    done: HashSet<(usize, String)>,
    expansions: usize,
    /// The crate's budget ran out (reported once).
    exhausted: bool,
}

/// A definition an invocation may refer to.
struct Candidate {
    key: String,
    body: String,
    /// What `$crate` becomes.
    dollar_crate: String,
}

/// Expands every invocation not yet expanded against every definition it
/// may refer to; returns the modules the expansions declare.
pub fn expand_invocations(
    facts: &mut CrateFacts,
    cfg: &CfgContext,
    package_root: &Path,
    deps: &DependencyMacros<'_>,
    state: &mut ExpansionState,
) -> Vec<ChildModule> {
    let mut children = Vec::new();
    let mut arms_cache: HashMap<String, Option<Rc<Vec<Arm>>>> = HashMap::new();
    let mut i = 0;
    while i < facts.invocations.len() {
        let invocation = facts.invocations[i].clone();
        let candidates: Vec<Candidate> = candidates(facts, deps, &invocation)
            .into_iter()
            .filter(|c| !state.done.contains(&(i, c.key.clone())))
            .collect();
        if !candidates.is_empty() {
            expand_one(
                facts,
                cfg,
                package_root,
                state,
                &mut arms_cache,
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
    cfg: &CfgContext,
    package_root: &Path,
    state: &mut ExpansionState,
    arms_cache: &mut HashMap<String, Option<Rc<Vec<Arm>>>>,
    invocation: &Invocation,
    index: usize,
    candidates: Vec<Candidate>,
    children: &mut Vec<ChildModule>,
) {
    let name = invocation.path.segments.join("::");
    let mut expanded = false;
    let mut problem: Option<String> = None;
    let mut builds_from_arguments = false;
    let args: Option<TokenStream> = invocation.args.parse().ok();
    for candidate in candidates {
        state.done.insert((index, candidate.key.clone()));
        let arms = arms_cache
            .entry(candidate.body.clone())
            .or_insert_with(|| {
                candidate
                    .body
                    .parse()
                    .ok()
                    .and_then(expand::parse_rules)
                    .map(Rc::new)
            })
            .clone();
        builds_from_arguments |= builds_from_metavariables(&candidate.body);
        let (Some(arms), Some(args)) = (arms, args.clone()) else {
            continue;
        };
        if invocation.depth >= MAX_EXPANSION_DEPTH {
            problem = Some(format!(
                "cannot expand macro `{name}!`: expansions nest deeper than {MAX_EXPANSION_DEPTH}"
            ));
            continue;
        }
        if state.expansions >= MAX_EXPANSIONS {
            if !state.exhausted {
                problem = Some(format!(
                    "cannot expand macro `{name}!`: the crate needs more than {MAX_EXPANSIONS} macro expansions"
                ));
            }
            state.exhausted = true;
            continue;
        }
        state.expansions += 1;
        match expand::expand(&arms, args, &candidate.dollar_crate) {
            Ok(tokens) => {
                expanded = true;
                let mut collector = collector_at(facts, cfg, package_root, invocation);
                collector.collect_expansion(tokens);
                children.append(&mut collector.children);
            }
            Err(Failure::TooBig) => {
                problem = Some(format!(
                    "cannot expand macro `{name}!`: its expansion passes {} tokens",
                    expand::MAX_EXPANSION_TOKENS
                ));
            }
            Err(Failure::NoMatch) => {}
        }
    }
    if expanded && problem.is_none() {
        return;
    }
    // Not expanded (or not completely): the arguments may still be code,
    // whatever the built-in of that name would have done with them.
    if let Some(args) = args {
        let mut collector = collector_at(facts, cfg, package_root, invocation);
        collector.walk_tokens(args);
        children.append(&mut collector.children);
    }
    if problem.is_none() && !expanded && builds_from_arguments {
        problem = Some(format!(
            "cannot expand macro `{name}!` (no rule matches its arguments), and it builds paths or items from them"
        ));
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

fn collector_at<'a>(
    facts: &'a mut CrateFacts,
    cfg: &'a CfgContext,
    package_root: &'a Path,
    invocation: &Invocation,
) -> Collector<'a> {
    let file_path = package_root.join(&facts.files[invocation.pos.file]);
    Collector::for_expansion(facts, cfg, file_path, package_root, invocation)
}

/// The definitions an invocation may name: the crate's own of that name
/// (for a bare name or one under `crate`/`self`/`super`), and a
/// dependency's when the path starts with it, when a `use` brings it in
/// (by name or glob) or when `#[macro_use] extern crate` does.
fn candidates(facts: &CrateFacts, deps: &DependencyMacros<'_>, inv: &Invocation) -> Vec<Candidate> {
    let segments = &inv.path.segments;
    let Some(name) = segments.last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let local = segments.len() == 1
        || (!inv.path.leading_colon && matches!(segments[0].as_str(), "crate" | "self" | "super"));
    if local {
        for (k, def) in facts.macro_defs.iter().enumerate() {
            if &def.name == name {
                out.push(Candidate {
                    key: format!("local:{k}"),
                    body: def.body.clone(),
                    dollar_crate: "crate".into(),
                });
            }
        }
    }
    let add_dep = |krate: &str, macro_name: &str, out: &mut Vec<Candidate>| {
        let Some(bodies) = deps.by_crate.get(krate).and_then(|m| m.get(macro_name)) else {
            return;
        };
        for (k, body) in bodies.iter().enumerate() {
            let key = format!("dep:{krate}:{macro_name}:{k}");
            if out.iter().all(|c| c.key != key) {
                out.push(Candidate {
                    key,
                    body: body.clone(),
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
    for scope in &facts.scopes {
        for import in &scope.imports {
            let Some(krate) = import.path.iter().find(|s| !s.is_empty()) else {
                continue;
            };
            if !deps.by_crate.contains_key(krate) {
                continue;
            }
            match &import.name {
                Some(bound) if bound == name => {
                    if let Some(real) = import.path.last() {
                        add_dep(krate, real, &mut out);
                    }
                }
                None => add_dep(krate, name, &mut out),
                Some(_) => {}
            }
        }
    }
    out
}

/// Whether a `macro_rules!` body puts a metavariable where it names
/// something: beside `::` (`$m::Command`, `std::$m`), after `use` or
/// `mod`, or anywhere in a body that writes an `extern` block.
fn builds_from_metavariables(body: &str) -> bool {
    let Ok(tokens) = body.parse::<TokenStream>() else {
        return true;
    };
    let mut pending: Vec<Vec<TokenTree>> = vec![tokens.into_iter().collect()];
    let mut has_extern = false;
    let mut has_metavariable = false;
    while let Some(trees) = pending.pop() {
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => pending.push(g.stream().into_iter().collect()),
                TokenTree::Ident(id) if id == "extern" => has_extern = true,
                TokenTree::Punct(p) if p.as_char() == '$' => {
                    let Some(TokenTree::Ident(name)) = trees.get(i + 1) else {
                        continue;
                    };
                    if name == "crate" {
                        continue;
                    }
                    has_metavariable = true;
                    let colon = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':');
                    let after_colons = i >= 2 && colon(trees.get(i - 1)) && colon(trees.get(i - 2));
                    let before_colons = colon(trees.get(i + 2)) && colon(trees.get(i + 3));
                    let after_keyword = i >= 1
                        && matches!(&trees[i - 1], TokenTree::Ident(k) if k == "use" || k == "mod");
                    if after_colons || before_colons || after_keyword {
                        return true;
                    }
                }
                _ => {}
            }
        }
    }
    has_extern && has_metavariable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_build_names_from_arguments() {
        assert!(builds_from_metavariables(
            "($m:path) => { $m::Command::new() }"
        ));
        assert!(builds_from_metavariables(
            "($m:ident) => { std::$m::read() }"
        ));
        assert!(builds_from_metavariables("($m:ident) => { use $m; }"));
        assert!(builds_from_metavariables(
            "($f:ident) => { extern \"C\" { fn $f(); } }"
        ));
        assert!(!builds_from_metavariables(
            "($e:expr) => { println!(\"{}\", $e) }"
        ));
        assert!(!builds_from_metavariables(
            "($e:expr) => { $crate::run($e) }"
        ));
        assert!(!builds_from_metavariables("($t:ty) => { let x: $t = 1; }"));
    }
}
