//! `cargo-capgate`: parse the command line, run one command, map its outcome
//! to an exit code (0 pass, 1 violations, 2 error).

#![forbid(unsafe_code)]

use std::process::ExitCode;

/// A scan allocates and frees millions of small syntax nodes and strings;
/// glibc's allocator spent about a third of a cold scan's CPU on them
/// (measured side by side on the own graph: 28 CPU-s with glibc, 19 with
/// mimalloc). mimalloc keeps more memory: the peak is higher (README,
/// Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cargo_capgate::cli::parse();
    match cargo_capgate::cli::run(&cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(error) => {
            cargo_capgate::cli::report_error(&cli, &error);
            ExitCode::from(2)
        }
    }
}
