//! `cargo capgate diff --base REV [--head REV]`: what a change does to the
//! supply chain, and whether it brings violations base did not have.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use super::{CommonArgs, Format, Outcome, load_policy, open_advisories};
use crate::advisories::{AdvisoryDatabase, AdvisoryMatch};
use crate::evaluate::{self, Evaluation, diff};
use crate::fetch::git;
use crate::pipeline::Analysis;
use crate::policy::Policy;
use crate::report::{human, json, markdown, sarif};
use crate::resolve;
use crate::rules::RuleSet;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The revision to compare with (a branch, tag or commit).
    #[arg(long, value_name = "REV")]
    pub base: String,

    /// The revision to compare (default: the working tree).
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
}

/// One side, resolved, scanned and evaluated against its own policy.
struct Evaluated {
    analysis: Analysis,
    policy: Policy,
    advisories: Option<Vec<Vec<AdvisoryMatch>>>,
    evaluation: Evaluation,
}

impl Evaluated {
    fn side(&self) -> diff::Side<'_> {
        diff::Side {
            graph: &self.analysis.graph,
            scans: &self.analysis.scans,
            evaluation: &self.evaluation,
            policy: &self.policy,
            advisories: self.advisories.as_deref(),
        }
    }
}

pub fn run(common: &CommonArgs, args: &DiffArgs) -> anyhow::Result<Outcome> {
    common.expect_format(
        "diff",
        &[Format::Human, Format::Json, Format::Markdown, Format::Sarif],
    )?;
    let rules = RuleSet::load(&common.rule_files)?;
    let manifest = match &common.manifest_path {
        Some(path) => path.clone(),
        None => std::env::current_dir()?.join("Cargo.toml"),
    };
    let manifest = manifest
        .canonicalize()
        .with_context(|| format!("manifest `{}` does not exist", manifest.display()))?;
    let manifest_dir = manifest.parent().unwrap_or(Path::new("."));
    let repo = git::repository_root(manifest_dir)?;
    let relative = manifest
        .strip_prefix(repo.canonicalize().unwrap_or(repo.clone()))
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| PathBuf::from("Cargo.toml"));

    // In a revision's copy cargo's configuration is read from where it would
    // be had that revision been checked out and capgate run from here.
    let cwd_in_repo = std::env::current_dir()?
        .canonicalize()
        .ok()
        .and_then(|cwd| {
            cwd.strip_prefix(repo.canonicalize().unwrap_or(repo.clone()))
                .ok()
                .map(Path::to_path_buf)
        })
        .unwrap_or_default();

    let db = open_advisories(common)?;
    let base_snapshot = git::snapshot(&repo, &args.base)?;
    let base = evaluate_side(
        common,
        &rules,
        db.as_ref(),
        base_snapshot.root(),
        &relative,
        &args.base,
        Some(base_snapshot.root().join(&cwd_in_repo)),
    )?;
    let head_snapshot = match &args.head {
        Some(rev) => Some(git::snapshot(&repo, rev)?),
        None => None,
    };
    let (head_root, head_name, head_commit, head_config) = match (&head_snapshot, &args.head) {
        (Some(snapshot), Some(rev)) => (
            snapshot.root().to_path_buf(),
            rev.clone(),
            Some(snapshot.commit.clone()),
            Some(snapshot.root().join(&cwd_in_repo)),
        ),
        _ => (repo.clone(), "working tree".to_owned(), None, None),
    };
    let head = evaluate_side(
        common,
        &rules,
        db.as_ref(),
        &head_root,
        &relative,
        &head_name,
        head_config,
    )?;

    let result = diff::diff(&base.side(), &head.side());

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match common.format {
        Format::Json => {
            let report = json::diff_report(
                &result,
                json::Revision {
                    rev: args.base.clone(),
                    commit: Some(base_snapshot.commit.clone()),
                },
                json::Revision {
                    rev: head_name.clone(),
                    commit: head_commit,
                },
            );
            json::write(&mut out, &report)?;
        }
        Format::Markdown => {
            write!(
                out,
                "{}",
                markdown::diff_markdown(&result, &args.base, &head_name)
            )?;
        }
        Format::Sarif => {
            let new: Vec<&evaluate::Violation> = head
                .evaluation
                .violations
                .iter()
                .filter(|v| {
                    let p = &head.analysis.graph.packages[v.package];
                    result.new_violations.iter().any(|n| {
                        n.package == p.name && n.scope == v.scope && n.capability == v.capability
                    })
                })
                .collect();
            let new_advisories: Vec<&evaluate::AdvisoryViolation> = head
                .evaluation
                .advisory_violations
                .iter()
                .filter(|v| {
                    let p = &head.analysis.graph.packages[v.package];
                    result
                        .new_advisory_violations
                        .iter()
                        .any(|n| n.package == p.name && n.id == v.advisory.id)
                })
                .collect();
            let log = sarif::sarif(
                &head.analysis.graph,
                Some(&head_root),
                &new,
                &new_advisories,
            );
            json::write(&mut out, &log)?;
        }
        _ => human::write_diff(&mut out, &result, &args.base, &head_name)?,
    }
    out.flush().ok();
    Ok(if result.passed() {
        Outcome::Pass
    } else {
        Outcome::Violations
    })
}

fn evaluate_side(
    common: &CommonArgs,
    rules: &RuleSet,
    db: Option<&AdvisoryDatabase>,
    root: &Path,
    manifest: &Path,
    rev: &str,
    // Where cargo's configuration is read from for a revision's copy;
    // `None` for the working tree.
    revision_config: Option<PathBuf>,
) -> anyhow::Result<Evaluated> {
    let is_working_tree = revision_config.is_none();
    let manifest_path = root.join(manifest);
    if !manifest_path.is_file() {
        bail!("revision `{rev}` has no {}", manifest.display());
    }
    if !is_working_tree {
        let has_lock = manifest_path
            .ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(root))
            .any(|dir| dir.join("Cargo.lock").is_file());
        if !has_lock {
            bail!(
                "revision `{rev}` has no Cargo.lock beside {} or above it; diff compares locked versions, so commit Cargo.lock",
                manifest.display()
            );
        }
    }
    let mut selection = common.selection();
    selection.manifest_path = Some(manifest_path);
    selection.config_dir = revision_config;
    let graph =
        resolve::resolve(&selection).with_context(|| format!("resolving revision `{rev}`"))?;
    // The working tree may use --policy; a revision uses its own policy.
    let policy = if is_working_tree {
        load_policy(common, &graph.workspace_root)?
    } else {
        let mut base_common = common.clone();
        base_common.policy = None;
        load_policy(&base_common, &graph.workspace_root)?
    };
    let analysis = common.scan_resolved(graph, rules)?;
    let advisories = db.map(|db| db.matches(&analysis.graph));
    let evaluation = evaluate::evaluate(
        &analysis.graph,
        &analysis.scans,
        advisories.as_deref(),
        &policy,
    );
    Ok(Evaluated {
        analysis,
        policy,
        advisories,
        evaluation,
    })
}
