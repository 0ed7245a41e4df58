//! `cargo-capgate`: parse the command line, run one command, map its outcome
//! to an exit code (0 pass, 1 violations, 2 error).

#![forbid(unsafe_code)]

use std::process::ExitCode;

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
