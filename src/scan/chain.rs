//! The root of a method-call chain, found once per chain.
//!
//! Each call of `a.b().c().d()` is matched against rules with the path its
//! receiver chain starts at (`a`). Walking the chain afresh at every call
//! costs the square of its length: a crafted file of one 25,000-call chain
//! took ten seconds, and longer ones hang the scan. The walk from the
//! outermost call meets every inner call, so it records their (shared) root
//! for when the visitor reaches them.

use std::collections::HashMap;

use syn::{Expr, ExprMethodCall};

use super::facts::Root;

/// Methods that hand on the value they are called on (a reference to it,
/// a guard of it, a copy, the value out of an `Option`), or, for
/// `Command`, the builder itself: a call after them is still made on the
/// chain's root (`self.file.as_mut().unwrap().sync_all()`,
/// `cmd.arg("x").status()`).
const HANDS_ON: &[&str] = &[
    "arg",
    "arg0",
    "args",
    "as_deref",
    "as_deref_mut",
    "as_mut",
    "as_ref",
    "borrow",
    "borrow_mut",
    "by_ref",
    "clone",
    "current_dir",
    "deref",
    "deref_mut",
    "env",
    "env_clear",
    "env_remove",
    "envs",
    "expect",
    "get_mut",
    "get_ref",
    "gid",
    "groups",
    "lock",
    "process_group",
    "stderr",
    "stdin",
    "stdout",
    "take",
    "try_clone",
    "uid",
    "unwrap",
];

/// Roots of the inner calls of chains being visited, by the address of the
/// call's syntax node (unique while the tree that holds it is alive), with
/// whether the call is made on the root itself.
#[derive(Default)]
pub struct ChainRoots {
    pending: HashMap<usize, (Option<Root>, bool)>,
}

/// Inner calls whose roots a [`ChainRoots::root`] call recorded, to be
/// forgotten once the outer call's subtree has been visited: a node the
/// visitor skips (a `cfg`'d-out argument) must not leave an address that a
/// later tree could reuse.
#[must_use]
pub struct Recorded(Vec<usize>);

impl ChainRoots {
    /// The root of `call`'s receiver chain, `start` telling what the
    /// expression the chain starts at is, and whether every call between
    /// the root and `call` hands the root's value on ([`HANDS_ON`]).
    pub fn root(
        &mut self,
        call: &ExprMethodCall,
        start: impl FnOnce(&Expr) -> Option<Root>,
    ) -> (Option<Root>, bool, Recorded) {
        if let Some((root, direct)) = self.pending.remove(&address(call)) {
            return (root, direct, Recorded(Vec::new()));
        }
        let (root, inner) = walk(&call.receiver, start);
        // From the innermost call out: each is direct when every call
        // below it hands the value on.
        let mut direct = true;
        for (key, name) in inner.iter().rev() {
            self.pending.insert(*key, (root.clone(), direct));
            direct &= HANDS_ON.contains(&name.as_str());
        }
        (
            root,
            direct,
            Recorded(inner.into_iter().map(|(key, _)| key).collect()),
        )
    }

    /// Forgets what `root` recorded and the visitor did not use.
    pub fn forget(&mut self, recorded: Recorded) {
        for key in recorded.0 {
            self.pending.remove(&key);
        }
    }
}

/// Where the value `expr` evaluates to comes from, when every method call
/// on the way hands its receiver on (`File::open(p)?`, `&mut self.file`,
/// `self.f.as_mut().unwrap()`): what a `let` binds, what `if let` and
/// `match` take apart.
pub fn value_root(expr: &Expr, start: impl FnOnce(&Expr) -> Option<Root>) -> Option<Root> {
    let (root, inner) = walk(expr, start);
    let hands_on = inner
        .iter()
        .all(|(_, name)| HANDS_ON.contains(&name.as_str()));
    root.filter(|_| hands_on)
}

/// Walks a receiver chain down to where it starts: the root `start` makes
/// of that expression, and the method calls met (address and name),
/// outermost first.
fn walk(
    mut expr: &Expr,
    start: impl FnOnce(&Expr) -> Option<Root>,
) -> (Option<Root>, Vec<(usize, String)>) {
    let mut inner = Vec::new();
    loop {
        expr = match expr {
            Expr::MethodCall(m) => {
                inner.push((address(m), m.method.to_string()));
                &m.receiver
            }
            Expr::Try(t) => &t.expr,
            Expr::Await(a) => &a.base,
            Expr::Reference(r) => &r.expr,
            Expr::Paren(p) => &p.expr,
            // An `$e:expr` a macro put there.
            Expr::Group(g) => &g.expr,
            Expr::Call(call) => &call.func,
            _ => return (start(expr), inner),
        }
    }
}

fn address(call: &ExprMethodCall) -> usize {
    std::ptr::from_ref(call) as usize
}
