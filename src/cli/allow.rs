//! `cargo capgate allow CRATE CAP...`: adds grants to the policy in place,
//! so a person or an agent can accept a finding without hand-editing.

use clap::Args;

use super::{CommonArgs, Outcome};
use crate::policy;
use crate::resolve;

#[derive(Debug, Args)]
pub struct AllowArgs {
    /// The package to grant to.
    #[arg(value_name = "CRATE")]
    pub krate: String,

    /// Capabilities to grant (`net`, `fs.read`, ...).
    #[arg(value_name = "CAP", required = true)]
    pub capabilities: Vec<String>,

    /// Grant to the package's build script instead of its code.
    #[arg(long)]
    pub build_script: bool,

    /// Why the package needs it, recorded as the entry's `reason` (shown
    /// with violations).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(common: &CommonArgs, args: &AllowArgs) -> anyhow::Result<Outcome> {
    let mut capabilities = Vec::new();
    for name in &args.capabilities {
        capabilities.push(policy::parse_capability(name).map_err(anyhow::Error::msg)?);
    }
    let path = match &common.policy {
        Some(path) => path.clone(),
        None => policy::default_path(&resolve::workspace_root(&common.selection())?),
    };
    let added = policy::add_grants(
        &path,
        &args.krate,
        &capabilities,
        args.build_script,
        args.reason.as_deref(),
    )?;
    if !common.quiet {
        let whose = if args.build_script {
            format!("the build script of {}", args.krate)
        } else {
            args.krate.clone()
        };
        if added.is_empty() {
            eprintln!("{} already grants that to {whose}", path.display());
        } else {
            let names: Vec<&str> = added.iter().map(|c| c.name()).collect();
            eprintln!(
                "granted {} to {whose} in {}",
                names.join(", "),
                path.display()
            );
        }
    }
    Ok(Outcome::Pass)
}
