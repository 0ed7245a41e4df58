//! Which re-exports of a crate's own paths would name its items under paths
//! without end, if their entries were copied.
//!
//! A re-export copies what is below its target to below its key; what is
//! below a path is also below each of its ancestors. Where those flows form
//! a cycle through an ancestor, every round of copying makes longer paths:
//! a prelude that globs its parent (`prelude::prelude::…`), winnow's
//! tutorial chapters re-exporting their neighbours and the table of
//! contents (`chapter_1::next::previous::next::…`), serde_with's
//! `__private__` globbing a prelude that globs the root. Rustc accepts
//! every such path. Those re-exports become aliases of the crate's own
//! paths instead, which a dependent's lookup follows
//! (`DependencyExports::lookup`); the other re-exports, cycles of globs
//! among siblings included, copy entries to a fixpoint as before.

use std::collections::HashMap;

/// For each re-export from `target` to `key` (local paths of the crate,
/// `""` for its root; `None` for a re-export of another crate's path),
/// whether copying it lies on a cycle that makes paths grow.
pub(super) fn growing(edges: &[Option<(&str, &str)>]) -> Vec<bool> {
    let mut graph = Graph::default();
    let mut copies: Vec<Option<(usize, usize)>> = Vec::with_capacity(edges.len());
    for edge in edges {
        copies.push(edge.map(|(target, key)| {
            let (t, k) = (graph.node(target), graph.node(key));
            graph.next[t].push(k);
            (t, k)
        }));
    }
    let component = graph.components();
    // A component grows when it holds a path and its parent: going round
    // it, a path gains a segment.
    let mut grows = vec![false; graph.parent.len()];
    for (node, parent) in graph.parent.iter().enumerate() {
        if let Some(parent) = parent
            && component[node] == component[*parent]
        {
            grows[component[node]] = true;
        }
    }
    copies
        .into_iter()
        .map(|copy| copy.is_some_and(|(t, k)| component[t] == component[k] && grows[component[t]]))
        .collect()
}

/// Paths, each with an edge to its parent (what is below a path is below
/// its parent) and edges to the keys its entries are copied to.
#[derive(Default)]
struct Graph {
    ids: HashMap<String, usize>,
    parent: Vec<Option<usize>>,
    next: Vec<Vec<usize>>,
}

impl Graph {
    /// The node of `path`, made with its ancestors when new.
    fn node(&mut self, path: &str) -> usize {
        if let Some(&id) = self.ids.get(path) {
            return id;
        }
        let parent = (!path.is_empty()).then(|| {
            let up = path.rsplit_once("::").map_or("", |(up, _)| up);
            self.node(up)
        });
        let id = self.parent.len();
        self.ids.insert(path.to_owned(), id);
        self.parent.push(parent);
        self.next.push(parent.into_iter().collect());
        id
    }

    /// The strongly connected component of each node (Kosaraju, without
    /// recursion: a crate's paths can nest deeply).
    fn components(&self) -> Vec<usize> {
        let n = self.next.len();
        let mut order = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        for start in 0..n {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            let mut stack = vec![(start, 0)];
            while let Some((node, i)) = stack.pop() {
                if let Some(&next) = self.next[node].get(i) {
                    stack.push((node, i + 1));
                    if !seen[next] {
                        seen[next] = true;
                        stack.push((next, 0));
                    }
                } else {
                    order.push(node);
                }
            }
        }
        let mut back: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (from, nexts) in self.next.iter().enumerate() {
            for &to in nexts {
                back[to].push(from);
            }
        }
        let mut component = vec![usize::MAX; n];
        let mut count = 0;
        for &start in order.iter().rev() {
            if component[start] != usize::MAX {
                continue;
            }
            component[start] = count;
            let mut stack = vec![start];
            while let Some(node) = stack.pop() {
                for &prev in &back[node] {
                    if component[prev] == usize::MAX {
                        component[prev] = count;
                        stack.push(prev);
                    }
                }
            }
            count += 1;
        }
        component
    }
}

#[cfg(test)]
mod tests {
    use super::growing;

    #[test]
    fn a_prelude_globbing_its_parent_grows() {
        assert_eq!(growing(&[Some(("", "prelude"))]), [true]);
    }

    #[test]
    fn neighbours_naming_each_other_grow() {
        // chapter_1::next = chapter_2, chapter_2::previous = chapter_1.
        let edges = [
            Some(("tutorial::chapter_2", "tutorial::chapter_1::next")),
            Some(("tutorial::chapter_1", "tutorial::chapter_2::previous")),
            Some(("std::fs", "tutorial::fs")),
        ];
        assert_eq!(growing(&edges), [true, true, false]);
    }

    #[test]
    fn siblings_globbing_each_other_and_downward_globs_do_not() {
        let edges = [
            Some(("a", "b")),
            Some(("b", "a")),
            Some(("unix::linux", "unix")),
            Some(("unix", "")),
            None,
        ];
        assert_eq!(growing(&edges), [false, false, false, false, false]);
    }

    #[test]
    fn a_chain_through_a_third_module_grows() {
        // serde_with: prelude globs the root, __private__ globs prelude.
        let edges = [Some(("", "prelude")), Some(("prelude", "__private__"))];
        assert_eq!(growing(&edges), [true, true]);
    }
}
