//! The facts about items with bodies and impls: what an item belongs to,
//! which methods an impl writes itself, the associated types it names.

use super::{PlainImpl, ScopeId, SelfCall, WrittenPath};

/// An item with a body of code, whose reach other code can borrow: a
/// function or method, a const or static initialiser, a macro body.
#[derive(Clone, Debug)]
pub struct ItemDef {
    pub name: String,
    /// The scope the item is defined in.
    pub scope: ScopeId,
    pub owner: Owner,
    /// What only methods and functions have, boxed: most items of the
    /// largest crates are constants (windows-sys's 125,000), which would
    /// each carry three empty paths inline.
    extra: Option<Box<ItemExtra>>,
}

/// The parts of an [`ItemDef`] a constant or static never has.
#[derive(Clone, Debug)]
struct ItemExtra {
    impl_trait: Option<WrittenPath>,
    returns: Option<WrittenPath>,
    own_method: Option<SelfCall>,
}

impl ItemDef {
    /// `impl_trait`: for a method of `impl Trait for Type`, the trait as
    /// written (a call of the trait's method may run it, whatever the type
    /// (`u8`, `&T`, a generic `T`) is). `returns`: a function's return
    /// type when written as a path (wrappers such as `io::Result` and
    /// `Option` taken off), what a call of it gives. `own_method`: a method
    /// of an inherent impl read as written, with a plain `self`.
    pub fn new(
        name: String,
        scope: ScopeId,
        owner: Owner,
        impl_trait: Option<WrittenPath>,
        returns: Option<WrittenPath>,
        own_method: Option<SelfCall>,
    ) -> ItemDef {
        let extra =
            (impl_trait.is_some() || returns.is_some() || own_method.is_some()).then(|| {
                Box::new(ItemExtra {
                    impl_trait,
                    returns,
                    own_method,
                })
            });
        ItemDef {
            name,
            scope,
            owner,
            extra,
        }
    }

    /// For a method of `impl Trait for Type`, the trait as written.
    pub fn impl_trait(&self) -> Option<&WrittenPath> {
        self.extra.as_ref()?.impl_trait.as_ref()
    }

    /// A function's return type, when written as a path.
    pub fn returns(&self) -> Option<&WrittenPath> {
        self.extra.as_ref()?.returns.as_ref()
    }

    /// A method of an inherent impl read as written, with a plain `self`.
    pub fn own_method(&self) -> Option<SelfCall> {
        self.extra.as_ref()?.own_method
    }
}

/// `impl Trait for Type`: which methods the impl writes itself (the others
/// are the trait's provided methods).
#[derive(Clone, Debug)]
pub struct TraitImpl {
    pub trait_path: WrittenPath,
    pub scope: ScopeId,
    pub methods: Vec<String>,
    /// The impl, when it is plainly what it says (see [`PlainImpl`]).
    pub plain: Option<PlainImpl>,
}

/// An associated type an impl defines as a path (`impl Store for X {
/// type F = std::fs::File; }`): `Self::F::create`, `<X as Store>::F::create`
/// and `T::F::create` name `std::fs::File::create`.
#[derive(Clone, Debug)]
pub struct AssocType {
    pub name: String,
    pub target: WrittenPath,
    /// The scope the impl is in, where `target` resolves.
    pub scope: ScopeId,
    /// The impl's type and trait as written.
    pub self_type: Option<WrittenPath>,
    pub trait_path: Option<WrittenPath>,
}

/// What an item belongs to, which decides its path.
#[derive(Clone, Debug)]
pub enum Owner {
    /// A free function, const or static: `module::name`.
    Module,
    /// A method of `impl [Trait for] Type`: `Type::name`, the type as
    /// written in the impl's scope.
    Impl(WrittenPath),
    /// A provided method of `trait Name`: `module::Name::name`.
    Trait(String),
    /// A `macro_rules!`; `exported` when `#[macro_export]` puts it at the
    /// crate root.
    Macro { exported: bool },
}
