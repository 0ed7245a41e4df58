//! Keywords an invocation's arguments carry apart from what they govern.
//! A macro that only passes its input on is not expanded, yet it can put
//! an `unsafe` it was given beside a block it was given separately: the
//! arguments as written do not show that, so such an invocation is
//! expanded whatever its definition looks like.

use proc_macro2::{TokenStream, TokenTree};

/// Words an expansion needs to be collected for when they come from the
/// arguments: they start structural findings (`unsafe`, `extern`), name
/// files or imports (`mod`, `use`, `path`, `include`), or make attributes
/// with effects (`no_mangle`, …).
const SIGNIFICANT_WORDS: &[&str] = &[
    "unsafe",
    "extern",
    "mod",
    "use",
    "macro_rules",
    "no_mangle",
    "export_name",
    "link_section",
    "link",
    "path",
    "include",
];

/// What significant words an invocation's arguments carry.
#[derive(Default)]
pub(super) struct Carried {
    /// One appears where the arguments read as written do not show what it
    /// does: a keyword not followed by what it governs (`unsafe` then
    /// `,`), or an attribute name outside `#[…]`. The macro is expanded
    /// even if its own body only passes tokens on (one written in place,
    /// `unsafe { .. }`, is seen where it is written, and a macro such as
    /// `quote!` that turns it into data need not be followed through its
    /// token-by-token recursion); an expansion that cannot be made then
    /// hides it, so the crate is unanalysed.
    pub(super) apart: bool,
}

pub(super) fn carried_keywords(args: &TokenStream) -> Carried {
    let mut out = Carried::default();
    let mut pending: Vec<(Vec<TokenTree>, bool)> =
        vec![(args.clone().into_iter().collect(), false)];
    while let Some((trees, in_attribute)) = pending.pop() {
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => {
                    let attribute = g.delimiter() == proc_macro2::Delimiter::Bracket
                        && i > 0
                        && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '#' || p.as_char() == '!');
                    pending.push((g.stream().into_iter().collect(), in_attribute || attribute));
                }
                TokenTree::Ident(id) => {
                    let word = id.to_string();
                    if !SIGNIFICANT_WORDS.contains(&word.as_str()) {
                        continue;
                    }
                    let next = trees.get(i + 1);
                    let governs = match word.as_str() {
                        "unsafe" => {
                            matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Brace)
                                || matches!(next, Some(TokenTree::Ident(n)) if n == "fn" || n == "impl" || n == "trait" || n == "extern")
                        }
                        "extern" => {
                            matches!(next, Some(TokenTree::Group(_) | TokenTree::Literal(_)))
                                || matches!(next, Some(TokenTree::Ident(n)) if n == "crate" || n == "fn")
                        }
                        "mod" => matches!(next, Some(TokenTree::Ident(_))),
                        "use" => {
                            matches!(next, Some(TokenTree::Ident(_)))
                                || matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == ':')
                                || matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Brace)
                        }
                        "macro_rules" => {
                            matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '!')
                        }
                        // Plain identifiers too common as names to be
                        // suspicious on their own.
                        "path" | "link" | "include" => true,
                        _ => in_attribute,
                    };
                    out.apart |= !governs;
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_the_arguments_carry() {
        let apart = |args: &str| carried_keywords(&args.parse().unwrap()).apart;
        assert!(!apart("a, b + 1"));
        // As written, `unsafe { .. }` is already seen where it is.
        assert!(!apart("unsafe { *p = 0 }"));
        assert!(apart("unsafe, { *p = 0 }"));
        assert!(apart("{ x } unsafe"));
        assert!(apart("mod; hidden"));
        assert!(apart("no_mangle"));
        assert!(!apart("#[no_mangle] fn f() {}"));
        assert!(!apart("(path)"));
    }
}
