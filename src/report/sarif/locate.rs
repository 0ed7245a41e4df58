//! Where a package enters the repository, for code scanning, which shows
//! only the repository's files: a workspace member at its own Cargo.toml's
//! `name =` line, any other package at its entry in Cargo.lock.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::model::{BuildGraph, Finding, Package, SourceKind};

/// Where a package enters the repository: a repository-relative path and a
/// 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct EntryPoint {
    pub uri: String,
    pub line: usize,
}

/// Finds entry points for packages of one graph.
pub(super) struct Locator {
    repo_root: PathBuf,
    workspace_root: PathBuf,
    /// (name, version) -> the line of its `[[package]]` entry's `name`.
    lock_lines: HashMap<(String, String), usize>,
}

impl Locator {
    /// `root` is the repository's top level, when known (a revision checked
    /// out elsewhere has no `.git` to find it by).
    pub(super) fn new(graph: &BuildGraph, root: Option<&Path>) -> Locator {
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

    pub(super) fn entry_point(&self, package: &Package) -> EntryPoint {
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
    pub(super) fn finding_uri(
        &self,
        package: &Package,
        finding: &Finding,
    ) -> Option<(String, u32)> {
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
}
