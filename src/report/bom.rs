//! The CycloneDX bill of materials: every package as a component with its
//! purl, hash, licence and references, the complete dependency graph, each
//! package's capabilities as `capgate:` properties, and advisories as
//! vulnerabilities.
//!
//! The model is built and serialised with the `cyclonedx-bom` crate, which
//! speaks spec 1.5. Spec 1.6 is a superset of what we emit for 1.5, so a 1.6
//! BoM is the 1.5 document with its version raised and the 1.6-only
//! `evidence.occurrences` (file, line, symbol) added to each component.

use std::collections::HashMap;

use cyclonedx_bom::external_models::normalized_string::NormalizedString;
use cyclonedx_bom::external_models::uri::{Purl, Uri};
use cyclonedx_bom::models::bom::{Bom, UrnUuid};
use cyclonedx_bom::models::component::{Classification, Component, Components};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::external_reference::{
    ExternalReference, ExternalReferenceType, ExternalReferences,
};
use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::license::{LicenseChoice, Licenses};
use cyclonedx_bom::models::metadata::Metadata;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::{Tool, Tools};
use cyclonedx_bom::models::vulnerability::{Vulnerabilities, Vulnerability};
use cyclonedx_bom::models::vulnerability_rating::{
    Score, ScoreMethod, Severity, VulnerabilityRating, VulnerabilityRatings,
};
use cyclonedx_bom::models::vulnerability_source::VulnerabilitySource;
use cyclonedx_bom::models::vulnerability_target::{VulnerabilityTarget, VulnerabilityTargets};
use serde_json::{Value, json};

use crate::advisories::AdvisoryMatch;
use crate::capability::{Capability, CapabilityReport};
use crate::resolve::{BuildGraph, Package, PackageKind};
use crate::scan::PackageScan;

/// The CycloneDX versions `bom` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecVersion {
    V1_5,
    V1_6,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BomError {
    #[error("could not serialise the bill of materials")]
    Serialize(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the bill of materials is not valid CycloneDX: {0}")]
    Invalid(String),
}

/// Everything a bill of materials describes.
pub struct BomInput<'a> {
    pub graph: &'a BuildGraph,
    pub scans: &'a [PackageScan],
    /// Per package, when advisories were checked.
    pub advisories: Option<&'a [Vec<AdvisoryMatch>]>,
}

/// The bill of materials as JSON.
pub fn bom_json(input: &BomInput<'_>, version: SpecVersion) -> Result<Value, BomError> {
    let refs = bom_refs(input.graph);
    let bom = build_bom(input, &refs);
    let validation = cyclonedx_bom::validation::Validate::validate_version(
        &bom,
        cyclonedx_bom::models::bom::SpecVersion::V1_5,
    );
    if let Err(message) = validation_message(&validation) {
        return Err(BomError::Invalid(message));
    }
    let mut bytes = Vec::new();
    bom.output_as_json_v1_5(&mut bytes)
        .map_err(|e| BomError::Serialize(Box::new(e)))?;
    let mut value: Value =
        serde_json::from_slice(&bytes).map_err(|e| BomError::Serialize(Box::new(e)))?;
    if version == SpecVersion::V1_6 {
        upgrade_to_1_6(&mut value, input, &refs);
    }
    Ok(value)
}

fn validation_message(result: &cyclonedx_bom::validation::ValidationResult) -> Result<(), String> {
    if result.passed() {
        Ok(())
    } else {
        Err(format!("{result:?}"))
    }
}

/// A stable, unique reference per package: its purl, with `#N` added to the
/// second and later packages sharing one (a path crate with the name and
/// version of a published one).
fn bom_refs(graph: &BuildGraph) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    graph
        .packages
        .iter()
        .map(|p| {
            let purl = package_purl(p);
            let n = seen.entry(purl.clone()).or_default();
            *n += 1;
            if *n == 1 { purl } else { format!("{purl}#{n}") }
        })
        .collect()
}

/// The purl of a package, following the purl specification's `cargo` type:
/// the default registry needs no qualifier, another registry is named by
/// `repository_url`, a git source by `vcs_url`.
pub fn package_purl(p: &Package) -> String {
    let base = super::purl(&p.name, &p.version);
    let Some(source) = &p.source_id else {
        return base;
    };
    if p.default_registry {
        return base;
    }
    if let Some(git) = source.strip_prefix("git+") {
        // `git+URL?rev=x#COMMIT`: the commit pins what was built.
        let (url, commit) = git.split_once('#').unwrap_or((git, ""));
        let url = url.split('?').next().unwrap_or(url);
        let vcs = if commit.is_empty() {
            format!("git+{url}")
        } else {
            format!("git+{url}@{commit}")
        };
        return format!("{base}?vcs_url={}", encode_qualifier(&vcs));
    }
    let url = source
        .strip_prefix("registry+")
        .or_else(|| source.strip_prefix("sparse+"))
        .unwrap_or(source);
    format!("{base}?repository_url={}", encode_qualifier(url))
}

