//! Walks a crate's module tree from its root file, the way rustc finds
//! module files (`moddir` has rustc's directory rules): `mod x;`, `#[path]`,
//! `cfg_attr` paths, `include!`d files, and the modules and `include!`s
//! that macros declare where they are invoked. Every file is opened through
//! the package's file guard (`files`): one that is missing, outside the
//! package or not a regular file is an `unanalyzed` finding at the line
//! that names it.
//!
//! Each file is parsed, collected into facts and dropped before the next is
//! read, so one syntax tree is alive at a time per crate.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proc_macro2::{TokenStream, TokenTree};

use super::collect::{ChildModule, Collector, CrateInputs, PathAttr, ident_name, relative_path};
use super::facts::{
    CrateFacts, Def, FileId, MacroCall, MacroModule, Pos, Scope, ScopeId, ScopeKind, Unanalyzed,
};
use super::limits::LIMITS;
use super::macros::{DependencyMacros, ExpansionState, expand_invocations, resolve_link_names};
use super::moddir::ModDir;
use super::source::{ParsedSource, read_source};

/// A file to read, the module scope its items belong to, and where its
/// own `mod x;` look.
struct Pending {
    path: PathBuf,
    scope: ScopeId,
    dir: ModDir,
    /// The `mod` declaration that names it (none for the crate root).
    declared_at: Option<Pos>,
}

/// Bound on the macros one invocation expands through (`outer!` invoking
/// `inner!`), which also stops macros that invoke each other.
const MAX_MACRO_CHAIN: usize = 64;

/// Reads every file of the crate rooted at `root_file` into `facts`.
pub fn collect_crate(
    root_file: &Path,
    inputs: CrateInputs<'_>,
    dependency_macros: &DependencyMacros<'_>,
    facts: &mut CrateFacts,
) {
    let mut expansion = ExpansionState::default();
    let root_scope = facts.add_scope(Scope::module(Vec::new(), None));
    let mut queue = vec![Pending {
        path: root_file.to_path_buf(),
        scope: root_scope,
        dir: ModDir::owning(root_file),
        declared_at: None,
    }];
    let mut calls_done = 0;
    // Modules declared in macro arguments, until the expander has said
    // whether the macro declares them.
    let mut deferred: Vec<ChildModule> = Vec::new();
    // Invocations of macros, until the expander has said whether it
    // expanded them completely.
    let mut waiting: Vec<MacroCall> = Vec::new();
    // A file is read once per directory it is reached from: `#[path]`
    // cycles (a file declaring a module that is itself) would otherwise
    // never end, and a file reached from two directories declares
    // different children in each.
    let mut seen: HashSet<(PathBuf, PathBuf, Option<Arc<str>>)> = HashSet::new();
    let started = std::time::Instant::now();
    'files: loop {
        while let Some(next) = queue.pop() {
            let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
            let key = (
                canonical(&next.path),
                canonical(&next.dir.dir),
                next.dir.relative.clone(),
            );
            if !seen.insert(key) {
                continue;
            }
            if let Some(limit) = LIMITS.crate_budget_spent(facts, started) {
                // The rest of the crate is not read: it is unanalysed.
                let file = relative_path(inputs.package_root, &next.path);
                facts.unanalyzed.push(Unanalyzed {
                    rule: "scan-limit",
                    file,
                    line: None,
                    reason: format!("{limit}; this file and the rest of the crate were not read"),
                });
                break 'files;
            }
            let children = collect_file(&next, inputs, facts);
            for child in children {
                queue_or_defer(child, inputs.package_root, facts, &mut queue, &mut deferred);
            }
            // Spans of the file just read are no longer needed; this frees
            // proc-macro2's per-thread copy of its text.
            proc_macro2::extra::invalidate_current_thread_spans();
        }
        // Macros that declare modules (`macro_rules! m { () => { mod x; } }`)
        // or include files add them where they are invoked. New files may
        // invoke more macros.
        // An invocation the expander knows waits for it: expanded
        // completely, its expansion says what it declares, and what its
        // macros' bodies declare is not guessed from its arguments.
        let (held, calls): (Vec<MacroCall>, Vec<MacroCall>) = facts.macro_calls[calls_done..]
            .iter()
            .cloned()
            .partition(|c| c.invocation.is_some());
        calls_done = facts.macro_calls.len();
        waiting.extend(held);
        for child in declared_by_calls(calls, inputs, facts) {
            queue_or_defer(child, inputs.package_root, facts, &mut queue, &mut deferred);
        }
        // Macro invocations expanded where they are; modules the expansions
        // declare are read next.
        for child in expand_invocations(facts, inputs, dependency_macros, &mut expansion, started) {
            queue_or_defer(child, inputs.package_root, facts, &mut queue, &mut deferred);
        }
        proc_macro2::extra::invalidate_current_thread_spans();
        // Files included by macros may invoke more macros without adding
        // module files.
        if queue.is_empty() && calls_done == facts.macro_calls.len() {
            // Everything that can be expanded has been: a module declared
            // in arguments no expansion accounted for (the macro is not
            // known, or could not be expanded) is read as declared there.
            let released: Vec<ChildModule> = std::mem::take(&mut deferred)
                .into_iter()
                .filter(|c| !c.deferred_by.is_some_and(|i| expansion.settled(i)))
                .collect();
            // Likewise the modules and `include!`s the bodies of the macros
            // an invocation may name declare, guessed at the invocation.
            let unsettled: Vec<MacroCall> = std::mem::take(&mut waiting)
                .into_iter()
                .filter(|c| !c.invocation.is_some_and(|i| expansion.settled(i)))
                .collect();
            if released.is_empty() && unsettled.is_empty() {
                break;
            }
            for mut child in released {
                child.deferred_by = None;
                queue_child(child, inputs.package_root, facts, &mut queue);
            }
            for child in declared_by_calls(unsettled, inputs, facts) {
                queue_or_defer(child, inputs.package_root, facts, &mut queue, &mut deferred);
            }
        }
    }
    for (index, invocation) in facts.invocations.iter_mut().enumerate() {
        invocation.settled = expansion.settled(index);
    }
    // Every definition is known now: the `#[link_name]`s macros compute.
    resolve_link_names(facts, inputs, dependency_macros, &mut expansion);
    facts.unanalyzed.extend(expansion.into_unmatched());
    facts.expand_macro_templates(LIMITS.max_items);
}

