//! `init`'s policy text: grants exactly today's capabilities, each with one
//! piece of evidence as a comment, sorted so diffs of it stay reviewable.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::BuildGraph;
use crate::model::PackageScan;
use crate::model::{CapabilityReport, Finding};

/// The policy text granting what `scans` found.
pub fn render_initial_policy(graph: &BuildGraph, scans: &[PackageScan]) -> String {
    let mut out = String::new();
    out.push_str(
        "# cargo-capgate policy: what each package may do.\n\
         # Written by `cargo capgate init` from what the packages do today; review\n\
         # every grant, and add a `reason` where it is not obvious. A capability\n\
         # grants its sub-capabilities (\"fs\" grants \"fs.read\" and \"fs.write\").\n\
         # Packages not listed get [defaults].\n\n\
         [defaults]\nallow = []\n",
    );

    // Entries by name; a name whose versions differ gets one per version.
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in graph.packages.iter().enumerate() {
        if !scans[i].code.findings.is_empty() || !scans[i].build_script.findings.is_empty() {
            by_name.entry(&p.name).or_default().push(i);
        }
    }
    for (name, indices) in by_name {
        let all_versions = graph.packages.iter().filter(|p| p.name == name).count();
        let same = indices.iter().all(|&i| {
            scans[i].code.capabilities() == scans[indices[0]].code.capabilities()
                && scans[i].build_script.capabilities()
                    == scans[indices[0]].build_script.capabilities()
        });
        if same && indices.len() == all_versions {
            entry(&mut out, &toml_key(name), &scans[indices[0]]);
        } else {
            for &i in &indices {
                let key = toml_key(&format!("{name}@={}", graph.packages[i].version));
                entry(&mut out, &key, &scans[i]);
            }
        }
    }
    out
}

fn entry(out: &mut String, key: &str, scan: &PackageScan) {
    let _ = write!(out, "\n[pkg.{key}]\n");
    grant_list(out, "allow", &scan.code);
    if !scan.build_script.findings.is_empty() {
        grant_list(out, "build-script.allow", &scan.build_script);
    }
}

fn grant_list(out: &mut String, key: &str, report: &CapabilityReport) {
    let caps = report.capabilities();
    if caps.is_empty() {
        let _ = writeln!(out, "{key} = []");
        return;
    }
    let _ = writeln!(out, "{key} = [");
    for cap in caps {
        let evidence = report
            .findings
            .iter()
            .find(|f| f.capability == cap)
            .map(evidence_comment)
            .unwrap_or_default();
        let _ = writeln!(out, "    \"{}\", # {evidence}", cap.name());
    }
    out.push_str("]\n");
}

fn evidence_comment(finding: &Finding) -> String {
    // Keep comments on one line whatever the evidence holds.
    let evidence: String = finding
        .evidence
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    format!("{} {evidence}", finding.location)
}

/// A TOML key: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    if key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_owned()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
