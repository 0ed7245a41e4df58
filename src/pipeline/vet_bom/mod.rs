//! The `vet-bom` run: a bill of materials in, every component's status and
//! the verdict out, before anything is built.
//!
//! Flags the names and versions agents get wrong, fetches and verifies
//! every crate (cargo's cache first, then the registry) and checks its
//! archive, or reads a local one where the BoM says it is; turns the crates
//! into a graph without cargo (from the archives' listings), scans it and
//! evaluates the policy exactly as `check` does. A crate is unpacked,
//! safely and on the scanning threads, only when its scan is not cached. Each component ends with one status. The command line
//! (`cli/vet_bom.rs`) only reads arguments and prints what this returns.

mod acquire;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use rayon::prelude::*;

use super::{Analysis, Deferred};
use crate::advisories::AdvisoryMatch;
use crate::evaluate::component::{
    ComponentOutcome, missing_dependency_flag, other_component_outcome, policy_flags, status_of,
    unvetted_outcome,
};
use crate::evaluate::vet::{Flag, Status};
use crate::evaluate::{self, Evaluation};
use crate::fetch::http::Deadline;
use crate::fetch::registry::Registry;
use crate::model::BuildGraph;
use crate::policy::Policy;
use crate::resolve::bom::{BomRequest, BomTarget, ComponentKind, CrateSource, RequestedCrate};
use crate::resolve::crates::{MissingDependency, UnpackedCrate, graph_of_crates};
use crate::resolve::local::LocalCrates;
pub use acquire::CrateTimings;
use acquire::{Fetched, Fetching, PendingUnpack};

/// Downloads at once: enough to hide latency, few enough to be polite.
const PARALLEL_DOWNLOADS: usize = 8;

/// How one `vet-bom` run fetches and for which platform it scans.
pub struct VetOptions<'a> {
    pub registry: &'a Registry,
    /// Where downloads (`crates/`) and unpacked crates (`src/`) are kept.
    pub store: &'a Path,
    /// Local crates' directories are relative to it, and its policy is the
    /// one `check` would use there.
    pub workspace_root: PathBuf,
    pub offline: bool,
    /// Versions published more recently than this are flagged.
    pub min_age: Duration,
    /// Bounds every lookup, download, retry and unpacking.
    pub deadline: Deadline,
    pub quiet: bool,
    /// `--target`: overrides the BoM's own.
    pub target: Option<String>,
    /// `--all-targets-cfg`.
    pub all_targets_cfg: bool,
}

/// Each package's advisory matches, in graph order; `None` without a
/// database.
pub type AdvisoriesByPackage = Option<Vec<Vec<AdvisoryMatch>>>;

/// What the caller supplies around the run: progress, and the scan and
/// advisory stages with its cache and options.
pub struct VetStages<'a> {
    /// Told how many crates are to be fetched, then each one's name as it
    /// is fetched.
    pub fetching: &'a (dyn Fn(usize) + Sync),
    pub fetched: &'a (dyn Fn(&str) + Sync),
    pub fetch_done: &'a dyn Fn(),
    /// A note for the user, as it happens (not in quiet runs).
    pub note: &'a dyn Fn(&str),
    /// Scans the graph; the deferred packages' crates are unpacked only
    /// when their scans are not cached.
    pub scan: &'a dyn Fn(BuildGraph, &Deferred<'_>) -> anyhow::Result<Analysis>,
    pub advisories: &'a dyn Fn(&BuildGraph) -> anyhow::Result<AdvisoriesByPackage>,
}

/// What the run concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Something is beyond the policy, or nothing at all was vetted.
    Fail,
    /// Some component could not be vetted at all.
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

/// A vetted BoM: the scanned graph, its evaluation, and every component's
/// outcome and status in the BoM's order.
pub struct Vetted {
    pub analysis: Analysis,
    pub advisories: AdvisoriesByPackage,
    pub evaluation: Evaluation,
    pub outcomes: Vec<ComponentOutcome>,
    pub statuses: Vec<Status>,
    /// Per package of the graph: what it needs that the BoM lacks.
    pub missing: Vec<Vec<MissingDependency>>,
    /// Per package of the graph: the BoM records no features for it, so
    /// every feature was on.
    pub all_features_assumed: Vec<bool>,
    /// How many components were scanned.
    pub vetted: usize,
    pub verdict: Verdict,
    /// Per component, where its crate's time went, when it was fetched
    /// (for `-v`; never in a report).
    pub timings: Vec<Option<ComponentTimings>>,
    /// Per package: the archive of a crate not unpacked during the run
    /// (its scan came from the cache), for [`Vetted::unpack_for_display`].
    not_unpacked: Vec<Option<PendingUnpack>>,
    quiet: bool,
}

