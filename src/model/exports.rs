//! What a crate's nameable items reach: the data that crosses crate
//! boundaries. Reach computes it for a crate; scan reads a dependency's
//! exported macros from it; the cache keys a dependent's scan by its
//! fingerprint.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::capability::{Capability, Resolution};
use super::package::Edition;

/// What a crate's nameable items reach.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exports {
    /// Path inside the crate (`client::Client::send`, without the crate's
    /// name) to one witness per capability it reaches.
    pub items: BTreeMap<String, Vec<Witness>>,
    /// Re-exports and type aliases of paths outside the crate's graph of
    /// scanned code (`process::Command` → `std::process::Command`). A key
    /// ending in `*` is a glob: `sys::*` → `std::os::unix`. A target
    /// starting with `crate` is another path of this crate's own, for paths
    /// that globs make without end (`prelude::prelude` → `crate::prelude`).
    /// A key may stand for several paths, sorted: a module that globs both
    /// `std::fs` and `std::process`, or alternatives under `cfg`s. Keeping
    /// one of them let a dependent reach the other's items unseen.
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Types and traits with methods whose names do not look like a type's
    /// (`runner`, `_Inner`): a method call is matched against the methods
    /// of the types the calling code names, and a type is otherwise told
    /// by its case, which the crate's author chooses.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub types: BTreeSet<String>,
    /// The `#[macro_export]` `macro_rules!` bodies by macro name, as source
    /// text: what they expand to is the invoking crate's code (its paths,
    /// `unsafe` and `extern` blocks), so dependents expand them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub macros: BTreeMap<String, Vec<String>>,
    /// The edition those macros are defined in: it decides what their
    /// fragments take (`$p:pat` a leading `|` from 2021 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_edition: Option<Edition>,
    /// The libraries of other crates whose items the crate re-exports
    /// (`pub use dep::Item`, `pub use dep::*`), by their library name.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub re_exported_crates: BTreeSet<String>,
    /// For a procedural macro crate: what the code it generates does, one
    /// witness per capability (`via` is the emitted evidence). That code
    /// becomes part of each crate the macro is a dependency of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emits: Vec<Witness>,
    /// A procedural-macro crate whose macros a dependent may invoke through
    /// this crate: the crate itself, or one a dependency brings and this
    /// crate may re-export (`pub use serde_derive::Serialize`). What such
    /// a macro generates is not seen, so a dependent's foreign declarations
    /// may be called unseen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proc_macro: Option<String>,
}

/// How an item reaches a capability: the chain of items from the named one
/// down to the API a rule matched, and that rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub capability: Capability,
    pub rule: String,
    pub via: Vec<String>,
    /// The least sure link of the chain: `by-name` when any call in it was
    /// matched by its method name only.
    pub resolution: Resolution,
}

impl Exports {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.aliases.is_empty()
            && self.types.is_empty()
            && self.macros.is_empty()
            && self.emits.is_empty()
            && self.re_exported_crates.is_empty()
            && self.proc_macro.is_none()
    }

    /// A stable hash of the exports, for dependents' cache keys.
    pub fn fingerprint(&self) -> String {
        crate::digest::sha256_hex(&serde_json::to_vec(self).unwrap_or_default())
    }
}
