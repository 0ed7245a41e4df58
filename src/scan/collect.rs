//! Turns one file's syntax tree into facts: scopes and their definitions
//! and imports, the paths the code names, and structural sites (`unsafe`,
//! `extern` blocks, unsafe attributes).
//!
//! Test-only code is skipped: `#[cfg(test)]` items here, `#[test]`
//! functions once the crate is read and the attribute is known to be the
//! built-in (`collect/testgate.rs`, `scan/testgate.rs`). So are attributes
//! other than the structural ones (`collect/attrs.rs`), string literals and
//! comments (the lexer drops the last two). Syntax syn does not model is
//! read as tokens (`collect/verbatim.rs`). Macro arguments are read as expressions or statements where they
//! parse and as tokens otherwise; `macro_rules!` bodies as tokens.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, Item, Meta, Token, UseTree};

mod include;

use super::chain::ChainRoots;
use super::facts::{
    CrateFacts, Def, FileId, ForeignFn, Import, ItemDef, MacroArguments, MacroModule,
    MacroTemplate, NS_ANY, NS_MACRO, NS_TYPE, NS_VALUE, Ns, Owner, Pos, Ref, RefKind, Scope,
    ScopeId, Site, TraitImpl, Unanalyzed, WrittenPath,
};
use super::files::PackageFiles;
use super::limits::{LIMITS, shape_exceeds};
use super::moddir::ModDir;
use super::strexpr::CompileEnv;
use crate::platform::CfgContext;

mod attrs;
mod expansion;
mod testgate;
mod verbatim;

/// A `mod name;` whose file the module walker must find and read.
#[derive(Clone, Debug)]
pub struct ChildModule {
    /// The scope created for the module; its file's items go there.
    pub scope: ScopeId,
    pub name: String,
    /// The `#[path]` attributes: one, or several under `cfg_attr`s we do
    /// not evaluate (each file that exists is scanned).
    pub path_attrs: Vec<PathAttr>,
    /// Where its file is looked for.
    pub dir: ModDir,
    pub pos: Pos,
    /// Declared in the arguments of this macro invocation (its index in
    /// `CrateFacts::invocations`), read as code before the macro is known.
    /// If the expander expands that invocation, the expansion says what
    /// is declared (under the `cfg`s the macro adds); the module is read
    /// only if it does not.
    pub deferred_by: Option<usize>,
}

/// A `#[path = "…"]` on a module, possibly inside `cfg_attr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathAttr {
    pub path: String,
    /// Under `cfg_attr`: when the condition is false the default location
    /// applies, so both are candidates.
    pub conditional: bool,
}

/// Collects facts from one file into a crate's [`CrateFacts`].
pub struct Collector<'a> {
    facts: &'a mut CrateFacts,
    /// Decides which `#[cfg]`-gated code is part of this build.
    cfg: &'a CfgContext,
    file: FileId,
    /// Path of the file as reached (links not resolved), for `include!`.
    file_path: PathBuf,
    package_root: &'a Path,
    /// The variables `env!` may read, for `include!` paths.
    env: &'a CompileEnv,
    /// Opens the package's files and nothing else.
    files: &'a PackageFiles,
    scope: ScopeId,
    function: u32,
    /// Where `mod x;` here looks for its file.
    mod_dir: ModDir,
    /// Inside a `macro_rules!` body, where `$x` are metavariables.
    in_macro_body: bool,
    /// The macro whose body is being read.
    macro_name: Option<String>,
    /// The impl or trait whose items are being read.
    owner: Option<Owner>,
    /// The `use` being read is `pub`: other crates can name what it binds.
    public_use: bool,
    /// How many `include!`d files deep the collector is.
    include_depth: usize,
    /// Token walking only: the file nests too deeply for syn.
    tokens_only: bool,
    /// Collecting a macro expansion: everything is at the invocation.
    pos_override: Option<Pos>,
    /// How many expansions produced the code being collected.
    expansion_depth: usize,
    /// The macro whose arguments are being read.
    enclosing_macro: Option<String>,
    /// Receiver-chain roots, found once per chain.
    chain_roots: ChainRoots,
    /// The namespaces a one-segment path being recorded is in: values in
    /// expressions, types in types, unknown elsewhere.
    path_ns: Ns,
    /// The `#[test]`/`#[bench]` item being read (`Pos::gate`), 0 if none.
    gate: u32,
    /// The recorded invocation whose arguments are being read as code.
    deferring: Option<usize>,
    pub children: Vec<ChildModule>,
}

/// Built-in macros that run at compile time and never give the crate a
/// capability, so their arguments are not the crate's code.
pub(super) const COMPILE_TIME_MACROS: &[&str] = &[
    "env",
    "option_env",
    "include_str",
    "include_bytes",
    "concat",
    "stringify",
    "line",
    "column",
    "file",
    "module_path",
    "cfg",
    "compile_error",
    "concat_idents",
];

