//! A crate's references (every path, macro path and method call its code
//! names, with scope and place), each recorded once. A macro's expansion is placed
//! at its invocation, so its references repeat whenever the expansion names
//! the same thing twice: rustix's bitflags expansions make 724,524
//! references of which 227,773 differ. A repeat (the same name, scope,
//! function and place) adds no finding and no edge, only memory and time;
//! keeping one cut rustix's peak memory by a third, with every report
//! byte-identical.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{BuildHasher, BuildHasherDefault};

use super::{CrateFacts, Exact, Ns, Pos, Root, ScopeId, SelfCall, Shared, WrittenPath};

/// What a reference names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// A path in an expression, type, pattern or macro argument.
    Path(WrittenPath),
    /// The path of a macro invocation.
    Macro(WrittenPath),
    /// `.name(...)`, boxed: method calls are a minority of references,
    /// and inline their fields would make every reference three times the
    /// size of a path's.
    Method(Box<MethodRef>),
}

/// A method call: `.name(...)`; `root` is where the receiver chain starts,
/// when syntax tells (`Path::new(p).exists()` has root `Path::new`,
/// `f.sync_all()` after `f: &File` the type `File`); `direct` when the call
/// is the chain's first, made on the root itself. `exact` when the call is
/// made right on a binding whose type is known exactly.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MethodRef {
    pub name: String,
    pub root: Option<Root>,
    pub direct: bool,
    pub exact: Option<Exact>,
    /// Made on the caller's own `self`, in a method of an inherent impl.
    pub self_call: Option<SelfCall>,
}

/// One name the crate's code uses, with where and in which scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ref {
    pub kind: RefKind,
    pub scope: ScopeId,
    /// The namespaces a one-segment path is looked up in (a longer path's
    /// prefix is always in the type namespace).
    pub ns: Ns,
    /// The function the reference is in (0 when outside any function), for
    /// method rules that ask what types the function names.
    pub function: u32,
    pub pos: Pos,
}

/// The hasher for finding repeated references: fixed keys, since the
/// index never leaves the process and its order is never observed.
const REF_HASHER: BuildHasherDefault<DefaultHasher> = BuildHasherDefault::new();

/// The end of a chain of references with one hash.
const NO_REF: u32 = u32::MAX;

impl CrateFacts {
    /// The crate's references, each once.
    pub fn refs(&self) -> &[Ref] {
        &self.refs
    }

    /// Records a reference, unless the very same one (name, scope, function
    /// and place) is recorded already.
    pub fn add_ref(&mut self, mut reference: Ref) {
        if let RefKind::Path(path) | RefKind::Macro(path) = &mut reference.kind {
            path.segments = self.ref_paths.share(path.segments.clone());
        }
        let hash = REF_HASHER.hash_one(&reference);
        let index = u32::try_from(self.refs.len()).unwrap_or(NO_REF);
        let previous = *self.ref_index.get(&hash).unwrap_or(&NO_REF);
        let mut at = previous;
        while at != NO_REF {
            if self.refs[at as usize] == reference {
                return;
            }
            at = self.ref_chain[at as usize];
        }
        if index != NO_REF {
            self.ref_index.insert(hash, index);
            self.ref_chain.push(previous);
        } else {
            // Past four billion references repeats are no longer found:
            // kept twice, which changes no finding.
            self.ref_chain.push(NO_REF);
        }
        self.refs.push(reference);
    }

    /// Keeps the references `keep` accepts (the index of repeats is
    /// dropped: it would point at moved entries, and the crate is read).
    pub fn retain_refs(&mut self, keep: impl FnMut(&Ref) -> bool) {
        self.ref_index = HashMap::new();
        self.refs.retain(keep);
        self.ref_chain = vec![NO_REF; self.refs.len()];
    }

    /// Gives back what collecting needed and reading does not: the index
    /// of repeats, and the spare capacity of the largest lists (up to half
    /// of each, from doubling), before name resolution, matching and reach
    /// allocate theirs beside them.
    pub fn compact(&mut self) {
        self.ref_index = HashMap::new();
        self.ref_paths = Shared::default();
        self.ref_chain = vec![NO_REF; self.refs.len()];
        self.refs.shrink_to_fit();
        self.items.shrink_to_fit();
        self.sites.shrink_to_fit();
        self.foreign_fns.shrink_to_fit();
        self.prints.shrink_to_fit();
        self.invocations.shrink_to_fit();
        self.macro_calls.shrink_to_fit();
        self.fields.shrink_to_fit();
        self.scopes.shrink_to_fit();
    }

    /// Adds references without looking for repeats.
    pub fn extend_refs(&mut self, refs: impl IntoIterator<Item = Ref>) {
        self.ref_index = HashMap::new();
        self.refs.extend(refs);
        self.ref_chain = vec![NO_REF; self.refs.len()];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::facts::{Pos, RefKind, WrittenPath};

    fn reference(name: &str, line: u32) -> Ref {
        Ref {
            kind: RefKind::Path(WrittenPath::new(
                ["std".to_owned(), "fs".into(), name.into()],
                false,
            )),
            scope: 0,
            ns: 0,
            function: 1,
            pos: Pos {
                file: 0,
                line,
                column: 1,
                expanded: true,
                gate: 0,
                emitted: 0,
            },
        }
    }

    /// Macro-heavy crates hold hundreds of thousands of references at
    /// once (rustix 227,000): their size is most of a scan's memory.
    #[test]
    fn a_reference_stays_small() {
        assert!(
            std::mem::size_of::<Ref>() <= 72,
            "{}",
            std::mem::size_of::<Ref>()
        );
        assert!(
            std::mem::size_of::<Pos>() <= 24,
            "{}",
            std::mem::size_of::<Pos>()
        );
    }

    #[test]
    fn a_repeated_reference_is_kept_once_and_a_different_one_is_not_lost() {
        let mut facts = CrateFacts::default();
        facts.add_ref(reference("read", 3));
        facts.add_ref(reference("read", 3));
        facts.add_ref(reference("read", 4));
        facts.add_ref(reference("write", 3));
        assert_eq!(facts.refs().len(), 3);
        // After a retain the old positions are gone, not compared against.
        facts.retain_refs(|r| r.pos.line == 4);
        facts.add_ref(reference("read", 3));
        facts.add_ref(reference("read", 4));
        let lines: Vec<u32> = facts.refs().iter().map(|r| r.pos.line).collect();
        assert_eq!(lines, [4, 3, 4]);
    }
}
