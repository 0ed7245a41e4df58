//! The expander on its own: matching, transcription and its bounds.

use super::*;
use crate::model::Edition;

fn run(rules: &str, args: &str) -> Result<String, Failure> {
    let arms = parse_rules(rules.parse().unwrap(), false).expect("rules parse");
    expand(
        &arms,
        args.parse().unwrap(),
        "krate",
        &mut 0,
        Editions::default(),
    )
    .map(|t| t.to_string())
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
    let arms = parse_rules(
        "(a) => { 1 }; ($($t:tt)*) => { $($t)* };".parse().unwrap(),
        false,
    )
    .unwrap();
    let args = || "x y z".parse().unwrap();
    // Two arms read three tokens each; the output is three tokens.
    let mut spent = 0;
    assert!(expand(&arms, args(), "krate", &mut spent, Editions::default()).is_ok());
    assert_eq!(spent, 9);
    let mut spent = MAX_CRATE_EXPANSION_TOKENS - 7;
    assert_eq!(
        expand(&arms, args(), "krate", &mut spent, Editions::default()).err(),
        Some(Failure::CrateBudget)
    );
    let mut spent = MAX_CRATE_EXPANSION_TOKENS;
    assert_eq!(
        expand(&arms, args(), "krate", &mut spent, Editions::default()).err(),
        Some(Failure::CrateBudget)
    );
}

/// rustc follows every way through a repetition: an arm a greedy matcher
/// fails (and falls through to the next) is the one rustc picks.
#[test]
fn repetitions_are_left_where_rustc_leaves_them() {
    let rules = "($(a)* a { $m:ident }) => { first $m }; ($($t:tt)*) => { second };";
    assert_eq!(run(rules, "a { p }").unwrap(), "first p");
    assert_eq!(run(rules, "a a a { p }").unwrap(), "first p");
    let rules = "($(a)? a [$m:ident]) => { first $m }; ($($t:tt)*) => { second };";
    assert_eq!(run(rules, "a [p]").unwrap(), "first p");
    let rules = "($(a)+ a b $m:ident) => { first $m }; ($($t:tt)*) => { second };";
    assert_eq!(run(rules, "a a b p").unwrap(), "first p");
    assert_eq!(run(rules, "a b p").unwrap(), "second");
}

#[test]
fn nested_repetitions_bind_per_run() {
    let rules = "($($k:ident [$($v:ident),*]);*) => { $($k: $($v)-*;)* };";
    let out = run(rules, "a [x, y]; b []; c [z]").unwrap();
    assert_eq!(out.replace(' ', ""), "a:x-y;b:;c:z;");
}

/// An operator right after `$( )` is the operator, as in rustc: in
/// `$($v)**` the second `*` is a token, not the first a separator.
#[test]
fn an_operator_after_the_repetition_is_the_operator() {
    let rules = "($($v:ident)*) => { $($v)*? };";
    assert_eq!(run(rules, "x y").unwrap().replace(' ', ""), "xy?");
    let rules = "($(a)** ; $m:ident) => { first $m }; ($($t:tt)*) => { second };";
    assert_eq!(run(rules, "a a * ; p").unwrap(), "first p");
}

/// Joint punctuation is one token to rustc: `->` is not `- >`.
#[test]
fn operators_are_rustcs_tokens() {
    let rules = "(- > $m:ident) => { apart $m }; (-> $m:ident) => { joint $m };";
    assert_eq!(run(rules, "-> p").unwrap(), "joint p");
    assert_eq!(run(rules, "- > p").unwrap(), "apart p");
    let rules =
        "($($a:ident)=>* ; $m:ident) => { sep }; ($a:ident = > $b:ident ; $m:ident) => { two };";
    assert_eq!(run(rules, "x => y ; p").unwrap(), "sep");
    assert_eq!(run(rules, "x = > y ; p").unwrap(), "two");
    let rules = "($($p:ident)::+) => { $($p)/+ };";
    assert_eq!(run(rules, "a::b::c").unwrap().replace(' ', ""), "a/b/c");
    assert_eq!(run(rules, "a: :b"), Err(Failure::NoMatch));
}

