//! Whether a `macro_rules!` needs expanding at all: what its transcribers
//! do beyond passing their input on. A macro that only passes tokens on
//! adds nothing its written arguments do not show, and is not expanded; so
//! every way a transcriber can assemble a name, `unsafe`, `extern`, `mod`
//! or `use` from separate pieces must count here, or the code it makes is
//! never seen.

use proc_macro2::TokenTree;

use crate::scan::expand::Arm;

/// What a `macro_rules!`'s transcribers do beyond passing their input on.
#[derive(Default)]
pub(super) struct Shape {
    /// A metavariable where a name is: beside `::` (`$m::Command`,
    /// `std::$m`), after `use` or `mod`, in a body with an `extern` block, or
    /// as the macro invoked (`$m!()`).
    pub(super) builds_names: bool,
    /// Code the invoking crate's scan must see at the invocation: `unsafe`,
    /// `extern`, items that name files or modules, attributes with effects.
    pub(super) emits_code: bool,
    /// A `cfg` or `cfg_attr`: `cfg_feature! { mod x; }` compiles `x` only
    /// under the condition the macro adds, so expanding it is more precise
    /// than reading its arguments; when it cannot be expanded, reading them
    /// keeps more code, never less, so that is not a gap.
    pub(super) adds_cfg: bool,
    /// Macros the transcribers invoke, by name.
    pub(super) invokes: Vec<String>,
}

