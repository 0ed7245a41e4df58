//! `cargo capgate scan`: every package of the build and what it can do.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use clap::Args;

use super::{CommonArgs, Format, Outcome, load_advisories};
use crate::report::{ScanResults, human, json};
use crate::rules::RuleSet;

#[derive(Debug, Default, Args)]
pub struct ScanArgs {
    /// Spell the table out, one line a package, however wide (by default
    /// it fits the terminal, or 100 columns when not printing to one).
    #[arg(long)]
    pub wide: bool,
}

pub fn run(common: &CommonArgs, args: &ScanArgs) -> anyhow::Result<Outcome> {
    common.expect_format("scan", &[Format::Human, Format::Json])?;
    if args.wide && common.format != Format::Human {
        anyhow::bail!("`--wide` shapes the human table; it has no effect with `--format json`");
    }
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
                width: (!args.wide).then(table_width),
            },
        ),
    }
    .context("could not write the report")?;
    out.flush().ok();

    Ok(Outcome::Pass)
}

/// The columns the table may take: the terminal's, when printing to one.
fn table_width() -> u16 {
    let stdout = std::io::stdout();
    if stdout.is_terminal()
        && let Some((terminal_size::Width(width), _)) = terminal_size::terminal_size_of(&stdout)
    {
        return width;
    }
    human::DEFAULT_WIDTH
}
