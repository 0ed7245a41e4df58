//! Capability rules: the data in `rules/*.toml` (compiled into the binary)
//! plus any files a user adds, turned into lookup tables the scanner
//! queries by resolved path, method name or foreign symbol.
//!
//! Rules never run code; they only say which names mean which capability.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::model::Capability;

/// The rule files shipped with the tool, embedded so the binary is
/// self-contained.
const BUILTIN: &[(&str, &str)] = &[
    ("rules/std.toml", include_str!("../rules/std.toml")),
    ("rules/libc.toml", include_str!("../rules/libc.toml")),
    ("rules/rustix.toml", include_str!("../rules/rustix.toml")),
    ("rules/windows.toml", include_str!("../rules/windows.toml")),
    ("rules/extern.toml", include_str!("../rules/extern.toml")),
    ("rules/dynload.toml", include_str!("../rules/dynload.toml")),
    ("rules/build.toml", include_str!("../rules/build.toml")),
    (
        "rules/syscalls.toml",
        include_str!("../rules/syscalls.toml"),
    ),
    (
        "rules/structural.toml",
        include_str!("../rules/structural.toml"),
    ),
];

/// A rule id, e.g. `std-fs-read`: stable, kebab-case, unique.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub String);

impl RuleId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One rule as documented to users.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: RuleId,
    pub capability: Capability,
    pub description: String,
}

/// A rule that applies to a method call when its receiver is one of
/// `receivers` (or, with none, always).
#[derive(Clone, Debug)]
pub struct MethodRule {
    pub rule: usize,
    pub receivers: Vec<String>,
    /// Only where the receiver is known to be one of `receivers`, never
    /// because the calling code names one (`typed = true`).
    pub typed: bool,
}

/// All rules, indexed for the scanner's three kinds of question.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    exact_paths: HashMap<String, Vec<usize>>,
    prefix_paths: Vec<(String, usize)>,
    methods: HashMap<String, Vec<MethodRule>>,
    symbols: HashMap<String, Vec<usize>>,
    /// Rules with `flows = false`: their findings are the crate's own and
    /// reach no dependent.
    local: HashSet<String>,
    /// Every receiver type named by a method rule, so the scanner can note
    /// which functions mention one without knowing the rules' shape.
    receiver_types: HashSet<String>,
    /// SHA-256 of every rule file's text, part of a scan result's identity.
    fingerprint: String,
    /// Rules whose findings in a build script link native code into the
    /// package (`links-native = true`).
    links_native: HashSet<String>,
}

/// A rule file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: rule `{id}`: {message}")]
    Invalid {
        file: String,
        id: String,
        message: String,
    },
    #[error("cannot read rule file {file}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    capability: String,
    description: String,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    methods: Vec<String>,
    #[serde(default)]
    receivers: Vec<String>,
    #[serde(default)]
    symbols: Vec<String>,
    #[serde(default)]
    typed: bool,
    #[serde(default = "yes")]
    flows: bool,
    #[serde(default)]
    structural: bool,
    /// Found in a build script, the finding means native code is linked
    /// into the package's own code: it is reported there.
    #[serde(default, rename = "links-native")]
    links_native: bool,
}

fn yes() -> bool {
    true
}

