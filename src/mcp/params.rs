//! The tools' inputs, described by JSON Schema (schemars) for `tools/list`,
//! and how each becomes the command line of the command it runs.
//!
//! Every value is passed as `--flag=VALUE` and positional arguments follow
//! `--`, so no value an agent sends (a package named `--policy=…`, say) can
//! be read as another option. A key the schema does not list is an error,
//! never silently ignored.

use std::collections::BTreeMap;
use std::ffi::OsString;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Which build to analyse, as `check` and `scan` take it.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct BuildParams {
    /// Path to the workspace's Cargo.toml (default: the workspace of the
    /// server's current directory).
    pub manifest_path: Option<String>,
    /// Features to enable (`pkg/feature` for one workspace member).
    #[serde(default)]
    pub features: Vec<String>,
    /// Enable every feature of the workspace members.
    #[serde(default)]
    pub all_features: bool,
    /// Do not enable the default features of the workspace members.
    #[serde(default)]
    pub no_default_features: bool,
    /// Resolve for this target triple instead of the host.
    pub target: Option<String>,
    /// Include dev-dependencies of the workspace members.
    #[serde(default)]
    pub dev: bool,
    /// Keep code for every platform, for a policy meant for all of them.
    #[serde(default)]
    pub all_targets_cfg: bool,
    /// The policy file (default: the workspace's capgate.toml, else
    /// `[workspace.metadata.capgate]`).
    pub policy: Option<String>,
    /// Do not access the network.
    #[serde(default)]
    pub offline: bool,
}

impl BuildParams {
    fn push_args(&self, args: &mut Vec<OsString>) {
        push_value(args, "--manifest-path", self.manifest_path.as_deref());
        for feature in &self.features {
            push_value(args, "--features", Some(feature));
        }
        push_flag(args, "--all-features", self.all_features);
        push_flag(args, "--no-default-features", self.no_default_features);
        push_value(args, "--target", self.target.as_deref());
        push_flag(args, "--dev", self.dev);
        push_flag(args, "--all-targets-cfg", self.all_targets_cfg);
        push_value(args, "--policy", self.policy.as_deref());
        push_flag(args, "--offline", self.offline);
    }
}

/// Keys a tool's schema does not list; they fail the call.
#[derive(Debug, Default, Deserialize)]
pub struct Unknown(#[serde(default)] pub BTreeMap<String, Value>);

impl Unknown {
    pub fn check(&self) -> Result<(), String> {
        if self.0.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = self.0.keys().map(String::as_str).collect();
        Err(format!(
            "unknown argument{} {}: see the tool's input schema",
            if keys.len() == 1 { "" } else { "s" },
            keys.join(", ")
        ))
    }
}

impl JsonSchema for Unknown {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Unknown".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "object" })
    }
}

/// `vet_bom`: a CycloneDX bill of materials, as text or a file.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VetBomParams {
    /// The CycloneDX JSON bill of materials itself (give this or
    /// `bom_path`).
    pub bom: Option<String>,
    /// Path to the bill of materials (give this or `bom`).
    pub bom_path: Option<String>,
    /// The workspace whose policy applies and whose local crates the BoM
    /// points at: the path to its Cargo.toml (default: the server's
    /// current directory).
    pub manifest_path: Option<String>,
    /// The policy file (default: the workspace's own).
    pub policy: Option<String>,
    /// Take crates from cargo's caches only, never the network.
    #[serde(default)]
    pub offline: bool,
    /// Fail even on components the policy accepts unvetted.
    #[serde(default)]
    pub strict: bool,
    /// Flag versions published fewer than this many days ago (default 3;
    /// 0: never).
    pub min_age_days: Option<f64>,
    /// Scan for this target triple instead of the one the BoM records.
    pub target: Option<String>,
    /// A sparse registry index to fetch crates from (default: cargo's
    /// configured registry).
    pub registry: Option<String>,
    /// How long fetching may take in all, e.g. `90s` or `5m` (default 10m).
    pub timeout: Option<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: Unknown,
}

