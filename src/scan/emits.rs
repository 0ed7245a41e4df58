//! Code a crate emits rather than runs: the tokens of the real `quote!`,
//! `quote_spanned!`, `parse_quote!` and `parse_quote_spanned!`.
//!
//! A procedural macro (or a code generator) writes the code it produces as
//! `quote! { unsafe { … } }`; those tokens become part of its users, not
//! something the macro does while compiling them. Their findings are
//! reported apart (`CapabilityReport::emitted`), not as the crate's
//! capabilities, and they reach nothing (reach is given no names for them).
//!
//! Only the real macros may do that, so an invocation counts only when:
//! every name its path may resolve to is `quote`'s `quote!` or
//! `quote_spanned!`, or `syn`'s `parse_quote!` or `parse_quote_spanned!`;
//! the library is the registry package of that name (`trusted_emitters`: a
//! path or git package called `quote` is whatever its author wrote, and a
//! renamed dependency resolves to its own library name); and the crate
//! defines no `macro_rules!` of any of those names, which rustc's textual
//! scope could pick instead of the import. Otherwise the tokens are the
//! crate's own code, as for any macro. What a `quote_spanned!` evaluates
//! for its span is the crate's own code either way (`collect/emitting.rs`).

use super::facts::{CrateFacts, NS_MACRO};
use super::names::Resolver;
use crate::model::{Dependency, Package, SourceKind};

/// The macros each trusted library provides whose tokens are only emitted.
const EMITTERS: &[(&str, &[&str])] = &[
    ("quote", &["quote", "quote_spanned"]),
    ("syn", &["parse_quote", "parse_quote_spanned"]),
];

/// The library names among `deps` that are the registry packages of the
/// quote and syn crates.
pub fn trusted_emitters(deps: &[Dependency], packages: &[Package]) -> Vec<String> {
    deps.iter()
        .filter_map(|d| Some((d, packages.get(d.package)?)))
        .filter(|(d, p)| {
            p.source == SourceKind::Registry
                && d.lib_name == p.name
                && EMITTERS.iter().any(|(lib, _)| *lib == p.name)
        })
        .map(|(d, _)| d.lib_name.clone())
        .collect()
}

/// For each of `facts.emit_regions`, whether it is a real quote or syn
/// macro, whose tokens the crate only emits.
pub fn verified_regions(
    facts: &CrateFacts,
    resolver: &Resolver<'_>,
    trusted: &[String],
) -> Vec<bool> {
    let shadowed = facts.macro_defs.iter().any(|def| {
        EMITTERS
            .iter()
            .any(|(_, names)| names.contains(&def.name.as_str()))
    });
    facts
        .emit_regions
        .iter()
        .map(|region| {
            if shadowed {
                return false;
            }
            if let Some(outer) = &region.enclosing
                && !evaluates_arguments(facts, resolver, trusted, region, outer)
            {
                return false;
            }
            let targets = resolver.resolve_ns(region.scope, &region.path, NS_MACRO);
            !targets.is_empty() && targets.iter().all(|t| is_emitter(t, trusted))
        })
        .collect()
}

/// Standard macros that evaluate their arguments as expressions, where a
/// `quote!` among them stays a `quote!`.
const EXPRESSION_MACROS: &[&str] = &[
    "vec",
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
];

/// Whether the macro `outer`, in whose arguments a region stands, is a
/// standard one that evaluates them. Any other macro (the crate's own, a
/// dependency's, one capgate does not expand because it seems to pass its
/// input on) may take `quote! { .. }` apart and run the tokens
/// (macros-emits-enclosing-strip), so its tokens are the crate's own code.
fn evaluates_arguments(
    facts: &CrateFacts,
    resolver: &Resolver<'_>,
    trusted: &[String],
    region: &super::facts::EmitRegion,
    outer: &str,
) -> bool {
    if !EXPRESSION_MACROS.contains(&outer) || facts.macro_defs.iter().any(|d| d.name == outer) {
        return false;
    }
    // A `#[macro_use] extern crate` brings every macro the crate exports by
    // its bare name, unseen by the resolver: a `vec!` of its own
    // (macros-emits-enclosing-macro-use).
    if facts
        .macro_use_crates
        .iter()
        .any(|c| !["std", "core", "alloc"].contains(&c.as_str()) && !trusted.contains(c))
    {
        return false;
    }
    let path = super::facts::WrittenPath::new([outer.to_owned()], false);
    let targets = resolver.resolve_ns(region.scope, &path, NS_MACRO);
    targets.iter().all(|t| {
        ["std::", "core::", "alloc::"]
            .iter()
            .any(|root| t.starts_with(root))
    })
}

/// Whether `path` is one of the macros in a trusted library. The resolver
/// may also offer a longer path inside it (`quote::quote::quote_spanned`,
/// when `use quote::{quote, quote_spanned}` might name a module `quote`):
/// whatever that library defines under those names is its own.
fn is_emitter(path: &str, trusted: &[String]) -> bool {
    let (Some((lib, _)), Some((_, name))) = (path.split_once("::"), path.rsplit_once("::")) else {
        return false;
    };
    trusted.iter().any(|t| t == lib)
        && EMITTERS
            .iter()
            .any(|(l, names)| *l == lib && names.contains(&name))
}
