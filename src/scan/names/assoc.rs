//! Paths through associated types: `type F = std::fs::File;` in an impl,
//! or `F = File` in a bound, makes `Self::F::create`, `<X as Store>::F::create`
//! and `T::F::open` name `std::fs::File`'s functions. Which impl's `F` a
//! path means takes types to know, so every `F` of that name the crate
//! defines as a path is a candidate.

use std::rc::Rc;

use super::{Resolver, join};
use crate::scan::facts::NS_TYPE;

impl<'a> Resolver<'a> {
    /// The candidates a path has through an associated type named by one of
    /// its middle segments: each target, followed by the rest of the path
    /// (`std::fs::File::create`). Each costs a resolution step: a crate
    /// with thousands of `F`s and paths through them is bounded.
    pub(super) fn through_assoc_types(&self, segments: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        if self.assoc_types.is_empty() || segments.len() < 3 {
            return out;
        }
        for (i, segment) in segments.iter().enumerate().take(segments.len() - 1).skip(1) {
            let Some((&name, _)) = self.assoc_types.get_key_value(segment.as_str()) else {
                continue;
            };
            for target in self.assoc_targets(name).iter() {
                if !self.step() {
                    return out;
                }
                out.push(join(target, &segments[i + 1..]));
            }
        }
        out
    }

    /// The canonical paths the associated types called `name` stand for,
    /// without repeats (a thousand `type Output = Self;` are few targets).
    fn assoc_targets(&self, name: &'a str) -> Rc<Vec<String>> {
        if let Some(known) = self.assoc_targets.borrow().get(name) {
            return Rc::clone(known);
        }
        let mut targets = Vec::new();
        for &a in self.assoc_types.get(name).into_iter().flatten() {
            if !self.step() {
                break;
            }
            let assoc = &self.facts.assoc_types[a];
            let bindings = self.resolve_path(
                assoc.scope,
                &assoc.target.segments,
                assoc.target.leading_colon,
                false,
                0,
                true,
                NS_TYPE,
            );
            targets.extend(bindings.into_iter().map(|b| self.canonical(b)));
        }
        targets.sort();
        targets.dedup();
        let targets = Rc::new(targets);
        self.assoc_targets
            .borrow_mut()
            .insert(name, Rc::clone(&targets));
        targets
    }
}
