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

use super::facts::WrittenPath;

/// Roots of the inner calls of chains being visited, by the address of the
/// call's syntax node (unique while the tree that holds it is alive).
#[derive(Default)]
pub struct ChainRoots {
    pending: HashMap<usize, Option<WrittenPath>>,
}

/// Inner calls whose roots a [`ChainRoots::root`] call recorded, to be
/// forgotten once the outer call's subtree has been visited: a node the
/// visitor skips (a `cfg`'d-out argument) must not leave an address that a
/// later tree could reuse.
#[must_use]
pub struct Recorded(Vec<usize>);

impl ChainRoots {
    /// The root of `call`'s receiver chain.
    pub fn root(&mut self, call: &ExprMethodCall) -> (Option<WrittenPath>, Recorded) {
        if let Some(root) = self.pending.remove(&address(call)) {
            return (root, Recorded(Vec::new()));
        }
        let mut inner = Vec::new();
        let mut expr: &Expr = &call.receiver;
        let root = loop {
            expr = match expr {
                Expr::MethodCall(m) => {
                    inner.push(address(m));
                    &m.receiver
                }
                Expr::Try(t) => &t.expr,
                Expr::Await(a) => &a.base,
                Expr::Reference(r) => &r.expr,
                Expr::Paren(p) => &p.expr,
                // An `$e:expr` a macro put there.
                Expr::Group(g) => &g.expr,
                Expr::Call(call) => &call.func,
                Expr::Path(p) if p.qself.is_none() => break Some(WrittenPath::from_syn(&p.path)),
                _ => break None,
            }
        };
        for &key in &inner {
            self.pending.insert(key, root.clone());
        }
        (root, Recorded(inner))
    }

    /// Forgets what `root` recorded and the visitor did not use.
    pub fn forget(&mut self, recorded: Recorded) {
        for key in recorded.0 {
            self.pending.remove(&key);
        }
    }
}

fn address(call: &ExprMethodCall) -> usize {
    std::ptr::from_ref(call) as usize
}
