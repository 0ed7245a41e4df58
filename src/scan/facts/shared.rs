//! One kept copy of each equal value: a crate names the same paths many
//! times over, and each mention holding its own copy was most of a large
//! crate's memory (windows-sys, rustix).

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

/// The values kept so far, each once.
#[derive(Debug)]
pub struct Shared<T: ?Sized>(HashSet<Arc<T>>);

impl<T: ?Sized> Default for Shared<T> {
    fn default() -> Self {
        Shared(HashSet::new())
    }
}

impl<T: ?Sized + Eq + Hash> Shared<T> {
    /// The kept copy equal to `value`, keeping `value` if there is none.
    pub fn share<V: Borrow<T> + Into<Arc<T>>>(&mut self, value: V) -> Arc<T> {
        if let Some(kept) = self.0.get(value.borrow()) {
            return kept.clone();
        }
        let kept: Arc<T> = value.into();
        self.0.insert(kept.clone());
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_get_one_copy() {
        let mut shared: Shared<str> = Shared::default();
        let a = shared.share("std::fs::File".to_owned());
        let b = shared.share("std::fs::File".to_owned());
        let c = shared.share("std::fs::read".to_owned());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
