//! The collector's side of `#[test]`/`#[bench]` items: their facts are
//! collected marked with the item (`Pos::gate`), because whether the
//! attribute is the built-in one (which drops the item from normal builds)
//! or a proc-macro attribute of that name (which keeps it) depends on
//! imports anywhere in the module, known only once the crate is read
//! (`scan/testgate.rs` decides and drops).

use syn::Attribute;

use super::Collector;
use crate::scan::facts::TestGate;

impl Collector<'_> {
    /// The gate facts collected now belong to.
    pub(super) fn current_gate(&self) -> u32 {
        self.gate
    }

    /// Runs `f` inside a new gate when `attrs` hold `#[test]` or `#[bench]`
    /// (by a bare name: a path such as `#[tokio::test]` is never the
    /// built-in). `name` is the definition the item adds to the scope.
    pub(super) fn gated<T>(
        &mut self,
        attrs: &[Attribute],
        name: Option<String>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let Some(attr) = attrs.iter().find_map(|a| {
            let path = a.path();
            ["test", "bench"]
                .into_iter()
                .find(|n| path.is_ident(n))
                .map(str::to_owned)
        }) else {
            return f(self);
        };
        let def = name.map(|n| {
            let index = self.facts.scopes[self.scope]
                .defs
                .get(&n)
                .map_or(0, Vec::len);
            (n, index)
        });
        self.facts.test_gates.push(TestGate {
            attr,
            scope: self.scope,
            parent: self.gate,
            def,
        });
        let outer = std::mem::replace(&mut self.gate, self.facts.test_gates.len() as u32);
        let out = f(self);
        self.gate = outer;
        out
    }
}
