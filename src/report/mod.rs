//! Report: renders results for people and programs. Only this stage knows
//! about colour, terminal width and serialisation; every format renders the
//! same findings produced once by `scan`.

pub mod bom;
pub mod components;
pub mod diagnostics;
pub mod explain;
pub mod human;
pub mod json;
pub mod markdown;
pub mod purl;
pub mod sarif;
pub mod text;

pub use purl::package_purl;

use crate::advisories::AdvisoryMatch;
use crate::model::PackageScan;
use crate::model::{BuildGraph, Package};

/// One package with what was found in it.
pub struct PackageResult<'a> {
    pub package: &'a Package,
    pub scan: &'a PackageScan,
    /// `None` when advisories were not checked.
    pub advisories: Option<&'a [AdvisoryMatch]>,
}

/// Everything a scan report shows.
pub struct ScanResults<'a> {
    pub graph: &'a BuildGraph,
    pub packages: Vec<PackageResult<'a>>,
}

impl<'a> ScanResults<'a> {
    pub fn new(graph: &'a BuildGraph, scans: &'a [PackageScan]) -> Self {
        ScanResults {
            graph,
            packages: graph
                .packages
                .iter()
                .zip(scans)
                .map(|(package, scan)| PackageResult {
                    package,
                    scan,
                    advisories: None,
                })
                .collect(),
        }
    }

    /// Attaches the advisories of each package, when they were checked.
    pub fn with_advisories(mut self, advisories: Option<&'a [Vec<AdvisoryMatch>]>) -> Self {
        if let Some(advisories) = advisories {
            for (result, matches) in self.packages.iter_mut().zip(advisories) {
                result.advisories = Some(matches);
            }
        }
        self
    }
}

/// A finding's evidence and rule, with the chain it was reached through:
/// `reqwest::get [std-net-connect] via reqwest::get -> … -> TcpStream::connect`.
pub fn evidence_label(f: &crate::model::Finding) -> String {
    let mut label = format!("{} [{}]", f.evidence, f.rule);
    if !f.via.is_empty() {
        label.push_str(" via ");
        label.push_str(&f.via.join(" -> "));
    }
    if f.resolution == Some(crate::model::Resolution::ByName) {
        label.push_str(BY_NAME_MARK);
    }
    label
}

/// How a finding matched by a method's name only is marked where it is
/// shown (`scan -v`, `check`, SARIF).
pub const BY_NAME_MARK: &str = " (by method name)";

/// What [`BY_NAME_MARK`] means, as a note beside findings that carry it.
pub const BY_NAME_NOTE: &str = "matched by method name: the receiver's type is not written, so the call may be another type's method of that name";
