//! Scan: what each package's own code can do, found without running it.
//!
//! Takes the build graph and the located sources; returns, for every
//! package, its findings and those of its build script. A package is scanned
//! as a pure function of its source files and the rules, in parallel across
//! packages (rayon), one syntax tree alive at a time per thread.
//!
//! **Invariant:** nothing from a scanned crate is executed; files are only
//! read and parsed.
//! **Invariant:** source that cannot be analysed becomes an `unanalyzed`
//! finding; it is never skipped.
//!
//! syn stays inside this module.

mod cfg;
mod chain;
mod collect;
mod expand;
mod facts;
mod files;
pub mod limits;
mod macros;
mod manifest;
mod matcher;
mod moddir;
mod modtree;
mod names;
mod oldsyntax;
mod reach;
mod source;
mod strexpr;
mod testgate;

use crate::cache::ScanCache;
use crate::capability::{CapabilityReport, Finding, Location};
use crate::fetch::PackageSource;
use crate::reach::{DependencyExports, Exports};
use crate::resolve::{BuildGraph, Dependency, Package, SourceKind, Target, TargetRole};
use crate::rules::RuleSet;

pub use cfg::CfgContext;
use collect::CrateInputs;
use facts::CrateFacts;
use files::PackageFiles;
use names::{ExternPrelude, Resolver};
use strexpr::CompileEnv;

/// Stack for scanning threads. syn, the syntax-tree visitor and the tree's
/// drop recurse as deep as the code nests; the shape guard in `source`
/// (`limits::LIMITS`) bounds what syn is given, and this leaves room for
/// the worst form at that bound: `tests/deepest_accepted.rs` scans every
/// form at the bound on this stack, and passes on a quarter of it even
/// unoptimised (a sixteenth overflows). It is reserved, not committed,
/// memory: a thread touches only what it uses.
pub const SCAN_STACK_BYTES: usize = 256 << 20;

/// What scanning one package found.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PackageScan {
    /// Findings of the package's own targets and manifest.
    pub code: CapabilityReport,
    /// Findings of its build script, which runs on the builder's machine.
    pub build_script: CapabilityReport,
    /// What the package's library lets dependents reach.
    #[serde(default)]
    pub exports: Exports,
    pub stats: ScanStats,
}

/// Counts for progress and throughput figures.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScanStats {
    pub files: usize,
    pub bytes: u64,
    /// Files syn rejected that were read as tokens, with syn's message.
    pub token_fallback_files: Vec<String>,
    /// Every source file read, absolute. Not cached: benchmarks ask a cold
    /// scan for the files to parse for the syn-parse floor.
    #[serde(skip)]
    pub paths: Vec<std::path::PathBuf>,
}

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
    pub cache_hits: usize,
    /// Cache entries that could not be used or written, as messages.
    pub cache_warnings: Vec<String>,
}

