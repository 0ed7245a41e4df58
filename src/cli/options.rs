//! Which shared option each command honours. The options are global (clap
//! accepts them before or after any subcommand), so without this table a
//! flag a command has no use for would be read and forgotten: `scan
//! --policy strict.toml` would look like it applied a policy, `vet-bom
//! --all-features` like it widened the scan. A command given an option it
//! does not honour stops with exit 2 naming it, before doing anything.
//! `--format` is checked by each command (the formats differ); `--quiet` and
//! `--color` shape what every command prints and are honoured everywhere.

use super::{CommonArgs, Format};

/// A shared option that not every command honours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    ManifestPath,
    Features,
    AllFeatures,
    NoDefaultFeatures,
    Target,
    Dev,
    AllTargetsCfg,
    Offline,
    Locked,
    Policy,
    AdvisoryDb,
    FetchAdvisories,
    Rules,
    NoCache,
    Verbose,
}

impl Shared {
    pub fn flag(self) -> &'static str {
        match self {
            Shared::ManifestPath => "--manifest-path",
            Shared::Features => "--features",
            Shared::AllFeatures => "--all-features",
            Shared::NoDefaultFeatures => "--no-default-features",
            Shared::Target => "--target",
            Shared::Dev => "--dev",
            Shared::AllTargetsCfg => "--all-targets-cfg",
            Shared::Offline => "--offline",
            Shared::Locked => "--locked",
            Shared::Policy => "--policy",
            Shared::AdvisoryDb => "--advisory-db",
            Shared::FetchAdvisories => "--fetch-advisories",
            Shared::Rules => "--rules",
            Shared::NoCache => "--no-cache",
            Shared::Verbose => "--verbose",
        }
    }

    fn given(self, common: &CommonArgs) -> bool {
        match self {
            Shared::ManifestPath => common.manifest_path.is_some(),
            Shared::Features => !common.features.is_empty(),
            Shared::AllFeatures => common.all_features,
            Shared::NoDefaultFeatures => common.no_default_features,
            Shared::Target => common.target.is_some(),
            Shared::Dev => common.dev,
            Shared::AllTargetsCfg => common.all_targets_cfg,
            Shared::Offline => common.offline,
            Shared::Locked => common.locked,
            Shared::Policy => common.policy.is_some(),
            Shared::AdvisoryDb => common.advisory_db.is_some(),
            Shared::FetchAdvisories => common.fetch_advisories,
            Shared::Rules => !common.rule_files.is_empty(),
            Shared::NoCache => common.no_cache,
            Shared::Verbose => common.verbose,
        }
    }
}

/// What selects and resolves a workspace's build.
const BUILD: &[Shared] = &[
    Shared::ManifestPath,
    Shared::Features,
    Shared::AllFeatures,
    Shared::NoDefaultFeatures,
    Shared::Target,
    Shared::Dev,
    Shared::AllTargetsCfg,
    Shared::Offline,
    Shared::Locked,
];

/// What every command that scans honours: the rules, the cache, and the
/// timings `-v` adds.
const SCANNING: &[Shared] = &[Shared::Rules, Shared::NoCache, Shared::Verbose];

const ADVISORIES: &[Shared] = &[Shared::AdvisoryDb, Shared::FetchAdvisories];

/// The options `command` honours, with why the others mean nothing to it.
pub fn honoured(command: &str) -> (Vec<Shared>, &'static str) {
    let groups: (&[&[Shared]], &str) = match command {
        "scan" => (&[BUILD, SCANNING, ADVISORIES], "it reads no policy"),
        "check" | "diff" => (&[BUILD, SCANNING, ADVISORIES, &[Shared::Policy]], ""),
        "init" => (
            &[BUILD, SCANNING, &[Shared::Policy]],
            "it writes grants, not advisories",
        ),
        "explain" => (
            &[BUILD, SCANNING, &[Shared::Policy]],
            "it explains capabilities, not advisories",
        ),
        "bom" => (&[BUILD, SCANNING, ADVISORIES], "a BoM carries no policy"),
        "allow" => (
            &[BUILD, &[Shared::Policy]],
            "it edits the policy without scanning",
        ),
        "vet-bom" => (
            &[
                &[
                    Shared::ManifestPath,
                    Shared::Target,
                    Shared::AllTargetsCfg,
                    Shared::Offline,
                    Shared::Policy,
                ],
                SCANNING,
                ADVISORIES,
            ],
            "the BoM, not cargo, says which crates and features are built",
        ),
        "mcp" => (&[], "each tool call names its own workspace and options"),
        "cache" => (&[], "it acts on the cache itself"),
        _ => (&[], "it is not a command"),
    };
    (
        groups.0.iter().flat_map(|g| g.iter().copied()).collect(),
        groups.1,
    )
}

impl CommonArgs {
    /// Fails when an option `command` does not honour was given.
    pub fn refuse_unused(&self, command: &str) -> anyhow::Result<()> {
        let (honoured, why) = honoured(command);
        let unused: Vec<&str> = BUILD
            .iter()
            .chain(SCANNING)
            .chain(ADVISORIES)
            .chain(&[Shared::Policy])
            .filter(|o| o.given(self) && !honoured.contains(o))
            .map(|o| o.flag())
            .collect();
        match unused.as_slice() {
            [] => Ok(()),
            [one] => anyhow::bail!("`{one}` has no effect on `{command}` ({why}); leave it out"),
            many => anyhow::bail!(
                "{} have no effect on `{command}` ({why}); leave them out",
                many.iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Fails unless `--format` is one `command` can write.
    pub fn expect_format(&self, command: &str, allowed: &[Format]) -> anyhow::Result<()> {
        if allowed.contains(&self.format) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
        anyhow::bail!(
            "`--format {}` is not available for `{command}`; use one of: {}",
            self.format.name(),
            names.join(", ")
        )
    }
}