impl Vetted {
    /// Puts `package`'s crate on disk if its scan came from the cache, so
    /// that its findings' source lines can be shown; as when it is scanned,
    /// a kept copy is compared with the archive and the checksum checked.
    pub fn unpack_for_display(&self, package: usize) {
        if let Some(Some(pending)) = self.not_unpacked.get(package) {
            let _ = acquire::unpack_pending(pending, self.quiet);
        }
    }
}

/// Where one component's time went: fetching (see [`CrateTimings`]), then
/// unpacking and scanning its crate (`None` for a scan from the cache,
/// which unpacks nothing).
#[derive(Clone, Copy, Debug, Default)]
pub struct ComponentTimings {
    pub fetch: CrateTimings,
    pub unpack: Option<Duration>,
    /// The scan (or cache load), unpacking not included.
    pub scan: Option<Duration>,
    pub cached: bool,
}

/// Vets every component of `request` against `policy`. `strict` fails
/// components of other ecosystems even where the policy accepts them.
pub fn vet(
    request: &BomRequest,
    policy: &Policy,
    strict: bool,
    options: VetOptions<'_>,
    stages: &VetStages<'_>,
) -> anyhow::Result<Vetted> {
    let mut locals = LocalCrates::new(options.workspace_root.clone(), options.offline);
    let mut outcomes: Vec<ComponentOutcome> = request
        .components
        .iter()
        .map(|c| other_component_outcome(c, policy))
        .collect();
    let mut unpacked: Vec<(usize, UnpackedCrate)> = Vec::new();
    let mut remote: Vec<(usize, &RequestedCrate)> = Vec::new();
    for (i, component) in request.components.iter().enumerate() {
        let ComponentKind::Crate(krate) = &component.kind else {
            continue;
        };
        if let Some(why) = acquire::unfollowed_source(krate) {
            outcomes[i] = unvetted_outcome(component, &why, policy);
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
    (stages.fetching)(remote.len());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(PARALLEL_DOWNLOADS)
        .build()
        .context("could not start download threads")?;
    let fetching = Fetching {
        registry: options.registry,
        store: options.store,
        min_age: options.min_age,
        now: SystemTime::now(),
        deadline: options.deadline,
    };
    let fetched: Vec<Fetched> = pool.install(|| {
        remote
            .par_iter()
            .map(|(i, krate)| {
                let result = acquire::fetch_one(&fetching, krate, &request.components[*i]);
                (stages.fetched)(&krate.name);
                result
            })
            .collect()
    });
    (stages.fetch_done)();

    // Every component's outcome, and the crates to scan in graph order.
    let mut fetch_timings: Vec<Option<CrateTimings>> = vec![None; request.components.len()];
    let mut pending: HashMap<PathBuf, PendingUnpack> = HashMap::new();
    for ((component, _), fetched) in remote.iter().zip(fetched) {
        outcomes[*component].flags = fetched.flags;
        if let Some(krate) = fetched.krate {
            fetch_timings[*component] = Some(fetched.timings);
            unpacked.push((*component, krate));
        }
        if let Some(p) = fetched.pending {
            pending.insert(p.dest.clone(), p);
        }
    }
    let graph_crates = one_crate_per_build(unpacked, &mut outcomes);
    // Indexed like the graph's packages (its crates' order).
    let pending: Vec<Option<PendingUnpack>> = graph_crates
        .iter()
        .map(|c| c.listing.as_ref().and_then(|_| pending.remove(&c.root)))
        .collect();

    let (platform, every_platform) = platform(request, &options, stages.note)?;
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
        options.workspace_root,
        platform,
        every_platform,
    )?;
    let all_features_assumed = crate_graph.all_features_assumed;
    let missing = crate_graph.missing;
    for outcome in &mut outcomes {
        if let Some(package) = outcome.fetched
            && let Some(flag) = missing_dependency_flag(
                &crate_graph.graph,
                package,
                &missing[package],
                all_features_assumed[package],
            )
        {
            outcome.flags.push(flag);
        }
    }
    let unpack_times: Mutex<Vec<Option<Duration>>> = Mutex::new(vec![None; pending.len()]);
    let materialize = |package: usize| {
        let Some(Some(p)) = pending.get(package) else {
            return crate::fetch::PackageSource::Missing {
                reason: "no archive to unpack".to_owned(),
            };
        };
        let started = Instant::now();
        let source = acquire::unpack_pending(p, options.quiet);
        if let Ok(mut times) = unpack_times.lock() {
            times[package] = Some(started.elapsed());
        }
        source
    };
    let deferred = Deferred {
        packages: pending.iter().map(Option::is_some).collect(),
        materialize: &materialize,
    };
    let analysis = (stages.scan)(crate_graph.graph, &deferred)?;
    let unpack_times = unpack_times.into_inner().unwrap_or_default();
    let not_unpacked: Vec<Option<PendingUnpack>> = pending
        .into_iter()
        .zip(&unpack_times)
        .map(|(p, time)| p.filter(|_| time.is_none()))
        .collect();
    let timings = outcomes
        .iter()
        .zip(fetch_timings)
        .map(|(outcome, fetch)| {
            let package = outcome.fetched?;
            let unpack = unpack_times.get(package).copied().flatten();
            let took = analysis.durations.get(package).copied();
            Some(ComponentTimings {
                fetch: fetch.unwrap_or_default(),
                unpack,
                scan: took.map(|d| d.saturating_sub(unpack.unwrap_or_default())),
                cached: analysis.cached.get(package).copied().unwrap_or(false),
            })
        })
        .collect();
    let advisories = (stages.advisories)(&analysis.graph)?;
    let evaluation = evaluate::evaluate(
        &analysis.graph,
        &analysis.scans,
        advisories.as_deref(),
        policy,
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
                Status::Unvetted => strict || !outcome.accepted_unvetted,
                _ => true,
            });
    let verdict = if unvetted {
        Verdict::Error
    } else if failed {
        Verdict::Fail
    } else {
        Verdict::Pass
    };
    Ok(Vetted {
        analysis,
        advisories,
        evaluation,
        outcomes,
        statuses,
        missing,
        all_features_assumed,
        vetted,
        verdict,
        timings,
        not_unpacked,
        quiet: options.quiet,
    })
}

