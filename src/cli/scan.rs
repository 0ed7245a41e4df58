//! `cargo capgate scan`: every package of the build and what it can do.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use super::{CommonArgs, Format, Outcome, load_advisories};
use crate::report::{ScanResults, human, json};
use crate::rules::RuleSet;

#[derive(Debug, Default, Args)]
pub struct ScanArgs {}

pub fn run(common: &CommonArgs, _args: &ScanArgs) -> anyhow::Result<Outcome> {
    common.expect_format("scan", &[Format::Human, Format::Json])?;
    let rules = RuleSet::load(&common.rule_files)?;
    let analysis = common.analyze(&rules)?;
    let advisories = load_advisories(common, &analysis.graph)?;
    let results =
        ScanResults::new(&analysis.graph, &analysis.scans).with_advisories(advisories.as_deref());

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match common.format {
        Format::Json => json::write(&mut out, &json::report(&results)),
        _ => human::write_scan(
            &mut out,
            &results,
            human::HumanOptions {
                color: common.stdout_color(),
                verbose: common.verbose,
            },
        ),
    }
    .context("could not write the report")?;
    out.flush().ok();

    Ok(Outcome::Pass)
}