/// The modules and `include!`s that the bodies of the macros `calls` may
/// name declare (and `include!` under another name), at each call.
fn declared_by_calls(
    calls: Vec<MacroCall>,
    inputs: CrateInputs<'_>,
    facts: &mut CrateFacts,
) -> Vec<ChildModule> {
    let std_names = std_names(facts);
    let aliases = include_aliases(facts, &std_names);
    let mut children = Vec::new();
    for call in calls {
        // `s::include!` after `extern crate std as s;` or `use std as s;`
        // (a path through `std` or `core` itself the collector reads).
        let through_std = call.name == "include"
            && call.through.as_ref().is_some_and(|first| {
                std_names.contains(first) && !matches!(first.as_str(), "std" | "core")
            });
        if aliases.contains(&call.name) || through_std {
            children.extend(include_at_call(&call, call.args.clone(), inputs, facts));
        }
        for name in expanded_macros(&call.name, facts) {
            attach_macro_modules(&name, &call, facts, &mut children);
            let includes = facts.macro_includes.get(&name).cloned().unwrap_or_default();
            for include in includes {
                children.extend(include_at_call(&call, Some(include.args), inputs, facts));
            }
        }
        proc_macro2::extra::invalidate_current_thread_spans();
    }
    children
}

/// `name` and every macro its body invokes, transitively, in a stable
/// order.
fn expanded_macros(name: &str, facts: &CrateFacts) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut queue: VecDeque<String> = VecDeque::from([name.to_owned()]);
    while let Some(next) = queue.pop_front() {
        if out.contains(&next) || out.len() >= MAX_MACRO_CHAIN {
            continue;
        }
        if let Some(inner) = facts.macro_invokes.get(&next) {
            queue.extend(inner.iter().cloned());
        }
        out.push(next);
    }
    out
}

/// Names `include!` is bound to by `use` anywhere in the crate
/// (`use std::include as inc;`, and re-exports of such names), besides
/// `include` itself, which the collector handles.
fn include_aliases(facts: &CrateFacts, std_names: &HashSet<String>) -> HashSet<String> {
    let mut aliases: HashSet<String> = HashSet::new();
    loop {
        let before = aliases.len();
        for import in facts.scopes.iter().flat_map(|s| &s.imports) {
            let (Some(name), Some(last)) = (&import.name, import.path.last()) else {
                continue;
            };
            let from_std = last == "include"
                && import
                    .path
                    .iter()
                    .find(|s| !s.is_empty())
                    .is_some_and(|f| std_names.contains(f));
            if (from_std || aliases.contains(last)) && name != "include" {
                aliases.insert(name.clone());
            }
        }
        if aliases.len() == before {
            return aliases;
        }
    }
}

