//! Scanning a whole graph: every package after its dependencies, on a
//! thread pool with the stack syn needs, results taken from the cache
//! where it holds them (keyed by the package's content, the rules and its
//! dependencies' exports) and stored where it does not.

use super::admission::{Admission, DEFAULT_BUDGET_BYTES, source_weight};
use crate::cache::ScanCache;
use crate::fetch::PackageSource;
use crate::model::{BuildGraph, Exports, Package, PackageScan};
use crate::rules::RuleSet;
use crate::scan;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error("could not start scanning threads")]
    ThreadPool(#[source] rayon::ThreadPoolBuildError),
}

/// The scans of a graph, with what the cache did.
#[derive(Debug, Default)]
pub struct GraphScan {
    pub scans: Vec<PackageScan>,
    /// Wall time of each package's scan (or cache load), for `-v`; never
    /// part of a report, which stays the same whatever the timing.
    pub durations: Vec<std::time::Duration>,
    /// Whether each package's scan came from the cache.
    pub cached: Vec<bool>,
    pub cache_hits: usize,
    /// Cache entries that could not be used or written, as messages.
    pub cache_warnings: Vec<String>,
}

/// Sources put on disk only when a scan needs them: `vet-bom` unpacks a
/// crate only when its scan is not in the cache.
pub struct Deferred<'a> {
    /// Indexed like the graph's packages: whether `materialize` gives its
    /// source (else it is where the package says).
    pub packages: Vec<bool>,
    pub materialize: &'a (dyn Fn(usize) -> PackageSource + Sync),
}

/// Scans every package of `graph` (results in the graph's order), each
/// after its dependencies so that it can see what their items reach,
/// taking results from `cache` where it has them and storing the rest.
pub fn scan_graph(
    graph: &BuildGraph,
    sources: &[PackageSource],
    deferred: Option<&Deferred<'_>>,
    rules: &RuleSet,
    cache: Option<&ScanCache>,
    on_done: &(dyn Fn(&Package) + Sync),
) -> Result<GraphScan, ScanError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(scan::SCAN_STACK_BYTES)
        .build()
        .map_err(ScanError::ThreadPool)?;
    let deps: Vec<Vec<usize>> = graph
        .packages
        .iter()
        .map(|p| {
            p.dependencies
                .iter()
                .chain(&p.build_dependencies)
                .map(|d| d.package)
                .collect()
        })
        .collect();
    let admission = Admission::new(admission_budget());
    let results: Vec<Scanned> = pool.install(|| {
        super::schedule::in_dependency_order(&deps, &|index, done| {
            let exports_of = |dependency: usize| {
                done.get(dependency)
                    .and_then(|cell| cell.get())
                    .map(|s: &Scanned| (&s.scan.exports, s.exports_fingerprint.as_str()))
            };
            let package = &graph.packages[index];
            let started = std::time::Instant::now();
            let source = match deferred {
                Some(d) if d.packages.get(index) == Some(&true) => {
                    Source::Deferred(&|| (d.materialize)(index))
                }
                _ => Source::Located(&sources[index]),
            };
            let (scan, hit) = cached_scan(
                package,
                graph,
                source,
                rules,
                cache,
                &admission,
                &exports_of,
            );
            let duration = started.elapsed();
            on_done(package);
            // Once here, not once per dependent's cache key.
            let exports_fingerprint = if scan.exports.is_empty() {
                String::new()
            } else {
                scan.exports.fingerprint()
            };
            Scanned {
                scan,
                hit,
                exports_fingerprint,
                duration,
            }
        })
    });
    let mut out = GraphScan::default();
    for Scanned {
        scan,
        hit,
        duration,
        ..
    } in results
    {
        out.scans.push(scan);
        out.durations.push(duration);
        out.cached.push(hit);
        out.cache_hits += usize::from(hit);
    }
    if let Some(cache) = cache {
        if out.cache_hits < out.scans.len() {
            cache.evict();
        }
        // One warning per kind of problem, not one per package.
        out.cache_warnings.extend(cache.warnings());
    }
    Ok(out)
}

/// The source bytes scanned at once: `CAPGATE_SCAN_BUDGET_MB` (MiB, for
/// measuring the trade between memory and time), else the default.
fn admission_budget() -> u64 {
    std::env::var("CAPGATE_SCAN_BUDGET_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_BUDGET_BYTES, |mb| mb.saturating_mul(1 << 20))
}

/// One package's scan as the graph scan keeps it.
struct Scanned {
    scan: PackageScan,
    /// Taken from the cache.
    hit: bool,
    /// `scan.exports.fingerprint()`, empty when there are none.
    exports_fingerprint: String,
    duration: std::time::Duration,
}

/// The exports of each dependency of a package, with their fingerprint, by
/// index in the graph.
pub type ExportsOf<'a> = dyn Fn(usize) -> Option<(&'a Exports, &'a str)> + 'a;

/// Where one package's source is, or how to get it.
#[derive(Clone, Copy)]
enum Source<'s> {
    Located(&'s PackageSource),
    /// Asked for only when the scan is not cached.
    Deferred(&'s (dyn Fn() -> PackageSource + Sync)),
}

/// One package's scan from the cache, or scanned and stored. A package
/// whose source is missing is never cached: it may be downloaded later.
fn cached_scan<'a>(
    package: &Package,
    graph: &BuildGraph,
    source: Source<'_>,
    rules: &RuleSet,
    cache: Option<&ScanCache>,
    admission: &Admission,
    exports_of: &ExportsOf<'a>,
) -> (PackageScan, bool) {
    let scan_from = |source: &PackageSource| {
        let _permit = match source {
            PackageSource::Present(root) => Some(admission.admit(source_weight(root))),
            PackageSource::Missing { .. } => None,
        };
        super::package::scan_package(package, graph, source, rules, exports_of)
    };
    let cache = match source {
        Source::Located(located @ PackageSource::Missing { .. }) => {
            return (scan_from(located), false);
        }
        _ => match cache {
            Some(cache) => cache,
            None => {
                return match source {
                    Source::Located(located) => (scan_from(located), false),
                    Source::Deferred(get) => (scan_from(&get()), false),
                };
            }
        },
    };
    // What the package's code can reach through its dependencies is part of
    // its scan, so their exports are part of the key.
    let dependency_exports: Vec<String> = package
        .dependencies
        .iter()
        .chain(&package.build_dependencies)
        .map(|d| {
            let fingerprint = exports_of(d.package).map_or("", |(_, f)| f);
            format!("{} {fingerprint}", d.lib_name)
        })
        .collect();
    let key = cache.key(package, graph, rules, &dependency_exports);
    if let Some(scan) = cache.load(&key, package) {
        return (scan, true);
    }
    let source = match source {
        Source::Located(located) => located.clone(),
        Source::Deferred(get) => get(),
    };
    let scan = scan_from(&source);
    if matches!(source, PackageSource::Present(_)) {
        cache.store(&key, package, &scan);
    }
    (scan, false)
}
