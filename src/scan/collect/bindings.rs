//! What the local names of a function body stand for, as far as syntax
//! tells: a parameter or `let` written with a type (`cmd: &mut Command`),
//! a `let` initialised from a path's call or a field (`let f =
//! File::open(p)?`, `let f = &mut self.file`), an `if let Some(f)` or a
//! `match` arm taking one apart. A method call on such a name is matched
//! against the type (`Root`), which a receiver-bound method rule needs; a
//! name bound any other way hides the outer one and says nothing.
//!
//! Not type inference: no generic is solved and no method's return type
//! is read (except a crate's own function called by path, in matching), so
//! what this cannot tell is matched as before, by name.

use std::collections::HashMap;

use syn::visit::Visit;
use syn::{Expr, Pat, Type};

use super::{Collector, ident_name};
use crate::scan::chain;
use crate::scan::facts::{Exact, FieldDef, Owner, Root, WrittenPath};

/// Types whose methods (through `Deref`, or the value inside) act on the
/// value they wrap, or that a pattern takes apart (`Some(f)`): a receiver
/// typed `Option<BufWriter<File>>` is a `File`'s.
const WRAPPERS: &[&str] = &[
    "Arc",
    "BufReader",
    "BufWriter",
    "Box",
    "Cell",
    "Cow",
    "LineWriter",
    "ManuallyDrop",
    "Mutex",
    "MutexGuard",
    "Option",
    "Pin",
    "Rc",
    "RefCell",
    "RefMut",
    "Result",
    "RwLock",
];

/// One binding of a name: what it stands for, and its exact type.
type Binding = (Option<Root>, Option<Exact>);

/// The names in scope, innermost last; `log` records each name bound, so a
/// block's bindings are dropped when it ends.
#[derive(Default)]
pub struct Bindings {
    /// Each name's bindings: its root, and its exact type when the binding
    /// was written with one (`collect/plain.rs`).
    names: HashMap<String, Vec<Binding>>,
    log: Vec<String>,
}

impl Bindings {
    fn bind(&mut self, name: String, root: Option<Root>) {
        self.bind_exact(name, root, None);
    }

    fn bind_exact(&mut self, name: String, root: Option<Root>, exact: Option<Exact>) {
        self.names
            .entry(name.clone())
            .or_default()
            .push((root, exact));
        self.log.push(name);
    }

    /// What `name` stands for: `None` when it is not a local binding.
    fn get(&self, name: &str) -> Option<&Option<Root>> {
        self.names
            .get(name)
            .and_then(|roots| roots.last())
            .map(|(root, _)| root)
    }

    /// The exact type of the binding `name` stands for, if known.
    pub fn exact(&self, name: &str) -> Option<&Exact> {
        self.names
            .get(name)
            .and_then(|roots| roots.last())
            .and_then(|(_, exact)| exact.as_ref())
    }

    pub fn mark(&self) -> usize {
        self.log.len()
    }

    /// Drops the bindings made since `mark`.
    pub fn truncate(&mut self, mark: usize) {
        while self.log.len() > mark {
            let Some(name) = self.log.pop() else { break };
            if let Some(roots) = self.names.get_mut(&name) {
                roots.pop();
                if roots.is_empty() {
                    self.names.remove(&name);
                }
            }
        }
    }
}

/// The path a type is written as, wrappers ([`WRAPPERS`]) and references
/// taken off; `None` for anything else (`impl Write`, a tuple, a slice).
pub fn handle_type(mut ty: &Type) -> Option<WrittenPath> {
    loop {
        ty = match ty {
            Type::Reference(r) => &r.elem,
            Type::Paren(p) => &p.elem,
            Type::Group(g) => &g.elem,
            Type::Path(tp) if tp.qself.is_none() => {
                let last = tp.path.segments.last()?;
                let first_type = match &last.arguments {
                    syn::PathArguments::AngleBracketed(args) => {
                        args.args.iter().find_map(|a| match a {
                            syn::GenericArgument::Type(inner) => Some(inner),
                            _ => None,
                        })
                    }
                    _ => None,
                };
                if WRAPPERS.contains(&ident_name(&last.ident).as_str())
                    && let Some(inner) = first_type
                {
                    inner
                } else {
                    return Some(WrittenPath::from_syn(&tp.path));
                }
            }
            _ => return None,
        }
    }
}

