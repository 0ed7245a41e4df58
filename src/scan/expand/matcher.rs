//! Matching an invocation's arguments against one arm, as rustc's
//! `macro_rules!` matcher does, so that the arm chosen is rustc's.
//!
//! An attacker who has read a simpler matcher writes a decoy arm that it
//! picks and rustc does not (or the reverse) and hides code in the arm the
//! scanner never expands. So this follows rustc's algorithm
//! (`rustc_expand::mbe::macro_parser`) rather than an approximation of
//! its results:
//!
//! - Every way through the repetitions is followed at once, one token at a
//!   time: `$(a)* a` matches `a` with the repetition empty.
//! - Tokens are rustc's: joint punctuation is glued into one operator
//!   (`->`, `::`, `..=`), so `->` in the input matches `->` in the matcher
//!   and not `- >`, and the reverse.
//! - A fragment (`$e:expr`) is parsed only where it is the one way to go
//!   and the next token may begin it. Where two ways meet a fragment, or a
//!   fragment fails to parse, or the whole input can be read two ways,
//!   rustc stops with an error without trying later arms: so does this
//!   ([`Outcome::Rejected`]), and the caller fails closed.
//! - A `$s:stmt` ends before its `;`, as rustc's does, not after it as
//!   syn's `Stmt` does.
//!
//! Where rustc's answer depends on an edition (the macro's: a `$p:pat`
//! facing `|`, a `$e:expr` facing `_` or `const`; the input's: `await`,
//! `dyn`), the caller's [`Editions`] decide it, and where one is not known
//! the answer is [`Outcome::Undecided`]: guessing either way could pick an
//! arm rustc does not.

use std::rc::Rc;

use proc_macro2::TokenTree;

use syn::parse::{ParseBuffer, ParseStream};

use super::fragment::{Begins, FragmentError, fragment, may_begin};
use super::opaque;
use crate::model::Edition;
use tokens::{Tok, advance, peek};

mod compile;
pub(super) mod tokens;

/// Matcher positions alive at once. rustc has no such bound; an arm that
/// needs more (`$(a)* $(a)* $(a)* ...`) is rejected rather than followed
/// for ever.
const MAX_POSITIONS: usize = 256;

/// An arm's matcher, flattened into rustc's program of locations.
pub struct Matcher {
    locs: Vec<Loc>,
    /// Metavariable names, by slot.
    names: Vec<String>,
}

/// The editions rustc's answers depend on; `None` where not known.
#[derive(Clone, Copy, Debug, Default)]
pub struct Editions {
    /// The macro definition's: what `pat` and `expr` take.
    pub definition: Option<Edition>,
    /// The input's: whether `await`, `dyn`, `async`, `try`, `gen` are
    /// keywords.
    pub input: Option<Edition>,
}

