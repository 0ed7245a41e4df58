//! SARIF 2.1.0 for code scanning, and GitHub workflow annotations.
//!
//! Code scanning shows only files of the repository, so each violation is
//! located where the repository brings the package in: a workspace member's
//! own Cargo.toml (its `name =` line), or the package's entry in Cargo.lock.
//! The evidence is in the message, and as related locations where it lies
//! inside the repository. Fingerprints hash the package name, scope and
//! capability, so a result keeps its identity across runs and versions.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::evaluate::{AdvisoryViolation, Violation};
use crate::model::{BuildGraph, Package, SourceKind};
use crate::model::{Capability, Finding};

/// Most related locations one result carries (GitHub accepts up to 1,000;
/// more than a few helps nobody).
const MAX_RELATED: usize = 10;

/// Where a package enters the repository: a repository-relative path and a
/// 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryPoint {
    pub uri: String,
    pub line: usize,
}

/// Finds entry points for packages of one graph.
pub struct Locator {
    repo_root: PathBuf,
    workspace_root: PathBuf,
    lockfile: Option<String>,
}

impl Locator {
    /// `root` is the repository's top level, when known (a revision checked
    /// out elsewhere has no `.git` to find it by).
    pub fn new(graph: &BuildGraph, root: Option<&Path>) -> Locator {
        let repo_root = root
            .map(Path::to_path_buf)
            .unwrap_or_else(|| find_repo_root(&graph.workspace_root));
        let lockfile = std::fs::read_to_string(graph.workspace_root.join("Cargo.lock")).ok();
        Locator {
            repo_root,
            workspace_root: graph.workspace_root.clone(),
            lockfile,
        }
    }

    fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.repo_root).ok()?;
        Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    pub fn entry_point(&self, package: &Package) -> EntryPoint {
        if package.source == SourceKind::Workspace
            && let Some(uri) = self.relative(&package.manifest_path)
        {
            let text = std::fs::read_to_string(&package.manifest_path).unwrap_or_default();
            let line = text
                .lines()
                .position(|l| {
                    let l = l.trim_start();
                    l.starts_with("name") && l.contains(&format!("\"{}\"", package.name))
                })
                .map(|i| i + 1)
                .unwrap_or(1);
            return EntryPoint { uri, line };
        }
        let lock_uri = self
            .relative(&self.workspace_root.join("Cargo.lock"))
            .unwrap_or_else(|| "Cargo.lock".into());
        let line = self
            .lockfile
            .as_deref()
            .and_then(|text| lock_line(text, &package.name, &package.version))
            .unwrap_or(1);
        EntryPoint {
            uri: lock_uri,
            line,
        }
    }

    /// A finding's place as a repository-relative path, when it is inside
    /// the repository.
    fn finding_uri(&self, package: &Package, finding: &Finding) -> Option<(String, u32)> {
        let file = finding.location.file.as_ref()?;
        let uri = self.relative(&package.root.join(file))?;
        Some((uri, finding.location.line.unwrap_or(1)))
    }
}

/// The line `name = "NAME"` of the `[[package]]` entry with this version.
fn lock_line(text: &str, name: &str, version: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let name_line = format!("name = \"{name}\"");
    let version_line = format!("version = \"{version}\"");
    lines.iter().enumerate().find_map(|(i, l)| {
        (l.trim() == name_line && lines.get(i + 1).is_some_and(|v| v.trim() == version_line))
            .then_some(i + 1)
    })
}

fn find_repo_root(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(start)
        .to_path_buf()
}

fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    crate::digest::hex(&hasher.finalize())
}

/// The message of a capability violation, with its first evidence.
pub fn violation_message(package: &Package, v: &Violation) -> String {
    let mut message = crate::evaluate::violation_headline(package, v);
    // A message stands alone here, so it starts with a capital.
    if let Some(rest) = message.strip_prefix("the build script") {
        message = format!("The build script{rest}");
    }
    if let Some(first) = v.findings.first() {
        message.push_str(&format!(": {} at {}", first.evidence, first.location));
        if !first.via.is_empty() {
            message.push_str(&format!(" (via {})", first.via.join(" -> ")));
        }
        if v.findings.len() > 1 {
            message.push_str(&format!(" and {} more place(s)", v.findings.len() - 1));
        }
    }
    if let Some(reason) = &v.reason {
        message.push_str(&format!(" (policy reason: {reason})"));
    }
    message
}

