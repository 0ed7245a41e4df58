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
//!
//! This file is the collector itself: its state, what it hands back (the
//! `mod x;` files still to read) and where reading starts. The reading is
//! split by job, so each rule stands in one place: the syn visitor
//! (`collect/visit.rs`), the token fallback (`collect/tokens.rs`), the
//! facts both write (`collect/record.rs`), macro arguments and bodies
//! (`collect/macroargs.rs`), `extern` declarations (`collect/foreign.rs`),
//! what `cfg` and `#[path]` decide (`collect/itemattrs.rs`), `include!`
//! (`collect/include.rs`) and the expander's side (`collect/expansion.rs`).

use std::path::Path;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::Item;
use syn::parse::Parser;
use syn::visit::Visit;

use super::chain::ChainRoots;
use super::facts::{
    CrateFacts, ExpansionLink, FileId, NS_ANY, Ns, Owner, Pos, ScopeId, ScopeKind, SelfCall,
};
use super::files::PackageFiles;
use super::limits::{LIMITS, shape_exceeds};
use super::moddir::ModDir;
use super::strexpr::CompileEnv;
use crate::platform::CfgContext;

mod attrs;
mod bindings;
mod emitting;
mod expansion;
mod foreign;
mod include;
mod itemattrs;
mod locals;
pub(super) mod macroargs;
mod plain;
pub(super) mod prints;
mod record;
mod testgate;
mod tokens;
mod verbatim;
mod visit;

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
    file_path: Arc<Path>,
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
    /// The trait of the `impl Trait for Type` whose items are being read.
    impl_trait: Option<crate::scan::facts::WrittenPath>,
    /// The `use` being read is `pub`: other crates can name what it binds.
    public_use: bool,
    /// The `use` being read has some `pub`: other modules' globs bring it.
    visible_use: bool,
    /// How many `include!`d files deep the collector is.
    include_depth: usize,
    /// Token walking only: the file nests too deeply for syn.
    tokens_only: bool,
    /// Collecting a macro expansion: everything is at the invocation.
    pos_override: Option<Pos>,
    /// How many expansions produced the code being collected.
    expansion_depth: usize,
    /// The definitions whose expansions produced it.
    expanded_by: Option<Arc<ExpansionLink>>,
    /// Inherent impls read as written so far, and the one being read.
    inherent_impls: u32,
    inherent_impl: Option<u32>,
    /// The method about to be read (`in_function`): of that inherent
    /// impl, with a plain `self`.
    own_method: Option<SelfCall>,
    /// The body being read is that of such a method: its `self`.
    self_receiver: Option<SelfCall>,
    /// Inside an inline module with an attribute that may be a procedural
    /// macro's, which may rewrite everything in it.
    under_attribute: bool,
    /// The macro whose arguments are being read.
    enclosing_macro: Option<String>,
    /// Receiver-chain roots, found once per chain.
    chain_roots: ChainRoots,
    /// What the local names of the body being read stand for.
    bindings: bindings::Bindings,
    /// The type parameters in scope (an impl's, a trait's, a function's):
    /// a receiver written with one says nothing of its type, even when a
    /// type of that name is imported (`fn f<Vec: AsRef<Path>>(v: Vec)`).
    generics: Vec<String>,
    /// The return type of the function about to be read (`in_function`).
    returns: Option<super::facts::WrittenPath>,
    /// The namespaces a one-segment path being recorded is in: values in
    /// expressions, types in types, unknown elsewhere.
    path_ns: Ns,
    /// The `#[test]`/`#[bench]` item being read (`Pos::gate`), 0 if none.
    gate: u32,
    /// Collecting the expansion of an invocation written among an impl's or
    /// trait's items (`owner` is that impl's or trait's).
    assoc_expansion: bool,
    /// The local bindings in scope, innermost last (`collect/locals.rs`);
    /// those before `locals_floor` are not visible where the collector is.
    locals: Vec<String>,
    locals_floor: usize,
    /// The recorded invocation whose arguments are being read as code.
    deferring: Option<usize>,
    /// The item being read may not be in the build: the names it defines
    /// are conditional (`Scope::conditional`).
    uncertain: bool,
    /// The `quote!`-like invocation whose tokens are being read
    /// (`Pos::emitted`), 0 if none.
    emitting: u32,
    pub children: Vec<ChildModule>,
}

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
        file_path: impl Into<Arc<Path>>,
        mod_dir: ModDir,
        module_scope: ScopeId,
    ) -> Self {
        Collector {
            facts,
            cfg: inputs.cfg,
            file,
            file_path: file_path.into(),
            package_root: inputs.package_root,
            env: inputs.env,
            files: inputs.files,
            scope: module_scope,
            function: 0,
            mod_dir,
            in_macro_body: false,
            macro_name: None,
            owner: None,
            impl_trait: None,
            public_use: false,
            visible_use: false,
            include_depth: 0,
            tokens_only: false,
            pos_override: None,
            expansion_depth: 0,
            expanded_by: None,
            inherent_impls: 0,
            inherent_impl: None,
            own_method: None,
            self_receiver: None,
            under_attribute: false,
            enclosing_macro: None,
            chain_roots: ChainRoots::default(),
            bindings: bindings::Bindings::default(),
            generics: Vec::new(),
            returns: None,
            path_ns: NS_ANY,
            gate: 0,
            assoc_expansion: false,
            locals: Vec::new(),
            locals_floor: 0,
            deferring: None,
            uncertain: false,
            emitting: 0,
            children: Vec::new(),
        }
    }

    /// Collects a file syn parsed. A file whose own `#![cfg(..)]` cannot
    /// hold is not built, nor are the modules it declares: it adds nothing.
    pub fn collect_file(&mut self, file: &syn::File) {
        if itemattrs::excluded(&file.attrs, self.cfg) {
            return;
        }
        for attr in &file.attrs {
            self.visit_attribute(attr);
        }
        // rustc splices a module file's inner attributes onto its `mod`
        // item: `#![macro_use]` (or under `cfg_attr`) at the top of the
        // file keeps its `macro_rules!` in scope after the declaration.
        if let ScopeKind::Module {
            parent: Some(_), ..
        } = self.facts.scopes[self.scope].kind
            && file
                .attrs
                .iter()
                .any(|a| a.to_token_stream().to_string().contains("macro_use"))
        {
            self.facts.scopes[self.scope].declared.macro_use = true;
            self.facts.scope_edits += 1;
        }
        // rustc's nesting limit for the crate's expansions, from its root.
        if self.pos_override.is_none()
            && self.facts.scopes[self.scope].kind.is_root()
            && let Some(limit) = itemattrs::recursion_limit(&file.attrs)
        {
            self.facts.recursion_limit = self.facts.recursion_limit.max(Some(limit));
        }
        for item in &file.items {
            self.visit_item(item);
        }
    }

    /// Whether syn may be given `tokens`. Token mode reads files past a
    /// shape limit, whose fragments syn would recurse through too deeply;
    /// anything syn parses otherwise is a fragment of a file within limits.
    fn syn_may_parse(&self, tokens: &TokenStream) -> bool {
        !self.tokens_only || shape_exceeds(tokens, &LIMITS).is_none()
    }

    /// Reads `tokens` as the associated items of the impl or trait being
    /// read (`self.owner`), as rustc reads what a macro invocation among
    /// them holds or produces; false if they are not such items.
    fn try_assoc_items(&mut self, tokens: TokenStream) -> bool {
        if !self.syn_may_parse(&tokens) {
            return false;
        }
        if matches!(self.owner, Some(Owner::Trait(_))) {
            let Some(items) = parse_all::<syn::TraitItem>(tokens) else {
                return false;
            };
            items.iter().for_each(|item| self.visit_trait_item(item));
        } else {
            let Some(items) = parse_all::<syn::ImplItem>(tokens) else {
                return false;
            };
            items.iter().for_each(|item| self.visit_impl_item(item));
        }
        true
    }

    fn try_items(&mut self, tokens: TokenStream) -> bool {
        if !self.syn_may_parse(&tokens) {
            return false;
        }
        let Some(items) = parse_all::<Item>(tokens) else {
            return false;
        };
        items.iter().for_each(|item| self.visit_item(item));
        true
    }
}

/// `tokens` as a non-empty sequence of `T`, or `None`.
fn parse_all<T: syn::parse::Parse>(tokens: TokenStream) -> Option<Vec<T>> {
    let parser = |input: syn::parse::ParseStream| {
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse::<T>()?);
        }
        Ok(items)
    };
    parser.parse2(tokens).ok().filter(|items| !items.is_empty())
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
