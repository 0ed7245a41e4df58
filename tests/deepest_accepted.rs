//! The deepest and longest source the shape guard lets through to syn is
//! scanned without overflowing the scanner's stack, and one token more is
//! `unanalyzed` instead. `scan::SCAN_STACK_BYTES` is sized from these forms:
//! each is one way syn, the visitor or a tree's drop recurses once per
//! token or two with no bracket in between. Runs on the scanner's own
//! stack size (through the fuzz harness), in the build profile under test.

use cargo_capgate::model::Edition;
use cargo_capgate::model::{Capability, Finding};
use cargo_capgate::scan::limits::{LIMITS, shape_exceeds};

use crate::fuzz_regressions::harness;

/// `prefix`, `unit` repeated, then `suffix`: as often as the shape guard
/// accepts, and once more.
struct Form {
    name: &'static str,
    prefix: &'static str,
    unit: &'static str,
    suffix: &'static str,
}

const FORMS: &[Form] = &[
    Form {
        name: "nested generics",
        prefix: "type T = ",
        unit: "Vec<",
        suffix: "u8",
    },
    Form {
        name: "function pointers returning function pointers",
        prefix: "type T = ",
        unit: "fn() -> ",
        suffix: "u8;",
    },
    Form {
        name: "closures returning closures",
        prefix: "fn f() { let g = ",
        unit: "|| ",
        suffix: "std::fs::read(\"x\"); }",
    },
    Form {
        name: "unary operators",
        prefix: "fn f() { let g = ",
        unit: "!",
        suffix: "x; }",
    },
    Form {
        name: "assignments",
        prefix: "fn f() { ",
        unit: "x = ",
        suffix: "0; }",
    },
    Form {
        name: "one or-pattern of character ranges (generated tables)",
        prefix: "fn f(c: char) -> bool { match c { 'a'..='b'",
        unit: " | 'a'..='b'",
        suffix: " => true, _ => false } }",
    },
];

impl Form {
    fn source(&self, repetitions: usize) -> String {
        let mut text = String::from(self.prefix);
        text.push_str(&self.unit.repeat(repetitions));
        text.push_str(self.suffix);
        if self.unit.starts_with("Vec<") {
            text.push_str(&">".repeat(repetitions));
            text.push(';');
        }
        text
    }

    fn accepted(&self, repetitions: usize) -> bool {
        let tokens = self.source(repetitions).parse().expect("the form lexes");
        shape_exceeds(&tokens, &LIMITS).is_none()
    }

    /// The most repetitions the shape guard accepts, found by bisection;
    /// every form's unit is at most six tokens, so at least an eighth of
    /// the bound in repetitions shows the chain is as long as allowed.
    fn most(&self) -> usize {
        let (mut accepted, mut refused) = (0, LIMITS.max_chain + 1);
        while refused - accepted > 1 {
            let middle = (accepted + refused) / 2;
            if self.accepted(middle) {
                accepted = middle;
            } else {
                refused = middle;
            }
        }
        assert!(
            accepted * 8 >= LIMITS.max_chain,
            "{}: only {accepted} repetitions accepted",
            self.name
        );
        accepted
    }
}

fn chain_limit_findings(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.capability == Capability::Unanalyzed)
        .collect()
}

#[test]
fn the_longest_chain_accepted_of_every_form_scans_without_overflowing() {
    let harness = harness::ScanHarness::new();
    for form in FORMS {
        let findings = harness.scan(form.source(form.most()).as_bytes(), Edition::E2021);
        let unanalyzed = chain_limit_findings(&findings);
        assert!(
            unanalyzed.is_empty(),
            "{}: at the bound it must be read, not refused: {unanalyzed:?}",
            form.name
        );
    }
}

#[test]
fn one_repetition_past_the_bound_is_unanalyzed_with_the_limit_named() {
    let harness = harness::ScanHarness::new();
    for form in FORMS {
        let findings = harness.scan(form.source(form.most() + 1).as_bytes(), Edition::E2021);
        assert!(
            chain_limit_findings(&findings)
                .iter()
                .any(|f| f.evidence.contains("chain longer than")),
            "{}: past the bound it must be unanalyzed: {findings:?}",
            form.name
        );
    }
}