impl RuleSet {
    /// The built-in rules plus the given user rule files.
    pub fn load(extra: &[impl AsRef<Path>]) -> Result<RuleSet, RuleError> {
        let mut sources: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        for path in extra {
            let path = path.as_ref();
            let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
                file: path.display().to_string(),
                source,
            })?;
            sources.push((path.display().to_string(), text));
        }
        RuleSet::from_sources(&sources)
    }

    /// Only the built-in rules; they are tested, so failing here is a bug.
    pub fn builtin() -> RuleSet {
        RuleSet::load(&[] as &[&Path]).expect("built-in rules are valid")
    }

    fn from_sources(sources: &[(String, String)]) -> Result<RuleSet, RuleError> {
        use sha2::Digest;
        let mut set = RuleSet::default();
        let mut hasher = sha2::Sha256::new();
        let mut seen_ids = HashSet::new();
        for (file, text) in sources {
            hasher.update(text.as_bytes());
            hasher.update([0]);
            let raw: RawFile = toml::from_str(text).map_err(|e| RuleError::Parse {
                file: file.clone(),
                message: e.to_string(),
            })?;
            for raw_rule in raw.rule {
                set.add(file, raw_rule, &mut seen_ids)?;
            }
        }
        set.fingerprint = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(set)
    }

    fn add(
        &mut self,
        file: &str,
        raw: RawRule,
        seen_ids: &mut HashSet<String>,
    ) -> Result<(), RuleError> {
        let invalid = |message: String| RuleError::Invalid {
            file: file.to_owned(),
            id: raw.id.clone(),
            message,
        };
        if !seen_ids.insert(raw.id.clone()) {
            return Err(invalid("the id is used by another rule".into()));
        }
        if raw.id.is_empty()
            || !raw
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid("ids are kebab-case: a-z, 0-9 and '-'".into()));
        }
        let capability: Capability = raw
            .capability
            .parse()
            .map_err(|e: crate::model::UnknownCapability| invalid(e.to_string()))?;
        let has_matcher =
            !raw.paths.is_empty() || !raw.methods.is_empty() || !raw.symbols.is_empty();
        if raw.structural == has_matcher {
            return Err(invalid(
                "a rule has either matchers (paths, methods, symbols) or `structural = true`"
                    .into(),
            ));
        }
        if !raw.receivers.is_empty() && raw.methods.is_empty() {
            return Err(invalid("`receivers` only applies to `methods`".into()));
        }
        if raw.typed && raw.receivers.is_empty() {
            return Err(invalid(
                "`typed` needs `receivers`: the types a receiver must be known to be".into(),
            ));
        }
        let index = self.rules.len();
        for path in raw.paths {
            match path.strip_suffix("::*") {
                Some(prefix) => self.prefix_paths.push((format!("{prefix}::"), index)),
                None => self.exact_paths.entry(path).or_default().push(index),
            }
        }
        for method in raw.methods {
            self.methods.entry(method).or_default().push(MethodRule {
                rule: index,
                receivers: raw.receivers.clone(),
                typed: raw.typed,
            });
        }
        self.receiver_types.extend(raw.receivers.iter().cloned());
        if !raw.flows {
            self.local.insert(raw.id.clone());
        }
        for symbol in raw.symbols {
            self.symbols.entry(symbol).or_default().push(index);
        }
        if raw.links_native {
            self.links_native.insert(raw.id.clone());
        }
        self.rules.push(Rule {
            id: RuleId(raw.id),
            capability,
            description: raw.description,
        });
        Ok(())
    }

    /// Whether a finding of rule `id` in a build script means the package's
    /// code links native code (a `cargo:rustc-link-lib` directive, a call
    /// of `cc::Build::compile`).
    pub fn links_native(&self, id: &str) -> bool {
        self.links_native.contains(id)
    }

    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    /// The structural rule with this id. Structural ids are part of the
    /// scanner's contract, so a missing one is a bug in the rule files.
    pub fn structural(&self, id: &str) -> &Rule {
        self.rules
            .iter()
            .find(|r| r.id.0 == id)
            .unwrap_or_else(|| panic!("rules/structural.toml defines `{id}`"))
    }

    /// Rules matching a canonical path such as `std::fs::read`. Paths through
    /// `core` and `alloc` match the rules written for `std`, which re-exports
    /// them.
    pub fn match_path(&self, path: &str) -> Vec<usize> {
        let mut hits = Vec::new();
        self.match_path_exact(path, &mut hits);
        for facade in ["core::", "alloc::"] {
            if let Some(rest) = path.strip_prefix(facade) {
                self.match_path_exact(&format!("std::{rest}"), &mut hits);
            }
        }
        hits
    }

    fn match_path_exact(&self, path: &str, hits: &mut Vec<usize>) {
        if let Some(rules) = self.exact_paths.get(path) {
            hits.extend(rules);
        }
        for (prefix, rule) in &self.prefix_paths {
            if path.starts_with(prefix.as_str()) {
                hits.push(*rule);
            }
        }
    }

    /// Method rules for a method name.
    pub fn match_method(&self, name: &str) -> &[MethodRule] {
        self.methods.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether findings of the rule with this id flow to dependents
    /// through reach (`flows = false` keeps them the crate's own).
    pub fn flows(&self, id: &str) -> bool {
        !self.local.contains(id)
    }

    /// Rules for a foreign function's link name, as written and as the
    /// linker may resolve it: without LLVM's `\u{1}` "do not mangle"
    /// prefix, an ELF version (`socket@GLIBC_2.2.5`, `@@`) or a stdcall
    /// size (`_socket@12`), and without leading underscores or glibc's
    /// `__libc_` prefix (`__connect`, `__libc_system` are exported aliases)
    /// (ffi-decl-link-name-decorated).
    pub fn match_symbol(&self, symbol: &str) -> Vec<usize> {
        let plain = symbol.strip_prefix('\u{1}').unwrap_or(symbol);
        let plain = match plain.char_indices().skip(1).find(|(_, c)| *c == '@') {
            Some((at, _)) => &plain[..at],
            None => plain,
        };
        let bare = plain.trim_start_matches('_');
        let bare = bare.strip_prefix("libc_").unwrap_or(bare);
        let mut out: Vec<usize> = Vec::new();
        for candidate in [symbol, plain, bare] {
            for &rule in self
                .symbols
                .get(candidate)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                if !out.contains(&rule) {
                    out.push(rule);
                }
            }
        }
        out
    }

    /// Whether a canonical path is (or is below) a receiver type of some
    /// method rule.
    pub fn is_receiver_type(&self, path: &str) -> bool {
        receiver_of(path, self.receiver_types.iter().map(String::as_str)).is_some()
    }

    /// The receiver of `receivers` that `path` stands for: the most
    /// specific receiver type of any rule that `path` names or lies below
    /// must be one of them (`File::options()` starts an `OpenOptions`
    /// chain, not a `File` one).
    pub fn receiver_hit<'a>(&self, path: &str, receivers: &'a [String]) -> Option<&'a str> {
        let specific = self
            .receiver_types
            .iter()
            .filter(|r| receiver_of(path, [r.as_str()]).is_some())
            .max_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)))?;
        receivers
            .iter()
            .find(|r| *r == specific)
            .map(String::as_str)
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The receiver in `receivers` that `path` names or lies below, if any, with
/// `core`/`alloc` read as `std`.
pub fn receiver_of<'a>(
    path: &str,
    receivers: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let std_path;
    let path = match path
        .strip_prefix("core::")
        .or_else(|| path.strip_prefix("alloc::"))
    {
        Some(rest) => {
            std_path = format!("std::{rest}");
            std_path.as_str()
        }
        None => path,
    };
    receivers.into_iter().find(|r| {
        path == *r
            || path
                .strip_prefix(*r)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load_and_ids_are_unique() {
        let rules = RuleSet::builtin();
        assert!(rules.rules.len() > 20);
    }

    #[test]
    fn core_paths_match_std_rules() {
        let rules = RuleSet::builtin();
        let std_hits = rules.match_path("std::arch::asm");
        assert!(!std_hits.is_empty());
        assert_eq!(rules.match_path("core::arch::asm"), std_hits);
    }

    #[test]
    fn precision_basics() {
        let rules = RuleSet::builtin();
        assert!(rules.match_path("std::net::SocketAddr").is_empty());
        assert!(rules.match_path("std::process::exit").is_empty());
        assert!(rules.match_path("std::env::args").is_empty());
        assert!(rules.match_path("std::fs::File").is_empty());
        let connect = rules.match_path("std::net::TcpStream::connect");
        assert_eq!(rules.rule(connect[0]).capability, Capability::NetConnect);
    }

    #[test]
    fn bad_rule_files_are_rejected_with_the_file_named() {
        let bad = [(
            "x.toml".to_string(),
            "[[rule]]\nid = \"a\"\ncapability = \"nett\"\ndescription = \"d\"\npaths = [\"a::b\"]\n"
                .to_string(),
        )];
        let err = RuleSet::from_sources(&bad).unwrap_err().to_string();
        assert!(err.contains("x.toml") && err.contains("nett"), "{err}");
    }

    #[test]
    fn receivers_match_at_segment_boundaries() {
        assert_eq!(receiver_of("std::path::PathBuf", ["std::path::Path"]), None);
        assert_eq!(
            receiver_of("std::path::Path::new", ["std::path::Path"]),
            Some("std::path::Path")
        );
        assert_eq!(
            receiver_of("core::path::Path", ["std::path::Path"]),
            Some("std::path::Path")
        );
    }
}
