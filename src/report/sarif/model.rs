//! The part of SARIF 2.1.0 capgate writes, as typed wire structs.
//!
//! Only the objects and properties we emit are here, named as the
//! specification names them (`sarifLog`, `run`, `toolComponent`,
//! `reportingDescriptor`, `result`…), so a reader can hold each against its
//! section of the standard. The serde-sarif crate would cover all of it, but
//! costs a dozen dependencies, syn 1 and code generated at build time, for
//! the score of fields we need; a property we start to emit is added here.
//!
//! The structs are turned into a `serde_json::Value` before printing (see
//! `SarifLog::to_value`): its objects keep their keys sorted, which is the
//! order SARIF has always been printed in, so the output does not depend on
//! the order fields are declared in.

use serde::Serialize;

/// The top-level object (`sarifLog`).
#[derive(Debug, Serialize)]
pub struct SarifLog {
    /// Lets editors and validators find the schema without being told.
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

impl SarifLog {
    pub const SCHEMA: &'static str = "https://json.schemastore.org/sarif-2.1.0.json";
    pub const VERSION: &'static str = "2.1.0";

    /// The log as JSON with every object's keys sorted: the byte-for-byte
    /// form users' baselines and our snapshots hold.
    pub fn to_value(&self) -> serde_json::Value {
        // Cannot fail: every map key is a string and there are no floats.
        serde_json::to_value(self).expect("a SARIF log is always valid JSON")
    }
}

/// One run of one tool.
#[derive(Debug, Serialize)]
pub struct Run {
    pub tool: Tool,
    pub results: Vec<SarifResult>,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub driver: ToolComponent,
}

/// The tool itself, and every rule a result may name.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolComponent {
    pub name: &'static str,
    pub version: &'static str,
    pub information_uri: &'static str,
    pub rules: Vec<ReportingDescriptor>,
}

/// A rule: code scanning shows its descriptions and help beside each
/// result whose `ruleId` is its `id`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: &'static str,
    pub name: &'static str,
    pub short_description: MultiformatMessageString,
    pub full_description: MultiformatMessageString,
    pub help: MultiformatMessageString,
    pub default_configuration: ReportingConfiguration,
}

/// Text of a rule (the standard's `multiformatMessageString`; we give no
/// Markdown form).
#[derive(Debug, Serialize)]
pub struct MultiformatMessageString {
    pub text: String,
}

impl MultiformatMessageString {
    pub fn new(text: impl Into<String>) -> Self {
        MultiformatMessageString { text: text.into() }
    }
}

#[derive(Debug, Serialize)]
pub struct ReportingConfiguration {
    pub level: Level,
}

/// Every violation fails `check`, so every result is an error; the
/// standard's `warning`, `note` and `none` are never written.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
}

/// One violation (the standard's `result`; named apart from `std`'s).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: &'static str,
    pub level: Level,
    pub message: Message,
    pub locations: Vec<Location>,
    pub partial_fingerprints: PartialFingerprints,
    /// The evidence inside the repository; left out when there is none
    /// rather than written empty, as it always has been.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<Location>,
}

/// Plain text only: code scanning renders no other form of a result's
/// message that we would need.
#[derive(Debug, Serialize)]
pub struct Message {
    pub text: String,
}

/// A place in the repository. The same object serves as a result's
/// location (no `id`, no message) and as a related location (both).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Unique within the result, so a message could link to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    pub physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

/// A repository-relative path with `/` separators, which is what code
/// scanning matches files by.
#[derive(Debug, Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

/// 1-based, as the standard counts lines and columns.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    /// Known for evidence, not for where a package enters (a whole line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
}

/// Keys code scanning uses to follow a result from one run to the next.
#[derive(Debug, Serialize)]
pub struct PartialFingerprints {
    /// Versioned, so a change of what is hashed starts a new key instead of
    /// silently re-identifying every alert.
    #[serde(rename = "capgate/v1")]
    pub capgate_v1: String,
}
