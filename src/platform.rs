//! Which `#[cfg]`-gated code is compiled for this build: the target
//! platform and each package's resolved features decide.
//!
//! Evaluation is three-valued. A predicate we cannot know before a build
//! (flags a build script sets, `target_feature`, `debug_assertions`) is
//! unknown, and code whose condition is unknown is kept: a scanner that
//! guesses "not compiled" would hide capabilities.
//!
//! A build script can add any cfg to its package's targets
//! (`cargo:rustc-cfg=` / `cargo::rustc-cfg=`): cargo passes every one to
//! rustc as `--cfg`, `feature="x"` and `test` included, and rustc's
//! `explicit_builtin_cfgs_in_flags` lint, which rejects `--cfg unix`,
//! `--cfg target_os="windows"`, `--cfg debug_assertions` and the like, is
//! an ordinary deny-by-default lint the crate itself can `#![allow]`.
//! `--cfg` only adds: what holds for the build keeps holding. So for a
//! package with a build script a predicate that holds stays true and every
//! other one is unknown (`not(x)` included, since `x` may be unknown).

use std::collections::HashSet;

use cfg_expr::targets::TargetInfo;
use cfg_expr::{Expression, Predicate};

/// What `cfg` conditions are evaluated against for one crate.
#[derive(Clone, Debug)]
pub struct CfgContext {
    /// `None` keeps code for every platform (`--all-targets-cfg`, or a
    /// triple cfg-expr does not know).
    target: Option<&'static TargetInfo>,
    features: HashSet<String>,
    proc_macro: bool,
    /// The package has a build script, which may add any cfg.
    build_script: bool,
}

impl CfgContext {
    pub fn new(triple: Option<&str>, features: &[String], proc_macro: bool) -> Self {
        CfgContext {
            target: triple.and_then(cfg_expr::targets::get_builtin_target_by_triple),
            features: features.iter().cloned().collect(),
            proc_macro,
            build_script: false,
        }
    }

    /// The context for the targets of a package whose build script runs
    /// before they are compiled (when `build_script`): only what holds for
    /// the build is known, everything else may be switched on.
    pub fn with_build_script(mut self, build_script: bool) -> Self {
        self.build_script = build_script;
        self
    }

    /// Whether code under `cfg(expression)` may be compiled. Unparsable
    /// conditions count as possibly compiled.
    pub fn may_compile(&self, expression: &str) -> bool {
        self.evaluate(expression) != Some(false)
    }

    /// The condition's value for this build, `None` when it cannot be known
    /// before a build (or does not parse).
    pub fn evaluate(&self, expression: &str) -> Option<bool> {
        let expression = as_rustc_reads(expression)?;
        Expression::parse(&expression)
            .ok()
            .and_then(|expr| expr.eval(|p| self.predicate(p)))
    }

    /// `Some(true)`/`Some(false)` when the predicate is known for this build.
    fn predicate(&self, predicate: &Predicate<'_>) -> Option<bool> {
        let value = self.predicate_without_build_script(predicate);
        if self.build_script && value != Some(true) {
            // A build script's `--cfg` can make it hold, never stop it.
            return None;
        }
        value
    }

    fn predicate_without_build_script(&self, predicate: &Predicate<'_>) -> Option<bool> {
        match predicate {
            Predicate::Target(tp) => self.target.map(|t| tp.matches(t)),
            Predicate::Feature(name) => Some(self.features.contains(*name)),
            // Tests, rustdoc and miri never build a dependent's code.
            Predicate::Test => Some(false),
            Predicate::Flag("doc" | "docsrs" | "miri") => Some(false),
            Predicate::ProcMacro => Some(self.proc_macro),
            Predicate::DebugAssertions
            | Predicate::TargetFeature(_)
            | Predicate::Flag(_)
            | Predicate::KeyValue { .. } => None,
        }
    }
}

