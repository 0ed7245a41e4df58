//! `allow`: adds grants to a policy file in place with toml_edit, so every
//! comment and all formatting of the rest of the file are kept.

use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, Table, Value};

use crate::capability::Capability;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AllowError {
    #[error("cannot read {}", .path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", .path.display())]
    Invalid {
        path: std::path::PathBuf,
        message: String,
    },
}

/// Adds `capabilities` to `[pkg.CRATE] allow` (or `build-script.allow`),
/// creating the file and entry as needed. Returns the capabilities that were
/// not granted before.
pub fn add_grants(
    path: &Path,
    krate: &str,
    capabilities: &[Capability],
    build_script: bool,
) -> Result<Vec<Capability>, AllowError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "[defaults]\nallow = []\n".to_owned(),
        Err(source) => {
            return Err(AllowError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let invalid = |message: String| AllowError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| invalid(e.to_string()))?;

    let pkg = doc
        .entry("pkg")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_like_mut()
        .ok_or_else(|| invalid("`pkg` is not a table".into()))?;
    let entry = pkg
        .entry(krate)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| invalid(format!("`pkg.{krate}` is not a table")))?;
    let list_owner = if build_script {
        entry
            .entry("build-script")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_dotted(true);
                Item::Table(t)
            })
            .as_table_like_mut()
            .ok_or_else(|| invalid(format!("`pkg.{krate}.build-script` is not a table")))?
    } else {
        entry
    };
    let array = list_owner
        .entry("allow")
        .or_insert_with(|| Item::Value(Value::Array(Array::new())))
        .as_array_mut()
        .ok_or_else(|| invalid(format!("`allow` of `{krate}` is not an array")))?;

    let present: Vec<String> = array
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let mut added = Vec::new();
    for cap in capabilities {
        let covered = present
            .iter()
            .filter_map(|p| p.parse::<Capability>().ok())
            .any(|p| p.covers(*cap));
        if !covered && !added.contains(cap) {
            array.push(cap.name());
            added.push(*cap);
        }
    }
    if !added.is_empty() {
        std::fs::write(path, doc.to_string()).map_err(|source| AllowError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_comments_and_adds_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capgate.toml");
        std::fs::write(
            &path,
            "# top\n[defaults]\nallow = [] # none\n\n[pkg.mio]\nallow = [\"net\"] # sockets\n",
        )
        .unwrap();
        let added = add_grants(
            &path,
            "mio",
            &[Capability::NetConnect, Capability::Unsafe],
            false,
        )
        .unwrap();
        assert_eq!(added, [Capability::Unsafe]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# top\n[defaults]\nallow = [] # none\n"),
            "{text}"
        );
        assert!(
            text.contains("allow = [\"net\", \"unsafe\"] # sockets"),
            "{text}"
        );
        add_grants(&path, "cc", &[Capability::ProcessSpawn], true).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("[pkg.cc]\nbuild-script.allow = [\"process.spawn\"]"),
            "{text}"
        );
    }
}
