//! Fragments passed on: what rustc keeps opaque, and how capgate keeps it
//! so through text.
//!
//! When a macro passes `$e:expr` on to another macro, rustc hands over one
//! opaque token (a nonterminal), not the tokens it was made of: the second
//! macro's `(process)` arm does not match it, only `$x:expr` or `$x:tt`
//! does. A scanner that hands over the plain tokens lets an attacker put a
//! decoy arm first that the scanner picks and rustc never does. So the
//! transcriber wraps every fragment rustc keeps opaque (all but `ident`,
//! `lifetime` and `tt`) in groups without delimiters (which syn reads
//! through, as it does the ones rustc gives procedural macros), and the
//! number of such groups nested one in another says which kind it is.
//!
//! Invocations and definitions are kept as text between rounds of
//! expansion, and text has no groups without delimiters; [`encode`] writes
//! each as a reserved word and brackets and [`decode`] reads it back. A
//! real identifier that looks like a reserved word is escaped, so no
//! source text can pose as an opaque fragment.
//!
//! Doc comments are kept as rustc gives them to a matcher too: `/// hi` is
//! `#[doc = r" hi"]`, a raw string, which a matcher's `" hi"` does not
//! match (proc-macro2 lexes it as a plain string, which would).
//!
//! In a matcher itself rustc ignores a doc comment, while a `#[doc = ..]`
//! written out there is tokens to match. Text cannot tell the two apart,
//! so [`encode_rules`] settles it while the file is at hand: a comment in a
//! matcher is left out, as rustc leaves it out, and the body is marked as
//! settled. A doc attribute in an unsettled matcher came out of an
//! expansion, where which one it was is lost: the matcher does not guess
//! (`matcher/compile.rs`).

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};
use syn::buffer::Cursor;

use super::matcher::Kind;

/// Stands for a group without delimiters in text.
const NONE_GROUP: &str = "__capgate_none";
/// Precedes a real identifier that starts with [`RESERVED_PREFIX`].
const ESCAPED: &str = "__capgate_escaped";
const RESERVED_PREFIX: &str = "__capgate_";
/// Starts the text of a `macro_rules!` body whose matchers hold no doc
/// comment, only doc attributes written out ([`encode_rules`]).
const SETTLED_RULES: &str = "__capgate_settled_rules";

/// Opaque kinds in the order of their nesting depth (1 for `expr`). `pat`
/// and `pat_param`, `expr` and `expr_2021`, make the same nonterminal.
const BY_DEPTH: &[Kind] = &[
    Kind::Expr,
    Kind::Ty,
    Kind::Path,
    Kind::Pat,
    Kind::Block,
    Kind::Stmt,
    Kind::Item,
    Kind::Literal,
    Kind::Meta,
    Kind::Vis,
];

/// The kind an opaque fragment of `kind` is known by, `None` for the kinds
/// rustc passes on as plain tokens.
pub(super) fn opaque_kind(kind: Kind) -> Option<Kind> {
    match kind {
        Kind::Ident | Kind::Lifetime | Kind::Tt => None,
        Kind::Expr2021 => Some(Kind::Expr),
        Kind::PatParam => Some(Kind::Pat),
        other => Some(other),
    }
}

/// The tokens a fragment of `kind` passes on: the same tokens for the
/// transparent kinds, else one opaque token. A fragment that is already one
/// opaque token of its kind is passed on as it is, as rustc does.
pub(super) fn pass_on(kind: Kind, tokens: Vec<TokenTree>) -> Vec<TokenTree> {
    let Some(kind) = opaque_kind(kind) else {
        return tokens;
    };
    if let [TokenTree::Group(g)] = tokens.as_slice()
        && g.delimiter() == Delimiter::None
        && kind_of_group(g) == Some(kind)
    {
        return tokens;
    }
    let depth = BY_DEPTH
        .iter()
        .position(|k| *k == kind)
        .expect("an opaque kind")
        + 1;
    let mut stream: TokenStream = tokens.into_iter().collect();
    for _ in 0..depth {
        stream = TokenStream::from(TokenTree::Group(Group::new(Delimiter::None, stream)));
    }
    stream.into_iter().collect()
}

/// `trees` with the opaque fragments next to a `::` made plain again:
/// `$p::Command` with `$p:path`. rustc does not let a path fragment be
/// extended so; syn cannot read it either, and the tokens read plainly are
/// the path the code names, which is what must not be missed.
pub fn plain_beside_path_separators(trees: Vec<TokenTree>) -> Vec<TokenTree> {
    let colon =
        |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':');
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    for i in 0..trees.len() {
        match &trees[i] {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                let before = i >= 2 && colon(trees.get(i - 1)) && colon(trees.get(i - 2));
                let after = colon(trees.get(i + 1)) && colon(trees.get(i + 2));
                if before || after {
                    out.extend(plain(g.stream()));
                } else {
                    out.push(trees[i].clone());
                }
            }
            TokenTree::Group(g) => {
                let inner = plain_beside_path_separators(g.stream().into_iter().collect());
                let mut same = Group::new(g.delimiter(), inner.into_iter().collect());
                same.set_span(g.span());
                out.push(TokenTree::Group(same));
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// The tokens of `stream` without any group without delimiters.
fn plain(stream: TokenStream) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for tree in stream {
        match tree {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                out.extend(plain(g.stream()))
            }
            TokenTree::Group(g) => {
                let mut same = Group::new(g.delimiter(), plain(g.stream()).into_iter().collect());
                same.set_span(g.span());
                out.push(TokenTree::Group(same));
            }
            other => out.push(other),
        }
    }
    out
}

