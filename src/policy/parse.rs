//! Validates a policy's TOML into [`Policy`], with a diagnostic (file, line,
//! column, what is wrong, what would be right) for every problem.

use std::path::Path;
use std::sync::Arc;

use toml_edit::{Document, Item, TableLike};

use super::{
    AcceptedComponent, Grants, IgnoredAdvisory, PackageEntry, Policy, PolicyError, PolicySource,
    parse_capability, span,
};
use crate::diagnostic::Diagnostic;
use crate::model::Capability;

/// Parses a `capgate.toml`.
pub fn parse_policy_file(
    path: &Path,
    text: &str,
) -> Result<(Policy, Vec<Diagnostic>), PolicyError> {
    let text: Arc<str> = Arc::from(text);
    let doc = match Document::parse(text.to_string()) {
        Ok(doc) => doc,
        Err(e) => return Err(syntax_error(path, &text, &e)),
    };
    let mut v = Validator::new(path, &text);
    v.policy(doc.as_table(), PolicySource::File(path.to_path_buf()))
}

/// Parses the `metadata.capgate` table of a Cargo.toml; `None` when it has
/// none.
pub fn parse_cargo_metadata(
    path: &Path,
    text: &str,
) -> Option<Result<(Policy, Vec<Diagnostic>), PolicyError>> {
    let text: Arc<str> = Arc::from(text);
    let doc = match Document::parse(text.to_string()) {
        Ok(doc) => doc,
        Err(e) => return Some(Err(syntax_error(path, &text, &e))),
    };
    let table = ["workspace", "package"].iter().find_map(|section| {
        doc.as_table()
            .get(section)?
            .as_table_like()?
            .get("metadata")?
            .as_table_like()?
            .get("capgate")?
            .as_table_like()
    })?;
    let mut v = Validator::new(path, &text);
    Some(v.policy(table, PolicySource::CargoMetadata(path.to_path_buf())))
}

/// Which of `[workspace.metadata.capgate]` and `[package.metadata.capgate]`
/// a manifest holds (the first, when both), if either.
pub fn cargo_metadata_section(text: &str) -> Option<&'static str> {
    let doc = Document::parse(text).ok()?;
    ["workspace", "package"].into_iter().find(|section| {
        doc.as_table()
            .get(section)
            .and_then(Item::as_table_like)
            .and_then(|t| t.get("metadata"))
            .and_then(Item::as_table_like)
            .and_then(|t| t.get("capgate"))
            .is_some_and(|c| c.is_table_like())
    })
}

