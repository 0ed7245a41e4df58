//! The token fallback: code read as a token stream where syn gives no
//! syntax tree. That is a file syn rejects (split into items, syn tried
//! again on each), a file past a shape limit (syn would recurse too deep),
//! `macro_rules!` bodies, and macro arguments that are neither expressions
//! nor statements.
//!
//! A crate chooses what syn can parse, so skipping what it cannot would be
//! a place to hide a capability. The walk finds what the facts need without
//! a grammar (paths, method calls, `unsafe`, `extern` blocks, `use`s, `mod`s,
//! `macro_rules!`), and is iterative so that no nesting overflows the stack.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Item, Meta};

use super::include;
use super::itemattrs::{token_attr_excluded, token_path_attrs};
use super::macroargs::COMPILE_TIME_MACROS;
use super::{ChildModule, Collector, PathAttr, ident_name};
use crate::scan::facts::{
    Def, MacroModule, MacroTemplate, MethodRef, NS_MACRO, Owner, RefKind, WrittenPath,
};
use crate::scan::rawattrs::unraw_names;

pub(super) const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "static",
    "struct",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "yield",
    "box",
    "macro_rules",
    "union",
    "auto",
    "default",
    "try",
    "gen",
];

/// Keywords followed by the name of the item they define.
const DEFINING: &[&str] = &[
    "fn", "struct", "enum", "union", "trait", "type", "mod", "static", "const",
];

