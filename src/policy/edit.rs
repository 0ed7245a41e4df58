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
    reason: Option<&str>,
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
    let reason_changed = match reason {
        Some(reason) if entry.get("reason").and_then(|r| r.as_str()) != Some(reason) => {
            entry.insert("reason", toml_edit::value(reason));
            true
        }
        _ => false,
    };
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
            added.push(*cap);
        }
    }
    push_grants(array, &added);
    if !added.is_empty() || reason_changed {
        std::fs::write(path, doc.to_string()).map_err(|source| AllowError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(added)
}

/// Appends to an array in its own layout: inline arrays stay inline; in a
/// one-per-line array each new grant gets its own line, after the comment
/// that followed the last element (which toml_edit keeps as the array's
/// trailing text).
fn push_grants(array: &mut Array, caps: &[Capability]) {
    let multiline = array.iter().any(|v| {
        v.decor()
            .prefix()
            .and_then(|p| p.as_str())
            .is_some_and(|p| p.contains('\n'))
    });
    if !multiline {
        for cap in caps {
            array.push(cap.name());
        }
        return;
    }
    let indent = array
        .iter()
        .last()
        .and_then(|v| v.decor().prefix().and_then(|p| p.as_str()))
        .and_then(|p| p.rsplit('\n').next())
        .unwrap_or("    ")
        .to_owned();
    let mut before = array.trailing().as_str().unwrap_or("").to_owned();
    if !before.ends_with('\n') {
        before.push('\n');
    }
    for cap in caps {
        let mut value = Value::from(cap.name());
        value.decor_mut().set_prefix(format!("{before}{indent}"));
        array.push_formatted(value);
        before = "\n".to_owned();
    }
    array.set_trailing("\n");
    array.set_trailing_comma(true);
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
            None,
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
        std::fs::write(
            &path,
            "[pkg.rustix]\nallow = [\n    \"ffi\", # extern block\n    \"unsafe\", # unsafe fn\n]\n",
        )
        .unwrap();
        add_grants(
            &path,
            "rustix",
            &[Capability::FsRead, Capability::FsWrite],
            false,
            None,
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[pkg.rustix]\nallow = [\n    \"ffi\", # extern block\n    \"unsafe\", # unsafe fn\n    \"fs.read\",\n    \"fs.write\",\n]\n"
        );
        add_grants(
            &path,
            "cc",
            &[Capability::ProcessSpawn],
            true,
            Some("runs the C compiler"),
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(
                "[pkg.cc]\nreason = \"runs the C compiler\"\nbuild-script.allow = [\"process.spawn\"]"
            ),
            "{text}"
        );
    }
}
