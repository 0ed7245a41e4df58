//! `cargo capgate init`: writes a policy granting exactly today's
//! capabilities, each with one piece of evidence.

use anyhow::Context;
use clap::Args;

use super::{CommonArgs, Outcome};
use crate::policy;
use crate::rules::RuleSet;

#[derive(Debug, Default, Args)]
pub struct InitArgs {
    /// Overwrite an existing policy file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(common: &CommonArgs, args: &InitArgs) -> anyhow::Result<Outcome> {
    let rules = RuleSet::load(&common.rule_files)?;
    let analysis = common.analyze(&rules)?;
    let path = common
        .policy
        .clone()
        .unwrap_or_else(|| policy::default_path(&analysis.graph.workspace_root));
    if path.exists() && !args.force {
        anyhow::bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    let text = policy::render_initial_policy(&analysis.graph, &analysis.scans);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    if !common.quiet {
        eprintln!(
            "wrote {} granting the capabilities of {} packages",
            path.display(),
            analysis.graph.packages.len()
        );
    }
    Ok(Outcome::Pass)
}
