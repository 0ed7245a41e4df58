//! The expander on its own: matching, transcription and its bounds.

use super::*;

fn run(rules: &str, args: &str) -> Result<String, Failure> {
    let arms = parse_rules(rules.parse().unwrap()).expect("rules parse");
    expand(&arms, args.parse().unwrap(), "krate", &mut 0).map(|t| t.to_string())
}

#[test]
fn fragments_are_substituted() {
    let out = run("($m:path) => { $m::Command::new(\"x\") };", "std::process").unwrap();
    assert_eq!(out, "std :: process :: Command :: new (\"x\")");
}

#[test]
fn repetitions_with_separators() {
    let out = run("($($p:ident)*) => { $($p)::* };", "std fs read").unwrap();
    assert_eq!(out.replace(' ', ""), "std::fs::read");
    let out = run(
        "($($k:ident = $v:expr),* $(,)?) => { $(let $k = $v;)* };",
        "a = 1, b = 2,",
    )
    .unwrap();
    assert_eq!(out, "let a = 1 ; let b = 2 ;");
}

#[test]
fn first_matching_arm_and_dollar_crate() {
    let rules = "(@inner $e:expr) => { $crate::run($e) }; ($e:expr) => { $crate::other($e) };";
    assert_eq!(run(rules, "@inner 1").unwrap(), "krate :: run (1)");
    assert_eq!(run(rules, "1 + 2").unwrap(), "krate :: other (1 + 2)");
    assert_eq!(run(rules, "fn"), Err(Failure::NoMatch));
}

#[test]
fn nested_groups_and_optional() {
    let rules = "({ $($i:item)* } $(else { $($e:item)* })?) => { $($i)* $($($e)*)? };";
    let out = run(rules, "{ fn a() {} } else { fn b() {} }").unwrap();
    assert_eq!(out, "fn a () { } fn b () { }");
}

#[test]
fn lifetimes_and_compound_operators_are_one_token_tree() {
    let rules = "($($i:tt),*) => { [$($i)|*] };";
    let out = run(rules, "'a, T, ::, =>, ..=").unwrap();
    assert_eq!(out.replace(' ', ""), "['a|T|::|=>|..=]");
    assert_eq!(run("($a:tt $b:tt) => { $b };", ":: x").unwrap(), "x");
}

#[test]
fn huge_expansions_are_refused() {
    let rules = "($($t:tt)*) => { $($t $t $t $t)* };";
    let args = "x ".repeat(MAX_EXPANSION_TOKENS / 2);
    assert_eq!(run(rules, &args), Err(Failure::TooBig));
}

#[test]
fn a_bracketed_token_tree_counts_every_token_inside() {
    // Counted as one tree each, two copies of a group would pass.
    let rules = "($g:tt) => { $g $g };";
    let args = format!("{{ {} }}", "x ".repeat(MAX_EXPANSION_TOKENS / 2));
    assert_eq!(run(rules, &args), Err(Failure::TooBig));
    let small = format!("{{ {} }}", "x ".repeat(MAX_EXPANSION_TOKENS / 4));
    assert!(run(rules, &small).is_ok());
}

#[test]
fn the_crate_budget_covers_every_arm_tried_and_every_output() {
    let arms = parse_rules("(a) => { 1 }; ($($t:tt)*) => { $($t)* };".parse().unwrap()).unwrap();
    let args = || "x y z".parse().unwrap();
    // Two arms read three tokens each; the output is three tokens.
    let mut spent = 0;
    assert!(expand(&arms, args(), "krate", &mut spent).is_ok());
    assert_eq!(spent, 9);
    let mut spent = MAX_CRATE_EXPANSION_TOKENS - 7;
    assert_eq!(
        expand(&arms, args(), "krate", &mut spent).err(),
        Some(Failure::CrateBudget)
    );
    let mut spent = MAX_CRATE_EXPANSION_TOKENS;
    assert_eq!(
        expand(&arms, args(), "krate", &mut spent).err(),
        Some(Failure::CrateBudget)
    );
}
