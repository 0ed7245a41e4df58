//! The facts one crate's syntax yields: its scopes (what each module and
//! block defines and imports), every path it names, and structural sites
//! such as `unsafe` blocks.
//!
//! Facts are small, owned data extracted while a file's syntax tree is alive;
//! the tree is dropped right after, so memory is bounded by the largest file,
//! not the crate. Name resolution and rule matching run on facts alone.

mod items;
mod macros;
mod receiver;
mod refs;
mod shared;

pub use items::{AssocType, ItemDef, Owner, TraitImpl};
pub use macros::{
    AssocPosition, ExpansionLink, Invocation, MacroArguments, MacroCall, MacroDef, MacroInclude,
    MacroModule, MacroTemplate,
};
pub use receiver::{Exact, FieldDef, Held, PlainImpl, Root, SelfCall};
pub use refs::{MethodRef, Ref, RefKind};
pub use shared::Shared;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Index into [`CrateFacts::scopes`].
pub type ScopeId = usize;

/// Index into [`CrateFacts::files`].
pub type FileId = u32;

/// A place in one of the crate's files; `column` is 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pos {
    pub file: FileId,
    pub line: u32,
    pub column: u32,
    /// The fact comes from a macro expansion (and is placed at the
    /// invocation): a finding it gives that the written code gives too is
    /// not reported twice.
    pub expanded: bool,
    /// The `#[test]`/`#[bench]` item the fact is in (an index + 1 into
    /// [`CrateFacts::test_gates`]), 0 outside any.
    pub gate: u32,
    /// The code-generating macro call whose tokens the fact is in (an
    /// index + 1 into [`CrateFacts::emit_regions`]), 0 outside any.
    pub emitted: u32,
}

/// The tokens of a `quote!`-like invocation, read as code but possibly
/// code the crate only emits (`scan/emits.rs` decides, once names are
/// resolved).
#[derive(Clone, Debug)]
pub struct EmitRegion {
    /// The macro as written (`quote`, `quote::quote_spanned`).
    pub path: WrittenPath,
    /// The scope the macro's name is looked up in.
    pub scope: ScopeId,
    /// The macro whose arguments hold the invocation, if any: that macro,
    /// not quote, decides what the tokens become.
    pub enclosing: Option<String>,
}

/// An item under `#[test]` or `#[bench]`. That is the built-in attribute,
/// which drops the item from normal builds, only if nothing in scope binds
/// the name otherwise (a proc-macro attribute imported as `test` keeps the
/// item); which one it is is known once every file has been read
/// (`scan/testgate.rs`), so its facts are kept until then, marked.
#[derive(Clone, Debug)]
pub struct TestGate {
    /// `test` or `bench`.
    pub attr: String,
    /// The scope the attribute is looked up in.
    pub scope: ScopeId,
    /// The gate the item is itself inside (0: none).
    pub parent: u32,
    /// The definition the item adds to `scope` (its name, and its index
    /// among that name's definitions), removed with the item.
    pub def: Option<(String, usize)>,
}

/// Rust's namespaces, as a set: a definition occupies some, a path
/// segment is looked up in some. A name can be bound once per namespace,
/// so `fn Command()` beside `use std::process::Command` (a type) is legal,
/// and a value never hides a module or type of the same name.
pub type Ns = u8;
pub const NS_TYPE: Ns = 1;
pub const NS_VALUE: Ns = 2;
pub const NS_MACRO: Ns = 4;
/// Where the namespace is not known (token mode, patterns): every one.
pub const NS_ANY: Ns = NS_TYPE | NS_VALUE | NS_MACRO;

/// What a name defined in a scope stands for.
#[derive(Clone, Debug)]
pub enum Def {
    /// A module of this crate.
    Module(ScopeId),
    /// Any other item (fn, struct, trait, const, local macro...), in the
    /// namespaces it occupies: it shadows outer and prelude names there
    /// and resolves inside the crate.
    Item(Ns),
    /// `type Name = some::Path;` resolves to its target.
    Alias(Vec<String>),
    /// `extern crate lib as name;` with the library's name.
    ExternCrate(String),
}

impl Def {
    /// The namespaces the definition occupies.
    pub fn ns(&self) -> Ns {
        match self {
            Def::Item(ns) => *ns,
            Def::Module(_) | Def::Alias(_) | Def::ExternCrate(_) => NS_TYPE,
        }
    }
}

