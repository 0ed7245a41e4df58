//! Integration tests, one binary: the fixture workspaces in `fixtures/`,
//! scanned in-process through the library where what is tested is a
//! pipeline stage (`util::Scan`: scan, cfg, reach, graph, the corpus), or
//! with the real `cargo-capgate` binary where the command line is the point
//! (exit codes, messages, arguments, formats, the cache); reports are
//! compared with the expectation markers written in the fixtures' sources
//! (see `util.rs`), and the outputs people and programs read are insta
//! snapshots (`snapshot.rs`, `snapshots/`).

/// The binary's allocator (src/main.rs), so that in-process scans run as
/// the binary's do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod util;

mod action;
mod attack;
mod bom;
mod cache;
mod cfg;
mod corpus;
mod deepest_accepted;
mod determinism;
mod diff;
mod emits;
mod errors;
mod explain;
mod fuzz_regressions;
mod graph;
mod hostile;
mod human;
mod json_actions;
mod json_advisories;
mod layers;
mod mcp;
mod options;
mod policy;
mod reach;
mod registry_server;
mod round_trip;
mod scan;
mod schema;
mod snapshot;
mod vet_bom;
mod vet_bom_closure;
mod vet_bom_limits;
mod vet_bom_store;
mod vet_bom_unpack;
