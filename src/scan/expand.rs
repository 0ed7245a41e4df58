//! A bounded `macro_rules!` expander: what an invocation puts into the
//! code, so that paths, `use`s, `mod`s, `extern` blocks and `unsafe` that a
//! macro assembles from its arguments are scanned as rustc would compile
//! them (`$m::Command::new` with `$m = std::process`).
//!
//! Matching is rustc's (`matcher.rs`): the first arm whose matcher accepts
//! the whole input, fragments (`$e:expr`, `$p:path`, ...) parsed by syn;
//! where rustc would stop with an error, so does the expander, and no
//! later arm is tried. Transcription substitutes the bindings;
//! `$crate` becomes the defining crate's name. Every step is bounded: the
//! caller learns when an expansion was too big, and never gets a partial
//! one.

use std::collections::HashMap;
use std::rc::Rc;

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};

pub use inner_macros::rules_variants;
pub use matcher::Editions;
use matcher::{Bound, Matcher, Outcome};
pub use opaque::{decode, decode_rules, encode, encode_rules};

mod fragment;
mod inner_macros;
mod matcher;
mod opaque;

/// Tokens one expansion may produce; a larger one is not attempted.
pub const MAX_EXPANSION_TOKENS: usize = 1_000_000;

/// Tokens all of a crate's expansions may take in and produce together:
/// each arm tried reads the invocation's arguments once, and each expansion
/// writes its output, which the collector then reads. The number of
/// expansions alone does not bound that work, as one expansion may be a
/// thousand times larger than another. Tokens are counted inside brackets
/// too: a `$g:tt` bound to a bracketed group is every token in it, or
/// `m!({$g $g})` would double its input at every step for the cost of one.
pub const MAX_CRATE_EXPANSION_TOKENS: usize = 32_000_000;

/// One `(matcher) => { transcriber }` arm.
pub struct Arm {
    matcher: Matcher,
    transcriber: Vec<TokenTree>,
}

impl Arm {
    /// See [`Matcher::may_carry_path_separator`].
    pub fn may_carry_path_separator(&self, name: &str) -> bool {
        self.matcher.may_carry_path_separator(name)
    }

    /// See [`Matcher::contiguous_runs`].
    pub fn contiguous_runs(&self) -> Vec<&str> {
        self.matcher.contiguous_runs()
    }

    /// What the arm expands to, metavariables unsubstituted.
    pub fn transcriber(&self) -> &[TokenTree] {
        &self.transcriber
    }
}

#[derive(Clone, Debug)]
enum Binding {
    /// The trees bound, and how many tokens they hold (see [`weight`]).
    One(Vec<TokenTree>, usize),
    Many(Vec<Binding>),
}

type Bindings = HashMap<String, Binding>;

/// Why an invocation could not be expanded.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// No arm accepts the input.
    NoMatch,
    /// The expansion would pass [`MAX_EXPANSION_TOKENS`].
    TooBig,
    /// The crate's expansions together would pass
    /// [`MAX_CRATE_EXPANSION_TOKENS`].
    CrateBudget,
    /// rustc stops at this invocation with an error instead of trying
    /// later arms: why.
    Rejected(&'static str),
    /// rustc's answer is not known ([`Outcome::Undecided`]).
    Undecided(&'static str),
}

/// The tokens in `trees`, counting those inside brackets and each pair of
/// brackets as two. Iterative, so that counting a deeply nested input
/// cannot overflow the stack.
pub fn weight<'a>(trees: impl IntoIterator<Item = &'a TokenTree>) -> usize {
    let mut count = 0;
    let mut pending: Vec<TokenStream> = Vec::new();
    let visit = |tree: &TokenTree, pending: &mut Vec<TokenStream>| match tree {
        TokenTree::Group(g) => {
            pending.push(g.stream());
            2
        }
        leaf => leaf_weight(leaf),
    };
    for tree in trees {
        count += visit(tree, &mut pending);
    }
    while let Some(stream) = pending.pop() {
        for tree in stream {
            count += visit(&tree, &mut pending);
        }
    }
    count
}

/// Bytes of a literal's or identifier's text that count as one token.
const BYTES_PER_TOKEN: usize = 16;