/// The condition with its string literals written as rustc reads them:
/// rustc compares a literal's value, so `target_os = "l\x69nux"` and
/// `feature = r"net"` hold where cfg-expr, comparing the text, says they do
/// not. `None` when a literal is not a plain string (or its value could not
/// be written back without escapes): the condition is unknown.
fn as_rustc_reads(expression: &str) -> Option<std::borrow::Cow<'_, str>> {
    use proc_macro2::{Group, Literal, TokenStream, TokenTree};
    use std::borrow::Cow;
    fn plain(tokens: TokenStream) -> Option<TokenStream> {
        tokens
            .into_iter()
            .map(|tree| match tree {
                TokenTree::Group(group) => {
                    let mut plain_group = Group::new(group.delimiter(), plain(group.stream())?);
                    plain_group.set_span(group.span());
                    Some(TokenTree::Group(plain_group))
                }
                TokenTree::Literal(literal) => match syn::Lit::new(literal) {
                    syn::Lit::Str(text) => {
                        let value = text.value();
                        let escapes = value
                            .chars()
                            .any(|c| c == '"' || c == '\\' || c.is_control());
                        (!escapes && text.suffix().is_empty())
                            .then(|| TokenTree::Literal(Literal::string(&value)))
                    }
                    _ => None,
                },
                other => Some(other),
            })
            .collect()
    }
    if !expression.contains(['\\', '#']) && !expression.contains("r\"") {
        return Some(Cow::Borrowed(expression));
    }
    let tokens: TokenStream = expression.parse().ok()?;
    Some(Cow::Owned(plain(tokens)?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux(features: &[&str]) -> CfgContext {
        let features: Vec<String> = features.iter().map(|s| s.to_string()).collect();
        CfgContext::new(Some("x86_64-unknown-linux-gnu"), &features, false)
    }

    #[test]
    fn platform_and_features_decide() {
        let cx = linux(&["net"]);
        assert!(cx.may_compile("unix"));
        assert!(!cx.may_compile("windows"));
        assert!(cx.may_compile("target_os = \"linux\""));
        assert!(!cx.may_compile("all(unix, target_os = \"macos\")"));
        assert!(cx.may_compile("feature = \"net\""));
        assert!(!cx.may_compile("feature = \"fs\""));
        assert!(!cx.may_compile("test"));
        assert!(!cx.may_compile("all(test, unix)"));
        assert!(!cx.may_compile("docsrs"));
    }

    #[test]
    fn string_literals_are_compared_by_value_as_rustc_does() {
        let cx = linux(&["net"]);
        assert!(cx.may_compile(r#"target_os = "l\x69nux""#));
        assert!(cx.may_compile(r#"feature = "n\u{65}t""#));
        assert!(cx.may_compile(r##"all(target_os = r"linux", feature = r#"net"#)"##));
        assert!(!cx.may_compile(r#"target_os = "w\x69ndows""#));
        assert!(!cx.may_compile(r#"not(target_os = "l\x69nux")"#));
        // Not a plain string: unknown, kept.
        assert_eq!(cx.evaluate(r#"target_os = b"windows""#), None);
        assert_eq!(cx.evaluate(r#"target_os = "a\"b""#), None);
    }

    #[test]
    fn unknown_conditions_keep_code_both_ways() {
        let cx = linux(&[]);
        assert!(cx.may_compile("tokio_unstable"));
        assert!(cx.may_compile("not(tokio_unstable)"));
        assert!(cx.may_compile("any(windows, rustix_use_libc)"));
        assert!(!cx.may_compile("all(windows, rustix_use_libc)"));
        assert!(cx.may_compile("target_feature = \"sse2\""));
    }

    #[test]
    fn a_build_script_can_switch_on_any_cfg_but_not_off() {
        let cx = linux(&["net"]).with_build_script(true);
        for unknown in [
            "docsrs",
            "miri",
            "test",
            "doc",
            "windows",
            "target_os = \"windows\"",
            "feature = \"fs\"",
            "proc_macro",
            "not(has_net)",
            "not(docsrs)",
            "all(unix, docsrs)",
            "any(windows, docsrs)",
        ] {
            assert_eq!(cx.evaluate(unknown), None, "{unknown}");
        }
        assert_eq!(cx.evaluate("unix"), Some(true));
        assert_eq!(cx.evaluate("feature = \"net\""), Some(true));
        assert_eq!(cx.evaluate("any(unix, docsrs)"), Some(true));
        assert_eq!(cx.evaluate("not(unix)"), Some(false));
        assert_eq!(cx.evaluate("all(not(unix), docsrs)"), Some(false));
    }

    #[test]
    fn every_platform_keeps_platform_code() {
        let cx = CfgContext::new(None, &[], false);
        assert!(cx.may_compile("windows"));
        assert!(cx.may_compile("unix"));
        assert!(!cx.may_compile("feature = \"x\""));
    }
}
