//! Integration tests: run the real `cargo-capgate` binary on the fixture
//! workspaces in `fixtures/` and compare its report with the expectation
//! markers written in their sources (see `util.rs`).

mod util;

mod errors;
mod graph;
mod scan;
mod schema;