/// rustc's `stmt` fragment ends before the `;` syn's `Stmt` takes.
#[test]
fn a_statement_fragment_leaves_its_semicolon() {
    let rules = "($s:stmt ; $m:ident) => { [$s] $m }; ($($t:tt)*) => { other };";
    assert_eq!(
        run(rules, "let a = 1; p").unwrap().replace(' ', ""),
        "[leta=1]p"
    );
    assert_eq!(run(rules, "f(x); p").unwrap().replace(' ', ""), "[f(x)]p");
    assert_eq!(run(rules, "m!(x); p").unwrap().replace(' ', ""), "[m!(x)]p");
    assert_eq!(
        run(rules, "let Some(a): Option<u8> = b else { return }; p")
            .unwrap()
            .replace(' ', ""),
        "[letSome(a):Option<u8>=belse{return}]p"
    );
    assert_eq!(run(rules, "struct A; p"), Ok("other".into()));
}

/// Where rustc stops with an error, no later arm is tried.
#[test]
fn rustcs_errors_end_the_search() {
    // Two fragments could start at `x`: a local ambiguity.
    let rules = "($($a:ident)* $b:ident) => { one }; ($($t:tt)*) => { two };";
    assert!(matches!(run(rules, "x y"), Err(Failure::Rejected(_))));
    // The input matches the arm two ways.
    let rules = "($(a)* $(a)*) => { one }; ($($t:tt)*) => { two };";
    assert!(matches!(run(rules, "a"), Err(Failure::Rejected(_))));
    // A fragment that begins and fails to parse.
    let rules = "($e:expr) => { one }; ($($t:tt)*) => { two };";
    assert!(matches!(run(rules, "1 +"), Err(Failure::Rejected(_))));
    // A token no expression begins with: the next arm.
    assert_eq!(run(rules, "struct").unwrap(), "two");
}

/// The answer depends on the defining crate's edition: not guessed.
#[test]
fn edition_dependent_starts_are_not_guessed() {
    let rules = "($p:pat) => { one }; ($($t:tt)*) => { two };";
    assert!(matches!(run(rules, "| a"), Err(Failure::Undecided(_))));
    let rules = "($p:pat_param) => { one }; ($($t:tt)*) => { two };";
    assert_eq!(run(rules, "| a").unwrap(), "two");
    let rules = "($e:expr) => { one }; ($($t:tt)*) => { two };";
    assert!(matches!(run(rules, "_"), Err(Failure::Undecided(_))));
    let rules = "($e:expr_2021) => { one }; ($($t:tt)*) => { two };";
    assert_eq!(run(rules, "_").unwrap(), "two");
}

#[test]
fn an_arm_followed_too_many_ways_is_rejected() {
    let rules = format!("({}) => {{ one }};", "$(a)* ".repeat(40));
    assert!(matches!(run(&rules, "a a a"), Err(Failure::Undecided(_))));
}

fn run_in(rules: &str, args: &str, edition: Edition) -> Result<String, Failure> {
    let arms = parse_rules(rules.parse().unwrap(), false).expect("rules parse");
    let editions = Editions {
        definition: Some(edition),
        input: Some(edition),
    };
    expand(&arms, args.parse().unwrap(), "krate", &mut 0, editions).map(|t| t.to_string())
}

/// With the macro's edition known, rustc's answer is given.
#[test]
fn the_macros_edition_decides() {
    let rules = "($p:pat) => { one }; ($($t:tt)*) => { two };";
    assert_eq!(run_in(rules, "| a", Edition::E2021).unwrap(), "one");
    assert_eq!(run_in(rules, "| a", Edition::E2018).unwrap(), "two");
    let rules = "($e:expr) => { one }; ($($t:tt)*) => { two };";
    assert_eq!(run_in(rules, "_", Edition::E2024).unwrap(), "one");
    assert_eq!(run_in(rules, "_", Edition::E2021).unwrap(), "two");
    // `await` is a keyword no expression begins with from 2018 (in 2015
    // an identifier, which syn does not parse as one).
    assert_eq!(run_in(rules, "await", Edition::E2018).unwrap(), "two");
}

