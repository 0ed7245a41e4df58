//! `cargo capgate init`: writes a policy granting exactly today's
//! capabilities, each with one piece of evidence. `--dry-run` prints it
//! instead (the MCP `propose_policy` tool is this).

use std::io::Write;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::{CommonArgs, Format, Outcome};
use crate::policy::{self, PolicyLocation};
use crate::report::json::{self, SCHEMA_VERSION, Tool};
use crate::rules::RuleSet;

#[derive(Debug, Default, Args)]
pub struct InitArgs {
    /// Rewrite the grants of an existing policy to today's, keeping its
    /// reasons, comments and other settings.
    #[arg(long)]
    pub force: bool,

    /// Write nothing: print the policy (with `--format json`, with the
    /// path it belongs at).
    #[arg(long, conflicts_with = "force")]
    pub dry_run: bool,
}

/// `init --dry-run --format json`.
#[derive(Serialize)]
struct ProposedPolicy {
    schema_version: u32,
    tool: Tool,
    /// Where `init` would write it.
    path: String,
    /// Whether a file is there already (`init` would need `--force`).
    exists: bool,
    packages: usize,
    /// The policy's TOML text.
    policy: String,
}

pub fn run(common: &CommonArgs, args: &InitArgs) -> anyhow::Result<Outcome> {
    common.expect_format("init", &[Format::Human, Format::Json])?;
    if common.format == Format::Json && !args.dry_run {
        anyhow::bail!("`init --format json` prints the policy: pass --dry-run as well");
    }
    let rules = RuleSet::load(&common.rule_files)?;
    let analysis = common.analyze(&rules)?;
    let location = policy::locate(common.policy.as_deref(), &analysis.graph.workspace_root)?;
    let path = location.path().to_path_buf();
    let exists = path.exists() && !matches!(location, PolicyLocation::Absent(_));
    let text = policy::render_initial_policy(&analysis.graph, &analysis.scans);
    if args.dry_run {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match common.format {
            Format::Json => json::write(
                &mut out,
                &ProposedPolicy {
                    schema_version: SCHEMA_VERSION,
                    tool: Tool {
                        name: env!("CARGO_PKG_NAME"),
                        version: env!("CARGO_PKG_VERSION"),
                    },
                    path: path.display().to_string(),
                    exists,
                    packages: analysis.graph.packages.len(),
                    policy: text,
                },
            ),
            _ => out.write_all(text.as_bytes()),
        }
        .context("could not write the policy")?;
        out.flush().ok();
        return Ok(Outcome::Pass);
    }
    if exists && !args.force {
        anyhow::bail!(
            "{} already exists; pass --force to rewrite its grants to today's (reasons, comments and other settings are kept)",
            location.describe()
        );
    }
    let written = if exists {
        let existing = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        policy::reinitialize(&existing, &location, &text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
    } else {
        text
    };
    std::fs::write(&path, written).with_context(|| format!("cannot write {}", path.display()))?;
    if !common.quiet {
        eprintln!(
            "wrote {} granting the capabilities of {} packages",
            location.describe(),
            analysis.graph.packages.len()
        );
    }
    Ok(Outcome::Pass)
}
