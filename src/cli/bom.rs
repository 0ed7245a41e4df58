//! `cargo capgate bom`: a CycloneDX bill of materials of the resolved graph.

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{CommonArgs, Outcome, load_advisories};
use crate::report::bom::{self, BomInput, SpecVersion};
use crate::rules::RuleSet;

#[derive(Debug, Args)]
pub struct BomArgs {
    /// CycloneDX specification version.
    #[arg(long, value_enum, default_value_t = Spec::V1_6)]
    pub spec_version: Spec,

    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Spec {
    #[value(name = "1.5")]
    V1_5,
    #[value(name = "1.6")]
    V1_6,
}

pub fn run(common: &CommonArgs, args: &BomArgs) -> anyhow::Result<Outcome> {
    let rules = RuleSet::load(&common.rule_files)?;
    let analysis = common.analyze(&rules)?;
    let advisories = load_advisories(common, &analysis.graph)?;
    let version = match args.spec_version {
        Spec::V1_5 => SpecVersion::V1_5,
        Spec::V1_6 => SpecVersion::V1_6,
    };
    let value = bom::bom_json(
        &BomInput {
            graph: &analysis.graph,
            scans: &analysis.scans,
            advisories: advisories.as_deref(),
        },
        version,
    )?;
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(Outcome::Pass)
}
