//! `cargo capgate vet-bom FILE|-`: vets the crates of a CycloneDX bill of
//! materials before anything is built.
//!
//! Reads the BoM, flags names and versions agents get wrong, fetches and
//! verifies every crate (cargo's cache first, then the registry), unpacks it
//! safely, resolves a graph, scans it and evaluates the policy exactly as
//! `check` does. Each component ends with one status and a message that
//! says what to do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

mod acquire;
mod component;

use super::{CommonArgs, Format, Outcome, load_advisories, load_policy, progress};
use crate::evaluate;
use crate::evaluate::vet::{Flag, Status};
use crate::fetch::http::Deadline;
use crate::fetch::registry::{Registry, RegistryOptions};
use crate::report::{ScanResults, diagnostics, human, json};
use crate::resolve::bom::{self, BomTarget, ComponentKind, CrateSource, RequestedCrate};
use crate::resolve::crates::{UnpackedCrate, graph_of_crates};
use crate::resolve::local::LocalCrates;
use crate::rules::RuleSet;
use acquire::Fetching;
use component::missing_dependency_flag;
use component::{
    ComponentOutcome, Scanned, component_row, other_component_outcome, policy_flags, status_of,
    unvetted_outcome,
};

/// Downloads at once: enough to hide latency, few enough to be polite.
const PARALLEL_DOWNLOADS: usize = 8;

#[derive(Debug, Args)]
pub struct VetBomArgs {
    /// The CycloneDX JSON bill of materials (1.4 to 1.6), or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub bom: PathBuf,

    /// A sparse registry index to fetch crates from (default: cargo's
    /// default registry, as cargo's configuration says).
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// Flag versions published fewer than this many days ago (0: never).
    #[arg(long, value_name = "DAYS", default_value_t = 3.0)]
    pub min_age: f64,

    /// Fail on every component that is not a crate (npm, PyPI, no purl),
    /// even one the policy accepts unvetted (`[vet-bom] accept-unvetted`).
    /// Without it, such a component fails the verdict unless accepted.
    #[arg(long)]
    pub strict: bool,

    /// How long fetching may take in all (`90s`, `5m`): every index lookup,
    /// download, retry and unpacking. A component not finished by then is
    /// an `error`, never a pass.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_timeout)]
    pub timeout: Duration,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        // A deadline past what the clock can represent would overflow.
        Ok(d) if std::time::Instant::now().checked_add(d).is_none() => {
            Err("the timeout is too long to be a deadline".into())
        }
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("the timeout must be longer than zero".into()),
        Err(e) => Err(format!("{e} (write it like `90s`, `5m` or `1h`)")),
    }
}

