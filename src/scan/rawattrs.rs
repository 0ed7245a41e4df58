//! Raw identifiers in attributes. rustc reads `#[r#path = "evil.rs"]`,
//! `#[r#cfg(any())]` and `#[r#macro_export]` as the attributes they spell
//! (a raw identifier is the same name), while every attribute check here
//! compares names as written (syn's `is_ident("path")` is false for
//! `r#path`): the module would be read from its decoy file, the item
//! compiled out kept, the macro not exported. So the names inside
//! attributes are written plain before anything reads them, except
//! keywords, which stay raw so the attribute still parses.
//!
//! A macro's arguments and a `macro_rules!` body are left as written: a
//! matcher tells `r#doc` from `doc`, as rustc's does. Where arguments are
//! read as code, or an expansion is collected, they are made plain then.

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};

/// `tokens` with the names in every attribute outside macro arguments
/// written plain; the same stream when none is raw.
pub fn unraw_attributes(tokens: TokenStream) -> TokenStream {
    if !any_raw(&tokens) {
        return tokens;
    }
    rebuild(tokens)
}

/// An attribute's tokens (inside `#[..]`) with their names written plain.
pub fn unraw_names(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Ident(id) => TokenTree::Ident(plain(&id).unwrap_or(id)),
            TokenTree::Group(g) => {
                let mut same = Group::new(g.delimiter(), unraw_names(g.stream()));
                same.set_span(g.span());
                TokenTree::Group(same)
            }
            other => other,
        })
        .collect()
}

/// The identifier without `r#`, unless it is not raw or is a keyword.
fn plain(id: &Ident) -> Option<Ident> {
    let text = id.to_string();
    let name = text.strip_prefix("r#")?;
    if KEYWORDS.contains(&name) {
        return None;
    }
    Some(Ident::new(name, id.span()))
}

/// Whether any attribute (outside macro arguments) holds a raw name.
fn any_raw(tokens: &TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        match classify(&trees, i) {
            Step::Attribute(at) => {
                if let TokenTree::Group(g) = &trees[at]
                    && has_raw(&g.stream())
                {
                    return true;
                }
                i = at + 1;
            }
            Step::Opaque(end) => i = end,
            Step::Other => {
                if let TokenTree::Group(g) = &trees[i]
                    && any_raw(&g.stream())
                {
                    return true;
                }
                i += 1;
            }
        }
    }
    false
}

fn has_raw(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Ident(id) => plain(&id).is_some(),
        TokenTree::Group(g) => has_raw(&g.stream()),
        _ => false,
    })
}

fn rebuild(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        match classify(&trees, i) {
            Step::Attribute(at) => {
                out.extend(trees[i..at].iter().cloned());
                if let TokenTree::Group(g) = &trees[at] {
                    let mut same = Group::new(g.delimiter(), unraw_names(g.stream()));
                    same.set_span(g.span());
                    out.push(TokenTree::Group(same));
                }
                i = at + 1;
            }
            Step::Opaque(end) => {
                out.extend(trees[i..end].iter().cloned());
                i = end;
            }
            Step::Other => {
                out.push(match &trees[i] {
                    TokenTree::Group(g) => {
                        let mut same = Group::new(g.delimiter(), rebuild(g.stream()));
                        same.set_span(g.span());
                        TokenTree::Group(same)
                    }
                    other => other.clone(),
                });
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

enum Step {
    /// `#[..]` or `#![..]`: the bracket group's index.
    Attribute(usize),
    /// A macro invocation's arguments or a `macro_rules!` body, kept as
    /// written: the index past them.
    Opaque(usize),
    Other,
}

fn classify(trees: &[TokenTree], i: usize) -> Step {
    let punct =
        |j: usize, c: char| matches!(trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == c);
    let bracket = |j: usize| matches!(trees.get(j), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket);
    match &trees[i] {
        TokenTree::Punct(p) if p.as_char() == '#' => {
            let at = if punct(i + 1, '!') { i + 2 } else { i + 1 };
            if bracket(at) {
                Step::Attribute(at)
            } else {
                Step::Other
            }
        }
        // A keyword before `!` negates (`if !{ .. } {}`): no macro.
        TokenTree::Ident(id)
            if punct(i + 1, '!') && !KEYWORDS.contains(&id.to_string().as_str()) =>
        {
            match trees.get(i + 2) {
                Some(TokenTree::Group(_)) => Step::Opaque(i + 3),
                // `macro_rules! name { .. }`
                Some(TokenTree::Ident(_))
                    if matches!(trees.get(i + 3), Some(TokenTree::Group(_))) =>
                {
                    Step::Opaque(i + 4)
                }
                _ => Step::Other,
            }
        }
        _ => Step::Other,
    }
}

/// Keywords a raw identifier may spell (`crate`, `self`, `super` and
/// `Self` cannot be raw).
pub(crate) const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn unraw(text: &str) -> String {
        unraw_attributes(text.parse().unwrap()).to_string()
    }

    #[test]
    fn attribute_names_are_written_plain() {
        assert_eq!(
            unraw("#[r#path = \"evil.rs\"] mod x; #![r#cfg_attr(r#all(), r#macro_use)]"),
            "# [path = \"evil.rs\"] mod x ; #! [cfg_attr (all () , macro_use)]"
        );
        assert_eq!(
            unraw("fn f() { #[r#cfg(any())] let r#x = 1; }"),
            "fn f () { # [cfg (any ())] let r#x = 1 ; }"
        );
        assert_eq!(
            unraw("#[serde(r#type = 1)] struct S;"),
            "# [serde (r#type = 1)] struct S ;"
        );
        assert_eq!(
            unraw("if !{ #[r#path = \"e.rs\"] mod x; true } {}"),
            "if ! { # [path = \"e.rs\"] mod x ; true } { }"
        );
    }

    #[test]
    fn macro_arguments_and_bodies_stay_as_written() {
        let text = "m! { #[r#doc = \"a\"] x } macro_rules! n { (#[r#doc = $d:literal]) => {} }";
        assert_eq!(
            unraw(text),
            text.parse::<TokenStream>().unwrap().to_string()
        );
    }
}