const KEYWORDS: &[&str] = &[
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

/// What a collector needs to know about the crate beyond its facts.
#[derive(Clone, Copy)]
pub struct CrateInputs<'a> {
    /// The crate's edition: what its own macros' fragments take.
    pub edition: crate::model::Edition,
    pub cfg: &'a CfgContext,
    pub env: &'a CompileEnv,
    pub files: &'a PackageFiles,
    pub package_root: &'a Path,
}

impl<'a> Collector<'a> {
    /// A collector for `file` (reached as `file_path`), whose items go into
    /// `module_scope` and whose `mod x;` look in `mod_dir`.
    pub fn new(
        facts: &'a mut CrateFacts,
        inputs: CrateInputs<'a>,
        file: FileId,
        file_path: PathBuf,
        mod_dir: ModDir,
        module_scope: ScopeId,
    ) -> Self {
        Collector {
            facts,
            cfg: inputs.cfg,
            file,
            file_path,
            package_root: inputs.package_root,
            env: inputs.env,
            files: inputs.files,
            scope: module_scope,
            function: 0,
            mod_dir,
            in_macro_body: false,
            macro_name: None,
            owner: None,
            public_use: false,
            include_depth: 0,
            tokens_only: false,
            pos_override: None,
            expansion_depth: 0,
            enclosing_macro: None,
            chain_roots: ChainRoots::default(),
            path_ns: NS_ANY,
            gate: 0,
            deferring: None,
            children: Vec::new(),
        }
    }

    /// Collects a file syn parsed.
    pub fn collect_file(&mut self, file: &syn::File) {
        for attr in &file.attrs {
            self.visit_attribute(attr);
        }
        for item in &file.items {
            self.visit_item(item);
        }
    }

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

    /// Whether syn may be given `tokens`. Token mode reads files past a
    /// shape limit, whose fragments syn would recurse through too deeply;
    /// anything syn parses otherwise is a fragment of a file within limits.
    fn syn_may_parse(&self, tokens: &TokenStream) -> bool {
        !self.tokens_only || shape_exceeds(tokens, &LIMITS).is_none()
    }

    fn pos(&self, span: Span) -> Pos {
        let gate = self.current_gate();
        if let Some(pos) = self.pos_override {
            return Pos { gate, ..pos };
        }
        let start = span.start();
        Pos {
            file: self.file,
            line: start.line as u32,
            column: start.column as u32 + 1,
            expanded: false,
            gate,
        }
    }

    /// The scope of module `name` declared in the current scope. Declaring
    /// it twice (alternatives under `cfg`s we do not evaluate) gives the
    /// same scope, so both alternatives' items are seen.
    fn module_scope(&mut self, name: &str) -> ScopeId {
        let existing = self.facts.scopes[self.scope]
            .defs
            .get(name)
            .and_then(|defs| {
                defs.iter().find_map(|d| match d {
                    Def::Module(m) => Some(*m),
                    _ => None,
                })
            });
        if let Some(existing) = existing {
            return existing;
        }
        let mut path = self.module_path();
        path.push(name.to_owned());
        let parent = self.facts.module_of(self.scope);
        let scope = self.facts.add_scope(Scope::module(path, Some(parent)));
        self.define(name.to_owned(), Def::Module(scope));
        scope
    }

    fn define(&mut self, name: String, def: Def) {
        self.facts.scopes[self.scope]
            .defs
            .entry(name)
            .or_default()
            .push(def);
    }

    fn add_ref(&mut self, kind: RefKind, span: Span) {
        let pos = self.pos(span);
        let ns = match &kind {
            RefKind::Path(_) => self.path_ns,
            RefKind::Macro(_) => NS_MACRO,
            // A receiver chain starts at a value (`read(p).len()`).
            RefKind::Method { .. } => NS_VALUE,
        };
        self.facts.refs.push(Ref {
            kind,
            scope: self.scope,
            ns,
            function: self.function,
            pos,
        });
    }

    fn add_site(&mut self, rule: &'static str, evidence: impl Into<String>, span: Span) {
        let pos = self.pos(span);
        self.facts.sites.push(Site {
            rule,
            evidence: evidence.into(),
            pos,
        });
    }

    fn unanalyzed(&mut self, rule: &'static str, span: Span, reason: String) {
        let line = self.pos(span).line;
        let file = self.facts.files[self.file].clone();
        self.facts.unanalyzed.push(Unanalyzed {
            rule,
            file,
            line: Some(line),
            reason,
        });
    }

    fn in_scope<T>(&mut self, scope: ScopeId, f: impl FnOnce(&mut Self) -> T) -> T {
        let outer = std::mem::replace(&mut self.scope, scope);
        let out = f(self);
        self.scope = outer;
        out
    }