pub fn run(common: &CommonArgs, args: &VetBomArgs) -> anyhow::Result<Outcome> {
    common.expect_format("vet-bom", &[Format::Human, Format::Json])?;
    let min_age = Some(args.min_age)
        .filter(|days| *days >= 0.0)
        .and_then(|days| Duration::try_from_secs_f64(days * 86_400.0).ok())
        .ok_or_else(|| anyhow::anyhow!("--min-age must be a number of days, 0 or more"))?;
    let request = bom::read(&args.bom)?;
    // Started after the BoM is read (stdin may be slow to arrive); it bounds
    // the network and unpacking, the parts someone else controls.
    let deadline = Deadline::after(args.timeout);
    let rules = RuleSet::load(&common.rule_files)?;
    let here = std::env::current_dir().context("no current directory")?;
    let registry = Registry::open(&RegistryOptions {
        index_url: args.registry.clone(),
        offline: common.offline,
        deadline: Some(deadline),
        cargo_version: crate::resolve::cargo_version()?,
    })?;
    // Downloads and unpacked crates live in the scan cache's directory, so
    // one directory holds everything the tool keeps. A cache that cannot be
    // written is the scan cache's one warning; vet-bom then works in a
    // temporary directory.
    let cache = common.cache();
    let scratch;
    let store = match cache.as_ref().and_then(|c| {
        let root = c.root().to_path_buf();
        (c.writable_dir("crates").is_some() && c.writable_dir("src").is_some()).then_some(root)
    }) {
        Some(root) => root,
        None => {
            scratch = tempfile::tempdir().context("could not create a temporary directory")?;
            scratch.path().to_path_buf()
        }
    };

    // Local crates (workspace members, path dependencies) are read where
    // the BoM says they are, relative to the workspace vet-bom runs in.
    let workspace_root = match &common.manifest_path {
        Some(manifest) => here
            .join(manifest)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| here.clone()),
        None => here.clone(),
    };
    // The same policy `check` would use there: `--policy`, or the
    // workspace's own, so that `bom` then `vet-bom` judges as `check` does.
    let policy = load_policy(common, &workspace_root)?;
    let mut locals = LocalCrates::new(workspace_root.clone(), common.offline);

    let progress = progress::Progress::new(common.quiet);
    let mut outcomes: Vec<ComponentOutcome> = request
        .components
        .iter()
        .map(|c| other_component_outcome(c, &policy))
        .collect();
    let mut unpacked: Vec<(usize, UnpackedCrate)> = Vec::new();
    let mut remote: Vec<(usize, &RequestedCrate)> = Vec::new();
    for (i, component) in request.components.iter().enumerate() {
        let ComponentKind::Crate(krate) = &component.kind else {
            continue;
        };
        if let Some(why) = acquire::unfollowed_source(krate) {
            outcomes[i] = unvetted_outcome(component, &why, &policy);
            continue;
        }
        match &krate.source {
            CrateSource::Local { path } => {
                let (flags, found) = acquire::local_one(&mut locals, krate, path, component);
                outcomes[i].flags = flags;
                if let Some(found) = found {
                    unpacked.push((i, found));
                }
            }
            _ => remote.push((i, krate)),
        }
    }
    progress.fetching(remote.len());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(PARALLEL_DOWNLOADS)
        .build()
        .context("could not start download threads")?;
    let fetching = Fetching {
        registry: &registry,
        store: &store,
        min_age,
        now: SystemTime::now(),
        deadline,
        quiet: common.quiet,
    };
    let fetched: Vec<(Vec<Flag>, Option<UnpackedCrate>)> = pool.install(|| {
        remote
            .par_iter()
            .map(|(i, krate)| {
                let result = acquire::fetch_one(&fetching, krate, &request.components[*i]);
                progress.scanned(&krate.name);
                result
            })
            .collect()
    });
    progress.finish();

    // Every component's outcome, and the crates to scan in graph order.
    for ((component, _), (flags, krate)) in remote.iter().zip(fetched) {
        outcomes[*component].flags = flags;
        if let Some(krate) = krate {
            unpacked.push((*component, krate));
        }
    }
    // The same crate listed twice is scanned once; a local crate is never
    // the same as a published one of the same name and version.
    let key = |c: &UnpackedCrate| (c.name.clone(), version_key(&c.version), c.is_local());
    unpacked.sort_by_key(|(component, krate)| (key(krate), *component));
    let mut graph_crates: Vec<UnpackedCrate> = Vec::new();
    for (component, krate) in unpacked {
        // Sorted, so a repeat follows its first listing.
        match graph_crates.last_mut() {
            Some(first) if key(first) == key(&krate) && first.root != krate.root => {
                // Two local crates of one name and version in different
                // directories: a build has one of them (cargo refuses
                // both), and the second is not the first one's source.
                outcomes[component].flags.push(Flag::new(
                    Status::Error,
                    format!(
                        "{}@{} is listed as a local crate at {} and also at {}: a build has one crate of a name and version, so the BoM does not describe one build. Regenerate it from the build",
                        krate.name,
                        krate.version,
                        first.root.display(),
                        krate.root.display()
                    ),
                ));
                continue;
            }
            Some(first) if key(first) == key(&krate) => {
                // Listed again with other features: it is scanned with
                // every listing's (and with all of them when one listing
                // does not say), never with only the first's.
                first.features = match (first.features.take(), krate.features) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b);
                        a.sort();
                        a.dedup();
                        Some(a)
                    }
                    _ => None,
                };
            }
            _ => graph_crates.push(krate),
        }
        outcomes[component].fetched = Some(graph_crates.len() - 1);
    }

    // The platform: --target; else the host, where `cargo build` would
    // run. A BoM's own target is a claim of whoever wrote it: one naming
    // another platform (wasm32, say) must not hide the host's `cfg(unix)`
    // code, so such a BoM is vetted for every platform, its own and the
    // host's among them.
    let (bom_triple, bom_all_targets) = match &request.target {
        Some(BomTarget::Triple(triple)) => (Some(triple.clone()), false),
        Some(BomTarget::AllTargets) => (None, true),
        None => (None, false),
    };
    let host = crate::resolve::host_triple();
    let (platform, every_platform) = match (common.target.clone(), bom_triple) {
        (Some(triple), _) => (triple, common.all_targets_cfg),
        (None, Some(triple)) if host.as_deref() == Some(triple.as_str()) => {
            (triple, common.all_targets_cfg || bom_all_targets)
        }
        (None, Some(triple)) => {
            if !common.quiet {
                eprintln!(
                    "note: the BoM was made for {triple}, not this host: vetted for every platform (pass --target {triple} to vet for that one only)"
                );
            }
            (triple, true)
        }
        (None, None) => (
            host.ok_or_else(|| anyhow::anyhow!("the host platform is not known; pass --target"))?,
            common.all_targets_cfg || bom_all_targets,
        ),
    };
    let held_unscanned: Vec<(String, semver::Version)> = request
        .components
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| outcome.fetched.is_none())
        .filter_map(|(component, _)| match &component.kind {
            ComponentKind::Crate(krate) => Some((krate.name.clone(), krate.version.clone())),
            _ => None,
        })
        .collect();
    let crate_graph = graph_of_crates(
        graph_crates,
        &held_unscanned,
        request.dependencies.as_ref(),
        workspace_root,
        platform,
        every_platform,
    )?;
    let assumed_all_features = crate_graph.all_features_assumed;
    let missing = crate_graph.missing;
    for outcome in &mut outcomes {
        if let Some(package) = outcome.fetched
            && let Some(flag) = missing_dependency_flag(
                &crate_graph.graph,
                package,
                &missing[package],
                assumed_all_features[package],
            )
        {
            outcome.flags.push(flag);
        }
    }
    let analysis = common.scan_resolved_with(crate_graph.graph, &rules, cache)?;
    let advisories = load_advisories(common, &analysis.graph)?;
    let evaluation = evaluate::evaluate(
        &analysis.graph,
        &analysis.scans,
        advisories.as_deref(),
        &policy,
    );
    for outcome in &mut outcomes {
        if let Some(package) = outcome.fetched {
            outcome
                .flags
                .extend(policy_flags(&analysis.graph, &evaluation, package));
        }
    }

    let statuses: Vec<Status> = outcomes.iter().map(status_of).collect();
    let unvetted = statuses.iter().any(|s| s.is_error());
    let vetted = outcomes.iter().filter(|o| o.fetched.is_some()).count();
    // Nothing checked is nothing passed: an empty BoM, or one whose every
    // component is of another ecosystem, fails.
    let failed = vetted == 0
        || statuses
            .iter()
            .zip(&outcomes)
            .any(|(status, outcome)| match status {
                Status::Ok => false,
                Status::Unvetted => args.strict || !outcome.accepted_unvetted,
                _ => true,
            });
    if vetted == 0 && !common.quiet {
        eprintln!(
            "error: none of the BoM's {} components could be vetted: nothing was checked, so nothing passes",
            statuses.len()
        );
    }
    let verdict = if unvetted {
        "error"
    } else if failed {
        "fail"
    } else {
        "pass"
    };
    if !common.quiet {
        eprint!(
            "{}",
            diagnostics::render_diagnostics(&evaluation.warnings, common.stderr_color())
        );
        for ((component, outcome), status) in
            request.components.iter().zip(&outcomes).zip(&statuses)
        {
            if status.is_error() {
                for flag in outcome.flags.iter().filter(|f| f.status.is_error()) {
                    eprintln!("error: {}: {}", component.display_name(), flag.message);
                }
            }
        }
        let assumed: std::collections::BTreeSet<String> = outcomes
            .iter()
            .filter_map(|o| o.fetched)
            .filter(|&package| assumed_all_features[package])
            .map(|package| {
                let p = &analysis.graph.packages[package];
                format!("{} {}", p.name, p.version)
            })
            .collect();
        if !assumed.is_empty() {
            eprintln!(
                "note: the BoM records no features (or features they do not have) for {}: scanned with every feature on, which is everything that could be built",
                assumed.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let rows: Vec<json::JsonComponent> = request
        .components
        .iter()
        .zip(&outcomes)
        .zip(&statuses)
        .map(|((component, outcome), status)| {
            let scanned = outcome.fetched.map(|package| Scanned {
                graph: &analysis.graph,
                evaluation: &evaluation,
                package,
                all_assumed: assumed_all_features[package],
                missing: &missing[package],
            });
            component_row(component, outcome, *status, scanned)
        })
        .collect();
    match common.format {
        Format::Json => {
            let results = ScanResults::new(&analysis.graph, &analysis.scans)
                .with_advisories(advisories.as_deref());
            let mut report = json::check_report(&results, &evaluation);
            report.verdict = verdict;
            json::write(
                &mut out,
                &json::VetReport {
                    report,
                    components: rows,
                },
            )
        }
        _ => human::write_components(&mut out, &rows, verdict, common.stdout_color()).and_then(
            |()| {
                diagnostics::write_violations(
                    &mut out,
                    &analysis.graph,
                    &evaluation,
                    common.stdout_color(),
                )
            },
        ),
    }
    .context("could not write the report")?;
    out.flush().ok();
    Ok(if unvetted {
        Outcome::Unvetted
    } else if failed {
        Outcome::Violations
    } else {
        Outcome::Pass
    })
}

fn version_key(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version).ok()
}
