//! `cargo capgate vet-bom FILE|-`: vets the crates of a CycloneDX bill of
//! materials before anything is built.
//!
//! Reads the BoM, flags names and versions agents get wrong, fetches and
//! verifies every crate (cargo's cache first, then the registry), unpacks it
//! safely, resolves a graph, scans it and evaluates the policy exactly as
//! `check` does. Each component ends with one status and a message that
//! says what to do.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use super::{CommonArgs, Format, Outcome, load_advisories, load_policy, progress};
use crate::evaluate::vet::{self, Flag, Status};
use crate::evaluate::{self, Evaluation, Scope};
use crate::fetch::http::Deadline;
use crate::fetch::registry::{FetchError, Registry, RegistryOptions};
use crate::fetch::unpack::{UnpackLimits, Unpacked, unpack_crate};
use crate::policy::Policy;
use crate::report::{ScanResults, diagnostics, human, json};
use crate::resolve::bom::{self, ComponentKind, RequestedComponent, RequestedCrate};
use crate::resolve::crates::{UnpackedCrate, graph_of_crates};
use crate::rules::RuleSet;

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
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("the timeout must be longer than zero".into()),
        Err(e) => Err(format!("{e} (write it like `90s`, `5m` or `1h`)")),
    }
}

/// Where one component stands.
struct ComponentOutcome {
    flags: Vec<Flag>,
    /// Not a crate, and the policy lets it pass unvetted.
    accepted_unvetted: bool,
    /// Index of its crate among the fetched ones.
    fetched: Option<usize>,
}