/// Names the crate binds to std or core (`extern crate std as s;`, `use
/// std as s;`, and names of those), with `std` and `core` themselves.
fn std_names(facts: &CrateFacts) -> HashSet<String> {
    let mut names: HashSet<String> = ["std", "core"].map(String::from).into();
    loop {
        let before = names.len();
        for scope in &facts.scopes {
            for (alias, defs) in &scope.defs {
                if defs
                    .iter()
                    .any(|d| matches!(d, Def::ExternCrate(lib) if names.contains(lib)))
                {
                    names.insert(alias.clone());
                }
            }
            for import in &scope.imports {
                let mut path = import.path.iter().filter(|s| !s.is_empty());
                if let (Some(name), Some(first), None) = (&import.name, path.next(), path.next())
                    && names.contains(first)
                {
                    names.insert(name.clone());
                }
            }
        }
        if names.len() == before {
            return names;
        }
    }
}

/// Reads an `include!` (its arguments as written) that a macro invocation
/// expands to, relative to the file of the invocation, into the
/// invocation's module; returns the modules the included file declares.
fn include_at_call(
    call: &MacroCall,
    args: Option<String>,
    inputs: CrateInputs<'_>,
    facts: &mut CrateFacts,
) -> Vec<ChildModule> {
    let Some(args) = args else {
        facts.unanalyzed_at(
            "include-unresolved",
            call.pos,
            format!(
                "`{}!` is `include!`, and its argument is not a file name capgate can compute",
                call.name
            ),
        );
        return Vec::new();
    };
    let mut collector = Collector::new(
        facts,
        inputs,
        call.pos.file,
        call.file_path.clone(),
        call.dir.clone(),
        call.module,
    );
    collector.include_text(&args, call.pos);
    std::mem::take(&mut collector.children)
}

/// The modules macro `name`'s body declares, as children of the module
/// where `call` invokes it.
fn attach_macro_modules(
    name: &str,
    call: &MacroCall,
    facts: &mut CrateFacts,
    children: &mut Vec<ChildModule>,
) {
    let Some(modules) = facts.macro_modules.get(name).cloned() else {
        return;
    };
    for module in modules {
        if module.name.starts_with('$') {
            named_by_arguments(&module, call, facts, children);
            continue;
        }
        if declares_module(facts, call.module, &module.name) {
            continue;
        }
        declare_at_call(module.name, module.path_attrs, call, facts, children);
    }
}

/// `mod $name;` in a macro body: each identifier the invocation passes
/// whose module file exists is a module (the one rustc declares is among
/// them); when none has a file, or the arguments were not kept, the crate
/// is unanalyzed.
fn named_by_arguments(
    module: &MacroModule,
    call: &MacroCall,
    facts: &mut CrateFacts,
    children: &mut Vec<ChildModule>,
) {
    let mut candidates: Vec<String> = Vec::new();
    let mut pending: Vec<TokenStream> = call
        .args
        .as_deref()
        .and_then(|a| a.parse().ok())
        .into_iter()
        .collect();
    while let Some(stream) = pending.pop() {
        for tree in stream {
            match tree {
                TokenTree::Ident(id) => {
                    let name = ident_name(&id);
                    if !candidates.contains(&name) {
                        candidates.push(name);
                    }
                }
                TokenTree::Group(g) => pending.push(g.stream()),
                _ => {}
            }
        }
    }
    let mut found = false;
    for name in candidates {
        if declares_module(facts, call.module, &name)
            || call.dir.child_files(&name, &module.path_attrs).is_err()
        {
            continue;
        }
        found = true;
        declare_at_call(name, module.path_attrs.clone(), call, facts, children);
    }
    if !found {
        facts.unanalyzed_at(
            "missing-module-file",
            call.pos,
            format!(
                "`{}!` declares `mod {};` with a name from its arguments, and no identifier it passes names a module file",
                call.name, module.name
            ),
        );
    }
}

/// Declares module `name`, which a macro's body declares, in the module
/// where `call` invokes the macro, and hands it on to be read from there.
fn declare_at_call(
    name: String,
    path_attrs: Vec<PathAttr>,
    call: &MacroCall,
    facts: &mut CrateFacts,
    children: &mut Vec<ChildModule>,
) {
    let mut path = match &facts.scopes[call.module].kind {
        ScopeKind::Module { path, .. } => path.clone(),
        ScopeKind::Block { .. } => Vec::new(),
    };
    path.push(name.clone());
    let scope = facts.add_scope(Scope::module(path, Some(call.module)));
    facts.scopes[call.module]
        .defs
        .entry(name.clone())
        .or_default()
        .push(Def::Module(scope));
    children.push(ChildModule {
        scope,
        name,
        path_attrs,
        dir: call.dir.clone(),
        pos: call.pos,
        deferred_by: None,
    });
}

