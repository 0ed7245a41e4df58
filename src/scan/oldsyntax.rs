//! Syntax of the 2015 and 2018 editions that rustc still accepts and syn 2
//! does not, rewritten to today's equivalent so that such a file gets a
//! syntax tree instead of the token-level fallback.
//!
//! Two forms are common in crates still in wide use:
//!
//! - A bare `Fn`/`FnMut`/`FnOnce` trait object, `Box<Fn(u8) + Send>` or
//!   `type Action = Fn(&T) + Sync;` (a warning until the 2021 edition):
//!   `dyn` is put before the path.
//! - An anonymous parameter in a trait method, `fn hash(&mut self, Self);`
//!   (2015 only): `_:` is put before its type.
//!
//! Only tokens are added, each with the span of the token it precedes, so
//! positions stay where the file has them; nothing is removed. The rewrite
//! is tried only after syn has rejected the file, and the result is used
//! only if syn then accepts it. Macro invocations and `macro_rules!`
//! bodies are copied untouched: the expander reads them as written.

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, TokenStream, TokenTree};

/// The file's tokens with the old forms rewritten, or `None` when there
/// was nothing to rewrite.
pub fn modernize(tokens: TokenStream) -> Option<TokenStream> {
    let mut changed = false;
    let out = rewrite(tokens, &mut changed);
    changed.then_some(out)
}

