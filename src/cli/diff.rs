//! `cargo capgate diff --base REV [--head REV]`: what a change does to the
//! supply chain, and whether it brings violations base did not have. The
//! comparison is `pipeline::diff`; this reads the arguments and prints.

use std::io::Write;

use clap::Args;

use super::{CommonArgs, Format, Outcome, load_policy, open_advisories};
use crate::evaluate::diff::new_in_head;
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
            write!(
                out,
                "{}",
                markdown::diff_markdown(result, &args.base, head_name)
            )?;
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