/// A fragment passed on is one opaque token: a literal arm does not match
/// it, `tt` and the same kind do.
#[test]
fn fragments_passed_on_stay_opaque() {
    let inner = "(process) => { decoy }; ($x:expr) => { real };";
    let arms = parse_rules(inner.parse().unwrap(), false).unwrap();
    let outer = parse_rules("($e:expr) => { $e };".parse().unwrap(), false).unwrap();
    let passed = expand(
        &outer,
        "process".parse().unwrap(),
        "krate",
        &mut 0,
        Editions::default(),
    )
    .unwrap();
    let out = expand(&arms, passed.clone(), "krate", &mut 0, Editions::default()).unwrap();
    assert_eq!(out.to_string(), "real");
    // Through text, as invocations are kept between rounds.
    let text = encode(&passed, false);
    let out = expand(
        &arms,
        decode(&text).unwrap(),
        "krate",
        &mut 0,
        Editions::default(),
    )
    .unwrap();
    assert_eq!(out.to_string(), "real");
    // A real identifier that looks like capgate's reserved word stays one.
    let forged: proc_macro2::TokenStream = "__capgate_none(process)".parse().unwrap();
    let back = decode(&encode(&forged, false)).unwrap();
    assert_eq!(back.to_string(), forged.to_string());
    let out = expand(&arms, back, "krate", &mut 0, Editions::default());
    assert!(matches!(out, Err(Failure::NoMatch) | Ok(_)));
}

/// A body read from a file and kept as text, as the collector keeps it.
fn from_file(rules: &str) -> Vec<Arm> {
    let text = encode_rules(&rules.parse().unwrap(), true);
    let (body, settled) = decode_rules(&text).unwrap();
    assert!(settled, "{text}");
    parse_rules(body, settled).expect("rules parse")
}

fn expand_text(arms: &[Arm], args: &str) -> Result<String, Failure> {
    let args = decode(&encode(&args.parse().unwrap(), true)).unwrap();
    expand(arms, args, "krate", &mut 0, Editions::default()).map(|t| t.to_string())
}

#[test]
fn doc_comments_in_a_file_matcher_are_ignored_as_rustc_ignores_them() {
    let arms = from_file("(/// the module\n $m:ident) => { one }; ($($t:tt)*) => { two };");
    assert_eq!(expand_text(&arms, "process").unwrap(), "one");
    assert_eq!(
        expand_text(&arms, "/// the module\n process").unwrap(),
        "two"
    );
    let arms = from_file("(//! inner\n /** block */ $m:ident) => { one }; ($($t:tt)*) => { two };");
    assert_eq!(expand_text(&arms, "process").unwrap(), "one");
    // A repetition of nothing but a comment is one rustc refuses.
    let text = encode_rules(&"($(/// x\n)* $m:ident) => {};".parse().unwrap(), true);
    let (body, settled) = decode_rules(&text).unwrap();
    assert!(parse_rules(body, settled).is_none());
}

#[test]
fn written_doc_attributes_in_a_file_matcher_are_tokens() {
    // rustc desugars `/// crate` into `#[doc = r" crate"]`, a raw string.
    let arms = from_file(
        "(#[doc = r\" crate\"] $m:ident) => { raw }; (#[doc = \" crate\"] $m:ident) => { plain }; ($($t:tt)*) => { other };",
    );
    assert_eq!(expand_text(&arms, "/// crate\n process").unwrap(), "raw");
    assert_eq!(
        expand_text(&arms, "#[doc = \" crate\"] process").unwrap(),
        "plain"
    );
    assert_eq!(expand_text(&arms, "process").unwrap(), "other");
}

#[test]
fn doc_attributes_in_an_unsettled_matcher_are_not_guessed() {
    // Out of an expansion, which one it was is lost.
    let arms = parse_rules(
        "(#[doc = r\" x\"] $m:ident) => { one }; ($($t:tt)*) => { two };"
            .parse()
            .unwrap(),
        false,
    )
    .unwrap();
    assert!(matches!(
        expand_text(&arms, "/// x\n process"),
        Err(Failure::Undecided(_))
    ));
    // Only `encode_rules` can start a text settled: a real identifier of
    // that name is escaped.
    let forged: proc_macro2::TokenStream = "__capgate_settled_rules (#[doc = r\" x\"] a) => {};"
        .parse()
        .unwrap();
    let (_, settled) = decode_rules(&encode(&forged, false)).unwrap();
    assert!(!settled);
    let (_, settled) = decode_rules(&encode_rules(&forged, false)).unwrap();
    assert!(!settled);
}