fn syntax_error(path: &Path, text: &Arc<str>, e: &toml_edit::TomlError) -> PolicyError {
    let range = e.span().unwrap_or(0..0);
    let message = e.message().trim().to_owned();
    let diagnostic = Diagnostic::error("policy-syntax", format!("invalid TOML: {message}"))
        .at(span(path, text, range), message);
    PolicyError::Invalid {
        path: path.to_path_buf(),
        diagnostics: vec![diagnostic],
    }
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a Arc<str>,
    errors: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    fn new(path: &'a Path, text: &'a Arc<str>) -> Self {
        Validator {
            path,
            text,
            errors: Vec::new(),
        }
    }

    fn error(
        &mut self,
        code: &'static str,
        range: Option<std::ops::Range<usize>>,
        message: String,
        label: &str,
    ) {
        let mut d = Diagnostic::error(code, message);
        if let Some(range) = range {
            d = d.at(span(self.path, self.text, range), label);
        }
        self.errors.push(d);
    }

    fn policy(
        &mut self,
        root: &dyn TableLike,
        source: PolicySource,
    ) -> Result<(Policy, Vec<Diagnostic>), PolicyError> {
        let mut policy = Policy {
            source,
            defaults: Grants::default(),
            packages: Vec::new(),
            ignored_advisories: Vec::new(),
            accepted_unvetted: Vec::new(),
        };
        for (key, item) in root.iter() {
            match key {
                "defaults" => {
                    if let Some(table) = self.table(root, key, item) {
                        policy.defaults = self.grants(table, &["allow", "build-script"]).0;
                    }
                }
                "pkg" => {
                    if let Some(table) = self.table(root, key, item) {
                        for (name, entry) in table.iter() {
                            if let Some(entry_table) = self.table(table, name, entry)
                                && let Some(entry) = self.package(table, name, entry_table)
                            {
                                policy.packages.push(entry);
                            }
                        }
                    }
                }
                "advisories" => {
                    if let Some(table) = self.table(root, key, item) {
                        policy.ignored_advisories = self.advisories(table);
                    }
                }
                "vet-bom" => {
                    if let Some(table) = self.table(root, key, item) {
                        policy.accepted_unvetted = self.vet_bom(table);
                    }
                }
                other => {
                    let range = root.get_key_value(other).and_then(|(k, _)| k.span());
                    self.error(
                        "unknown-key",
                        range,
                        format!(
                            "unknown key `{other}` in the policy; expected `defaults`, `pkg`, `advisories` or `vet-bom`"
                        ),
                        "unknown key",
                    );
                }
            }
        }
        if self.errors.is_empty() {
            Ok((policy, Vec::new()))
        } else {
            Err(PolicyError::Invalid {
                path: self.path.to_path_buf(),
                diagnostics: std::mem::take(&mut self.errors),
            })
        }
    }

    fn table<'t>(
        &mut self,
        parent: &dyn TableLike,
        key: &str,
        item: &'t Item,
    ) -> Option<&'t dyn TableLike> {
        match item.as_table_like() {
            Some(t) => Some(t),
            None => {
                let range = item
                    .span()
                    .or_else(|| parent.get_key_value(key).and_then(|(k, _)| k.span()));
                self.error(
                    "expected-table",
                    range,
                    format!("`{key}` must be a table"),
                    "not a table",
                );
                None
            }
        }
    }

    fn package(
        &mut self,
        parent: &dyn TableLike,
        key: &str,
        table: &dyn TableLike,
    ) -> Option<PackageEntry> {
        let key_span = parent.get_key_value(key).and_then(|(k, _)| k.span());
        let (name, key_req) = match key.split_once('@') {
            Some((name, req)) => (name.to_owned(), Some(req)),
            None => (key.to_owned(), None),
        };
        let mut ok = true;
        let mut version = None;
        if let Some(req) = key_req {
            match semver::VersionReq::parse(req) {
                Ok(r) => version = Some(r),
                Err(e) => {
                    ok = false;
                    self.error(
                        "bad-version-requirement",
                        key_span.clone(),
                        format!("`{req}` in `{key}` is not a version requirement: {e}"),
                        "expected `NAME@REQUIREMENT`, e.g. `serde@1` or `serde@=1.0.210`",
                    );
                }
            }
        }
        let (grants, reason, version_key) =
            self.grants(table, &["allow", "build-script", "reason", "version"]);
        if let Some((req, range)) = version_key {
            if key_req.is_some() {
                ok = false;
                self.error(
                    "duplicate-version",
                    Some(range),
                    format!("`{key}` already names a version requirement; remove `version` or the `@` part"),
                    "second version requirement",
                );
            } else {
                match semver::VersionReq::parse(&req) {
                    Ok(r) => version = Some(r),
                    Err(e) => {
                        ok = false;
                        self.error(
                            "bad-version-requirement",
                            Some(range),
                            format!("`{req}` is not a version requirement: {e}"),
                            "e.g. `^1.2` or `=1.0.210`",
                        );
                    }
                }
            }
        }
        ok.then(|| PackageEntry {
            name,
            version,
            grants,
            reason,
            span: key_span.map(|r| span(self.path, self.text, r)),
        })
    }

    /// Reads `allow`, `build-script.allow`, and (where `keys` allows them)
    /// `reason` and `version`; every other key is an error.
    #[allow(clippy::type_complexity)]
    fn grants(
        &mut self,
        table: &dyn TableLike,
        keys: &[&str],
    ) -> (
        Grants,
        Option<String>,
        Option<(String, std::ops::Range<usize>)>,
    ) {
        let mut grants = Grants::default();
        let mut reason = None;
        let mut version = None;
        for (key, item) in table.iter() {
            let key_range = table.get_key_value(key).and_then(|(k, _)| k.span());
            if !keys.contains(&key) {
                self.error(
                    "unknown-key",
                    key_range,
                    format!("unknown key `{key}`; expected one of: {}", keys.join(", ")),
                    "unknown key",
                );
                continue;
            }
            match key {
                "allow" => grants.allow = self.capabilities(key, item, key_range),
                "build-script" => {
                    let Some(inner) = self.table(table, key, item) else {
                        continue;
                    };
                    for (inner_key, inner_item) in inner.iter() {
                        let inner_range =
                            inner.get_key_value(inner_key).and_then(|(k, _)| k.span());
                        if inner_key == "allow" {
                            grants.build_script =
                                self.capabilities("build-script.allow", inner_item, inner_range);
                        } else {
                            self.error(
                                "unknown-key",
                                inner_range,
                                format!("unknown key `build-script.{inner_key}`; expected `build-script.allow`"),
                                "unknown key",
                            );
                        }
                    }
                }
                "reason" | "version" => match item.as_str() {
                    Some(s) if key == "reason" => reason = Some(s.to_owned()),
                    Some(s) => version = Some((s.to_owned(), item.span().unwrap_or_default())),
                    None => self.error(
                        "expected-string",
                        item.span().or(key_range),
                        format!("`{key}` must be a string"),
                        "not a string",
                    ),
                },
                _ => unreachable!("keys are checked above"),
            }
        }
        (grants, reason, version)
    }

    /// `ignore = ["RUSTSEC-…", { id = "RUSTSEC-…", reason = "…" }]`.
    fn advisories(&mut self, table: &dyn TableLike) -> Vec<IgnoredAdvisory> {
        self.named_list(
            table,
            "advisories",
            "ignore",
            "id",
            "RUSTSEC-2020-0071",
            "bad-advisory-ignore",
        )
        .into_iter()
        .map(|(id, reason)| IgnoredAdvisory { id, reason })
        .collect()
    }

    /// `[vet-bom] accept-unvetted = ["pkg:npm/left-pad@1.3.0", { component
    /// = "…", reason = "…" }]`: components vet-bom cannot vet that may pass.
    fn vet_bom(&mut self, table: &dyn TableLike) -> Vec<AcceptedComponent> {
        self.named_list(
            table,
            "vet-bom",
            "accept-unvetted",
            "component",
            "pkg:npm/left-pad@1.3.0",
            "bad-accept-unvetted",
        )
        .into_iter()
        .map(|(component, reason)| AcceptedComponent { component, reason })
        .collect()
    }

    /// The one key `[section] list = ["name", { field = "name", reason =
    /// "…" }]` allows: each entry's name and reason.
    fn named_list(
        &mut self,
        table: &dyn TableLike,
        section: &str,
        list: &str,
        field: &str,
        example: &str,
        code: &'static str,
    ) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for (key, item) in table.iter() {
            let key_range = table.get_key_value(key).and_then(|(k, _)| k.span());
            if key != list {
                self.error(
                    "unknown-key",
                    key_range,
                    format!("unknown key `{section}.{key}`; expected `{section}.{list}`"),
                    "unknown key",
                );
                continue;
            }
            let Some(array) = item.as_array() else {
                self.error(
                    "expected-array",
                    item.span().or(key_range),
                    format!("`{section}.{list}` must be an array"),
                    "not an array",
                );
                continue;
            };
            for value in array.iter() {
                let entry = match value {
                    toml_edit::Value::String(s) => Some((s.value().clone(), None)),
                    toml_edit::Value::InlineTable(t) => {
                        let unknown = t
                            .iter()
                            .map(|(k, _)| k)
                            .find(|k| *k != field && *k != "reason");
                        match (t.get(field).and_then(|v| v.as_str()), unknown) {
                            (Some(name), None) => Some((
                                name.to_owned(),
                                t.get("reason").and_then(|v| v.as_str()).map(str::to_owned),
                            )),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                match entry {
                    Some(e) => out.push(e),
                    None => self.error(
                        code,
                        value.span(),
                        format!(
                            "each entry of `{section}.{list}` is a string (\"{example}\") or {{ {field} = \"…\", reason = \"…\" }}"
                        ),
                        "expected a string or an inline table",
                    ),
                }
            }
        }
        out
    }

    fn capabilities(
        &mut self,
        key: &str,
        item: &Item,
        key_range: Option<std::ops::Range<usize>>,
    ) -> Vec<Capability> {
        let Some(array) = item.as_array() else {
            self.error(
                "expected-array",
                item.span().or(key_range),
                format!(
                    "`{key}` must be an array of capability names, e.g. [\"fs.read\", \"net\"]"
                ),
                "not an array",
            );
            return Vec::new();
        };
        let mut caps = Vec::new();
        for value in array.iter() {
            match value.as_str() {
                Some(name) => match parse_capability(name) {
                    Ok(cap) => caps.push(cap),
                    Err(message) => self.error(
                        "unknown-capability",
                        value.span(),
                        message,
                        "unknown capability",
                    ),
                },
                None => self.error(
                    "expected-string",
                    value.span(),
                    format!("`{key}` holds capability names as strings"),
                    "not a string",
                ),
            }
        }
        caps.sort();
        caps.dedup();
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(String, (usize, usize))> {
        match parse_policy_file(Path::new("capgate.toml"), text) {
            Ok(_) => Vec::new(),
            Err(PolicyError::Invalid { diagnostics, .. }) => diagnostics
                .iter()
                .map(|d| {
                    (
                        d.code.to_owned(),
                        d.span.as_ref().map(|s| s.line_col()).unwrap_or((0, 0)),
                    )
                })
                .collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn valid_policy_in_every_table_form() {
        let text = r#"
[defaults]
allow = ["unsafe"]

[pkg.mio]
allow = ["net", "unsafe"]
reason = "an event loop"

[pkg."serde@1"]
allow = []
build-script.allow = ["fs.read"]

pkg2 = 1
"#;
        // `pkg2` is unknown at the top level.
        assert_eq!(errors(text), [("unknown-key".to_owned(), (13, 1))]);
        let ok = text.replace("pkg2 = 1\n", "");
        let (policy, _) = parse_policy_file(Path::new("p"), &ok).unwrap();
        assert_eq!(policy.packages.len(), 2);
        assert!(policy.packages[1].matches("serde", "1.0.210"));
        assert!(!policy.packages[1].matches("serde", "2.0.0"));
        assert_eq!(policy.packages[1].grants.build_script, [Capability::FsRead]);
    }

    #[test]
    fn every_policy_example_in_the_readme_is_valid() {
        let readme = include_str!("../../README.md");
        let examples: Vec<&str> = readme
            .split("```toml\n")
            .skip(1)
            .filter_map(|rest| rest.split("```").next())
            .filter(|block| {
                ["[defaults]", "[pkg.", "[advisories]"]
                    .iter()
                    .any(|t| block.contains(t))
            })
            .collect();
        assert!(!examples.is_empty());
        for example in examples {
            if let Err(PolicyError::Invalid { diagnostics, .. }) =
                parse_policy_file(Path::new("README.md"), example)
            {
                panic!("README example is invalid: {diagnostics:?}\n{example}");
            }
        }
    }

    #[test]
    fn spans_point_at_the_offending_text() {
        assert_eq!(
            errors("[pkg.a]\nallow = [\"fs\", \"nett\"]\n"),
            [("unknown-capability".to_owned(), (2, 16))]
        );
        assert_eq!(
            errors("[pkg.a]\nallw = []\n"),
            [("unknown-key".to_owned(), (2, 1))]
        );
        assert_eq!(
            errors("pkg = { a = { allow = [\"nett\"] } }\n"),
            [("unknown-capability".to_owned(), (1, 24))]
        );
        assert_eq!(
            errors("[pkg.\"a@^^1\"]\nallow = []\n"),
            [("bad-version-requirement".to_owned(), (1, 6))]
        );
        assert_eq!(errors("[pkg.a]\nallow = [\"fs\"\n")[0].0, "policy-syntax");
    }

    #[test]
    fn components_accepted_unvetted_by_purl_or_name() {
        let text = "[vet-bom]\naccept-unvetted = [\"pkg:npm/left-pad@1.3.0\", { component = \"tool\", reason = \"in-house\" }]\n";
        let (policy, _) = parse_policy_file(Path::new("capgate.toml"), text).expect("valid");
        assert!(
            policy
                .accepts_unvetted(Some("pkg:npm/left-pad@1.3.0"), "left-pad")
                .is_some()
        );
        assert!(
            policy
                .accepts_unvetted(Some("pkg:npm/left-pad@1.2.0"), "left-pad")
                .is_none()
        );
        // A name stands for a component without a purl only.
        let tool = policy
            .accepts_unvetted(None, "tool")
            .expect("accepted by name");
        assert_eq!(tool.reason.as_deref(), Some("in-house"));
        assert!(
            policy
                .accepts_unvetted(Some("pkg:pypi/tool@1"), "tool")
                .is_none()
        );
        // A component without a purl that takes an accepted purl as its
        // name is not that package.
        assert!(
            policy
                .accepts_unvetted(None, "pkg:npm/left-pad@1.3.0")
                .is_none()
        );
        assert_eq!(
            errors("[vet-bom]\naccept-unvetted = [1]\n"),
            [("bad-accept-unvetted".to_owned(), (2, 20))]
        );
        assert_eq!(
            errors("[vet-bom]\naccept = []\n"),
            [("unknown-key".to_owned(), (2, 1))]
        );
    }
}
