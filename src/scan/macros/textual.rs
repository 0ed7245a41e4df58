//! Textual scope: whether a `macro_rules!` definition stands before an
//! invocation in the text rustc reads, through enclosing modules, their
//! `#[macro_use]` declarations and `include!`d files (`scope.rs` asks).

use std::cmp::Ordering;

use crate::scan::facts::{CrateFacts, Invocation, MacroDef, Pos, ScopeId, ScopeKind};

/// Whether `inv` is in `def`'s textual scope, or may be.
pub(super) fn in_textual_scope(facts: &CrateFacts, def: &MacroDef, inv: &Invocation) -> bool {
    reaches(facts, def, inv.scope, Some(inv.pos))
}

/// Whether `def`'s textual scope may reach `scope` at `pos` (anywhere in
/// it, for `None`).
pub(super) fn reaches(
    facts: &CrateFacts,
    def: &MacroDef,
    scope: ScopeId,
    pos: Option<Pos>,
) -> bool {
    let Some(mut at) = def.pos else {
        return true;
    };
    let mut within = def.scope;
    loop {
        let ScopeKind::Module { parent, .. } = facts.scopes[within].kind else {
            // A block's modules are not its children in the scope tree.
            return true;
        };
        if after(facts, scope, pos, within, at) != Some(false) {
            return true;
        }
        let Some(parent) = parent else {
            return false;
        };
        // Past the module's end, only `#[macro_use]` on its declaration
        // keeps the definition in scope, from the declaration on.
        let declared = facts.scopes[within].declared;
        match declared.at {
            _ if declared.pending => return true,
            None => return true,
            Some(_) if !declared.macro_use => return false,
            Some(place) => {
                at = place;
                within = parent;
            }
        }
    }
}

/// Whether `pos` in `scope` is inside `within` at or after `at` (`None`:
/// cannot tell).
fn after(
    facts: &CrateFacts,
    mut scope: ScopeId,
    mut pos: Option<Pos>,
    within: ScopeId,
    at: Pos,
) -> Option<bool> {
    loop {
        if scope == within {
            return Some(textual_order(facts, pos?, at)? != Ordering::Less);
        }
        match facts.scopes[scope].kind {
            ScopeKind::Block { parent } => scope = parent,
            ScopeKind::Module { parent: None, .. } => return Some(false),
            ScopeKind::Module {
                parent: Some(parent),
                ..
            } => {
                let declared = facts.scopes[scope].declared;
                if declared.pending {
                    return None;
                }
                pos = Some(declared.at?);
                scope = parent;
            }
        }
    }
}

/// The order of two places in one module's text, `None` when it cannot be
/// told (different files, or one of them the `include!` of the other's).
/// An `include!`d file's items stand where the `include!` does, so a place
/// in it is compared through that site.
fn textual_order(facts: &CrateFacts, a: Pos, b: Pos) -> Option<Ordering> {
    if a.file == b.file {
        return Some((a.line, a.column).cmp(&(b.line, b.column)));
    }
    // Outermost first: the module's own file, then each included one.
    let chain = |mut pos: Pos| {
        let mut chain = vec![pos];
        while let Some(&site) = facts.included_at.get(&pos.file) {
            if chain.len() > facts.included_at.len() {
                return None;
            }
            chain.push(site);
            pos = site;
        }
        chain.reverse();
        Some(chain)
    };
    let (a, b) = (chain(a)?, chain(b)?);
    for (a, b) in a.iter().zip(&b) {
        if a.file != b.file {
            return None;
        }
        match (a.line, a.column).cmp(&(b.line, b.column)) {
            Ordering::Equal => {}
            other => return Some(other),
        }
    }
    // The same place at every level only if both are one place.
    (a.len() == b.len()).then_some(Ordering::Equal)
}
