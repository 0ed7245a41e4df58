//! `cargo capgate vet-bom FILE|-`: vets the crates of a CycloneDX bill of
//! materials before anything is built.
//!
//! Reads the arguments, the BoM and the policy, runs `pipeline::vet_bom`
//! (fetch, verify, scan, evaluate) and prints each component's status with
//! a message that says what to do, and the verdict.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::{CommonArgs, Format, Outcome, load_advisories, load_policy, progress};
use crate::fetch::http::Deadline;
use crate::fetch::registry::{Registry, RegistryOptions};
use crate::pipeline::vet_bom::{self, Verdict, VetOptions, VetStages, Vetted};
use crate::report::components::{Scanned, component_row};
use crate::report::{ScanResults, diagnostics, human, json};
use crate::resolve::bom::{self, BomRequest};
use crate::rules::RuleSet;

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

    let progress = progress::Progress::new(common.quiet);
    let cache = std::cell::RefCell::new(cache);
    let vetted = vet_bom::vet(
        &request,
        &policy,
        args.strict,
        VetOptions {
            registry: &registry,
            store: &store,
            workspace_root: workspace_root.clone(),
            offline: common.offline,
            min_age,
            deadline,
            quiet: common.quiet,
            target: common.target.clone(),
            all_targets_cfg: common.all_targets_cfg,
        },
        &VetStages {
            fetching: &|total| progress.fetching(total),
            fetched: &|name| progress.scanned(name),
            fetch_done: &|| progress.finish(),
            note: &|note| {
                if !common.quiet {
                    eprintln!("note: {note}");
                }
            },
            scan: &|graph, deferred| {
                let cache = cache.borrow_mut().take();
                common.scan_resolved_with(graph, Some(deferred), &rules, cache)
            },
            advisories: &|graph| load_advisories(common, graph),
        },
    )?;
    if !common.quiet {
        print_errors_and_notes(common, &request, &vetted);
        if common.verbose {
            print_timings(&vetted);
        }
    }
    write_report(common, &request, &vetted).context("could not write the report")?;
    Ok(match vetted.verdict {
        Verdict::Error => Outcome::Unvetted,
        Verdict::Fail => Outcome::Violations,
        Verdict::Pass => Outcome::Pass,
    })
}

/// On stderr: nothing vetted, the policy's warnings, every component that
/// could not be vetted and why, and the crates scanned with every feature.
fn print_errors_and_notes(common: &CommonArgs, request: &BomRequest, vetted: &Vetted) {
    if vetted.vetted == 0 {
        eprintln!(
            "error: none of the BoM's {} components could be vetted: nothing was checked, so nothing passes",
            vetted.statuses.len()
        );
    }
    eprint!(
        "{}",
        diagnostics::render_diagnostics(&vetted.evaluation.warnings, common.stderr_color())
    );
    for ((component, outcome), status) in request
        .components
        .iter()
        .zip(&vetted.outcomes)
        .zip(&vetted.statuses)
    {
        if status.is_error() {
            for flag in outcome.flags.iter().filter(|f| f.status.is_error()) {
                eprintln!("error: {}: {}", component.display_name(), flag.message);
            }
        }
    }
    let assumed: std::collections::BTreeSet<String> = vetted
        .outcomes
        .iter()
        .filter_map(|o| o.fetched)
        .filter(|&package| vetted.all_features_assumed[package])
        .map(|package| {
            let p = &vetted.analysis.graph.packages[package];
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

/// With `-v`, on stderr: where each fetched crate's time went, in the BoM's
/// order. Timings vary from run to run, so they never reach the report.
fn print_timings(vetted: &Vetted) {
    let secs = |d: std::time::Duration| format!("{:.3} s", d.as_secs_f64());
    for (outcome, timings) in vetted.outcomes.iter().zip(&vetted.timings) {
        let (Some(package), Some(t)) = (outcome.fetched, timings) else {
            continue;
        };
        let p = &vetted.analysis.graph.packages[package];
        let unpack = match t.unpack {
            Some(d) => secs(d),
            None => "none".to_owned(),
        };
        let scan = match t.scan {
            Some(d) if t.cached => format!("{} (cached)", secs(d)),
            Some(d) => secs(d),
            None => "none".to_owned(),
        };
        eprintln!(
            "timing: {} {}: lookup {}, fetch {}, verify {}, check {}, unpack {unpack}, scan {scan}",
            crate::report::text::plain(&p.name),
            crate::report::text::plain(&p.version),
            secs(t.fetch.lookup),
            secs(t.fetch.fetch),
            secs(t.fetch.verify),
            secs(t.fetch.check),
        );
    }
}

/// Every component's row and the verdict, as JSON or for a terminal with
/// the violations' evidence.
fn write_report(common: &CommonArgs, request: &BomRequest, vetted: &Vetted) -> std::io::Result<()> {
    let graph = &vetted.analysis.graph;
    let rows: Vec<json::JsonComponent> = request
        .components
        .iter()
        .zip(&vetted.outcomes)
        .zip(&vetted.statuses)
        .map(|((component, outcome), status)| {
            let scanned = outcome.fetched.map(|package| Scanned {
                graph,
                evaluation: &vetted.evaluation,
                package,
                all_assumed: vetted.all_features_assumed[package],
                missing: &vetted.missing[package],
            });
            component_row(component, outcome, *status, scanned)
        })
        .collect();
    let verdict = vetted.verdict.as_str();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match common.format {
        Format::Json => {
            let results = ScanResults::new(graph, &vetted.analysis.scans)
                .with_advisories(vetted.advisories.as_deref());
            let mut report = json::check_report(&results, &vetted.evaluation);
            report.verdict = verdict;
            json::write(
                &mut out,
                &json::VetReport {
                    report,
                    components: rows,
                },
            )
        }
        _ => {
            // Source lines are shown from the unpacked crates; one whose
            // scan came from the cache was not unpacked.
            let violating: std::collections::BTreeSet<usize> = vetted
                .evaluation
                .violations
                .iter()
                .map(|v| v.package)
                .collect();
            for package in violating {
                vetted.unpack_for_display(package);
            }
            human::write_components(&mut out, &rows, verdict, common.stdout_color())
        }
        .and_then(|()| {
            diagnostics::write_violations(
                &mut out,
                graph,
                &vetted.evaluation,
                common.stdout_color(),
            )
        }),
    }?;
    out.flush().ok();
    Ok(())
}