    /// Runs `f` with references attributed to a new item `name`, owned by
    /// the impl or trait being read (if any).
    fn in_item<T>(&mut self, name: String, f: impl FnOnce(&mut Self) -> T) -> T {
        let owner = self.owner.clone().unwrap_or(Owner::Module);
        self.in_function(name, owner, f)
    }

    fn in_function<T>(&mut self, name: String, owner: Owner, f: impl FnOnce(&mut Self) -> T) -> T {
        self.facts.items.push(ItemDef {
            name,
            scope: self.scope,
            owner,
        });
        self.facts.functions += 1;
        let outer = std::mem::replace(&mut self.function, self.facts.functions);
        let out = f(self);
        self.function = outer;
        out
    }

    fn module_path(&self) -> Vec<String> {
        let module = self.facts.module_of(self.scope);
        match &self.facts.scopes[module].kind {
            super::facts::ScopeKind::Module { path, .. } => path.clone(),
            super::facts::ScopeKind::Block { .. } => unreachable!("module_of returns a module"),
        }
    }

    fn declare_module(
        &mut self,
        name: String,
        attrs: &[Attribute],
        content: Option<&[Item]>,
        span: Span,
    ) {
        let scope = self.module_scope(&name);
        let path_attrs = path_attributes(attrs, self.cfg);
        match content {
            Some(items) => {
                // rustc takes the first `#[path]`, after `cfg_attr`s.
                let inner = self
                    .mod_dir
                    .inline(&name, path_attrs.first().map(|p| p.path.as_str()));
                let outer = std::mem::replace(&mut self.mod_dir, inner);
                self.in_scope(scope, |c| {
                    for item in items {
                        c.visit_item(item);
                    }
                });
                self.mod_dir = outer;
            }
            None => {
                let pos = self.pos(span);
                self.children.push(ChildModule {
                    scope,
                    name,
                    path_attrs,
                    dir: self.mod_dir.clone(),
                    pos,
                    deferred_by: self.deferring,
                });
            }
        }
    }

    fn add_use_tree(&mut self, tree: &UseTree, prefix: &mut Vec<String>, leading_colon: bool) {
        match tree {
            UseTree::Path(p) => {
                prefix.push(ident_name(&p.ident));
                self.add_use_tree(&p.tree, prefix, leading_colon);
                prefix.pop();
            }
            UseTree::Name(n) => {
                let ident = ident_name(&n.ident);
                self.add_import(prefix, &ident, None, leading_colon);
            }
            UseTree::Rename(r) => {
                let ident = ident_name(&r.ident);
                let rename = ident_name(&r.rename);
                self.add_import(prefix, &ident, Some(rename), leading_colon);
            }
            UseTree::Glob(_) => {
                let path = prefix.clone();
                self.facts.uncounted_items += 1;
                self.facts.imports_added += 1;
                self.facts.scopes[self.scope].imports.push(Import {
                    name: None,
                    path,
                    leading_colon,
                    public: self.public_use,
                });
            }
            UseTree::Group(g) => {
                for tree in &g.items {
                    self.add_use_tree(tree, prefix, leading_colon);
                }
            }
        }
    }

    fn add_import(
        &mut self,
        prefix: &[String],
        ident: &str,
        rename: Option<String>,
        leading_colon: bool,
    ) {
        let mut path = prefix.to_vec();
        if ident != "self" {
            path.push(ident.to_owned());
        }
        let Some(last) = path.last().cloned() else {
            return;
        };
        let name = rename.unwrap_or(last);
        if name == "_" {
            // `use Trait as _` brings a trait's methods, no name.
            return;
        }
        self.facts.uncounted_items += 1;
        self.facts.imports_added += 1;
        self.facts.scopes[self.scope].imports.push(Import {
            name: Some(name),
            path,
            leading_colon,
            public: self.public_use,
        });
    }

    fn foreign_mod(&mut self, foreign: &syn::ItemForeignMod) {
        let span = foreign.abi.extern_token.span;
        let abi = foreign
            .abi
            .name
            .as_ref()
            .map(|n| n.value())
            .unwrap_or_else(|| "C".into());
        self.add_site("extern-block", format!("extern \"{abi}\" block"), span);
        for item in &foreign.items {
            let (ident, attrs) = match item {
                syn::ForeignItem::Fn(f) => (&f.sig.ident, &f.attrs),
                syn::ForeignItem::Static(s) => (&s.ident, &s.attrs),
                // What syn does not model (`safe fn` in an `unsafe extern`
                // block) is still a declaration: read it as tokens.
                syn::ForeignItem::Verbatim(tokens) => {
                    self.token_foreign_items(tokens.clone());
                    continue;
                }
                _ => continue,
            };
            if excluded(attrs, self.cfg) {
                continue;
            }
            let name = ident_name(ident);
            let symbol = link_name(attrs).unwrap_or_else(|| name.clone());
            let pos = self.pos(ident.span());
            self.facts.foreign_fns.push(ForeignFn {
                symbol,
                name,
                scope: self.scope,
                pos,
            });
        }
    }