impl Collector<'_> {
    /// Collects a file syn could not parse, item by item: every chunk that
    /// parses as an item is collected as one, the rest as tokens. With
    /// `tokens_only`, syn is not tried at all (the file nests too deeply).
    pub fn collect_tokens(&mut self, tokens: TokenStream, tokens_only: bool) {
        self.tokens_only = tokens_only;
        if tokens_only {
            self.walk_tokens(tokens);
            return;
        }
        let mut chunk: Vec<TokenTree> = Vec::new();
        for tree in tokens {
            let ends_item = match &tree {
                TokenTree::Punct(p) => p.as_char() == ';',
                TokenTree::Group(g) => g.delimiter() == Delimiter::Brace,
                _ => false,
            };
            chunk.push(tree);
            if ends_item {
                self.collect_chunk(std::mem::take(&mut chunk));
            }
        }
        if !chunk.is_empty() {
            self.collect_chunk(chunk);
        }
    }

    fn collect_chunk(&mut self, chunk: Vec<TokenTree>) {
        let stream: TokenStream = chunk.into_iter().collect();
        match syn::parse2::<Item>(stream.clone()) {
            Ok(item) => self.visit_item(&item),
            Err(_) => self.walk_tokens(stream),
        }
    }

    /// Reads a token stream for paths, method calls, `unsafe`, `extern`
    /// blocks, `use`s and `mod` declarations. Iterative, so arbitrarily deep
    /// nesting cannot overflow the stack.
    pub(super) fn walk_tokens(&mut self, tokens: TokenStream) {
        // Each run of trees with whether it is (inside) a macro's
        // arguments, whose tokens mean whatever the macro makes of them.
        let in_arguments = self.in_macro_body || self.enclosing_macro.is_some();
        let mut pending: Vec<(Vec<TokenTree>, bool)> =
            vec![(tokens.into_iter().collect(), in_arguments)];
        while let Some((trees, in_arguments)) = pending.pop() {
            self.walk_flat(&trees, in_arguments, &mut pending);
        }
    }

    fn walk_flat(
        &mut self,
        trees: &[TokenTree],
        in_arguments: bool,
        pending: &mut Vec<(Vec<TokenTree>, bool)>,
    ) {
        let mut i = 0;
        let mut attrs_before: Vec<TokenStream> = Vec::new();
        // Whether one of `attrs_before` excludes the next item, worked out
        // once per attribute rather than once per token after it.
        let mut excluded_before = false;
        // Where the next `;` is, found once for the whole run of trees.
        let mut next_semi = vec![None; trees.len() + 1];
        for j in (0..trees.len()).rev() {
            next_semi[j] = match &trees[j] {
                TokenTree::Punct(p) if p.as_char() == ';' => Some(j),
                _ => next_semi[j + 1],
            };
        }
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => {
                    let inner = g.stream();
                    let parsed = !self.tokens_only
                        && g.delimiter() == Delimiter::Brace
                        && self.try_items(inner.clone());
                    if !parsed {
                        let arguments = in_arguments
                            || (i > 0
                                && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '!'));
                        pending.push((inner.into_iter().collect(), arguments));
                    }
                    i += 1;
                }
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    // An attribute: remember it for the next item, never read
                    // it as code.
                    let mut j = i + 1;
                    if matches!(trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                        j += 1;
                    }
                    if let Some(TokenTree::Group(g)) = trees.get(j)
                        && g.delimiter() == Delimiter::Bracket
                    {
                        let attr = unraw_names(g.stream());
                        self.token_attribute(&attr, g.span());
                        excluded_before |= token_attr_excluded(&attr, self.cfg);
                        attrs_before.push(attr);
                        i = j + 1;
                        continue;
                    }
                    i += 1;
                }
                TokenTree::Punct(p) if p.as_char() == '$' && self.in_macro_body => {
                    // `$name` is a metavariable, `$crate` the defining crate.
                    match trees.get(i + 1) {
                        Some(TokenTree::Ident(id)) if id == "crate" => {
                            i = self.token_path(trees, i + 1, true);
                        }
                        _ => i += 2,
                    }
                }
                TokenTree::Punct(p) if p.as_char() == '\'' => i += 2,
                TokenTree::Punct(p) if p.as_char() == '.' => {
                    if let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(args))) =
                        (trees.get(i + 1), trees.get(i + 2))
                        && args.delimiter() == Delimiter::Parenthesis
                    {
                        self.add_ref(
                            RefKind::Method(Box::new(MethodRef {
                                name: ident_name(name),
                                root: None,
                                direct: false,
                                exact: None,
                                self_call: None,
                            })),
                            name.span(),
                        );
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                TokenTree::Punct(p)
                    if p.as_char() == ':'
                        && p.spacing() == Spacing::Joint
                        && matches!(trees.get(i + 1), Some(TokenTree::Punct(q)) if q.as_char() == ':')
                        && matches!(trees.get(i + 2), Some(TokenTree::Ident(_))) =>
                {
                    let prev_is_path = i > 0
                        && matches!(trees[i - 1], TokenTree::Ident(_) | TokenTree::Punct(_) if is_path_tail(&trees[i - 1]));
                    if prev_is_path {
                        i += 1;
                    } else {
                        i = self.token_path(trees, i, false);
                    }
                }
                TokenTree::Ident(id) => {
                    let word = ident_name(id);
                    let consumed = self.token_keyword(
                        &word,
                        trees,
                        i,
                        &attrs_before,
                        excluded_before,
                        next_semi[i],
                    );
                    if consumed > 0 {
                        attrs_before.clear();
                        excluded_before = false;
                        i += consumed;
                    } else if KEYWORDS.contains(&word.as_str()) {
                        i += 1;
                        // The name an item keyword defines is no use of
                        // that name (`struct stat` beside libc's `fn stat`);
                        // in a macro's arguments it may be one
                        // (`call!(fn socket)` expanding to `$f(..)`).
                        if !in_arguments && DEFINING.contains(&word.as_str()) {
                            if matches!(trees.get(i), Some(TokenTree::Ident(m)) if m == "mut") {
                                i += 1;
                            }
                            if let Some(TokenTree::Ident(name)) = trees.get(i)
                                && !KEYWORDS.contains(&ident_name(name).as_str())
                            {
                                i += 1;
                            }
                        }
                    } else {
                        i = self.token_path(trees, i, false);
                    }
                }
                TokenTree::Punct(p) => {
                    if p.as_char() == ';' {
                        attrs_before.clear();
                        excluded_before = false;
                    }
                    i += 1;
                }
                TokenTree::Literal(literal) => {
                    self.record_literal(literal);
                    i += 1;
                }
            }
        }
    }

    /// Handles keyword-led forms in token mode; returns how many trees it
    /// consumed (0 when `word` starts none).
    fn token_keyword(
        &mut self,
        word: &str,
        trees: &[TokenTree],
        i: usize,
        attrs: &[TokenStream],
        test_only: bool,
        next_semi: Option<usize>,
    ) -> usize {
        let next = trees.get(i + 1);
        match word {
            "unsafe" => {
                let rule = match next {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                        "unsafe-block"
                    }
                    Some(TokenTree::Ident(n)) if n == "fn" => "unsafe-fn",
                    Some(TokenTree::Ident(n)) if n == "impl" => "unsafe-impl",
                    Some(TokenTree::Ident(n)) if n == "trait" => "unsafe-trait",
                    _ => return 1,
                };
                if !test_only {
                    let evidence = rule.replace('-', " ");
                    self.add_site(rule, evidence, trees[i].span());
                }
                1
            }
            "extern" => {
                let mut j = i + 1;
                if matches!(trees.get(j), Some(TokenTree::Literal(_))) {
                    j += 1;
                }
                match trees.get(j) {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                        if !test_only {
                            self.add_site("extern-block", "extern block", trees[i].span());
                            self.token_foreign_items(g.stream());
                        }
                        j + 1 - i
                    }
                    Some(TokenTree::Ident(c)) if c == "crate" => {
                        let name = match trees.get(j + 1) {
                            Some(TokenTree::Ident(n)) => ident_name(n),
                            _ => return 1,
                        };
                        let alias = match (trees.get(j + 2), trees.get(j + 3)) {
                            (Some(TokenTree::Ident(a)), Some(TokenTree::Ident(n))) if a == "as" => {
                                ident_name(n)
                            }
                            _ => name.clone(),
                        };
                        if attrs.iter().any(|a| a.to_string().contains("macro_use")) {
                            self.facts.macro_use_crates.push(name.clone());
                        }
                        // Its `cfg`s are not weighed here: it hides nothing.
                        self.uncertain_if(true, |c| c.define(alias, Def::ExternCrate(name)));
                        j + 2 - i
                    }
                    _ => 1,
                }
            }
            "mod" if self.in_macro_body && attrs.iter().any(include::computed_path_attr) => {
                let macro_name = self.macro_name.clone().unwrap_or_default();
                self.unanalyzed(
                    "missing-module-file",
                    trees[i].span(),
                    format!(
                        "`macro_rules! {macro_name}` declares a module whose `#[path]` comes from its arguments; its file is not known without expanding the macro"
                    ),
                );
                1
            }
            // `mod $name;`: the name is one of the identifiers each
            // invocation passes (`modtree` tries them).
            "mod"
                if self.in_macro_body
                    && matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '$') =>
            {
                match (trees.get(i + 2), trees.get(i + 3), self.macro_name.clone()) {
                    (Some(TokenTree::Ident(var)), Some(TokenTree::Punct(p)), Some(macro_name))
                        if p.as_char() == ';' =>
                    {
                        let path_attrs: Vec<PathAttr> = attrs
                            .iter()
                            .flat_map(|a| token_path_attrs(a, self.cfg))
                            .collect();
                        self.facts
                            .macro_modules
                            .entry(macro_name)
                            .or_default()
                            .push(MacroModule {
                                name: format!("${}", ident_name(var)),
                                path_attrs,
                            });
                        4
                    }
                    _ => 1,
                }
            }
            "mod" => match (next, trees.get(i + 2)) {
                (Some(TokenTree::Ident(name)), Some(TokenTree::Punct(p))) if p.as_char() == ';' => {
                    let path_attrs: Vec<PathAttr> = attrs
                        .iter()
                        .flat_map(|a| token_path_attrs(a, self.cfg))
                        .collect();
                    if let Some(macro_name) = &self.macro_name {
                        // A module declared by a macro belongs where the
                        // macro is invoked; the module walker attaches it.
                        self.facts
                            .macro_modules
                            .entry(macro_name.clone())
                            .or_default()
                            .push(MacroModule {
                                name: ident_name(name),
                                path_attrs,
                            });
                    } else if !test_only {
                        let scope = self.module_scope(&ident_name(name));
                        let pos = self.pos(name.span());
                        self.children.push(ChildModule {
                            scope,
                            name: ident_name(name),
                            path_attrs,
                            dir: self.mod_dir.clone(),
                            pos,
                            deferred_by: self.deferring,
                        });
                    }
                    3
                }
                _ => 1,
            },
            "use" => {
                let Some(end) = next_semi else { return 1 };
                let stream: TokenStream = trees[i..=end].iter().cloned().collect();
                if !self.syn_may_parse(&stream) {
                    return end + 1 - i;
                }
                if let Ok(item) = syn::parse2::<syn::ItemUse>(stream) {
                    self.public_use = matches!(item.vis, syn::Visibility::Public(_));
                    self.visible_use = !matches!(item.vis, syn::Visibility::Inherited);
                    self.add_use_tree(&item.tree, &mut Vec::new(), item.leading_colon.is_some());
                    self.public_use = false;
                    self.visible_use = false;
                }
                end + 1 - i
            }
            "macro_rules" => {
                // macro_rules! name { body }
                if let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(body))) =
                    (trees.get(i + 2), trees.get(i + 3))
                {
                    let name = ident_name(name);
                    self.define(name.clone(), Def::Item(NS_MACRO));
                    // Under a `cfg_attr` it may be exported too.
                    let exported = attrs.iter().any(|a| a.to_string().contains("macro_export"));
                    let pos = self.pos(trees[i].span());
                    let attrs: Vec<String> = attrs.iter().map(ToString::to_string).collect();
                    let mut new = false;
                    for rules in crate::scan::expand::rules_variants(&attrs, &body.stream()) {
                        new |= self.facts.define_macro(
                            name.clone(),
                            crate::scan::expand::encode_rules(&rules, self.pos_override.is_none()),
                            exported,
                            self.scope,
                            pos,
                        );
                    }
                    // Whether a macro written in tokens is exported is not
                    // known here; its reach stays inside the crate.
                    if new {
                        self.in_function(name.clone(), Owner::Macro { exported: false }, |c| {
                            c.macro_body(name, body.stream())
                        });
                    }
                    4
                } else {
                    1
                }
            }
            _ => 0,
        }
    }

    fn token_attribute(&mut self, attr: &TokenStream, span: Span) {
        if self.syn_may_parse(attr)
            && let Ok(meta) = syn::parse2::<Meta>(attr.clone())
        {
            self.attribute_meta(&meta, span);
        }
    }

    /// Reads a path starting at `trees[start]`; returns the index after it.
    fn token_path(&mut self, trees: &[TokenTree], start: usize, dollar_crate: bool) -> usize {
        let mut segments = Vec::new();
        let mut leading_colon = false;
        let mut i = start;
        let mut span = trees[start].span();
        if is_path_sep(trees, i) {
            leading_colon = true;
            i += 2;
            span = trees[i].span();
        }
        while let Some(TokenTree::Ident(id)) = trees.get(i) {
            segments.push(ident_name(id));
            i += 1;
            if is_path_sep(trees, i) && matches!(trees.get(i + 2), Some(TokenTree::Ident(_))) {
                i += 2;
            } else {
                break;
            }
        }
        if segments.is_empty() {
            return start + 1;
        }
        if dollar_crate {
            segments[0] = "crate".into();
        }
        // Kept with the crate's facts: pushing left room for four segments
        // where most paths have one or two (windows-sys's 20,000 `link!`
        // declarations name about 170,000 paths).
        segments.shrink_to_fit();
        let is_macro = matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.as_char() == '!')
            && matches!(trees.get(i + 1), Some(TokenTree::Group(_)));
        let written = WrittenPath::new(segments, leading_colon);
        // `prefix::$name` in a macro body: the macro builds paths from its
        // arguments. Remember the prefix; invocations supply the names.
        if self.in_macro_body
            && is_path_sep(trees, i)
            && matches!(trees.get(i + 2), Some(TokenTree::Punct(p)) if p.as_char() == '$')
            && matches!(trees.get(i + 3), Some(TokenTree::Ident(_)))
            && let Some(macro_name) = self.macro_name.clone()
        {
            // `prefix::$a::$b`: count the metavariable segments.
            let mut metavars = 1;
            let mut j = i + 4;
            while is_path_sep(trees, j)
                && matches!(trees.get(j + 2), Some(TokenTree::Punct(p)) if p.as_char() == '$')
                && matches!(trees.get(j + 3), Some(TokenTree::Ident(_)))
            {
                metavars += 1;
                j += 4;
            }
            self.facts
                .macro_templates
                .entry(macro_name)
                .or_default()
                .push(MacroTemplate {
                    prefix: written.clone(),
                    metavars,
                    scope: self.scope,
                });
        }
        if is_macro {
            let name = written.segments.last().cloned().unwrap_or_default();
            if let Some(TokenTree::Group(args)) = trees.get(i + 1) {
                let pos = self.pos(span);
                self.record_print(&name, &args.stream(), pos);
                let invocation = self.record_invocation(&written, &args.stream(), span, false);
                let include = include::is_include(&written);
                self.token_macro_call(&written, include, args.stream(), span, invocation);
                if include {
                    self.add_ref(RefKind::Macro(written), span);
                    return i + 2;
                }
            }
            self.add_ref(RefKind::Macro(written), span);
            if COMPILE_TIME_MACROS.contains(&name.as_str()) {
                // Skip the `!` and the arguments.
                return i + 2;
            }
        } else {
            self.add_ref(RefKind::Path(written), span);
        }
        i
    }
}

fn is_path_sep(trees: &[TokenTree], i: usize) -> bool {
    matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
        && matches!(trees.get(i + 1), Some(TokenTree::Punct(q)) if q.as_char() == ':')
}

fn is_path_tail(tree: &TokenTree) -> bool {
    match tree {
        TokenTree::Ident(_) => true,
        TokenTree::Punct(p) => p.as_char() == '>',
        _ => false,
    }
}
