//! One package through scan and reach: its manifest, each target's own
//! findings (scan) and what it reaches through its dependencies' exports
//! (reach), its build script apart, since that runs on the builder's
//! machine.

use crate::fetch::PackageSource;
use crate::model::{
    BuildGraph, Dependency, Exports, Finding, Location, Package, PackageKind, PackageScan,
    ScanStats, SourceKind, Target, TargetRole,
};
use crate::platform::CfgContext;
use crate::reach::{self, DependencyExports};
use crate::rules::RuleSet;
use crate::scan::{self, PackageFiles};

/// Scans one package of `graph` (the graph gives dependencies' names and
/// the platforms `cfg` is evaluated for; `exports_of` what their items
/// reach).
pub fn scan_package<'a>(
    package: &Package,
    graph: &BuildGraph,
    source: &PackageSource,
    rules: &RuleSet,
    exports_of: &super::graph::ExportsOf<'a>,
) -> PackageScan {
    let packages = &graph.packages;
    let mut scan = PackageScan::default();
    if let PackageSource::Missing { reason } = source {
        scan.code.findings.push(scan::unanalyzed(
            rules,
            "missing-source",
            Location::package(),
            reason.clone(),
        ));
        return scan;
    }
    scan.code
        .findings
        .extend(scan::manifest_findings(package, rules));
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
        let (findings, exports) = target_findings(
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
        let (findings, _) = target_findings(
            package,
            build,
            deps,
            &reachable,
            (&cfg, &files),
            rules,
            &mut scan.stats,
        );
        // What the build script links is linked into the package's code.
        let (linked, own): (Vec<Finding>, Vec<Finding>) = findings
            .into_iter()
            .partition(|f| rules.links_native(&f.rule));
        if !linked.is_empty() {
            scan.code
                .findings
                .extend(scan::links_finding(package, rules));
        }
        scan.code.findings.extend(linked);
        scan.build_script.findings.extend(own);
    }
    scan.exports = own_exports.map(|(_, e)| e).unwrap_or_default();
    // Which procedural macros a dependent may invoke through this package.
    scan.exports.proc_macro = if package.kind == PackageKind::ProcMacro {
        Some(package.name.clone())
    } else {
        DependencyExports::new(dependency_exports(&package.dependencies))
            .proc_macro()
            .map(str::to_owned)
    };
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

/// Findings of one target, its own and what it reaches through its
/// dependencies, with what its items reach for dependents.
fn target_findings(
    package: &Package,
    target: &Target,
    deps: Vec<(String, String)>,
    reachable: &DependencyExports<'_>,
    inputs: (&CfgContext, &PackageFiles),
    rules: &RuleSet,
    stats: &mut ScanStats,
) -> (Vec<Finding>, Exports) {
    let exports_of = |lib: &str| reachable.get(lib);
    let target_facts =
        match scan::read_target(package, target, deps, &exports_of, inputs, rules, stats) {
            Ok(facts) => facts,
            Err(missing) => return (vec![missing], Exports::default()),
        };
    let facts = &target_facts.facts;
    let resolver = target_facts.resolver();
    let build_script = target.kind == TargetRole::BuildScript;
    let mut matched = scan::match_rules(facts, &resolver, rules);
    scan::add_link_directives(&mut matched, facts, rules, build_script);
    let own_lib = target.name.replace('-', "_");
    let reached = reach::analyze(facts, &resolver, rules, &matched, reachable, &own_lib);
    // What declarations reach is reported where they are used, now that
    // reach has seen the uses.
    let dependency_macros = |name: &str| reachable.macro_bodies(name);
    let unseen = scan::unseen_uses(facts, reachable.proc_macro(), &dependency_macros);
    scan::declared_only(&mut matched, unseen.as_deref());
    let mut findings = scan::without_repeated_expansions(matched.findings, &matched.expanded);
    findings.extend(reached.findings);
    if !build_script {
        // Linking is what a build script does: elsewhere a link directive
        // or a native builder is only carried to the scripts that call it.
        findings.retain(|f| !rules.links_native(&f.rule));
    }
    if let Some(limit) = resolver.exhausted().or(reached.limit) {
        // Some names were left unresolved: what they name is unknown.
        let file = scan::relative_path(&package.root, &target.root_file);
        findings.push(scan::unanalyzed(
            rules,
            "scan-limit",
            Location::file(file),
            format!("the {} target: {limit}", target.name),
        ));
    }
    (findings, reached.exports)
}
