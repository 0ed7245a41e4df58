//! Walks a crate's module tree from its root file, the way rustc finds
//! module files: `mod x;` is `x.rs` or `x/mod.rs` beside a `mod.rs`-style
//! file (the crate root, `mod.rs`) and below `stem/` for other files;
//! `#[path]` is relative to the declaring file's directory, or to the
//! inline module's directory inside an inline `mod` block.
//!
//! Each file is parsed, collected into facts and dropped before the next is
//! read, so one syntax tree is alive at a time per crate.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::cfg::CfgContext;
use super::collect::{ChildModule, Collector, relative_path};
use super::facts::{CrateFacts, Def, FileId, MacroCall, Scope, ScopeId, ScopeKind, Unanalyzed};
use super::macros::{DependencyMacros, ExpansionState, expand_invocations};
use super::source::{ParsedSource, read_source};

/// A file to read and the module scope its items belong to.
struct Pending {
    path: PathBuf,
    scope: ScopeId,
    /// Whether the file's own `mod x;` look beside it (crate roots,
    /// `mod.rs`, `#[path]` files) rather than below its stem.
    mod_rs: bool,
}

/// Reads every file of the crate rooted at `root_file` into `facts`.
pub fn collect_crate(
    root_file: &Path,
    package_root: &Path,
    cfg: &CfgContext,
    dependency_macros: &DependencyMacros<'_>,
    facts: &mut CrateFacts,
) {
    let mut expansion = ExpansionState::default();
    let root_scope = facts.add_scope(Scope::module(Vec::new(), None));
    let mut queue = vec![Pending {
        path: root_file.to_path_buf(),
        scope: root_scope,
        mod_rs: true,
    }];
    // How each file was reached, by file id, so modules declared by macros
    // can be placed relative to the file that invokes the macro.
    let mut read: HashMap<usize, Pending> = HashMap::new();
    let mut calls_done = 0;
    // A file is read once per crate: `#[path]` cycles (a file declaring a
    // module that is itself) would otherwise never end.
    let mut seen: HashSet<PathBuf> = HashSet::new();
    loop {
        while let Some(next) = queue.pop() {
            let key = next
                .path
                .canonicalize()
                .unwrap_or_else(|_| next.path.clone());
            if !seen.insert(key) {
                continue;
            }
            let (file, children) = collect_file(&next, package_root, cfg, facts);
            for child in children {
                queue_child(&next, child, package_root, facts, &mut queue);
            }
            read.insert(file, next);
            // Spans of the file just read are no longer needed; this frees
            // proc-macro2's per-thread copy of its text.
            proc_macro2::extra::invalidate_current_thread_spans();
        }
        // Macros that declare modules (`macro_rules! m { () => { mod x; } }`)
        // add them where they are invoked. New files may invoke more macros.
        let calls: Vec<MacroCall> = facts.macro_calls[calls_done..].to_vec();
        calls_done = facts.macro_calls.len();
        for call in calls {
            let Some(modules) = facts.macro_modules.get(&call.name).cloned() else {
                continue;
            };
            let Some(parent) = read.get(&call.pos.file) else {
                continue;
            };
            for module in modules {
                if facts.scopes[call.module].defs.contains_key(&module.name) {
                    continue;
                }
                let mut path = match &facts.scopes[call.module].kind {
                    ScopeKind::Module { path, .. } => path.clone(),
                    ScopeKind::Block { .. } => Vec::new(),
                };
                path.push(module.name.clone());
                let scope = facts.add_scope(Scope::module(path, Some(call.module)));
                facts.scopes[call.module]
                    .defs
                    .insert(module.name.clone(), Def::Module(scope));
                let child = ChildModule {
                    scope,
                    name: module.name,
                    path_attrs: module.path_attrs,
                    inline_path: call.inline_path.clone(),
                    pos: call.pos,
                };
                let parent = Pending {
                    path: parent.path.clone(),
                    scope: parent.scope,
                    mod_rs: parent.mod_rs,
                };
                queue_child(&parent, child, package_root, facts, &mut queue);
            }
        }
        // Macro invocations expanded where they are; modules the expansions
        // declare are read next.
        for child in expand_invocations(facts, cfg, package_root, dependency_macros, &mut expansion)
        {
            let Some(parent) = read.get(&child.pos.file) else {
                continue;
            };
            let parent = Pending {
                path: parent.path.clone(),
                scope: parent.scope,
                mod_rs: parent.mod_rs,
            };
            queue_child(&parent, child, package_root, facts, &mut queue);
        }
        proc_macro2::extra::invalidate_current_thread_spans();
        if queue.is_empty() {
            break;
        }
    }
    facts.expand_macro_templates();
}

