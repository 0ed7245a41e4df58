//! The syn visitor: a parsed syntax tree read item by item and expression
//! by expression into facts.
//!
//! Most code parses, and a syntax tree says what the token fallback can
//! only guess: which namespace a path is in, where a scope starts, which
//! impl or trait an item belongs to. So the visitor is the precise reader,
//! and hands on only what syn leaves unparsed (`Verbatim` syntax, macro
//! arguments).

use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, Item};

use super::itemattrs::{excluded, item_attrs, uncertain};
use super::plain::inert_on_module;
use super::{Collector, ident_name};
use crate::scan::facts::{
    AssocType, Def, MethodRef, NS_MACRO, NS_TYPE, NS_VALUE, Ns, Owner, RefKind, Root, Scope,
    TraitImpl, WrittenPath,
};

impl Collector<'_> {
    pub(super) fn statements(&mut self, stmts: &[syn::Stmt]) {
        // The `let`s of a block end with it. Its items (and what a macro
        // among its statements may define) are nearer than the bindings
        // made outside it, which then hide nothing there.
        let items = stmts.iter().any(|s| {
            matches!(
                s,
                syn::Stmt::Item(_) | syn::Stmt::Macro(_) | syn::Stmt::Expr(Expr::Macro(_), _)
            )
        });
        if items {
            self.without_locals(|c| c.block_statements(stmts));
        } else {
            self.local_scope(|c| c.block_statements(stmts));
        }
    }

    fn block_statements(&mut self, stmts: &[syn::Stmt]) {
        let needs_scope = stmts.iter().any(|s| matches!(s, syn::Stmt::Item(_)));
        if needs_scope {
            let scope = self.facts.add_scope(Scope::block(self.scope));
            self.in_scope(scope, |c| {
                for stmt in stmts {
                    c.visit_stmt(stmt);
                }
            });
        } else {
            for stmt in stmts {
                self.visit_stmt(stmt);
            }
        }
    }

    /// The `unsafe-fn` site of a function declared `unsafe`.
    fn unsafe_fn_site(&mut self, sig: &syn::Signature) {
        if let Some(unsafety) = &sig.unsafety {
            self.add_site(
                "unsafe-fn",
                format!("unsafe fn {}", sig.ident),
                unsafety.span,
            );
        }
    }
}

