//! The `diff` run: two revisions of a repository (the base, and a head
//! revision or the working tree), each resolved, scanned and evaluated
//! against its own policy, then compared. A revision is read with `git
//! archive` into a temporary directory that lives as long as the
//! comparison; the repository is never written. The command line
//! (`cli/diff.rs`) only reads arguments and prints what this returns.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::Analysis;
use crate::advisories::{AdvisoryDatabase, AdvisoryMatch};
use crate::evaluate::diff::{self, GraphDiff};
use crate::evaluate::{self, Evaluation};
use crate::fetch::git::{self, Snapshot};
use crate::model::BuildGraph;
use crate::policy::Policy;
use crate::resolve::{self, BuildSelection};

/// What the caller supplies around the comparison: the build selection of
/// its options, and the policy and scan stages with its cache and output.
pub struct DiffStages<'a> {
    pub selection: BuildSelection,
    /// The policy of a workspace root; `true` for the working tree, which
    /// may use `--policy` (a revision uses its own).
    pub policy: &'a dyn Fn(&Path, bool) -> anyhow::Result<Policy>,
    pub scan: &'a dyn Fn(BuildGraph) -> anyhow::Result<Analysis>,
    pub advisories: Option<&'a AdvisoryDatabase>,
    pub gate: diff::Gate,
}

/// One side, resolved, scanned and evaluated against its own policy.
pub struct Evaluated {
    pub analysis: Analysis,
    pub policy: Policy,
    pub advisories: Option<Vec<Vec<AdvisoryMatch>>>,
    pub evaluation: Evaluation,
}

impl Evaluated {
    pub fn side(&self) -> diff::Side<'_> {
        diff::Side {
            graph: &self.analysis.graph,
            scans: &self.analysis.scans,
            evaluation: &self.evaluation,
            policy: &self.policy,
            advisories: self.advisories.as_deref(),
        }
    }
}

/// Two sides and what changed between them.
pub struct Compared {
    pub head: Evaluated,
    pub result: GraphDiff,
    /// The base revision's commit.
    pub base_commit: String,
    /// How the head is named (`working tree`, or the revision given).
    pub head_name: String,
    pub head_commit: Option<String>,
    /// Where the head's files are (the repository, or a revision's copy).
    pub head_root: PathBuf,
    /// Kept so that the revisions' copies live as long as the comparison.
    _snapshots: (Snapshot, Option<Snapshot>),
}

/// Compares revision `base` with `head` (or the working tree) for the
/// workspace of `manifest`, a path that exists.
pub fn compare(
    manifest: &Path,
    base: &str,
    head: Option<&str>,
    stages: &DiffStages<'_>,
) -> anyhow::Result<Compared> {
    let manifest = manifest
        .canonicalize()
        .with_context(|| format!("manifest `{}` does not exist", manifest.display()))?;
    let manifest_dir = manifest.parent().unwrap_or(Path::new("."));
    let repo = git::repository_root(manifest_dir)?;
    let repo_canonical = repo.canonicalize().unwrap_or(repo.clone());
    let relative = manifest
        .strip_prefix(&repo_canonical)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| PathBuf::from("Cargo.toml"));

    // In a revision's copy cargo's configuration is read from where it would
    // be had that revision been checked out and capgate run from here.
    let cwd_in_repo = std::env::current_dir()?
        .canonicalize()
        .ok()
        .and_then(|cwd| {
            cwd.strip_prefix(&repo_canonical)
                .ok()
                .map(Path::to_path_buf)
        })
        .unwrap_or_default();

    let base_snapshot = git::snapshot(&repo, base)?;
    let base_side = evaluate_side(
        stages,
        base_snapshot.root(),
        &relative,
        base,
        Some(base_snapshot.root().join(&cwd_in_repo)),
    )?;
    let head_snapshot = match head {
        Some(rev) => Some(git::snapshot(&repo, rev)?),
        None => None,
    };
    let (head_root, head_name, head_commit, head_config) = match (&head_snapshot, head) {
        (Some(snapshot), Some(rev)) => (
            snapshot.root().to_path_buf(),
            rev.to_owned(),
            Some(snapshot.commit.clone()),
            Some(snapshot.root().join(&cwd_in_repo)),
        ),
        _ => (repo.clone(), "working tree".to_owned(), None, None),
    };
    let head_side = evaluate_side(stages, &head_root, &relative, &head_name, head_config)?;
    let result = diff::diff(&base_side.side(), &head_side.side(), stages.gate);
    Ok(Compared {
        head: head_side,
        result,
        base_commit: base_snapshot.commit.clone(),
        head_name,
        head_commit,
        head_root,
        _snapshots: (base_snapshot, head_snapshot),
    })
}

fn evaluate_side(
    stages: &DiffStages<'_>,
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
    let mut selection = stages.selection.clone();
    selection.manifest_path = Some(manifest_path);
    selection.config_dir = revision_config;
    let graph =
        resolve::resolve(&selection).with_context(|| format!("resolving revision `{rev}`"))?;
    let policy = (stages.policy)(&graph.workspace_root, is_working_tree)?;
    let analysis = (stages.scan)(graph)?;
    let advisories = stages.advisories.map(|db| db.matches(&analysis.graph));
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