impl Collector<'_> {
    /// A function's return type, as [`handle_type`] reads it.
    pub(super) fn return_type(&self, sig: &syn::Signature) -> Option<WrittenPath> {
        match &sig.output {
            syn::ReturnType::Type(_, ty) => self.known_type(ty).map(|t| self.without_self_type(t)),
            syn::ReturnType::Default => None,
        }
    }

    /// `Self::x` inside `impl … for some::Type` is `some::Type::x`.
    pub(super) fn without_self_type(&self, written: WrittenPath) -> WrittenPath {
        match (&self.owner, written.segments.first()) {
            (Some(Owner::Impl(self_type)), Some(first)) if first == "Self" => {
                let mut segments = self_type.segments.to_vec();
                segments.extend(written.segments.iter().skip(1).cloned());
                WrittenPath::new(segments, self_type.leading_colon)
            }
            _ => written,
        }
    }

    /// The written type of `self` where the code is in `impl Type`.
    fn self_type(&self) -> Option<WrittenPath> {
        match &self.owner {
            Some(Owner::Impl(ty)) => Some(ty.clone()),
            _ => None,
        }
    }

    /// `Self` in a written type stands for the impl's type; a type
    /// parameter for nothing known.
    fn typed(&self, ty: &Type) -> Option<Root> {
        let written = self.known_type(ty)?;
        if *written.segments == ["Self"] {
            return self.self_type().map(Root::Type);
        }
        Some(Root::Type(written))
    }

    /// [`handle_type`], unless it names a type parameter in scope.
    pub(super) fn known_type(&self, ty: &Type) -> Option<WrittenPath> {
        let written = handle_type(ty)?;
        match &written.segments[..] {
            [name] if !written.leading_colon && self.generics.contains(name) => None,
            _ => Some(written),
        }
    }

    /// Runs `f` with the type parameters of `generics` in scope.
    pub(super) fn with_generics<T>(
        &mut self,
        generics: &syn::Generics,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let mark = self.generics.len();
        self.generics
            .extend(generics.type_params().map(|p| ident_name(&p.ident)));
        let out = f(self);
        self.generics.truncate(mark);
        out
    }

    /// What the expression a receiver chain starts at stands for.
    pub(super) fn start_root(&self, expr: &Expr) -> Option<Root> {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                let written = WrittenPath::from_syn(&p.path);
                if let [name] = &written.segments[..]
                    && !written.leading_colon
                {
                    if name == "self" {
                        return self.self_type().map(Root::Type);
                    }
                    if let Some(root) = self.bindings.get(name) {
                        return root.clone();
                    }
                }
                Some(Root::Path(written))
            }
            Expr::Field(field) => {
                let name = match &field.member {
                    syn::Member::Named(ident) => ident_name(ident),
                    syn::Member::Unnamed(index) => index.index.to_string(),
                };
                // The owner's type when the value is `self` or a typed
                // binding (not itself a field: no recursion down `a.b.c`).
                let owner = match strip(&field.base) {
                    base @ Expr::Path(_) => match self.start_root(base) {
                        Some(Root::Type(ty)) => Some(ty),
                        _ => None,
                    },
                    _ => None,
                };
                Some(Root::Field { owner, name })
            }
            _ => None,
        }
    }

    /// What a value expression stands for (see [`chain::value_root`]).
    pub(super) fn value_root(&self, expr: &Expr) -> Option<Root> {
        chain::value_root(expr, |start| self.start_root(start))
    }

    /// Binds the names `pat` introduces, the value matched standing for
    /// `root`: `x`, `x: T`, `&x`, `Some(x)`, `Ok(x)` keep it, every other
    /// name a pattern binds hides what it shadows.
    pub(super) fn bind_pattern(&mut self, pat: &Pat, root: Option<Root>) {
        match pat {
            Pat::Ident(p) if p.subpat.is_none() => {
                self.bindings.bind(ident_name(&p.ident), root);
            }
            Pat::Type(p) => self.bind_typed(p),
            Pat::Reference(p) => self.bind_pattern(&p.pat, root),
            Pat::Paren(p) => self.bind_pattern(&p.pat, root),
            Pat::TupleStruct(p)
                if p.elems.len() == 1
                    && p.path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "Some" || s.ident == "Ok") =>
            {
                self.bind_pattern(&p.elems[0], root);
            }
            _ => {
                let mut names = PatternNames(Vec::new());
                names.visit_pat(pat);
                for name in names.0 {
                    self.bindings.bind(name, None);
                }
            }
        }
    }

    /// Runs `f` in a function body of its own: the enclosing function's
    /// locals are not in scope in a nested `fn`.
    pub(super) fn in_body<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let outer = std::mem::take(&mut self.bindings);
        let out = f(self);
        self.bindings = outer;
        out
    }

    /// Binds a function's parameters (`self` needs none: it is the impl's
    /// type wherever it is named).
    pub(super) fn bind_inputs<'a>(&mut self, inputs: impl IntoIterator<Item = &'a syn::FnArg>) {
        for input in inputs {
            if let syn::FnArg::Typed(p) = input {
                self.bind_typed(p);
            }
        }
    }

    /// Binds `pat: ty` (a parameter, a `let` with a type): a plain name
    /// also with the type's exact form, when it has one.
    fn bind_typed(&mut self, p: &syn::PatType) {
        let typed = self.typed(&p.ty);
        match (&*p.pat, self.exact_binding(&p.pat, &p.ty)) {
            (Pat::Ident(ident), exact @ Some(_)) => {
                self.bindings
                    .bind_exact(ident_name(&ident.ident), typed, exact);
            }
            _ => self.bind_pattern(&p.pat, typed),
        }
    }

    /// A struct's fields whose types are paths (not its type parameters).
    pub(super) fn record_fields(&mut self, item: &syn::ItemStruct) {
        let (owner, fields) = (&item.ident, &item.fields);
        for (index, field) in fields.iter().enumerate() {
            let Some(ty) = self.with_generics(&item.generics, |c| c.known_type(&field.ty)) else {
                continue;
            };
            let name = match &field.ident {
                Some(ident) => ident_name(ident),
                None => index.to_string(),
            };
            self.facts.fields.push(FieldDef {
                owner: ident_name(owner),
                name,
                ty,
                scope: self.scope,
            });
        }
    }
}

/// The receiver of a field access, references and parentheses taken off.
fn strip(mut expr: &Expr) -> &Expr {
    loop {
        expr = match expr {
            Expr::Paren(p) => &p.expr,
            Expr::Reference(r) => &r.expr,
            Expr::Group(g) => &g.expr,
            _ => return expr,
        }
    }
}

/// Every name a pattern binds.
struct PatternNames(Vec<String>);

impl<'ast> Visit<'ast> for PatternNames {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.0.push(ident_name(&p.ident));
        syn::visit::visit_pat_ident(self, p);
    }

    // Paths, literals and macros in patterns bind nothing.
    fn visit_expr(&mut self, _: &'ast Expr) {}
    fn visit_macro(&mut self, _: &'ast syn::Macro) {}
}
