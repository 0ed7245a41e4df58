//! `cargo capgate mcp`: the Model Context Protocol server, on stdio, through
//! the official Rust SDK (rmcp).
//!
//! An agent that has just written a `Cargo.toml` or been handed a bill of
//! materials calls these tools before `cargo build` runs anyone's build
//! script. Each tool is one command of the command line, run as a child
//! process (see `invoke.rs`), so its structured answer is the command's
//! JSON report, with the same schema and the same verdict:
//!
//! | tool | command |
//! | --- | --- |
//! | `vet_bom` | `vet-bom FILE\|-` |
//! | `check_workspace` | `check` |
//! | `explain` | `explain PACKAGE [CAPABILITY]` |
//! | `propose_policy` | `init --dry-run` |
//!
//! This is a front end, like `cli`: it depends on the stages only through
//! the binary's commands.

mod invoke;
mod params;
mod schemas;

use std::ffi::OsString;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};

use params::{CheckParams, ExplainParams, ProposeParams, VetBomParams};

const INSTRUCTIONS: &str = "cargo-capgate finds what every crate of a Rust build can do \
(file system, network, processes, environment, unsafe code, foreign code, build scripts, proc \
macros) by reading its source, without building or running anything, and checks it against a \
least-privilege policy (capgate.toml). Before `cargo build` on a dependency set you wrote or \
were given: call `vet_bom` on its CycloneDX bill of materials, or `check_workspace` on the \
workspace. Act on each component's `status` and its `did_you_mean`, `nearest_release` and \
`message`; `verdict` is `pass` only when everything was read and stayed within its grants. \
`explain` says why a package has a capability; `propose_policy` drafts a policy granting \
today's capabilities, for a person to review.";

/// The server: a router of the four tools.
#[derive(Clone)]
pub struct CapgateServer {
    tool_router: ToolRouter<Self>,
}

impl Default for CapgateServer {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs the command line a tool's arguments made (with what to feed its
/// stdin), or says why they made none.
async fn run(command: Result<(Vec<OsString>, Option<Vec<u8>>), String>) -> CallToolResult {
    match command {
        Ok((args, stdin)) => invoke::run_capgate(args, stdin).await,
        Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
    }
}

// Every tool only reads: the workspace, the bill of materials, cargo's
// caches. vet_bom and the others may reach the registry, whose state
// changes the answer: open world.
#[tool_router(router = tool_router)]
impl CapgateServer {
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// Vet a CycloneDX JSON bill of materials before anything is built:
    /// fetch and verify every crate, scan it, and check it against the
    /// policy. Returns `vet-bom --format json`: a status per component
    /// (ok, violation, not-found, yanked, typosquat-suspect, too-new,
    /// unvetted, checksum-mismatch, error), with `did_you_mean`,
    /// `nearest_release`, a message, and the verdict.
    #[tool(
        name = "vet_bom",
        output_schema = schemas::bundled(schemas::VET_BOM),
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            open_world_hint = true
        )
    )]
    async fn vet_bom(&self, Parameters(params): Parameters<VetBomParams>) -> CallToolResult {
        run(params.to_args()).await
    }

    /// Check a Rust workspace's whole dependency graph against its policy.
    /// Returns `check --format json`: every package with its capabilities
    /// and evidence, the violations (capabilities beyond the grants, with
    /// findings) and the verdict.
    #[tool(
        name = "check_workspace",
        output_schema = schemas::bundled(schemas::CHECK),
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            open_world_hint = true
        )
    )]
    async fn check_workspace(&self, Parameters(params): Parameters<CheckParams>) -> CallToolResult {
        run(params.to_args().map(|args| (args, None))).await
    }

    /// Why a package of a workspace's build has a capability: every place
    /// behind it, the packages the reach went through, whether the policy
    /// grants it (and the command that would), and which workspace member
    /// brought the package in.
    #[tool(
        name = "explain",
        output_schema = schemas::bundled(schemas::EXPLAIN),
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            open_world_hint = true
        )
    )]
    async fn explain(&self, Parameters(params): Parameters<ExplainParams>) -> CallToolResult {
        run(params.to_args().map(|args| (args, None))).await
    }

    /// Draft the policy (capgate.toml) that grants each package of the
    /// workspace's build exactly the capabilities it has today, each with
    /// its evidence as a comment. Writes nothing: returns the text and the
    /// path it belongs at, for a person to review.
    #[tool(
        name = "propose_policy",
        output_schema = schemas::bundled(schemas::INIT),
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            open_world_hint = true
        )
    )]
    async fn propose_policy(
        &self,
        Parameters(params): Parameters<ProposeParams>,
    ) -> CallToolResult {
        run(params.to_args().map(|args| (args, None))).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CapgateServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Serves MCP on stdin and stdout until the client closes the connection.
pub fn serve_stdio() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let service = CapgateServer::new()
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow::anyhow!("the MCP session did not start: {e}"))?;
        service
            .waiting()
            .await
            .map_err(|e| anyhow::anyhow!("the MCP session failed: {e}"))?;
        anyhow::Ok(())
    })
}
