//! What an item's attributes tell the reader, as opposed to what they are
//! as findings (`attrs.rs`): a `cfg` that drops the item from this build,
//! the `#[path]`s of a module, bare or under `cfg_attr`, and the crate's
//! `#![recursion_limit]`.
//!
//! An item is dropped only when its `cfg` cannot hold for this target and
//! these features, and a `#[path]` under a `cfg_attr` that may hold is one
//! more candidate file, because skipping code that is built hides what it
//! can do.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Item, Meta, Token};

use super::PathAttr;
use crate::platform::CfgContext;
use crate::scan::limits::{LIMITS, shape_exceeds};

pub(super) fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// Whether attributes remove an item from this build: a `cfg` that cannot
/// hold for this target and these features. (`#[test]` is the built-in
/// only when nothing else is named `test` in scope: see `testgate.rs`.)
pub(super) fn excluded(attrs: &[Attribute], cfg: &CfgContext) -> bool {
    attrs.iter().any(|attr| meta_excludes(&attr.meta, cfg))
}

fn meta_excludes(meta: &Meta, cfg: &CfgContext) -> bool {
    match meta {
        Meta::List(list) if list.path.is_ident("cfg") => !cfg.may_compile(&list.tokens.to_string()),
        _ => false,
    }
}

/// Whether attributes may remove an item from this build without
/// certainly doing so: a `cfg` not known before a build, or a `cfg` that a
/// `cfg_attr` whose condition may hold adds (`#[cfg_attr(debug_assertions,
/// cfg(any()))]` drops the item from debug builds only). The item is read,
/// but the names it defines hide nothing.
pub(super) fn uncertain(attrs: &[Attribute], cfg: &CfgContext) -> bool {
    attrs.iter().any(|attr| meta_uncertain(&attr.meta, cfg))
}

fn meta_uncertain(meta: &Meta, cfg: &CfgContext) -> bool {
    match meta {
        Meta::List(list) if list.path.is_ident("cfg") => {
            cfg.evaluate(&list.tokens.to_string()).is_none()
        }
        Meta::List(list) if list.path.is_ident("cfg_attr") => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .map_or(true, |items| {
                let mut items = items.iter();
                let Some(predicate) = items.next() else {
                    return false;
                };
                let holds = cfg.evaluate(&predicate.to_token_stream().to_string());
                holds != Some(false)
                    && items.any(|m| {
                        matches!(m, Meta::List(l) if l.path.is_ident("cfg"))
                            || meta_uncertain(m, cfg)
                    })
            }),
        _ => false,
    }
}

pub(super) fn token_attr_excluded(attr: &TokenStream, cfg: &CfgContext) -> bool {
    // A token-mode attribute may come from a file past a shape limit.
    shape_exceeds(attr, &LIMITS).is_none()
        && syn::parse2::<Meta>(attr.clone()).is_ok_and(|meta| meta_excludes(&meta, cfg))
}

pub(super) fn token_path_attrs(attr: &TokenStream, cfg: &CfgContext) -> Vec<PathAttr> {
    if shape_exceeds(attr, &LIMITS).is_some() {
        return Vec::new();
    }
    syn::parse2::<Meta>(attr.clone())
        .map(|meta| meta_paths(&meta, false, cfg))
        .unwrap_or_default()
}

pub(super) fn path_attributes(attrs: &[Attribute], cfg: &CfgContext) -> Vec<PathAttr> {
    attrs
        .iter()
        .flat_map(|a| meta_paths(&a.meta, false, cfg))
        .collect()
}

