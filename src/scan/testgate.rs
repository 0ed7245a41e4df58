//! Drops the items under the built-in `#[test]`/`#[bench]`, once the
//! crate is read.
//!
//! `#[test]` is the standard prelude's attribute unless something else in
//! scope is named `test` in the macro namespace: an import
//! (`use my_macros::test;`), a `#[macro_use] extern crate` (whose macros
//! shadow the prelude), a local macro. Then it is that macro, which may
//! keep the item in normal builds, so the item is the crate's code. The
//! decision needs every import of the module, wherever in it (or in an
//! `include!`d file, or a macro expansion) it is written, hence after
//! collection, with a resolver over the facts.

use std::collections::HashMap;

use super::facts::{CrateFacts, NS_MACRO, WrittenPath};
use super::names::{ExternPrelude, Resolver};
use crate::model::Edition;

/// Removes the facts of items whose `#[test]`/`#[bench]` is the built-in.
pub fn drop_builtin_test_items(facts: &mut CrateFacts, prelude: &ExternPrelude, edition: Edition) {
    if facts.test_gates.is_empty() {
        return;
    }
    let builtin: Vec<bool> = {
        let resolver = Resolver::new(facts, prelude, edition);
        let decided: Vec<bool> = facts
            .test_gates
            .iter()
            .map(|gate| {
                // `#[macro_use] extern crate` puts every macro of that
                // crate before the prelude, wherever in the crate.
                facts.macro_use_crates.is_empty() && {
                    let path = WrittenPath::new(vec![gate.attr.clone()], false);
                    resolver
                        .resolve_ns(gate.scope, &path, NS_MACRO)
                        .iter()
                        .all(|p| p.starts_with("std::") || p.starts_with("core::"))
                }
            })
            .collect();
        if resolver.exhausted().is_some() {
            // Lookups past the work limit found nothing: never a reason
            // to drop code.
            return;
        }
        decided
    };
    // A gate inside a dropped one is dropped with it.
    let mut dropped = vec![false; facts.test_gates.len() + 1];
    for (i, gate) in facts.test_gates.iter().enumerate() {
        dropped[i + 1] = builtin[i] || dropped[gate.parent as usize];
    }
    let gone = |gate: u32| dropped[gate as usize];
    facts.retain_refs(|r| !gone(r.pos.gate));
    facts.sites.retain(|s| !gone(s.pos.gate));
    facts.foreign_fns.retain(|f| !gone(f.pos.gate));
    facts.prints.retain(|p| !gone(p.pos.gate));
    facts.macro_calls.retain(|c| !gone(c.pos.gate));
    facts.invocations.retain(|i| !gone(i.pos.gate));
    for call in &mut facts.macro_calls_with_names {
        call.idents.retain(|(_, pos)| !gone(pos.gate));
    }
    // The dropped items' names no longer hide anything.
    let mut removals: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    for (i, gate) in facts.test_gates.iter().enumerate() {
        if let (true, Some((name, index))) = (builtin[i], &gate.def) {
            removals
                .entry((gate.scope, name.clone()))
                .or_default()
                .push(*index);
        }
    }
    for ((scope, name), mut indices) in removals {
        let Some(defs) = facts.scopes[scope].defs.get_mut(&name) else {
            continue;
        };
        indices.sort_unstable_by(|a, b| b.cmp(a));
        for index in indices {
            if index < defs.len() {
                defs.remove(index);
            }
        }
        if defs.is_empty() {
            facts.scopes[scope].defs.remove(&name);
        }
    }
}
