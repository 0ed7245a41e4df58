//! Reading a bill of materials someone else wrote: the request `vet-bom`
//! vets.
//!
//! Reads CycloneDX JSON, spec versions 1.4 to 1.6 (1.7 too: the fields read
//! here did not change), into plain [`BomRequest`] data: every component,
//! nested ones included, with its purl taken apart, and the `dependencies`
//! section when there is one. Nothing is fetched here.
//!
//! The document is walked as a JSON value rather than deserialised into
//! typed structs so that every error can name the component it is about
//! (`components[3] "serde" (bom-ref "pkg-3")`), which is what a person or
//! agent needs to fix the file; only syntax errors fall back to a line and
//! column.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

mod component;
mod properties;

use component::read_component;
use properties::read_target;

/// A component's enabled features, comma-separated (what `bom` writes).
pub const FEATURES_PROPERTY: &str = "capgate:features";
/// The BoM's target platform (metadata), as cargo-cyclonedx names it.
pub const TARGET_TRIPLE_PROPERTY: &str = "cdx:rustc:sbom:target:triple";
/// Every platform's code, as cargo-cyclonedx names it.
pub const ALL_TARGETS_PROPERTY: &str = "cdx:rustc:sbom:target:all_targets";

/// The spec versions whose JSON this reader understands.
const SPEC_VERSIONS: &[&str] = &["1.4", "1.5", "1.6", "1.7"];

/// What a bill of materials asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BomRequest {
    pub spec_version: String,
    pub components: Vec<RequestedComponent>,
    /// `bom-ref` to the `bom-ref`s it depends on, when the BoM has a
    /// `dependencies` section.
    pub dependencies: Option<BTreeMap<String, Vec<String>>>,
    /// The platform the BoM was made for, when its metadata says.
    pub target: Option<BomTarget>,
}

/// The platform a BoM records, in cargo-cyclonedx's metadata properties.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BomTarget {
    /// `cdx:rustc:sbom:target:triple`.
    Triple(String),
    /// `cdx:rustc:sbom:target:all_targets`: every platform's code.
    AllTargets,
}

/// One component of the BoM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedComponent {
    pub bom_ref: Option<String>,
    /// The component's `name` field (for a crate, the purl's name wins).
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub kind: ComponentKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentKind {
    /// `pkg:cargo/NAME@VERSION`.
    Crate(RequestedCrate),
    /// A purl of another ecosystem (`npm`, `pypi`, ...), or no purl at all.
    Other { ecosystem: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedCrate {
    pub name: String,
    pub version: semver::Version,
    /// Where the purl says the crate comes from.
    pub source: CrateSource,
    /// SHA-256 of the `.crate` from the component's `hashes`, lower-case hex.
    pub sha256: Option<String>,
    /// The features the BoM says the crate is built with (the
    /// `capgate:features` property), when it says.
    pub features: Option<Vec<String>>,
}

/// Where a crate comes from, by its purl's qualifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrateSource {
    /// No qualifier: the default registry; `repository_url`: another one.
    Registry { repository_url: Option<String> },
    /// `download_url=file://PATH`: a workspace member or path dependency,
    /// at PATH relative to the workspace root (cargo-cyclonedx's form).
    Local { path: String },
    /// `vcs_url`: a git dependency.
    Git { vcs_url: String },
    /// A qualifier vet-bom does not know how to honour: vetting the
    /// registry's crate of that name would vet something else.
    Unsupported { why: String },
}

impl RequestedComponent {
    /// How messages name this component: `"serde" (bom-ref "x")`.
    pub fn display_name(&self) -> String {
        let mut s = format!("\"{}\"", self.name);
        if let Some(version) = &self.version {
            s = format!("\"{}@{version}\"", self.name);
        }
        if let Some(bom_ref) = &self.bom_ref {
            s.push_str(&format!(" (bom-ref \"{bom_ref}\")"));
        }
        s
    }
}

/// Why a BoM could not be read. Every variant names the file and, where it
/// can, the component.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BomReadError {
    #[error("could not read the bill of materials {file}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: not valid JSON: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Document { file: String, message: String },
    #[error("{file}: {at} {component}: {message}")]
    Component {
        file: String,
        /// JSON pointer-like position, `components[3]`.
        at: String,
        component: String,
        message: String,
    },
}

/// Reads `path`, or standard input for `-`.
pub fn read(path: &Path) -> Result<BomRequest, BomReadError> {
    let (file, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|source| {
            BomReadError::Io {
                file: "<stdin>".into(),
                source,
            }
        })?;
        ("<stdin>".to_owned(), text)
    } else {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BomReadError::Io {
            file: file.clone(),
            source,
        })?;
        (file, text)
    };
    parse(&file, &text)
}

