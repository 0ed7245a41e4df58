//! What is plainly written, for telling which method rustc calls: a binding
//! whose type is known exactly, an impl whose methods are certainly its
//! type's, a type defined once without generics. Reach takes a call on such
//! a binding to be the crate's own override of a dependency trait's
//! provided method only when all of them hold (`reach/analysis/overrides.rs`);
//! anything a macro, a `cfg`, a generic or an attribute could change is
//! left out here, and the call matched as before.

use syn::{Attribute, Type};

use super::{Collector, ident_name};
use crate::scan::facts::{Exact, Held, PlainImpl, ScopeKind, SelfCall, WrittenPath};

/// Attributes that change nothing about which items exist or what they
/// are: docs, lints, hints.
const INERT: &[&str] = &[
    "allow",
    "cold",
    "deny",
    "doc",
    "expect",
    "forbid",
    "inline",
    "must_use",
    "track_caller",
    "warn",
];

/// std's derives: they add impls of std traits only, whose method names
/// are never taken for an override (`rules/std-trait-methods.txt`).
const STD_DERIVES: &[&str] = &[
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Eq",
    "Hash",
    "Ord",
    "PartialEq",
    "PartialOrd",
];

fn inert(attr: &Attribute) -> bool {
    attr.path()
        .get_ident()
        .is_some_and(|i| INERT.contains(&ident_name(i).as_str()))
}

/// Inert on a module: what rustc itself reads there (a procedural macro's
/// attribute on an inline module may rewrite all of it).
pub(super) fn inert_on_module(attr: &Attribute) -> bool {
    inert(attr)
        || attr
            .path()
            .get_ident()
            .is_some_and(|i| matches!(ident_name(i).as_str(), "cfg" | "path" | "macro_use"))
}

/// Inert, `repr`, or a derive of std's traits by their bare names.
fn inert_on_type(attr: &Attribute) -> bool {
    if inert(attr) || attr.path().is_ident("repr") {
        return true;
    }
    if !attr.path().is_ident("derive") {
        return false;
    }
    let Ok(paths) = attr.parse_args_with(
        syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
    ) else {
        return false;
    };
    paths.iter().all(|p| {
        p.get_ident()
            .is_some_and(|i| STD_DERIVES.contains(&ident_name(i).as_str()))
    })
}

/// A path without generic arguments or a qualified self.
fn bare_path(ty: &Type) -> Option<WrittenPath> {
    match ty {
        Type::Paren(p) => bare_path(&p.elem),
        Type::Group(g) => bare_path(&g.elem),
        Type::Path(tp)
            if tp.qself.is_none()
                && tp
                    .path
                    .segments
                    .iter()
                    .all(|s| matches!(s.arguments, syn::PathArguments::None)) =>
        {
            Some(WrittenPath::from_syn(&tp.path))
        }
        _ => None,
    }
}

/// How a method takes a plain `self`, `&self` or `&mut self`; `None` for
/// `self: Type`.
fn plain_self(receiver: &syn::Receiver) -> Option<Held> {
    if receiver.colon_token.is_some() {
        return None;
    }
    Some(match (&receiver.reference, &receiver.mutability) {
        (None, _) => Held::Value,
        (Some(_), Some(_)) => Held::RefMut,
        (Some(_), None) => Held::Ref,
    })
}

