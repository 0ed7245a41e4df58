//! `#[link_name]` values that macros compute (libz-sys:
//! `#[link_name = zng_prefix!(adler32)]`, where the build script picks one
//! of two `zng_prefix!`). Once the crate's macros are known, each value is
//! expanded with every definition its macro may name, as invocations are
//! (`candidates.rs`), and each expansion evaluated to a string
//! (`strexpr.rs`): every string is one more symbol the declaration may
//! link. Where any definition cannot be expanded or its expansion
//! evaluated, or the macro is not known, the symbol is not known and the
//! declaration is `unanalyzed` (fail closed, as before such values were
//! read at all).

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use super::candidates::{Lookup, candidates};
use super::{DependencyMacros, ExpansionState, MAX_EXPANSIONS, rules_of};
use crate::scan::collect::{CrateInputs, ident_name};
use crate::scan::expand::{self, Editions, Failure};
use crate::scan::facts::{CrateFacts, ForeignFn, Invocation, WrittenPath};
use crate::scan::moddir::ModDir;
use crate::scan::strexpr;

/// Macros one value may expand through (`outer!` to `inner!`), which also
/// ends a macro that invokes itself.
const MAX_DEPTH: usize = 16;

/// Symbols one value may stand for: each definition multiplies them.
const MAX_SYMBOLS: usize = 64;

/// The built-in macros `strexpr` evaluates.
const BUILTINS: &[&str] = &["concat", "env", "stringify"];

/// Evaluates every computed `#[link_name]` of the crate: adds a foreign
/// declaration per symbol it may be, or reports it `unanalyzed`.
pub fn resolve_link_names(
    facts: &mut CrateFacts,
    inputs: CrateInputs<'_>,
    deps: &DependencyMacros<'_>,
    state: &mut ExpansionState,
) {
    let pending = std::mem::take(&mut facts.computed_link_names);
    for computed in pending {
        let decl = computed.decl;
        let mut problem: Option<String> = None;
        let mut symbols: Vec<String> = Vec::new();
        for value in &computed.values {
            let result = expand::decode(value)
                .ok_or_else(|| "its tokens cannot be read".to_owned())
                .and_then(|tokens| {
                    let mut ctx = Context {
                        facts,
                        inputs,
                        deps,
                        state,
                        decl: &decl,
                    };
                    ctx.strings(tokens, 0)
                });
            match result {
                Ok(found) => symbols.extend(found),
                Err(why) => problem = Some(why),
            }
        }
        if let Some(why) = problem {
            facts.unanalyzed_at(
                "macro-unexpanded",
                decl.pos,
                format!(
                    "the `#[link_name]` of the foreign declaration `{}` is computed by a macro ({why}); the symbol it links is not known",
                    decl.name
                ),
            );
        }
        for symbol in symbols {
            let known = facts
                .foreign_fns
                .iter()
                .any(|f| f.symbol == symbol && f.name == decl.name && f.pos == decl.pos);
            if !known {
                facts.foreign_fns.push(ForeignFn {
                    symbol,
                    ..decl.clone()
                });
            }
        }
    }
}

struct Context<'s, 'a> {
    facts: &'s mut CrateFacts,
    inputs: CrateInputs<'a>,
    deps: &'s DependencyMacros<'a>,
    state: &'s mut ExpansionState,
    decl: &'s ForeignFn,
}

