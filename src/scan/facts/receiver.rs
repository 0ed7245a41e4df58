//! What a method call's receiver is, as far as syntax tells: the path its
//! chain starts at, a type written for the binding it starts at, or a field
//! of a value. Matching turns it into the canonical types a method rule
//! checks its receivers against (`matcher.rs`).

use super::{ScopeId, WrittenPath};

/// Where a receiver chain starts (`a` in `a.b().c()`), for the calls of
/// the chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    /// A path in value position: `Path::new(p)`, `File::open(p)?`, a
    /// function whose written return type says what it gives
    /// (`make_command()`), a binding initialised from one of those.
    Path(WrittenPath),
    /// A type written for the binding the chain starts at: a parameter
    /// `cmd: &mut Command`, `let f: File`, `self` in `impl S`; wrappers
    /// that hand the inner value's methods on (`&`, `Option`, `Box`,
    /// `Mutex`, `BufWriter`, ...) taken off.
    Type(WrittenPath),
    /// A field of a value: `self.child`, `self.0`, `cfg.file`. `owner` is
    /// the value's written type when known (`self`, a typed binding); else
    /// every field of that name in the crate is a candidate.
    Field {
        owner: Option<WrittenPath>,
        name: String,
    },
}

impl Root {
    /// The root of a chain that starts right at a written type, not at a
    /// value a method returned (`ft.is_symlink()` on `ft: FileType`, not
    /// `entry.path().exists()` on `entry: DirEntry`): only such a receiver's
    /// type is known to be the one written.
    pub fn is_declared(&self) -> bool {
        matches!(self, Root::Type(_) | Root::Field { .. })
    }
}

/// How a binding holds a value of the type written for it: `m: Mem`,
/// `m: &Mem`, `m: &mut Mem`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Held {
    Value,
    Ref,
    RefMut,
}

/// A method of an inherent impl read as written, or a call on the `self`
/// of one: the impl (numbered in the crate) and how `self` is held. A
/// `self.m()` in a method of that impl runs that impl's own `m` taking
/// `self` the same way: rustc's probe takes the receiver's type as it is
/// first, and there inherent methods come before any trait's; two inherent
/// `m` of one type are an error (`reach/analysis/self_calls.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SelfCall {
    pub impl_id: u32,
    pub held: Held,
}

/// A method call's receiver whose type is known exactly: a binding made by
/// a parameter or `let` pattern written with a type that is a path without
/// generic arguments, or a reference to one (not a wrapper, no type
/// parameter, not `Self`), in code read as written (not in a macro's
/// arguments or expansion). Which method rustc calls on it can be told
/// (`reach/analysis/overrides.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Exact {
    pub held: Held,
    pub ty: WrittenPath,
}

/// An `impl Trait for Type` whose methods are certainly the type's: written
/// in a module (not a block, a macro's arguments or expansion, a token
/// fallback), under no `cfg` not known before a build, without generics,
/// a `where` clause, attributes other than docs and lints, `default` or
/// macro invocations among its items, for a type written as a path
/// without generic arguments.
#[derive(Clone, Debug)]
pub struct PlainImpl {
    pub self_type: WrittenPath,
    /// Its methods with their own `self`, `&self` or `&mut self` (no
    /// `self: Type`), each without attributes beyond docs, lints and
    /// inlining hints (no `cfg`).
    pub receivers: Vec<(String, Held)>,
}

/// A struct field with its type written as a path (wrappers taken off, as
/// for [`Root::Type`]): `child: Child` of `struct Runner`, `0: File` of a
/// tuple struct.
#[derive(Clone, Debug)]
pub struct FieldDef {
    /// The struct's name, in `scope`'s module.
    pub owner: String,
    pub name: String,
    pub ty: WrittenPath,
    /// The scope the struct is defined in, where `ty` resolves.
    pub scope: ScopeId,
}
