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

use super::package_purl;
use crate::advisories::AdvisoryMatch;
use crate::model::PackageScan;
use crate::model::{BuildGraph, Package, PackageKind};
use crate::model::{Capability, CapabilityReport};
use crate::resolve::bom::{ALL_TARGETS_PROPERTY, FEATURES_PROPERTY, TARGET_TRIPLE_PROPERTY};

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
            let purl = package_purl(p, &graph.workspace_root);
            let n = seen.entry(purl.clone()).or_default();
            *n += 1;
            if *n == 1 { purl } else { format!("{purl}#{n}") }
        })
        .collect()
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
        .map(|(i, p)| component(graph, p, &refs[i], &input.scans[i]))
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
    // cargo-cyclonedx's names for the platform the graph was resolved for.
    metadata.properties = Some(Properties(vec![match &graph.cfg_target {
        Some(triple) => Property::new(TARGET_TRIPLE_PROPERTY, triple),
        None => Property::new(ALL_TARGETS_PROPERTY, "true"),
    }]));
    metadata.component = Some(match graph.root {
        Some(root) => component(
            graph,
            &graph.packages[root],
            &refs[root],
            &input.scans[root],
        ),
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

fn component(graph: &BuildGraph, p: &Package, bom_ref: &str, scan: &PackageScan) -> Component {
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
    c.purl = package_purl(p, &graph.workspace_root).parse::<Purl>().ok();
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
    // The features it was built and scanned with, always written (an
    // empty list too): `vet-bom` scans a crate whose BoM records none with
    // every feature on.
    let mut properties = vec![Property::new(FEATURES_PROPERTY, &p.features.join(","))];
    properties.extend(capability_properties(scan));
    c.properties = Some(Properties(properties));
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
