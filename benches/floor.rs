//! The syn-parse floor: how fast can the files a scan read be parsed at all?
//!
//! Reads a list of source files (one absolute path per line, as written by
//! `CAPGATE_SCANNED_FILES`), then reads and parses every file with
//! `syn::parse_file` in parallel on all cores (rayon), and prints one JSON
//! line: files, bytes, parse errors, seconds. No facts are collected and
//! nothing is resolved or matched; a scan cannot be faster than this.
//!
//! Run by `benches/run.py` as a subprocess so its peak memory is measured on
//! its own; by hand:
//! `cargo bench --bench floor -- FILE_LIST` (or `CAPGATE_FLOOR_LIST=FILE_LIST`).
//! Like the scanner, each thread releases proc-macro2's span table after
//! every file and has a large stack for deeply nested files.

use std::time::Instant;

use rayon::prelude::*;

fn main() {
    let list = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .or_else(|| std::env::var("CAPGATE_FLOOR_LIST").ok());
    let Some(list) = list else {
        eprintln!(
            "floor: no file list given (pass a path, or set CAPGATE_FLOOR_LIST); nothing to do"
        );
        return;
    };
    let text = std::fs::read_to_string(&list)
        .unwrap_or_else(|e| panic!("floor: cannot read file list {list}: {e}"));
    let files: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if files.is_empty() {
        eprintln!("floor: file list {list} is empty");
        std::process::exit(2);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(256 << 20)
        .build()
        .expect("thread pool");
    let start = Instant::now();
    let (bytes, errors, unreadable) = pool.install(|| {
        files
            .par_iter()
            .map(|path| {
                let Ok(source) = std::fs::read_to_string(path) else {
                    return (0u64, 0usize, 1usize);
                };
                let len = source.len() as u64;
                let ok = syn::parse_file(&source).is_ok();
                proc_macro2::extra::invalidate_current_thread_spans();
                (len, usize::from(!ok), 0)
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"files\":{},\"bytes\":{bytes},\"parse_errors\":{errors},\"unreadable\":{unreadable},\"threads\":{},\"seconds\":{seconds:.4}}}",
        files.len(),
        pool.current_num_threads()
    );
}
