//! Writing facts: the definitions, imports, references and sites a
//! collector records, each with its scope, its item and its place.
//!
//! Both readers (the syn visitor, `visit.rs`, and the token fallback,
//! `tokens.rs`) record through here, so that a fact means the same
//! whichever of them read the code, and one rule says where a fact stands
//! (an expansion's at its invocation, a `#[test]` item's with its gate)
//! and which item it counts for.

use proc_macro2::Span;
use quote::ToTokens;
use syn::visit::Visit;
use syn::{Attribute, Item, UseTree};

use super::itemattrs::path_attributes;
use super::visit::{ungrouped, visit_generic_args};
use super::{ChildModule, Collector, ident_name};
use crate::scan::facts::{
    Def, Import, ItemDef, ModuleDecl, NS_ANY, NS_MACRO, NS_VALUE, Ns, Owner, Pos, Ref, RefKind,
    Scope, ScopeId, Site, Unanalyzed, WrittenPath,
};

impl Collector<'_> {
    /// `mod name { .. }` read in place, or `mod name;` queued as a child
    /// module whose file is found later.
    pub(super) fn declare_module(
        &mut self,
        name: String,
        attrs: &[Attribute],
        content: Option<&[Item]>,
        span: Span,
    ) {
        let scope = self.module_scope(&name);
        // Where it is declared bounds the textual scope of the
        // `macro_rules!` inside (`macros/scope.rs`); `#[macro_use]` under
        // any `cfg_attr` may hold.
        let macro_use = attrs
            .iter()
            .any(|a| a.to_token_stream().to_string().contains("macro_use"));
        let at = self.pos(span);
        let declared = &mut self.facts.scopes[scope].declared;
        *declared = declared.note(at, macro_use);
        self.facts.scope_edits += 1;
        let path_attrs = path_attributes(attrs, self.cfg);
        match content {
            Some(items) => {
                // rustc takes the first `#[path]`, after `cfg_attr`s.
                let inner = self
                    .mod_dir
                    .inline(&name, path_attrs.first().map(|p| p.path.as_str()));
                let outer = std::mem::replace(&mut self.mod_dir, inner);
                self.in_scope(scope, |c| {
                    for item in items {
                        c.visit_item(item);
                    }
                });
                self.mod_dir = outer;
            }
            None => {
                let pos = self.pos(span);
                self.children.push(ChildModule {
                    scope,
                    name,
                    path_attrs,
                    dir: self.mod_dir.clone(),
                    pos,
                    deferred_by: self.deferring,
                });
            }
        }
    }

    pub(super) fn pos(&self, span: Span) -> Pos {
        let gate = self.current_gate();
        if let Some(pos) = self.pos_override {
            // An expansion placed inside a quote!'s tokens is emitted with
            // them; one placed outside is not made emitted by tokens inside.
            let emitted = if pos.emitted == 0 {
                self.emitting
            } else {
                pos.emitted
            };
            return Pos {
                gate,
                emitted,
                ..pos
            };
        }
        let start = span.start();
        Pos {
            file: self.file,
            line: start.line as u32,
            column: start.column as u32 + 1,
            expanded: false,
            gate,
            emitted: self.emitting,
        }
    }

    /// The scope of module `name` declared in the current scope. Declaring
    /// it twice (alternatives under `cfg`s we do not evaluate) gives the
    /// same scope, so both alternatives' items are seen.
    pub(super) fn module_scope(&mut self, name: &str) -> ScopeId {
        let existing = self.facts.scopes[self.scope]
            .defs
            .get(name)
            .and_then(|defs| {
                defs.iter().find_map(|d| match d {
                    Def::Module(m) => Some(*m),
                    _ => None,
                })
            });
        if let Some(existing) = existing {
            // Declared again: alternatives under `cfg`s, at most one built.
            self.facts.scopes[existing].alternatives = true;
            if self.uncertain {
                self.facts.scopes[self.scope]
                    .conditional
                    .insert(name.to_owned());
            }
            return existing;
        }
        let mut path = self.module_path();
        path.push(name.to_owned());
        let parent = self.facts.module_of(self.scope);
        let mut module = Scope::module(path, Some(parent));
        module.declared = ModuleDecl {
            pending: true,
            ..ModuleDecl::default()
        };
        let scope = self.facts.add_scope(module);
        self.define(name.to_owned(), Def::Module(scope));
        scope
    }

    pub(super) fn define(&mut self, name: String, def: Def) {
        self.facts.scope_edits += 1;
        if self.uncertain {
            self.facts.scopes[self.scope]
                .conditional
                .insert(name.clone());
        }
        // Most names have one definition: room for one, not the four a
        // first push makes (a definition is 32 bytes; windows-sys 0.101
        // defines about 170,000 names, 125,000 of them constants).
        self.facts.scopes[self.scope]
            .defs
            .entry(name)
            .or_insert_with(|| Vec::with_capacity(1))
            .push(def);
    }

    pub(super) fn add_ref(&mut self, kind: RefKind, span: Span) {
        let pos = self.pos(span);
        let ns = match &kind {
            RefKind::Path(_) => self.path_ns,
            RefKind::Macro(_) => NS_MACRO,
            // A receiver chain starts at a value (`read(p).len()`).
            RefKind::Method(_) => NS_VALUE,
        };
        self.facts.add_ref(Ref {
            kind,
            scope: self.scope,
            ns,
            function: self.function,
            pos,
        });
    }

    pub(super) fn add_site(&mut self, rule: &'static str, evidence: impl Into<String>, span: Span) {
        let pos = self.pos(span);
        self.facts.sites.push(Site {
            rule,
            evidence: evidence.into(),
            pos,
        });
    }

    pub(super) fn unanalyzed(&mut self, rule: &'static str, span: Span, reason: String) {
        let line = self.pos(span).line;
        let file = self.facts.file_name(self.file).to_owned();
        self.facts.unanalyzed.push(Unanalyzed {
            rule,
            file,
            line: Some(line),
            reason,
        });
    }

    pub(super) fn in_scope<T>(&mut self, scope: ScopeId, f: impl FnOnce(&mut Self) -> T) -> T {
        let outer = std::mem::replace(&mut self.scope, scope);
        // What a module or block holds is there whenever it is: only its
        // own name is conditional.
        let outer_uncertain = std::mem::replace(&mut self.uncertain, false);
        let out = f(self);
        self.scope = outer;
        self.uncertain = outer_uncertain;
        out
    }

    /// Runs `f` with the names it defines conditional when `uncertain`.
    pub(super) fn uncertain_if<T>(&mut self, uncertain: bool, f: impl FnOnce(&mut Self) -> T) -> T {
        let outer = self.uncertain;
        self.uncertain |= uncertain;
        let out = f(self);
        self.uncertain = outer;
        out
    }

    /// Runs `f` with references attributed to a new item `name`, owned by
    /// the impl or trait being read (if any).
    pub(super) fn in_item<T>(&mut self, name: String, f: impl FnOnce(&mut Self) -> T) -> T {
        let owner = self.owner.clone().unwrap_or(Owner::Module);
        self.in_function(name, owner, f)
    }

    pub(super) fn in_function<T>(
        &mut self,
        name: String,
        owner: Owner,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let own_method = self.own_method.take();
        self.facts.items.push(ItemDef::new(
            name,
            self.scope,
            owner,
            self.impl_trait.clone(),
            self.returns.take(),
            own_method,
        ));
        self.facts.functions += 1;
        let outer = std::mem::replace(&mut self.function, self.facts.functions);
        // Items nested in the body are no methods of the impl around it.
        let outer_self = std::mem::replace(&mut self.self_receiver, own_method);
        let outer_impl = self.inherent_impl.take();
        let out = f(self);
        self.function = outer;
        self.self_receiver = outer_self;
        self.inherent_impl = outer_impl;
        out
    }

    fn module_path(&self) -> Vec<String> {
        let module = self.facts.module_of(self.scope);
        match &self.facts.scopes[module].kind {
            crate::scan::facts::ScopeKind::Module { path, .. } => path.clone(),
            crate::scan::facts::ScopeKind::Block { .. } => {
                unreachable!("module_of returns a module")
            }
        }
    }

    pub(super) fn add_use_tree(
        &mut self,
        tree: &UseTree,
        prefix: &mut Vec<String>,
        leading_colon: bool,
    ) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(ident_name(&p.ident));
                self.add_use_tree(&p.tree, prefix, leading_colon);
                prefix.pop();
            }
            UseTree::Name(n) => {
                let ident = ident_name(&n.ident);
                self.add_import(prefix, &ident, None, leading_colon);
            }
            UseTree::Rename(r) => {
                let ident = ident_name(&r.ident);
                let rename = ident_name(&r.rename);
                self.add_import(prefix, &ident, Some(rename), leading_colon);
            }
            UseTree::Glob(_) => {
                let path = prefix.clone();
                self.facts.uncounted_items += 1;
                self.facts.imports_added += 1;
                self.facts.scopes[self.scope].imports.push(Import {
                    name: None,
                    path,
                    leading_colon,
                    public: self.public_use,
                    visible: self.visible_use,
                    conditional: self.uncertain,
                });
            }
            UseTree::Group(g) => {
                for tree in &g.items {
                    self.add_use_tree(tree, prefix, leading_colon);
                }
            }
        }
    }

    fn add_import(
        &mut self,
        prefix: &[String],
        ident: &str,
        rename: Option<String>,
        leading_colon: bool,
    ) {
        let mut path = prefix.to_vec();
        if ident != "self" {
            path.push(ident.to_owned());
        }
        let Some(last) = path.last().cloned() else {
            return;
        };
        // `use Trait as _` brings a trait's methods and no name: it is kept
        // as `_`, which no path names, for what method calls may reach.
        let name = rename.unwrap_or(last);
        self.facts.uncounted_items += 1;
        self.facts.imports_added += 1;
        self.facts.scopes[self.scope].imports.push(Import {
            name: Some(name),
            path,
            leading_colon,
            public: self.public_use,
            visible: self.visible_use,
            conditional: self.uncertain,
        });
    }
}