/// The crates to scan, each once: the same crate listed twice is scanned
/// once (with every listing's features), and each component's outcome
/// learns which crate it is. A local crate is never the same as a
/// published one of the same name and version.
fn one_crate_per_build(
    mut unpacked: Vec<(usize, UnpackedCrate)>,
    outcomes: &mut [ComponentOutcome],
) -> Vec<UnpackedCrate> {
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
    graph_crates
}

/// The platform to scan for, and whether every platform's code is kept:
/// `--target`; else the host, where `cargo build` would run. A BoM's own
/// target is a claim of whoever wrote it: one naming another platform
/// (wasm32, say) must not hide the host's `cfg(unix)` code, so such a BoM
/// is vetted for every platform, its own and the host's among them.
fn platform(
    request: &BomRequest,
    options: &VetOptions<'_>,
    note: &dyn Fn(&str),
) -> anyhow::Result<(String, bool)> {
    let (bom_triple, bom_all_targets) = match &request.target {
        Some(BomTarget::Triple(triple)) => (Some(triple.clone()), false),
        Some(BomTarget::AllTargets) => (None, true),
        None => (None, false),
    };
    let host = crate::resolve::host_triple();
    Ok(match (options.target.clone(), bom_triple) {
        (Some(triple), _) => (triple, options.all_targets_cfg),
        (None, Some(triple)) if host.as_deref() == Some(triple.as_str()) => {
            (triple, options.all_targets_cfg || bom_all_targets)
        }
        (None, Some(triple)) => {
            note(&format!(
                "the BoM was made for {triple}, not this host: vetted for every platform (pass --target {triple} to vet for that one only)"
            ));
            (triple, true)
        }
        (None, None) => (
            host.ok_or_else(|| anyhow::anyhow!("the host platform is not known; pass --target"))?,
            options.all_targets_cfg || bom_all_targets,
        ),
    })
}

fn version_key(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version).ok()
}
