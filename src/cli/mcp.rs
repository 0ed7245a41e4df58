//! `cargo capgate mcp`: serves the Model Context Protocol on stdio (the
//! server is `crate::mcp`).

use clap::Args;

use super::{CommonArgs, Outcome};

#[derive(Debug, Default, Args)]
pub struct McpArgs {}

pub fn run(common: &CommonArgs, _args: &McpArgs) -> anyhow::Result<Outcome> {
    // Each tool takes its own workspace, policy and build options; one
    // given to the server would apply to no call, so it is refused rather
    // than silently ignored.
    let given: Vec<&str> = [
        ("--manifest-path", common.manifest_path.is_some()),
        ("--policy", common.policy.is_some()),
        ("--features", !common.features.is_empty()),
        ("--all-features", common.all_features),
        ("--no-default-features", common.no_default_features),
        ("--target", common.target.is_some()),
        ("--dev", common.dev),
        ("--all-targets-cfg", common.all_targets_cfg),
        ("--offline", common.offline),
        ("--locked", common.locked),
        ("--advisory-db", common.advisory_db.is_some()),
        ("--fetch-advisories", common.fetch_advisories),
        ("--rules", !common.rule_files.is_empty()),
        ("--no-cache", common.no_cache),
    ]
    .into_iter()
    .filter_map(|(flag, set)| set.then_some(flag))
    .collect();
    if !given.is_empty() {
        anyhow::bail!(
            "`mcp` takes no build options ({}): each tool call names its own workspace and options",
            given.join(", ")
        );
    }
    common.expect_format("mcp", &[super::Format::Human])?;
    crate::mcp::serve_stdio()?;
    Ok(Outcome::Pass)
}