pub(super) fn shape(arms: &[Arm]) -> Shape {
    let mut out = Shape::default();
    let mut has_extern = false;
    let mut has_metavariable = false;
    // Each group with whether it is the arguments of a macro the
    // transcriber invokes: what is built there is that macro's to say.
    let mut pending: Vec<(Vec<TokenTree>, bool, usize)> = arms
        .iter()
        .enumerate()
        .map(|(k, a)| (a.transcriber().to_vec(), false, k))
        .collect();
    while let Some((trees, in_invocation, arm)) = pending.pop() {
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => {
                    // A macro's arguments: `name!(..)`, not `!(..)` (a
                    // negation) nor `-> ! {..}`.
                    let invoked = i >= 2
                        && is_punct(trees.get(i - 1), '!')
                        && matches!(&trees[i - 2], TokenTree::Ident(name) if !KEYWORDS.contains(&name.to_string().as_str()));
                    pending.push((
                        g.stream().into_iter().collect(),
                        in_invocation || invoked,
                        arm,
                    ));
                }
                TokenTree::Ident(id) => {
                    let word = id.to_string();
                    if word == "extern" {
                        has_extern = true;
                    }
                    let is_macro = is_punct(trees.get(i + 1), '!')
                        && matches!(trees.get(i + 2), Some(TokenTree::Group(_)));
                    if matches!(
                        word.as_str(),
                        "unsafe"
                            | "extern"
                            | "mod"
                            | "use"
                            | "macro_rules"
                            | "no_mangle"
                            | "export_name"
                            | "link_section"
                            | "link"
                            | "path"
                    ) || (is_macro && word == "include")
                    {
                        out.emits_code = true;
                    }
                    if word == "cfg" || word == "cfg_attr" {
                        out.adds_cfg = true;
                    }
                    if is_macro {
                        out.invokes.push(word);
                    }
                }
                TokenTree::Punct(p) if p.as_char() == '$' => {
                    let Some(next) = trees.get(i + 1) else {
                        continue;
                    };
                    if matches!(next, TokenTree::Ident(name) if name == "crate") {
                        continue;
                    }
                    has_metavariable |= matches!(next, TokenTree::Ident(_));
                    let end = match next {
                        TokenTree::Ident(_) => i + 2,
                        TokenTree::Group(g) => {
                            if joins_across_runs(g, &trees[i + 2..], &arms[arm].contiguous_runs()) {
                                out.builds_names = !in_invocation || out.builds_names;
                            }
                            // `$($p)::*`: runs joined into a path, wherever.
                            let tail = repetition_end(&trees, i + 2);
                            if tail >= i + 4
                                && is_punct(trees.get(i + 2), ':')
                                && is_punct(trees.get(i + 3), ':')
                            {
                                out.builds_names = true;
                            }
                            repetition_end(&trees, i + 2)
                        }
                        _ => continue,
                    };
                    // Next to another metavariable only as `$a $b`: after a
                    // repetition (`$(#[$m])* $vis fn`) is how items are
                    // written, and the repetition's runs are judged above.
                    let single = matches!(next, TokenTree::Ident(_));
                    // An `ident` or `literal` beside a name or another
                    // metavariable makes no path; the neighbour's own
                    // metavariable is judged where it stands.
                    let carries = match next {
                        TokenTree::Ident(name) => {
                            arms[arm].may_carry_path_separator(&name.to_string())
                        }
                        _ => true,
                    };
                    let joined = carries
                        && ((i >= 1 && joins(&trees[i - 1], trees.get(i.wrapping_sub(2))))
                            || trees.get(end).is_some_and(|t| {
                                joins(t, trees.get(end + 1))
                                    && (!is_punct(Some(t), '$')
                                        || (single
                                            && matches!(
                                                trees.get(end + 1),
                                                Some(TokenTree::Ident(_))
                                            )))
                            }));
                    let after_keyword = i >= 1
                        && matches!(&trees[i - 1], TokenTree::Ident(k) if k == "use" || k == "mod");
                    let invoked = is_punct(trees.get(end), '!');
                    // Next to `::` a metavariable extends a path wherever it
                    // is, in another macro's arguments too (what that macro
                    // makes of them is not always known). The other joins
                    // are judged only outside them, where they are common
                    // and harmless (`asm!(.., options(nostack $x))`).
                    let beside_colons = (i >= 2
                        && is_punct(trees.get(i - 1), ':')
                        && is_punct(trees.get(i - 2), ':'))
                        || (is_punct(trees.get(end), ':') && is_punct(trees.get(end + 1), ':'));
                    // A type made a path by what is around it: `<$t>::new`,
                    // `type X = $t;` (then `X::new`), `impl Tr for $t` (then
                    // `Self::new`).
                    let ident_is = |at: usize, word: &str| matches!(trees.get(at), Some(TokenTree::Ident(w)) if w == word);
                    let as_type = carries
                        && ((is_punct(trees.get(end), '>')
                            && is_punct(trees.get(end + 1), ':')
                            && is_punct(trees.get(end + 2), ':'))
                            || (i >= 3
                                && is_punct(trees.get(i - 1), '=')
                                && ident_is(i - 3, "type"))
                            || (i >= 1
                                && ident_is(i - 1, "for")
                                && trees[..i - 1]
                                    .iter()
                                    .any(|t| matches!(t, TokenTree::Ident(w) if w == "impl"))));
                    if (joined && !in_invocation)
                        || beside_colons
                        || as_type
                        || after_keyword
                        || invoked
                    {
                        out.builds_names = true;
                    }
                }
                _ => {}
            }
        }
    }
    out.builds_names |= has_extern && has_metavariable;
    out
}

