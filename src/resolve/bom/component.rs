//! One component of a BoM read into what vet-bom vets: its fields, its
//! purl taken apart, its SHA-256. Every error comes back with how to name
//! the component, so that the person or agent who wrote the BoM can find
//! it; and a purl's source is taken as it says, so that a crate from
//! elsewhere is never vetted as the registry's crate of that name.

use serde_json::Value;

use super::properties::read_features;
use super::{ComponentKind, CrateSource, RequestedComponent, RequestedCrate, type_name};

/// One component, or (how to name it, what is wrong).
pub(super) fn read_component(value: &Value) -> Result<RequestedComponent, (String, String)> {
    let Some(obj) = value.as_object() else {
        return Err((
            String::new(),
            format!("a component must be an object, not {}", type_name(value)),
        ));
    };
    let label = || {
        let name = obj.get("name").and_then(Value::as_str).unwrap_or("?");
        match obj.get("bom-ref").and_then(Value::as_str) {
            Some(r) => format!("\"{name}\" (bom-ref \"{r}\")"),
            None => format!("\"{name}\""),
        }
    };
    let string_field = |key: &str| -> Result<Option<String>, (String, String)> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err((
                label(),
                format!("`{key}` must be a string, not {}", type_name(other)),
            )),
        }
    };
    let name = string_field("name")?;
    let version = string_field("version")?;
    let bom_ref = string_field("bom-ref")?;
    let purl = string_field("purl")?;
    let sha256 = read_sha256(obj.get("hashes")).map_err(|m| (label(), m))?;

    let kind = match &purl {
        None => ComponentKind::Other { ecosystem: None },
        Some(text) => {
            let parsed = text
                .parse::<packageurl::PackageUrl>()
                .map_err(|e| (label(), format!("purl `{text}` does not parse: {e}")))?;
            if parsed.ty() == "cargo" {
                let Some(v) = parsed.version() else {
                    return Err((
                        label(),
                        format!(
                            "purl `{text}` has no version; a crate can only be vetted at an exact version (pkg:cargo/NAME@VERSION)"
                        ),
                    ));
                };
                let crate_version = semver::Version::parse(v).map_err(|e| {
                    (
                        label(),
                        format!("purl `{text}`: version `{v}` is not a semantic version: {e}"),
                    )
                })?;
                if let Some(field) = &version
                    && field != v
                {
                    return Err((
                        label(),
                        format!("`version` \"{field}\" disagrees with the purl `{text}`"),
                    ));
                }
                ComponentKind::Crate(RequestedCrate {
                    name: parsed.name().to_owned(),
                    version: crate_version,
                    source: crate_source(&parsed),
                    sha256,
                    features: read_features(obj.get("properties")).map_err(|m| (label(), m))?,
                })
            } else {
                ComponentKind::Other {
                    ecosystem: Some(parsed.ty().to_owned()),
                }
            }
        }
    };
    let name = match (&kind, name) {
        (ComponentKind::Crate(c), _) => c.name.clone(),
        (_, Some(name)) => name,
        (_, None) => {
            return Err((label(), "a component needs a `name` or a `purl`".into()));
        }
    };
    let version = match &kind {
        ComponentKind::Crate(c) => Some(c.version.to_string()),
        ComponentKind::Other { .. } => version,
    };
    Ok(RequestedComponent {
        bom_ref,
        name,
        version,
        purl,
        kind,
    })
}

/// Where a cargo purl's qualifiers say the crate comes from. Every
/// qualifier is accounted for: one vet-bom does not understand makes the
/// crate unvetted rather than silently vetting the registry's crate of the
/// same name.
fn crate_source(purl: &packageurl::PackageUrl<'_>) -> CrateSource {
    // A cargo purl has no subpath (nor a namespace, which packageurl
    // refuses): it would name something other than the registry's crate of
    // that name, which is what would be vetted.
    if let Some(subpath) = purl.subpath() {
        return CrateSource::Unsupported {
            why: format!(
                "its purl has a subpath (`{subpath}`), which a cargo purl does not; vet-bom cannot tell what it names"
            ),
        };
    }
    let qualifiers = purl.qualifiers();
    let get = |key: &str| qualifiers.get(key).map(|v| v.to_string());
    let mut unknown: Vec<&str> = qualifiers
        .keys()
        .map(|k| k.as_ref())
        .filter(|k| !["repository_url", "download_url", "vcs_url"].contains(k))
        .collect();
    unknown.sort_unstable();
    if let Some(key) = unknown.first() {
        return CrateSource::Unsupported {
            why: format!("its purl's qualifier `{key}` is not one vet-bom can honour"),
        };
    }
    let sources = ["repository_url", "download_url", "vcs_url"]
        .iter()
        .filter(|k| qualifiers.contains_key(**k))
        .count();
    if sources > 1 {
        return CrateSource::Unsupported {
            why: "its purl names more than one source (repository_url, download_url, vcs_url)"
                .into(),
        };
    }
    if let Some(url) = get("download_url") {
        return match url.strip_prefix("file://") {
            Some(path) if !path.is_empty() && !path.starts_with('/') => CrateSource::Local {
                path: path.to_owned(),
            },
            Some(_) => CrateSource::Unsupported {
                why: format!(
                    "its download_url `{url}` is not a path relative to the workspace (file://DIR)"
                ),
            },
            None => CrateSource::Unsupported {
                why: format!("its download_url `{url}` is not a local directory"),
            },
        };
    }
    if let Some(vcs_url) = get("vcs_url") {
        return CrateSource::Git { vcs_url };
    }
    CrateSource::Registry {
        repository_url: get("repository_url"),
    }
}

/// The SHA-256 among `hashes`, if any.
fn read_sha256(hashes: Option<&Value>) -> Result<Option<String>, String> {
    let list = match hashes {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(format!(
                "`hashes` must be an array, not {}",
                type_name(other)
            ));
        }
    };
    for hash in list {
        let alg = hash.get("alg").and_then(Value::as_str);
        let content = hash.get("content").and_then(Value::as_str);
        let (Some(alg), Some(content)) = (alg, content) else {
            return Err("every entry of `hashes` needs string `alg` and `content`".into());
        };
        if alg.eq_ignore_ascii_case("SHA-256") {
            if content.len() != 64 || !content.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "the SHA-256 hash `{content}` is not 64 hexadecimal digits"
                ));
            }
            return Ok(Some(content.to_ascii_lowercase()));
        }
    }
    Ok(None)
}