/// A `use` of one name (`use a::b as c;` binds `c` to `a::b`), or a glob.
#[derive(Clone, Debug)]
pub struct Import {
    /// `None` for a glob import.
    pub name: Option<String>,
    pub path: Vec<String>,
    pub leading_colon: bool,
    /// `pub use`: a re-export other crates can name.
    pub public: bool,
    /// Any `pub` (`pub(crate)`, `pub(super)`, …): other modules' globs may
    /// bring it; a plain `use` is seen only by its module and those inside.
    pub visible: bool,
    /// It may not be in the build (see [`Scope::conditional`]): it binds
    /// its name, but hides nothing.
    pub conditional: bool,
}

#[derive(Clone, Debug)]
pub enum ScopeKind {
    /// A module; `path` is its path from the crate root (empty for the root).
    Module {
        path: Vec<String>,
        parent: Option<ScopeId>,
    },
    /// A block with its own items or imports, nested in `parent`.
    Block { parent: ScopeId },
}

#[derive(Clone, Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    /// Definitions by name: several when they are in different namespaces
    /// (or alternatives under `cfg`s).
    pub defs: HashMap<String, Vec<Def>>,
    pub imports: Vec<Import>,
    /// Names with a definition that may not be in the build: under a `cfg`
    /// not known before a build, in a macro's arguments read as written (a
    /// macro may drop or `cfg` what it is given), in a `cfg_if!` branch
    /// that may not be the one. Such a definition is a candidate, but
    /// hides nothing: rustc may see the outer name (`#[cfg(not(debug_
    /// assertions))] mod std { .. }` hides std only in release builds).
    pub conditional: HashSet<String>,
    /// The module is read from alternatives (declared twice, or a
    /// `#[path]` under `cfg_attr` beside its default file): each of its
    /// names is conditional, since only one alternative is built.
    pub alternatives: bool,
    /// Where a module is declared in its parent, and whether its
    /// `macro_rules!` stay in textual scope after it there: what decides
    /// which definitions an invocation may name (`macros/scope.rs`).
    pub declared: ModuleDecl,
}

/// A module's declaration, as far as it decides `macro_rules!` textual
/// scope. Unknown (a module a macro declares, or one the token fallback
/// reads) counts as `#[macro_use]` declared anywhere: every definition
/// inside may be in scope everywhere after.
#[derive(Clone, Copy, Debug, Default)]
pub struct ModuleDecl {
    /// The declaration's place (one place, in one file, or unknown).
    pub at: Option<Pos>,
    /// `#[macro_use]` (also under `cfg_attr`) may be on it.
    pub macro_use: bool,
    /// No declaration noted yet ([`ModuleDecl::note`] sets the first).
    pub pending: bool,
}

impl ModuleDecl {
    /// A declaration of the module at `at`: the first, or one more
    /// (alternatives under `cfg`s), which makes the place unknown, and
    /// keeps `#[macro_use]` if either has it.
    pub fn note(self, at: Pos, macro_use: bool) -> ModuleDecl {
        if self.pending {
            return ModuleDecl {
                at: Some(at),
                macro_use,
                pending: false,
            };
        }
        // Which alternative is built is not known: the earliest place
        // would put an invocation in a later one before a definition
        // between them, the latest a definition's `#[macro_use]` scope
        // after one. Neither is certain.
        ModuleDecl {
            at: None,
            macro_use: macro_use || self.macro_use,
            pending: false,
        }
    }
}

/// The earlier of two places in one file.
pub fn earlier(a: Pos, b: Pos) -> Pos {
    if (b.line, b.column) < (a.line, a.column) {
        b
    } else {
        a
    }
}

impl ScopeKind {
    /// The crate root's module.
    pub fn is_root(&self) -> bool {
        matches!(self, ScopeKind::Module { parent: None, .. })
    }
}

impl Scope {
    pub fn module(path: Vec<String>, parent: Option<ScopeId>) -> Scope {
        Scope {
            kind: ScopeKind::Module { path, parent },
            defs: HashMap::new(),
            imports: Vec::new(),
            conditional: HashSet::new(),
            alternatives: false,
            declared: ModuleDecl {
                at: None,
                macro_use: true,
                pending: false,
            },
        }
    }