impl Context<'_, '_> {
    /// Every string `tokens` may evaluate to.
    fn strings(&mut self, tokens: TokenStream, depth: usize) -> Result<Vec<String>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("macros nest deeper than {MAX_DEPTH}"));
        }
        let trees = unwrapped(tokens.clone());
        let Some((path, args)) = macro_call(&trees) else {
            return strexpr::evaluate(&tokens, self.inputs.env)
                .map(|s| vec![s])
                .map_err(|_| "its value is no string capgate can evaluate".to_owned());
        };
        let name = path.segments.join("::");
        let last = path.segments.last().cloned().unwrap_or_default();
        let builtin = BUILTINS.contains(&last.as_str())
            && (path.segments.len() == 1 || matches!(path.segments[0].as_str(), "std" | "core"));
        let definitions = self.definitions(&path)?;
        if definitions.is_empty() && !builtin {
            return Err(format!("`{name}!` is no macro capgate knows"));
        }
        let mut out: Vec<String> = Vec::new();
        // Which definition is in scope is approximated upwards: each one
        // counts, and so does the built-in a crate's macro may shadow.
        for (key, namespace, body, dollar_crate) in definitions {
            let expansion = self.expand(&name, &key, &namespace, &body, &dollar_crate, &args)?;
            for s in self.strings(expansion, depth + 1)? {
                push_new(&mut out, s)?;
            }
        }
        if builtin {
            self.no_shadowed_builtins(&args)?;
            let s = strexpr::evaluate(&tokens, self.inputs.env)
                .map_err(|_| format!("`{name}!` of these arguments cannot be evaluated"))?;
            push_new(&mut out, s)?;
        }
        Ok(out)
    }

    /// The definitions `path!` may name: key, namespace, body, `$crate`.
    fn definitions(
        &mut self,
        path: &WrittenPath,
    ) -> Result<Vec<(String, String, String, String)>, String> {
        self.state.macro_imports.refresh(self.facts, self.deps);
        self.state.local_defs.refresh(self.facts);
        self.state
            .local_names
            .refresh(self.facts, self.inputs.edition);
        let invocation = Invocation {
            path: path.clone(),
            args: "".into(),
            scope: self.decl.scope,
            function: 0,
            mod_dir: ModDir::default(),
            pos: self.decl.pos,
            // A declaration an expansion wrote has its names resolved with
            // hygiene, which the scope model does not follow: every
            // definition stays a candidate, as for a nested invocation.
            depth: usize::from(self.decl.pos.expanded),
            expanded_by: None,
            enclosing: None,
            assoc: None,
            settled: false,
        };
        let found = candidates(
            self.facts,
            self.deps,
            Lookup {
                local_defs: &self.state.local_defs,
                imports: &self.state.macro_imports,
                names: &mut self.state.local_names,
                paths: &mut self.state.dependency_paths,
                edition: self.inputs.edition,
            },
            &invocation,
        );
        if let Some(unknown) = found.unknown {
            return Err(unknown);
        }
        Ok(found
            .candidates
            .into_iter()
            .map(|c| {
                let body = c.body.text(self.facts).to_owned();
                (c.key, c.namespace, body, c.dollar_crate)
            })
            .collect())
    }

    #[allow(clippy::too_many_arguments)]
    fn expand(
        &mut self,
        name: &str,
        key: &str,
        namespace: &str,
        body: &str,
        dollar_crate: &str,
        args: &TokenStream,
    ) -> Result<TokenStream, String> {
        let Some(rules) = rules_of(self.state, key, body) else {
            return Err(format!("a definition of `{name}!` cannot be read"));
        };
        if self.state.stopped || self.state.exhausted || self.state.expansions >= MAX_EXPANSIONS {
            return Err("the crate's macro expansions are spent".to_owned());
        }
        self.state.expansions += 1;
        let defined_in = if namespace == "crate" {
            Some(self.inputs.edition)
        } else {
            self.deps.editions.get(namespace).copied()
        };
        let editions = Editions {
            definition: defined_in,
            input: defined_in.filter(|e| *e == self.inputs.edition),
        };
        expand::expand(
            &rules.arms,
            args.clone(),
            dollar_crate,
            &mut self.state.tokens,
            editions,
        )
        .map_err(|failure| match failure {
            Failure::NoMatch => format!("no rule of a definition of `{name}!` matches"),
            Failure::TooBig | Failure::CrateBudget => {
                format!("an expansion of `{name}!` is too big")
            }
            Failure::Rejected(why) | Failure::Undecided(why) => {
                format!("cannot expand `{name}!`: {why}")
            }
        })
    }

    /// A built-in's arguments may invoke a macro of the crate's that has a
    /// built-in's name (`concat!(stringify!(x))` with the crate's own
    /// `stringify!`), which `strexpr` would evaluate as the built-in.
    fn no_shadowed_builtins(&mut self, args: &TokenStream) -> Result<(), String> {
        let trees: Vec<TokenTree> = args.clone().into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => self.no_shadowed_builtins(&g.stream())?,
                TokenTree::Ident(id) if matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!') =>
                {
                    let path = WrittenPath::new(vec![ident_name(id)], false);
                    if !self.definitions(&path)?.is_empty() {
                        return Err(format!("`{id}!` may be the crate's own macro"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn push_new(out: &mut Vec<String>, s: String) -> Result<(), String> {
    if !out.contains(&s) {
        if out.len() >= MAX_SYMBOLS {
            return Err(format!("it may be more than {MAX_SYMBOLS} symbols"));
        }
        out.push(s);
    }
    Ok(())
}

/// `tokens`, through groups without delimiters around all of them.
fn unwrapped(tokens: TokenStream) -> Vec<TokenTree> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => unwrapped(g.stream()),
        _ => trees,
    }
}

/// `path!(args)` (any delimiter): the path and the arguments.
fn macro_call(trees: &[TokenTree]) -> Option<(WrittenPath, TokenStream)> {
    let (TokenTree::Group(args), head) = trees.split_last()? else {
        return None;
    };
    let (TokenTree::Punct(bang), path) = head.split_last()? else {
        return None;
    };
    if bang.as_char() != '!' || path.is_empty() {
        return None;
    }
    let leading_colon = matches!(path.first(), Some(TokenTree::Punct(_)));
    let mut segments = Vec::new();
    let mut colons = 0;
    for tree in path {
        match tree {
            TokenTree::Ident(id) if colons == 2 || segments.is_empty() => {
                segments.push(ident_name(id));
                colons = 0;
            }
            TokenTree::Punct(p) if p.as_char() == ':' && colons < 2 => colons += 1,
            _ => return None,
        }
    }
    (colons == 0 && !segments.is_empty())
        .then(|| (WrittenPath::new(segments, leading_colon), args.stream()))
}
