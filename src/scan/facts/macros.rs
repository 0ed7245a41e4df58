//! The facts about macros: their definitions, invocations and what the
//! expander needs to place what they produce (the modules, `include!`s and
//! paths a `macro_rules!` body writes).

use std::sync::Arc;

use super::{Owner, Pos, ScopeId, WrittenPath};
use crate::scan::moddir::ModDir;

/// A `mod name;` written inside a `macro_rules!` body.
#[derive(Clone, Debug)]
pub struct MacroModule {
    /// The module's name, or `$x` when a metavariable gives it: then it is
    /// one of the identifiers each invocation passes.
    pub name: String,
    pub path_attrs: Vec<crate::scan::collect::PathAttr>,
}

/// A macro invocation, where the modules and `include!`s of its
/// expansion land.
#[derive(Clone, Debug)]
pub struct MacroCall {
    /// The macro's name (last path segment).
    pub name: String,
    /// The module the invocation is in.
    pub module: ScopeId,
    /// The directory modules it declares are found in.
    pub dir: ModDir,
    /// The file the invocation is written in, as reached (links not
    /// resolved): what an `include!` its expansion makes is relative to.
    pub file_path: Arc<std::path::Path>,
    /// The invocation's arguments as written, when short enough to be a
    /// file name (`inc!("x.rs")` after `use std::include as inc;`).
    pub args: Option<String>,
    /// The path's first segment when it has more than one (`s` in
    /// `s::include!`): a name for std there makes it `include!`.
    pub through: Option<String>,
    pub pos: Pos,
    /// The invocation the expander knows it as (`invocations`), if any:
    /// once expanded completely, its expansion says what it declares.
    pub invocation: Option<usize>,
}

/// An `include!` written in a `macro_rules!` body: it is relative to the
/// file where the macro is invoked, so it is read at each invocation.
#[derive(Clone, Debug)]
pub struct MacroInclude {
    /// The `include!` arguments as written.
    pub args: String,
}

/// A path a `macro_rules!` body builds from metavariables
/// (`linux_raw_sys::general::$nr`, `std::$m::$f`): the prefix, how many
/// metavariable segments follow it, and the scope of the definition it
/// resolves in.
#[derive(Clone, Debug)]
pub struct MacroTemplate {
    pub prefix: WrittenPath,
    /// How many `::$name` segments follow the prefix (`std::$m::$f`: 2).
    pub metavars: usize,
    pub scope: ScopeId,
}

/// The plain identifiers a macro call passes (`syscall!(__NR_openat, fd)`
/// passes `__NR_openat` and `fd`).
#[derive(Clone, Debug)]
pub struct MacroArguments {
    pub name: String,
    pub idents: Vec<(String, Pos)>,
    pub function: u32,
}

/// A `macro_rules!` definition, its body as source text (syntax trees and
/// spans do not outlive their file; written by `expand::encode`, which
/// keeps the fragments an expansion passed on opaque), for expanding its
/// invocations.
#[derive(Clone, Debug)]
pub struct MacroDef {
    pub name: String,
    pub body: String,
    /// SHA-256 of the body: definitions with the same name and body expand
    /// alike, so the crate keeps one of them (see [`CrateFacts::define_macro`]).
    pub digest: String,
    /// `#[macro_export]`: other crates can invoke it.
    pub exported: bool,
    /// The scope it is defined in, and where: its textual scope starts
    /// there. `None` when defined more than once there in different files.
    pub scope: ScopeId,
    pub pos: Option<Pos>,
}

/// One expansion in the chain that produced an invocation: a name its
/// transcriber wrote may be looked up where that definition stands.
#[derive(Debug)]
pub struct ExpansionLink {
    /// The crate's own definition (an index into
    /// [`CrateFacts::macro_defs`]); `None` for a dependency's, whose
    /// place holds none of the crate's macros.
    pub def: Option<usize>,
    /// The expansion that produced the invocation this one expanded.
    pub parent: Option<Arc<ExpansionLink>>,
}

/// A macro invocation, with its arguments as source text (`expand::encode`),
/// where the expander may splice in what a `macro_rules!` of that name
/// produces.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub path: WrittenPath,
    /// Shared: the expander takes a copy of each invocation it looks at,
    /// on every round.
    pub args: Arc<str>,
    pub scope: ScopeId,
    pub function: u32,
    /// Where a `mod x;` the expansion declares looks for its file.
    pub mod_dir: ModDir,
    pub pos: Pos,
    /// How many expansions produced this invocation (0: written in a file).
    pub depth: usize,
    /// The definitions whose expansions produced it, innermost first
    /// (`None` at depth 0, or where they are not known).
    pub expanded_by: Option<Arc<ExpansionLink>>,
    /// Written inside the arguments of this macro (its last segment): the
    /// tokens are an invocation only if that macro emits them.
    pub enclosing: Option<String>,
    /// Written among an impl's or a trait's items: what it produces are
    /// that impl's or trait's associated items.
    pub assoc: Option<AssocPosition>,
    /// Expanded completely: its expansion, not its arguments read as
    /// code, says what it compiles to. Set once the crate is read.
    pub settled: bool,
}

/// The impl or trait whose items a macro invocation stands among: the
/// methods its arguments or expansion declare are `Type::method` (or the
/// trait's), as if written there.
#[derive(Clone, Debug)]
pub struct AssocPosition {
    /// The owner of the items (`None` for an impl whose type has no path,
    /// `impl X for &T`, whose methods are read as free functions).
    pub owner: Option<Owner>,
    /// The trait of `impl Trait for Type`.
    pub impl_trait: Option<WrittenPath>,
    /// Among a trait's items rather than an impl's.
    pub in_trait: bool,
}
