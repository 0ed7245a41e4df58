//! `cargo capgate cache info|clean`: the scan cache's size, or emptying it.

use clap::{Args, Subcommand};

use super::{CommonArgs, Outcome};
use crate::cache::ScanCache;

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Where the cache is, how many entries it holds and their size.
    Info,
    /// Remove every entry.
    Clean,
}

pub fn run(_common: &CommonArgs, args: &CacheArgs) -> anyhow::Result<Outcome> {
    let Some(dir) = ScanCache::default_dir() else {
        anyhow::bail!("this platform has no cache directory; set CAPGATE_CACHE_DIR");
    };
    let cache = ScanCache::at(dir);
    match args.action {
        CacheAction::Info => {
            let info = cache.info();
            println!(
                "{}: {} entries, {:.1} MB",
                cache.root().display(),
                info.entries,
                info.bytes as f64 / 1e6
            );
        }
        CacheAction::Clean => {
            let removed = cache.clean()?;
            println!(
                "removed {} entries ({:.1} MB) from {}",
                removed.entries,
                removed.bytes as f64 / 1e6,
                cache.root().display()
            );
        }
    }
    Ok(Outcome::Pass)
}