    pub fn block(parent: ScopeId) -> Scope {
        Scope {
            kind: ScopeKind::Block { parent },
            defs: HashMap::new(),
            imports: Vec::new(),
            conditional: HashSet::new(),
            alternatives: false,
            declared: ModuleDecl::default(),
        }
    }
}

/// A path as written: segments without generic arguments. The segments
/// are shared: a crate's references name the same paths many times over
/// (windows-sys names its few hundred type aliases 450,000 times), and
/// each reference keeps one copy of its path (see [`CrateFacts::add_ref`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WrittenPath {
    pub segments: Arc<[String]>,
    pub leading_colon: bool,
}

impl WrittenPath {
    pub fn new(segments: impl Into<Arc<[String]>>, leading_colon: bool) -> WrittenPath {
        WrittenPath {
            segments: segments.into(),
            leading_colon,
        }
    }

    pub fn from_syn(path: &syn::Path) -> WrittenPath {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|s| super::collect::ident_name(&s.ident))
            .collect();
        WrittenPath::new(segments, path.leading_colon.is_some())
    }
}

/// A structural fact with a fixed rule id.
#[derive(Clone, Debug)]
pub struct Site {
    /// The id of a structural rule in `rules/structural.toml`.
    pub rule: &'static str,
    pub evidence: String,
    pub pos: Pos,
}

/// What a build script may print to cargo: a `print!`-family or
/// formatting macro's format string, or a string literal that holds a
/// directive linking native code (`cargo:rustc-link-lib=…`), wherever it
/// stands (a constant later written out, a helper's argument).
#[derive(Clone, Debug)]
pub struct Print {
    /// The macro (`println`, `writeln`, `format_args`…); empty for a
    /// string literal.
    pub macro_name: String,
    /// The format string's value, or `None` when it is not a string the
    /// scan can compute (a variable, a metavariable, a call).
    pub format: Option<String>,
    /// The item it is in (`Ref::function`), for reach.
    pub function: u32,
    pub pos: Pos,
}

/// A function declared in an `extern` block, by link name.
#[derive(Clone, Debug)]
pub struct ForeignFn {
    pub symbol: String,
    /// The name Rust code calls it by, and the scope declaring it.
    pub name: String,
    pub scope: ScopeId,
    pub pos: Pos,
    /// The block's `#[link(wasm_import_module = "…")]`, and whether it
    /// applies: only when compiling for wasm, where the symbol is imported
    /// from that module (JavaScript, the host) instead of the C library;
    /// rustc ignores it everywhere else.
    pub wasm_module: Option<(String, bool)>,
    /// Attribute macros on the block (`#[wasm_bindgen]`), as written: the
    /// macro decides what the declarations become.
    pub block_macros: Vec<WrittenPath>,
}

/// A foreign declaration whose `#[link_name]` is an expression
/// (`zng_prefix!(adler32)`), to be evaluated once the crate's macros are
/// known (`macros/link_names.rs`).
#[derive(Clone, Debug)]
pub struct ComputedLinkName {
    /// The declaration, under its Rust name (already recorded so).
    pub decl: ForeignFn,
    /// Each `link_name` value, encoded as invocation arguments are.
    pub values: Vec<String>,
}

/// Source that could not be analysed, with why.
#[derive(Clone, Debug)]
pub struct Unanalyzed {
    pub rule: &'static str,
    pub file: String,
    pub line: Option<u32>,
    pub reason: String,
}

