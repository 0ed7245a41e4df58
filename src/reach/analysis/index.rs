//! The crate's items by name: a list sorted once, searched by halving,
//! instead of a hash map of lists. windows-sys defines about 150,000
//! items, nearly all named once: a map kept a table slot and a list
//! allocation for each (about 15 MB), the sorted list 24 bytes.

/// Items (graph nodes) by a name or path; a name's nodes in the order they
/// were added.
pub(super) struct NodesByName<'a> {
    entries: Vec<(&'a str, u32)>,
}

impl<'a> NodesByName<'a> {
    /// The index of `entries` (a name and its node, in node order).
    pub(super) fn new(entries: impl IntoIterator<Item = (&'a str, usize)>) -> NodesByName<'a> {
        let mut entries: Vec<(&str, u32)> = entries
            .into_iter()
            .map(|(name, node)| (name, u32::try_from(node).expect("fewer than 2^32 items")))
            .collect();
        // Stable: a name's nodes stay in the order they came.
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries.shrink_to_fit();
        NodesByName { entries }
    }

    /// The nodes named `name`, `None` if there are none.
    pub(super) fn get(&self, name: &str) -> Option<Nodes<'_, 'a>> {
        let start = self.entries.partition_point(|(n, _)| *n < name);
        let len = self.entries[start..].partition_point(|(n, _)| *n == name);
        (len > 0).then(|| Nodes(&self.entries[start..start + len]))
    }
}

/// The nodes of one name.
#[derive(Clone, Copy)]
pub(super) struct Nodes<'s, 'a>(&'s [(&'a str, u32)]);

impl Nodes<'_, '_> {
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().map(|&(_, node)| node as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_names_nodes_keep_their_order_and_other_names_are_apart() {
        let index = NodesByName::new([("b", 3), ("a", 1), ("b", 0), ("c", 2), ("b", 5)]);
        assert_eq!(
            index.get("b").unwrap().iter().collect::<Vec<_>>(),
            [3, 0, 5]
        );
        assert_eq!(index.get("a").unwrap().len(), 1);
        assert!(index.get("ab").is_none());
        assert!(index.get("").is_none());
        assert!(index.get("d").is_none());
    }
}