/// Scans every package of `graph` (results in the graph's order), each
/// after its dependencies so that it can see what their items reach,
/// taking results from `cache` where it has them and storing the rest.
pub fn scan_graph(
    graph: &BuildGraph,
    sources: &[PackageSource],
    rules: &RuleSet,
    cache: Option<&ScanCache>,
    on_done: &(dyn Fn(&Package) + Sync),
) -> Result<GraphScan, ScanError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(SCAN_STACK_BYTES)
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
    let results: Vec<Scanned> = pool.install(|| {
        crate::reach::in_dependency_order(&deps, &|index, done| {
            let exports_of = |dependency: usize| {
                done.get(dependency)
                    .and_then(|cell| cell.get())
                    .map(|s: &Scanned| (&s.scan.exports, s.exports_fingerprint.as_str()))
            };
            let package = &graph.packages[index];
            let started = std::time::Instant::now();
            let (scan, hit) =
                cached_scan(package, graph, &sources[index], rules, cache, &exports_of);
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

/// One package's scan from the cache, or scanned and stored. A package
/// whose source is missing is never cached: it may be downloaded later.
fn cached_scan<'a>(
    package: &Package,
    graph: &BuildGraph,
    source: &PackageSource,
    rules: &RuleSet,
    cache: Option<&ScanCache>,
    exports_of: &ExportsOf<'a>,
) -> (PackageScan, bool) {
    let Some(cache) = cache.filter(|_| matches!(source, PackageSource::Present(_))) else {
        return (
            scan_package(package, graph, source, rules, exports_of),
            false,
        );
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
    let scan = scan_package(package, graph, source, rules, exports_of);
    cache.store(&key, package, &scan);
    (scan, false)
}

/// Scans one package of `graph` (the graph gives dependencies' names and
/// the platforms `cfg` is evaluated for; `exports_of` what their items
/// reach).
pub fn scan_package<'a>(
    package: &Package,
    graph: &BuildGraph,
    source: &PackageSource,
    rules: &RuleSet,
    exports_of: &ExportsOf<'a>,
) -> PackageScan {
    let packages = &graph.packages;
    let mut scan = PackageScan::default();
    if let PackageSource::Missing { reason } = source {
        scan.code.findings.push(unanalyzed(
            rules,
            "missing-source",
            Location::package(),
            reason.clone(),
        ));
        return scan;
    }
    scan.code
        .findings
        .extend(manifest::manifest_findings(package, rules));
    let dependencies: Vec<(String, String)> =
        dependency_names(&package.dependencies, packages).collect();
    let dependency_exports = |deps: &[Dependency]| -> Vec<(String, &'a Exports)> {
        deps.iter()
            .filter_map(|d| Some((d.lib_name.clone(), exports_of(d.package)?.0)))
            .collect()
    };
    // A workspace's own packages may share files within the workspace;
    // everything else stays inside its own directory.
    let within_workspace = matches!(package.source, SourceKind::Workspace | SourceKind::Path);
    let files = PackageFiles::new(
        &package.root,
        within_workspace.then_some(graph.workspace_root.as_path()),
    );
    // The library first: the package's bins can reach through it.
    let mut targets: Vec<&Target> = package.targets.iter().collect();
    targets.sort_by_key(|t| t.kind == TargetRole::Bin);
    let mut own_exports: Option<(String, Exports)> = None;
    for target in targets {
        let mut deps = dependencies.clone();
        let reachable = dependency_exports(&package.dependencies);
        if target.kind == TargetRole::Bin
            && let Some(lib) = package.targets.iter().find(|t| t.kind == TargetRole::Lib)
        {
            // A package's bins see its own library as a dependency.
            let lib_name = lib.name.replace('-', "_");
            deps.push((lib_name.clone(), lib_name));
        }
        let own = own_exports.as_ref().map(|(name, e)| (name.clone(), e));
        let reachable = DependencyExports::new(reachable.into_iter().chain(own));
        // Proc macros run on the host; everything else on the target.
        let triple = if target.kind == TargetRole::ProcMacro {
            &graph.cfg_host
        } else {
            &graph.cfg_target
        };
        let cfg = CfgContext::new(
            triple.as_deref(),
            &package.features,
            target.kind == TargetRole::ProcMacro,
        )
        .with_build_script(package.build_script.is_some());
        let (findings, exports) = scan_target(
            package,
            target,
            deps,
            &reachable,
            (&cfg, &files),
            rules,
            &mut scan.stats,
        );
        scan.code.findings.extend(findings);
        if target.kind == TargetRole::Lib {
            own_exports = Some((target.name.replace('-', "_"), exports));
        }
    }
    if let Some(build) = &package.build_script {
        let deps = dependency_names(&package.build_dependencies, packages).collect();
        let reachable = DependencyExports::new(dependency_exports(&package.build_dependencies));
        let cfg = CfgContext::new(graph.cfg_host.as_deref(), &package.features, false);
        let (findings, _) = scan_target(
            package,
            build,
            deps,
            &reachable,
            (&cfg, &files),
            rules,
            &mut scan.stats,
        );
        scan.build_script.findings.extend(findings);
    }
    scan.exports = own_exports.map(|(_, e)| e).unwrap_or_default();
    scan.code.normalize();
    scan.build_script.normalize();
    scan
}

fn dependency_names<'a>(
    deps: &'a [Dependency],
    packages: &'a [Package],
) -> impl Iterator<Item = (String, String)> + 'a {
    deps.iter()
        .filter(|d| d.package < packages.len())
        .map(|d| (d.extern_name.clone(), d.lib_name.clone()))
}

/// Findings of one target, with what its items reach for dependents.
fn scan_target(
    package: &Package,
    target: &Target,
    deps: Vec<(String, String)>,
    reachable: &DependencyExports<'_>,
    (cfg, files): (&CfgContext, &PackageFiles),
    rules: &RuleSet,
    stats: &mut ScanStats,
) -> (Vec<Finding>, Exports) {
    // Present to rustc (a pipe or a link out of the package is refused
    // when it is read, with its reason).
    if !target.root_file.exists() {
        let file = collect::relative_path(&package.root, &target.root_file);
        return (
            vec![unanalyzed(
                rules,
                "missing-source",
                Location::file(file.clone()),
                format!(
                    "the {} target's root file {file} does not exist",
                    target.name
                ),
            )],
            Exports::default(),
        );
    }
    let mut facts = CrateFacts::default();
    // A build script can set any of cargo's variables for the crate it
    // builds (`cargo:rustc-env`), but not for itself.
    let env = CompileEnv::new(
        &package.root,
        &package.name,
        &package.version,
        &target.name,
        package.build_script.is_some() && target.kind != TargetRole::BuildScript,
    );
    let inputs = CrateInputs {
        edition: target.edition,
        cfg,
        env: &env,
        files,
        package_root: &package.root,
    };
    let mut dependency_macros = macros::DependencyMacros::default();
    for (name_in_code, lib) in &deps {
        if let Some(exports) = reachable.get(lib)
            && !exports.macros.is_empty()
        {
            dependency_macros
                .by_crate
                .insert(name_in_code.clone(), &exports.macros);
            if let Some(edition) = exports.macro_edition {
                dependency_macros
                    .editions
                    .insert(name_in_code.clone(), edition);
            }
        }
    }
    modtree::collect_crate(&target.root_file, inputs, &dependency_macros, &mut facts);
    stats.files += facts.files.len();
    stats
        .paths
        .extend(facts.files.iter().map(|file| package.root.join(file)));
    stats.bytes += facts.bytes_read;
    stats
        .token_fallback_files
        .append(&mut facts.token_fallback_files);
    let prelude = ExternPrelude::new(deps, target.kind == TargetRole::ProcMacro);
    testgate::drop_builtin_test_items(&mut facts, &prelude, target.edition);
    let resolver = Resolver::new(&facts, &prelude, target.edition);
    let matched = matcher::match_rules(&facts, &resolver, rules);
    let own_lib = target.name.replace('-', "_");
    let reached = reach::analyze(&facts, &resolver, rules, &matched, reachable, &own_lib);
    let mut findings = without_repeated_expansions(matched.findings, &matched.expanded);
    findings.extend(reached.findings);
    if let Some(limit) = resolver.exhausted().or(reached.limit) {
        // Some names were left unresolved: what they name is unknown.
        let file = collect::relative_path(&package.root, &target.root_file);
        findings.push(unanalyzed(
            rules,
            "scan-limit",
            Location::file(file),
            format!("the {} target: {limit}", target.name),
        ));
    }
    (findings, reached.exports)
}

/// Findings without those a macro expansion gave that the written code
/// gives too (same rule, same evidence): a macro's body or arguments are
/// already reported where they are written, the expansion only adds what
/// they did not show.
fn without_repeated_expansions(findings: Vec<Finding>, expanded: &[bool]) -> Vec<Finding> {
    let written: std::collections::HashSet<(String, String)> = findings
        .iter()
        .zip(expanded)
        .filter(|(_, e)| !**e)
        .map(|(f, _)| (f.rule.clone(), f.evidence.clone()))
        .collect();
    findings
        .into_iter()
        .zip(expanded)
        .filter(|(f, e)| !**e || !written.contains(&(f.rule.clone(), f.evidence.clone())))
        .map(|(f, _)| f)
        .collect()
}

fn unanalyzed(rules: &RuleSet, rule: &str, location: Location, reason: String) -> Finding {
    let rule = rules.structural(rule);
    Finding {
        capability: rule.capability,
        location,
        evidence: reason,
        rule: rule.id.as_str().to_owned(),
        via: Vec::new(),
    }
}
