//! `cargo capgate explain PACKAGE [CAPABILITY]`: why a package has a
//! capability, with every place behind it and the packages the reach went
//! through.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use super::{CommonArgs, Format, Outcome, load_policy};
use crate::evaluate::{self, explain};
use crate::policy;
use crate::report::explain as report;
use crate::resolve;
use crate::rules::RuleSet;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The package: `NAME`, or `NAME@VERSION` when the build has several.
    #[arg(value_name = "PACKAGE")]
    pub package: String,

    /// The capability to explain (`net` covers `net.connect` and
    /// `net.listen`); every capability of the package when omitted.
    #[arg(value_name = "CAPABILITY")]
    pub capability: Option<String>,
}

pub fn run(common: &CommonArgs, args: &ExplainArgs) -> anyhow::Result<Outcome> {
    common.expect_format("explain", &[Format::Human, Format::Json])?;
    // A misspelt capability fails before anything is resolved.
    let asked = args
        .capability
        .as_deref()
        .map(policy::parse_capability)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let rules = RuleSet::load(&common.rule_files)?;
    let graph = resolve::resolve(&common.selection())?;
    let packages = explain::find_packages(&graph, &args.package)?;
    let policy = load_policy(common, &graph.workspace_root)?;
    let analysis = common.scan_resolved(graph, &rules)?;
    let evaluation = evaluate::evaluate(&analysis.graph, &analysis.scans, None, &policy);
    let explanations: Vec<_> = packages
        .into_iter()
        .map(|p| explain::explain(&analysis.graph, &analysis.scans, &evaluation, p, asked))
        .collect();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match common.format {
        Format::Json => crate::report::json::write(
            &mut out,
            &report::explain_report(&analysis.graph, &args.package, asked, &explanations),
        ),
        _ => report::write_explanations(
            &mut out,
            &analysis.graph,
            &explanations,
            common.stdout_color(),
        ),
    }
    .context("could not write the explanation")?;
    out.flush().ok();
    Ok(Outcome::Pass)
}