    /// Macro arguments are the caller's code: read them as expressions, else
    /// as statements (items, `let`s), else as tokens.
    fn macro_arguments(&mut self, tokens: TokenStream) {
        if self.tokens_only {
            self.walk_tokens(tokens);
            return;
        }
        if let Ok(exprs) = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(tokens.clone()) {
            for expr in &exprs {
                self.visit_expr(expr);
            }
            return;
        }
        if let Ok(stmts) = syn::Block::parse_within.parse2(tokens.clone()) {
            self.statements(&stmts);
            return;
        }
        self.walk_tokens(tokens);
    }

    fn statements(&mut self, stmts: &[syn::Stmt]) {
        let needs_scope = stmts.iter().any(|s| matches!(s, syn::Stmt::Item(_)));
        if needs_scope {
            let scope = self.facts.add_scope(Scope::block(self.scope));
            self.in_scope(scope, |c| {
                for stmt in stmts {
                    c.visit_stmt(stmt);
                }
            });
        } else {
            for stmt in stmts {
                self.visit_stmt(stmt);
            }
        }
    }

    /// Reads a token stream for paths, method calls, `unsafe`, `extern`
    /// blocks, `use`s and `mod` declarations. Iterative, so arbitrarily deep
    /// nesting cannot overflow the stack.
    pub fn walk_tokens(&mut self, tokens: TokenStream) {
        let mut pending: Vec<Vec<TokenTree>> = vec![tokens.into_iter().collect()];
        while let Some(trees) = pending.pop() {
            self.walk_flat(&trees, &mut pending);
        }
    }

    fn walk_flat(&mut self, trees: &[TokenTree], pending: &mut Vec<Vec<TokenTree>>) {
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
                        pending.push(inner.into_iter().collect());
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
                        let attr = g.stream();
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
                            RefKind::Method {
                                name: ident_name(name),
                                root: None,
                            },
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
                TokenTree::Literal(_) => i += 1,
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
                        self.define(alias, Def::ExternCrate(name));
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
                    self.add_use_tree(&item.tree, &mut Vec::new(), item.leading_colon.is_some());
                    self.public_use = false;
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
                    let exported = attrs.iter().any(|a| a.to_string() == "macro_export");
                    let new = self.facts.define_macro(
                        name.clone(),
                        super::expand::encode(&body.stream(), self.pos_override.is_none()),
                        exported,
                        self.scope,
                    );
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

    fn token_foreign_items(&mut self, stream: TokenStream) {
        let trees: Vec<TokenTree> = stream.into_iter().collect();
        let mut link_name_attr: Option<String> = None;
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => {
                    if self.syn_may_parse(&g.stream())
                        && let Ok(meta) = syn::parse2::<Meta>(g.stream())
                        && let Some(name) = meta_link_name(&meta)
                    {
                        link_name_attr = Some(name);
                    }
                }
                TokenTree::Ident(kw) if kw == "fn" || kw == "static" => {
                    let mut j = i + 1;
                    if matches!(trees.get(j), Some(TokenTree::Ident(m)) if m == "mut") {
                        j += 1;
                    }
                    if let Some(TokenTree::Ident(name)) = trees.get(j) {
                        let rust_name = ident_name(name);
                        let symbol = link_name_attr.take().unwrap_or_else(|| rust_name.clone());
                        let pos = self.pos(name.span());
                        self.facts.foreign_fns.push(ForeignFn {
                            symbol,
                            name: rust_name,
                            scope: self.scope,
                            pos,
                        });
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ';' => link_name_attr = None,
                _ => {}
            }
            i += 1;
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
        let is_macro = matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.as_char() == '!')
            && matches!(trees.get(i + 1), Some(TokenTree::Group(_)));
        let written = WrittenPath {
            segments,
            leading_colon,
        };
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
                self.record_invocation(&written, &args.stream(), span);
                let include = include::is_include(&written);
                self.token_macro_call(&name, include, args.stream(), span);
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

    /// `cfg_if! { if #[cfg(a)] { .. } else if #[cfg(b)] { .. } else { .. } }`:
    /// the first branch whose condition holds is compiled. A branch is read
    /// when it may be that one: its condition may hold and no earlier one
    /// certainly does. Returns false when the tokens have another shape.
    fn cfg_if(&mut self, tokens: TokenStream) -> bool {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut branches: Vec<(Option<String>, TokenStream)> = Vec::new();
        let mut i = 0;
        loop {
            let is_ident = |t: Option<&TokenTree>, word: &str| matches!(t, Some(TokenTree::Ident(id)) if id == word);
            if !is_ident(trees.get(i), "if") {
                return false;
            }
            let condition = match (trees.get(i + 1), trees.get(i + 2)) {
                (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g)))
                    if p.as_char() == '#'
                        && g.delimiter() == Delimiter::Bracket
                        && self.syn_may_parse(&g.stream()) =>
                {
                    match syn::parse2::<Meta>(g.stream()) {
                        Ok(Meta::List(list)) if list.path.is_ident("cfg") => {
                            list.tokens.to_string()
                        }
                        _ => return false,
                    }
                }
                _ => return false,
            };
            let Some(TokenTree::Group(body)) = trees.get(i + 3) else {
                return false;
            };
            branches.push((Some(condition), body.stream()));
            i += 4;
            if !is_ident(trees.get(i), "else") {
                break;
            }
            match trees.get(i + 1) {
                Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {
                    branches.push((None, body.stream()));
                    i += 2;
                    break;
                }
                _ => i += 1,
            }
        }
        if i != trees.len() {
            return false;
        }
        let mut earlier_certain = false;
        for (condition, body) in branches {
            let value = match &condition {
                Some(c) => self.cfg.evaluate(c),
                None => Some(true),
            };
            if value != Some(false) && !earlier_certain && !self.try_items(body.clone()) {
                self.walk_tokens(body);
            }
            earlier_certain |= value == Some(true);
        }
        true
    }