impl Collector<'_> {
    /// The tokens being read are a macro's: its arguments, body or
    /// expansion, or a file read as tokens only.
    fn reading_macro_tokens(&self) -> bool {
        self.pos_override.is_some()
            || self.enclosing_macro.is_some()
            || self.deferring.is_some()
            || self.in_macro_body
            || self.tokens_only
    }

    /// The code being read is read as written and certainly built: not in a
    /// macro's arguments, body or expansion, not emitted, not under a `cfg`
    /// not known before a build, not in a test item, directly in a module.
    fn plainly_written(&self) -> bool {
        !self.uncertain
            && self.pos_override.is_none()
            && self.enclosing_macro.is_none()
            && self.deferring.is_none()
            && !self.in_macro_body
            && !self.tokens_only
            && !self.assoc_expansion
            && self.emitting == 0
            && self.current_gate() == 0
            && !self.facts.scopes[self.scope].alternatives
            && matches!(self.facts.scopes[self.scope].kind, ScopeKind::Module { .. })
    }

    /// The call on a binding: the binding's exact type, if it has one and
    /// the call is read as written.
    pub(super) fn exact_receiver(&self, receiver: &syn::Expr) -> Option<Exact> {
        let syn::Expr::Path(p) = receiver else {
            return None;
        };
        let name = p.path.get_ident()?;
        let in_macro = self.reading_macro_tokens();
        let name = ident_name(name);
        // A block's items are nearer than the bindings made outside it: a
        // `const m` there is what `m` names (`local_hides` says no then).
        if p.qself.is_some() || in_macro || name == "self" || !self.local_hides(&name) {
            return None;
        }
        self.bindings.exact(&name).cloned()
    }

    /// The exact type of a binding `pat: ty` makes, when `pat` is a plain
    /// name (`m`, `mut m`; not `ref m`, not a sub-pattern) and `ty` is `T`,
    /// `&T` or `&mut T` for a path `T` without generic arguments that is
    /// neither `Self` nor a type parameter; none in macros.
    pub(super) fn exact_binding(&self, pat: &syn::Pat, ty: &Type) -> Option<Exact> {
        let syn::Pat::Ident(p) = pat else {
            return None;
        };
        if p.by_ref.is_some()
            || p.subpat.is_some()
            || !p.attrs.is_empty()
            || self.pos_override.is_some()
            || self.enclosing_macro.is_some()
            || self.deferring.is_some()
            || self.in_macro_body
            || self.tokens_only
        {
            return None;
        }
        let (held, inner) = match ty {
            Type::Reference(r) if r.mutability.is_some() => (Held::RefMut, &*r.elem),
            Type::Reference(r) => (Held::Ref, &*r.elem),
            other => (Held::Value, other),
        };
        let ty = bare_path(inner)?;
        match &ty.segments[..] {
            [name] if !ty.leading_colon && (name == "Self" || self.generics.contains(name)) => None,
            _ => Some(Exact { held, ty }),
        }
    }

    /// `item` as a [`PlainImpl`], if it is one.
    /// A number for an inherent impl read as written whose methods are
    /// certainly its type's: no attribute that could rewrite it.
    pub(super) fn inherent_impl_id(&mut self, item: &syn::ItemImpl) -> Option<u32> {
        let plain = item.trait_.is_none()
            && self.plainly_written()
            && !self.under_attribute
            && item.attrs.iter().all(inert)
            && item.defaultness.is_none();
        plain.then(|| {
            self.inherent_impls += 1;
            self.inherent_impls
        })
    }

    /// The method about to be read, if it is one of the inherent impl
    /// being read, read as written, taking a plain `self`, `&self` or
    /// `&mut self`, with no attribute that could rename or remove it.
    pub(super) fn own_method(
        &self,
        sig: &syn::Signature,
        attrs: &[Attribute],
        default: bool,
    ) -> Option<SelfCall> {
        let impl_id = self.inherent_impl?;
        let receiver = sig.receiver()?;
        if default || !attrs.iter().all(inert) || !self.plainly_written() {
            return None;
        }
        Some(SelfCall {
            impl_id,
            held: plain_self(receiver)?,
        })
    }

    /// A call on `self` in such a method's body, read as written.
    pub(super) fn self_call(&self, receiver: &syn::Expr) -> Option<SelfCall> {
        let syn::Expr::Path(p) = receiver else {
            return None;
        };
        let in_macro = self.reading_macro_tokens();
        (p.qself.is_none() && p.path.is_ident("self") && !in_macro)
            .then_some(self.self_receiver)
            .flatten()
    }

    pub(super) fn plain_impl(&self, item: &syn::ItemImpl) -> Option<PlainImpl> {
        let plain = self.plainly_written()
            && item.attrs.iter().all(inert)
            && item.generics.params.is_empty()
            && item.generics.where_clause.is_none()
            && item.defaultness.is_none()
            && item
                .trait_
                .as_ref()
                .is_some_and(|(bang, _, _)| bang.is_none());
        if !plain {
            return None;
        }
        let self_type = bare_path(&item.self_ty)?;
        let mut receivers = Vec::new();
        for impl_item in &item.items {
            match impl_item {
                syn::ImplItem::Fn(f) => {
                    let Some(receiver) = f.sig.receiver() else {
                        continue;
                    };
                    let held = plain_self(receiver);
                    let Some(held) =
                        held.filter(|_| f.attrs.iter().all(inert) && f.defaultness.is_none())
                    else {
                        continue;
                    };
                    receivers.push((ident_name(&f.sig.ident), held));
                }
                syn::ImplItem::Const(_) | syn::ImplItem::Type(_) => {}
                // A macro may add or drop methods; syntax syn does not model
                // may be anything.
                _ => return None,
            }
        }
        Some(PlainImpl {
            self_type,
            receivers,
        })
    }

    /// Records a struct, enum or union as a plain type when it is one.
    pub(super) fn plain_type(
        &mut self,
        ident: &syn::Ident,
        generics: &syn::Generics,
        attrs: &[Attribute],
    ) {
        if self.plainly_written()
            && generics.params.is_empty()
            && generics.where_clause.is_none()
            && attrs.iter().all(inert_on_type)
        {
            self.facts.plain_types.push((ident_name(ident), self.scope));
            self.facts.uncounted_items += 1;
        }
    }
}