/// Percent-encodes a purl qualifier value as the specification's test data
/// does: `:` stays, `/`, `+`, `@` and the rest are encoded.
fn encode_qualifier(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' | b':' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn build_bom(input: &BomInput<'_>, refs: &[String]) -> Bom {
    let graph = input.graph;
    // The root package is the BoM's subject, `metadata.component`; like
    // other producers we do not list it again among the components.
    let components: Vec<Component> = graph
        .packages
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != graph.root)
        .map(|(i, p)| component(p, &refs[i], &input.scans[i]))
        .collect();
    let dependencies: Vec<Dependency> = graph
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut on: Vec<String> = p
                .dependencies
                .iter()
                .chain(&p.build_dependencies)
                .map(|d| refs[d.package].clone())
                .collect();
            on.sort();
            on.dedup();
            Dependency {
                dependency_ref: refs[i].clone(),
                dependencies: on,
            }
        })
        .collect();

    let mut metadata = Metadata::new().unwrap_or_default();
    metadata.tools = Some(Tools::List(vec![Tool::new(
        "cargo-capgate",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )]));
    metadata.component = Some(match graph.root {
        Some(root) => component(&graph.packages[root], &refs[root], &input.scans[root]),
        None => {
            // A virtual workspace has no root package; name it after its
            // directory so the BoM still says what it describes.
            let name = graph
                .workspace_root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "workspace".into());
            let mut c = Component::new(
                Classification::Application,
                &name,
                "0.0.0",
                Some(format!("workspace:{name}")),
            );
            c.description = Some(NormalizedString::new("virtual Cargo workspace"));
            c
        }
    });

    let vulnerabilities = input.advisories.map(|advisories| {
        let mut list = Vec::new();
        for (i, matches) in advisories.iter().enumerate() {
            for m in matches {
                list.push(vulnerability(m, &refs[i]));
            }
        }
        Vulnerabilities(list)
    });

    Bom {
        serial_number: Some(UrnUuid::generate()),
        metadata: Some(metadata),
        components: Some(Components(components)),
        dependencies: Some(Dependencies(dependencies)),
        vulnerabilities,
        ..Bom::default()
    }
}

fn component(p: &Package, bom_ref: &str, scan: &PackageScan) -> Component {
    let classification = if p.kind == PackageKind::Bin {
        Classification::Application
    } else {
        Classification::Library
    };
    let mut c = Component::new(
        classification,
        &p.name,
        &p.version,
        Some(bom_ref.to_owned()),
    );
    c.purl = package_purl(p).parse::<Purl>().ok();
    c.description = p.description.as_deref().map(NormalizedString::new);
    if let Some(checksum) = &p.checksum {
        c.hashes = Some(Hashes(vec![Hash {
            alg: HashAlgorithm::SHA_256,
            content: HashValue(checksum.clone()),
        }]));
    }
    c.licenses = match (&p.license, &p.license_file) {
        (Some(expr), _) => Some(Licenses(vec![license_choice(expr)])),
        (None, Some(file)) => Some(Licenses(vec![LicenseChoice::license(&format!(
            "see {file}"
        ))])),
        (None, None) => None,
    };
    let refs: Vec<ExternalReference> = [
        (ExternalReferenceType::Vcs, &p.repository),
        (ExternalReferenceType::Documentation, &p.documentation),
        (ExternalReferenceType::Website, &p.homepage),
    ]
    .into_iter()
    .filter_map(|(kind, url)| {
        url.as_ref()
            .map(|u| ExternalReference::new(kind, Uri::new(u)))
    })
    .collect();
    if !refs.is_empty() {
        c.external_references = Some(ExternalReferences(refs));
    }
    let properties = capability_properties(scan);
    if !properties.is_empty() {
        c.properties = Some(Properties(properties));
    }
    c
}

/// A manifest's `license` as an SPDX expression; the legacy `MIT/Apache-2.0`
/// form crates.io once accepted means `OR`. Anything else that is not SPDX
/// is kept as a named licence rather than dropped.
fn license_choice(license: &str) -> LicenseChoice {
    let candidates = [license.to_owned(), license.replace('/', " OR ")];
    candidates
        .iter()
        .find(|c| spdx::Expression::parse(c).is_ok())
        .map(|c| LicenseChoice::expression(c))
        .unwrap_or_else(|| LicenseChoice::license(license))
}

/// `capgate:capability`, `capgate:build-script:capability` and
/// `capgate:unanalyzed:reason` properties (documented in the README).
fn capability_properties(scan: &PackageScan) -> Vec<Property> {
    let mut out = Vec::new();
    let mut add = |name: &str, report: &CapabilityReport| {
        for cap in report.capabilities() {
            out.push(Property::new(name, cap.name()));
        }
    };
    add("capgate:capability", &scan.code);
    add("capgate:build-script:capability", &scan.build_script);
    for f in scan
        .code
        .findings
        .iter()
        .chain(&scan.build_script.findings)
        .filter(|f| f.capability == Capability::Unanalyzed)
    {
        out.push(Property::new(
            "capgate:unanalyzed:reason",
            &format!("{}: {}", f.location, f.evidence),
        ));
    }
    out
}

