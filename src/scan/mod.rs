//! Scan: what one target's own code can do, found without running it.
//!
//! Takes a target's root file, the cfg context it is compiled with and the
//! macros its dependencies export; returns its syntax facts (items, paths,
//! calls, macro invocations, expanded where they must be) and the findings
//! the rules match in them. It is a pure function of the files read and
//! those inputs: the pipeline runs it for every target and hands the facts
//! to reach, which adds what the target reaches through other crates.
//!
//! **Invariant:** nothing from a scanned crate is executed; files are only
//! read and parsed.
//! **Invariant:** source that cannot be analysed becomes an `unanalyzed`
//! finding; it is never skipped.
//!
//! syn stays inside this module.

mod chain;
mod collect;
mod datatables;
mod declared;
mod directives;
mod emits;
mod expand;
pub(crate) mod facts;
mod files;
pub mod limits;
mod macros;
mod manifest;
mod matcher;
mod moddir;
mod modtree;
pub(crate) mod names;
mod oldsyntax;
mod rawattrs;
mod receivers;
mod source;
mod strexpr;
mod testgate;

use crate::model::{Edition, Exports, Finding, Location, Package, ScanStats, Target, TargetRole};
use crate::platform::CfgContext;
use crate::rules::RuleSet;

use collect::CrateInputs;
pub use collect::relative_path;
pub(crate) use declared::{declared_only, unseen_uses};
pub(crate) use directives::add_link_directives;
pub use emits::trusted_emitters;
use facts::CrateFacts;
pub use files::PackageFiles;
pub use manifest::{links_finding, manifest_findings};
pub(crate) use matcher::{Matched, Origin, match_rules};
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

/// One target's facts, read and expanded, with the names it can use.
pub struct TargetFacts {
    pub(crate) facts: CrateFacts,
    prelude: ExternPrelude,
    edition: Edition,
}

impl TargetFacts {
    /// Resolves the target's paths to canonical ones (`std::fs::read`,
    /// `dep::Type::method`); its memo lives as long as the borrow.
    pub(crate) fn resolver(&self) -> Resolver<'_> {
        Resolver::new(&self.facts, &self.prelude, self.edition)
    }
}

/// Reads and expands one target of `package`: `deps` are its dependencies
/// as (name in code, library name), `exports_of` gives a library's exports,
/// whose `#[macro_export]` macros the target's code may invoke. `None`
/// when the root file is missing, with the finding that says so.
pub fn read_target<'a>(
    package: &Package,
    target: &Target,
    deps: Vec<(String, String)>,
    exports_of: &dyn Fn(&str) -> Option<&'a Exports>,
    (cfg, files): (&CfgContext, &PackageFiles),
    rules: &RuleSet,
    stats: &mut ScanStats,
) -> Result<TargetFacts, Finding> {
    // Present to rustc (a pipe or a link out of the package is refused
    // when it is read, with its reason).
    if !target.root_file.exists() {
        let file = relative_path(&package.root, &target.root_file);
        return Err(unanalyzed(
            rules,
            "missing-source",
            Location::file(file.clone()),
            format!(
                "the {} target's root file {file} does not exist",
                target.name
            ),
        ));
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
    let mut dependency_macros = macros::DependencyMacros {
        prelude: ExternPrelude::new(deps.clone(), target.kind == TargetRole::ProcMacro),
        ..Default::default()
    };
    for (name_in_code, lib) in &deps {
        dependency_macros
            .names_by_lib
            .entry(lib.clone())
            .or_default()
            .push(name_in_code.clone());
        if let Some(exports) = exports_of(lib)
            && !exports.re_exported_crates.is_empty()
        {
            dependency_macros.re_exporting.insert(name_in_code.clone());
        }
        if let Some(exports) = exports_of(lib)
            && !exports.aliases.is_empty()
        {
            dependency_macros
                .aliases
                .insert(name_in_code.clone(), &exports.aliases);
        }
        if let Some(exports) = exports_of(lib)
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
        .extend(facts.token_fallback_files.iter().cloned());
    let prelude = dependency_macros.prelude;
    testgate::drop_builtin_test_items(&mut facts, &prelude, target.edition);
    facts.compact();
    Ok(TargetFacts {
        facts,
        prelude,
        edition: target.edition,
    })
}

/// Findings without those a macro expansion gave that the written code
/// gives too (same rule, same evidence): a macro's body or arguments are
/// already reported where they are written, the expansion only adds what
/// they did not show.
pub fn without_repeated_expansions(findings: Vec<Finding>, expanded: &[bool]) -> Vec<Finding> {
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

pub fn unanalyzed(rules: &RuleSet, rule: &str, location: Location, reason: String) -> Finding {
    let rule = rules.structural(rule);
    Finding {
        capability: rule.capability,
        location,
        evidence: reason,
        rule: rule.id.as_str().to_owned(),
        via: Vec::new(),
        resolution: None,
    }
}
