//! The collector's side of macro expansion (`scan/macros.rs`): it records
//! every invocation with its arguments as text, and collects what an
//! expansion produced in the invocation's scope and item, every fact placed
//! at the invocation.

use std::path::PathBuf;
use std::sync::Arc;

use proc_macro2::{Span, TokenStream};

use super::{Collector, CrateInputs};
use crate::scan::facts::{
    AssocPosition, CrateFacts, ExpansionLink, Invocation, Owner, Pos, WrittenPath,
};
use crate::scan::rawattrs::unraw_attributes;

impl<'a> Collector<'a> {
    /// A collector for what a macro invocation expands to: in the
    /// invocation's scope and item, every fact at the invocation's place.
    /// `def`: the crate's own definition that is expanded (`None`: a
    /// dependency's, or the arguments of one not expanded).
    pub fn for_expansion(
        facts: &'a mut CrateFacts,
        inputs: CrateInputs<'a>,
        file_path: PathBuf,
        invocation: &Invocation,
        def: Option<usize>,
    ) -> Self {
        let mut collector = Collector::new(
            facts,
            inputs,
            invocation.pos.file,
            file_path,
            invocation.mod_dir.clone(),
            invocation.scope,
        );
        collector.function = invocation.function;
        collector.pos_override = Some(Pos {
            expanded: true,
            ..invocation.pos
        });
        // Inside an invocation written in a `#[test]` item, the expansion
        // goes with it.
        collector.gate = invocation.pos.gate;
        collector.expansion_depth = invocation.depth + 1;
        collector.expanded_by = Some(Arc::new(ExpansionLink {
            def,
            parent: invocation.expanded_by.clone(),
        }));
        // Among an impl's or trait's items, what it produces are that
        // impl's or trait's items.
        if let Some(assoc) = &invocation.assoc {
            collector.owner = assoc.owner.clone();
            collector.impl_trait = assoc.impl_trait.clone();
            collector.assoc_expansion = true;
        }
        collector
    }

    /// Reads the arguments of a macro that could not be expanded as code;
    /// macro invocations among them are only maybe invocations.
    /// `raw`: the tokens may hold raw names (`rawattrs`).
    pub fn collect_unexpanded_arguments(
        &mut self,
        macro_name: &str,
        tokens: TokenStream,
        raw: bool,
    ) {
        let outer = self.enclosing_macro.replace(macro_name.to_owned());
        let tokens = if raw {
            unraw_attributes(tokens)
        } else {
            tokens
        };
        self.walk_tokens(tokens);
        self.enclosing_macro = outer;
    }

    /// Collects a macro's expansion: associated items where it stood among
    /// an impl's or trait's items and produced them, items where it
    /// produced items, else expressions or statements, else tokens.
    /// `raw`: the tokens may hold raw names (`rawattrs`).
    pub fn collect_expansion(&mut self, tokens: TokenStream, raw: bool) {
        let tokens = if raw {
            unraw_attributes(tokens)
        } else {
            tokens
        };
        let assoc = self.assoc_expansion && self.try_assoc_items(tokens.clone());
        if !assoc && !self.try_items(tokens.clone()) {
            self.macro_arguments(tokens);
        }
    }

    /// Remembers an invocation for the expander (`macros.rs`), and returns
    /// its index; not inside a `macro_rules!` body, where its arguments
    /// still hold metavariables.
    pub(super) fn record_invocation(
        &mut self,
        path: &WrittenPath,
        args: &TokenStream,
        span: Span,
        assoc: bool,
    ) -> Option<usize> {
        if self.in_macro_body {
            return None;
        }
        let pos = self.pos(span);
        self.facts.invocations.push(Invocation {
            path: path.clone(),
            args: crate::scan::expand::encode(args, self.pos_override.is_none()).into(),
            scope: self.scope,
            function: self.function,
            mod_dir: self.mod_dir.clone(),
            pos,
            depth: self.expansion_depth,
            expanded_by: self.expanded_by.clone(),
            enclosing: self.enclosing_macro.clone(),
            assoc: assoc.then(|| AssocPosition {
                owner: self.owner.clone(),
                impl_trait: self.impl_trait.clone(),
                in_trait: matches!(self.owner, Some(Owner::Trait(_))),
            }),
            settled: false,
        });
        Some(self.facts.invocations.len() - 1)
    }
}
