//! cargo-capgate: least privilege for every dependency.
//!
//! The library behind the `cargo-capgate` binary. The pipeline stages are
//! modules with plain data between them (see ARCHITECTURE.md):
//! [`resolve`] -> [`fetch`] -> [`scan`] -> [`evaluate`] -> [`report`],
//! composed by [`pipeline`]; [`capability`], [`rules`], [`policy`] and
//! [`diagnostic`] are the shared vocabulary.
//!
//! Nothing from a scanned crate is ever executed.

#![forbid(unsafe_code)]

pub mod advisories;
pub mod cache;
pub mod cli;
pub mod diagnostic;
pub mod digest;
pub mod evaluate;
pub mod fetch;
pub mod mcp;
pub mod model;
pub mod pipeline;
pub mod platform;
pub mod policy;
pub mod reach;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod scan;
