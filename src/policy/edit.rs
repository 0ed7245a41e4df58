//! `allow`: adds grants to a policy file in place with toml_edit, so every
//! comment and all formatting of the rest of the file are kept.

use toml_edit::{Array, DocumentMut, Item, Table, TableLike, Value};

use super::{Grants, PolicyLocation};
use crate::model::Capability;

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

/// Adds `capabilities` to `[pkg.CRATE] allow` (or `build-script.allow`)
/// of each of `packages`, in the policy where it is (a policy file, or the
/// `metadata.capgate` table of Cargo.toml), creating the file and entries
/// as needed. Returns, per package, the capabilities that were not granted
/// before.
pub fn add_grants(
    location: &PolicyLocation,
    packages: &[String],
    capabilities: &[Capability],
    build_script: bool,
    reason: Option<&str>,
) -> Result<Vec<Vec<Capability>>, AllowError> {
    let path = location.path();
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
    let root = policy_root(&mut doc, location).map_err(invalid)?;
    let mut added = Vec::new();
    let mut changed = false;
    for krate in packages {
        let change =
            add_to_document(root, krate, capabilities, build_script, reason).map_err(invalid)?;
        changed |= change.changed();
        added.push(change.added);
    }
    if changed {
        std::fs::write(path, doc.to_string()).map_err(|source| AllowError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(added)
}

/// The table a policy's keys (`defaults`, `pkg`) live in: the document's
/// root, or Cargo.toml's `[workspace.metadata.capgate]`.
pub(super) fn policy_root<'d>(
    doc: &'d mut DocumentMut,
    location: &PolicyLocation,
) -> Result<&'d mut dyn TableLike, String> {
    let PolicyLocation::CargoMetadata { section, .. } = location else {
        return Ok(doc.as_table_mut());
    };
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for key in [*section, "metadata", "capgate"] {
        table = table
            .get_mut(key)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| format!("`{section}.metadata.capgate` is not a table"))?;
    }
    Ok(table)
}

/// The policy's `pkg` table, created (as `[pkg.x]` headers only) when
/// there is none.
pub(super) fn pkg_table(root: &mut dyn TableLike) -> Result<&mut dyn TableLike, String> {
    root.entry("pkg")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_like_mut()
        .ok_or_else(|| "`pkg` is not a table".to_owned())
}

/// What [`add_to_document`] changed.
struct Change {
    added: Vec<Capability>,
    reason_changed: bool,
}

impl Change {
    fn changed(&self) -> bool {
        !self.added.is_empty() || self.reason_changed
    }
}

/// The one writer of grants: `allow` edits a policy file with it, and
/// [`ProposedGrant::toml`] renders the text it would add to an empty one,
/// so the snippet a report proposes is what `allow` writes.
fn add_to_document(
    doc: &mut dyn TableLike,
    krate: &str,
    capabilities: &[Capability],
    build_script: bool,
    reason: Option<&str>,
) -> Result<Change, String> {
    let pkg = pkg_table(doc)?;
    let entry = pkg
        .entry(krate)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .ok_or_else(|| format!("`pkg.{krate}` is not a table"))?;
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
            .ok_or_else(|| format!("`pkg.{krate}.build-script` is not a table"))?
    } else {
        entry
    };
    let array = list_owner
        .entry("allow")
        .or_insert_with(|| Item::Value(Value::Array(Array::new())))
        .as_array_mut()
        .ok_or_else(|| format!("`allow` of `{krate}` is not an array"))?;

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
    Ok(Change {
        added,
        reason_changed,
    })
}

/// The policy lines that would allow what a package does beyond its
/// grants: capabilities to add to `[pkg.NAME] allow` and
/// `build-script.allow`. Built by `evaluate`, which knows which grants
/// applied; rendered here, by the writer `allow` uses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProposedGrant {
    /// The `[pkg.NAME]` entry to add to (or create).
    pub package: String,
    /// What to add, to the package's code and to its build script.
    pub grants: Grants,
}

impl ProposedGrant {
    /// The table's path from the policy's root, `pkg.NAME` (quoted as TOML
    /// needs).
    pub fn table(&self) -> String {
        format!("pkg.{}", toml_edit::Key::new(self.package.as_str()))
    }

    /// Each key with the capabilities to add to it, `allow` first; keys
    /// with nothing to add are left out.
    pub fn lines(&self) -> Vec<(&'static str, &[Capability])> {
        [
            ("allow", self.grants.allow.as_slice()),
            ("build-script.allow", self.grants.build_script.as_slice()),
        ]
        .into_iter()
        .filter(|(_, caps)| !caps.is_empty())
        .collect()
    }

