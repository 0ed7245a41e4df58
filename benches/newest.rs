//! Newest published version of each crate named in a list, for
//! `benches/popular.py`.
//!
//! Reads crate names (the first tab-separated field of each line; `#` lines
//! and blank lines skipped) from the file given as the argument, asks the
//! registry that cargo's configuration names (the same `Registry` that
//! `vet-bom` uses, so no registry address is written here), and prints one
//! line per name, in input order:
//! `NAME<TAB>VERSION<TAB>SHA256` for the newest version that is neither
//! yanked nor a pre-release, or `NAME<TAB>-<TAB>REASON` when there is none.
//! By hand: `cargo bench --bench newest -- NAMES_FILE`.

use cargo_capgate::fetch::registry::{Registry, RegistryOptions};
use rayon::prelude::*;

/// Index requests at once: enough to hide latency, few enough to be polite
/// (the same as vet-bom's downloads).
const PARALLEL_REQUESTS: usize = 8;

fn main() {
    let Some(list) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("newest: no file of crate names given; nothing to do");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&list)
        .unwrap_or_else(|e| panic!("newest: cannot read {list}: {e}"));
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").trim())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    let cargo_version = cargo_capgate::resolve::cargo_version()
        .unwrap_or_else(|e| panic!("newest: cannot ask cargo its version: {e}"));
    let registry = Registry::open(&RegistryOptions {
        cargo_version,
        ..RegistryOptions::default()
    })
    .unwrap_or_else(|e| panic!("newest: cannot open cargo's default registry: {e}"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(PARALLEL_REQUESTS)
        .build()
        .expect("thread pool");
    let lines: Vec<String> = pool.install(|| {
        names
            .par_iter()
            .map(|name| match registry.versions(name) {
                Ok(Some(versions)) => match versions
                    .iter()
                    .filter(|v| !v.yanked && v.version.pre.is_empty())
                    .max_by(|a, b| a.version.cmp(&b.version))
                {
                    Some(v) => format!("{name}\t{}\t{}", v.version, v.checksum),
                    None => {
                        format!("{name}\t-\tno version that is neither yanked nor a pre-release")
                    }
                },
                Ok(None) => format!("{name}\t-\tnot in the registry"),
                Err(e) => format!("{name}\t-\t{}", e.to_string().replace(['\t', '\n'], " ")),
            })
            .collect()
    });
    for line in lines {
        println!("{line}");
    }
}
