//! `cargo capgate diff --base REV [--head REV]`: what a change does to the
//! supply chain, and whether it brings violations base did not have. The
//! comparison is `pipeline::diff`; this reads the arguments and prints.

use std::io::Write;

use clap::Args;

use super::{CommonArgs, Format, Outcome, load_policy, open_advisories};
use crate::evaluate::diff::{Gate, new_in_head};
use crate::pipeline::diff::{Compared, DiffStages, compare};
use crate::report::{human, json, markdown, sarif};
use crate::rules::RuleSet;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The revision to compare with (a branch, tag or commit).
    #[arg(long, value_name = "REV")]
    pub base: String,

    /// The revision to compare (default: the working tree).
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,

    /// Fail (exit 1) when the change widens its own policy: grants a
    /// capability, ignores an advisory or accepts an unvetted component that
    /// the base's policy did not.
    #[arg(long)]
    pub deny_grant_changes: bool,

    /// Where the full report can be found (a CI run's artifacts, say),
    /// named by the Markdown report when it had to be cut to fit a comment.
    #[arg(long, value_name = "URL")]
    pub full_report_url: Option<String>,
}

pub fn run(common: &CommonArgs, args: &DiffArgs) -> anyhow::Result<Outcome> {
    common.expect_format(
        "diff",
        &[Format::Human, Format::Json, Format::Markdown, Format::Sarif],
    )?;
    if args.head.is_some() && common.policy.is_some() {
        anyhow::bail!(
            "`--policy` applies to the working tree, and `--head` compares a revision, which is judged by its own policy; leave one out"
        );
    }
    if args.full_report_url.is_some() && common.format != Format::Markdown {
        anyhow::bail!(
            "`--full-report-url` names the full report in a Markdown one; it needs `--format markdown`"
        );
    }
    let rules = RuleSet::load(&common.rule_files)?;
    let manifest = match &common.manifest_path {
        Some(path) => path.clone(),
        None => std::env::current_dir()?.join("Cargo.toml"),
    };
    let db = open_advisories(common)?;
    let compared = compare(
        &manifest,
        &args.base,
        args.head.as_deref(),
        &DiffStages {
            selection: common.selection(),
            // The working tree may use --policy; a revision uses its own.
            policy: &|workspace_root, working_tree| {
                if working_tree {
                    load_policy(common, workspace_root)
                } else {
                    let mut revision = common.clone();
                    revision.policy = None;
                    load_policy(&revision, workspace_root)
                }
            },
            scan: &|graph| common.scan_resolved(graph, &rules),
            advisories: db.as_ref(),
            gate: Gate {
                deny_grant_changes: args.deny_grant_changes,
            },
        },
    )?;
    write_report(common, args, &compared)?;
    Ok(if compared.result.passed() {
        Outcome::Pass
    } else {
        Outcome::Violations
    })
}

fn write_report(common: &CommonArgs, args: &DiffArgs, compared: &Compared) -> anyhow::Result<()> {
    let Compared {
        head,
        result,
        head_name,
        ..
    } = compared;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match common.format {
        Format::Json => {
            let report = json::diff_report(
                result,
                json::Revision {
                    rev: args.base.clone(),
                    commit: Some(compared.base_commit.clone()),
                },
                json::Revision {
                    rev: head_name.clone(),
                    commit: compared.head_commit.clone(),
                },
            );
            json::write(&mut out, &report)?;
        }
        Format::Markdown => {
            let context = markdown::MarkdownContext {
                base: &args.base,
                head: head_name,
                limit: markdown::COMMENT_LIMIT,
                full_report_url: args.full_report_url.as_deref(),
            };
            write!(out, "{}", markdown::diff_markdown(result, &context))?;
        }
        Format::Sarif => {
            let (new, new_advisories) = new_in_head(result, &head.analysis.graph, &head.evaluation);
            let log = sarif::sarif(
                &head.analysis.graph,
                Some(&compared.head_root),
                &new,
                &new_advisories,
            );
            json::write(&mut out, &log)?;
        }
        _ => human::write_diff(&mut out, result, &args.base, head_name)?,
    }
    out.flush().ok();
    Ok(())
}
