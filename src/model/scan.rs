//! What scanning one package found: its findings, its build script's, and
//! what its library lets dependents reach. The unit the cache stores and
//! evaluate and report read.

use super::capability::CapabilityReport;
use super::exports::Exports;

/// What scanning one package found.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PackageScan {
    /// Findings of the package's own targets and manifest.
    pub code: CapabilityReport,
    /// Findings of its build script, which runs on the builder's machine.
    pub build_script: CapabilityReport,
    /// What the package's library lets dependents reach.
    #[serde(default)]
    pub exports: Exports,
    pub stats: ScanStats,
}

/// Counts for progress and throughput figures.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScanStats {
    pub files: usize,
    pub bytes: u64,
    /// Files syn rejected that were read as tokens, with syn's message.
    pub token_fallback_files: Vec<String>,
    /// Every source file read, absolute. Not cached: benchmarks ask a cold
    /// scan for the files to parse for the syn-parse floor.
    #[serde(skip)]
    pub paths: Vec<std::path::PathBuf>,
}