/// A SARIF log of violations (all of `check`'s, or `diff`'s new ones).
pub fn sarif(
    graph: &BuildGraph,
    repo_root: Option<&Path>,
    violations: &[&Violation],
    advisories: &[&AdvisoryViolation],
) -> Value {
    let locator = Locator::new(graph, repo_root);
    let mut rules: Vec<Value> = Capability::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.name(),
                "name": c.name(),
                "shortDescription": {"text": format!("uses `{}`", c.name())},
                "fullDescription": {"text": c.meaning()},
                "help": {
                    "text": format!(
                        "{}\n\nA package may use `{}` only when the policy (capgate.toml) grants it. If this use is intended, grant it with `cargo capgate allow PACKAGE {}` (or `--build-script` for a build script), ideally with a `reason`; otherwise remove or replace the dependency.",
                        c.meaning(), c.name(), c.name()
                    )
                },
                "defaultConfiguration": {"level": "error"},
            })
        })
        .collect();
    rules.push(json!({
        "id": "advisory",
        "name": "advisory",
        "shortDescription": {"text": "affected by a RustSec advisory"},
        "fullDescription": {"text": "The package's version is affected by a vulnerability, unsound-code or unmaintained advisory of the RustSec database."},
        "help": {"text": "Upgrade to a patched version, replace the package, or accept the advisory with `[advisories] ignore = [\"RUSTSEC-…\"]` in capgate.toml, with a reason."},
        "defaultConfiguration": {"level": "error"},
    }));

    let mut results = Vec::new();
    for v in violations {
        let package = &graph.packages[v.package];
        let entry = locator.entry_point(package);
        let related: Vec<Value> = v
            .findings
            .iter()
            .filter_map(|f| locator.finding_uri(package, f).map(|u| (u, f)))
            .take(MAX_RELATED)
            .enumerate()
            .map(|(i, ((uri, line), f))| {
                json!({
                    "id": i,
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": line, "startColumn": f.location.column.unwrap_or(1)}
                    },
                    "message": {"text": super::evidence_label(f)}
                })
            })
            .collect();
        let mut result = json!({
            "ruleId": v.capability.name(),
            "level": "error",
            "message": {"text": violation_message(package, v)},
            "locations": [location(&entry)],
            "partialFingerprints": {
                "capgate/v1": fingerprint(&[&package.name, v.scope.as_str(), v.capability.name()])
            },
        });
        if !related.is_empty() {
            result["relatedLocations"] = Value::Array(related);
        }
        results.push(result);
    }
    for v in advisories {
        let package = &graph.packages[v.package];
        let entry = locator.entry_point(package);
        results.push(json!({
            "ruleId": "advisory",
            "level": "error",
            "message": {"text": crate::evaluate::advisory_headline(package, v)},
            "locations": [location(&entry)],
            "partialFingerprints": {
                "capgate/v1": fingerprint(&[&package.name, &v.advisory.id])
            },
        }));
    }

    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cargo-capgate",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://docs.rs/cargo-capgate",
                "rules": rules,
            }},
            "results": results,
        }]
    })
}

fn location(entry: &EntryPoint) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": entry.uri},
            "region": {"startLine": entry.line}
        }
    })
}

/// GitHub workflow-command annotations, one line per violation.
pub fn github_annotations(
    graph: &BuildGraph,
    violations: &[&Violation],
    advisories: &[&AdvisoryViolation],
) -> String {
    let locator = Locator::new(graph, None);
    let mut out = String::new();
    let mut line = |entry: EntryPoint, title: String, message: String| {
        out.push_str(&format!(
            "::error file={},line={},title={}::{}\n",
            escape_property(&entry.uri),
            entry.line,
            escape_property(&title),
            escape_data(&message)
        ));
    };
    for v in violations {
        let package = &graph.packages[v.package];
        line(
            locator.entry_point(package),
            format!("capgate: {} not granted", v.capability),
            violation_message(package, v),
        );
    }
    for v in advisories {
        let package = &graph.packages[v.package];
        line(
            locator.entry_point(package),
            format!("capgate: {}", v.advisory.id),
            crate::evaluate::advisory_headline(package, v),
        );
    }
    out
}

/// Escaping of workflow-command data, as the runner defines it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockfile_entry_line() {
        let text = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"a\"\nversion = \"2.0.0\"\n";
        assert_eq!(lock_line(text, "a", "2.0.0"), Some(8));
        assert_eq!(lock_line(text, "a", "3.0.0"), None);
    }

    #[test]
    fn annotation_escaping() {
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(escape_data("x\ny"), "x%0Ay");
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        assert_eq!(
            fingerprint(&["a", "code", "fs"]),
            fingerprint(&["a", "code", "fs"])
        );
        assert_ne!(
            fingerprint(&["a", "code", "fs"]),
            fingerprint(&["a", "codefs"])
        );
    }
}