/// The kind of the opaque fragment at `cursor` (a group without
/// delimiters); `None` when the nesting is not one [`pass_on`] makes.
pub(super) fn kind_at(cursor: Cursor) -> Option<Kind> {
    let mut depth: usize = 0;
    let mut at = cursor;
    while let Some((inner, Delimiter::None, _, _)) = at.any_group() {
        depth += 1;
        // One more level only if the group holds that group and nothing else.
        match inner.any_group() {
            Some((_, Delimiter::None, _, rest)) if rest.eof() => at = inner,
            _ => break,
        }
    }
    BY_DEPTH.get(depth.checked_sub(1)?).copied()
}

/// Whether the opaque fragment at `cursor` holds one literal, or `-` and
/// one.
pub(super) fn is_literal(cursor: Cursor) -> bool {
    let mut at = cursor;
    while let Some((inner, Delimiter::None, _, _)) = at.any_group() {
        at = inner;
    }
    if let Some((punct, rest)) = at.punct()
        && punct.as_char() == '-'
    {
        at = rest;
    }
    matches!(at.literal(), Some((_, rest)) if rest.eof())
}

fn kind_of_group(group: &Group) -> Option<Kind> {
    let stream = TokenStream::from(TokenTree::Group(group.clone()));
    let buffer = syn::buffer::TokenBuffer::new2(stream);
    kind_at(buffer.begin())
}

/// `tokens` as text that [`decode`] reads back into the same trees,
/// groups without delimiters included. `from_file`: the tokens were just
/// lexed from a file, so doc comments among them are told from written
/// `#[doc]` attributes by their text (expansions hold only what an earlier
/// [`encode`] wrote, and their spans may no longer have a file).
pub fn encode(tokens: &TokenStream, from_file: bool) -> String {
    if needs_encoding(tokens, from_file) {
        encoded(tokens.clone(), from_file).to_string()
    } else {
        tokens.to_string()
    }
}

/// A `macro_rules!` body as [`encode`] writes it. When the body was just
/// lexed from a file (`from_file`), each matcher's doc comments are left
/// out, as rustc ignores them there, and the text starts with
/// [`SETTLED_RULES`]: every doc attribute left in a matcher was written
/// out. [`decode_rules`] reads it back.
pub fn encode_rules(body: &TokenStream, from_file: bool) -> String {
    if !from_file {
        return encode(body, false);
    }
    let trees: Vec<TokenTree> = body.clone().into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    for (i, tree) in trees.iter().enumerate() {
        let arrow = matches!(
            (trees.get(i + 1), trees.get(i + 2)),
            (Some(TokenTree::Punct(eq)), Some(TokenTree::Punct(gt)))
                if eq.as_char() == '=' && gt.as_char() == '>'
        );
        match tree {
            TokenTree::Group(g) if arrow => {
                let Some(inner) = matcher_encoded(g.stream()) else {
                    return encode(body, true);
                };
                let mut same = Group::new(g.delimiter(), inner);
                same.set_span(g.span());
                out.push(TokenTree::Group(same));
            }
            other => out.extend(encoded(TokenStream::from(other.clone()), true)),
        }
    }
    format!(
        "{SETTLED_RULES} {}",
        out.into_iter().collect::<TokenStream>()
    )
}

/// A `macro_rules!` body [`encode_rules`] (or [`encode`]) wrote as `text`,
/// and whether its matchers' doc attributes were all written out. Only
/// [`encode_rules`] starts a text with [`SETTLED_RULES`]: a real identifier
/// of that name is escaped.
pub fn decode_rules(text: &str) -> Option<(TokenStream, bool)> {
    match text.strip_prefix(SETTLED_RULES) {
        Some(rest) if rest.starts_with(' ') => Some((decode(rest)?, true)),
        _ => Some((decode(text)?, false)),
    }
}

/// A matcher's trees lexed from a file, encoded, doc comments left out;
/// `None` when a doc attribute's text is not at hand to tell which it is.
fn matcher_encoded(tokens: TokenStream) -> Option<TokenStream> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let TokenTree::Punct(hash) = &trees[i]
            && hash.as_char() == '#'
        {
            let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
            let at = i + 1 + usize::from(bang);
            if let Some(TokenTree::Group(g)) = trees.get(at)
                && let Some(text) = doc_literal(g)
            {
                if !written_as_comment(&text)? {
                    out.extend(trees[i..=at].iter().cloned());
                }
                i = at + 1;
                continue;
            }
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut same = Group::new(g.delimiter(), matcher_encoded(g.stream())?);
                same.set_span(g.span());
                out.push(TokenTree::Group(same));
            }
            other => out.extend(encoded(TokenStream::from(other.clone()), true)),
        }
        i += 1;
    }
    Some(out.into_iter().collect())
}

