//! Large tables of numbers, dropped before syn builds a tree of them.
//!
//! A crate's data file is mostly arrays of integer literals: encoding_rs's
//! 2.6 MB `data.rs` holds some 400,000, and syn's tree of them (every
//! literal a boxed node with its own copy of the text) took about 250 MB
//! while the scan found nothing in it. A bracket or parenthesis group made
//! only of such literals and of `,` `;` `-` `&` (and of groups made so)
//! names nothing: no path, method, macro, string or `unsafe` can be in it.
//! Such a group of at least [`MIN_TOKENS`] tokens is replaced by an empty
//! group with the same delimiters and place, so every other token keeps
//! its line and column.
//!
//! Not inside a macro's arguments or definition, nor an attribute: a
//! `macro_rules!` arm can match on the literals themselves (an arm for
//! `[0, 0, …]` beside one for anything else), so there the tokens are what
//! decides which code the crate gets.

use proc_macro2::{Delimiter, Group, Spacing, TokenStream, TokenTree};

/// Files shorter than this are left as they are: tables worth removing are
/// large, and walking every file's tokens again would cost every scan.
pub const MIN_FILE_BYTES: usize = 64 * 1024;

/// Smaller data groups are kept: the saving is in tables, not in `[0, 1]`.
const MIN_TOKENS: usize = 256;

/// How deep into groups tables are looked for, and how deeply nested a
/// table may be; past it tokens are kept as they are (the shape limit then
/// judges the file).
const MAX_DEPTH: usize = 32;

/// `tokens` with every large table outside macro arguments, macro
/// definitions and attributes emptied.
pub fn elide(tokens: TokenStream) -> TokenStream {
    elide_in(tokens, 0).0
}

/// `tokens` with their tables emptied, and how many tokens they hold if
/// they are data only (see the module comment): `None` if anything in them
/// could name something. One pass, each group's tokens moved, not copied.
fn elide_in(tokens: TokenStream, depth: usize) -> (TokenStream, Option<usize>) {
    let mut out = Vec::new();
    let mut data = Some(0usize);
    // Whether the trees before the current one make a group now a macro's
    // arguments or body, or an attribute, to be kept as written.
    let mut after_bang = false;
    let mut after_bang_ident = false;
    let mut after_pound = false;
    for tree in tokens {
        let keep_group = after_bang || after_bang_ident || after_pound;
        let (bang, bang_ident, pound) = match &tree {
            TokenTree::Punct(p) => (
                p.as_char() == '!' && p.spacing() == Spacing::Alone,
                false,
                p.as_char() == '#' || (after_pound && p.as_char() == '!'),
            ),
            // `macro_rules! name { … }`: the group follows the name.
            TokenTree::Ident(_) => (false, after_bang, false),
            TokenTree::Group(_) | TokenTree::Literal(_) => (false, false, false),
        };
        after_bang = bang;
        after_bang_ident = bang_ident;
        after_pound = pound;
        let group = match tree {
            TokenTree::Group(group) => group,
            other => {
                let plain = match &other {
                    TokenTree::Literal(literal) => is_plain_literal(&literal.to_string()),
                    TokenTree::Punct(p) => matches!(p.as_char(), ',' | ';' | '-' | '&'),
                    _ => false,
                };
                data = data.filter(|_| plain).map(|n| n + 1);
                out.push(other);
                continue;
            }
        };
        let delimiter = group.delimiter();
        let listed = matches!(delimiter, Delimiter::Bracket | Delimiter::Parenthesis);
        if keep_group || depth >= MAX_DEPTH {
            data = None;
            out.push(TokenTree::Group(group));
            continue;
        }
        let span = group.span();
        let stream = group.stream();
        // The group's own handle gone, its tokens are moved, not copied.
        drop(group);
        let (inner, inner_data) = elide_in(stream, depth + 1);
        let inner_data = inner_data.filter(|_| listed);
        let is_table = inner_data.is_some_and(|n| n >= MIN_TOKENS);
        data = data.zip(inner_data).map(|(n, m)| n + m + 1);
        let mut replaced = Group::new(delimiter, if is_table { TokenStream::new() } else { inner });
        replaced.set_span(span);
        out.push(TokenTree::Group(replaced));
    }
    (out.into_iter().collect(), data)
}

/// A number, a character or a byte: not a string of any kind (a string may
/// hold a link directive a build script prints).
fn is_plain_literal(text: &str) -> bool {
    let first = text.as_bytes().first().copied();
    matches!(first, Some(b'0'..=b'9' | b'\'')) || text.starts_with("b'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: usize) -> String {
        (0..n).map(|i| format!("0x{i:04X}, ")).collect()
    }

    fn elided(source: &str) -> String {
        elide(source.parse().unwrap()).to_string()
    }

    #[test]
    fn a_large_table_is_emptied_where_it_stands() {
        let source = format!(
            "static A: [u16; 300] = [{}];\nfn f() {{ let b = &[({}), (1, -2)]; std::process::exit(0) }}",
            table(300),
            table(300)
        );
        let tokens: TokenStream = source.parse().unwrap();
        let out = elide(tokens);
        let text = out.to_string();
        assert!(text.starts_with("static A : [u16 ; 300] = [] ;"), "{text}");
        assert!(text.contains("let b = & [] ;"), "{text}");
        assert!(text.contains("std :: process :: exit (0)"), "{text}");
        // The code after the table keeps its place.
        let TokenTree::Group(body) = out.into_iter().last().unwrap() else {
            panic!("the body");
        };
        let exit = body
            .stream()
            .into_iter()
            .find(|t| t.to_string() == "std")
            .unwrap();
        assert_eq!(exit.span().start().line, 2);
    }

    #[test]
    fn small_tables_strings_and_names_are_kept() {
        let small = "static A: [u8; 3] = [1, 2, 3];".to_owned();
        assert_eq!(
            elided(&small),
            small.parse::<TokenStream>().unwrap().to_string()
        );
        for odd in ["\"cargo:rustc-link-lib=x\"", "b\"x\"", "X", "f(1)", "{ 1 }"] {
            let source = format!("static A: [u8; 301] = [{}{odd}];", table(300));
            assert!(
                elided(&source).contains(&table(300)[..20].replace(", ", " , ")),
                "{odd}"
            );
        }
    }

    #[test]
    fn macro_arguments_definitions_and_attributes_are_kept() {
        for source in [
            format!("pick!([{}]);", table(300)),
            format!("macro_rules! pick {{ ([{}]) => {{}} }}", table(300)),
            format!("#[doc = 1] #[table([{}])] fn f() {{}}", table(300)),
            format!("#![table([{}])]", table(300)),
        ] {
            assert!(elided(&source).contains("0x0100"), "{source}");
        }
        // `!=` is no macro call.
        let source = format!("fn f(a: &[u16]) -> bool {{ a != [{}] }}", table(300));
        assert!(!elided(&source).contains("0x0100"));
    }
}
