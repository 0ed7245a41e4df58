//! Foreign declarations are `ffi`, not what they name: `extern "C" { fn
//! socket(..); }` alone, as libc writes thousands of them, opens no socket.
//!
//! What the declared symbol does is the declaration's own reach: reach
//! gives it to every item of the crate that names the declaration (a call,
//! a function pointer, a cast, a `use` alias then called) and, through the
//! crate's exports, to the dependents that do. The declaration itself is a
//! finding only where the crate's uses of it cannot all be seen
//! ([`unseen_uses`]): then it stays at the declaration, with the reason.

use super::facts::{CrateFacts, RefKind};
use super::matcher::{Matched, Origin};
use crate::model::Capability;

/// Macros that call a symbol by name without Rust naming the declaration
/// (`asm!("call socket")`, `global_asm!`, `sym socket` in any of them).
const ASSEMBLY_MACROS: &[&str] = &["asm", "global_asm", "naked_asm", "llvm_asm"];

/// Why code of this target may call one of its foreign declarations
/// without the scan seeing the call, if it may: part of the crate was not
/// analysed, a file was read only as tokens, inline assembly can call any
/// symbol, or a procedural macro (`proc_macro` names one the target's
/// dependencies can bring in, directly or re-exported) can generate a call
/// from nothing written.
pub fn unseen_uses(facts: &CrateFacts, proc_macro: Option<&str>) -> Option<String> {
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
    assembly.map(|name| format!("{name}! can call the symbol by name"))
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
