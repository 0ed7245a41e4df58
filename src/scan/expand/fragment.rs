//! Fragments (`$e:expr`, `$p:path`, ...) as rustc's matcher takes them:
//! where one may begin (`nonterminal_may_begin_with`), how much of the
//! input it spans (syn's parsers, mended where rustc reads differently),
//! and what it does with a fragment passed on opaque.

use proc_macro2::{Delimiter, Ident, TokenTree};
use syn::buffer::Cursor;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::parse::discouraged::Speculative;

use super::matcher::tokens::{Tok, peek};
use super::matcher::{Editions, Kind};
use super::opaque;
use crate::model::Edition;

pub(super) enum Begins {
    Yes,
    No,
    /// rustc's answer is not known here (an edition capgate does not
    /// know, how rustc parses one opaque fragment as another kind):
    /// matching stops, failing closed.
    Undecided(&'static str),
}

/// rustc's answer depends on an edition capgate does not know (a
/// dependency's macro whose edition was not recorded, or input written in
/// another edition than the macro's).
const BY_EDITION: Begins = Begins::Undecided(
    "whether a fragment may begin here depends on an edition capgate does not know",
);

impl From<bool> for Begins {
    fn from(yes: bool) -> Begins {
        if yes { Begins::Yes } else { Begins::No }
    }
}

/// Whether a fragment of `kind` may begin with `token`
/// (`Parser::nonterminal_may_begin_with`): rustc parses one only there.
pub(super) fn may_begin(kind: Kind, token: &Tok, editions: Editions) -> Begins {
    // A yes or no that holds from `edition` on, or undecided.
    let from = |known: Option<Edition>, edition: Edition| match known {
        Some(known) => (known >= edition).into(),
        None => BY_EDITION,
    };
    if let Tok::Opaque(opaque, literal) = token {
        return match facing_opaque(kind, *opaque, *literal) {
            Take::Tree | Take::PathType | Take::Parse | Take::Empty => Begins::Yes,
            Take::No => Begins::No,
            Take::Undecided(why) => Begins::Undecided(why),
        };
    }
    let op = |ops: &[&str]| matches!(token, Tok::Op(o) if ops.contains(&o.as_str()));
    match kind {
        Kind::Tt | Kind::Item | Kind::Stmt => (!matches!(token, Tok::Close | Tok::Eof)).into(),
        Kind::Ident => matches!(token, Tok::Ident(i) if i != "_").into(),
        Kind::Lifetime => matches!(token, Tok::Lifetime(_)).into(),
        Kind::Literal => (matches!(token, Tok::Literal(_))
            || op(&["-"])
            || matches!(token, Tok::Ident(i) if i == "true" || i == "false"))
        .into(),
        Kind::Block => (*token == Tok::Open(Delimiter::Brace)).into(),
        Kind::Path | Kind::Meta => (matches!(token, Tok::Ident(_)) || op(&["::"])).into(),
        Kind::Vis => match token {
            Tok::Op(o) if o == "," => Begins::Yes,
            Tok::Ident(_) => Begins::Yes,
            _ => begins_type(token, editions.input),
        },
        Kind::Ty => begins_type(token, editions.input),
        Kind::Pat | Kind::PatParam => match token {
            Tok::Ident(_)
            | Tok::Literal(_)
            | Tok::Open(Delimiter::Parenthesis | Delimiter::Bracket) => Begins::Yes,
            Tok::Op(o) if o == "|" => {
                if kind == Kind::PatParam {
                    Begins::No
                } else {
                    // `pat` takes a leading `|` from the 2021 edition on.
                    from(editions.definition, Edition::E2021)
                }
            }
            _ => op(&["&", "-", "&&", "..", "...", "::", "<", "<<"]).into(),
        },
        Kind::Expr | Kind::Expr2021 => match token {
            Tok::Ident(i) if i == "let" => Begins::No,
            Tok::Ident(i) if i == "const" || i == "_" => {
                if kind == Kind::Expr2021 {
                    Begins::No
                } else {
                    // `expr` is `expr_2021` before the 2024 edition.
                    from(editions.definition, Edition::E2024)
                }
            }
            Tok::Ident(i) => begins_expr_ident(i, editions.input),
            Tok::Open(_) | Tok::Literal(_) | Tok::Lifetime(_) => Begins::Yes,
            _ => op(&[
                "!", "-", "*", "|", "||", "&", "&&", "..", "...", "..=", "<", "<<", "::", "#",
            ])
            .into(),
        },
    }
}

/// Keywords that are not identifiers in any edition (and `_`).
const RESERVED: &[&str] = &[
    "_", "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield",
];

/// Keywords from a later edition on (the edition): identifiers before it.
const EDITION_KEYWORDS: &[(&str, Edition)] = &[
    ("async", Edition::E2018),
    ("await", Edition::E2018),
    ("dyn", Edition::E2018),
    ("try", Edition::E2018),
    ("gen", Edition::E2024),
];

/// Whether `ident` is a keyword of the input's edition only: `Some(true)`
/// a keyword, `Some(false)` an identifier, `None` when that is not known.
fn edition_keyword(ident: &str, input: Option<Edition>) -> Option<Option<bool>> {
    let (_, from) = EDITION_KEYWORDS.iter().find(|(word, _)| *word == ident)?;
    Some(input.map(|input| input >= *from))
}

const PATH_KEYWORDS: &[&str] = &["self", "Self", "super", "crate"];

fn begins_expr_ident(ident: &str, input: Option<Edition>) -> Begins {
    const KEYWORD_EXPRS: &[&str] = &[
        "async", "do", "box", "break", "const", "continue", "false", "for", "gen", "if", "let",
        "loop", "match", "move", "return", "true", "try", "unsafe", "while", "yield", "static",
    ];
    if ident.starts_with("r#") || PATH_KEYWORDS.contains(&ident) || KEYWORD_EXPRS.contains(&ident) {
        return Begins::Yes;
    }
    match edition_keyword(ident, input) {
        // A keyword that does not begin an expression (`await`, `dyn`).
        Some(Some(keyword)) => (!keyword).into(),
        Some(None) => BY_EDITION,
        None => (!RESERVED.contains(&ident)).into(),
    }
}

fn begins_type(token: &Tok, input: Option<Edition>) -> Begins {
    const KEYWORD_TYPES: &[&str] = &[
        "_", "for", "impl", "fn", "unsafe", "extern", "typeof", "dyn",
    ];
    match token {
        Tok::Ident(i) => {
            if i.starts_with("r#")
                || PATH_KEYWORDS.contains(&i.as_str())
                || KEYWORD_TYPES.contains(&i.as_str())
            {
                Begins::Yes
            } else {
                match edition_keyword(i, input) {
                    Some(Some(keyword)) => (!keyword).into(),
                    Some(None) => BY_EDITION,
                    None => (!RESERVED.contains(&i.as_str())).into(),
                }
            }
        }
        Tok::Open(Delimiter::Parenthesis | Delimiter::Bracket) | Tok::Lifetime(_) => Begins::Yes,
        Tok::Op(o) => ["!", "*", "&", "&&", "?", "<", "<<", "::"]
            .contains(&o.as_str())
            .into(),
        _ => Begins::No,
    }
}

/// How a fragment takes an opaque one in front of it.
enum Take {
    /// The opaque token, whole.
    Tree,
    /// A path as a type: whole, unless `+` bounds or `!` (a macro in type
    /// position) follow it, which rustc's type parser goes on to read.
    PathType,
    /// As a start, parsing on (`$e + 1` is one `expr`).
    Parse,
    /// Nothing: an empty `vis`.
    Empty,
    /// It cannot begin here.
    No,
    Undecided(&'static str),
}

/// What a fragment of `kind` does with an opaque fragment of kind `opaque`,
/// after rustc's `nonterminal_may_begin_with` and the parsers that take a
/// whole nonterminal. Where rustc would parse one kind as another (an
/// item as a statement), the answer is left undecided; a path is a type.
fn facing_opaque(kind: Kind, opaque: Option<Kind>, literal: bool) -> Take {
    const UNDECIDED: Take =
        Take::Undecided("a fragment passed on meets a fragment of another kind");
    if kind == Kind::Tt {
        return Take::Tree;
    }
    let Some(opaque) = opaque else {
        return Take::Undecided("a fragment passed on is of no kind capgate knows");
    };
    let same = opaque::opaque_kind(kind) == Some(opaque);
    match kind {
        Kind::Tt => Take::Tree,
        Kind::Ident | Kind::Lifetime => Take::No,
        Kind::Expr | Kind::Expr2021 => match opaque {
            Kind::Expr | Kind::Literal | Kind::Path | Kind::Block => Take::Parse,
            Kind::Stmt => UNDECIDED,
            _ => Take::No,
        },
        Kind::Vis if same => Take::Tree,
        Kind::Vis => Take::Empty,
        _ if same => Take::Tree,
        // `parse_ty` starts a type at a path passed on (`$p:path` given
        // to `$t:ty`, memoffset's `_memoffset__let_base_ptr!`).
        Kind::Ty => match opaque {
            Kind::Path => Take::PathType,
            _ => Take::No,
        },
        Kind::Path | Kind::Meta | Kind::Pat | Kind::PatParam => match opaque {
            Kind::Item | Kind::Block | Kind::Vis => Take::No,
            _ => UNDECIDED,
        },
        Kind::Block => match opaque {
            Kind::Item | Kind::Pat | Kind::Ty | Kind::Meta | Kind::Path | Kind::Vis => Take::No,
            _ => UNDECIDED,
        },
        // `can_begin_literal_maybe_minus`: an expression that is a literal.
        Kind::Literal if opaque == Kind::Expr && literal => Take::Tree,
        Kind::Literal => Take::No,
        Kind::Stmt | Kind::Item => UNDECIDED,
    }
}

/// Why a fragment was not taken.
pub(super) enum FragmentError {
    /// It does not parse (rustc stops with an error).
    Parse,
    /// syn and rustc are known to differ here.
    Undecided(&'static str),
}

impl From<syn::Error> for FragmentError {
    fn from(_: syn::Error) -> FragmentError {
        FragmentError::Parse
    }
}

/// Parses one fragment of `kind` and returns exactly the tokens it spans.
pub(super) fn fragment(input: ParseStream, kind: Kind) -> Result<Vec<TokenTree>, FragmentError> {
    if let (Tok::Opaque(opaque, literal), _) = peek(input.cursor(), false) {
        match facing_opaque(kind, opaque, literal) {
            Take::Tree => {
                let tree: TokenTree = input.parse()?;
                // rustc's `pat` goes on to alternatives after a whole one;
                // which ones it takes is not decided here.
                if kind == Kind::Pat && input.peek(syn::Token![|]) {
                    return Err(FragmentError::Undecided(
                        "alternatives follow a pattern passed on",
                    ));
                }
                return Ok(vec![tree]);
            }
            Take::PathType => {
                let tree: TokenTree = input.parse()?;
                if input.peek(syn::Token![+]) || input.peek(syn::Token![!]) {
                    return Err(FragmentError::Undecided(
                        "a path passed on as a type is followed by bounds or `!`",
                    ));
                }
                return Ok(vec![tree]);
            }
            Take::Empty => return Ok(Vec::new()),
            Take::Parse => {}
            Take::No => return Err(input.error("an opaque fragment of another kind").into()),
            Take::Undecided(why) => return Err(FragmentError::Undecided(why)),
        }
    }
    let start = input.cursor();
    match kind {
        Kind::Ident => {
            let ident = Ident::parse_any(input)?;
            if ident == "_" {
                return Err(input.error("`_` is not an identifier").into());
            }
        }
        Kind::Tt => single_token_tree(input)?,
        Kind::Lifetime => {
            input.parse::<syn::Lifetime>()?;
        }
        Kind::Literal => {
            input.parse::<Option<syn::Token![-]>>()?;
            input.parse::<syn::Lit>()?;
        }
        Kind::Block => {
            input.parse::<syn::Block>()?;
        }
        Kind::Expr | Kind::Expr2021 => {
            input.parse::<syn::Expr>()?;
        }
        Kind::Ty => {
            let ty = input.parse::<syn::Type>()?;
            if matches!(ty, syn::Type::Path(_)) {
                parenthesized_arguments(input)?;
            }
        }
        Kind::Path => {
            input.parse::<syn::Path>()?;
            parenthesized_arguments(input)?;
        }
        Kind::Pat => {
            syn::Pat::parse_multi_with_leading_vert(input)?;
        }
        Kind::PatParam => {
            syn::Pat::parse_single(input)?;
        }
        Kind::Stmt => statement(input)?,
        Kind::Item => {
            input.parse::<syn::Item>()?;
        }
        Kind::Vis => {
            input.parse::<syn::Visibility>()?;
        }
        Kind::Meta => {
            input.parse::<syn::Meta>()?;
        }
    }
    Ok(trees_between(start, input.cursor()))
}

/// rustc reads a path in a type or `path` fragment with parenthesized
/// arguments on any segment (`Fn(u8) -> u8`, `a::B(u8)::C`) where syn's
/// `Path` stops before the brackets: the rest is taken here as rustc does.
fn parenthesized_arguments(input: ParseStream) -> syn::Result<()> {
    while input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        content.parse_terminated(<syn::Type as syn::parse::Parse>::parse, syn::Token![,])?;
        if input.peek(syn::Token![->]) {
            input.parse::<syn::Token![->]>()?;
            input.call(syn::Type::without_plus)?;
        }
        if !input.peek(syn::Token![::]) {
            break;
        }
        input.parse::<syn::Token![::]>()?;
        input.parse::<syn::Path>()?;
    }
    Ok(())
}

fn trees_between(start: Cursor, end: Cursor) -> Vec<TokenTree> {
    let mut tokens = Vec::new();
    let mut cursor = start;
    while cursor != end {
        let Some((tree, next)) = cursor.token_tree() else {
            break;
        };
        tokens.push(tree);
        cursor = next;
    }
    tokens
}

/// A statement as rustc's `stmt` fragment takes it: without the `;` that
/// ends a `let`, an expression or a macro call (syn's `Stmt` takes it, and
/// needs it after a `let`).
fn statement(input: ParseStream) -> syn::Result<()> {
    let ahead = input.fork();
    ahead.call(syn::Attribute::parse_outer)?;
    if ahead.peek(syn::Token![let]) {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Token![let]>()?;
        syn::Pat::parse_multi_with_leading_vert(input)?;
        if input.peek(syn::Token![:]) && !input.peek(syn::Token![::]) {
            input.parse::<syn::Token![:]>()?;
            input.parse::<syn::Type>()?;
        }
        if input.peek(syn::Token![=]) && !input.peek(syn::Token![==]) {
            input.parse::<syn::Token![=]>()?;
            input.parse::<syn::Expr>()?;
            if input.peek(syn::Token![else]) {
                input.parse::<syn::Token![else]>()?;
                input.parse::<syn::Block>()?;
            }
        }
        return Ok(());
    }
    let ahead = input.fork();
    let Ok(stmt) = ahead.parse::<syn::Stmt>() else {
        // An expression without its `;` (`1 + 1` before `=>`), which
        // syn's `Stmt` does not take and rustc's `stmt` does.
        input.parse::<syn::Expr>()?;
        return Ok(());
    };
    let semi = match &stmt {
        syn::Stmt::Expr(_, semi) => semi.is_some(),
        syn::Stmt::Macro(m) => m.semi_token.is_some(),
        syn::Stmt::Local(_) | syn::Stmt::Item(_) => false,
    };
    if !semi {
        input.advance_to(&ahead);
        return Ok(());
    }
    let taken = trees_between(input.cursor(), ahead.cursor()).len();
    for _ in 1..taken {
        input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// One token tree as rustc counts them: a lifetime (`'a`) and a compound
/// operator (`::`, `=>`) are one.
fn single_token_tree(input: ParseStream) -> syn::Result<()> {
    let (token, width) = peek(input.cursor(), false);
    match token {
        Tok::Open(_) | Tok::Close | Tok::Eof => {
            input.parse::<TokenTree>()?;
        }
        _ => {
            for _ in 0..width.max(1) {
                input.parse::<TokenTree>()?;
            }
        }
    }
    Ok(())
}
