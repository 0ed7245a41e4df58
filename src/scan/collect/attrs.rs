//! Attributes that are structural findings: the unsafe-class attributes
//! (`no_mangle`, `export_name`, `link_section`, any `#[unsafe(...)]`) and
//! `#[link]`, bare or under `cfg_attr`.
//!
//! `#[cfg_attr(pred, a, b)]` is `#[a] #[b]` when `pred` holds, and may
//! nest (`cfg_attr(x, cfg_attr(y, no_mangle))`), so each attribute inside
//! one whose predicate may hold is read as if written bare: a condition
//! that is always true (`all()`), or that a build script can switch on,
//! must not hide a symbol override.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Meta, Token};

use super::Collector;

impl Collector<'_> {
    /// Records what an attribute is. Recursion through nested `cfg_attr`s
    /// is bounded by the nesting limit every text passes before syn sees it.
    pub(super) fn attribute_meta(&mut self, meta: &Meta, span: Span) {
        let path = meta.path();
        let Some(name) = path.get_ident().map(|i| i.to_string()) else {
            return;
        };
        match name.as_str() {
            "no_mangle" | "export_name" | "link_section" => {
                self.add_site("unsafe-attribute", format!("#[{name}]"), span);
            }
            "unsafe" => {
                let inner = match meta {
                    Meta::List(list) => list.tokens.to_string(),
                    _ => String::new(),
                };
                self.add_site("unsafe-attribute", format!("#[unsafe({inner})]"), span);
            }
            "link" => {
                let args = match meta {
                    Meta::List(list) => list.tokens.to_string(),
                    _ => String::new(),
                };
                self.add_site("link-attribute", format!("#[link({args})]"), span);
            }
            "cfg_attr" => self.cfg_attr(meta, span),
            _ => {}
        }
    }

    /// The attributes a `cfg_attr` applies when its predicate may hold.
    fn cfg_attr(&mut self, meta: &Meta, span: Span) {
        let Meta::List(list) = meta else { return };
        let Ok(items) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        else {
            // rustc rejects a `cfg_attr` whose attributes do not parse.
            return;
        };
        let mut items = items.iter();
        let Some(predicate) = items.next() else {
            return;
        };
        let predicate = quote::ToTokens::to_token_stream(predicate).to_string();
        if self.cfg.evaluate(&predicate) == Some(false) {
            return;
        }
        for inner in items {
            self.attribute_meta(inner, span);
        }
    }
}