pub fn run(common: &CommonArgs, args: &VetBomArgs) -> anyhow::Result<Outcome> {
    common.expect_format("vet-bom", &[Format::Human, Format::Json])?;
    if !(args.min_age >= 0.0 && args.min_age.is_finite()) {
        anyhow::bail!("--min-age must be a number of days, 0 or more");
    }
    let request = bom::read(&args.bom)?;
    // Started after the BoM is read (stdin may be slow to arrive); it bounds
    // the network and unpacking, the parts someone else controls.
    let deadline = Deadline::after(args.timeout);
    let rules = RuleSet::load(&common.rule_files)?;
    let here = std::env::current_dir().context("no current directory")?;
    let policy = match &common.policy {
        Some(_) => load_policy(common, &here)?,
        None => crate::policy::Policy::empty(),
    };
    let registry = Registry::open(&RegistryOptions {
        index_url: args.registry.clone(),
        offline: common.offline,
        deadline: Some(deadline),
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

    let progress = progress::Progress::new(common.quiet);
    let crates: Vec<(usize, &RequestedCrate)> = request
        .components
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.kind {
            ComponentKind::Crate(k) => Some((i, k)),
            ComponentKind::Other { .. } => None,
        })
        .collect();
    progress.fetching(crates.len());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(PARALLEL_DOWNLOADS)
        .build()
        .context("could not start download threads")?;
    let fetching = Fetching {
        registry: &registry,
        store: &store,
        min_age: Duration::from_secs_f64(args.min_age * 86_400.0),
        now: SystemTime::now(),
        deadline,
        quiet: common.quiet,
    };
    let fetched: Vec<(Vec<Flag>, Option<UnpackedCrate>)> = pool.install(|| {
        crates
            .par_iter()
            .map(|(i, krate)| {
                let result = fetch_one(&fetching, krate, &request.components[*i]);
                progress.scanned(&krate.name);
                result
            })
            .collect()
    });
    progress.finish();

    // Every component's outcome, and the crates to scan in graph order.
    let mut outcomes: Vec<ComponentOutcome> = request
        .components
        .iter()
        .map(|c| other_component_outcome(c, &policy))
        .collect();
    let mut unpacked = Vec::new();
    for ((component, _), (flags, krate)) in crates.iter().zip(fetched) {
        outcomes[*component].flags = flags;
        if let Some(krate) = krate {
            outcomes[*component].fetched = Some(unpacked.len());
            unpacked.push((*component, krate));
        }
    }
    // The same crate listed twice is scanned once.
    unpacked.sort_by(|a, b| {
        (a.1.name.as_str(), version_key(&a.1.version))
            .cmp(&(b.1.name.as_str(), version_key(&b.1.version)))
    });
    let mut package_of_fetched: BTreeMap<usize, usize> = BTreeMap::new();
    let mut graph_crates: Vec<UnpackedCrate> = Vec::new();
    for (component, krate) in unpacked {
        let fetched_index = outcomes[component].fetched.expect("fetched");
        // Sorted, so a repeat follows its first listing.
        let same = graph_crates
            .last()
            .filter(|c| c.name == krate.name && c.version == krate.version)
            .map(|_| graph_crates.len() - 1);
        let package = same.unwrap_or_else(|| {
            graph_crates.push(krate);
            graph_crates.len() - 1
        });
        package_of_fetched.insert(fetched_index, package);
    }
    for outcome in &mut outcomes {
        outcome.fetched = outcome.fetched.map(|f| package_of_fetched[&f]);
    }

    let platform = match &common.target {
        Some(triple) => triple.clone(),
        None => crate::resolve::host_triple()
            .ok_or_else(|| anyhow::anyhow!("the host platform is not known; pass --target"))?,
    };
    let graph = graph_of_crates(
        graph_crates,
        request.dependencies.as_ref(),
        here,
        platform,
        common.all_targets_cfg,
    )?;
    let analysis = common.scan_resolved_with(graph, &rules, cache)?;
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
    let vetted = statuses.iter().filter(|s| **s == Status::Vetted).count();
    // Nothing checked is nothing passed: an empty BoM, or one whose every
    // component is of another ecosystem, fails.
    let failed = vetted == 0
        || statuses
            .iter()
            .zip(&outcomes)
            .any(|(status, outcome)| match status {
                Status::Vetted => false,
                Status::UnsupportedEcosystem => args.strict || !outcome.accepted_unvetted,
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
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let rows: Vec<json::JsonComponent> = request
        .components
        .iter()
        .zip(&outcomes)
        .zip(&statuses)
        .map(|((component, outcome), status)| component_row(component, outcome, *status))
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

/// What every component's fetch shares.
struct Fetching<'a> {
    registry: &'a Registry,
    /// Where downloads (`crates/`) and unpacked crates (`src/`) are kept.
    store: &'a Path,
    min_age: Duration,
    now: SystemTime,
    deadline: Deadline,
    quiet: bool,
}

/// Looks a crate up, flags what is wrong with the request, and fetches,
/// verifies and unpacks it unless it cannot or must not be.
fn fetch_one(
    fetching: &Fetching,
    krate: &RequestedCrate,
    component: &RequestedComponent,
) -> (Vec<Flag>, Option<UnpackedCrate>) {
    let Fetching {
        registry,
        store,
        min_age,
        now,
        deadline,
        quiet,
    } = fetching;
    let (min_age, now) = (*min_age, *now);
    let name = &krate.name;
    let version = krate.version.to_string();
    let mut flags = Vec::new();
    let out_of_time = |stage: &str| {
        Flag::new(
            Status::Error,
            format!(
                "{name}@{version} was not vetted: the --timeout of {} passed before it was {stage}. Run again (what was fetched is kept), or give it more time",
                deadline.describe()
            ),
        )
    };
    if deadline.passed() {
        flags.push(out_of_time("looked up"));
        return (flags, None);
    }
    if let Some(popular) = vet::typosquat_of(name) {
        flags.push(
            Flag::new(
                Status::TyposquatSuspect,
                format!(
                    "`{name}` is one or two letters from the popular crate `{popular}`: if you meant `{popular}`, use it; otherwise check who publishes `{name}` before using it"
                ),
            )
            .did_you_mean(popular),
        );
    }
    if krate.repository_url.is_some() {
        flags.push(Flag::new(
            Status::Error,
            "the purl names another registry (repository_url); pass its sparse index with --registry",
        ));
        return (flags, None);
    }
    let versions = match registry.versions(name) {
        Ok(Some(versions)) => versions,
        Ok(None) => {
            let meant = vet::closest_popular(name).filter(|p| p != name);
            let hint = meant
                .as_ref()
                .map(|p| format!("; did you mean `{p}`"))
                .unwrap_or_default();
            let mut flag = Flag::new(
                Status::NotFound,
                format!(
                    "no crate named `{name}` exists in the registry{hint}. Remove it from the dependencies"
                ),
            );
            if let Some(meant) = meant {
                flag = flag.did_you_mean(meant);
            }
            flags.push(flag);
            return (flags, None);
        }
        Err(FetchError::Deadline(e)) => {
            flags.push(out_of_time("looked up"));
            flags.push(Flag::new(Status::Error, e));
            return (flags, None);
        }
        Err(e) => {
            flags.push(Flag::new(
                Status::Error,
                format!("could not look `{name}` up: {e}"),
            ));
            return (flags, None);
        }
    };
    let Some(published) = versions.iter().find(|v| v.version == krate.version) else {
        let latest = versions
            .iter()
            .rev()
            .find(|v| !v.yanked && v.version.pre.is_empty())
            .map(|v| v.version.to_string());
        let mut flag = Flag::new(
            Status::NotFound,
            format!(
                "`{name}` has no version {version} in the registry{}",
                latest
                    .as_ref()
                    .map(|v| format!("; the latest release is {v}"))
                    .unwrap_or_default()
            ),
        );
        if let Some(latest) = latest {
            flag = flag.nearest_release(latest);
        }
        flags.push(flag);
        return (flags, None);
    };
    if published.yanked {
        let nearest = vet::nearest_release(&krate.version, &versions);
        let mut flag = Flag::new(
            Status::Yanked,
            format!(
                "{name}@{version} is yanked{}",
                nearest
                    .as_ref()
                    .map(|v| format!("; {v} is the nearest release"))
                    .unwrap_or_else(|| "; no release of it is left unyanked".into())
            ),
        );
        if let Some(nearest) = nearest {
            flag = flag.nearest_release(nearest.to_string());
        }
        flags.push(flag);
    }
    // Old index entries carry no publication time; such releases predate
    // the field, so they are not new.
    if let (false, Some(pubtime)) = (min_age.is_zero(), &published.pubtime) {
        match vet::too_new(pubtime, min_age, now) {
            Ok(Some(age)) => flags.push(Flag::new(
                Status::TooNew,
                format!(
                    "{name}@{version} was published {} ago, less than the minimum age of {} days: wait, or pin an older release",
                    vet::describe_age(age),
                    min_age.as_secs_f64() / 86_400.0
                ),
            )),
            Ok(None) => {}
            Err(e) => flags.push(Flag::new(Status::Error, e)),
        }
    }
    if let Some(expected) = &krate.sha256
        && *expected != published.checksum
    {
        flags.push(Flag::new(
            Status::ChecksumMismatch,
            format!(
                "the BoM's SHA-256 {expected} differs from the registry's {}; the crate was not fetched or scanned. Regenerate the BoM or find out who changed it",
                published.checksum
            ),
        ));
        return (flags, None);
    }
    let archive =
        match registry.crate_file(name, &version, &published.checksum, &store.join("crates")) {
            Ok(path) => path,
            Err(e @ FetchError::ChecksumMismatch { .. }) => {
                flags.push(Flag::new(
                    Status::ChecksumMismatch,
                    format!("{e}; the crate was not scanned. Do not use this download"),
                ));
                return (flags, None);
            }
            Err(FetchError::Deadline(e)) => {
                flags.push(out_of_time("downloaded"));
                flags.push(Flag::new(Status::Error, e));
                return (flags, None);
            }
            Err(e) => {
                flags.push(Flag::new(
                    Status::Error,
                    format!("could not fetch {name}@{version}: {e}"),
                ));
                return (flags, None);
            }
        };
    if deadline.passed() {
        flags.push(out_of_time("unpacked"));
        return (flags, None);
    }
    let prefix = format!("{name}-{version}");
    let dest = store
        .join("src")
        .join(format!("{prefix}-{}", &published.checksum[..16]));
    match unpack_crate(&archive, &prefix, &dest, UnpackLimits::default()) {
        Ok(Unpacked { root, replaced }) => {
            if let Some(why) = replaced.filter(|_| !quiet) {
                // Not the component's fault: the store was changed.
                eprintln!(
                    "warning: the unpacked copy of {name}@{version} in the cache did not match its verified .crate ({why}); unpacked it again"
                );
            }
            (
                flags,
                Some(UnpackedCrate {
                    name: name.clone(),
                    version,
                    root,
                    checksum: published.checksum.clone(),
                    source_id: registry.source_id.clone(),
                    default_registry: registry.is_default,
                    bom_ref: component.bom_ref.clone(),
                }),
            )
        }
        Err(e) => {
            flags.push(Flag::new(Status::Error, e.to_string()));
            (flags, None)
        }
    }
}

/// A flag for each capability or advisory the policy does not grant.
fn policy_flags(
    graph: &crate::resolve::BuildGraph,
    evaluation: &Evaluation,
    package: usize,
) -> Vec<Flag> {
    let p = &graph.packages[package];
    let mut code = Vec::new();
    let mut build = Vec::new();
    for v in evaluation
        .violations
        .iter()
        .filter(|v| v.package == package)
    {
        match v.scope {
            Scope::Code => code.push(v.capability.name()),
            Scope::BuildScript => build.push(v.capability.name()),
        }
    }
    let mut flags = Vec::new();
    let quoted = |caps: &[&str]| {
        caps.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !code.is_empty() || !build.is_empty() {
        let mut grants = Vec::new();
        if !code.is_empty() {
            grants.push(format!("allow = [{}]", quoted(&code)));
        }
        if !build.is_empty() {
            grants.push(format!("build-script.allow = [{}]", quoted(&build)));
        }
        let all: Vec<&str> = code.iter().chain(&build).copied().collect();
        flags.push(Flag::new(
            Status::Violation,
            format!(
                "{}@{} uses {} beyond the policy: grant it in capgate.toml ([pkg.{}] {}) if that is expected, or remove {}",
                p.name,
                p.version,
                all.join(", "),
                p.name,
                grants.join(", "),
                p.name
            ),
        ));
    }
    for v in evaluation
        .advisory_violations
        .iter()
        .filter(|v| v.package == package)
    {
        let fix = if v.advisory.patched.is_empty() {
            "no patched release exists; replace it".to_owned()
        } else {
            format!("upgrade to {}", v.advisory.patched.join(" or "))
        };
        flags.push(Flag::new(
            Status::Violation,
            format!("{}: {fix}", crate::report::advisory_headline(p, v)),
        ));
    }
    flags
}

fn status_of(outcome: &ComponentOutcome) -> Status {
    outcome
        .flags
        .iter()
        .map(|f| f.status)
        .min()
        .unwrap_or(Status::Vetted)
}

/// A crate's outcome starts empty (the fetch fills it in); any other
/// component is `unsupported-ecosystem`, accepted or not by the policy.
fn other_component_outcome(component: &RequestedComponent, policy: &Policy) -> ComponentOutcome {
    let ComponentKind::Other { ecosystem } = &component.kind else {
        return ComponentOutcome {
            flags: Vec::new(),
            accepted_unvetted: false,
            fetched: None,
        };
    };
    let what = match ecosystem {
        Some(e) => format!("a `{e}` package"),
        None => "not a package with a purl".into(),
    };
    let acceptance = policy.accepts_unvetted(component.purl.as_deref(), &component.name);
    let message = match acceptance {
        Some(accepted) => format!(
            "{} is {what}; vet-bom vets crates only, so it was not checked; the policy accepts it unvetted ([vet-bom] accept-unvetted{})",
            component.display_name(),
            accepted
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        None => format!(
            "{} is {what}; vet-bom vets crates only, so it was not checked. Remove it, or accept it unvetted in the policy: [vet-bom] accept-unvetted = [\"{}\"]",
            component.display_name(),
            component.purl.as_deref().unwrap_or(&component.name)
        ),
    };
    ComponentOutcome {
        flags: vec![Flag::new(Status::UnsupportedEcosystem, message)],
        accepted_unvetted: acceptance.is_some(),
        fetched: None,
    }
}

fn component_row(
    component: &RequestedComponent,
    outcome: &ComponentOutcome,
    status: Status,
) -> json::JsonComponent {
    let mut flags: Vec<&'static str> = outcome.flags.iter().map(|f| f.status.as_str()).collect();
    flags.dedup();
    let message = if outcome.flags.is_empty() {
        format!(
            "{} was fetched, verified and scanned; it is within the policy",
            component.display_name()
        )
    } else {
        let mut sorted: Vec<&Flag> = outcome.flags.iter().collect();
        sorted.sort_by_key(|f| f.status);
        sorted
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join(". ")
    };
    let mut did_you_mean: Vec<String> = outcome
        .flags
        .iter()
        .filter_map(|f| f.did_you_mean.clone())
        .collect();
    did_you_mean.sort();
    did_you_mean.dedup();
    json::JsonComponent {
        bom_ref: component.bom_ref.clone(),
        name: component.name.clone(),
        version: component.version.clone(),
        purl: component.purl.clone(),
        status: status.as_str(),
        flags,
        message,
        did_you_mean,
        nearest_release: outcome.flags.iter().find_map(|f| f.nearest_release.clone()),
    }
}