/// A token other than a group: one, plus one per [`BYTES_PER_TOKEN`] of
/// its text. Copying a literal copies its text, so a megabyte string in a
/// macro body expanded a hundred thousand times would otherwise cost a
/// hundred thousand tokens and a hundred gigabytes.
fn leaf_weight(tree: &TokenTree) -> usize {
    use std::fmt::Write;
    thread_local! {
        static TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    match tree {
        TokenTree::Punct(_) => 1,
        _ => TEXT.with_borrow_mut(|text| {
            text.clear();
            let _ = write!(text, "{tree}");
            1 + text.len() / BYTES_PER_TOKEN
        }),
    }
}

/// The arms of a `macro_rules!` body, or `None` when it has another shape.
/// `settled`: see [`decode_rules`].
pub fn parse_rules(body: TokenStream, settled: bool) -> Option<Vec<Arm>> {
    let trees: Vec<TokenTree> = body.into_iter().collect();
    let mut arms = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        let (
            Some(TokenTree::Group(matcher)),
            Some(TokenTree::Punct(eq)),
            Some(TokenTree::Punct(gt)),
        ) = (trees.get(i), trees.get(i + 1), trees.get(i + 2))
        else {
            return None;
        };
        let Some(TokenTree::Group(transcriber)) = trees.get(i + 3) else {
            return None;
        };
        if eq.as_char() != '=' || gt.as_char() != '>' {
            return None;
        }
        let matcher: Vec<TokenTree> = matcher.stream().into_iter().collect();
        arms.push(Arm {
            matcher: Matcher::compile(&matcher, settled)?,
            transcriber: transcriber.stream().into_iter().collect(),
        });
        i += 4;
        if matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ';') {
            i += 1;
        }
    }
    Some(arms)
}

/// After `$( ... )`: the separator (up to three tokens, for `::` or `=>`)
/// and the operator; returns them and the index after the operator. As in
/// rustc, an operator right after the `)` is the operator, whatever
/// follows: in `$($t)*?` the `?` is a token of its own.
fn repetition_tail(trees: &[TokenTree], start: usize) -> Option<(Vec<TokenTree>, char, usize)> {
    let is_op =
        |t: &TokenTree| matches!(t, TokenTree::Punct(p) if matches!(p.as_char(), '*' | '+' | '?'));
    for len in 0..=3 {
        let op = trees.get(start + len)?;
        if is_op(op) {
            let TokenTree::Punct(p) = op else { return None };
            return Some((
                trees[start..start + len].to_vec(),
                p.as_char(),
                start + len + 1,
            ));
        }
        if matches!(op, TokenTree::Group(_)) {
            return None;
        }
    }
    None
}

/// Expands an invocation with `args` against `arms`; `dollar_crate` is
/// what `$crate` becomes. `spent` is what the crate's expansions have cost
/// so far, in tokens: this one's cost is added to it.
pub fn expand(
    arms: &[Arm],
    args: TokenStream,
    dollar_crate: &str,
    spent: &mut usize,
    editions: Editions,
) -> Result<TokenStream, Failure> {
    let args_weight = weight(&args.clone().into_iter().collect::<Vec<_>>());
    // The arguments are buffered once and each arm matched on a fork, as
    // rustc tries them in order: the first that matches all of them wins,
    // and one where rustc stops with an error ends the search.
    let mut over_budget = false;
    let matcher = |input: ParseStream| {
        let mut found: Result<_, Failure> = Ok(None);
        for arm in arms {
            *spent = spent.saturating_add(args_weight);
            if *spent > MAX_CRATE_EXPANSION_TOKENS {
                over_budget = true;
                break;
            }
            match arm.matcher.run(input, editions) {
                Outcome::Matched(bound) => {
                    found = Ok(Some((arm, bindings(bound))));
                    break;
                }
                Outcome::NoMatch => {}
                Outcome::Rejected(why) => {
                    found = Err(Failure::Rejected(why));
                    break;
                }
                Outcome::Undecided(why) => {
                    found = Err(Failure::Undecided(why));
                    break;
                }
            }
        }
        // The forks read the arguments; the stream itself is left whole.
        input.parse::<TokenStream>()?;
        Ok(found)
    };
    let matched = matcher.parse2(args).unwrap_or(Ok(None));
    if over_budget {
        return Err(Failure::CrateBudget);
    }
    let matched = matched?;
    if let Some((arm, bindings)) = matched {
        let mut out = Vec::new();
        let crate_left = MAX_CRATE_EXPANSION_TOKENS - *spent;
        let allowed = MAX_EXPANSION_TOKENS.min(crate_left);
        let mut budget = allowed;
        let crate_ident = Ident::new(dollar_crate, Span::call_site());
        let result = transcribe(
            &arm.transcriber,
            &bindings,
            &mut Vec::new(),
            &crate_ident,
            &mut out,
            &mut budget,
        );
        *spent += allowed - budget;
        return match result {
            Ok(()) => Ok(opaque::plain_beside_path_separators(out)
                .into_iter()
                .collect()),
            Err(_) if crate_left < MAX_EXPANSION_TOKENS => Err(Failure::CrateBudget),
            Err(failure) => Err(failure),
        };
    }
    Err(Failure::NoMatch)
}

