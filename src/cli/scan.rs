//! `cargo capgate scan`: every package of the build and what it can do.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use super::{CommonArgs, Format, Outcome, load_advisories};
use crate::pipeline;
use crate::report::{ScanResults, human, json};
use crate::rules::RuleSet;

#[derive(Debug, Default, Args)]
pub struct ScanArgs {}

pub fn run(common: &CommonArgs, _args: &ScanArgs) -> anyhow::Result<Outcome> {
    common.expect_format("scan", &[Format::Human, Format::Json])?;
    let rules = RuleSet::load(&common.rule_files)?;
    let cache = common.cache();
    let analysis = pipeline::analyze(&common.selection(), &rules, cache.as_ref(), &|_| {})?;
    common.report_cache(&analysis);
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

    if common.notes() {
        let files: usize = analysis.scans.iter().map(|s| s.stats.files).sum();
        let bytes: u64 = analysis.scans.iter().map(|s| s.stats.bytes).sum();
        let scan_secs = analysis.timings.scan.as_secs_f64();
        eprintln!(
            "scanned {} packages ({} from the cache), {files} files ({:.1} MB) in {:.2} s ({:.0} files/s); cargo metadata took {:.2} s",
            analysis.graph.packages.len(),
            analysis.cache_hits,
            bytes as f64 / 1e6,
            scan_secs,
            files as f64 / scan_secs.max(1e-9),
            analysis.timings.resolve.as_secs_f64(),
        );
        if common.verbose {
            for (package, scan) in analysis.graph.packages.iter().zip(&analysis.scans) {
                for file in &scan.stats.token_fallback_files {
                    eprintln!(
                        "note: {} {}: syn could not parse {file}; read it as tokens",
                        package.name, package.version
                    );
                }
            }
        }
    }
    Ok(Outcome::Pass)
}
