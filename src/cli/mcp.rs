//! `cargo capgate mcp`: serves the Model Context Protocol on stdio (the
//! server is `crate::mcp`).

use clap::Args;

use super::{CommonArgs, Outcome};

#[derive(Debug, Default, Args)]
pub struct McpArgs {}

pub fn run(common: &CommonArgs, _args: &McpArgs) -> anyhow::Result<Outcome> {
    // Each tool takes its own workspace, policy and build options: one
    // given to the server would apply to no call, so `cli::options`
    // refuses them.
    common.expect_format("mcp", &[super::Format::Human])?;
    crate::mcp::serve_stdio()?;
    Ok(Outcome::Pass)
}