/// Parses the text of a CycloneDX JSON document; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<BomRequest, BomReadError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| BomReadError::Syntax {
        file: file.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let document_error = |message: String| BomReadError::Document {
        file: file.to_owned(),
        message,
    };
    let Some(doc) = doc.as_object() else {
        return Err(document_error(
            "the top level is not a JSON object; expected a CycloneDX document".into(),
        ));
    };
    match doc.get("bomFormat").and_then(Value::as_str) {
        Some("CycloneDX") => {}
        Some(other) => {
            return Err(document_error(format!(
                "`bomFormat` is \"{other}\"; only CycloneDX JSON is read"
            )));
        }
        None => {
            return Err(document_error(
                "no `bomFormat: \"CycloneDX\"`; is this a CycloneDX JSON document?".into(),
            ));
        }
    }
    let spec_version = match doc.get("specVersion").and_then(Value::as_str) {
        Some(v) if SPEC_VERSIONS.contains(&v) => v.to_owned(),
        Some(v) => {
            return Err(document_error(format!(
                "`specVersion` \"{v}\" is not supported; use one of {}",
                SPEC_VERSIONS.join(", ")
            )));
        }
        None => return Err(document_error("`specVersion` is missing".into())),
    };

    let mut components = Vec::new();
    let metadata = doc.get("metadata");
    // The BoM's subject is vetted too when it is a crate: a local one (the
    // workspace being built, as `bom` and cargo-cyclonedx write it) or a
    // published one (what `cargo install` builds); any other subject
    // describes the document, not a dependency. Components nested in it
    // are components like any other.
    if let Some(subject) = metadata.and_then(|m| m.get("component")) {
        let mut found = Vec::new();
        collect_components(
            file,
            "metadata.component",
            std::slice::from_ref(subject),
            &mut found,
        )?;
        components.extend(
            found
                .into_iter()
                .enumerate()
                .filter(|(i, c)| *i > 0 || matches!(c.kind, ComponentKind::Crate(_)))
                .map(|(_, c)| c),
        );
    }
    let target = read_target(metadata.and_then(|m| m.get("properties"))).map_err(document_error)?;
    match doc.get("components") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            collect_components(file, "components", list, &mut components)?;
        }
        Some(other) => {
            return Err(document_error(format!(
                "`components` must be an array, not {}",
                type_name(other)
            )));
        }
    }

    let dependencies = match doc.get("dependencies") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(read_dependencies(list).map_err(document_error)?),
        Some(other) => {
            return Err(document_error(format!(
                "`dependencies` must be an array, not {}",
                type_name(other)
            )));
        }
    };
    if let Some(deps) = &dependencies {
        let known: std::collections::BTreeSet<&str> = components
            .iter()
            .filter_map(|c| c.bom_ref.as_deref())
            .chain(
                doc.get("metadata")
                    .and_then(|m| m.get("component"))
                    .and_then(|c| c.get("bom-ref"))
                    .and_then(Value::as_str),
            )
            .collect();
        for (from, to) in deps {
            for name in std::iter::once(from).chain(to) {
                if !known.contains(name.as_str()) {
                    return Err(document_error(format!(
                        "`dependencies` names bom-ref \"{name}\", which no component has"
                    )));
                }
            }
        }
    }
    Ok(BomRequest {
        spec_version,
        components,
        dependencies,
        target,
    })
}

fn collect_components(
    file: &str,
    at: &str,
    list: &[Value],
    out: &mut Vec<RequestedComponent>,
) -> Result<(), BomReadError> {
    for (i, value) in list.iter().enumerate() {
        let at = format!("{at}[{i}]");
        let component =
            read_component(value).map_err(|(component, message)| BomReadError::Component {
                file: file.to_owned(),
                at: at.clone(),
                component,
                message,
            })?;
        out.push(component);
        match value.get("components") {
            None | Some(Value::Null) => {}
            Some(Value::Array(nested)) => {
                collect_components(file, &format!("{at}.components"), nested, out)?
            }
            Some(other) => {
                return Err(BomReadError::Component {
                    file: file.to_owned(),
                    at,
                    component: out.last().map(|c| c.display_name()).unwrap_or_default(),
                    message: format!(
                        "nested `components` must be an array, not {}",
                        type_name(other)
                    ),
                });
            }
        }
    }
    Ok(())
}

fn read_dependencies(list: &[Value]) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    for (i, entry) in list.iter().enumerate() {
        let Some(from) = entry.get("ref").and_then(Value::as_str) else {
            return Err(format!("dependencies[{i}] needs a string `ref`"));
        };
        let depends_on = match entry.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(refs)) => refs
                .iter()
                .map(|r| {
                    r.as_str().map(str::to_owned).ok_or_else(|| {
                        format!("dependencies[{i}] (ref \"{from}\"): `dependsOn` must hold strings")
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(format!(
                    "dependencies[{i}] (ref \"{from}\"): `dependsOn` must be an array"
                ));
            }
        };
        out.insert(from.to_owned(), depends_on);
    }
    Ok(out)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bom(components: &str) -> String {
        format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":{components}}}"#)
    }

    #[test]
    fn reads_crates_and_other_ecosystems() {
        let text = bom(
            r#"[{"type":"library","name":"serde","version":"1.0.0","purl":"pkg:cargo/serde@1.0.0","bom-ref":"a",
                 "hashes":[{"alg":"SHA-256","content":"AB00000000000000000000000000000000000000000000000000000000000000"}],
                 "components":[{"type":"library","name":"left-pad","purl":"pkg:npm/left-pad@1.3.0"}]}]"#,
        );
        let request = parse("bom.json", &text).unwrap();
        assert_eq!(request.components.len(), 2);
        let ComponentKind::Crate(c) = &request.components[0].kind else {
            panic!("a crate")
        };
        assert_eq!(c.name, "serde");
        assert_eq!(c.sha256.as_deref().unwrap()[..2], *"ab");
        assert_eq!(
            request.components[1].kind,
            ComponentKind::Other {
                ecosystem: Some("npm".into())
            }
        );
    }

    #[test]
    fn errors_name_the_component() {
        let err = parse(
            "bom.json",
            &bom(r#"[{"name":"serde","purl":"pkg:cargo/serde","bom-ref":"r1"}]"#),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("components[0]") && err.contains("serde") && err.contains("r1"));
        assert!(err.contains("no version"), "{err}");

        let err = parse("bom.json", &bom(r#"[{"name":"x","version":5}]"#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`version` must be a string"), "{err}");

        let err = parse("bom.json", "{\n  \"bomFormat\": ")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("bom.json:2:"), "{err}");

        let err = parse("bom.json", &bom(r#""x""#)).unwrap_err().to_string();
        assert!(err.contains("`components` must be an array"), "{err}");
    }
}