/// The result of matching one arm.
pub enum Outcome {
    /// The arm matches: each slot's binding, by name.
    Matched(Vec<(String, Bound)>),
    /// The arm does not match; rustc tries the next one.
    NoMatch,
    /// rustc stops here with an error: no later arm is tried.
    Rejected(&'static str),
    /// rustc's answer is not known here (it depends on the edition, or on
    /// something capgate does not compare as rustc does): no later arm is
    /// tried, and whichever definition rustc uses is unknown.
    Undecided(&'static str),
}

/// What a metavariable matched.
#[derive(Clone)]
pub enum Bound {
    One(Rc<Vec<TokenTree>>),
    Many(Vec<Bound>),
    /// A metavariable the match never reached (in a group not entered).
    Unset,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kleene {
    ZeroOrMore,
    OneOrMore,
    ZeroOrOne,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Ident,
    Tt,
    Lifetime,
    Literal,
    Block,
    Expr,
    Expr2021,
    Ty,
    Path,
    Pat,
    PatParam,
    Stmt,
    Item,
    Vis,
    Meta,
}

enum Loc {
    Token(Tok),
    /// `$(`: `after` is the location past the whole repetition, `vars`
    /// the slots declared inside it, `depth` the repetitions around it.
    SeqStart {
        op: Kleene,
        after: usize,
        vars: std::ops::Range<usize>,
        depth: usize,
    },
    /// `)` of `$( )`: repeat from `first` (through the separator, which
    /// follows as [`Loc::Sep`]) or leave.
    SeqEnd {
        op: Kleene,
        first: usize,
        separated: bool,
    },
    Sep {
        token: Tok,
        first: usize,
    },
    Var {
        slot: usize,
        kind: Kind,
        depth: usize,
    },
    Eof,
    /// A token capgate cannot compare as rustc does: a way through the
    /// matcher that gets here stops the match, failing closed.
    Undecided(&'static str),
}

impl Matcher {
    /// The metavariables matched by a repetition of nothing else and no
    /// separator (`$($t:tt)*`): their runs are a stretch of the input as
    /// written, so a transcriber that puts them side by side joins nothing
    /// the input did not already show.
    pub fn contiguous_runs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for window in self.locs.windows(3) {
            if let [
                Loc::SeqStart { vars, .. },
                Loc::Var { slot, .. },
                Loc::SeqEnd {
                    separated: false, ..
                },
            ] = window
                && vars.len() == 1
            {
                out.push(self.names[*slot].as_str());
            }
        }
        out
    }

    /// Whether metavariable `name` may bind tokens that start or end with
    /// `::` (a `tt`, `path`, `ty`, ...; not an `ident` or `literal`), and
    /// so join a path with a name beside it. Unknown names may.
    pub fn may_carry_path_separator(&self, name: &str) -> bool {
        let kind = self.locs.iter().find_map(|loc| match loc {
            Loc::Var { slot, kind, .. } if self.names[*slot] == name => Some(*kind),
            _ => None,
        });
        !matches!(
            kind,
            Some(Kind::Ident | Kind::Lifetime | Kind::Literal | Kind::Block | Kind::Vis)
        )
    }

    /// Matches the whole of `input` (a fork the caller throws away).
    pub fn run(&self, input: ParseStream, editions: Editions) -> Outcome {
        let mut stack: Vec<ParseBuffer> = vec![input.fork()];
        let empty = Rc::new(vec![Bound::Unset; self.names.len()]);
        let mut current = vec![Position {
            loc: 0,
            bound: empty,
        }];
        loop {
            let Some(top) = stack.last() else {
                return Outcome::NoMatch;
            };
            let (token, width) = peek(top.cursor(), stack.len() == 1);
            let mut next = Vec::new();
            let mut fragments = Vec::new();
            let mut finished = 0;
            let mut visited = 0;
            while let Some(mut position) = current.pop() {
                visited += 1;
                if visited > MAX_POSITIONS * 4 || next.len() + current.len() > MAX_POSITIONS {
                    return Outcome::Undecided("the arm can be followed in too many ways at once");
                }
                match &self.locs[position.loc] {
                    Loc::Token(expected) => {
                        if *expected == token {
                            position.loc += 1;
                            next.push(position);
                        }
                    }
                    Loc::SeqStart {
                        op,
                        after,
                        vars,
                        depth,
                    } => {
                        for slot in vars.clone() {
                            position.bind(slot, *depth, Bound::Many(Vec::new()));
                        }
                        if *op != Kleene::OneOrMore {
                            current.push(Position {
                                loc: *after,
                                bound: Rc::clone(&position.bound),
                            });
                        }
                        position.loc += 1;
                        current.push(position);
                    }
                    Loc::SeqEnd {
                        op,
                        first,
                        separated,
                    } => {
                        current.push(Position {
                            loc: position.loc + 1 + usize::from(*separated),
                            bound: Rc::clone(&position.bound),
                        });
                        if *op != Kleene::ZeroOrOne {
                            position.loc = if *separated { position.loc + 1 } else { *first };
                            current.push(position);
                        }
                    }
                    Loc::Sep { token: sep, first } => {
                        if *sep == token {
                            position.loc = *first;
                            next.push(position);
                        }
                    }
                    Loc::Var { kind, .. } => match may_begin(*kind, &token, editions) {
                        Begins::Yes => fragments.push(position),
                        Begins::No => {}
                        Begins::Undecided(why) => return Outcome::Undecided(why),
                    },
                    Loc::Undecided(why) => return Outcome::Undecided(why),
                    Loc::Eof => {
                        if token == Tok::Eof {
                            finished += 1;
                            next.push(position);
                        }
                    }
                }
            }
            if token == Tok::Eof {
                return match (finished, next.pop()) {
                    (1, Some(position)) => Outcome::Matched(self.bindings(position)),
                    (0, _) => Outcome::NoMatch,
                    _ => Outcome::Rejected("the input matches the arm in more than one way"),
                };
            }
            match (next.is_empty(), fragments.len()) {
                (true, 0) => return Outcome::NoMatch,
                (false, 0) => {
                    if advance(&mut stack, &token, width).is_err() {
                        return Outcome::NoMatch;
                    }
                    current = next;
                }
                (true, 1) => {
                    let mut position = fragments.pop().expect("one fragment");
                    let Loc::Var { slot, kind, depth } = self.locs[position.loc] else {
                        unreachable!("fragments wait at a metavariable");
                    };
                    let top = stack.last().expect("the input");
                    let tokens = match fragment(top, kind) {
                        Ok(tokens) => tokens,
                        Err(FragmentError::Undecided(why)) => return Outcome::Undecided(why),
                        Err(FragmentError::Parse) => {
                            return Outcome::Rejected("a fragment the arm needs does not parse");
                        }
                    };
                    let passed_on = opaque::pass_on(kind, tokens);
                    position.bind(slot, depth, Bound::One(Rc::new(passed_on)));
                    position.loc += 1;
                    current = vec![position];
                }
                _ => return Outcome::Rejected("local ambiguity: a fragment and another way meet"),
            }
        }
    }

    fn bindings(&self, position: Position) -> Vec<(String, Bound)> {
        let bound = Rc::try_unwrap(position.bound).unwrap_or_else(|shared| (*shared).clone());
        self.names.iter().cloned().zip(bound).collect()
    }
}

/// One way through the matcher: where it is, and what it bound so far
/// (shared with the ways it split from until one of them binds more).
struct Position {
    loc: usize,
    bound: Rc<Vec<Bound>>,
}

impl Position {
    /// Adds `value` to `slot` inside `depth` repetitions: at depth 0 it is
    /// the binding, deeper it joins the innermost run being matched.
    fn bind(&mut self, slot: usize, depth: usize, value: Bound) {
        let bound = Rc::make_mut(&mut self.bound);
        let mut at = &mut bound[slot];
        if depth == 0 {
            *at = value;
            return;
        }
        for _ in 1..depth {
            match at {
                Bound::Many(runs) if !runs.is_empty() => {
                    at = runs.last_mut().expect("a run");
                }
                _ => return,
            }
        }
        if let Bound::Many(runs) = at {
            runs.push(value);
        }
    }
}
