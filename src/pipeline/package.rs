//! One package through scan and reach: its manifest, each target's own
//! findings (scan) and what it reaches through its dependencies' exports
//! (reach), its build script apart, since that runs on the builder's
//! machine.

use crate::fetch::PackageSource;
use crate::model::{
    BuildGraph, Dependency, Exports, Finding, Location, Package, PackageKind, PackageScan,
    Resolution, ScanStats, SourceKind, Target, TargetRole, Witness,
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
    scan.code.findings.extend(generated_by_macros(
        &package.dependencies,
        packages,
        exports_of,
    ));
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
        let emitters = scan::trusted_emitters(&package.dependencies, packages);
        let (findings, exports) = target_findings(
            package,
            target,
            (deps, &emitters),
            &reachable,
            (&cfg, &files),
            rules,
            &mut scan.stats,
        );
        scan.code.findings.extend(findings.own);
        scan.code.emitted.extend(findings.emitted);
        if target.kind == TargetRole::Lib {
            own_exports = Some((target.name.replace('-', "_"), exports));
        }
    }
    if let Some(build) = &package.build_script {
        let deps = dependency_names(&package.build_dependencies, packages).collect();
        let reachable = DependencyExports::new(dependency_exports(&package.build_dependencies));
        let cfg = CfgContext::new(graph.cfg_host.as_deref(), &package.features, false);
        scan.build_script.findings.extend(generated_by_macros(
            &package.build_dependencies,
            packages,
            exports_of,
        ));
        let emitters = scan::trusted_emitters(&package.build_dependencies, packages);
        let (findings, _) = target_findings(
            package,
            build,
            (deps, &emitters),
            &reachable,
            (&cfg, &files),
            rules,
            &mut scan.stats,
        );
        // What the build script links is linked into the package's code.
        let (linked, own): (Vec<Finding>, Vec<Finding>) = findings
            .own
            .into_iter()
            .partition(|f| rules.links_native(&f.rule));
        if !linked.is_empty() {
            scan.code
                .findings
                .extend(scan::links_finding(package, rules));
        }
        scan.code.findings.extend(linked);
        scan.build_script.findings.extend(own);
        scan.build_script.emitted.extend(findings.emitted);
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
    scan.exports.emits = emitted_witnesses(
        &scan.code.emitted,
        &package.dependencies,
        packages,
        exports_of,
    );
    scan.code.normalize();
    scan.build_script.normalize();
    scan
}

/// One witness per capability of the code a package emits, with the first
/// emitted finding's evidence: its own `emitted`, and what the libraries it
/// depends on emit, since a procedural macro may hand on the tokens a
/// library builds (a derive calling its `-impl` or backend crate). A
/// procedural macro dependency's emits are not handed on: its code is
/// generated into this package, where it is a finding.
fn emitted_witnesses<'a>(
    emitted: &[Finding],
    deps: &[Dependency],
    packages: &[Package],
    exports_of: &super::graph::ExportsOf<'a>,
) -> Vec<Witness> {
    let mut witnesses: Vec<Witness> = Vec::new();
    let mut add = |witness: Witness| {
        if witnesses.iter().all(|w| w.capability != witness.capability) {
            witnesses.push(witness);
        }
    };
    for finding in emitted {
        add(Witness {
            capability: finding.capability,
            rule: finding.rule.clone(),
            via: vec![format!("{} ({})", finding.evidence, finding.location)],
            resolution: finding.resolution.unwrap_or(Resolution::Path),
        });
    }
    for dep in deps {
        let (Some((exports, _)), Some(library)) =
            (exports_of(dep.package), packages.get(dep.package))
        else {
            continue;
        };
        if library.kind == PackageKind::ProcMacro {
            continue;
        }
        for witness in &exports.emits {
            let mut handed_on = witness.clone();
            handed_on
                .via
                .insert(0, format!("{} {}", library.name, library.version));
            add(handed_on);
        }
    }
    witnesses.sort_by_key(|w| w.capability);
    witnesses
}

