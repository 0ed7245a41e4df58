//! Macro invocations read before, or without, expansion: their arguments,
//! `cfg_if!` branches, the plain names passed to macros that build paths
//! from them, and `macro_rules!` bodies.
//!
//! A macro's arguments are the caller's code until the expander
//! (`scan/macros.rs`) says what the macro makes of them, and for a macro
//! it cannot expand it never does, so they are read in place as
//! expressions, statements or tokens. Only the built-in compile-time
//! macros, whose arguments never run, are skipped.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, Meta, Token};

use super::include;
use super::tokens::KEYWORDS;
use super::{Collector, ident_name};
use crate::scan::facts::{MacroArguments, RefKind, WrittenPath};
use crate::scan::rawattrs::unraw_attributes;

/// Built-in macros that run at compile time and never give the crate a
/// capability, so their arguments are not the crate's code.
pub(in crate::scan) const COMPILE_TIME_MACROS: &[&str] = &[
    "env",
    "option_env",
    "include_str",
    "include_bytes",
    "concat",
    "stringify",
    "line",
    "column",
    "file",
    "module_path",
    "cfg",
    "compile_error",
    "concat_idents",
];

impl Collector<'_> {
    /// A macro invocation: recorded for the expander, its arguments read
    /// in place as the caller's code. `assoc`: it stands among an impl's or
    /// a trait's items, so the items its arguments hold are that impl's or
    /// trait's (`Type::method`), as what it expands to will be.
    pub(super) fn invocation(&mut self, mac: &syn::Macro, assoc: bool) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        let name = ident_name(&last.ident);
        let written = WrittenPath::from_syn(&mac.path);
        let span = mac.path.segments[0].ident.span();
        let (own, emitted) = self.emitted_tokens(&name, &mac.path, &mac.tokens);
        // What the expander makes of a quote! is emitted with its tokens:
        // the real macro only builds tokens from them.
        let outer_emitting = self.emitting;
        if let Some((region, _)) = &emitted {
            self.emitting = *region;
        }
        let recorded = self.record_invocation(&written, &mac.tokens, span, assoc);
        self.emitting = outer_emitting;
        self.add_ref(RefKind::Macro(written.clone()), span);
        let pos = self.pos(last.ident.span());
        self.record_call(&written, &mac.tokens, pos, recorded);
        self.record_print(&name, &mac.tokens, pos);
        if include::is_include(&written) {
            self.without_locals(|c| c.include(&mac.tokens, pos));
            return;
        }
        if COMPILE_TIME_MACROS.contains(&name.as_str()) {
            return;
        }
        if name == "cfg_if"
            && self.without_locals(|c| c.cfg_if(unraw_attributes(mac.tokens.clone())))
        {
            return;
        }
        self.record_macro_arguments(&name, &mac.tokens);
        let thread_locals = name == "thread_local";
        let outer = self.enclosing_macro.replace(name);
        let outer_deferring = self.deferring;
        self.deferring = recorded.or(outer_deferring);
        // Item-position macros (`thread_local!`, `lazy_static!`) carry items.
        // What they define may not be what the macro makes of them: the
        // expansion, where there is one, defines it for certain.
        // std's thread_local! takes statics whose last `;` is optional:
        // read as items, each initialiser is its static's code, which the
        // functions using the static reach.
        let read = |c: &mut Self, tokens: TokenStream| {
            // Read as code: attributes as rustc would read them there.
            let tokens = unraw_attributes(tokens);
            c.uncertain_if(true, |c| {
                let items = (assoc && c.try_assoc_items(tokens.clone()))
                    || c.try_items(tokens.clone())
                    || (thread_locals && c.try_items(terminated(tokens.clone())));
                if !items {
                    c.macro_arguments(tokens);
                }
            })
        };
        // Where the macro puts its arguments, the bindings around may not
        // be in scope (`collect/locals.rs`). What the arguments bind stays
        // in them (`without_locals` ends their scope): the macro may drop a
        // `let` it is given, and a name taken for a `Vec` there must not
        // hide the caller's `&Path` of that name after it.
        self.without_locals(|c| {
            read(c, own);
            if let Some((region, tokens)) = emitted {
                let outer_emitting = std::mem::replace(&mut c.emitting, region);
                read(c, tokens);
                c.emitting = outer_emitting;
            }
        });
        self.deferring = outer_deferring;
        self.enclosing_macro = outer;
    }

    /// Macro arguments are the caller's code: read them as expressions, else
    /// as statements (items, `let`s), else as tokens.
    pub(super) fn macro_arguments(&mut self, tokens: TokenStream) {
        if self.tokens_only {
            self.walk_tokens(tokens);
            return;
        }
        if let Ok(exprs) = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(tokens.clone()) {
            for expr in &exprs {
                self.visit_expr(expr);
            }
            return;
        }
        if let Ok(stmts) = syn::Block::parse_within.parse2(tokens.clone()) {
            self.statements(&stmts);
            return;
        }
        self.walk_tokens(tokens);
    }

    /// `cfg_if! { if #[cfg(a)] { .. } else if #[cfg(b)] { .. } else { .. } }`:
    /// the first branch whose condition holds is compiled. A branch is read
    /// when it may be that one: its condition may hold and no earlier one
    /// certainly does. Returns false when the tokens have another shape.
    pub(super) fn cfg_if(&mut self, tokens: TokenStream) -> bool {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut branches: Vec<(Option<String>, TokenStream)> = Vec::new();
        let mut i = 0;
        loop {
            let is_ident = |t: Option<&TokenTree>, word: &str| matches!(t, Some(TokenTree::Ident(id)) if id == word);
            if !is_ident(trees.get(i), "if") {
                return false;
            }
            let condition = match (trees.get(i + 1), trees.get(i + 2)) {
                (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g)))
                    if p.as_char() == '#'
                        && g.delimiter() == Delimiter::Bracket
                        && self.syn_may_parse(&g.stream()) =>
                {
                    match syn::parse2::<Meta>(g.stream()) {
                        Ok(Meta::List(list)) if list.path.is_ident("cfg") => {
                            list.tokens.to_string()
                        }
                        _ => return false,
                    }
                }
                _ => return false,
            };
            let Some(TokenTree::Group(body)) = trees.get(i + 3) else {
                return false;
            };
            branches.push((Some(condition), body.stream()));
            i += 4;
            if !is_ident(trees.get(i), "else") {
                break;
            }
            match trees.get(i + 1) {
                Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {
                    branches.push((None, body.stream()));
                    i += 2;
                    break;
                }
                _ => i += 1,
            }
        }
        if i != trees.len() {
            return false;
        }
        let mut earlier_certain = false;
        let mut earlier_possible = false;
        for (condition, body) in branches {
            let value = match &condition {
                Some(c) => self.cfg.evaluate(c),
                None => Some(true),
            };
            // Certainly the branch built only when it holds and no earlier
            // one may: otherwise what it defines hides nothing.
            let certain = value == Some(true) && !earlier_possible;
            if value != Some(false)
                && !earlier_certain
                && !self.uncertain_if(!certain, |c| c.try_items(body.clone()))
            {
                self.walk_tokens(body);
            }
            earlier_certain |= value == Some(true);
            earlier_possible |= value != Some(false);
        }
        true
    }

    /// Remembers the plain identifiers among a macro call's top-level
    /// arguments, for macros that build paths from them (`$prefix::$name`).
    pub(super) fn record_macro_arguments(&mut self, name: &str, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let mut idents = Vec::new();
        for argument in trees.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
            if let [TokenTree::Ident(id)] = argument
                && !KEYWORDS.contains(&id.to_string().as_str())
            {
                idents.push((ident_name(id), self.pos(id.span())));
            }
        }
        if !idents.is_empty() {
            self.facts.uncounted_items += idents.len();
            self.facts.macro_calls_with_names.push(MacroArguments {
                name: name.to_owned(),
                idents,
                function: self.function,
            });
        }
    }

    pub(super) fn macro_body(&mut self, name: String, body: TokenStream) {
        let outer = std::mem::replace(&mut self.in_macro_body, true);
        let outer_tokens = std::mem::replace(&mut self.tokens_only, true);
        let outer_name = self.macro_name.replace(name);
        self.walk_tokens(body);
        self.macro_name = outer_name;
        self.tokens_only = outer_tokens;
        self.in_macro_body = outer;
    }
}

/// `tokens` with a `;` after them.
fn terminated(mut tokens: TokenStream) -> TokenStream {
    tokens.extend([TokenTree::Punct(proc_macro2::Punct::new(
        ';',
        proc_macro2::Spacing::Alone,
    ))]);
    tokens
}