    /// Remembers the plain identifiers among a macro call's top-level
    /// arguments, for macros that build paths from them (`$prefix::$name`).
    fn record_macro_arguments(&mut self, name: &str, tokens: &TokenStream) {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let mut idents = Vec::new();
        for argument in trees.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
            if let [TokenTree::Ident(id)] = argument
                && !KEYWORDS.contains(&id.to_string().as_str())
            {
                idents.push((ident_name(id), self.pos(id.span())));
            }
        }
        if !idents.is_empty() {
            self.facts.uncounted_items += idents.len();
            self.facts.macro_calls_with_names.push(MacroArguments {
                name: name.to_owned(),
                idents,
                function: self.function,
            });
        }
    }

    fn try_items(&mut self, tokens: TokenStream) -> bool {
        if !self.syn_may_parse(&tokens) {
            return false;
        }
        let parser = |input: syn::parse::ParseStream| {
            let mut items = Vec::new();
            while !input.is_empty() {
                items.push(input.parse::<Item>()?);
            }
            Ok(items)
        };
        match parser.parse2(tokens) {
            Ok(items) if !items.is_empty() => {
                for item in &items {
                    self.visit_item(item);
                }
                true
            }
            _ => false,
        }
    }

    fn macro_body(&mut self, name: String, body: TokenStream) {
        let outer = std::mem::replace(&mut self.in_macro_body, true);
        let outer_tokens = std::mem::replace(&mut self.tokens_only, true);
        let outer_name = self.macro_name.replace(name);
        self.walk_tokens(body);
        self.macro_name = outer_name;
        self.tokens_only = outer_tokens;
        self.in_macro_body = outer;
    }

    fn record_path(&mut self, path: &syn::Path, qself: Option<&syn::QSelf>) {
        let Some(first) = path.segments.first() else {
            return;
        };
        let span = first.ident.span();
        let written = match qself {
            // `<Type>::item`: the item is relative to the type.
            Some(q) if q.position == 0 => match ungrouped(&q.ty) {
                syn::Type::Path(tp) if tp.qself.is_none() => {
                    let mut written = WrittenPath::from_syn(&tp.path);
                    written
                        .segments
                        .extend(path.segments.iter().map(|s| ident_name(&s.ident)));
                    written
                }
                _ => return,
            },
            _ => WrittenPath::from_syn(path),
        };
        let written = self.without_self_type(written);
        self.add_ref(RefKind::Path(written), span);
    }

    /// `Self::x` inside `impl … for some::Type` is `some::Type::x`.
    fn without_self_type(&self, written: WrittenPath) -> WrittenPath {
        match (&self.owner, written.segments.first()) {
            (Some(Owner::Impl(self_type)), Some(first)) if first == "Self" => {
                let mut segments = self_type.segments.clone();
                segments.extend(written.segments.into_iter().skip(1));
                WrittenPath {
                    segments,
                    leading_colon: self_type.leading_colon,
                }
            }
            _ => written,
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        if let Item::Verbatim(tokens) = item {
            return self.verbatim_item(tokens);
        }
        if excluded(item_attrs(item), self.cfg) {
            return;
        }
        let name = match item {
            Item::Fn(f) => Some(ident_name(&f.sig.ident)),
            _ => None,
        };
        self.gated(item_attrs(item), name, |c| visit::visit_item(c, item));
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        match expr {
            Expr::Verbatim(tokens) => self.verbatim(tokens),
            _ => visit::visit_expr(self, expr),
        }
    }

    fn visit_type(&mut self, ty: &'ast syn::Type) {
        match ty {
            syn::Type::Verbatim(tokens) => self.verbatim(tokens),
            _ => visit::visit_type(self, ty),
        }
    }

    fn visit_pat(&mut self, pat: &'ast syn::Pat) {
        match pat {
            syn::Pat::Verbatim(tokens) => self.verbatim(tokens),
            _ => visit::visit_pat(self, pat),
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        let content = item.content.as_ref().map(|(_, items)| items.as_slice());
        self.declare_module(
            ident_name(&item.ident),
            &item.attrs,
            content,
            item.ident.span(),
        );
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.public_use = matches!(item.vis, syn::Visibility::Public(_));
        self.add_use_tree(&item.tree, &mut Vec::new(), item.leading_colon.is_some());
        self.public_use = false;
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        let name = ident_name(&item.ident);
        let alias = item
            .rename
            .as_ref()
            .map(|(_, r)| ident_name(r))
            .unwrap_or_else(|| name.clone());
        if item.attrs.iter().any(|a| a.path().is_ident("macro_use")) {
            self.facts.macro_use_crates.push(name.clone());
        }
        if alias != "_" {
            self.define(alias, Def::ExternCrate(name));
        }
    }

    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        let def = match ungrouped(&item.ty) {
            syn::Type::Path(tp) if tp.qself.is_none() => {
                Def::Alias(WrittenPath::from_syn(&tp.path).segments_with_colon())
            }
            _ => Def::Item(NS_TYPE),
        };
        self.define(ident_name(&item.ident), def);
        visit::visit_item_type(self, item);
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.define(ident_name(&item.sig.ident), Def::Item(NS_VALUE));
        if let Some(unsafety) = &item.sig.unsafety {
            self.add_site(
                "unsafe-fn",
                format!("unsafe fn {}", item.sig.ident),
                unsafety.span,
            );
        }
        let outer = self.owner.take();
        self.in_item(ident_name(&item.sig.ident), |c| {
            visit::visit_item_fn(c, item)
        });
        self.owner = outer;
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        let attrs = match item {
            syn::ImplItem::Const(i) => &i.attrs,
            syn::ImplItem::Fn(i) => &i.attrs,
            syn::ImplItem::Type(i) => &i.attrs,
            syn::ImplItem::Macro(i) => &i.attrs,
            syn::ImplItem::Verbatim(tokens) => return self.verbatim(tokens),
            _ => return visit::visit_impl_item(self, item),
        };
        if !excluded(attrs, self.cfg) {
            self.gated(attrs, None, |c| visit::visit_impl_item(c, item));
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if let Some(unsafety) = &item.sig.unsafety {
            self.add_site(
                "unsafe-fn",
                format!("unsafe fn {}", item.sig.ident),
                unsafety.span,
            );
        }
        self.in_item(ident_name(&item.sig.ident), |c| {
            visit::visit_impl_item_fn(c, item)
        });
    }

    fn visit_trait_item(&mut self, item: &'ast syn::TraitItem) {
        let attrs = match item {
            syn::TraitItem::Const(i) => &i.attrs,
            syn::TraitItem::Fn(i) => &i.attrs,
            syn::TraitItem::Type(i) => &i.attrs,
            syn::TraitItem::Macro(i) => &i.attrs,
            syn::TraitItem::Verbatim(tokens) => return self.verbatim(tokens),
            _ => return visit::visit_trait_item(self, item),
        };
        if !excluded(attrs, self.cfg) {
            self.gated(attrs, None, |c| visit::visit_trait_item(c, item));
        }
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(unsafety) = &item.sig.unsafety {
            self.add_site(
                "unsafe-fn",
                format!("unsafe fn {}", item.sig.ident),
                unsafety.span,
            );
        }
        self.in_item(ident_name(&item.sig.ident), |c| {
            visit::visit_trait_item_fn(c, item)
        });
    }

    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.define(ident_name(&item.ident), Def::Item(struct_ns(&item.fields)));
        visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        self.define(ident_name(&item.ident), Def::Item(NS_TYPE));
        visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'ast syn::ItemUnion) {
        self.define(ident_name(&item.ident), Def::Item(NS_TYPE));
        visit::visit_item_union(self, item);
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        let name = ident_name(&item.ident);
        self.define(name.clone(), Def::Item(NS_VALUE));
        self.in_function(name, Owner::Module, |c| visit::visit_item_const(c, item));
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let name = ident_name(&item.ident);
        self.define(name.clone(), Def::Item(NS_VALUE));
        self.in_function(name, Owner::Module, |c| visit::visit_item_static(c, item));
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        self.define(ident_name(&item.ident), Def::Item(NS_TYPE));
        if let Some(unsafety) = &item.unsafety {
            self.add_site(
                "unsafe-trait",
                format!("unsafe trait {}", item.ident),
                unsafety.span,
            );
        }
        let outer = self.owner.replace(Owner::Trait(ident_name(&item.ident)));
        visit::visit_item_trait(self, item);
        self.owner = outer;
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some(unsafety) = &item.unsafety {
            let what = match &item.trait_ {
                Some((_, path, _)) => path
                    .segments
                    .last()
                    .map(|s| format!("unsafe impl {}", s.ident))
                    .unwrap_or_else(|| "unsafe impl".into()),
                None => "unsafe impl".into(),
            };
            self.add_site("unsafe-impl", what, unsafety.span);
        }
        if let Some((_, trait_path, _)) = &item.trait_ {
            let methods = item
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::ImplItem::Fn(f) => Some(ident_name(&f.sig.ident)),
                    _ => None,
                })
                .collect();
            self.facts.trait_impls.push(TraitImpl {
                trait_path: WrittenPath::from_syn(trait_path),
                scope: self.scope,
                methods,
            });
        }
        let self_type = match ungrouped(&item.self_ty) {
            syn::Type::Path(tp) if tp.qself.is_none() => {
                Some(Owner::Impl(WrittenPath::from_syn(&tp.path)))
            }
            _ => None,
        };
        // Methods of an impl for a type without a path (`impl X for &T`)
        // are read as free functions of the module.
        let outer = std::mem::replace(&mut self.owner, self_type);
        visit::visit_item_impl(self, item);
        self.owner = outer;
    }

    fn visit_item_foreign_mod(&mut self, item: &'ast syn::ItemForeignMod) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        self.foreign_mod(item);
        // Foreign items' types name paths too, but declaring is the finding.
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        for attr in &item.attrs {
            self.visit_attribute(attr);
        }
        if item.mac.path.is_ident("macro_rules") {
            let name = item.ident.as_ref().map(ident_name).unwrap_or_default();
            self.define(name.clone(), Def::Item(NS_MACRO));
            let exported = item.attrs.iter().any(|a| a.path().is_ident("macro_export"));
            let new = self.facts.define_macro(
                name.clone(),
                super::expand::encode(&item.mac.tokens, self.pos_override.is_none()),
                exported,
                self.scope,
            );
            if new {
                self.in_function(name.clone(), Owner::Macro { exported }, |c| {
                    c.macro_body(name, item.mac.tokens.clone())
                });
            }
            return;
        }
        self.visit_macro(&item.mac);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        let name = ident_name(&last.ident);
        let written = WrittenPath::from_syn(&mac.path);
        let span = mac.path.segments[0].ident.span();
        let recorded = self.record_invocation(&written, &mac.tokens, span);
        self.add_ref(RefKind::Macro(written.clone()), span);
        let pos = self.pos(last.ident.span());
        self.record_call(&name, &mac.tokens, pos);
        if include::is_include(&written) {
            self.include(&mac.tokens, pos);
            return;
        }
        if COMPILE_TIME_MACROS.contains(&name.as_str()) {
            return;
        }
        if name == "cfg_if" && self.cfg_if(mac.tokens.clone()) {
            return;
        }
        self.record_macro_arguments(&name, &mac.tokens);
        let outer = self.enclosing_macro.replace(name);
        let outer_deferring = self.deferring;
        self.deferring = recorded.or(outer_deferring);
        // Item-position macros (`thread_local!`, `lazy_static!`) carry items.
        if !self.try_items(mac.tokens.clone()) {
            self.macro_arguments(mac.tokens.clone());
        }
        self.deferring = outer_deferring;
        self.enclosing_macro = outer;
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        // Modules declared in a block do not get a non-mod.rs file's stem.
        let inner = self.mod_dir.block();
        let outer = std::mem::replace(&mut self.mod_dir, inner);
        self.statements(&block.stmts);
        self.mod_dir = outer;
    }

    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        if let syn::Stmt::Local(local) = stmt
            && excluded(&local.attrs, self.cfg)
        {
            return;
        }
        visit::visit_stmt(self, stmt);
    }

    fn visit_expr_unsafe(&mut self, expr: &'ast syn::ExprUnsafe) {
        self.add_site("unsafe-block", "unsafe block", expr.unsafe_token.span);
        visit::visit_expr_unsafe(self, expr);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let (root, recorded) = self.chain_roots.root(call);
        self.add_ref(
            RefKind::Method {
                name: ident_name(&call.method),
                root,
            },
            call.method.span(),
        );
        visit::visit_expr_method_call(self, call);
        self.chain_roots.forget(recorded);
    }

    fn visit_expr_path(&mut self, expr: &'ast syn::ExprPath) {
        self.path_ns = NS_VALUE;
        self.record_path(&expr.path, expr.qself.as_ref());
        self.path_ns = NS_ANY;
        if let Some(q) = &expr.qself {
            self.visit_type(&q.ty);
        }
        visit_generic_args(self, &expr.path);
    }

    fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
        self.path_ns = NS_TYPE;
        self.record_path(&ty.path, ty.qself.as_ref());
        self.path_ns = NS_ANY;
        if let Some(q) = &ty.qself {
            self.visit_type(&q.ty);
        }
        visit_generic_args(self, &ty.path);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        // Paths in patterns, struct expressions and trait bounds.
        self.record_path(path, None);
        visit_generic_args(self, path);
    }

    fn visit_attribute(&mut self, attr: &'ast Attribute) {
        self.attribute_meta(&attr.meta, attr.pound_token.span);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}
}

