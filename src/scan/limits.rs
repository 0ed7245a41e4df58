//! The bounds every crate's scan runs under, in one place.
//!
//! A crate's author may be an attacker who has read this file. Whatever
//! they write, a scan must end, in time and memory close to linear in the
//! input, without reaching the end of a thread's stack. Each limit below is
//! far above what real crates need (the largest published source files are
//! about 2.6 MB of generated tables; the deepest real nesting is a few dozen
//! levels); passing one makes the crate `unanalyzed` with the rule
//! `scan-limit` and evidence naming the limit, never a crash and never a
//! clean crate.
//!
//! Every limit except the wall-clock one counts work, not time, so a scan
//! stays a pure function of its input.

use std::time::Instant;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

use super::facts::CrateFacts;

/// The bounds of one crate target's scan.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest source file read (also each `include!`d file). Bounds the
    /// memory of one syntax tree, which is tens of times the file's size.
    pub max_file_bytes: u64,
    /// Total source bytes read for one target, included files counted.
    pub max_crate_bytes: u64,
    /// Source files read for one target.
    pub max_files: usize,
    /// `include!`s expanded for one target: files including each other
    /// several times each would otherwise grow exponentially.
    pub max_includes: usize,
    /// `include!`s nested inside each other.
    pub max_include_depth: usize,
    /// Bracket nesting (`(`, `[`, `{`) of any file or macro body. syn and
    /// the syntax visitor recurse once (or more) per level.
    pub max_nesting: usize,
    /// Tokens in one unbroken chain, summed over the brackets it sits in:
    /// what syn may recurse through or build as a nested tree without a
    /// bracket (`a = a = …`, `Vec<Vec<…>>`, `|| || …`, `x.a().a()…`,
    /// `if … else if …`, `*const *const …`, `use a::{b::{…}}`). Separators
    /// (`,`, `;`, `=>`) and the end of a braced item or statement start a
    /// new chain; attributes do not count. Generated tables reach a few
    /// thousand (unicode-normalization's `match` on one or-pattern of 730
    /// character ranges is about 4,400), so the bound sits well above them;
    /// the scanner's stack is sized for the worst form at the bound
    /// (`scan::SCAN_STACK_BYTES`, proven by `tests/deepest_accepted.rs`).
    pub max_chain: usize,
    /// Facts collected for one target: scopes, names used, sites, imports.
    pub max_items: usize,
    /// Name-resolution steps for one target (a lookup of one name in one
    /// scope), across glob imports and re-exports.
    pub max_resolution_steps: u64,
    /// Entries copied while working out re-exports (globs of modules that
    /// re-export each other copy each other's entries).
    pub max_export_entries: usize,
    /// Wall-clock seconds for one target, checked between files: a backstop
    /// should a work bound above ever miss a case. Real crates take well
    /// under a second.
    pub max_seconds: u64,
}

impl Limits {
    /// The crate-wide limit `facts` have passed, if any, for a scan that
    /// began at `started`: checked before each file is read and before each
    /// macro invocation is expanded, since one round of expansions can add
    /// as much as many files.
    pub fn crate_budget_spent(&self, facts: &CrateFacts, started: Instant) -> Option<String> {
        if facts.files.len() >= self.max_files {
            return Some(format!("more than {} files", self.max_files));
        }
        if facts.bytes_read > self.max_crate_bytes {
            return Some(format!(
                "more than {} MiB of source",
                self.max_crate_bytes >> 20
            ));
        }
        if facts.item_count() > self.max_items {
            return Some(format!("more than {} items", self.max_items));
        }
        if started.elapsed().as_secs() >= self.max_seconds {
            return Some(format!(
                "scanning took longer than {} seconds",
                self.max_seconds
            ));
        }
        None
    }
}

/// The limits every scan uses.
pub const LIMITS: Limits = Limits {
    max_file_bytes: 8 << 20,
    max_crate_bytes: 128 << 20,
    max_files: 10_000,
    max_includes: 1024,
    max_include_depth: 16,
    max_nesting: 256,
    max_chain: 16_384,
    max_items: 4_000_000,
    max_resolution_steps: 5_000_000,
    max_export_entries: 1_000_000,
    max_seconds: 300,
};

/// A limit a token stream passes, as evidence text.
pub fn shape_exceeds(tokens: &TokenStream, limits: &Limits) -> Option<String> {
    Shape.measure(tokens, limits)
}

/// One open bracket while measuring: its tokens, and the chain cost it was
/// entered at.
struct Frame {
    iter: proc_macro2::token_stream::IntoIter,
    base: usize,
    run: usize,
    /// The last tree was a braced group: an identifier other than `as` or
    /// `else` after it starts a new item or statement.
    after_brace: bool,
    /// The last tree was `#` or `#!`: a bracket group next is an attribute.
    after_pound: bool,
    /// The last tree was `=` joined to the next: `=>` ends a match arm.
    after_eq: bool,
}

