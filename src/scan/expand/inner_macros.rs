//! `#[macro_export(local_inner_macros)]`: rustc resolves a one-segment
//! macro name written in such a macro's transcriber as `$crate::name!`,
//! the defining crate's macro, never one the invocation sees (the log
//! crate's `log!` calls its `__log_format_args!` so). Looked up at the
//! invocation instead, a crate's `outer!` finds the caller's harmless
//! `helper!` (or nothing) and its own spawning `helper!` is never
//! expanded. So such a definition is kept with those names written out as
//! `$crate::` paths, and, where only a `cfg_attr` may make it so, kept
//! both ways.

use proc_macro2::{Group, Ident, Punct, Spacing, TokenStream, TokenTree};

/// The bodies to define for a `macro_rules!` with these attributes (each
/// the text inside `#[..]`): the written one, its `$crate::` form, or
/// both when a `cfg_attr` may or may not give `local_inner_macros`.
pub fn rules_variants(attrs: &[String], body: &TokenStream) -> Vec<TokenStream> {
    let mut direct = false;
    let mut maybe = false;
    for attr in attrs.iter().filter(|a| a.contains("local_inner_macros")) {
        if attr.trim_start().starts_with("macro_export") {
            direct = true;
        } else {
            maybe = true;
        }
    }
    if direct {
        vec![with_crate_paths(body)]
    } else if maybe {
        vec![body.clone(), with_crate_paths(body)]
    } else {
        vec![body.clone()]
    }
}

/// `body` with each transcriber's one-segment macro names under `$crate`.
/// Matchers are kept as they are (their spans tell doc comments apart).
fn with_crate_paths(body: &TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = body.clone().into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    for (i, tree) in trees.iter().enumerate() {
        let after_arrow = i >= 2
            && matches!(
                (&trees[i - 2], &trees[i - 1]),
                (TokenTree::Punct(eq), TokenTree::Punct(gt))
                    if eq.as_char() == '=' && gt.as_char() == '>'
            );
        match tree {
            TokenTree::Group(g) if after_arrow => {
                let mut same = Group::new(g.delimiter(), transcriber(g.stream()));
                same.set_span(g.span());
                out.push(TokenTree::Group(same));
            }
            other => out.push(other.clone()),
        }
    }
    out.into_iter().collect()
}

/// A transcriber's tokens, `name!(..)` written `$crate::name!(..)`.
fn transcriber(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        match &trees[i] {
            // A nested definition's names are its own expansion's: rustc
            // marks them with that one, not with this macro.
            // (through its body, whatever its name: `macro_rules! $name`).
            TokenTree::Ident(id) if id == "macro_rules" && is_bang(trees.get(i + 1)) => {
                let body = (i + 2..trees.len())
                    .find(|&j| matches!(trees[j], TokenTree::Group(_)))
                    .map_or(trees.len(), |j| j + 1);
                out.extend(trees[i..body].iter().cloned());
                i = body;
                continue;
            }
            // `helper!(..)`, and `helper! $args` whose arguments a
            // metavariable gives.
            TokenTree::Ident(id)
                if is_bang(trees.get(i + 1))
                    && matches!(trees.get(i + 2), Some(TokenTree::Group(_)))
                        | matches!(trees.get(i + 2), Some(TokenTree::Punct(p)) if p.as_char() == '$')
                    && !after_dollar_or_colons(&trees, i) =>
            {
                let span = id.span();
                let mut dollar = Punct::new('$', Spacing::Alone);
                dollar.set_span(span);
                out.push(TokenTree::Punct(dollar));
                out.push(TokenTree::Ident(Ident::new("crate", span)));
                for spacing in [Spacing::Joint, Spacing::Alone] {
                    let mut colon = Punct::new(':', spacing);
                    colon.set_span(span);
                    out.push(TokenTree::Punct(colon));
                }
                out.push(trees[i].clone());
            }
            TokenTree::Group(g) => {
                let mut same = Group::new(g.delimiter(), transcriber(g.stream()));
                same.set_span(g.span());
                out.push(TokenTree::Group(same));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

fn is_bang(tree: Option<&TokenTree>) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == '!')
}

/// Whether the identifier at `i` is a metavariable (`$m!`) or a later
/// segment of a path (`a::m!`, `::m!`).
fn after_dollar_or_colons(trees: &[TokenTree], i: usize) -> bool {
    match i.checked_sub(1).map(|j| &trees[j]) {
        Some(TokenTree::Punct(p)) if p.as_char() == '$' => true,
        Some(TokenTree::Punct(p)) if p.as_char() == ':' => {
            matches!(i.checked_sub(2).map(|j| &trees[j]), Some(TokenTree::Punct(p)) if p.as_char() == ':')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(attrs: &[&str], body: &str) -> Vec<String> {
        let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
        rules_variants(&attrs, &body.parse().unwrap())
            .iter()
            .map(|b| b.to_string())
            .collect()
    }

    #[test]
    fn transcriber_names_go_under_dollar_crate() {
        let out = variants(
            &["macro_export (local_inner_macros)"],
            "($m:ident) => { helper!($m); $m!(); a::b!(); ::c!(); x != (y); \
             macro_rules! inner { () => { d!() } } { e!{} } };",
        );
        assert_eq!(
            out,
            vec![
                "($ m : ident) => { $ crate :: helper ! ($ m) ; $ m ! () ; a :: b ! () ; :: c ! () ; x != (y) ; \
                 macro_rules ! inner { () => { d ! () } } { $ crate :: e ! { } } } ;"
            ]
        );
    }

    #[test]
    fn nested_definitions_by_metavariable_and_arguments_from_one() {
        let out = variants(
            &["macro_export (local_inner_macros)"],
            "($name:ident, $a:tt) => { macro_rules! $name { () => { h!() } } w! $a; x != $a; };",
        );
        assert_eq!(
            out,
            vec![
                "($ name : ident , $ a : tt) => { macro_rules ! $ name { () => { h ! () } } \
                 $ crate :: w ! $ a ; x != $ a ; } ;"
            ]
        );
    }

    #[test]
    fn under_cfg_attr_both_are_kept() {
        let out = variants(
            &["cfg_attr (any () , macro_export (local_inner_macros))"],
            "(helper!()) => { helper!() }",
        );
        assert_eq!(
            out,
            vec![
                "(helper ! ()) => { helper ! () }",
                "(helper ! ()) => { $ crate :: helper ! () }"
            ]
        );
        assert_eq!(variants(&["macro_export"], "() => { h!() }").len(), 1);
    }
}
