//! `init`'s policy text: grants exactly today's capabilities, each with one
//! piece of evidence as a comment, sorted so diffs of it stay reviewable.

use std::collections::BTreeMap;
use std::fmt::Write;

use toml_edit::{DocumentMut, Item, Table, TomlError};

use super::PolicyLocation;
use super::edit::{pkg_table, policy_root};
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

/// `init --force` over a policy that exists: grants exactly `fresh`'s (the
/// text [`render_initial_policy`] wrote), in the policy as it is written.
/// An entry still needed keeps its `reason`, its other keys and the
/// comments around it, with its lists replaced by today's; entries for
/// packages with nothing to grant go; `[defaults]` and every other table
/// (`[vet-bom]`, `[advisories]`) stay as they are.
pub fn reinitialize(
    existing: &str,
    location: &PolicyLocation,
    fresh: &str,
) -> Result<String, String> {
    let mut doc: DocumentMut = existing.parse().map_err(|e: TomlError| e.to_string())?;
    let today: DocumentMut = fresh.parse().map_err(|e: TomlError| e.to_string())?;
    let root = policy_root(&mut doc, location)?;
    if !root.contains_key("defaults")
        && let Some(defaults) = today.get("defaults")
    {
        root.insert("defaults", appended(defaults.clone()));
    }
    let empty = Table::new();
    let wanted = today.get("pkg").and_then(Item::as_table).unwrap_or(&empty);
    let pkg = pkg_table(root)?;
    let gone: Vec<String> = pkg
        .iter()
        .map(|(key, _)| key.to_owned())
        .filter(|key| !wanted.contains_key(key))
        .collect();
    for key in gone {
        pkg.remove(&key);
    }
    for (key, entry) in wanted.iter() {
        let Some(kept) = pkg.get_mut(key).and_then(Item::as_table_like_mut) else {
            pkg.insert(key, appended(entry.clone()));
            continue;
        };
        let lists = entry.as_table_like().expect("init writes tables");
        for list in ["allow", "build-script"] {
            match lists.get(list) {
                Some(today) => {
                    kept.insert(list, today.clone());
                }
                None => {
                    kept.remove(list);
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// A table from another document, placed after the existing ones rather
/// than where it stood in its own document.
fn appended(mut item: Item) -> Item {
    if let Item::Table(table) = &mut item {
        table.set_position(None);
    }
    item
}
