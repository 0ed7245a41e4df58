//! Local bindings: a parameter, a `let`, a closure parameter or a pattern
//! binding hides a function of the same name, in the value namespace,
//! wherever the binding is in scope (`fn raw(socket: &Sock) { socket.0 }`
//! does not call `fn socket`).
//!
//! A hidden path is not recorded, so a mistake here hides a capability:
//! a name is hidden only where the binding certainly is in scope, as rustc
//! scopes it. A parameter's for the whole body, a `let`'s from the next
//! statement to the end of its block, a closure's or `for` loop's for its
//! body, a match arm's for its guard and body, an `if let`'s for the rest
//! of the condition and the `then` block. An item nested in a body sees
//! none of the body's bindings, and a block's own items (`fn`, `use`, or
//! what a macro statement may define) are nearer than the bindings made
//! outside the block, which hide nothing inside it. A binding written in
//! a macro's arguments or made by an expansion never hides anything (the
//! macro decides where its tokens go, and hygiene keeps an expansion's
//! names from the caller's), nor is an outer binding taken to hide a name
//! inside a macro's arguments. In a refutable pattern (`match`, `if let`,
//! `let .. else`) a plain identifier may be a constant's pattern rather
//! than a binding, so there only `ref x`, `mut x` and `x @ ..` count.

use syn::visit::Visit;
use syn::{Expr, Pat};

use super::{Collector, ident_name};
use crate::scan::facts::Root;

impl Collector<'_> {
    /// Whether a one-segment value path `name` names a local binding.
    pub(super) fn local_hides(&self, name: &str) -> bool {
        self.locals[self.locals_floor..].iter().any(|l| l == name)
    }

    /// Whether bindings read now are certainly where they are written:
    /// not in a macro's arguments, body or expansion.
    fn may_bind(&self) -> bool {
        !self.in_macro_body
            && !self.tokens_only
            && self.pos_override.is_none()
            && self.enclosing_macro.is_none()
    }

    /// Records the names `pat` binds. `irrefutable`: a `let` without
    /// `else`, a parameter or a `for` loop's pattern, where an identifier
    /// is a binding whatever else has its name (rustc rejects a pattern
    /// there that could fail, and a constant of a callable type could).
    pub(super) fn bind(&mut self, pat: &Pat, irrefutable: bool) {
        if !self.may_bind() {
            return;
        }
        let mut names = Vec::new();
        bindings(pat, irrefutable, &mut names);
        self.locals.extend(names);
    }

    /// Runs `f` in a scope of its own: the bindings it makes end with it.
    pub(super) fn local_scope<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let mark = self.locals.len();
        // The receiver types bindings hold (`collect/bindings.rs`) end
        // with the scope too.
        let typed = self.bindings.mark();
        let out = f(self);
        self.locals.truncate(mark);
        self.bindings.truncate(typed);
        out
    }

    /// Runs `f` where the bindings around are not visible: an item nested
    /// in a body, a macro's arguments.
    pub(super) fn without_locals<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let floor = std::mem::replace(&mut self.locals_floor, self.locals.len());
        let out = self.local_scope(f);
        self.locals_floor = floor;
        out
    }

    /// A function's parameters: in scope for its whole body.
    pub(super) fn bind_parameters(&mut self, sig: &syn::Signature) {
        for input in &sig.inputs {
            if let syn::FnArg::Typed(typed) = input {
                self.bind(&typed.pat, true);
            }
        }
    }

    pub(super) fn closure(&mut self, closure: &syn::ExprClosure) {
        for attr in &closure.attrs {
            self.visit_attribute(attr);
        }
        self.local_scope(|c| {
            for input in &closure.inputs {
                c.visit_pat(input);
                c.bind(input, true);
                c.bind_pattern(input, None);
            }
            c.visit_return_type(&closure.output);
            c.visit_expr(&closure.body);
        });
    }

    /// A match arm; `root` is what the matched value's receiver chain
    /// starts at, for the types its bindings hold.
    pub(super) fn arm(&mut self, arm: &syn::Arm, root: Option<Root>) {
        for attr in &arm.attrs {
            self.visit_attribute(attr);
        }
        self.local_scope(|c| {
            c.visit_pat(&arm.pat);
            c.bind(&arm.pat, false);
            c.bind_pattern(&arm.pat, root);
            if let Some((_, guard)) = &arm.guard {
                c.visit_expr(guard);
            }
            c.visit_expr(&arm.body);
        });
    }

    pub(super) fn if_expr(&mut self, expr: &syn::ExprIf) {
        for attr in &expr.attrs {
            self.visit_attribute(attr);
        }
        self.local_scope(|c| {
            c.condition(&expr.cond);
            c.visit_block(&expr.then_branch);
        });
        if let Some((_, otherwise)) = &expr.else_branch {
            self.visit_expr(otherwise);
        }
    }

    pub(super) fn while_expr(&mut self, expr: &syn::ExprWhile) {
        for attr in &expr.attrs {
            self.visit_attribute(attr);
        }
        self.local_scope(|c| {
            c.condition(&expr.cond);
            c.visit_block(&expr.body);
        });
    }

    pub(super) fn for_loop(&mut self, expr: &syn::ExprForLoop) {
        for attr in &expr.attrs {
            self.visit_attribute(attr);
        }
        self.visit_expr(&expr.expr);
        self.local_scope(|c| {
            c.visit_pat(&expr.pat);
            c.bind(&expr.pat, true);
            c.bind_pattern(&expr.pat, None);
            c.visit_block(&expr.body);
        });
    }

    /// An `if` or `while` condition: the bindings of each `let` in it are
    /// in scope for the rest of the `&&` chain and for the block after.
    pub(super) fn condition(&mut self, cond: &Expr) {
        match cond {
            Expr::Let(l) => {
                self.visit_expr(&l.expr);
                self.visit_pat(&l.pat);
                self.bind(&l.pat, false);
                let root = self.value_root(&l.expr);
                self.bind_pattern(&l.pat, root);
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.condition(&b.left);
                self.condition(&b.right);
            }
            Expr::Paren(p) => self.visit_expr(&p.expr),
            other => self.visit_expr(other),
        }
    }
}

/// The names `pat` certainly binds (see [`Collector::bind`]).
fn bindings(pat: &Pat, irrefutable: bool, out: &mut Vec<String>) {
    match pat {
        Pat::Ident(p) => {
            if irrefutable || p.by_ref.is_some() || p.mutability.is_some() || p.subpat.is_some() {
                out.push(ident_name(&p.ident));
            }
            if let Some((_, sub)) = &p.subpat {
                bindings(sub, irrefutable, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| bindings(p, irrefutable, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| bindings(p, irrefutable, out)),
        // `S { x }` is `S { x: x }`, whose `x` may be a constant too.
        Pat::Struct(s) => s
            .fields
            .iter()
            .for_each(|f| bindings(&f.pat, irrefutable, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|p| bindings(p, irrefutable, out)),
        Pat::Reference(r) => bindings(&r.pat, irrefutable, out),
        Pat::Paren(p) => bindings(&p.pat, irrefutable, out),
        Pat::Type(t) => bindings(&t.pat, irrefutable, out),
        // Every alternative binds the same names; the first says which.
        Pat::Or(o) => {
            if let Some(first) = o.cases.first() {
                bindings(first, irrefutable, out);
            }
        }
        // A macro's pattern, or syntax syn does not model: not known.
        _ => {}
    }
}
