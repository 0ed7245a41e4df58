//! The shared vocabulary: packages, capabilities and findings, and what a
//! crate's items reach. Every stage speaks in these types and none owns
//! them, so a stage never imports another to name a package or a finding.
//! Policy and verdict types live with the stages that give them meaning
//! (`policy`, `evaluate`), which only later stages read.

pub mod capability;
pub mod exports;
pub mod package;
pub mod scan;

pub use capability::{
    Capability, CapabilityReport, Finding, Location, Resolution, UnknownCapability,
};
pub use exports::{Exports, Witness};
pub use package::{
    BuildGraph, Dependency, Edition, Package, PackageKind, SourceKind, Target, TargetRole,
};
pub use scan::{PackageScan, ScanStats};