/// Whether `scope` already has a module `name`. Only a module counts: a
/// fn of that name is a value, and beside it the module is still declared.
fn declares_module(facts: &CrateFacts, scope: ScopeId, name: &str) -> bool {
    facts.scopes[scope]
        .defs
        .get(name)
        .is_some_and(|defs| defs.iter().any(|d| matches!(d, Def::Module(_))))
}

/// Queues a module's files, or holds it back while it waits on the
/// expansion of the macro in whose arguments it is declared.
fn queue_or_defer(
    child: ChildModule,
    package_root: &Path,
    facts: &mut CrateFacts,
    queue: &mut Vec<Pending>,
    deferred: &mut Vec<ChildModule>,
) {
    if child.deferred_by.is_some() {
        deferred.push(child);
    } else {
        queue_child(child, package_root, facts, queue);
    }
}

fn queue_child(
    child: ChildModule,
    package_root: &Path,
    facts: &mut CrateFacts,
    queue: &mut Vec<Pending>,
) {
    match child.dir.child_files(&child.name, &child.path_attrs) {
        Ok(files) => {
            if files.len() > 1 {
                // A `#[path]` under `cfg_attr` beside the default file: one
                // of them is the module.
                facts.scopes[child.scope].alternatives = true;
            }
            queue.extend(files.into_iter().map(|(path, dir)| Pending {
                path,
                scope: child.scope,
                dir,
                declared_at: Some(child.pos),
            }));
        }
        Err(tried) => {
            let tried: Vec<String> = tried
                .iter()
                .map(|p| relative_path(package_root, p))
                .collect();
            // A file outside the package that the package does not hold
            // (protobuf's `#[cfg(test)] #[path = "../../test-crates/..."]`)
            // can only be put there by the build's environment.
            let outside = tried
                .iter()
                .all(|p| p.starts_with("../") || Path::new(p).is_absolute());
            let (rule, reason) = if outside {
                (
                    "module-outside-package",
                    format!(
                        "`mod {};` names {}, outside the package, which does not hold it: only the build's environment could provide it",
                        child.name,
                        tried.join(" and ")
                    ),
                )
            } else {
                (
                    "missing-module-file",
                    format!(
                        "`mod {};` has no file (looked for {})",
                        child.name,
                        tried.join(" and ")
                    ),
                )
            };
            facts.unanalyzed_at(rule, child.pos, reason);
        }
    }
}

fn collect_file(
    next: &Pending,
    inputs: CrateInputs<'_>,
    facts: &mut CrateFacts,
) -> Vec<ChildModule> {
    let relative = relative_path(inputs.package_root, &next.path);
    let parsed = match read_source(&next.path, inputs.files, &mut facts.bytes_read) {
        Ok(parsed) => parsed,
        Err(refusal) => {
            // Blame the line that names the file; the file was not read.
            let (file, line) = match next.declared_at {
                Some(pos) => (facts.file_name(pos.file).to_owned(), Some(pos.line)),
                None => (relative, None),
            };
            facts.unanalyzed.push(Unanalyzed {
                rule: refusal.rule,
                file,
                line,
                reason: refusal.reason,
            });
            return Vec::new();
        }
    };
    let file: FileId = facts.add_file(relative.clone());
    let mut collector = Collector::new(
        facts,
        inputs,
        file,
        next.path.clone(),
        next.dir.clone(),
        next.scope,
    );
    match parsed {
        ParsedSource::Syntax(syntax) => {
            collector.collect_file(&syntax);
            std::mem::take(&mut collector.children)
        }
        ParsedSource::Tokens {
            tokens,
            tokens_only,
            parse_error,
        } => {
            collector.collect_tokens(tokens, tokens_only);
            let children = std::mem::take(&mut collector.children);
            if tokens_only {
                // Read as tokens, so capabilities are still found, but past
                // a shape limit nothing is read precisely.
                facts.unanalyzed.push(Unanalyzed {
                    rule: "scan-limit",
                    file: relative.clone(),
                    line: None,
                    reason: format!("{relative}: {parse_error}"),
                });
            }
            facts
                .token_fallback_files
                .push(format!("{relative}: {parse_error}"));
            children
        }
        ParsedSource::Unanalyzed { rule, line, reason } => {
            facts.unanalyzed.push(Unanalyzed {
                rule,
                file: relative,
                line,
                reason,
            });
            Vec::new()
        }
    }
}
