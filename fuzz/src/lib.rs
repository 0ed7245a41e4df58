//! Fuzz targets for cargo-capgate: the harnesses (shared with the main
//! crate's regression tests) and the token-tree generator.

pub mod harness;
pub mod tokens;