/// An impl's items and a trait's are read alike, but syn gives them
/// different types: this one definition makes the two visitor methods of
/// each (the item, and the item that is a `fn`). `Verbatim` items go to
/// the token fallback, the rest are read unless a `cfg` drops them, under
/// their test attributes; a `fn` is an item of its own, with a site if it
/// is `unsafe`, and its parameters' scope. A macro invocation among them
/// produces more of them.
macro_rules! associated_item {
    ($ast:lifetime, $visit:ident, $visit_fn:ident, $Item:ident, $ItemFn:ident, $default:expr) => {
        fn $visit(&mut self, item: &$ast syn::$Item) {
            let attrs = match item {
                syn::$Item::Const(i) => &i.attrs,
                syn::$Item::Fn(i) => &i.attrs,
                syn::$Item::Type(i) => &i.attrs,
                syn::$Item::Macro(i) => {
                    // What it produces are this impl's or trait's items.
                    if !excluded(&i.attrs, self.cfg) {
                        self.gated(&i.attrs, None, |c| {
                            for attr in &i.attrs {
                                c.visit_attribute(attr);
                            }
                            c.invocation(&i.mac, true)
                        });
                    }
                    return;
                }
                syn::$Item::Verbatim(tokens) => return self.verbatim(tokens),
                _ => return visit::$visit(self, item),
            };
            if !excluded(attrs, self.cfg) {
                self.gated(attrs, None, |c| visit::$visit(c, item));
            }
        }

        fn $visit_fn(&mut self, item: &$ast syn::$ItemFn) {
            self.unsafe_fn_site(&item.sig);
            // Its parameters are its own; it sees no other bindings.
            self.without_locals(|c| {
                c.with_generics(&item.sig.generics, |c| {
                    c.returns = c.return_type(&item.sig);
                    c.own_method = c.own_method(&item.sig, &item.attrs, $default(item));
                    c.in_item(ident_name(&item.sig.ident), |c| {
                        c.in_body(|c| {
                            c.bind_inputs(&item.sig.inputs);
                            visit::$visit_fn(c, item)
                        })
                    })
                })
            });
        }
    };
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        if let Item::Verbatim(tokens) = item {
            return self.verbatim_item(tokens);
        }
        if excluded(item_attrs(item), self.cfg) {
            return;
        }
        let name = match item {
            Item::Fn(f) => Some(ident_name(&f.sig.ident)),
            _ => None,
        };
        let uncertain = uncertain(item_attrs(item), self.cfg);
        // An item nested in a body sees none of the body's bindings.
        self.without_locals(|c| {
            c.uncertain_if(uncertain, |c| {
                c.gated(item_attrs(item), name, |c| visit::visit_item(c, item))
            })
        });
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        match expr {
            Expr::Verbatim(tokens) => self.verbatim(tokens),
            _ => visit::visit_expr(self, expr),
        }
    }

    fn visit_type(&mut self, ty: &'ast syn::Type) {
        match ty {
            syn::Type::Verbatim(tokens) => self.verbatim(tokens),
            _ => visit::visit_type(self, ty),
        }
    }

    fn visit_pat(&mut self, pat: &'ast syn::Pat) {
        match pat {
            syn::Pat::Verbatim(tokens) => self.verbatim(tokens),
            _ => visit::visit_pat(self, pat),
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        let content = item.content.as_ref().map(|(_, items)| items.as_slice());
        let outer = self.under_attribute;
        self.under_attribute |= content.is_some() && !item.attrs.iter().all(inert_on_module);
        self.declare_module(
            ident_name(&item.ident),
            &item.attrs,
            content,
            item.ident.span(),
        );
        self.under_attribute = outer;
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.public_use = matches!(item.vis, syn::Visibility::Public(_));
        self.visible_use = !matches!(item.vis, syn::Visibility::Inherited);
        self.add_use_tree(&item.tree, &mut Vec::new(), item.leading_colon.is_some());
        self.public_use = false;
        self.visible_use = false;
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        let name = ident_name(&item.ident);
        let alias = item
            .rename
            .as_ref()
            .map(|(_, r)| ident_name(r))
            .unwrap_or_else(|| name.clone());
        // Under a `cfg_attr` it may load the crate's macros too.
        if item
            .attrs
            .iter()
            .any(|a| a.meta.to_token_stream().to_string().contains("macro_use"))
        {
            self.facts.macro_use_crates.push(name.clone());
        }
        if alias != "_" {
            self.define(alias, Def::ExternCrate(name));
        }
    }

    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        let def = match ungrouped(&item.ty) {
            syn::Type::Path(tp) if tp.qself.is_none() => {
                Def::Alias(WrittenPath::from_syn(&tp.path).segments_with_colon())
            }
            _ => Def::Item(NS_TYPE),
        };
        self.define(ident_name(&item.ident), def);
        visit::visit_item_type(self, item);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.define(ident_name(&item.sig.ident), Def::Item(NS_VALUE));
        self.unsafe_fn_site(&item.sig);
        let outer = self.owner.take();
        let outer_trait = self.impl_trait.take();
        self.with_generics(&item.sig.generics, |c| {
            c.returns = c.return_type(&item.sig);
            c.in_item(ident_name(&item.sig.ident), |c| {
                c.in_body(|c| {
                    c.bind_inputs(&item.sig.inputs);
                    visit::visit_item_fn(c, item)
                })
            })
        });
        self.owner = outer;
        self.impl_trait = outer_trait;
    }

    associated_item!('ast, visit_impl_item, visit_impl_item_fn, ImplItem, ImplItemFn, |i: &syn::ImplItemFn| i.defaultness.is_some());
    associated_item!('ast, visit_trait_item, visit_trait_item_fn, TraitItem, TraitItemFn, |_: &syn::TraitItemFn| false);

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.define(ident_name(&item.ident), Def::Item(struct_ns(&item.fields)));
        self.plain_type(&item.ident, &item.generics, &item.attrs);
        self.record_fields(item);
        visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        self.define(ident_name(&item.ident), Def::Item(NS_TYPE));
        self.plain_type(&item.ident, &item.generics, &item.attrs);
        visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'ast syn::ItemUnion) {
        self.define(ident_name(&item.ident), Def::Item(NS_TYPE));
        self.plain_type(&item.ident, &item.generics, &item.attrs);
        visit::visit_item_union(self, item);
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        let name = ident_name(&item.ident);
        self.define(name.clone(), Def::Item(NS_VALUE));
        self.in_function(name, Owner::Module, |c| visit::visit_item_const(c, item));
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let name = ident_name(&item.ident);
        self.define(name.clone(), Def::Item(NS_VALUE));
        self.in_function(name, Owner::Module, |c| visit::visit_item_static(c, item));
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        self.define(ident_name(&item.ident), Def::Item(NS_TYPE));
        if let Some(unsafety) = &item.unsafety {
            self.add_site(
                "unsafe-trait",
                format!("unsafe trait {}", item.ident),
                unsafety.span,
            );
        }
        let outer = self.owner.replace(Owner::Trait(ident_name(&item.ident)));
        let outer_trait = self.impl_trait.take();
        self.with_generics(&item.generics, |c| visit::visit_item_trait(c, item));
        self.owner = outer;
        self.impl_trait = outer_trait;
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some(unsafety) = &item.unsafety {
            let what = match &item.trait_ {
                Some((_, path, _)) => path
                    .segments
                    .last()
                    .map(|s| format!("unsafe impl {}", s.ident))
                    .unwrap_or_else(|| "unsafe impl".into()),
                None => "unsafe impl".into(),
            };
            self.add_site("unsafe-impl", what, unsafety.span);
        }
        if let Some((_, trait_path, _)) = &item.trait_ {
            let methods = item
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::ImplItem::Fn(f) => Some(ident_name(&f.sig.ident)),
                    _ => None,
                })
                .collect();
            let plain = self.plain_impl(item);
            self.facts.trait_impls.push(TraitImpl {
                trait_path: WrittenPath::from_syn(trait_path),
                scope: self.scope,
                methods,
                plain,
            });
        }
        let self_type = match ungrouped(&item.self_ty) {
            syn::Type::Path(tp) if tp.qself.is_none() => {
                Some(Owner::Impl(WrittenPath::from_syn(&tp.path)))
            }
            _ => None,
        };
        // Methods of an impl for a type without a path (`impl X for &T`)
        // are read as free functions of the module.
        let outer = std::mem::replace(&mut self.owner, self_type);
        let impl_trait = item
            .trait_
            .as_ref()
            .map(|(_, path, _)| WrittenPath::from_syn(path));
        let outer_trait = std::mem::replace(&mut self.impl_trait, impl_trait);
        let inherent = self.inherent_impl_id(item);
        let outer_inherent = std::mem::replace(&mut self.inherent_impl, inherent);
        self.with_generics(&item.generics, |c| visit::visit_item_impl(c, item));
        self.owner = outer;
        self.impl_trait = outer_trait;
        self.inherent_impl = outer_inherent;
    }

    fn visit_impl_item_type(&mut self, item: &'ast syn::ImplItemType) {
        if let syn::Type::Path(tp) = ungrouped(&item.ty)
            && tp.qself.is_none()
        {
            let self_type = match &self.owner {
                Some(Owner::Impl(ty)) => Some(ty.clone()),
                _ => None,
            };
            self.facts.assoc_types.push(AssocType {
                name: ident_name(&item.ident),
                target: WrittenPath::from_syn(&tp.path),
                scope: self.scope,
                self_type,
                trait_path: self.impl_trait.clone(),
            });
            self.facts.uncounted_items += 1;
        }
        visit::visit_impl_item_type(self, item);
    }

    fn visit_assoc_type(&mut self, binding: &'ast syn::AssocType) {
        // `T: Store<F = std::fs::File>` says what `T::F` is.
        if let syn::Type::Path(tp) = ungrouped(&binding.ty)
            && tp.qself.is_none()
        {
            self.facts.assoc_types.push(AssocType {
                name: ident_name(&binding.ident),
                target: WrittenPath::from_syn(&tp.path),
                scope: self.scope,
                self_type: None,
                trait_path: None,
            });
            self.facts.uncounted_items += 1;
        }
        visit::visit_assoc_type(self, binding);
    }

    fn visit_item_foreign_mod(&mut self, item: &'ast syn::ItemForeignMod) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        self.foreign_mod(item);
        // Foreign items' types name paths too, but declaring is the finding.
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        if item.mac.path.is_ident("macro_rules") {
            let name = item.ident.as_ref().map(ident_name).unwrap_or_default();
            self.define(name.clone(), Def::Item(NS_MACRO));
            // Under a `cfg_attr` it may be exported too.
            let exported = item.attrs.iter().any(|a| {
                a.path().is_ident("macro_export")
                    || (a.path().is_ident("cfg_attr")
                        && a.meta
                            .to_token_stream()
                            .to_string()
                            .contains("macro_export"))
            });
            let pos = self.pos(item.mac.bang_token.span);
            let attrs: Vec<String> = item
                .attrs
                .iter()
                .map(|a| a.meta.to_token_stream().to_string())
                .collect();
            let mut new = false;
            for body in crate::scan::expand::rules_variants(&attrs, &item.mac.tokens) {
                new |= self.facts.define_macro(
                    name.clone(),
                    crate::scan::expand::encode_rules(&body, self.pos_override.is_none()),
                    exported,
                    self.scope,
                    pos,
                );
            }
            if new {
                self.in_function(name.clone(), Owner::Macro { exported }, |c| {
                    c.macro_body(name, item.mac.tokens.clone())
                });
            }
            return;
        }
        self.visit_macro(&item.mac);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.invocation(mac, false);
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        // Modules declared in a block do not get a non-mod.rs file's stem.
        let inner = self.mod_dir.block();
        let outer = std::mem::replace(&mut self.mod_dir, inner);
        let mark = self.bindings.mark();
        self.statements(&block.stmts);
        self.bindings.truncate(mark);
        self.mod_dir = outer;
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        visit::visit_local(self, local);
        let root = local.init.as_ref().and_then(|i| self.value_root(&i.expr));
        self.bind_pattern(&local.pat, root);
    }

    fn visit_expr_let(&mut self, expr: &'ast syn::ExprLet) {
        visit::visit_expr_let(self, expr);
        let root = self.value_root(&expr.expr);
        self.bind_pattern(&expr.pat, root);
    }

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        for attr in &expr.attrs {
            self.visit_attribute(attr);
        }
        self.visit_expr(&expr.expr);
        let root = self.value_root(&expr.expr);
        for arm in &expr.arms {
            self.arm(arm, root.clone());
        }
    }

    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        if let syn::Stmt::Local(local) = stmt
            && excluded(&local.attrs, self.cfg)
        {
            return;
        }
        visit::visit_stmt(self, stmt);
        // In scope from the next statement to the end of the block.
        if let syn::Stmt::Local(local) = stmt {
            let irrefutable = local.init.as_ref().is_none_or(|i| i.diverge.is_none());
            self.bind(&local.pat, irrefutable);
        }
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        visit::visit_signature(self, sig);
        self.bind_parameters(sig);
    }

    fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
        self.closure(closure);
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.arm(arm, None);
    }

    fn visit_expr_if(&mut self, expr: &'ast syn::ExprIf) {
        self.if_expr(expr);
    }

    fn visit_expr_while(&mut self, expr: &'ast syn::ExprWhile) {
        self.while_expr(expr);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast syn::ExprForLoop) {
        self.for_loop(expr);
    }

    fn visit_expr_unsafe(&mut self, expr: &'ast syn::ExprUnsafe) {
        self.add_site("unsafe-block", "unsafe block", expr.unsafe_token.span);
        visit::visit_expr_unsafe(self, expr);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let mut roots = std::mem::take(&mut self.chain_roots);
        let (mut root, direct, recorded) = roots.root(call, |start| self.start_root(start));
        self.chain_roots = roots;
        // A chain starting at a local binding starts at no item.
        if let Some(Root::Path(r)) = &root
            && let [name] = &r.segments[..]
            && !r.leading_colon
            && self.local_hides(name)
        {
            root = None;
        }
        let exact = self.exact_receiver(&call.receiver);
        let self_call = self.self_call(&call.receiver);
        self.add_ref(
            RefKind::Method(Box::new(MethodRef {
                name: ident_name(&call.method),
                root,
                direct,
                exact,
                self_call,
            })),
            call.method.span(),
        );
        visit::visit_expr_method_call(self, call);
        self.chain_roots.forget(recorded);
    }

    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        self.qualified_path(NS_VALUE, &expr.path, expr.qself.as_ref());
    }

    fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
        self.qualified_path(NS_TYPE, &ty.path, ty.qself.as_ref());
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        // Paths in patterns, struct expressions and trait bounds.
        self.record_path(path, None);
        visit_generic_args(self, path);
    }

    fn visit_attribute(&mut self, attr: &'ast Attribute) {
        self.attribute_meta(&attr.meta, attr.pound_token.span);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.record_literal(&lit.token());
    }

    fn visit_lit_byte_str(&mut self, lit: &'ast syn::LitByteStr) {
        self.record_literal(&lit.token());
    }

    fn visit_lit_cstr(&mut self, lit: &'ast syn::LitCStr) {
        self.record_literal(&lit.token());
    }
}

/// A struct's namespaces: a braced one is only a type, a tuple or unit
/// struct is also a value (its constructor).
fn struct_ns(fields: &syn::Fields) -> Ns {
    match fields {
        syn::Fields::Named(_) => NS_TYPE,
        syn::Fields::Unnamed(_) | syn::Fields::Unit => NS_TYPE | NS_VALUE,
    }
}

pub(super) fn visit_generic_args(c: &mut Collector<'_>, path: &syn::Path) {
    for segment in &path.segments {
        c.visit_path_arguments(&segment.arguments);
    }
}

impl WrittenPath {
    /// Segments of an alias target, with a leading `::` kept as an empty
    /// first segment so the resolver can tell `::std` from `std`.
    fn segments_with_colon(self) -> Vec<String> {
        let mut segments = self.segments.to_vec();
        if self.leading_colon {
            segments.insert(0, String::new());
        }
        segments
    }
}

/// `ty` without the groups a macro's `$t:ty` puts around it (`<$t>::new`
/// is `<std::process::Command>::new`).
pub(super) fn ungrouped(mut ty: &syn::Type) -> &syn::Type {
    while let syn::Type::Group(group) = ty {
        ty = &group.elem;
    }
    ty
}
