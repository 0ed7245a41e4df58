//! The pipeline from a manifest to scan results, shared by every command:
//! resolve, fetch, scan. Each stage takes and returns plain data.

mod admission;
pub mod diff;
mod graph;
mod package;
mod schedule;
pub mod vet_bom;

pub use graph::Deferred;
pub use package::scan_package;

use std::time::{Duration, Instant};

use crate::cache::ScanCache;
use crate::fetch;
use crate::model::{BuildGraph, Package, PackageScan};
use crate::resolve::{self, BuildSelection};
use crate::rules::RuleSet;

/// A resolved and scanned graph.
pub struct Analysis {
    pub graph: BuildGraph,
    pub scans: Vec<PackageScan>,
    /// Each package's scan time, in graph order (`-v` names the slowest).
    pub durations: Vec<Duration>,
    /// Whether each package's scan came from the cache, in graph order.
    pub cached: Vec<bool>,
    pub timings: Timings,
    /// How many scans came from the cache.
    pub cache_hits: usize,
    /// Cache entries that were corrupt or could not be written.
    pub cache_warnings: Vec<String>,
}

/// Wall time per stage, for the summary line and benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    pub resolve: Duration,
    pub scan: Duration,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    #[error(transparent)]
    Resolve(#[from] resolve::ResolveError),
    #[error(transparent)]
    Scan(#[from] graph::ScanError),
}

/// Resolves `selection` and scans every package; `on_scanned` is called as
/// each package finishes (from scanning threads).
pub fn analyze(
    selection: &BuildSelection,
    rules: &RuleSet,
    cache: Option<&ScanCache>,
    on_scanned: &(dyn Fn(&Package) + Sync),
) -> Result<Analysis, AnalysisError> {
    let started = Instant::now();
    let graph = resolve::resolve(selection)?;
    let resolve_time = started.elapsed();
    let mut analysis = scan_graph(graph, rules, cache, on_scanned)?;
    analysis.timings.resolve = resolve_time;
    Ok(analysis)
}

/// Fetches and scans an already resolved graph.
pub fn scan_graph(
    graph: BuildGraph,
    rules: &RuleSet,
    cache: Option<&ScanCache>,
    on_scanned: &(dyn Fn(&Package) + Sync),
) -> Result<Analysis, AnalysisError> {
    scan_graph_deferred(graph, None, rules, cache, on_scanned)
}

/// [`scan_graph`], where the `deferred` packages' sources are put on disk
/// only if their scans are not in the cache.
pub fn scan_graph_deferred(
    graph: BuildGraph,
    deferred: Option<&Deferred<'_>>,
    rules: &RuleSet,
    cache: Option<&ScanCache>,
    on_scanned: &(dyn Fn(&Package) + Sync),
) -> Result<Analysis, AnalysisError> {
    let started = Instant::now();
    let sources = fetch::locate(&graph);
    let scanned = graph::scan_graph(&graph, &sources, deferred, rules, cache, on_scanned)?;
    Ok(Analysis {
        graph,
        scans: scanned.scans,
        durations: scanned.durations,
        cached: scanned.cached,
        timings: Timings {
            resolve: Duration::ZERO,
            scan: started.elapsed(),
        },
        cache_hits: scanned.cache_hits,
        cache_warnings: scanned.cache_warnings,
    })
}
