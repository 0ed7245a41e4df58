//! `extern` blocks: the foreign functions and statics a crate declares,
//! each under the symbol it links to (its `#[link_name]`, else its name).
//!
//! What is called is the symbol, not the Rust name (`fn run()` with
//! `#[link_name = "system"]` calls `system`), and a declaration is found
//! the same way whether syn or the token fallback read the block.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Attribute, Meta};

use super::itemattrs::{excluded, name_value_str};
use super::{Collector, ident_name};
use crate::scan::expand::encode;
use crate::scan::facts::{ComputedLinkName, Def, ForeignFn, NS_VALUE, WrittenPath};

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
            let mut links = LinkNames::default();
            for attr in attrs {
                links.read(&attr.meta, false);
            }
            if links.computed {
                self.computed_link_name(&name, ident.span());
            }
            let pos = self.pos(ident.span());
            // A value of the scope, as a `fn` is: `use ffi::*` brings it,
            // a local of that name hides the outer one.
            self.define(name.clone(), Def::Item(NS_VALUE));
            let decl = ForeignFn {
                symbol: name.clone(),
                name: name.clone(),
                scope: self.scope,
                pos,
                wasm_module: wasm_module.clone(),
                block_macros: block_macros.clone(),
            };
            self.declare(decl, &links);
        }
    }

    /// Records `decl` under each symbol `links` says it may link; values
    /// computed by macros are evaluated once the crate's macros are known
    /// (ffi-decl-link-name-macro-candidates).
    fn declare(&mut self, decl: ForeignFn, links: &LinkNames) {
        if !links.values.is_empty() && !self.in_macro_body {
            let from_file = self.pos_override.is_none();
            self.facts.computed_link_names.push(ComputedLinkName {
                decl: decl.clone(),
                values: links.values.iter().map(|v| encode(v, from_file)).collect(),
            });
        }
        for symbol in links.symbols(&decl.name) {
            self.facts.foreign_fns.push(ForeignFn {
                symbol,
                ..decl.clone()
            });
        }
    }

    /// A `#[link_name]` whose value capgate cannot read: the symbol is not
    /// known (ffi-decl-link-name-computed).
    fn computed_link_name(&mut self, name: &str, span: proc_macro2::Span) {
        self.unanalyzed(
            "macro-unexpanded",
            span,
            format!("the `#[link_name]` of the foreign declaration `{name}` is computed by a macro; the symbol it links is not known"),
        );
    }

    pub(super) fn token_foreign_items(&mut self, stream: TokenStream) {
        let trees: Vec<TokenTree> = stream.into_iter().collect();
        let mut links = LinkNames::default();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => {
                    if self.syn_may_parse(&g.stream())
                        && let Ok(meta) = syn::parse2::<Meta>(g.stream())
                    {
                        links.read(&meta, false);
                    }
                }
                TokenTree::Ident(kw) if kw == "fn" || kw == "static" => {
                    let mut j = i + 1;
                    if matches!(trees.get(j), Some(TokenTree::Ident(m)) if m == "mut") {
                        j += 1;
                    }
                    if let Some(TokenTree::Ident(name)) = trees.get(j) {
                        let rust_name = ident_name(name);
                        let links = std::mem::take(&mut links);
                        if links.computed && !self.in_macro_body {
                            self.computed_link_name(&rust_name, name.span());
                        }
                        let pos = self.pos(name.span());
                        if !self.in_macro_body {
                            self.define(rust_name.clone(), Def::Item(NS_VALUE));
                        }
                        // Read as tokens, the block's attributes are not
                        // known: the symbol is taken as the C library's.
                        let decl = ForeignFn {
                            symbol: rust_name.clone(),
                            name: rust_name,
                            scope: self.scope,
                            pos,
                            wasm_module: None,
                            block_macros: Vec::new(),
                        };
                        self.declare(decl, &links);
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ';' => links = LinkNames::default(),
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

/// The symbols a declaration's attributes say it may link.
#[derive(Default)]
struct LinkNames {
    /// `#[link_name = "x"]`, which replaces the declaration's name.
    certain: Option<String>,
    /// Each `link_name` under a `cfg_attr`, which may or may not hold
    /// (ffi-decl-link-name-cfg-attr): the name or the certain one stays
    /// possible beside them.
    maybe: Vec<String>,
    /// Each `link_name` whose value is an expression (a macro's), which
    /// may replace the name or stand beside it: the symbols it evaluates
    /// to are added beside the others.
    values: Vec<TokenStream>,
    /// A `link_name` capgate cannot read.
    computed: bool,
}

impl LinkNames {
    fn read(&mut self, meta: &Meta, conditional: bool) {
        match meta {
            Meta::NameValue(nv) if nv.path.is_ident("link_name") => {
                match name_value_str(meta, "link_name") {
                    Some(symbol) if conditional => self.maybe.push(symbol),
                    Some(symbol) => self.certain = Some(symbol),
                    None => self.values.push(nv.value.to_token_stream()),
                }
            }
            // `cfg_attr(predicate, attr, ..)`; `unsafe(..)` wraps one.
            Meta::List(list) if list.path.is_ident("cfg_attr") || list.path.is_ident("unsafe") => {
                let cfg_attr = list.path.is_ident("cfg_attr");
                let Ok(metas) = list.parse_args_with(
                    syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated,
                ) else {
                    // Not attributes syn reads: a link_name may be among them.
                    self.computed |= list.tokens.to_string().contains("link_name");
                    return;
                };
                for inner in metas.iter().skip(usize::from(cfg_attr)) {
                    self.read(inner, conditional || cfg_attr);
                }
            }
            _ => {}
        }
    }

    /// The declaration's possible symbols, `name` when nothing replaces it.
    fn symbols(&self, name: &str) -> Vec<String> {
        let mut out = vec![self.certain.clone().unwrap_or_else(|| name.to_owned())];
        for symbol in &self.maybe {
            if !out.contains(symbol) {
                out.push(symbol.clone());
            }
        }
        out
    }
}