/// Everything the scanner learnt about one crate (one target).
#[derive(Debug, Default)]
pub struct CrateFacts {
    /// Files relative to the package root, `/`-separated.
    pub files: Vec<String>,
    pub scopes: Vec<Scope>,
    /// Distinct references, in the order first met (see [`Self::add_ref`]).
    refs: Vec<Ref>,
    /// The last of `refs` with each hash, to find a repeat; the others
    /// with that hash are chained through `ref_chain`.
    ref_index: HashMap<u64, u32>,
    /// Per reference, the previous one with the same hash (`u32::MAX`:
    /// none). A chain rather than a list per hash: one small allocation
    /// per reference cost more than the reference itself.
    ref_chain: Vec<u32>,
    /// One copy of each path the references name, while they are
    /// collected (see [`WrittenPath`]).
    ref_paths: Shared<[String]>,
    pub sites: Vec<Site>,
    pub foreign_fns: Vec<ForeignFn>,
    /// Declarations whose symbols macros compute, until they are evaluated.
    pub computed_link_names: Vec<ComputedLinkName>,
    /// Format strings and directive literals, for build scripts.
    pub prints: Vec<Print>,
    pub unanalyzed: Vec<Unanalyzed>,
    /// Bytes of source read, for throughput figures.
    pub bytes_read: u64,
    /// Files that syn could not parse and were read as tokens instead.
    pub token_fallback_files: Vec<String>,
    /// Number of functions seen; `Ref::function` counts up from 1.
    pub functions: u32,
    /// The item of each function number: `items[f - 1]` for `Ref::function`
    /// `f`.
    pub items: Vec<ItemDef>,
    pub trait_impls: Vec<TraitImpl>,
    /// Struct fields whose types are written as paths, for receivers that
    /// are fields (`self.file.sync_all()`).
    pub fields: Vec<FieldDef>,
    /// Structs, enums and unions without generics or attributes beyond
    /// docs, lints, `repr` and std's derives, written plainly in a module
    /// (as for [`PlainImpl`]): their name and module.
    pub plain_types: Vec<(String, ScopeId)>,
    /// `type Name = some::Path;` inside impls.
    pub assoc_types: Vec<AssocType>,
    /// Modules declared inside `macro_rules!` bodies, by macro name.
    pub macro_modules: HashMap<String, Vec<MacroModule>>,
    pub macro_calls: Vec<MacroCall>,
    /// How many `include!`s were expanded, against the include limit.
    pub includes: usize,
    /// Where each `include!`d file's items stand: the `include!` (or the
    /// invocation whose expansion holds it), by the file's id.
    pub included_at: HashMap<FileId, Pos>,
    /// `include!`s in `macro_rules!` bodies, by macro name.
    pub macro_includes: HashMap<String, Vec<MacroInclude>>,
    /// Macros each `macro_rules!` body invokes, by macro name: what the
    /// inner ones declare lands where the outer one is invoked.
    pub macro_invokes: HashMap<String, Vec<String>>,
    /// Paths macro bodies build from metavariables, by macro name.
    pub macro_templates: HashMap<String, Vec<MacroTemplate>>,
    pub macro_calls_with_names: Vec<MacroArguments>,
    /// Imports and macro-call identifiers, which live inside other facts,
    /// counted as they are added, for the item limit.
    pub uncounted_items: usize,
    /// One per distinct (name, body): see [`CrateFacts::define_macro`].
    pub macro_defs: Vec<MacroDef>,
    macro_def_index: HashMap<(String, String, ScopeId), usize>,
    pub invocations: Vec<Invocation>,
    /// Crates named by `#[macro_use] extern crate`: all their exported
    /// macros are in scope by their bare names.
    pub macro_use_crates: Vec<String>,
    /// The crate root's `#![recursion_limit = "N"]` (the largest, under
    /// any `cfg_attr`): how deep rustc lets its expansions nest.
    pub recursion_limit: Option<usize>,
    /// `use` items recorded so far, in any scope: the expander re-reads the
    /// imports only when this changes.
    pub imports_added: usize,
    /// Definitions, module declarations and repeated `macro_rules!`
    /// recorded so far: with the scopes and imports, what decides which
    /// definitions an invocation may name (`macros/scope.rs`).
    pub scope_edits: usize,
    /// Items under `#[test]`/`#[bench]`, for `Pos::gate`.
    pub test_gates: Vec<TestGate>,
    /// Invocations of code-generating macros, for `Pos::emitted`.
    pub emit_regions: Vec<EmitRegion>,
}

impl CrateFacts {
    /// Records a `macro_rules!` definition made in `scope`; false when the
    /// same definition (name and body) was already made there. That happens
    /// when a file is `include!`d from many places, or a macro whose
    /// expansion defines a macro is expanded thousands of times. Every
    /// invocation tries every definition of its name, and each definition's
    /// body adds facts, so duplicates would multiply the work without
    /// adding anything: the crate keeps one.
    pub fn define_macro(
        &mut self,
        name: String,
        body: String,
        exported: bool,
        scope: ScopeId,
        pos: Pos,
    ) -> bool {
        let digest = crate::digest::sha256_hex(body.as_bytes());
        let key = (name.clone(), digest.clone(), scope);
        if let Some(&index) = self.macro_def_index.get(&key) {
            self.scope_edits += 1;
            let def = &mut self.macro_defs[index];
            def.exported |= exported;
            // Kept once: its textual scope starts at the earliest place.
            def.pos = match def.pos {
                Some(old) if old.file == pos.file => Some(earlier(old, pos)),
                _ => None,
            };
            return false;
        }
        self.macro_def_index.insert(key, self.macro_defs.len());
        self.macro_defs.push(MacroDef {
            name,
            body,
            digest,
            exported,
            scope,
            pos: Some(pos),
        });
        true
    }

