//! Foreign declarations are `ffi`, not what they name: `extern "C" { fn
//! socket(..); }` alone, as libc writes thousands of them, opens no socket.
//!
//! What the declared symbol does is the declaration's own reach: reach
//! gives it to every item of the crate that names the declaration (a call,
//! a function pointer, a cast, a `use` alias then called) and, through the
//! crate's exports, to the dependents that do. The declaration itself is a
//! finding only where the crate's uses of it cannot all be seen
//! ([`unseen_uses`]): then it stays at the declaration, with the reason.

use std::collections::HashSet;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use super::collect::ident_name;
use super::expand::decode;
use super::facts::{CrateFacts, RefKind};
use super::matcher::{Matched, Origin};
use crate::model::Capability;

/// Macros that call a symbol without Rust naming the declaration:
/// assembly (`asm!("call socket")`, `global_asm!`, `sym socket`) and the
/// nightly `concat_idents!(soc, ket)`, which builds the name from pieces.
const ASSEMBLY_MACROS: &[&str] = &[
    "asm",
    "global_asm",
    "naked_asm",
    "llvm_asm",
    "concat_idents",
];

/// Why code of this target may call one of its foreign declarations
/// without the scan seeing the call, if it may: part of the crate was not
/// analysed, a file was read only as tokens, inline assembly can call any
/// symbol, or a procedural macro (`proc_macro` names one the target's
/// dependencies can bring in, directly or re-exported) can generate a call
/// from nothing written.
/// `dependency_macros` gives the bodies of the dependencies' exported
/// `macro_rules!` of a name: their unqualified names resolve where they are
/// invoked.
pub fn unseen_uses<'a>(
    facts: &CrateFacts,
    proc_macro: Option<&str>,
    dependency_macros: &dyn Fn(&str) -> Vec<&'a str>,
) -> Option<String> {
    if facts.foreign_fns.is_empty() {
        return None;
    }
    if let Some(u) = facts.unanalyzed.first() {
        return Some(format!("part of the crate is not analysed ({})", u.file));
    }
    if let Some(file) = facts.token_fallback_files.first() {
        return Some(format!("{file} was read only as tokens"));
    }
    if let Some(name) = proc_macro {
        return Some(format!(
            "procedural macros of {name} can generate calls the source does not show"
        ));
    }
    let assembly = facts.refs().iter().find_map(|r| match &r.kind {
        RefKind::Macro(path) => path
            .segments
            .last()
            .filter(|last| ASSEMBLY_MACROS.contains(&last.as_str())),
        _ => None,
    });
    if let Some(name) = assembly {
        return Some(format!("{name}! can call the symbol without naming it"));
    }
    given_to_unexpanded_macro(facts, dependency_macros)
}

/// An invocation no expansion settled that is given a declaration's name
/// outside an `extern` block (read as code, `call!(fn socket)` or
/// `call!(struct socket {})` defines a name, while the macro may call it:
/// `(fn $f:ident) => { $f(2, 1, 0) }`), or of a dependency's macro whose
/// body names it (`() => { socket(2, 1, 0) }` calls the invoker's).
fn given_to_unexpanded_macro<'a>(
    facts: &CrateFacts,
    dependency_macros: &dyn Fn(&str) -> Vec<&'a str>,
) -> Option<String> {
    let names: HashSet<&str> = facts.foreign_fns.iter().map(|f| f.name.as_str()).collect();
    for invocation in facts.invocations.iter().filter(|i| !i.settled) {
        let macro_name = invocation.path.segments.last().map_or("", String::as_str);
        let mut texts = vec![&*invocation.args];
        texts.extend(dependency_macros(macro_name));
        for text in texts {
            // Text that does not read back as tokens may hold anything.
            let found = match decode(text) {
                Some(tokens) => name_outside_extern_blocks(tokens, &names),
                None => Some("a name".to_owned()),
            };
            if let Some(name) = found {
                return Some(format!(
                    "`{macro_name}!` at {}:{} is given or names `{name}` and is not expanded",
                    facts.file_name(invocation.pos.file),
                    invocation.pos.line
                ));
            }
        }
    }
    None
}

/// The first of `names` among `tokens`' identifiers, not counting the
/// contents of `extern` blocks (the declarations themselves).
fn name_outside_extern_blocks(tokens: TokenStream, names: &HashSet<&str>) -> Option<String> {
    let mut pending = vec![tokens];
    while let Some(stream) = pending.pop() {
        let trees: Vec<TokenTree> = stream.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => {
                    let block = group.delimiter() == Delimiter::Brace
                        && trees[..i]
                            .iter()
                            .rev()
                            .take(2)
                            .any(|t| matches!(t, TokenTree::Ident(id) if id == "extern"));
                    if !block {
                        pending.push(group.stream());
                    }
                }
                TokenTree::Ident(id) => {
                    let name = ident_name(id);
                    if names.contains(name.as_str()) {
                        return Some(name);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// Drops from `matched` what foreign declarations reach (reach reports it
/// where the declarations are used), or, when `unseen` says why uses may
/// be hidden, keeps it at the declaration with the reason in its evidence.
/// `ffi` findings (a declaration that loads libraries) always stay.
pub fn declared_only(matched: &mut Matched, unseen: Option<&str>) {
    let mut keep = Vec::with_capacity(matched.findings.len());
    for (finding, origin) in matched.findings.iter_mut().zip(&matched.origins) {
        // The capabilities reach carries (`ffi` does not flow).
        let declared = matches!(origin, Origin::Foreign(_))
            && matches!(
                finding.capability.family(),
                Capability::Fs | Capability::Net | Capability::Process | Capability::Env
            );
        if declared && let Some(why) = unseen {
            finding.evidence = format!(
                "{} (declared; kept here because uses may be unseen: {why})",
                finding.evidence
            );
        }
        keep.push(!declared || unseen.is_some());
    }
    let mut flags = keep.iter();
    matched.findings.retain(|_| *flags.next().unwrap_or(&true));
    let mut flags = keep.iter();
    matched.expanded.retain(|_| *flags.next().unwrap_or(&true));
    let mut flags = keep.iter();
    matched.origins.retain(|_| *flags.next().unwrap_or(&true));
}
