//! `self.m(..)` in a method of an inherent impl, where that impl itself
//! writes `m` taking `self` as the caller holds it: rustc's method probe
//! takes the receiver's type as it is first, and at that step a type's
//! inherent methods come before any trait's. Two inherent `m` of one type
//! that could both apply are an error, so the impl's own `m` is the one
//! called, generic impl or not, and no dependency's `m` runs there (h2's
//! `Connection::accept` calling its own `poll_accept`, where the impl's
//! bounds name tokio's traits).
//!
//! The collector marks only what is read as written (`collect/plain.rs`:
//! no macro, attribute or `cfg` not known before a build in the way, a
//! plain `self`, `&self` or `&mut self`). Held differently (`&mut self`
//! calling a `&self` method) the call matches later in the probe, where a
//! trait's method taking the receiver as it is could come first: it is
//! matched as before.

use std::collections::HashMap;

use crate::scan::facts::{CrateFacts, Held, MethodRef, Ref, RefKind};

/// The methods of the crate's inherent impls that calls on `self` resolve
/// to.
pub(super) struct SelfCalls {
    /// By impl, then method name: each method of that name there, with how
    /// it takes `self`.
    by_method: HashMap<u32, HashMap<String, Vec<(usize, Held)>>>,
}

impl SelfCalls {
    pub(super) fn new(facts: &CrateFacts) -> SelfCalls {
        let mut by_method: HashMap<u32, HashMap<String, Vec<(usize, Held)>>> = HashMap::new();
        // A file read as tokens shows no impls. A procedural macro may
        // rewrite what it is given, but the collector marks no impl or
        // method under an attribute that may be one's; one that only adds
        // items (a derive, a function-like macro) cannot add another
        // inherent `m`, which would be an error.
        if facts.token_fallback_files.is_empty() {
            for (node, item) in facts.items.iter().enumerate() {
                if let Some(own) = item.own_method() {
                    by_method
                        .entry(own.impl_id)
                        .or_default()
                        .entry(item.name.clone())
                        .or_default()
                        .push((node, own.held));
                }
            }
        }
        SelfCalls { by_method }
    }

    /// The method of the caller's own impl that `r` certainly calls.
    pub(super) fn target(&self, r: &Ref) -> Option<usize> {
        let RefKind::Method(method) = &r.kind else {
            return None;
        };
        let MethodRef {
            name,
            self_call: Some(call),
            ..
        } = &**method
        else {
            return None;
        };
        if r.pos.expanded || r.pos.emitted != 0 {
            return None;
        }
        match self.by_method.get(&call.impl_id)?.get(name)?.as_slice() {
            [(node, held)] if *held == call.held => Some(*node),
            _ => None,
        }
    }
}