    /// Records that the code at `pos` could not be analysed, and why.
    pub fn unanalyzed_at(&mut self, rule: &'static str, pos: Pos, reason: String) {
        let file = self.file_name(pos.file).to_owned();
        self.unanalyzed.push(Unanalyzed {
            rule,
            file,
            line: Some(pos.line),
            reason,
        });
    }

    pub fn add_scope(&mut self, scope: Scope) -> ScopeId {
        self.scopes.push(scope);
        self.scopes.len() - 1
    }

    /// Files are bounded by the scan limits, far below `u32::MAX`.
    pub fn add_file(&mut self, relative: String) -> FileId {
        self.files.push(relative);
        FileId::try_from(self.files.len() - 1).unwrap_or(FileId::MAX)
    }

    /// A file's path relative to the package root (empty for an id no
    /// file has).
    pub fn file_name(&self, file: FileId) -> &str {
        self.files.get(file as usize).map_or("", String::as_str)
    }

    /// How many facts have been collected, for the item limit.
    pub fn item_count(&self) -> usize {
        self.scopes.len()
            + self.refs.len()
            + self.sites.len()
            + self.foreign_fns.len()
            + self.prints.len()
            + self.items.len()
            + self.trait_impls.len()
            + self.macro_calls.len()
            + self.macro_calls_with_names.len()
            + self.uncounted_items
    }

    /// Adds, for every call of a macro that builds paths from its arguments,
    /// the paths it would build with each plain identifier argument. A name
    /// that was not the metavariable gives a path no rule knows.
    pub fn expand_macro_templates(&mut self, max_items: usize) {
        let mut added = Vec::new();
        let budget = max_items.saturating_sub(self.item_count());
        'calls: for call in &self.macro_calls_with_names {
            let Some(templates) = self.macro_templates.get(&call.name) else {
                continue;
            };
            for template in templates {
                // Each run of consecutive identifier arguments as long as the
                // template's metavariables (`call!(env, var, x)` fills
                // `std::$m::$f` with `env`, `var`).
                for run in call.idents.windows(template.metavars.max(1)) {
                    if added.len() >= budget {
                        // Many calls of a macro with many templates: each
                        // pair adds paths.
                        self.unanalyzed.push(Unanalyzed {
                            rule: "scan-limit",
                            file: self.file_name(run[0].1.file).to_owned(),
                            line: Some(run[0].1.line),
                            reason: format!(
                                "macro calls build more than {max_items} items, the item limit"
                            ),
                        });
                        break 'calls;
                    }
                    let mut segments = template.prefix.segments.to_vec();
                    segments.extend(run.iter().map(|(ident, _)| ident.clone()));
                    let path = WrittenPath::new(segments, template.prefix.leading_colon);
                    added.push(Ref {
                        kind: RefKind::Path(path),
                        scope: template.scope,
                        ns: NS_ANY,
                        function: call.function,
                        pos: run[0].1,
                    });
                }
            }
        }
        self.extend_refs(added);
    }

    /// The module a scope belongs to (itself when it is one).
    /// The scopes a name written in `scope` is looked up in before the
    /// preludes: `scope`, its enclosing blocks, then their module.
    pub fn lexical_scopes(&self, scope: ScopeId) -> impl Iterator<Item = &Scope> {
        let mut next = Some(scope);
        std::iter::from_fn(move || {
            let current = next?;
            let data = &self.scopes[current];
            next = match data.kind {
                ScopeKind::Block { parent } => Some(parent),
                ScopeKind::Module { .. } => None,
            };
            Some(data)
        })
    }

    pub fn module_of(&self, mut scope: ScopeId) -> ScopeId {
        loop {
            match self.scopes[scope].kind {
                ScopeKind::Module { .. } => return scope,
                ScopeKind::Block { parent } => scope = parent,
            }
        }
    }
}
