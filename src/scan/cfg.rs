//! Which `#[cfg]`-gated code is compiled for this build: the target
//! platform and each package's resolved features decide.
//!
//! Evaluation is three-valued. A predicate we cannot know before a build
//! (flags a build script sets, `target_feature`, `debug_assertions`) is
//! unknown, and code whose condition is unknown is kept: a scanner that
//! guesses "not compiled" would hide capabilities.

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
}

impl CfgContext {
    pub fn new(triple: Option<&str>, features: &[String], proc_macro: bool) -> Self {
        CfgContext {
            target: triple.and_then(cfg_expr::targets::get_builtin_target_by_triple),
            features: features.iter().cloned().collect(),
            proc_macro,
        }
    }

    /// Whether code under `cfg(expression)` may be compiled. Unparsable
    /// conditions count as possibly compiled.
    pub fn may_compile(&self, expression: &str) -> bool {
        self.evaluate(expression) != Some(false)
    }

    /// The condition's value for this build, `None` when it cannot be known
    /// before a build (or does not parse).
    pub fn evaluate(&self, expression: &str) -> Option<bool> {
        Expression::parse(expression)
            .ok()
            .and_then(|expr| expr.eval(|p| self.predicate(p)))
    }

    /// `Some(true)`/`Some(false)` when the predicate is known for this build.
    fn predicate(&self, predicate: &Predicate<'_>) -> Option<bool> {
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
    fn unknown_conditions_keep_code_both_ways() {
        let cx = linux(&[]);
        assert!(cx.may_compile("tokio_unstable"));
        assert!(cx.may_compile("not(tokio_unstable)"));
        assert!(cx.may_compile("any(windows, rustix_use_libc)"));
        assert!(!cx.may_compile("all(windows, rustix_use_libc)"));
        assert!(cx.may_compile("target_feature = \"sse2\""));
    }

    #[test]
    fn every_platform_keeps_platform_code() {
        let cx = CfgContext::new(None, &[], false);
        assert!(cx.may_compile("windows"));
        assert!(cx.may_compile("unix"));
        assert!(!cx.may_compile("feature = \"x\""));
    }
}
