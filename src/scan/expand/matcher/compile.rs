//! An arm's matcher flattened into rustc's program of locations. A
//! matcher rustc refuses is refused here, and what capgate cannot compare
//! as rustc does (`$crate`, a doc attribute out of an expansion) becomes a
//! location that stops every match through it: an arm is never picked
//! that rustc might not pick.

use proc_macro2::{Delimiter, TokenTree};

use super::tokens::{Tok, glued};
use super::{Kind, Kleene, Loc, Matcher};

impl Matcher {
    /// The matcher of an arm, or `None` when it is not one rustc accepts.
    /// `settled`: every doc attribute in `trees` was written out as one
    /// (`opaque::decode_rules`).
    pub fn compile(trees: &[TokenTree], settled: bool) -> Option<Matcher> {
        let mut compiler = Compiler {
            matcher: Matcher {
                locs: Vec::new(),
                names: Vec::new(),
            },
            settled,
        };
        compiler.compile_seq(trees, 0)?;
        compiler.matcher.locs.push(Loc::Eof);
        Some(compiler.matcher)
    }
}

/// A matcher being compiled.
struct Compiler {
    matcher: Matcher,
    settled: bool,
}

impl Compiler {
    fn compile_seq(&mut self, trees: &[TokenTree], depth: usize) -> Option<()> {
        let mut i = 0;
        while i < trees.len() {
            match (&trees[i], trees.get(i + 1)) {
                // rustc's `$crate` is one token an invocation written in a
                // file never holds, and capgate's expansions do not make.
                (TokenTree::Punct(p), Some(TokenTree::Ident(name)))
                    if p.as_char() == '$' && name == "crate" =>
                {
                    self.matcher
                        .locs
                        .push(Loc::Undecided("the arm matches rustc's `$crate` token"));
                    i += 2;
                }
                // A doc comment in a matcher stays a comment token in rustc,
                // ignored, while one written as an attribute is tokens to
                // match. A body read from a file is settled: its comments
                // were left out (`opaque::encode_rules`). Out of an
                // expansion, which one this was is lost, so the arm is not
                // guessed at.
                (TokenTree::Punct(p), _)
                    if !self.settled && p.as_char() == '#' && is_doc_attribute(&trees[i + 1..]) =>
                {
                    self.matcher
                        .locs
                        .push(Loc::Undecided("the arm matches a doc comment"));
                    i += 1;
                }
                (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                    let (Some(TokenTree::Punct(colon)), Some(TokenTree::Ident(kind))) =
                        (trees.get(i + 2), trees.get(i + 3))
                    else {
                        return None;
                    };
                    if colon.as_char() != ':' {
                        return None;
                    }
                    let kind = Kind::named(&kind.to_string())?;
                    self.matcher.locs.push(Loc::Var {
                        slot: self.matcher.names.len(),
                        kind,
                        depth,
                    });
                    self.matcher.names.push(name.to_string());
                    i += 4;
                }
                (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                    if p.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
                {
                    let (separator, op, next) = repetition_tail(trees, i + 2)?;
                    let start = self.matcher.locs.len();
                    let first_var = self.matcher.names.len();
                    self.matcher.locs.push(Loc::Eof); // replaced below
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    self.compile_seq(&inner, depth + 1)?;
                    if self.matcher.locs.len() == start + 1 {
                        // rustc: "repetition matches empty token tree"
                        // (`$(/// doc)*` too, the comment being ignored).
                        return None;
                    }
                    self.matcher.locs.push(Loc::SeqEnd {
                        op,
                        first: start + 1,
                        separated: separator.is_some(),
                    });
                    if let Some(token) = separator {
                        self.matcher.locs.push(Loc::Sep {
                            token,
                            first: start + 1,
                        });
                    }
                    self.matcher.locs[start] = Loc::SeqStart {
                        op,
                        after: self.matcher.locs.len(),
                        vars: first_var..self.matcher.names.len(),
                        depth,
                    };
                    i = next;
                }
                (TokenTree::Group(g), _) => {
                    self.matcher.locs.push(Loc::Token(Tok::Open(g.delimiter())));
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    self.compile_seq(&inner, depth)?;
                    self.matcher.locs.push(Loc::Token(Tok::Close));
                    i += 1;
                }
                _ => {
                    let (token, len) = glued(&trees[i..]);
                    self.matcher.locs.push(Loc::Token(token));
                    i += len;
                }
            }
        }
        Some(())
    }
}

impl Kind {
    fn named(name: &str) -> Option<Kind> {
        Some(match name {
            "ident" => Kind::Ident,
            "tt" => Kind::Tt,
            "lifetime" => Kind::Lifetime,
            "literal" => Kind::Literal,
            "block" => Kind::Block,
            "expr" => Kind::Expr,
            "expr_2021" => Kind::Expr2021,
            "ty" => Kind::Ty,
            "path" => Kind::Path,
            "pat" => Kind::Pat,
            "pat_param" => Kind::PatParam,
            "stmt" => Kind::Stmt,
            "item" => Kind::Item,
            "vis" => Kind::Vis,
            "meta" => Kind::Meta,
            _ => return None,
        })
    }
}

/// After `$( ... )` in a matcher: the separator (one of rustc's tokens) and
/// the operator, and the index after the operator.
fn repetition_tail(trees: &[TokenTree], start: usize) -> Option<(Option<Tok>, Kleene, usize)> {
    let op_at = |i: usize| match trees.get(i) {
        Some(TokenTree::Punct(p)) => match p.as_char() {
            '*' => Some(Kleene::ZeroOrMore),
            '+' => Some(Kleene::OneOrMore),
            '?' => Some(Kleene::ZeroOrOne),
            _ => None,
        },
        _ => None,
    };
    // An operator right after the `)` is the operator (rustc's
    // `parse_sep_and_kleene_op`): in `$(x)**` the second `*` is a token.
    if let Some(op) = op_at(start) {
        return Some((None, op, start + 1));
    }
    let rest = trees.get(start..)?;
    if matches!(rest.first()?, TokenTree::Group(_)) {
        return None;
    }
    let (separator, len) = glued(rest);
    let op = op_at(start + len)?;
    if op == Kleene::ZeroOrOne {
        // rustc: `?` takes no separator.
        return None;
    }
    Some((Some(separator), op, start + len + 1))
}

/// `[doc = "..."]` or `![doc = "..."]`: what a doc comment lexes into.
fn is_doc_attribute(trees: &[TokenTree]) -> bool {
    let group = match trees {
        [TokenTree::Punct(bang), TokenTree::Group(g), ..] if bang.as_char() == '!' => g,
        [TokenTree::Group(g), ..] => g,
        _ => return false,
    };
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    group.delimiter() == Delimiter::Bracket
        && matches!(inner.as_slice(), [TokenTree::Ident(doc), TokenTree::Punct(eq), TokenTree::Literal(_)]
            if doc == "doc" && eq.as_char() == '=')
}
