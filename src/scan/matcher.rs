//! Matches a crate's resolved facts against the rules, producing findings.
//!
//! Paths and macros match by canonical path; method calls match by name when
//! their receiver is known to be of a rule's receiver type (`resolution`
//! `type`), or, for rules that allow it, when the receiver's type is not
//! written but the function or module names a receiver type (`by-name`);
//! foreign functions by link name; structural sites by their fixed rule id.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::facts::{CrateFacts, ForeignFn, MethodRef, NS_MACRO, Pos, RefKind, Shared};
use super::names::Resolver;
use super::receivers::{Receiver, Receivers, definition_paths};
use crate::model::{Finding, Location, Resolution};
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
    /// Findings in code the crate only emits (`scan/emits.rs`): not its
    /// capabilities, and not in `origins`/`expanded`.
    pub emitted: Vec<Finding>,
    /// Whether each finding comes from a macro expansion.
    pub expanded: Vec<bool>,
    pub origins: Vec<Origin>,
    /// The paths each reference names (a method call: what the path its
    /// chain starts at resolves to).
    pub resolved: Vec<Paths>,
    /// A method call's receiver's candidate types (see
    /// `receivers::Receiver`), and whether they are sure: the call is made
    /// on the chain's root. Empty for other references.
    pub receivers: Vec<Box<[String]>>,
    pub sure: Vec<bool>,
    /// Each item's canonical definition path, then each foreign function's.
    pub def_paths: Vec<Option<String>>,
}

/// The paths one reference resolves to. A crate names few distinct paths
/// many times over (windows-sys's 450,000 references name its own type
/// aliases again and again): each path is kept once and shared, and an
/// empty list allocates nothing.
pub type Paths = Box<[Arc<str>]>;