/// The trees [`encode`] wrote as `text`; `None` when it does not lex.
pub fn decode(text: &str) -> Option<TokenStream> {
    let tokens: TokenStream = text.parse().ok()?;
    Some(if text.contains(RESERVED_PREFIX) {
        decoded(tokens)
    } else {
        tokens
    })
}

fn needs_encoding(tokens: &TokenStream, from_file: bool) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Group(g) => {
            g.delimiter() == Delimiter::None
                || (from_file && doc_comment(&g).is_some())
                || needs_encoding(&g.stream(), from_file)
        }
        TokenTree::Ident(i) => i.to_string().starts_with(RESERVED_PREFIX),
        _ => false,
    })
}

fn encoded(tokens: TokenStream, from_file: bool) -> TokenStream {
    let mut out = Vec::new();
    for tree in tokens {
        match tree {
            TokenTree::Group(g) => {
                let inner = encoded(g.stream(), from_file);
                if g.delimiter() == Delimiter::None {
                    out.push(TokenTree::Ident(Ident::new(NONE_GROUP, g.span())));
                    let mut paren = Group::new(Delimiter::Parenthesis, inner);
                    paren.set_span(g.span());
                    out.push(TokenTree::Group(paren));
                } else if let Some(text) = doc_comment(&g).filter(|_| from_file) {
                    let mut trees: Vec<TokenTree> = g.stream().into_iter().collect();
                    trees[2] = TokenTree::Literal(raw_string(&text, trees[2].span()));
                    let mut same = Group::new(g.delimiter(), trees.into_iter().collect());
                    same.set_span(g.span());
                    out.push(TokenTree::Group(same));
                } else {
                    let mut same = Group::new(g.delimiter(), inner);
                    same.set_span(g.span());
                    out.push(TokenTree::Group(same));
                }
            }
            TokenTree::Ident(i) if i.to_string().starts_with(RESERVED_PREFIX) => {
                out.push(TokenTree::Ident(Ident::new(ESCAPED, i.span())));
                out.push(TokenTree::Ident(i));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// The literal of `[doc = "..."]`: a doc comment as lexed, or one written
/// out.
fn doc_literal(group: &Group) -> Option<proc_macro2::Literal> {
    if group.delimiter() != Delimiter::Bracket {
        return None;
    }
    let mut trees = group.stream().into_iter();
    match (trees.next(), trees.next(), trees.next(), trees.next()) {
        (
            Some(TokenTree::Ident(doc)),
            Some(TokenTree::Punct(eq)),
            Some(TokenTree::Literal(text)),
            None,
        ) if doc == "doc" && eq.as_char() == '=' => Some(text),
        _ => None,
    }
}

/// The text of a doc comment lexed into `[doc = "..."]`, `None` for a
/// `#[doc]` attribute written out.
fn doc_comment(group: &Group) -> Option<String> {
    let text = doc_literal(group)?;
    if !written_as_comment(&text)? {
        return None;
    }
    syn::parse2::<syn::LitStr>(TokenTree::Literal(text.clone()).into())
        .ok()
        .map(|l| l.value())
}

/// Whether a doc attribute's literal was written as a comment (`///`,
/// `/** */`), by its text in the file; `None` when that text is not at hand.
fn written_as_comment(literal: &proc_macro2::Literal) -> Option<bool> {
    let written = literal.span().source_text()?;
    Some(written.starts_with("//") || written.starts_with("/*"))
}

/// `text` as rustc's raw string for a doc comment: as few `#` as it needs.
fn raw_string(text: &str, span: proc_macro2::Span) -> proc_macro2::Literal {
    let (mut hashes, mut run) = (0, 0);
    for c in text.chars() {
        run = match c {
            '"' => 1,
            '#' if run > 0 => run + 1,
            _ => 0,
        };
        hashes = hashes.max(run);
    }
    let fence = "#".repeat(hashes);
    let mut literal: proc_macro2::Literal = format!("r{fence}\"{text}\"{fence}")
        .parse()
        .unwrap_or_else(|_| proc_macro2::Literal::string(text));
    literal.set_span(span);
    literal
}

fn decoded(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tree) = trees.next() {
        match tree {
            TokenTree::Ident(i) if i == ESCAPED => {
                if let Some(real) = trees.next() {
                    out.push(real);
                }
            }
            TokenTree::Ident(i)
                if i == NONE_GROUP
                    && matches!(trees.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) =>
            {
                let Some(TokenTree::Group(paren)) = trees.next() else {
                    unreachable!("peeked a group");
                };
                let mut group = Group::new(Delimiter::None, decoded(paren.stream()));
                group.set_span(paren.span());
                out.push(TokenTree::Group(group));
            }
            TokenTree::Group(g) => {
                let mut same = Group::new(g.delimiter(), decoded(g.stream()));
                same.set_span(g.span());
                out.push(TokenTree::Group(same));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}