/// A struct's namespaces: a braced one is only a type, a tuple or unit
/// struct is also a value (its constructor).
fn struct_ns(fields: &syn::Fields) -> Ns {
    match fields {
        syn::Fields::Named(_) => NS_TYPE,
        syn::Fields::Unnamed(_) | syn::Fields::Unit => NS_TYPE | NS_VALUE,
    }
}

fn visit_generic_args(c: &mut Collector<'_>, path: &syn::Path) {
    for segment in &path.segments {
        c.visit_path_arguments(&segment.arguments);
    }
}

impl WrittenPath {
    /// Segments of an alias target, with a leading `::` kept as an empty
    /// first segment so the resolver can tell `::std` from `std`.
    pub fn segments_with_colon(self) -> Vec<String> {
        let mut segments = self.segments;
        if self.leading_colon {
            segments.insert(0, String::new());
        }
        segments
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

pub fn item_attrs(item: &Item) -> &[Attribute] {
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
pub fn excluded(attrs: &[Attribute], cfg: &CfgContext) -> bool {
    attrs.iter().any(|attr| meta_excludes(&attr.meta, cfg))
}

fn meta_excludes(meta: &Meta, cfg: &CfgContext) -> bool {
    match meta {
        Meta::List(list) if list.path.is_ident("cfg") => !cfg.may_compile(&list.tokens.to_string()),
        _ => false,
    }
}

fn token_attr_excluded(attr: &TokenStream, cfg: &CfgContext) -> bool {
    // A token-mode attribute may come from a file past a shape limit.
    shape_exceeds(attr, &LIMITS).is_none()
        && syn::parse2::<Meta>(attr.clone()).is_ok_and(|meta| meta_excludes(&meta, cfg))
}

fn token_path_attrs(attr: &TokenStream, cfg: &CfgContext) -> Vec<PathAttr> {
    if shape_exceeds(attr, &LIMITS).is_some() {
        return Vec::new();
    }
    syn::parse2::<Meta>(attr.clone())
        .map(|meta| meta_paths(&meta, false, cfg))
        .unwrap_or_default()
}

fn path_attributes(attrs: &[Attribute], cfg: &CfgContext) -> Vec<PathAttr> {
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

fn link_name(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| meta_link_name(&a.meta))
}

fn meta_link_name(meta: &Meta) -> Option<String> {
    name_value_str(meta, "link_name").or_else(|| match meta {
        // `#[unsafe(link_name = "x")]` is not valid, but `#[unsafe(export_name)]`
        // style wrappers may carry it in the future; look inside.
        Meta::List(list) if list.path.is_ident("unsafe") => list
            .parse_args::<Meta>()
            .ok()
            .and_then(|inner| name_value_str(&inner, "link_name")),
        _ => None,
    })
}

fn name_value_str(meta: &Meta, key: &str) -> Option<String> {
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

/// `path` relative to `root`, `/`-separated, with `.` and `..` folded
/// lexically (`src/backends/../utils/x.rs` is `src/utils/x.rs`); the
/// absolute path when it is not below `root`.
pub fn relative_path(root: &Path, path: &Path) -> String {
    use std::path::Component;
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut parts: Vec<String> = Vec::new();
    for component in rel.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if parts.last().is_some_and(|p| p != "..") => {
                parts.pop();
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// An identifier's name as rustc compares it: without the `r#` of a raw
/// identifier (`r#ref` and `ref` name the same module file) and in Unicode
/// NFC, which rustc applies to every identifier and proc-macro2 does not
/// (`Comman\u{64}` written with a combining sequence is `Command`).
pub fn ident_name(ident: &proc_macro2::Ident) -> String {
    use unicode_normalization::UnicodeNormalization;
    let name = ident.to_string();
    let name = match name.strip_prefix("r#") {
        Some(raw) => raw.to_owned(),
        None => name,
    };
    if name.is_ascii() {
        name
    } else {
        name.nfc().collect()
    }
}

/// `ty` without the groups a macro's `$t:ty` puts around it (`<$t>::new`
/// is `<std::process::Command>::new`).
fn ungrouped(mut ty: &syn::Type) -> &syn::Type {
    while let syn::Type::Group(group) = ty {
        ty = &group.elem;
    }
    ty
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
}