/// Findings for one crate's facts; `trusted_emitters` are the libraries
/// whose `quote!`-like macros only emit their tokens
/// ([`super::emits::trusted_emitters`]).
pub fn match_rules(
    facts: &CrateFacts,
    resolver: &Resolver<'_>,
    rules: &RuleSet,
    trusted_emitters: &[String],
) -> Matched {
    let verified = super::emits::verified_regions(facts, resolver, trusted_emitters);
    let emitted_at = |pos: Pos| pos.emitted != 0 && verified[pos.emitted as usize - 1];
    let mut emitted = Vec::new();
    let mut findings = Vec::new();
    let mut origins = Vec::new();
    let mut expanded: Vec<bool> = Vec::new();
    let location =
        |pos: Pos| Location::at(facts.file_name(pos.file).to_owned(), pos.line, pos.column);
    let push = |findings: &mut Vec<Finding>,
                rule: usize,
                pos: Pos,
                evidence: String,
                resolution: Resolution| {
        let rule = rules.rule(rule);
        findings.push(Finding {
            capability: rule.capability,
            location: location(pos),
            evidence,
            rule: rule.id.as_str().to_owned(),
            via: Vec::new(),
            resolution: Some(resolution),
        });
    };
    let def_paths = definition_paths(facts, resolver);
    let receivers = Receivers::new(facts, resolver, &def_paths);

    // Receiver types each function (or module, outside functions) names,
    // for method rules.
    let mut named_types: HashMap<NamedIn, BTreeSet<String>> = HashMap::new();
    let mut resolved = Vec::with_capacity(facts.refs().len());
    let mut receiver_types = Vec::with_capacity(facts.refs().len());
    let mut sure = Vec::with_capacity(facts.refs().len());
    let mut kept: Shared<str> = Shared::default();
    let mut share =
        |paths: Vec<String>| -> Paths { paths.into_iter().map(|p| kept.share(p)).collect() };
    for r in facts.refs() {
        // Emitted code names nothing the crate calls: reach gets no names
        // from it, nor do its methods get receiver types.
        if emitted_at(r.pos) {
            if let RefKind::Path(p) | RefKind::Macro(p) = &r.kind {
                for path in resolver.resolve_ns(r.scope, p, r.ns) {
                    for rule in rules.match_path(&path) {
                        push(&mut emitted, rule, r.pos, path.clone(), Resolution::Path);
                    }
                }
            }
            resolved.push(Paths::default());
            receiver_types.push(Box::default());
            sure.push(true);
            continue;
        }
        let Receiver {
            paths,
            sure: certain,
            named,
        } = match &r.kind {
            RefKind::Path(p) | RefKind::Macro(p) => {
                resolved.push(share(resolver.resolve_ns(r.scope, p, r.ns)));
                receiver_types.push(Box::default());
                sure.push(true);
                continue;
            }
            RefKind::Method(method) => match &method.root {
                Some(root) => receivers.resolve(resolver, r.scope, root, method.direct),
                None => Receiver {
                    paths: Vec::new(),
                    sure: false,
                    named: 0,
                },
            },
        };
        sure.push(certain);
        resolved.push(share(paths[..named].to_vec()));
        receiver_types.push(paths.into_boxed_slice());
    }
    for (r, paths) in facts.refs().iter().zip(&resolved) {
        for path in paths {
            if rules.is_receiver_type(path) {
                // Outside functions, a type is named by a struct field or a
                // signature: the module's methods may be called on it.
                let key = match r.function {
                    0 => NamedIn::Module(facts.module_of(r.scope)),
                    f => NamedIn::Function(f),
                };
                named_types.entry(key).or_default().insert(path.to_string());
            }
        }
    }

    for (((r, named), candidates), &sure) in facts
        .refs()
        .iter()
        .zip(&resolved)
        .zip(&receiver_types)
        .zip(&sure)
    {
        if emitted_at(r.pos) {
            continue;
        }
        match &r.kind {
            RefKind::Path(_) | RefKind::Macro(_) => {
                for path in named {
                    for rule in rules.match_path(path) {
                        push(
                            &mut findings,
                            rule,
                            r.pos,
                            path.to_string(),
                            Resolution::Path,
                        );
                    }
                }
            }
            RefKind::Method(method) => {
                let MethodRef {
                    name, root, direct, ..
                } = &**method;
                let paths = candidates;
                // A receiver written with a standard library type that
                // cannot stand for a receiver type: the call is that
                // type's, whatever else the code names (`ft.is_symlink()`
                // on a `FileType`). Any other type may `Deref` to one (a
                // crate's own, `Ref<PathBuf>`, `LazyLock<PathBuf>`), so
                // it is matched by name as before.
                // Not in a macro's expansion, whose bindings hygiene keeps
                // apart from the names its arguments pass in (`let x: Vec<u8>`
                // in the body, `$x.exists()` the caller's `x: &Path`).
                let known_other = *direct
                    && !r.pos.expanded
                    && root.as_ref().is_some_and(|r| r.is_declared())
                    && !paths.is_empty()
                    && paths.iter().all(|p| is_plain_std_type(p));
                // What the chain's root itself matched (`Command::new`,
                // `File::create`): a method of the value it made adds
                // nothing of the same capability.
                let at_root: BTreeSet<_> = paths
                    .iter()
                    .flat_map(|p| rules.match_path(p))
                    .map(|rule| rules.rule(rule).capability)
                    .collect();
                for method_rule in rules.match_method(name) {
                    if at_root.contains(&rules.rule(method_rule.rule).capability) {
                        continue;
                    }
                    let receivers = method_rule.receivers.iter().map(String::as_str);
                    let hit = paths
                        .iter()
                        .find_map(|p| rules.receiver_hit(p, &method_rule.receivers));
                    let by_name = format!(".{name}()");
                    let matched = if method_rule.receivers.is_empty() {
                        Some((by_name, Resolution::ByName))
                    } else if let (Some(ty), true) = (hit, sure) {
                        Some((format!("{ty}::{name}"), Resolution::Type))
                    } else if method_rule.typed || (hit.is_none() && known_other) {
                        None
                    } else if hit.is_some()
                        || [
                            NamedIn::Function(r.function),
                            NamedIn::Module(facts.module_of(r.scope)),
                        ]
                        .iter()
                        .filter_map(|key| named_types.get(key))
                        .any(|types| {
                            types
                                .iter()
                                .any(|t| receiver_of(t, receivers.clone()).is_some())
                        })
                    {
                        Some((by_name, Resolution::ByName))
                    } else {
                        None
                    };
                    if let Some((evidence, resolution)) = matched {
                        push(&mut findings, method_rule.rule, r.pos, evidence, resolution);
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
        let into = if emitted_at(foreign.pos) {
            &mut emitted
        } else {
            &mut findings
        };
        for rule in rules.match_symbol(&foreign.symbol) {
            let evidence = match &foreign.wasm_module {
                // rustc ignores the attribute off wasm: the C library's.
                Some((module, false)) => format!(
                    "extern fn {} (wasm_import_module = {module:?} applies only on wasm)",
                    foreign.symbol
                ),
                _ => format!("extern fn {}", foreign.symbol),
            };
            push(into, rule, foreign.pos, evidence, Resolution::Path);
        }
        origins.resize(findings.len(), Origin::Foreign(index));
        expanded.resize(findings.len(), foreign.pos.expanded);
    }

    for site in &facts.sites {
        let rule = rules.structural(site.rule);
        let into = if emitted_at(site.pos) {
            &mut emitted
        } else {
            expanded.push(site.pos.expanded);
            &mut findings
        };
        into.push(Finding {
            capability: rule.capability,
            location: location(site.pos),
            evidence: site.evidence.clone(),
            rule: site.rule.to_owned(),
            via: Vec::new(),
            resolution: None,
        });
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
            resolution: None,
        });
    }
    origins.resize(findings.len(), Origin::Outside);
    expanded.resize(findings.len(), false);
    Matched {
        findings,
        emitted,
        expanded,
        origins,
        resolved,
        receivers: receiver_types,
        sure,
        def_paths,
    }
}

/// Standard library types that neither are nor `Deref` to a type any
/// method rule names, so a method called on one is never a receiver
/// rule's (`FileType::is_symlink`, `Vec::truncate`). (`DirEntry` is not
/// one: its `metadata()` stats the file.)
/// A list of those known, not of those excluded: a type left out is
/// matched by name, never missed.
const PLAIN_STD_TYPES: &[&str] = &[
    "std::fs::FileType",
    "std::fs::Metadata",
    "std::fs::Permissions",
    "std::ffi::OsStr",
    "std::ffi::OsString",
    "std::process::Child",
    "std::process::ExitStatus",
    "std::process::Output",
    "std::string::String",
    "std::vec::Vec",
];

fn is_plain_std_type(path: &str) -> bool {
    let std_path = match path
        .strip_prefix("core::")
        .or_else(|| path.strip_prefix("alloc::"))
    {
        Some(rest) => format!("std::{rest}"),
        None => path.to_owned(),
    };
    PLAIN_STD_TYPES.contains(&std_path.as_str())
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
