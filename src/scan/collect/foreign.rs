//! `extern` blocks: the foreign functions and statics a crate declares,
//! each under the symbol it links to (its `#[link_name]`, else its name).
//!
//! What is called is the symbol, not the Rust name (`fn run()` with
//! `#[link_name = "system"]` calls `system`), and a declaration is found
//! the same way whether syn or the token fallback read the block.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{Attribute, Meta};

use super::itemattrs::{excluded, name_value_str};
use super::{Collector, ident_name};
use crate::scan::facts::{Def, ForeignFn, NS_VALUE, WrittenPath};

impl Collector<'_> {
    pub(super) fn foreign_mod(&mut self, foreign: &syn::ItemForeignMod) {
        let span = foreign.abi.extern_token.span;
        let abi = foreign
            .abi
            .name
            .as_ref()
            .map(|n| n.value())
            .unwrap_or_else(|| "C".into());
        self.add_site("extern-block", format!("extern \"{abi}\" block"), span);
        let wasm_module = foreign
            .attrs
            .iter()
            .find_map(wasm_import_module)
            .map(|module| {
                let wasm = self.cfg.evaluate("target_family = \"wasm\"") == Some(true);
                (module, wasm)
            });
        let block_macros: Vec<WrittenPath> = foreign
            .attrs
            .iter()
            .map(|a| a.path())
            .filter(|p| !BUILTIN_ATTRIBUTES.iter().any(|b| p.is_ident(b)))
            .map(WrittenPath::from_syn)
            .collect();
        for item in &foreign.items {
            let (ident, attrs) = match item {
                syn::ForeignItem::Fn(f) => (&f.sig.ident, &f.attrs),
                syn::ForeignItem::Static(s) => (&s.ident, &s.attrs),
                // What syn does not model (`safe fn` in an `unsafe extern`
                // block) is still a declaration: read it as tokens.
                syn::ForeignItem::Verbatim(tokens) => {
                    self.token_foreign_items(tokens.clone());
                    continue;
                }
                _ => continue,
            };
            if excluded(attrs, self.cfg) {
                continue;
            }
            let name = ident_name(ident);
            let symbol = link_name(attrs).unwrap_or_else(|| name.clone());
            let pos = self.pos(ident.span());
            // A value of the scope, as a `fn` is: `use ffi::*` brings it,
            // a local of that name hides the outer one.
            self.define(name.clone(), Def::Item(NS_VALUE));
            self.facts.foreign_fns.push(ForeignFn {
                symbol,
                name,
                scope: self.scope,
                pos,
                wasm_module: wasm_module.clone(),
                block_macros: block_macros.clone(),
            });
        }
    }

    pub(super) fn token_foreign_items(&mut self, stream: TokenStream) {
        let trees: Vec<TokenTree> = stream.into_iter().collect();
        let mut link_name_attr: Option<String> = None;
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => {
                    if self.syn_may_parse(&g.stream())
                        && let Ok(meta) = syn::parse2::<Meta>(g.stream())
                        && let Some(name) = meta_link_name(&meta)
                    {
                        link_name_attr = Some(name);
                    }
                }
                TokenTree::Ident(kw) if kw == "fn" || kw == "static" => {
                    let mut j = i + 1;
                    if matches!(trees.get(j), Some(TokenTree::Ident(m)) if m == "mut") {
                        j += 1;
                    }
                    if let Some(TokenTree::Ident(name)) = trees.get(j) {
                        let rust_name = ident_name(name);
                        let symbol = link_name_attr.take().unwrap_or_else(|| rust_name.clone());
                        let pos = self.pos(name.span());
                        if !self.in_macro_body {
                            self.define(rust_name.clone(), Def::Item(NS_VALUE));
                        }
                        // Read as tokens, the block's attributes are not
                        // known: the symbol is taken as the C library's.
                        self.facts.foreign_fns.push(ForeignFn {
                            symbol,
                            name: rust_name,
                            scope: self.scope,
                            pos,
                            wasm_module: None,
                            block_macros: Vec::new(),
                        });
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ';' => link_name_attr = None,
                _ => {}
            }
            i += 1;
        }
    }
}

/// Attributes rustc defines that may stand on an `extern` block; any other
/// is an attribute macro, which rewrites the block.
const BUILTIN_ATTRIBUTES: &[&str] = &[
    "link", "cfg", "cfg_attr", "allow", "warn", "deny", "expect", "forbid", "doc", "unsafe",
];

/// `module` of `#[link(wasm_import_module = "module")]`.
fn wasm_import_module(attr: &Attribute) -> Option<String> {
    let Meta::List(list) = &attr.meta else {
        return None;
    };
    if !list.path.is_ident("link") {
        return None;
    }
    let metas = list
        .parse_args_with(syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated)
        .ok()?;
    metas
        .iter()
        .find_map(|meta| name_value_str(meta, "wasm_import_module"))
}

fn link_name(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| meta_link_name(&a.meta))
}

fn meta_link_name(meta: &Meta) -> Option<String> {
    name_value_str(meta, "link_name").or_else(|| match meta {
        // `#[unsafe(link_name = "x")]` is not valid, but `#[unsafe(export_name)]`
        // style wrappers may carry it in the future; look inside.
        Meta::List(list) if list.path.is_ident("unsafe") => list
            .parse_args::<Meta>()
            .ok()
            .and_then(|inner| name_value_str(&inner, "link_name")),
        _ => None,
    })
}
