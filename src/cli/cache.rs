//! `cargo capgate cache info|clean|prune`: what capgate keeps (scan
//! results, and the crates `vet-bom` downloaded and unpacked), and
//! removing all or the least recently used of it.

use std::time::Duration;

use clap::{Args, Subcommand};

use super::{CommonArgs, Format, Outcome};
use crate::cache::{CacheContents, ScanCache};

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Where the cache is, what it holds by kind, and the size it is kept
    /// under (`CAPGATE_CACHE_MAX_BYTES`).
    Info,
    /// Remove everything capgate keeps there.
    Clean,
    /// Remove what was last used longer ago than `--older-than`.
    Prune {
        /// An age such as `30d`, `12h` or `2weeks`.
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        older_than: Duration,
    },
}

fn parse_age(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (write it like `30d` or `12h`)"))
}

pub fn run(common: &CommonArgs, args: &CacheArgs) -> anyhow::Result<Outcome> {
    common.expect_format("cache", &[Format::Human])?;
    let Some(dir) = ScanCache::default_dir() else {
        anyhow::bail!("this platform has no cache directory; set CAPGATE_CACHE_DIR");
    };
    let cache = ScanCache::at(dir);
    let root = cache.root().display();
    let (contents, verb) = match &args.action {
        CacheAction::Info => {
            let info = cache.info();
            println!(
                "{root} (kept under {:.1} MB; set CAPGATE_CACHE_MAX_BYTES to change it):",
                info.budget as f64 / 1e6
            );
            print_kinds(&info);
            return Ok(Outcome::Pass);
        }
        CacheAction::Clean => (cache.clean(), "removed"),
        CacheAction::Prune { older_than } => (cache.prune(*older_than), "pruned"),
    };
    println!("{verb} from {root}:");
    print_kinds(&contents);
    if !contents.not_removed.is_empty() {
        anyhow::bail!(
            "could not remove {} item{} (first: {})",
            contents.not_removed.len(),
            if contents.not_removed.len() == 1 {
                ""
            } else {
                "s"
            },
            contents.not_removed[0].display()
        );
    }
    Ok(Outcome::Pass)
}

fn print_kinds(contents: &CacheContents) {
    let total = contents.total();
    let rows = contents
        .by_kind
        .iter()
        .map(|(kind, info)| (kind.describe(), info))
        .chain([("total", &total)]);
    for (name, info) in rows {
        println!(
            "  {name:<18} {:>7} entries {:>9.1} MB",
            info.entries,
            info.bytes as f64 / 1e6
        );
    }
}