impl VetBomParams {
    /// The command line, and the BoM text to feed on stdin when given as
    /// text.
    pub fn to_args(&self) -> Result<(Vec<OsString>, Option<Vec<u8>>), String> {
        self.unknown.check()?;
        let mut args: Vec<OsString> = vec!["vet-bom".into()];
        push_value(&mut args, "--manifest-path", self.manifest_path.as_deref());
        push_value(&mut args, "--policy", self.policy.as_deref());
        push_flag(&mut args, "--offline", self.offline);
        push_flag(&mut args, "--strict", self.strict);
        if let Some(days) = self.min_age_days {
            push_value(&mut args, "--min-age", Some(&days.to_string()));
        }
        push_value(&mut args, "--target", self.target.as_deref());
        push_value(&mut args, "--registry", self.registry.as_deref());
        push_value(&mut args, "--timeout", self.timeout.as_deref());
        args.push("--".into());
        match (&self.bom, &self.bom_path) {
            (Some(text), None) => {
                args.push("-".into());
                Ok((args, Some(text.clone().into_bytes())))
            }
            (None, Some(path)) => {
                args.push(path.into());
                Ok((args, None))
            }
            _ => Err(
                "give the bill of materials as exactly one of `bom` (its text) or `bom_path`"
                    .into(),
            ),
        }
    }
}

/// `check_workspace`: the workspace's build against its policy.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckParams {
    #[serde(flatten)]
    pub build: BuildParams,
    /// The RustSec advisory database to check against (default: cargo-audit's
    /// copy, when there is one).
    pub advisory_db: Option<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: Unknown,
}

impl CheckParams {
    pub fn to_args(&self) -> Result<Vec<OsString>, String> {
        self.unknown.check()?;
        let mut args: Vec<OsString> = vec!["check".into()];
        self.build.push_args(&mut args);
        push_value(&mut args, "--advisory-db", self.advisory_db.as_deref());
        Ok(args)
    }
}

/// `explain`: why a package has a capability.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExplainParams {
    /// The package: `NAME`, or `NAME@VERSION` when the build has several.
    pub package: String,
    /// The capability (`net` covers `net.connect` and `net.listen`); all of
    /// the package's when omitted.
    pub capability: Option<String>,
    #[serde(flatten)]
    pub build: BuildParams,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: Unknown,
}

impl ExplainParams {
    pub fn to_args(&self) -> Result<Vec<OsString>, String> {
        self.unknown.check()?;
        let mut args: Vec<OsString> = vec!["explain".into()];
        self.build.push_args(&mut args);
        args.push("--".into());
        args.push(self.package.clone().into());
        if let Some(capability) = &self.capability {
            args.push(capability.into());
        }
        Ok(args)
    }
}

/// `propose_policy`: the policy granting what the build does today.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProposeParams {
    #[serde(flatten)]
    pub build: BuildParams,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: Unknown,
}

impl ProposeParams {
    pub fn to_args(&self) -> Result<Vec<OsString>, String> {
        self.unknown.check()?;
        let mut args: Vec<OsString> = vec!["init".into(), "--dry-run".into()];
        self.build.push_args(&mut args);
        Ok(args)
    }
}

fn push_value(args: &mut Vec<OsString>, flag: &str, value: Option<&str>) {
    if let Some(value) = value {
        args.push(format!("{flag}={value}").into());
    }
}

fn push_flag(args: &mut Vec<OsString>, flag: &str, on: bool) {
    if on {
        args.push(flag.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn values_cannot_become_options() {
        let params: ExplainParams = serde_json::from_value(serde_json::json!({
            "package": "--policy=/etc/passwd",
            "capability": "--format=sarif",
            "features": ["--all-features"],
        }))
        .unwrap();
        assert_eq!(
            strings(&params.to_args().unwrap()),
            [
                "explain",
                "--features=--all-features",
                "--",
                "--policy=/etc/passwd",
                "--format=sarif"
            ]
        );
    }

    #[test]
    fn unknown_keys_fail_the_call() {
        let params: CheckParams = serde_json::from_value(serde_json::json!({
            "manifest_path": "Cargo.toml",
            "all_feature": true,
        }))
        .unwrap();
        assert_eq!(
            params.to_args().unwrap_err(),
            "unknown argument all_feature: see the tool's input schema"
        );
    }

    #[test]
    fn a_bom_is_text_or_a_path_never_both() {
        let both: VetBomParams =
            serde_json::from_value(serde_json::json!({"bom": "{}", "bom_path": "b.json"})).unwrap();
        assert!(both.to_args().is_err());
        let neither: VetBomParams = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(neither.to_args().is_err());
        let text: VetBomParams =
            serde_json::from_value(serde_json::json!({"bom": "{\"x\":1}", "min_age_days": 0.0}))
                .unwrap();
        let (args, stdin) = text.to_args().unwrap();
        assert_eq!(strings(&args), ["vet-bom", "--min-age=0", "--", "-"]);
        assert_eq!(stdin.unwrap(), b"{\"x\":1}");
    }
}
