//! SARIF 2.1.0 for code scanning, and GitHub workflow annotations.
//!
//! Code scanning shows only files of the repository, so each violation is
//! located where the repository brings the package in: a workspace member's
//! own Cargo.toml (its `name =` line), or the package's entry in Cargo.lock.
//! The evidence is in the message, and as related locations where it lies
//! inside the repository. Fingerprints hash the package name, scope and
//! capability, so a result keeps its identity across runs and versions.

use std::collections::HashMap;
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
    /// (name, version) -> the line of its `[[package]]` entry's `name`.
    lock_lines: HashMap<(String, String), usize>,
}

impl Locator {
    /// `root` is the repository's top level, when known (a revision checked
    /// out elsewhere has no `.git` to find it by).
    pub fn new(graph: &BuildGraph, root: Option<&Path>) -> Locator {
        let repo_root = root
            .map(Path::to_path_buf)
            .unwrap_or_else(|| find_repo_root(&graph.workspace_root));
        let lock_lines = std::fs::read_to_string(graph.workspace_root.join("Cargo.lock"))
            .map(|text| lock_lines(&text))
            .unwrap_or_default();
        Locator {
            repo_root,
            workspace_root: graph.workspace_root.clone(),
            lock_lines,
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
            let line = std::fs::read_to_string(&package.manifest_path)
                .ok()
                .and_then(|text| package_name_line(&text))
                .unwrap_or(1);
            return EntryPoint { uri, line };
        }
        let lock_uri = self
            .relative(&self.workspace_root.join("Cargo.lock"))
            .unwrap_or_else(|| "Cargo.lock".into());
        let line = self
            .lock_lines
            .get(&(package.name.clone(), package.version.clone()))
            .copied()
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

/// The line of `name` in a manifest's `[package]` table, from the TOML
/// parser's spans (a `name` of a `[[bin]]` above it is not the package's).
fn package_name_line(text: &str) -> Option<usize> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let (key, _) = doc.get("package")?.as_table_like()?.get_key_value("name")?;
    Some(line_at(text, key.span()?.start))
}

/// The line of each `[[package]]` entry's `name` in a Cargo.lock, by name
/// and version; the first entry wins.
fn lock_lines(text: &str) -> HashMap<(String, String), usize> {
    let mut out = HashMap::new();
    let Ok(doc) = toml_edit::Document::parse(text) else {
        return out;
    };
    let Some(packages) = doc.get("package").and_then(|p| p.as_array_of_tables()) else {
        return out;
    };
    for entry in packages.iter() {
        let field = |key: &str| entry.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        if let (Some(name), Some(version), Some((key, _))) =
            (field("name"), field("version"), entry.get_key_value("name"))
            && let Some(span) = key.span()
        {
            out.entry((name, version))
                .or_insert_with(|| line_at(text, span.start));
        }
    }
    out
}

/// The 1-based line holding byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
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
        let lines = lock_lines(text);
        assert_eq!(lines.get(&("a".into(), "2.0.0".into())), Some(&8));
        assert_eq!(lines.get(&("a".into(), "3.0.0".into())), None);
    }

    #[test]
    fn manifest_entry_is_the_package_name_not_a_target_name() {
        // A `name` written before `[package]`, and one of a target, are not
        // where the package enters; a multi-line table header is no help to
        // a line search either.
        let text = "[[bin]]\nname = \"tool\"\n\n[package]\nversion = \"0.1.0\"\nname = \"tool\"\n";
        assert_eq!(package_name_line(text), Some(6));
        assert_eq!(
            package_name_line("[package]\nname.workspace = true\n"),
            Some(2)
        );
        assert_eq!(package_name_line("not toml ["), None);
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