/// The code the procedural macros among `deps` generate is the depending
/// crate's own: what it does, for the package as a whole (which of the
/// macros it invokes, and where, is not told apart). So is that of the
/// procedural macros a dependency re-exports (`serde`'s
/// `pub use serde_derive::Serialize`); not through longer chains.
fn generated_by_macros<'a>(
    deps: &[Dependency],
    packages: &[Package],
    exports_of: &super::graph::ExportsOf<'a>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for dep in deps {
        let mut seen = Vec::new();
        for (macro_crate, witness) in macro_emits(dep.package, packages, exports_of, &mut seen) {
            findings.push(Finding {
                capability: witness.capability,
                location: Location::package(),
                evidence: format!("code generated by {macro_crate}'s macros"),
                rule: witness.rule,
                via: witness.via,
                // About code the package does not contain as written, like
                // a manifest's or a build script's findings.
                resolution: None,
            });
        }
    }
    findings
}

/// What the code generated by the procedural macro `package` is, or by
/// those it re-exports, does: the macro crate's name and each witness, its
/// `via` led by the crates it comes through.
fn macro_emits<'a>(
    package: usize,
    packages: &[Package],
    exports_of: &super::graph::ExportsOf<'a>,
    seen: &mut Vec<usize>,
) -> Vec<(String, Witness)> {
    let (Some((exports, _)), Some(crate_)) = (exports_of(package), packages.get(package)) else {
        return Vec::new();
    };
    if seen.contains(&package) {
        return Vec::new();
    }
    seen.push(package);
    if crate_.kind == PackageKind::ProcMacro {
        return exports
            .emits
            .iter()
            .map(|w| {
                let mut witness = w.clone();
                witness.via.insert(
                    0,
                    format!(
                        "{} {} (the code its macros generate)",
                        crate_.name, crate_.version
                    ),
                );
                (crate_.name.clone(), witness)
            })
            .collect();
    }
    let mut out = Vec::new();
    for dep in &crate_.dependencies {
        // One step: a crate re-exporting another's items is not told
        // apart from one re-exporting that crate's macros, so following
        // chains of them would give every crate in a graph every macro's
        // code.
        let is_macro = packages
            .get(dep.package)
            .is_some_and(|p| p.kind == PackageKind::ProcMacro);
        if !is_macro || !exports.re_exported_crates.contains(&dep.lib_name) {
            continue;
        }
        for (macro_crate, mut witness) in macro_emits(dep.package, packages, exports_of, seen) {
            witness.via.insert(
                0,
                format!(
                    "{} {} (re-exports {})",
                    crate_.name, crate_.version, dep.lib_name
                ),
            );
            out.push((macro_crate, witness));
        }
    }
    out
}

fn dependency_names<'a>(
    deps: &'a [Dependency],
    packages: &'a [Package],
) -> impl Iterator<Item = (String, String)> + 'a {
    deps.iter()
        .filter(|d| d.package < packages.len())
        .map(|d| (d.extern_name.clone(), d.lib_name.clone()))
}

/// One target's findings: what it does, and what the code it emits does.
struct TargetFindings {
    own: Vec<Finding>,
    emitted: Vec<Finding>,
}

/// Findings of one target, its own and what it reaches through its
/// dependencies, with what its items reach for dependents. `deps` are its
/// dependencies' (extern, library) names and the libraries whose
/// `quote!`-like macros only emit their tokens.
fn target_findings(
    package: &Package,
    target: &Target,
    (deps, emitters): (Vec<(String, String)>, &[String]),
    reachable: &DependencyExports<'_>,
    inputs: (&CfgContext, &PackageFiles),
    rules: &RuleSet,
    stats: &mut ScanStats,
) -> (TargetFindings, Exports) {
    let exports_of = |lib: &str| reachable.get(lib);
    let target_facts =
        match scan::read_target(package, target, deps, &exports_of, inputs, rules, stats) {
            Ok(facts) => facts,
            Err(missing) => {
                let findings = TargetFindings {
                    own: vec![missing],
                    emitted: Vec::new(),
                };
                return (findings, Exports::default());
            }
        };
    let facts = &target_facts.facts;
    let resolver = target_facts.resolver();
    let build_script = target.kind == TargetRole::BuildScript;
    let mut matched = scan::match_rules(facts, &resolver, rules, emitters);
    let emitted = std::mem::take(&mut matched.emitted);
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
    // Some names were left unresolved, or some re-exports not copied: what
    // they name is unknown. Each limit passed is told.
    for limit in resolver.exhausted().into_iter().chain(reached.limit) {
        let file = scan::relative_path(&package.root, &target.root_file);
        findings.push(scan::unanalyzed(
            rules,
            "scan-limit",
            Location::file(file),
            format!("the {} target: {limit}", target.name),
        ));
    }
    let findings = TargetFindings {
        own: findings,
        emitted,
    };
    (findings, reached.exports)
}