/// `path = "x"`, or the `path`s inside `cfg_attr(predicate, path = "x")`
/// whose predicate may hold (conditional unless it certainly holds).
fn meta_paths(meta: &Meta, conditional: bool, cfg: &CfgContext) -> Vec<PathAttr> {
    if let Some(path) = name_value_str(meta, "path") {
        return vec![PathAttr { path, conditional }];
    }
    match meta {
        Meta::List(list) if list.path.is_ident("cfg_attr") => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .map(|items| {
                let mut items = items.iter();
                let Some(predicate) = items.next() else {
                    return Vec::new();
                };
                let holds = cfg.evaluate(&predicate.to_token_stream().to_string());
                if holds == Some(false) {
                    return Vec::new();
                }
                items
                    .flat_map(|m| meta_paths(m, conditional || holds.is_none(), cfg))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

pub(super) fn name_value_str(meta: &Meta, key: &str) -> Option<String> {
    match meta {
        Meta::NameValue(nv) if nv.path.is_ident(key) => match &nv.value {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

/// The largest `recursion_limit = "N"` among a crate root's attributes,
/// bare or under any `cfg_attr` (a limit that may not hold only lets the
/// expander follow more than rustc would, never less).
pub(super) fn recursion_limit(attrs: &[Attribute]) -> Option<usize> {
    attrs
        .iter()
        .filter_map(|a| limit_in(a.meta.to_token_stream()))
        .max()
}

fn limit_in(tokens: TokenStream) -> Option<usize> {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut found = None;
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Ident(name) if name == "recursion_limit" => {
                if let (Some(TokenTree::Punct(eq)), Some(TokenTree::Literal(lit))) =
                    (trees.get(i + 1), trees.get(i + 2))
                    && eq.as_char() == '='
                    && let Ok(syn::Lit::Str(text)) = syn::parse_str::<syn::Lit>(&lit.to_string())
                    && let Ok(limit) = text.value().parse::<usize>()
                {
                    found = found.max(Some(limit));
                }
            }
            TokenTree::Group(group) => found = found.max(limit_in(group.stream())),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(src: &str) -> Vec<Attribute> {
        let item: syn::ItemFn = syn::parse_str(&format!("{src} fn f() {{}}")).unwrap();
        item.attrs
    }

    #[test]
    fn test_only_and_other_platforms_are_excluded() {
        let cx = CfgContext::new(Some("x86_64-unknown-linux-gnu"), &[], false);
        let excluded = |src| excluded(&attrs(src), &cx);
        assert!(excluded("#[cfg(test)]"));
        // Which `test` it is is decided once the crate is read.
        assert!(!excluded("#[test]"));
        assert!(excluded("#[cfg(all(unix, test))]"));
        assert!(!excluded("#[cfg(any(unix, test))]"));
        assert!(!excluded("#[cfg(not(test))]"));
        assert!(!excluded("#[inline]"));
        assert!(excluded("#[cfg(windows)]"));
        assert!(excluded("#[cfg(target_os = \"macos\")]"));
        assert!(!excluded("#[cfg(all(unix, not(target_os = \"macos\")))]"));
        assert!(excluded("#[cfg(feature = \"off\")]"));
    }

    #[test]
    fn a_cfg_not_known_before_a_build_makes_an_item_uncertain() {
        let cx = CfgContext::new(Some("x86_64-unknown-linux-gnu"), &[], false);
        let uncertain = |src| uncertain(&attrs(src), &cx);
        assert!(uncertain("#[cfg(debug_assertions)]"));
        assert!(uncertain("#[cfg(not(debug_assertions))]"));
        assert!(uncertain("#[cfg_attr(debug_assertions, cfg(any()))]"));
        assert!(uncertain(
            "#[cfg_attr(unix, cfg_attr(debug_assertions, cfg(unix)))]"
        ));
        // Known either way: the item is in the build, or it is not read.
        assert!(!uncertain("#[cfg(unix)]"));
        assert!(!uncertain("#[cfg(windows)]"));
        assert!(!uncertain("#[cfg_attr(windows, cfg(any()))]"));
        assert!(!uncertain("#[cfg_attr(debug_assertions, inline)]"));
        assert!(!uncertain("#[inline]"));
    }
}