    /// The entry as `allow` would write it into a policy without one.
    pub fn toml(&self) -> String {
        let mut doc = DocumentMut::new();
        for (build_script, caps) in [
            (false, &self.grants.allow),
            (true, &self.grants.build_script),
        ] {
            if !caps.is_empty() {
                add_to_document(doc.as_table_mut(), &self.package, caps, build_script, None)
                    .expect("a fresh document has room for any entry");
            }
        }
        doc.to_string()
    }

    /// The `cargo capgate allow` command line(s) that add this grant, joined
    /// with `&&` when both scopes gain something.
    pub fn allow_command(&self) -> String {
        let commands: Vec<String> = self
            .lines()
            .into_iter()
            .map(|(key, caps)| {
                let flag = if key == "allow" {
                    ""
                } else {
                    " --build-script"
                };
                let names: Vec<&str> = caps.iter().map(|c| c.name()).collect();
                format!(
                    "cargo capgate allow {}{flag} {}",
                    self.package,
                    names.join(" ")
                )
            })
            .collect();
        commands.join(" && ")
    }

    /// This grant and `other` (for the same package) together.
    pub fn merge(&mut self, other: &ProposedGrant) {
        for (mine, theirs) in [
            (&mut self.grants.allow, &other.grants.allow),
            (&mut self.grants.build_script, &other.grants.build_script),
        ] {
            mine.extend(theirs);
            normalize(mine);
        }
    }
}

/// Sorted, unique, and without what another capability of the list covers.
pub(crate) fn normalize(caps: &mut Vec<Capability>) {
    caps.sort();
    caps.dedup();
    let all = caps.clone();
    caps.retain(|c| !all.iter().any(|o| o != c && o.covers(*c)));
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
        let file = PolicyLocation::File(path.clone());
        let added = add_grants(
            &file,
            &["mio".to_owned()],
            &[Capability::NetConnect, Capability::Unsafe],
            false,
            None,
        )
        .unwrap();
        assert_eq!(added, [vec![Capability::Unsafe]]);
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
            &file,
            &["rustix".to_owned()],
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
            &file,
            &["cc".to_owned()],
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

    #[test]
    fn grants_go_into_the_metadata_table_of_cargo_toml() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(
            &manifest,
            "[workspace]\nmembers = []\n\n# ours\n[workspace.metadata.capgate.pkg.mio]\nallow = [\"net\"]\n",
        )
        .unwrap();
        let location = PolicyLocation::CargoMetadata {
            manifest: manifest.clone(),
            section: "workspace",
        };
        let added = add_grants(
            &location,
            &["mio".to_owned(), "libc".to_owned()],
            &[Capability::Ffi],
            false,
            None,
        )
        .unwrap();
        assert_eq!(added, [vec![Capability::Ffi], vec![Capability::Ffi]]);
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            text.contains(
                "# ours\n[workspace.metadata.capgate.pkg.mio]\nallow = [\"net\", \"ffi\"]\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("[workspace.metadata.capgate.pkg.libc]\nallow = [\"ffi\"]\n"),
            "{text}"
        );
        assert!(text.starts_with("[workspace]\nmembers = []\n"), "{text}");
    }

    #[test]
    fn a_proposed_grant_renders_as_allow_writes_it() {
        let mut grant = ProposedGrant {
            package: "cap-ffi".into(),
            grants: Grants {
                allow: vec![Capability::Ffi],
                build_script: Vec::new(),
            },
        };
        assert_eq!(grant.table(), "pkg.cap-ffi");
        assert_eq!(grant.toml(), "[pkg.cap-ffi]\nallow = [\"ffi\"]\n");
        grant.merge(&ProposedGrant {
            package: "cap-ffi".into(),
            grants: Grants {
                allow: vec![Capability::Unsafe, Capability::Ffi],
                build_script: vec![Capability::EnvRead, Capability::Env],
            },
        });
        assert_eq!(
            grant.lines(),
            [
                ("allow", &[Capability::Ffi, Capability::Unsafe][..]),
                ("build-script.allow", &[Capability::Env][..]),
            ],
            "sorted, unique, nothing a broader grant covers"
        );
        assert_eq!(
            grant.toml(),
            "[pkg.cap-ffi]\nallow = [\"ffi\", \"unsafe\"]\nbuild-script.allow = [\"env\"]\n"
        );
        let odd = ProposedGrant {
            package: "not a name".into(),
            grants: Grants {
                allow: vec![Capability::Build],
                build_script: Vec::new(),
            },
        };
        assert_eq!(odd.table(), "pkg.\"not a name\"");
        assert!(
            odd.toml().starts_with("[pkg.\"not a name\"]\n"),
            "{}",
            odd.toml()
        );
    }
}
