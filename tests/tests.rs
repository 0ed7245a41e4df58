//! Integration tests: run the real `cargo-capgate` binary on the fixture
//! workspaces in `fixtures/` and compare its report with the expectation
//! markers written in their sources (see `util.rs`).

mod util;

mod attack;
mod bom;
mod cache;
mod cfg;
mod corpus;
mod deepest_accepted;
mod determinism;
mod diff;
mod errors;
mod explain;
mod fuzz_regressions;
mod graph;
mod hostile;
mod json_actions;
mod json_advisories;
mod layers;
mod mcp;
mod policy;
mod reach;
mod registry_server;
mod round_trip;
mod scan;
mod schema;
mod vet_bom;
mod vet_bom_closure;
mod vet_bom_limits;
mod vet_bom_store;
