//! `cargo-capgate`: parse the command line, run one command, map its outcome
//! to an exit code (0 pass, 1 violations, 2 error).

#![deny(unsafe_code)]

use std::process::ExitCode;

/// A scan allocates and frees millions of small syntax nodes and strings;
/// glibc's allocator spent about a third of a cold scan's CPU on them
/// (measured side by side on the own graph: 28 CPU-s with glibc, 19 with
/// mimalloc). mimalloc keeps more memory: the peak is higher (README,
/// Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Pages a finished scan freed go back to the system at once, not when
    // mimalloc's purge delay passes on a thread that may not allocate
    // again: the first 250 of the most-downloaded crates peaked 450 MiB
    // without, 350 MiB with a purge on every free (which cost a sixth more
    // CPU); per scan it costs little.
    cargo_capgate::pipeline::on_scan_finished(|| {
        // SAFETY: mi_collect takes no pointers; it only walks and trims the
        // calling thread's heap and the segments mimalloc owns.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_collect(true)
        }
    });
    let cli = cargo_capgate::cli::parse();
    match cargo_capgate::cli::run(&cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(error) => {
            cargo_capgate::cli::report_error(&cli, &error);
            ExitCode::from(2)
        }
    }
}
