//! `include!` and the macro invocations whose expansion may carry one.
//!
//! `include!` is recognised however it is spelled (`include!`,
//! `std::include!`, `::core::prelude::v1::include!`); its argument is
//! evaluated where that is possible without building (`strexpr`), and the
//! file is read through the package's file guard, so that a named pipe, a
//! device or a file outside the package is refused, never opened. The
//! included items are collected in place: their findings point into the
//! included file, their `include!`s are relative to it, and their `mod x;`
//! are found beside it (rustc gives an included file its own directory).
//! An `include!` in a `macro_rules!` body is relative to the file that
//! invokes the macro, so it is recorded by macro and read at each
//! invocation (see `modtree`).

use proc_macro2::{TokenStream, TokenTree};

use super::{Collector, relative_path};
use crate::scan::facts::{MacroCall, MacroInclude, Pos, WrittenPath};
use crate::scan::limits::{LIMITS, shape_exceeds};
use crate::scan::moddir::ModDir;
use crate::scan::strexpr::{Uncomputable, evaluate};

/// Longest macro argument kept for a later `include!` check.
const MAX_KEPT_ARGS: usize = 4096;

/// Whether a macro path names the built-in `include!`: `include`, or a
/// path through `std`/`core` ending in it.
pub(in crate::scan) fn is_include(path: &WrittenPath) -> bool {
    let segments = &path.segments;
    segments.last().is_some_and(|s| s == "include")
        && (segments.len() == 1 || matches!(segments[0].as_str(), "std" | "core"))
}

/// Whether an attribute in a macro body may give a module's `#[path]`
/// from the macro's arguments (`#[path = $file]`).
pub(super) fn computed_path_attr(attr: &TokenStream) -> bool {
    let mut names_path = false;
    let mut has_metavariable = false;
    let mut pending = vec![attr.clone()];
    while let Some(stream) = pending.pop() {
        for tree in stream {
            match tree {
                TokenTree::Ident(id) if super::ident_name(&id) == "path" => names_path = true,
                TokenTree::Punct(p) if p.as_char() == '$' => has_metavariable = true,
                TokenTree::Group(g) => pending.push(g.stream()),
                _ => {}
            }
        }
    }
    names_path && has_metavariable
}