fn rewrite(tokens: TokenStream, changed: &mut bool) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        // `name!(..)`, `name! {..}`, `macro_rules! name {..}`: verbatim.
        if let Some(end) = macro_invocation_end(&trees, i) {
            out.extend(trees[i..end].iter().cloned());
            i = end;
            continue;
        }
        if starts_bare_fn_trait(&trees, i) && after_type_opener(&out) {
            out.push(TokenTree::Ident(Ident::new("dyn", trees[i].span())));
            *changed = true;
        }
        if let Some(params) = named_fn_params(&trees, i) {
            // Everything up to the parameter list as it is, then the list.
            out.extend(trees[i..params].iter().cloned());
            let TokenTree::Group(group) = &trees[params] else {
                unreachable!("named_fn_params returns a parenthesized group")
            };
            let inner = rewrite(group.stream(), changed);
            out.push(regroup(group, name_anonymous_params(inner, changed)));
            i = params + 1;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(group) => {
                let inner = rewrite(group.stream(), changed);
                out.push(regroup(group, inner));
            }
            tree => out.push(tree.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

fn regroup(original: &Group, stream: TokenStream) -> TokenTree {
    let mut group = Group::new(original.delimiter(), stream);
    group.set_span(original.span());
    TokenTree::Group(group)
}

fn is_punct(tree: Option<&TokenTree>, ch: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

fn is_ident(tree: Option<&TokenTree>, name: &str) -> bool {
    matches!(tree, Some(TokenTree::Ident(i)) if i == name)
}

/// Where the macro invocation (or `macro_rules!` definition) starting at
/// `i` ends, if one starts there.
fn macro_invocation_end(trees: &[TokenTree], i: usize) -> Option<usize> {
    let Some(TokenTree::Ident(_)) = trees.get(i) else {
        return None;
    };
    let Some(TokenTree::Punct(bang)) = trees.get(i + 1) else {
        return None;
    };
    if bang.as_char() != '!' || bang.spacing() == Spacing::Joint {
        return None;
    }
    match (trees.get(i + 2), trees.get(i + 3)) {
        (Some(TokenTree::Group(_)), _) => Some(i + 3),
        (Some(TokenTree::Ident(_)), Some(TokenTree::Group(_))) => Some(i + 4),
        _ => None,
    }
}

/// A path (`Fn`, `ops::Fn`, `::std::ops::FnMut`) ending in one of the
/// closure traits, followed by its parenthesized arguments.
fn starts_bare_fn_trait(trees: &[TokenTree], i: usize) -> bool {
    let mut j = i;
    if is_punct(trees.get(j), ':') && is_punct(trees.get(j + 1), ':') {
        j += 2;
    }
    loop {
        let Some(TokenTree::Ident(segment)) = trees.get(j) else {
            return false;
        };
        if segment == "mut" || segment == "dyn" || segment == "impl" {
            return false;
        }
        if is_punct(trees.get(j + 1), ':') && is_punct(trees.get(j + 2), ':') {
            j += 3;
            continue;
        }
        let is_fn_trait = segment == "Fn" || segment == "FnMut" || segment == "FnOnce";
        return is_fn_trait
            && matches!(trees.get(j + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
    }
}

/// Whether what was written so far ends where only a type can follow: a
/// generic argument list (`<`), a reference (`&`, `&mut`, `&'a`), a type
/// alias (`type X =`), or the start of a parenthesized type. A bound
/// (`F: Fn()`, `+ Fn()`) or `impl`/`dyn` before it is left alone.
fn after_type_opener(out: &[TokenTree]) -> bool {
    let n = out.len();
    let last = out.last();
    match last {
        None => true,
        Some(TokenTree::Punct(p)) => match p.as_char() {
            '<' => !is_punct(n.checked_sub(2).and_then(|k| out.get(k)), '<'),
            '&' => true,
            '=' => {
                // `type X =`, not `==`, `<=`, `!=`, `+=`.
                let before = n.checked_sub(2).and_then(|k| out.get(k));
                !matches!(before, Some(TokenTree::Punct(q)) if q.spacing() == Spacing::Joint)
                    && type_alias_before(out)
            }
            _ => false,
        },
        Some(TokenTree::Ident(word)) if word == "mut" => ends_with_reference(&out[..n - 1]),
        Some(TokenTree::Ident(_)) => ends_with_reference(out),
        _ => false,
    }
}

/// `&` or `&'a` just written.
fn ends_with_reference(out: &[TokenTree]) -> bool {
    let n = out.len();
    let at = |back: usize| n.checked_sub(back).and_then(|k| out.get(k));
    if is_punct(at(1), '&') {
        return true;
    }
    // A lifetime is `'` joined to an identifier.
    matches!(at(1), Some(TokenTree::Ident(_))) && is_punct(at(2), '\'') && is_punct(at(3), '&')
}

/// `type Name =` or `type Name<..> =` just written.
fn type_alias_before(out: &[TokenTree]) -> bool {
    let before_eq = &out[..out.len() - 1];
    let mut k = before_eq.len();
    if is_punct(before_eq.last(), '>') {
        let mut depth = 0usize;
        while k > 0 {
            k -= 1;
            match &before_eq[k] {
                TokenTree::Punct(p) if p.as_char() == '>' => depth += 1,
                TokenTree::Punct(p) if p.as_char() == '<' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    k >= 2
        && matches!(before_eq.get(k - 1), Some(TokenTree::Ident(_)))
        && is_ident(before_eq.get(k - 2), "type")
}

/// For `fn name(..)` or `fn name<..>(..)` starting at `i`, the index of the
/// parameter list. `fn(..)` (a function pointer type) is not one: its
/// parameters may be anonymous in every edition.
fn named_fn_params(trees: &[TokenTree], i: usize) -> Option<usize> {
    if !is_ident(trees.get(i), "fn") {
        return None;
    }
    let Some(TokenTree::Ident(_)) = trees.get(i + 1) else {
        return None;
    };
    let mut j = i + 2;
    if is_punct(trees.get(j), '<') {
        let mut depth = 0usize;
        while let Some(tree) = trees.get(j) {
            match tree {
                TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
                TokenTree::Punct(p) if p.as_char() == '>' && !arrow_ends_at(trees, j) => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        j += 1;
    }
    match trees.get(j) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => Some(j),
        _ => None,
    }
}

/// Whether the `>` at `j` is the end of `->`.
fn arrow_ends_at(trees: &[TokenTree], j: usize) -> bool {
    j > 0
        && matches!(&trees[j - 1], TokenTree::Punct(p) if p.as_char() == '-' && p.spacing() == Spacing::Joint)
}

/// A parameter list with `_:` before each parameter that is a bare type.
fn name_anonymous_params(params: TokenStream, changed: &mut bool) -> TokenStream {
    let trees: Vec<TokenTree> = params.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut start = 0;
    let mut angle = 0usize;
    for k in 0..=trees.len() {
        let at_end = k == trees.len();
        if !at_end {
            match &trees[k] {
                TokenTree::Punct(p) if p.as_char() == '<' => angle += 1,
                TokenTree::Punct(p) if p.as_char() == '>' && !arrow_ends_at(&trees, k) => {
                    angle = angle.saturating_sub(1)
                }
                _ => {}
            }
        }
        let separator = !at_end && angle == 0 && is_punct(trees.get(k), ',');
        if !(at_end || separator) {
            continue;
        }
        let param = &trees[start..k];
        if is_anonymous(param) {
            let span = param[0].span();
            let mut underscore = Ident::new("_", span);
            underscore.set_span(span);
            let mut colon = Punct::new(':', Spacing::Alone);
            colon.set_span(span);
            out.push(TokenTree::Ident(underscore));
            out.push(TokenTree::Punct(colon));
            *changed = true;
        }
        out.extend(param.iter().cloned());
        if separator {
            out.push(trees[k].clone());
        }
        start = k + 1;
    }
    out.into_iter().collect()
}

/// A parameter with no name: not empty, not `self` in any of its forms,
/// not C's `...`, and without a `:` of its own (outside `::`) at its top
/// level.
fn is_anonymous(param: &[TokenTree]) -> bool {
    if param.is_empty() || param.iter().all(|t| is_punct(Some(t), '.')) {
        return false;
    }
    // Attributes on a parameter: `#[cfg(x)] u8`.
    let mut rest = param;
    while is_punct(rest.first(), '#') && matches!(rest.get(1), Some(TokenTree::Group(_))) {
        rest = &rest[2..];
    }
    let words: Vec<String> = rest.iter().map(|t| t.to_string()).collect();
    let is_self = matches!(
        words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["self"]
            | ["mut", "self"]
            | ["&", "self"]
            | ["&", "mut", "self"]
            | ["&", "'", _, "self"]
            | ["&", "'", _, "mut", "self"]
    );
    if is_self || rest.is_empty() {
        return false;
    }
    let single_colon = rest.iter().enumerate().any(|(k, t)| match t {
        TokenTree::Punct(p) if p.as_char() == ':' => {
            p.spacing() == Spacing::Alone
                && !is_punct_joint_colon(k.checked_sub(1).and_then(|j| rest.get(j)))
        }
        _ => false,
    });
    !single_colon
}

fn is_punct_joint_colon(tree: Option<&TokenTree>) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rewritten text without spaces (token spacing is the lexer's).
    fn modern(text: &str) -> Option<String> {
        modernize(text.parse().unwrap()).map(|t| t.to_string().replace(' ', ""))
    }

    fn parses(text: &str) -> bool {
        syn::parse2::<syn::File>(text.parse().unwrap()).is_ok()
    }

    #[test]
    fn bare_closure_trait_objects_get_dyn() {
        for (old, new) in [
            (
                "type A = Fn(&u8) + Send + Sync;",
                "typeA=dynFn(&u8)+Send+Sync;",
            ),
            ("type B<T> = Box<FnMut(T)>;", "typeB<T>=Box<dynFnMut(T)>;"),
            ("fn f(x: &(Fn(u8) + Send)) {}", "fnf(x:&(dynFn(u8)+Send)){}"),
            (
                "fn f(x: &'a mut ::std::ops::FnOnce()) {}",
                "fnf(x:&'amutdyn::std::ops::FnOnce()){}",
            ),
        ] {
            assert!(
                !parses(old),
                "syn accepts {old} now: the rewrite is not needed"
            );
            let rewritten = modern(old).expect("rewritten");
            assert_eq!(rewritten, new);
            assert!(
                parses(&modernize(old.parse().unwrap()).unwrap().to_string()),
                "{rewritten}"
            );
        }
    }

    #[test]
    fn bounds_calls_and_macros_are_left_alone() {
        for text in [
            "fn f<F: Fn(u8)>(f: F) where F: FnMut() + Send {}",
            "fn f(x: impl Fn(u8), y: Box<dyn Fn()>) {}",
            "fn f() { let _ = a < b; m!(Box<Fn(u8)>); }",
            "macro_rules! m { () => { type A = Fn(); fn g(u8); } }",
            "fn f(a: u8, b: ::std::string::String, ...) {}",
            "fn f(&self, (a, b): (u8, u8)) {}",
            "type P = fn(u8, u16) -> u8;",
        ] {
            assert_eq!(modern(text), None, "{text}");
        }
    }

    #[test]
    fn anonymous_trait_parameters_are_named_underscore() {
        let old = "trait T { fn h(&mut self, Self); fn g<K: Ord>(HashMap<K, u8>, &'a str) -> u8; }";
        assert!(!parses(old));
        let rewritten = modern(old).expect("rewritten");
        assert_eq!(
            rewritten,
            "traitT{fnh(&mutself,_:Self);fng<K:Ord>(_:HashMap<K,u8>,_:&'astr)->u8;}"
        );
        assert!(parses(
            &modernize(old.parse().unwrap()).unwrap().to_string()
        ));
    }
}
