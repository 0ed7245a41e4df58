//! Tokens as rustc's matcher sees them. proc-macro2 hands over
//! punctuation a character at a time and identifiers as written, while
//! rustc compares glued operators (`->`, `..=`) and identifiers in NFC: a
//! matcher that compared anything else could be steered to another arm.

use proc_macro2::{Delimiter, Ident, TokenTree};

use syn::buffer::Cursor;
use syn::parse::ParseBuffer;

use super::Kind;
use crate::scan::expand::opaque;

/// A token as rustc's matcher sees it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(in crate::scan::expand) enum Tok {
    Open(Delimiter),
    Close,
    Eof,
    Ident(String),
    Lifetime(String),
    Literal(String),
    /// Punctuation, joint operators glued.
    Op(String),
    /// A group without delimiters: a fragment passed on, opaque to rustc,
    /// of this kind (`None`: not a nesting `opaque.rs` makes), and whether
    /// it is one literal (`1`, `-1`), which rustc lets a `literal` take.
    Opaque(Option<Kind>, bool),
}

/// Operators rustc lexes as one token; proc-macro2 gives them as joint
/// punctuation. Every three-character one starts with a two-character one,
/// so gluing greedily from the left finds rustc's token.
const COMPOUND_PUNCT: &[&str] = &[
    "<<=", ">>=", "...", "..=", "::", "->", "=>", "<-", "==", "!=", "<=", ">=", "&&", "||", "+=",
    "-=", "*=", "/=", "%=", "^=", "&=", "|=", "<<", ">>", "..",
];

/// rustc's token at the start of `trees` (not a group) and how many
/// proc-macro2 trees it spans.
pub(super) fn glued(trees: &[TokenTree]) -> (Tok, usize) {
    match trees {
        [TokenTree::Punct(q), TokenTree::Ident(name), ..]
            if q.as_char() == '\'' && q.spacing() == proc_macro2::Spacing::Joint =>
        {
            (Tok::Lifetime(name.to_string()), 2)
        }
        [TokenTree::Punct(first), ..] => {
            let mut op = first.as_char().to_string();
            let mut spacing = first.spacing();
            let mut len = 1;
            while spacing == proc_macro2::Spacing::Joint && op.len() < 3 {
                let Some(TokenTree::Punct(next)) = trees.get(len) else {
                    break;
                };
                let longer = format!("{op}{}", next.as_char());
                if !COMPOUND_PUNCT.contains(&longer.as_str()) {
                    break;
                }
                op = longer;
                spacing = next.spacing();
                len += 1;
            }
            (Tok::Op(op), len)
        }
        [TokenTree::Ident(ident), ..] => (Tok::Ident(identifier(ident)), 1),
        [TokenTree::Literal(literal), ..] => {
            // rustc reads `\r\n` as `\n` everywhere in a file, literals too.
            let text = literal.to_string();
            let text = if text.contains('\r') {
                text.replace("\r\n", "\n")
            } else {
                text
            };
            (Tok::Literal(text), 1)
        }
        [TokenTree::Group(g), ..] => (Tok::Open(g.delimiter()), 1),
        [] => (Tok::Eof, 0),
    }
}

/// An identifier as rustc compares them: in NFC (`e\u{301}` is `é`).
fn identifier(ident: &Ident) -> String {
    use unicode_normalization::UnicodeNormalization;
    let text = ident.to_string();
    if text.is_ascii() {
        text
    } else {
        text.nfc().collect()
    }
}

/// The token at `cursor` and how many trees it spans (an open bracket is
/// entered, not spanned).
pub(in crate::scan::expand) fn peek(cursor: Cursor, root: bool) -> (Tok, usize) {
    if cursor.eof() {
        return (if root { Tok::Eof } else { Tok::Close }, 0);
    }
    if let Some((_, delimiter, _, _)) = cursor.any_group() {
        return if delimiter == Delimiter::None {
            (
                Tok::Opaque(opaque::kind_at(cursor), opaque::is_literal(cursor)),
                1,
            )
        } else {
            (Tok::Open(delimiter), 0)
        };
    }
    let mut trees = Vec::with_capacity(3);
    let mut at = cursor;
    while trees.len() < 3 {
        let Some((tree, next)) = at.token_tree() else {
            break;
        };
        let punct = matches!(tree, TokenTree::Punct(_));
        trees.push(tree);
        if !punct {
            break;
        }
        at = next;
    }
    glued(&trees)
}

/// Moves the input past `token`: into a group, out of one, or over the
/// `width` trees of a leaf.
pub(super) fn advance(stack: &mut Vec<ParseBuffer>, token: &Tok, width: usize) -> syn::Result<()> {
    let top = stack.last().expect("the input");
    match token {
        Tok::Open(delimiter) => {
            let inner = enter(top, *delimiter)?;
            stack.push(inner);
        }
        Tok::Close => {
            stack.pop();
        }
        _ => {
            for _ in 0..width {
                top.parse::<TokenTree>()?;
            }
        }
    }
    Ok(())
}

fn enter<'a>(input: &ParseBuffer<'a>, delimiter: Delimiter) -> syn::Result<ParseBuffer<'a>> {
    let content;
    match delimiter {
        Delimiter::Parenthesis => {
            syn::parenthesized!(content in input);
        }
        Delimiter::Bracket => {
            syn::bracketed!(content in input);
        }
        Delimiter::Brace => {
            syn::braced!(content in input);
        }
        Delimiter::None => return Err(input.error("no brackets")),
    }
    Ok(content)
}