impl Frame {
    fn new(stream: TokenStream, base: usize) -> Frame {
        Frame {
            iter: stream.into_iter(),
            base,
            run: 0,
            after_brace: false,
            after_pound: false,
            after_eq: false,
        }
    }
}

struct Shape;

impl Shape {
    /// Iterative, so that measuring cannot itself overflow the stack.
    fn measure(self, tokens: &TokenStream, limits: &Limits) -> Option<String> {
        let mut stack: Vec<Frame> = vec![Frame::new(tokens.clone(), 0)];
        while let Some(top) = stack.last_mut() {
            let Some(tree) = top.iter.next() else {
                stack.pop();
                continue;
            };
            let after_brace = std::mem::take(&mut top.after_brace);
            let after_pound = std::mem::take(&mut top.after_pound);
            let after_eq = std::mem::take(&mut top.after_eq);
            let counted = match &tree {
                TokenTree::Punct(p) => match p.as_char() {
                    ',' | ';' => {
                        top.run = 0;
                        false
                    }
                    '>' if after_eq => {
                        top.run = 0;
                        false
                    }
                    '#' => {
                        top.after_pound = true;
                        top.after_brace = after_brace;
                        false
                    }
                    '!' if after_pound => {
                        top.after_pound = true;
                        top.after_brace = after_brace;
                        false
                    }
                    '=' => {
                        top.after_eq = p.spacing() == Spacing::Joint;
                        true
                    }
                    _ => true,
                },
                TokenTree::Ident(id) => {
                    if after_brace && id != "as" && id != "else" {
                        top.run = 0;
                    }
                    true
                }
                TokenTree::Literal(_) => true,
                TokenTree::Group(g) => {
                    let attribute = after_pound && g.delimiter() == Delimiter::Bracket;
                    let depth = stack.len();
                    if depth > limits.max_nesting {
                        return Some(format!(
                            "nesting deeper than {} brackets",
                            limits.max_nesting
                        ));
                    }
                    let top = stack.last_mut().expect("a frame is open");
                    let base = top.base + top.run + 1;
                    if attribute {
                        // Attributes are a flat list on what follows them.
                        top.after_brace = after_brace;
                    } else {
                        top.run += 1;
                        top.after_brace = g.delimiter() == Delimiter::Brace;
                    }
                    if base > limits.max_chain {
                        return Some(chain_evidence(limits));
                    }
                    stack.push(Frame::new(g.stream(), base));
                    continue;
                }
            };
            if counted {
                top.run += 1;
                if top.base + top.run > limits.max_chain {
                    return Some(chain_evidence(limits));
                }
            }
        }
        None
    }
}

fn chain_evidence(limits: &Limits) -> String {
    format!(
        "an expression, type or path chain longer than {} tokens (nested deeper than the parser can safely follow)",
        limits.max_chain
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exceeds(src: &str) -> Option<String> {
        shape_exceeds(&src.parse().unwrap(), &LIMITS)
    }

    #[test]
    fn nesting_just_within_and_just_past_the_limit() {
        let n = LIMITS.max_nesting;
        let within = format!("{}{}", "(".repeat(n), ")".repeat(n));
        assert_eq!(exceeds(&within), None);
        let past = format!("{}{}", "(".repeat(n + 1), ")".repeat(n + 1));
        assert!(exceeds(&past).unwrap().contains("nesting deeper than 256"));
    }

    #[test]
    fn long_chains_without_brackets_are_bounded() {
        let n = LIMITS.max_chain;
        for (unit, per) in [("a = ", 2), ("Vec < ", 2), ("|| ", 2), ("x . a () ", 4)] {
            let within = unit.repeat(n / per - 2);
            assert_eq!(exceeds(&within), None, "{unit}");
            let past = unit.repeat(n / per + 2);
            assert!(
                exceeds(&past).unwrap().contains("chain longer than"),
                "{unit}"
            );
        }
        let else_if = format!("fn f() {{ if x {{}} {} }}", "else if x {} ".repeat(n));
        assert!(exceeds(&else_if).is_some());
    }

    #[test]
    fn separators_items_and_attributes_start_new_chains() {
        let n = LIMITS.max_chain;
        assert_eq!(exceeds(&"1, ".repeat(n * 2)), None);
        assert_eq!(exceeds(&"let x = 1; ".repeat(n)), None);
        assert_eq!(exceeds(&"fn f() {} ".repeat(n)), None);
        assert_eq!(exceeds(&"/// doc\n".repeat(n * 2)), None);
        assert_eq!(
            exceeds(&format!("match x {{ {} }}", "(a, b) => {} ".repeat(n))),
            None
        );
        assert_eq!(exceeds(&"if a {} if b {} ".repeat(n)), None);
    }
}