fn queue_child(
    parent: &Pending,
    child: ChildModule,
    package_root: &Path,
    facts: &mut CrateFacts,
    queue: &mut Vec<Pending>,
) {
    match child_files(parent, &child) {
        Ok(files) => queue.extend(files.into_iter().map(|(path, mod_rs)| Pending {
            path,
            scope: child.scope,
            mod_rs,
        })),
        Err(tried) => {
            let file = facts.files[child.pos.file].clone();
            facts.unanalyzed.push(Unanalyzed {
                rule: "missing-module-file",
                file,
                line: Some(child.pos.line),
                reason: format!(
                    "`mod {};` has no file (looked for {})",
                    child.name,
                    tried
                        .iter()
                        .map(|p| relative_path(package_root, p))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            });
        }
    }
}

fn collect_file(
    next: &Pending,
    package_root: &Path,
    cfg: &CfgContext,
    facts: &mut CrateFacts,
) -> (FileId, Vec<ChildModule>) {
    let relative = relative_path(package_root, &next.path);
    let parsed = read_source(&next.path, &mut facts.bytes_read);
    let file = facts.add_file(relative.clone());
    let mut collector = Collector::new(
        facts,
        cfg,
        file,
        next.path.clone(),
        package_root,
        next.scope,
    );
    let children = match parsed {
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
    };
    (file, children)
}

/// The files for a `mod` declaration (several when `cfg_attr`s give
/// alternative `#[path]`s, which are all scanned), or every path tried.
fn child_files(
    parent: &Pending,
    child: &ChildModule,
) -> Result<Vec<(PathBuf, bool)>, Vec<PathBuf>> {
    let parent_dir = parent.path.parent().unwrap_or(Path::new("."));
    // The directory that a plain `mod x;` in this file looks in.
    let mut dir = if parent.mod_rs {
        parent_dir.to_path_buf()
    } else {
        let stem = parent.path.file_stem().unwrap_or_default();
        parent_dir.join(stem)
    };
    let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
    if !child.path_attrs.is_empty() {
        let base = if child.inline_path.is_empty() {
            parent_dir.to_path_buf()
        } else {
            child.inline_path.iter().fold(dir.clone(), |d, m| d.join(m))
        };
        candidates.extend(child.path_attrs.iter().map(|p| (base.join(&p.path), true)));
    }
    let default_applies = child.path_attrs.iter().all(|p| p.conditional);
    if default_applies {
        for inline in &child.inline_path {
            dir = dir.join(inline);
        }
        let flat = dir.join(format!("{}.rs", child.name));
        let nested = dir.join(&child.name).join("mod.rs");
        // rustc takes `x.rs` over `x/mod.rs`; only one is the default.
        if nested.is_file() && !flat.is_file() {
            candidates.push((nested, true));
        } else {
            candidates.push((flat, false));
            if !nested.is_file() {
                candidates.push((nested, true));
            }
        }
    }
    let found: Vec<(PathBuf, bool)> = candidates
        .iter()
        .filter(|(f, _)| f.is_file())
        .cloned()
        .collect();
    if found.is_empty() {
        Err(candidates.into_iter().map(|(f, _)| f).collect())
    } else {
        Ok(found)
    }
}