fn is_punct(tree: Option<&TokenTree>, c: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// Whether a token next to a metavariable (with the one beyond it) can
/// make one name with what the metavariable is replaced by: an identifier
/// (`std $m`), `::`, or another metavariable (`$a $b`).
fn joins(tree: &TokenTree, beyond: Option<&TokenTree>) -> bool {
    match tree {
        // A keyword other than a path's own cannot be part of a name.
        TokenTree::Ident(word) => {
            let word = word.to_string();
            !KEYWORDS.contains(&word.as_str())
                || matches!(word.as_str(), "crate" | "self" | "super" | "Self")
        }
        TokenTree::Punct(p) => p.as_char() == '$' || (p.as_char() == ':' && is_punct(beyond, ':')),
        _ => false,
    }
}

/// Whether the runs of a repetition `$( .. )` can join into one name: its
/// body starts or ends with a metavariable, the separator (none, or `::`)
/// does not keep them apart, and they are not a stretch of the input as
/// written (`$($t)*` from `$($t:tt),*` given `std, ::, process`, not from
/// `$($t:tt)*`).
fn joins_across_runs(body: &proc_macro2::Group, tail: &[TokenTree], contiguous: &[&str]) -> bool {
    let inner: Vec<TokenTree> = body.stream().into_iter().collect();
    let unseparated =
        matches!(tail.first(), Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+'));
    if let [TokenTree::Punct(dollar), TokenTree::Ident(name)] = inner.as_slice()
        && dollar.as_char() == '$'
        && unseparated
        && contiguous.contains(&name.to_string().as_str())
    {
        return false;
    }
    let at_edge = matches!(inner.first(), Some(TokenTree::Punct(p)) if p.as_char() == '$')
        || (inner.len() >= 2 && is_punct(inner.get(inner.len() - 2), '$'));
    let separated_apart = match tail.first() {
        // `?`: one run at most.
        Some(TokenTree::Punct(p)) if p.as_char() == '?' => true,
        Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+') => false,
        Some(TokenTree::Punct(p)) => p.as_char() != ':',
        // A name between the runs joins them (`$($x)std*`).
        Some(TokenTree::Ident(_)) => false,
        _ => true,
    };
    at_edge && !separated_apart
}

/// Rust's keywords, in every edition.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];

/// The index after a repetition's separator and operator.
fn repetition_end(trees: &[TokenTree], start: usize) -> usize {
    let mut at = start;
    while at < trees.len() && at < start + 4 {
        let op = is_punct(trees.get(at), '*')
            || is_punct(trees.get(at), '+')
            || is_punct(trees.get(at), '?');
        at += 1;
        if op {
            break;
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::expand;

    fn builds(body: &str) -> bool {
        shape(&expand::parse_rules(body.parse().unwrap(), false).unwrap()).builds_names
    }

    #[test]
    fn tokens_joined_from_separate_arguments_build_names() {
        // `std $c process $c Command` with `$c = ::`.
        assert!(builds(
            "($c:tt) => { std $c process $c Command::new(\"sh\") }"
        ));
        // `std::$($t)*`: a repetition that goes on a path.
        assert!(builds("($($t:tt)*) => { std::$($t)* }"));
        // Runs of a repetition with separators dropped join pieces.
        assert!(builds("($($t:tt),*) => { fn f() { $($t)* } }"));
        // Runs that are a stretch of the input as written join nothing new.
        assert!(!builds("($($t:tt)*) => { fn f() { $($t)* } }"));
        // A keyword next to a metavariable is no part of a name.
        assert!(!builds("($n:ident) => { fn $n() {} }"));
        // Inside another macro's arguments that macro decides.
        assert!(!builds("($n:ident) => { other!(std $n) }"));
        assert!(!builds(
            "($n:ident) => { asm!(\"x\", options(nostack $n)) }"
        ));
    }

    #[test]
    fn bodies_that_build_names_from_arguments() {
        assert!(builds("($m:path) => { $m::Command::new() }"));
        assert!(builds("($m:ident) => { std::$m::read() }"));
        assert!(builds("($m:ident) => { use $m; }"));
        assert!(builds("($f:ident) => { extern \"C\" { fn $f(); } }"));
        assert!(builds("($m:ident) => { $m!() }"));
        assert!(builds("($($p:ident)*) => { $($p)::*() }"));
        assert!(!builds("($e:expr) => { println!(\"{}\", $e) }"));
        assert!(!builds("($e:expr) => { $crate::run($e) }"));
        assert!(!builds("($t:ty) => { let x: $t = 1; }"));
        // A matcher's `$t:ident ::` is not a path.
        assert!(!builds("($t:ident ::) => { push(&mut $t) }"));
    }
}
