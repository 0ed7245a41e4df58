//! Findings that come from a package's manifest rather than its code: a
//! build script (`build`), a proc-macro target (`proc-macro`) and
//! `links = "…"` (`ffi`, only beside a build script that links). Each points at the line of Cargo.toml (or the
//! build script's first line) so a reader can see it.

use crate::model::{Finding, Location};
use crate::model::{Package, TargetRole};
use crate::rules::RuleSet;

use super::collect::relative_path;

pub fn manifest_findings(package: &Package, rules: &RuleSet) -> Vec<Finding> {
    let text = std::fs::read_to_string(&package.manifest_path).unwrap_or_default();
    let mut findings = Vec::new();
    let mut push = |rule_id: &str, location: Location, evidence: String| {
        let rule = rules.structural(rule_id);
        findings.push(Finding {
            capability: rule.capability,
            location,
            evidence,
            rule: rule_id.to_owned(),
            via: Vec::new(),
            resolution: None,
        });
    };
    if let Some(build) = &package.build_script {
        let file = relative_path(&package.root, &build.root_file);
        push(
            "build-script",
            Location::at(file.clone(), 1, 1),
            format!("build script {file}"),
        );
    }
    if package
        .targets
        .iter()
        .any(|t| t.kind == TargetRole::ProcMacro)
    {
        let location = key_line(&text, &["proc-macro", "proc_macro"])
            .map(|line| Location::at("Cargo.toml", line, 1))
            .unwrap_or_else(|| Location::file("Cargo.toml"));
        push("proc-macro-target", location, "proc-macro = true".into());
    }
    findings
}

/// `links = "…"`, reported only when the build script links native code:
/// the key alone links nothing (see `manifest-links` in the rules).
pub fn links_finding(package: &Package, rules: &RuleSet) -> Option<Finding> {
    let links = package.links.as_ref()?;
    let text = std::fs::read_to_string(&package.manifest_path).unwrap_or_default();
    let location = key_line(&text, &["links"])
        .map(|line| Location::at("Cargo.toml", line, 1))
        .unwrap_or_else(|| Location::file("Cargo.toml"));
    let rule = rules.structural("manifest-links");
    Some(Finding {
        capability: rule.capability,
        location,
        evidence: format!("links = \"{links}\""),
        rule: rule.id.as_str().to_owned(),
        via: Vec::new(),
        resolution: None,
    })
}

/// The 1-based line where one of `keys` is assigned, as `key = …`.
fn key_line(text: &str, keys: &[&str]) -> Option<u32> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            keys.iter().any(|key| {
                line.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
        })
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::key_line;

    #[test]
    fn finds_assignments_not_mentions() {
        let text =
            "[package]\nname = \"x\"\n# links = \"no\"\nlinks = \"z\"\n[lib]\nproc-macro = true\n";
        assert_eq!(key_line(text, &["links"]), Some(4));
        assert_eq!(key_line(text, &["proc-macro"]), Some(6));
        assert_eq!(key_line(text, &["build"]), None);
    }
}
