//! Matches a crate's resolved facts against the rules, producing findings.
//!
//! Paths and macros match by canonical path; method calls match by name when
//! their receiver chain starts at a rule's receiver type or their function
//! names one; foreign functions by link name; structural sites by their
//! fixed rule id.

use std::collections::{BTreeSet, HashMap};

use super::facts::{CrateFacts, ForeignFn, NS_MACRO, Pos, RefKind};
use super::names::Resolver;
use crate::model::{Finding, Location};
use crate::rules::{RuleSet, receiver_of};

/// Which code a finding is in, for reach to attribute it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Outside any item with a body (a module-level attribute, a site).
    Outside,
    /// In the item numbered `Ref::function`.
    Item(u32),
    /// A foreign function's declaration, by index in `foreign_fns`.
    Foreign(usize),
}

/// Where a receiver type was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum NamedIn {
    Function(u32),
    Module(usize),
}

/// What matching found: the findings, where each was, and every
/// reference's resolved paths (in `facts.refs` order), which reach reuses.
pub struct Matched {
    pub findings: Vec<Finding>,
    /// Whether each finding comes from a macro expansion.
    pub expanded: Vec<bool>,
    pub origins: Vec<Origin>,
    pub resolved: Vec<Vec<String>>,
}

/// Findings for one crate's facts.
pub fn match_rules(facts: &CrateFacts, resolver: &Resolver<'_>, rules: &RuleSet) -> Matched {
    let mut findings = Vec::new();
    let mut origins = Vec::new();
    let mut expanded: Vec<bool> = Vec::new();
    let location = |pos: Pos| Location::at(facts.files[pos.file].clone(), pos.line, pos.column);
    let push = |findings: &mut Vec<Finding>, rule: usize, pos: Pos, evidence: String| {
        let rule = rules.rule(rule);
        findings.push(Finding {
            capability: rule.capability,
            location: location(pos),
            evidence,
            rule: rule.id.as_str().to_owned(),
            via: Vec::new(),
        });
    };

    // Receiver types each function (or module, outside functions) names,
    // for method rules.
    let mut named_types: HashMap<NamedIn, BTreeSet<String>> = HashMap::new();
    let mut resolved = Vec::with_capacity(facts.refs().len());
    for r in facts.refs() {
        let paths = match &r.kind {
            RefKind::Path(p) | RefKind::Macro(p) => resolver.resolve_ns(r.scope, p, r.ns),
            RefKind::Method { root: Some(p), .. } => resolver.resolve_ns(r.scope, p, r.ns),
            RefKind::Method { root: None, .. } => Vec::new(),
        };
        for path in &paths {
            if rules.is_receiver_type(path) {
                // Outside functions, a type is named by a struct field or a
                // signature: the module's methods may be called on it.
                let key = match r.function {
                    0 => NamedIn::Module(facts.module_of(r.scope)),
                    f => NamedIn::Function(f),
                };
                named_types.entry(key).or_default().insert(path.clone());
            }
        }
        resolved.push(paths);
    }

    for (r, paths) in facts.refs().iter().zip(&resolved) {
        match &r.kind {
            RefKind::Path(_) | RefKind::Macro(_) => {
                for path in paths {
                    for rule in rules.match_path(path) {
                        push(&mut findings, rule, r.pos, path.clone());
                    }
                }
            }
            RefKind::Method { name, .. } => {
                for method_rule in rules.match_method(name) {
                    let receivers = method_rule.receivers.iter().map(String::as_str);
                    let receiver = if method_rule.receivers.is_empty() {
                        Some(None)
                    } else if let Some(hit) =
                        paths.iter().find_map(|p| receiver_of(p, receivers.clone()))
                    {
                        Some(Some(hit))
                    } else {
                        [
                            NamedIn::Function(r.function),
                            NamedIn::Module(facts.module_of(r.scope)),
                        ]
                        .iter()
                        .filter_map(|key| named_types.get(key))
                        .find_map(|types| {
                            types.iter().find_map(|t| receiver_of(t, receivers.clone()))
                        })
                        .map(Some)
                    };
                    if let Some(receiver) = receiver {
                        let evidence = match receiver {
                            Some(ty) => format!("{ty}::{name}"),
                            None => format!(".{name}()"),
                        };
                        push(&mut findings, method_rule.rule, r.pos, evidence);
                    }
                }
            }
        }
        let origin = match r.function {
            0 => Origin::Outside,
            f => Origin::Item(f),
        };
        origins.resize(findings.len(), origin);
        expanded.resize(findings.len(), r.pos.expanded);
    }

    for (index, foreign) in facts.foreign_fns.iter().enumerate() {
        if imported_from_host(foreign, resolver) {
            origins.resize(findings.len(), Origin::Foreign(index));
            expanded.resize(findings.len(), foreign.pos.expanded);
            continue;
        }
        for &rule in rules.match_symbol(&foreign.symbol) {
            let evidence = match &foreign.wasm_module {
                // rustc ignores the attribute off wasm: the C library's.
                Some((module, false)) => format!(
                    "extern fn {} (wasm_import_module = {module:?} applies only on wasm)",
                    foreign.symbol
                ),
                _ => format!("extern fn {}", foreign.symbol),
            };
            push(&mut findings, rule, foreign.pos, evidence);
        }
        origins.resize(findings.len(), Origin::Foreign(index));
        expanded.resize(findings.len(), foreign.pos.expanded);
    }

    for site in &facts.sites {
        let rule = rules.structural(site.rule);
        findings.push(Finding {
            capability: rule.capability,
            location: location(site.pos),
            evidence: site.evidence.clone(),
            rule: site.rule.to_owned(),
            via: Vec::new(),
        });
        expanded.push(site.pos.expanded);
    }

    for u in &facts.unanalyzed {
        let rule = rules.structural(u.rule);
        findings.push(Finding {
            capability: rule.capability,
            location: Location {
                file: Some(u.file.clone()),
                line: u.line,
                column: u.line.map(|_| 1),
            },
            evidence: u.reason.clone(),
            rule: u.rule.to_owned(),
            via: Vec::new(),
        });
    }
    origins.resize(findings.len(), Origin::Outside);
    expanded.resize(findings.len(), false);
    Matched {
        findings,
        expanded,
        origins,
        resolved,
    }
}

/// Whether a declaration names a host's import rather than a C library
/// function: under `#[link(wasm_import_module = "…")]` when compiling for
/// wasm, or in a block `#[wasm_bindgen]` rewrites (its imports link as
/// `__wbg_…` from the JavaScript module, and off wasm become stubs that
/// panic). The symbol is then no libc `bind` or `open`; the block stays
/// `ffi`. A block macro resolving to anything but wasm-bindgen's keeps the
/// symbol.
fn imported_from_host(foreign: &ForeignFn, resolver: &Resolver<'_>) -> bool {
    if matches!(foreign.wasm_module, Some((_, true))) {
        return true;
    }
    foreign.block_macros.iter().any(|path| {
        let candidates = resolver.resolve_ns(foreign.scope, path, NS_MACRO);
        !candidates.is_empty()
            && candidates
                .iter()
                .all(|c| c.starts_with("wasm_bindgen::") && c.ends_with("::wasm_bindgen"))
    })
}