impl Collector<'_> {
    /// A path as written, recorded as a reference unless a local binding
    /// hides it.
    pub(super) fn record_path(&mut self, path: &syn::Path, qself: Option<&syn::QSelf>) {
        let Some(first) = path.segments.first() else {
            return;
        };
        let span = first.ident.span();
        let written = match qself {
            // `<Type>::item`: the item is relative to the type.
            Some(q) if q.position == 0 => match ungrouped(&q.ty) {
                syn::Type::Path(tp) if tp.qself.is_none() => {
                    let written = WrittenPath::from_syn(&tp.path);
                    let mut segments = written.segments.to_vec();
                    segments.extend(path.segments.iter().map(|s| ident_name(&s.ident)));
                    WrittenPath::new(segments, written.leading_colon)
                }
                _ => return,
            },
            // A local binding of that name hides the function.
            None if self.path_ns == NS_VALUE
                && path.leading_colon.is_none()
                && path.segments.len() == 1
                && first.arguments.is_none()
                && self.local_hides(&ident_name(&first.ident)) =>
            {
                return;
            }
            _ => WrittenPath::from_syn(path),
        };
        let written = self.without_self_type(written);
        self.add_ref(RefKind::Path(written), span);
    }

    /// A path an expression or a type names, in namespace `ns`: recorded,
    /// then its `<T as Trait>` qualifier and generic arguments read.
    pub(super) fn qualified_path(&mut self, ns: Ns, path: &syn::Path, qself: Option<&syn::QSelf>) {
        self.path_ns = ns;
        self.record_path(path, qself);
        self.path_ns = NS_ANY;
        if let Some(q) = qself {
            self.visit_type(&q.ty);
        }
        visit_generic_args(self, path);
    }
}