/// The matcher's bindings in the transcriber's form.
fn bindings(bound: Vec<(String, Bound)>) -> Bindings {
    fn convert(bound: Bound) -> Option<Binding> {
        match bound {
            Bound::One(tokens) => {
                let tokens = Rc::try_unwrap(tokens).unwrap_or_else(|shared| (*shared).clone());
                let weight = weight(&tokens);
                Some(Binding::One(tokens, weight))
            }
            Bound::Many(runs) => Some(Binding::Many(
                runs.into_iter().filter_map(convert).collect(),
            )),
            Bound::Unset => None,
        }
    }
    bound
        .into_iter()
        .filter_map(|(name, bound)| Some((name, convert(bound)?)))
        .collect()
}

fn transcribe(
    trees: &[TokenTree],
    bindings: &Bindings,
    at: &mut Vec<usize>,
    dollar_crate: &Ident,
    out: &mut Vec<TokenTree>,
    budget: &mut usize,
) -> Result<(), Failure> {
    let mut i = 0;
    while i < trees.len() {
        if *budget == 0 {
            return Err(Failure::TooBig);
        }
        match (&trees[i], trees.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                if name == "crate" {
                    out.push(TokenTree::Ident(dollar_crate.clone()));
                    *budget -= 1;
                } else if let Some(Binding::One(tokens, weight)) =
                    binding_at(bindings, &name.to_string(), at)
                {
                    if *weight > *budget {
                        return Err(Failure::TooBig);
                    }
                    *budget -= weight;
                    out.extend(tokens.iter().cloned());
                } else {
                    // Not bound here: a metavariable of a macro this macro
                    // defines, kept for that one.
                    out.extend([trees[i].clone(), trees[i + 1].clone()]);
                    *budget = budget.saturating_sub(2);
                }
                i += 2;
            }
            (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                if p.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let Some((separator, _, next)) = repetition_tail(trees, i + 2) else {
                    out.push(trees[i].clone());
                    *budget -= 1;
                    i += 1;
                    continue;
                };
                let mut names = Vec::new();
                transcriber_names(&inner, &mut names);
                let count = names
                    .iter()
                    .find_map(|n| match binding_at(bindings, n, at) {
                        Some(Binding::Many(runs)) => Some(runs.len()),
                        _ => None,
                    });
                match count {
                    Some(count) => {
                        for k in 0..count {
                            if k > 0 {
                                out.extend(separator.iter().cloned());
                            }
                            at.push(k);
                            let result =
                                transcribe(&inner, bindings, at, dollar_crate, out, budget);
                            at.pop();
                            result?;
                        }
                    }
                    // A repetition of a macro this macro defines.
                    None => {
                        let copied = &trees[i..next];
                        *budget = budget.checked_sub(weight(copied)).ok_or(Failure::TooBig)?;
                        out.extend(copied.iter().cloned());
                    }
                }
                i = next;
            }
            (TokenTree::Group(g), _) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let mut group_out = Vec::new();
                transcribe(&inner, bindings, at, dollar_crate, &mut group_out, budget)?;
                let mut group = Group::new(g.delimiter(), group_out.into_iter().collect());
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
                *budget = budget.checked_sub(2).ok_or(Failure::TooBig)?;
                i += 1;
            }
            (tree, _) => {
                *budget = budget
                    .checked_sub(leaf_weight(tree))
                    .ok_or(Failure::TooBig)?;
                out.push(tree.clone());
                i += 1;
            }
        }
    }
    Ok(())
}

/// The metavariable names a transcriber part uses.
fn transcriber_names(trees: &[TokenTree], out: &mut Vec<String>) {
    for (i, tree) in trees.iter().enumerate() {
        match (tree, trees.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                out.push(name.to_string());
            }
            (TokenTree::Group(g), _) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                transcriber_names(&inner, out);
            }
            _ => {}
        }
    }
}

/// The binding of `name` at the repetition indices `at`: inside `$( )`
/// a repeated metavariable stands for its run, a plain one for itself.
fn binding_at<'a>(bindings: &'a Bindings, name: &str, at: &[usize]) -> Option<&'a Binding> {
    let mut binding = bindings.get(name)?;
    for &k in at {
        match binding {
            Binding::Many(runs) => binding = runs.get(k)?,
            Binding::One(..) => return Some(binding),
        }
    }
    Some(binding)
}

#[cfg(test)]
mod tests;
