//! The tokens of `quote!`, `quote_spanned!`, `parse_quote!` and
//! `parse_quote_spanned!`: code a crate emits (into its users, or into a
//! generated file) rather than runs.
//!
//! They are read as code like any macro's arguments, each fact marked with
//! the invocation (`Pos::emitted`). Whether the invocation really is the
//! quote or syn macro, whose tokens never run, is known only once names are
//! resolved (`scan/emits.rs`); until then, and whenever it is not, the
//! facts are the crate's own.
//!
//! `quote_spanned!(SPAN => TOKENS)` evaluates `SPAN` in the macro: those
//! tokens are always the crate's own code.

use proc_macro2::{Spacing, TokenStream, TokenTree};

use super::Collector;
use crate::scan::facts::{EmitRegion, WrittenPath};

/// The last segments of the macros whose tokens may be emitted code.
pub(in crate::scan) const EMITTING_MACROS: &[&str] = &[
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
];

impl Collector<'_> {
    /// Splits an invocation's tokens into the crate's own code and, for a
    /// `quote!`-like macro, the tokens it may only emit, with the region
    /// (`Pos::emitted`) recorded for them. Inside a region, a nested
    /// invocation stays in the outer one.
    pub(super) fn emitted_tokens(
        &mut self,
        name: &str,
        path: &syn::Path,
        tokens: &TokenStream,
    ) -> (TokenStream, Option<(u32, TokenStream)>) {
        // A macro_rules! body is read as tokens with metavariables, and a
        // token-mode file without syn's structure: both stay the crate's own.
        if !EMITTING_MACROS.contains(&name) || self.in_macro_body || self.tokens_only {
            return (tokens.clone(), None);
        }
        let (own, emitted) = if name.ends_with("_spanned") {
            match split_at_fat_arrow(tokens) {
                Some(parts) => parts,
                None => return (tokens.clone(), None),
            }
        } else {
            (TokenStream::new(), tokens.clone())
        };
        if self.emitting != 0 {
            return (own, Some((self.emitting, emitted)));
        }
        self.facts.emit_regions.push(EmitRegion {
            path: WrittenPath::from_syn(path),
            scope: self.scope,
            enclosing: self.enclosing_macro.clone(),
        });
        let region = self.facts.emit_regions.len() as u32;
        (own, Some((region, emitted)))
    }
}

/// `SPAN => TOKENS` split at the first `=>` outside any group, as
/// `quote_spanned!` does; `None` without one.
fn split_at_fat_arrow(tokens: &TokenStream) -> Option<(TokenStream, TokenStream)> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let arrow = trees.windows(2).position(|pair| {
        matches!(pair, [TokenTree::Punct(eq), TokenTree::Punct(gt)]
            if eq.as_char() == '=' && eq.spacing() == Spacing::Joint && gt.as_char() == '>')
    })?;
    let own = trees[..arrow].iter().cloned().collect();
    let emitted = trees[arrow + 2..].iter().cloned().collect();
    Some((own, emitted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_before_the_first_top_level_arrow_is_split_off() {
        let tokens: TokenStream = "f(|x| x => y) . span() => fn g() { a => b }"
            .parse()
            .unwrap();
        let (own, emitted) = split_at_fat_arrow(&tokens).unwrap();
        assert_eq!(own.to_string(), "f (| x | x => y) . span ()");
        assert_eq!(emitted.to_string(), "fn g () { a => b }");
        assert!(split_at_fat_arrow(&"a = > b".parse().unwrap()).is_none());
    }
}
