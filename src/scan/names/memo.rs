//! The resolver's memo, for lookups that depend on each other in cycles.
//!
//! What a module binds a name to can depend on itself: a child's
//! `use super::*` and its parent's `pub use child::*` send every lookup
//! through one of them through the other. Keeping the answer a lookup got
//! while such a cycle was still being worked out (an empty placeholder, to
//! end the recursion) made a scope's answer depend on which scope of the
//! cycle was asked first. Here a lookup that read an unfinished one
//! through a glob is only provisional, and the outermost lookup of the
//! cycle computes the cycle again, each lookup starting from its last
//! answer, until a round changes no answer that was read; only then are
//! they kept. Through globs, lookups are monotone (every glob counts), so
//! that is the least fixpoint, the same whatever was asked first. A cycle
//! costs its size times its rounds (usually two), once per crate.
//!
//! Only cycles through a glob take part: a named import or a path that
//! leads back to a lookup still being computed, with no glob between,
//! finds nothing there. An import cannot resolve through itself (`use
//! quote::quote;` starts at the crate `quote`), and in rustc a cycle of
//! named imports is broken code (here it can also be a private `use` that
//! a glob brings, which rustc's globs do not; ARCHITECTURE's known limits).
//! Taking part, each round would append to such a path again, without end.
//! A named import that leads back through a glob (the root's `pub use
//! m::*` and `m`'s `pub use crate::Command`, the root's `Command` from
//! another glob) is the same cycle as one of globs, which rustc resolves:
//! there, finding nothing made `m::Command` nothing when the root was
//! asked first.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::Hash;

/// Rounds a cycle may take to settle. Monotone lookups settle in a few
/// (each round adds an answer); a cycle that has not by then is given up
/// on, and reported like the resolution-work limit.
const MAX_ROUNDS: usize = 64;

enum Entry<K, V> {
    /// Being computed at `depth` of the lookup stack. A lookup that needs
    /// it through a glob meanwhile reads `approx` (its answer in the
    /// cycle's last round, else empty) and sets `read`.
    Computing { depth: usize, approx: V, read: bool },
    /// Computed from `waits_on`'s unfinished answer: kept once that one's
    /// cycle has settled.
    Provisional { value: V, waits_on: K },
    /// Its answer in the last round of a cycle that needs another: computed
    /// again when asked, starting from it.
    Stale(V),
}

pub(super) enum Known<V> {
    Answer(V),
    /// Still being computed, and not read through a glob.
    Cycle,
    /// To be computed.
    Unknown,
}

pub(super) struct Memo<K, V> {
    /// Final answers, apart from the few being worked out: a large crate
    /// keeps hundreds of thousands.
    done: RefCell<HashMap<K, V>>,
    entries: RefCell<HashMap<K, Entry<K, V>>>,
    /// The lookups being computed, outermost first, and whether each was
    /// asked through a glob.
    stack: RefCell<Vec<(K, bool)>>,
    /// The shallowest depth of the stack the lookup being computed has read
    /// an unfinished answer from (`usize::MAX`: none).
    low: Cell<usize>,
    /// Provisional entries, in the order they were made: those after a
    /// lookup's mark were made under it.
    provisional: RefCell<Vec<K>>,
    /// A provisional answer differs from the one read for it while it was
    /// computed: the cycle it is in needs another round.
    changed: Cell<bool>,
    unsettled: Cell<bool>,
}

impl<K: Clone + Eq + Hash, V: Clone + PartialEq> Memo<K, V> {
    pub(super) fn new() -> Self {
        Memo {
            done: RefCell::new(HashMap::new()),
            entries: RefCell::new(HashMap::new()),
            stack: RefCell::new(Vec::new()),
            low: Cell::new(usize::MAX),
            provisional: RefCell::new(Vec::new()),
            changed: Cell::new(false),
            unsettled: Cell::new(false),
        }
    }

    /// Whether some cycle was given up on after [`MAX_ROUNDS`].
    pub(super) fn unsettled(&self) -> bool {
        self.unsettled.get()
    }

    /// The answer kept or being worked out for `key`. Reading an unfinished
    /// one makes the lookup in progress depend on it; one still being
    /// computed is read only `through_glob`.
    pub(super) fn known(&self, key: &K, through_glob: bool) -> Known<V> {
        if let Some(value) = self.done.borrow().get(key) {
            return Known::Answer(value.clone());
        }
        let mut entries = self.entries.borrow_mut();
        let Some(entry) = entries.get_mut(key) else {
            return Known::Unknown;
        };
        let (value, depth) = match entry {
            Entry::Stale(_) => return Known::Unknown,
            Entry::Computing { depth, .. } if !through_glob && !self.glob_above(*depth) => {
                return Known::Cycle;
            }
            Entry::Computing {
                depth,
                approx,
                read,
            } => {
                *read = true;
                (approx.clone(), *depth)
            }
            Entry::Provisional { value, waits_on } => {
                let waits_on = waits_on.clone();
                (value.clone(), depth_of(&entries, waits_on))
            }
        };
        self.low.set(self.low.get().min(depth));
        Known::Answer(value)
    }

