//! What a build script may print to cargo: the format strings of the
//! `print!` and formatting macros, and string literals holding a directive
//! that links native code. `scan/directives.rs` decides what they mean;
//! here they are only recorded, in every target (a crate does not know it
//! is a build script while it is read).

use proc_macro2::{TokenStream, TokenTree};

use super::Collector;
use crate::scan::facts::{Pos, Print};
use crate::scan::strexpr::evaluate;

/// Macros whose format string may reach cargo's standard output, and where
/// it stands among their arguments.
const FORMAT_MACROS: &[(&str, usize)] = &[
    ("print", 0),
    ("println", 0),
    ("write", 1),
    ("writeln", 1),
    ("format", 0),
    ("format_args", 0),
    ("format_args_nl", 0),
];

/// Text in a literal that may be (part of) a directive linking native code;
/// `directives.rs` reads such a literal line by line.
const LINK_KEYS: &[&str] = &["rustc-link-", "rustc-flags", "rustc-cdylib-link-"];

impl Collector<'_> {
    /// Records the format string of a formatting macro's invocation.
    pub(super) fn record_print(&mut self, name: &str, tokens: &TokenStream, pos: Pos) {
        let Some(&(_, index)) = FORMAT_MACROS.iter().find(|(m, _)| *m == name) else {
            return;
        };
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let argument = trees
            .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
            .nth(index)
            .unwrap_or(&[]);
        // A metavariable of a macro body (`$fmt`) or anything else that is
        // not a string the scan can compute leaves the format unknown.
        let format = if self.in_macro_body && argument.iter().any(is_dollar) {
            None
        } else {
            evaluate(&argument.iter().cloned().collect(), self.env).ok()
        };
        self.facts.prints.push(Print {
            macro_name: name.to_owned(),
            format,
            function: self.function,
            pos,
        });
    }

    /// Records a string literal that holds a directive key, whatever it is
    /// used for: it may reach cargo through a constant, a buffer or a
    /// helper that prints what it is given.
    pub(super) fn record_literal(&mut self, literal: &proc_macro2::Literal) {
        let text = literal.to_string();
        if !LINK_KEYS.iter().any(|key| text.contains(key)) {
            return;
        }
        let pos = self.pos(literal.span());
        let value = literal_value(literal).unwrap_or(text);
        self.facts.prints.push(Print {
            macro_name: String::new(),
            format: Some(value),
            function: self.function,
            pos,
        });
    }
}

fn is_dollar(tree: &TokenTree) -> bool {
    matches!(tree, TokenTree::Punct(p) if p.as_char() == '$')
}

/// A string or byte-string literal's value, escapes undone.
fn literal_value(literal: &proc_macro2::Literal) -> Option<String> {
    let tree: TokenStream = TokenTree::Literal(literal.clone()).into();
    match syn::parse2::<syn::Lit>(tree).ok()? {
        syn::Lit::Str(s) => Some(s.value()),
        syn::Lit::ByteStr(b) => Some(String::from_utf8_lossy(&b.value()).into_owned()),
        syn::Lit::CStr(c) => Some(c.value().to_string_lossy().into_owned()),
        _ => None,
    }
}
