//! Syntax syn parses but does not model, which it hands over as
//! `Verbatim` tokens: `macro` 2.0 items, `impl const Trait`, `default`
//! items, generic associated consts, `become`, `builtin #`, and whatever
//! unstable syntax comes next. Skipping those tokens would hide the code
//! in them, so they are read the way the token fallback reads a file syn
//! rejects: paths, method calls, `unsafe`, `extern` blocks, `use`s and
//! `mod`s, with syn tried again on each braced group.

use proc_macro2::{TokenStream, TokenTree};

use super::Collector;
use crate::scan::facts::{Def, NS_MACRO, Owner};

impl Collector<'_> {
    /// Reads verbatim tokens in place (an expression, a type, an impl or
    /// trait item).
    pub(super) fn verbatim(&mut self, tokens: &TokenStream) {
        self.walk_tokens(tokens.clone());
    }

    /// A verbatim item. A `macro name(..) { body }` (decl_macro) is a
    /// macro: its body is read as one, metavariables and all, as the
    /// crate's code (the expander knows only `macro_rules!`, so what its
    /// body names counts for the crate wherever it is invoked).
    pub(super) fn verbatim_item(&mut self, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let keyword = trees
            .iter()
            .position(|t| matches!(t, TokenTree::Ident(id) if id == "macro"));
        let before_is_prefix = keyword.is_some_and(|k| {
            trees[..k].iter().all(|t| match t {
                // Attributes and visibility: `#[..] pub(crate) macro`.
                TokenTree::Punct(p) => p.as_char() == '#' || p.as_char() == '!',
                TokenTree::Group(_) => true,
                TokenTree::Ident(id) => id == "pub",
                TokenTree::Literal(_) => false,
            })
        });
        if let (Some(k), true) = (keyword, before_is_prefix)
            && let Some(TokenTree::Ident(name)) = trees.get(k + 1)
        {
            // The attributes before it still count (`#[no_mangle]` is
            // meaningless there, but `#[cfg]` is not read: keep the body).
            let head: TokenStream = trees[..k].iter().cloned().collect();
            self.walk_tokens(head);
            let name = super::ident_name(name);
            self.define(name.clone(), Def::Item(NS_MACRO));
            let body: TokenStream = trees[k + 2..].iter().cloned().collect();
            self.in_function(name.clone(), Owner::Macro { exported: false }, |c| {
                c.macro_body(name, body)
            });
            return;
        }
        self.walk_tokens(tokens.clone());
    }
}