    /// Whether a lookup above `depth` on the stack was asked through a
    /// glob: a cycle back to `depth` then goes through one.
    fn glob_above(&self, depth: usize) -> bool {
        self.stack
            .borrow()
            .get(depth + 1..)
            .is_some_and(|above| above.iter().any(|(_, glob)| *glob))
    }

    /// Computes `key` (not known, asked `through_glob` or not) with
    /// `compute`, which may look other keys up, this one included; `empty`
    /// is what those read first.
    pub(super) fn compute(
        &self,
        key: K,
        empty: V,
        through_glob: bool,
        compute: impl Fn() -> V,
    ) -> V {
        let depth = {
            let mut stack = self.stack.borrow_mut();
            stack.push((key.clone(), through_glob));
            stack.len() - 1
        };
        let outer_low = self.low.replace(usize::MAX);
        let outer_changed = self.changed.replace(false);
        let mark = self.provisional.borrow().len();
        let mut approx = match self.entries.borrow_mut().remove(&key) {
            Some(Entry::Stale(last)) => last,
            _ => empty,
        };
        let mut stale = Vec::new();
        let mut rounds = 0;
        let (value, changed) = loop {
            self.entries.borrow_mut().insert(
                key.clone(),
                Entry::Computing {
                    depth,
                    approx: approx.clone(),
                    read: false,
                },
            );
            let value = compute();
            let read = matches!(
                self.entries.borrow().get(&key),
                Some(Entry::Computing { read: true, .. })
            );
            // An answer read differs from the one now computed.
            let changed = self.changed.get() || read && value != approx;
            if self.low.get() != depth || !changed {
                break (value, changed);
            }
            // The outermost lookup of a cycle that changed: another round,
            // each lookup of the cycle computed again from its last answer.
            rounds += 1;
            if rounds == MAX_ROUNDS {
                self.unsettled.set(true);
                break (value, false);
            }
            let made: Vec<K> = self.provisional.borrow_mut().drain(mark..).collect();
            let mut entries = self.entries.borrow_mut();
            for k in made {
                if let Some(Entry::Provisional { value, .. }) = entries.remove(&k) {
                    entries.insert(k.clone(), Entry::Stale(value));
                    stale.push(k);
                }
            }
            approx = value;
            self.low.set(usize::MAX);
            self.changed.set(false);
        };
        let low = self.low.get();
        let waits_on = {
            let mut stack = self.stack.borrow_mut();
            stack.pop();
            stack.get(low).map(|(k, _)| k.clone())
        };
        let mut entries = self.entries.borrow_mut();
        match waits_on {
            Some(waits_on) if low < depth => {
                // Part of a cycle through a lookup further out: that one
                // decides when this answer is final.
                entries.insert(
                    key.clone(),
                    Entry::Provisional {
                        value: value.clone(),
                        waits_on,
                    },
                );
                self.provisional.borrow_mut().push(key);
                self.low.set(outer_low.min(low));
                self.changed.set(outer_changed || changed);
            }
            _ => {
                // Nothing further out was read: this answer, and those
                // computed under it, are final; those its cycle no longer
                // reached are dropped.
                let mut done = self.done.borrow_mut();
                for k in self.provisional.borrow_mut().drain(mark..) {
                    if let Some(Entry::Provisional { value, .. }) = entries.remove(&k) {
                        done.insert(k, value);
                    }
                }
                for k in stale {
                    if let Some(Entry::Stale(_)) = entries.get(&k) {
                        entries.remove(&k);
                    }
                }
                entries.remove(&key);
                done.insert(key, value.clone());
                self.low.set(outer_low);
                self.changed.set(outer_changed);
            }
        }
        value
    }
}

/// The stack depth of the unfinished lookup a provisional answer waits on,
/// through the provisional answers it may itself be waiting on (each on one
/// further out, so the chain ends).
fn depth_of<K: Clone + Eq + Hash, V>(entries: &HashMap<K, Entry<K, V>>, mut key: K) -> usize {
    loop {
        match entries.get(&key) {
            Some(Entry::Computing { depth, .. }) => return *depth,
            Some(Entry::Provisional { waits_on, .. }) => key = waits_on.clone(),
            // Not reached: what waits on a lookup is settled, or made stale,
            // with it. The outermost depth is the safe answer.
            _ => return 0,
        }
    }
}