fn vulnerability(m: &AdvisoryMatch, bom_ref: &str) -> Vulnerability {
    let mut v = Vulnerability::new(None);
    v.id = Some(NormalizedString::new(&m.id));
    v.vulnerability_source = Some(VulnerabilitySource::new(Some("RustSec".into()), None));
    let mut description = m.title.clone();
    if !m.description.is_empty() {
        description = format!("{}\n\n{}", m.title, m.description.trim());
    }
    v.description = Some(description);
    v.recommendation = Some(if m.patched.is_empty() {
        "No patched version is available; remove the dependency or accept the risk.".to_owned()
    } else {
        format!(
            "Upgrade to {}.",
            crate::advisories::describe_patched(&m.patched)
        )
    });
    if let Some(vector) = &m.cvss {
        let method = if vector.starts_with("CVSS:4") {
            ScoreMethod::CVSSv4
        } else if vector.starts_with("CVSS:3.1") {
            ScoreMethod::CVSSv31
        } else {
            ScoreMethod::CVSSv3
        };
        v.vulnerability_ratings = Some(VulnerabilityRatings(vec![VulnerabilityRating {
            vulnerability_source: None,
            score: m.score.map(|s| Score::new_unchecked(s as f32)),
            severity: m.score.map(|s| Severity::new_unchecked(severity_of(s))),
            score_method: Some(method),
            vector: Some(NormalizedString::new(vector)),
            justification: None,
        }]));
    }
    v.vulnerability_targets = Some(VulnerabilityTargets(vec![VulnerabilityTarget::new(
        bom_ref.to_owned(),
    )]));
    v
}

/// CVSS qualitative severity of a base score.
fn severity_of(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

fn upgrade_to_1_6(value: &mut Value, input: &BomInput<'_>, refs: &[String]) {
    value["specVersion"] = json!("1.6");
    value["$schema"] = json!("http://cyclonedx.org/schema/bom-1.6.schema.json");
    let by_ref: HashMap<&str, usize> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    let mut add_occurrences = |component: &mut Value| {
        let Some(&i) = component["bom-ref"].as_str().and_then(|r| by_ref.get(r)) else {
            return;
        };
        let scan = &input.scans[i];
        let occurrences: Vec<Value> = scan
            .code
            .findings
            .iter()
            .chain(&scan.build_script.findings)
            .filter_map(|f| {
                let mut o = json!({
                    "location": f.location.file.as_ref()?,
                    "symbol": f.evidence,
                    "additionalContext": f.capability.name(),
                });
                if let Some(line) = f.location.line {
                    o["line"] = json!(line);
                }
                Some(o)
            })
            .collect();
        if !occurrences.is_empty() {
            component["evidence"] = json!({ "occurrences": occurrences });
        }
    };
    if let Some(components) = value["components"].as_array_mut() {
        components.iter_mut().for_each(&mut add_occurrences);
    }
    if let Some(root) = value
        .get_mut("metadata")
        .and_then(|m| m.get_mut("component"))
    {
        add_occurrences(root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{PackageKind, SourceKind};

    fn package(source_id: Option<&str>, default_registry: bool) -> Package {
        Package {
            id: "x".into(),
            name: "demo".into(),
            version: "1.2.3".into(),
            source: SourceKind::Registry,
            source_id: source_id.map(str::to_owned),
            default_registry,
            manifest_path: "/x/Cargo.toml".into(),
            root: "/x".into(),
            kind: PackageKind::Lib,
            targets: Vec::new(),
            build_script: None,
            links: None,
            dependencies: Vec::new(),
            build_dependencies: Vec::new(),
            features: Vec::new(),
            checksum: None,
            license: None,
            license_file: None,
            description: None,
            repository: None,
            homepage: None,
            documentation: None,
        }
    }

    #[test]
    fn purl_qualifiers_name_non_default_sources() {
        assert_eq!(package_purl(&package(None, false)), "pkg:cargo/demo@1.2.3");
        assert_eq!(
            package_purl(&package(
                Some("registry+https://example.invalid/index"),
                true
            )),
            "pkg:cargo/demo@1.2.3"
        );
        assert_eq!(
            package_purl(&package(
                Some("sparse+https://example.invalid/index/"),
                false
            )),
            "pkg:cargo/demo@1.2.3?repository_url=https:%2F%2Fexample.invalid%2Findex%2F"
        );
        assert_eq!(
            package_purl(&package(
                Some("git+https://example.invalid/demo.git?rev=v1#0123abcd"),
                false
            )),
            "pkg:cargo/demo@1.2.3?vcs_url=git%2Bhttps:%2F%2Fexample.invalid%2Fdemo.git%400123abcd"
        );
    }

    #[test]
    fn legacy_licence_syntax_becomes_spdx() {
        assert_eq!(
            license_choice("MIT/Apache-2.0"),
            LicenseChoice::expression("MIT OR Apache-2.0")
        );
        assert_eq!(
            license_choice("MIT OR Apache-2.0"),
            LicenseChoice::expression("MIT OR Apache-2.0")
        );
        assert_eq!(
            license_choice("Proprietary blob"),
            LicenseChoice::license("Proprietary blob")
        );
    }
}
