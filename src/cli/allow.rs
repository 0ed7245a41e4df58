//! `cargo capgate allow CRATE CAP...`: adds grants to the policy in place,
//! so a person or an agent can accept a finding without hand-editing.

use clap::Args;

use super::{CommonArgs, Outcome};
use crate::evaluate::explain::find_packages;
use crate::policy;
use crate::resolve;

#[derive(Debug, Args)]
pub struct AllowArgs {
    /// The package to grant to; several, separated by commas
    /// (`tokio,mio`). `NAME@REQ` grants to the versions REQ matches only.
    /// Each must be in the build graph.
    #[arg(value_name = "CRATE[,CRATE...]")]
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
    let packages: Vec<String> = args
        .krate
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if packages.is_empty() {
        anyhow::bail!("no package named: pass CRATE (or CRATE,CRATE...)");
    }
    // A grant to a name the build does not have is a typo more often than
    // a plan, and would sit in the policy granting nothing.
    let graph = resolve::resolve(&common.selection())?;
    for spec in &packages {
        let name = spec.split_once('@').map_or(spec.as_str(), |(name, _)| name);
        find_packages(&graph, name)?;
    }
    let location = policy::locate(common.policy.as_deref(), &graph.workspace_root)?;
    let added = policy::add_grants(
        &location,
        &packages,
        &capabilities,
        args.build_script,
        args.reason.as_deref(),
    )?;
    if !common.quiet {
        for (krate, added) in packages.iter().zip(added) {
            let whose = if args.build_script {
                format!("the build script of {krate}")
            } else {
                krate.clone()
            };
            if added.is_empty() {
                eprintln!("{} already grants that to {whose}", location.describe());
            } else {
                let names: Vec<&str> = added.iter().map(|c| c.name()).collect();
                eprintln!(
                    "granted {} to {whose} in {}",
                    names.join(", "),
                    location.describe()
                );
            }
        }
    }
    Ok(Outcome::Pass)
}
