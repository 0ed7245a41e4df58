//! `cargo capgate check`: fails when a package does more than the policy
//! grants.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use super::{CommonArgs, Format, Outcome, load_advisories, load_policy};
use crate::evaluate;
use crate::report::{ScanResults, diagnostics, json, sarif};
use crate::resolve;
use crate::rules::RuleSet;

#[derive(Debug, Default, Args)]
pub struct CheckArgs {}

pub fn run(common: &CommonArgs, _args: &CheckArgs) -> anyhow::Result<Outcome> {
    common.expect_format(
        "check",
        &[Format::Human, Format::Json, Format::Sarif, Format::Github],
    )?;
    let rules = RuleSet::load(&common.rule_files)?;
    let graph = resolve::resolve(&common.selection())?;
    // The policy is read before scanning, so a broken one fails fast.
    let policy = load_policy(common, &graph.workspace_root)?;
    let analysis = common.scan_resolved(graph, &rules)?;
    let advisories = load_advisories(common, &analysis.graph)?;
    let evaluation = evaluate::evaluate(
        &analysis.graph,
        &analysis.scans,
        advisories.as_deref(),
        &policy,
    );
    if !common.quiet {
        eprint!(
            "{}",
            diagnostics::render_diagnostics(&evaluation.warnings, common.stderr_color())
        );
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match common.format {
        Format::Json => {
            let results = ScanResults::new(&analysis.graph, &analysis.scans)
                .with_advisories(advisories.as_deref());
            json::write(&mut out, &json::check_report(&results, &evaluation))
        }
        Format::Sarif => {
            let violations: Vec<_> = evaluation.violations.iter().collect();
            let advisories: Vec<_> = evaluation.advisory_violations.iter().collect();
            json::write(
                &mut out,
                &sarif::sarif(&analysis.graph, None, &violations, &advisories),
            )
        }
        Format::Github => {
            let violations: Vec<_> = evaluation.violations.iter().collect();
            let advisories: Vec<_> = evaluation.advisory_violations.iter().collect();
            write!(
                out,
                "{}",
                sarif::github_annotations(&analysis.graph, &violations, &advisories)
            )
        }
        _ => diagnostics::write_violations(
            &mut out,
            &analysis.graph,
            &evaluation,
            common.stdout_color(),
        ),
    }
    .context("could not write the report")?;
    out.flush().ok();
    Ok(if evaluation.passed() {
        Outcome::Pass
    } else {
        Outcome::Violations
    })
}