impl Collector<'_> {
    /// Records a macro invocation outside `macro_rules!` bodies: where the
    /// modules and `include!`s its expansion makes land.
    /// `invocation`: the expander's record of it, if any.
    pub(super) fn record_call(
        &mut self,
        path: &WrittenPath,
        args: &TokenStream,
        pos: Pos,
        invocation: Option<usize>,
    ) {
        let name = path.segments.last().map(String::as_str).unwrap_or_default();
        let through = (path.segments.len() > 1)
            .then(|| path.segments[0].clone())
            .filter(|first| !first.is_empty());
        let mut trees = args.clone().into_iter();
        // Only a short argument, which may be a file name or a module's
        // name, is kept as text.
        let short = args.clone().into_iter().count() <= 16;
        let args = match trees.next() {
            Some(TokenTree::Literal(_) | TokenTree::Ident(_)) if short => {
                Some(args.to_string()).filter(|a| a.len() <= MAX_KEPT_ARGS)
            }
            _ => None,
        };
        let module = self.facts.module_of(self.scope);
        self.facts.macro_calls.push(MacroCall {
            name: name.to_owned(),
            module,
            dir: self.mod_dir.clone(),
            file_path: self.file_path.clone(),
            args,
            through,
            pos,
            invocation,
        });
    }

    /// A macro invocation met while walking tokens.
    pub(super) fn token_macro_call(
        &mut self,
        path: &WrittenPath,
        include: bool,
        args: TokenStream,
        span: proc_macro2::Span,
        invocation: Option<usize>,
    ) {
        let name = path.segments.last().map(String::as_str).unwrap_or_default();
        if self.in_macro_body {
            let Some(macro_name) = self.macro_name.clone() else {
                return;
            };
            if include {
                self.facts
                    .macro_includes
                    .entry(macro_name)
                    .or_default()
                    .push(MacroInclude {
                        args: args.to_string(),
                    });
            } else {
                let invokes = self.facts.macro_invokes.entry(macro_name).or_default();
                if !invokes.iter().any(|n| n == name) {
                    invokes.push(name.to_owned());
                }
            }
            return;
        }
        let pos = self.pos(span);
        self.record_call(path, &args, pos, invocation);
        if include {
            self.include(&args, pos);
        }
    }

    /// `include!` with `args` as written, at `pos`, read where it stands.
    pub fn include_text(&mut self, args: &str, pos: Pos) {
        match args.parse::<TokenStream>() {
            Ok(tokens) => self.include(&tokens, pos),
            Err(_) => self.facts.unanalyzed_at(
                "include-unresolved",
                pos,
                format!("`include!({args})` does not tokenize"),
            ),
        }
    }

    /// Splices the file `include!(tokens)` names into the current scope.
    pub(super) fn include(&mut self, tokens: &TokenStream, pos: Pos) {
        let requested = match evaluate(tokens, self.env) {
            Ok(path) => path,
            Err(why) => {
                let (rule, reason) = match why {
                    Uncomputable::OutDir => (
                        "include-out-dir",
                        "includes build-script output (OUT_DIR), which exists only after a build"
                            .to_owned(),
                    ),
                    Uncomputable::Variable(var) => (
                        "include-unresolved",
                        format!(
                            "includes a file named by the environment variable {var} at build time, so what it splices in is whatever the builder's environment points at"
                        ),
                    ),
                    Uncomputable::Other => (
                        "include-unresolved",
                        format!(
                            "`include!({tokens})` names a file that cannot be known without building"
                        ),
                    ),
                };
                self.facts.unanalyzed_at(rule, pos, reason);
                return;
            }
        };
        // Files that include each other several times each, or a macro
        // whose included file invokes it again, would otherwise grow
        // without end (rustc stops them with an error).
        self.facts.includes += 1;
        if self.facts.includes > LIMITS.max_includes {
            if self.facts.includes == LIMITS.max_includes + 1 {
                self.facts.unanalyzed_at(
                    "scan-limit",
                    pos,
                    format!(
                        "the crate expands more than {} `include!`s (files or macros that include each other?); the rest are not read",
                        LIMITS.max_includes
                    ),
                );
            }
            return;
        }
        if self.include_depth >= LIMITS.max_include_depth {
            self.facts.unanalyzed_at(
                "scan-limit",
                pos,
                format!(
                    "`include!` nests deeper than {} files (a cycle?)",
                    LIMITS.max_include_depth
                ),
            );
            return;
        }
        if self.facts.bytes_read > LIMITS.max_crate_bytes {
            self.facts.unanalyzed_at(
                "scan-limit",
                pos,
                format!(
                    "more than {} MiB of source (`include!(\"{requested}\")` not read)",
                    LIMITS.max_crate_bytes >> 20
                ),
            );
            return;
        }
        // Relative to the including file as reached, not where a link to
        // it points: rustc resolves it from the file's path.
        let base = self.file_path.parent().unwrap_or(std::path::Path::new("."));
        let target = base.join(&requested);
        let bytes = match self.files.read(&target) {
            Ok(bytes) => bytes,
            Err(refusal) => {
                let rule = match refusal.rule {
                    "missing-module-file" => "include-unresolved",
                    other => other,
                };
                self.facts.unanalyzed_at(
                    rule,
                    pos,
                    format!("`include!(\"{requested}\")`: {}", refusal.reason),
                );
                return;
            }
        };
        self.facts.bytes_read += bytes.len() as u64;
        let Ok(text) = String::from_utf8(bytes) else {
            self.facts.unanalyzed_at(
                "not-utf8",
                pos,
                format!("`include!(\"{requested}\")` is not UTF-8"),
            );
            return;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let Ok(tokens) = text
            .parse::<TokenStream>()
            .map(|tokens| crate::scan::source::plain_attributes(text, tokens))
        else {
            self.facts.unanalyzed_at(
                "include-unresolved",
                pos,
                format!("`include!(\"{requested}\")` does not tokenize"),
            );
            return;
        };
        // Past a shape limit the text is read as tokens only, as a file is.
        let past_limit = match shape_exceeds(&tokens, &LIMITS) {
            Some(limit) => {
                self.facts.unanalyzed_at(
                    "scan-limit",
                    pos,
                    format!("`include!(\"{requested}\")`: {limit}"),
                );
                true
            }
            None => false,
        };
        let relative = relative_path(self.package_root, &target);
        let file = self.facts.add_file(relative);
        self.facts.included_at.insert(file, pos);
        let outer_file = std::mem::replace(&mut self.file, file);
        let outer_dir = std::mem::replace(&mut self.mod_dir, ModDir::owning(&target));
        let outer_path = std::mem::replace(&mut self.file_path, target.into());
        self.include_depth += 1;
        if past_limit {
            let outer_tokens = std::mem::replace(&mut self.tokens_only, true);
            self.walk_tokens(tokens);
            self.tokens_only = outer_tokens;
        } else if let Ok(file) = syn::parse2::<syn::File>(tokens.clone()) {
            for item in &file.items {
                syn::visit::Visit::visit_item(self, item);
            }
        } else if let Ok(expr) = syn::parse2::<syn::Expr>(tokens.clone()) {
            syn::visit::Visit::visit_expr(self, &expr);
        } else {
            self.collect_tokens(tokens, false);
        }
        self.include_depth -= 1;
        self.file_path = outer_path;
        self.mod_dir = outer_dir;
        self.file = outer_file;
    }
}
