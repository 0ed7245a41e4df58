//! Reach: capabilities that flow through other crates' public APIs.
//!
//! A crate that calls `reqwest::get` opens sockets as surely as one that
//! calls `TcpStream::connect` itself. Scanning a crate therefore also
//! produces its [`Exports`]: for every item other crates can name (functions,
//! methods, trait provided methods, consts and statics through their
//! initialisers, exported macros) the run-time capabilities it reaches, each
//! with one witness chain. A dependent's scan looks the dependency items it
//! names up in them: paths it calls, methods it calls on dependency types it
//! names, `Drop` of the types whose values it makes, provided methods of the
//! dependency traits it implements.
//!
//! Naming a type does not by itself reach everything its methods reach:
//! that made every user of `url::Url` reach `net` through `socket_addrs`.
//!
//! Only run-time effects flow: `fs`, `net`, `process` and `env`. `unsafe`,
//! `ffi`, `build`, `proc-macro` and `unanalyzed` describe how a crate is
//! written or built, and stay with it: using a crate that uses `unsafe`
//! does not make the user's code unsafe.
//!
//! This module looks dependencies' items up in their exports (`mod.rs`)
//! and computes a crate's own from its syntax facts (`analysis`); the
//! exports themselves are plain data in `model`, and the order crates are
//! scanned in (a crate after its dependencies) is the pipeline's.
//!
//! **Invariant:** a crate's scan depends on its dependencies only through
//! their `Exports`, whose fingerprint is part of its cache key.

mod analysis;

use std::collections::{HashMap, HashSet};

use crate::model::{Capability, Exports, Witness};
use crate::rules::RuleSet;

pub use analysis::{CrateReach, analyze};

/// The longest witness chain kept; longer ones keep their two ends.
pub const MAX_VIA: usize = 12;

/// Paths one lookup may try through a dependency's aliases of its own
/// paths, however they branch.
const MAX_ALIAS_PATHS: usize = 1_000;

/// One lookup's walk through a dependency's aliases of its own paths: the
/// paths tried, and how deep it may go (a path written with many segments
/// can take one alias per segment: `chapter_1::next::next::…`).
struct AliasWalk {
    seen: HashSet<String>,
    hops: usize,
}

/// Whether `capability` flows through the APIs that reach it.
pub fn flows(capability: Capability) -> bool {
    matches!(
        capability.family(),
        Capability::Fs | Capability::Net | Capability::Process | Capability::Env
    )
}

/// The exports of a target's dependencies, by library name.
#[derive(Default)]
pub struct DependencyExports<'a> {
    by_lib: HashMap<String, &'a Exports>,
    /// (library, method name) -> the exported `Type::method` paths inside
    /// it that reach something.
    methods: HashMap<(String, String), Vec<String>>,
}

impl<'a> DependencyExports<'a> {
    /// The bodies of the dependencies' exported `macro_rules!` called `name`,
    /// as source text.
    pub fn macro_bodies(&self, name: &str) -> Vec<&'a str> {
        let mut libs: Vec<(&String, &&'a Exports)> = self.by_lib.iter().collect();
        libs.sort_by_key(|(lib, _)| lib.as_str());
        libs.into_iter()
            .filter_map(|(_, exports)| exports.macros.get(name))
            .flatten()
            .map(String::as_str)
            .collect()
    }

    /// A procedural-macro crate the target may invoke macros of (the first
    /// by library name, for a stable report), if any.
    pub fn proc_macro(&self) -> Option<&'a str> {
        let mut libs: Vec<(&String, &&'a Exports)> = self.by_lib.iter().collect();
        libs.sort_by_key(|(lib, _)| lib.as_str());
        libs.into_iter()
            .find_map(|(_, exports)| exports.proc_macro.as_deref())
    }

    pub fn new(pairs: impl IntoIterator<Item = (String, &'a Exports)>) -> Self {
        let by_lib: HashMap<String, &'a Exports> =
            pairs.into_iter().filter(|(_, e)| !e.is_empty()).collect();
        let mut methods: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (lib, exports) in &by_lib {
            for key in exports.items.keys() {
                let Some((owner, method)) = key.rsplit_once("::") else {
                    continue;
                };
                if names_type(owner) || exports.types.contains(owner) {
                    methods
                        .entry((lib.clone(), method.to_owned()))
                        .or_default()
                        .push(format!("{lib}::{key}"));
                }
            }
        }
        DependencyExports { by_lib, methods }
    }

    /// The methods called `name` of any type of dependency `lib` that reach
    /// something, as paths (`reqwest::blocking::RequestBuilder::send`).
    pub fn methods_named(&self, lib: &str, name: &str) -> &[String] {
        self.methods
            .get(&(lib.to_owned(), name.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// The methods called `name` of any type of any dependency that reach
    /// something, as paths.
    pub fn methods_named_anywhere<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s String> {
        self.methods
            .iter()
            .filter(move |((_, method), _)| method == name)
            .flat_map(|(_, paths)| paths)
    }

    /// Whether `path` (canonical, in a dependency) is one of its types or
    /// traits with methods, whatever its case.
    pub fn is_type(&self, path: &str) -> bool {
        names_type(path)
            || path
                .split_once("::")
                .is_some_and(|(lib, rest)| self.get(lib).is_some_and(|e| e.types.contains(rest)))
    }

    /// The dependency's own paths `path` (canonical, in a dependency)
    /// stands for through its aliases of its own items (`helper::T` →
    /// `helper::inner::Real` after `pub type T = inner::Real;`).
    pub fn own_aliased(&self, path: &str) -> Vec<String> {
        let (lib, targets) = self.alias_targets_of(path);
        targets
            .into_iter()
            .filter_map(|t| t.strip_prefix("crate::").map(|own| format!("{lib}::{own}")))
            .collect()
    }

    /// The outside paths `path` (canonical, in a dependency) stands for
    /// through the dependency's aliases (`helper::P` → `std::path::Path`).
    pub fn aliased(&self, path: &str) -> Vec<String> {
        let (_, targets) = self.alias_targets_of(path);
        targets
            .into_iter()
            .filter(|t| !crate::scan::names::is_own(t))
            .collect()
    }

    /// `path`'s library and every target of its dependency's aliases (none
    /// when `path` names no dependency).
    fn alias_targets_of<'p>(&self, path: &'p str) -> (&'p str, Vec<String>) {
        let Some((lib, rest)) = path.split_once("::") else {
            return (path, Vec::new());
        };
        match self.get(lib) {
            Some(exports) => (lib, alias_targets(exports, rest)),
            None => (lib, Vec::new()),
        }
    }

    pub fn get(&self, lib: &str) -> Option<&'a Exports> {
        self.by_lib.get(lib).copied()
    }

    /// What naming `path` (canonical, starting with a dependency's library
    /// name) reaches. Each witness's chain starts with `path`.
    pub fn lookup(&self, path: &str, rules: &RuleSet) -> Vec<Witness> {
        let mut walk = AliasWalk {
            seen: HashSet::from([path.to_owned()]),
            hops: MAX_VIA + path.split("::").count(),
        };
        self.lookup_within(path, rules, 0, &mut walk)
    }

    /// `lookup`, `depth` aliases of the crate's own paths deep: they can
    /// name each other (`Utf8Path::Owned` is `Utf8PathBuf`, whose `Target`
    /// is `Utf8Path`; winnow's `chapter_1::next` is `chapter_2`, whose
    /// `previous` is `chapter_1`), so the walk is bounded.
    fn lookup_within(
        &self,
        path: &str,
        rules: &RuleSet,
        depth: usize,
        walk: &mut AliasWalk,
    ) -> Vec<Witness> {
        let Some((lib, rest)) = path.split_once("::") else {
            return Vec::new();
        };
        let Some(exports) = self.get(lib) else {
            return Vec::new();
        };
        let mut out: Vec<Witness> = exports
            .items
            .get(rest)
            .into_iter()
            .flatten()
            .map(|w| Witness {
                capability: w.capability,
                rule: w.rule.clone(),
                via: bounded(std::iter::once(path.to_owned()).chain(w.via.iter().cloned())),
                resolution: w.resolution,
            })
            .collect();
        // An item and an alias under one path are alternatives (`cfg`s, or
        // namespaces): each counts.
        for target in alias_targets(exports, rest) {
            for w in self.through_alias(path, lib, &target, rules, depth, walk) {
                if !out.iter().any(|x| x.capability == w.capability) {
                    out.push(w);
                }
            }
        }
        out
    }

    /// What naming `path` (in `lib`) reaches when it is an alias of
    /// `target`.
    fn through_alias(
        &self,
        path: &str,
        lib: &str,
        target: &str,
        rules: &RuleSet,
        depth: usize,
        walk: &mut AliasWalk,
    ) -> Vec<Witness> {
        if let Some(own) = target
            .strip_prefix("crate::")
            .or((target == "crate").then_some(""))
        {
            // Another path of the crate's own (`prelude::prelude::` where
            // the prelude globs its parent, an associated type of its own
            // type, modules re-exporting each other): looked up as that,
            // the chain starting at the path as named. A path already
            // looked up adds nothing; a walk that keeps finding new ones
            // past the bound may miss what the path names, so it is
            // unanalysed rather than empty.
            let other = if own.is_empty() {
                lib.to_owned()
            } else {
                format!("{lib}::{own}")
            };
            if !walk.seen.insert(other.clone()) {
                return Vec::new();
            }
            if depth >= walk.hops || walk.seen.len() > MAX_ALIAS_PATHS {
                return vec![Witness {
                    capability: Capability::Unanalyzed,
                    rule: "scan-limit".to_owned(),
                    via: vec![
                        path.to_owned(),
                        format!(
                            "{lib}'s re-exports of its own paths lead on past {} lookups",
                            walk.hops.min(MAX_ALIAS_PATHS)
                        ),
                    ],
                    resolution: crate::model::Resolution::Path,
                }];
            }
            return self
                .lookup_within(&other, rules, depth + 1, walk)
                .into_iter()
                .map(|w| Witness {
                    capability: w.capability,
                    rule: w.rule,
                    via: bounded(std::iter::once(path.to_owned()).chain(w.via.into_iter().skip(1))),
                    resolution: w.resolution,
                })
                .collect();
        }
        rules
            .match_path(target)
            .into_iter()
            .map(|rule| rules.rule(rule))
            .filter(|rule| flows(rule.capability))
            .map(|rule| Witness {
                capability: rule.capability,
                rule: rule.id.as_str().to_owned(),
                via: vec![path.to_owned(), target.to_owned()],
                resolution: crate::model::Resolution::Path,
            })
            .collect()
    }
}

/// The outside paths `rest` stands for through the aliases of the longest
/// prefix that has any: a named alias of it, or a glob alias of its
/// module (both kept: which namespace each fills is not recorded).
pub(crate) fn alias_targets(exports: &Exports, rest: &str) -> Vec<String> {
    if exports.aliases.is_empty() || rest.is_empty() {
        return Vec::new();
    }
    let segments: Vec<&str> = rest.split("::").collect();
    for len in (1..=segments.len()).rev() {
        let prefix = segments[..len].join("::");
        let glob = if len == 1 {
            "*".to_owned()
        } else {
            format!("{}::*", segments[..len - 1].join("::"))
        };
        let mut out = Vec::new();
        for target in exports.aliases.get(&prefix).into_iter().flatten() {
            out.push(join(target, &segments[len..]));
        }
        for target in exports.aliases.get(&glob).into_iter().flatten() {
            out.push(join(target, &segments[len - 1..]));
        }
        if !out.is_empty() {
            out.sort();
            out.dedup();
            return out;
        }
    }
    Vec::new()
}

fn join(base: &str, tail: &[&str]) -> String {
    let mut s = base.to_owned();
    for segment in tail {
        s.push_str("::");
        s.push_str(segment);
    }
    s
}

/// Whether a path's last segment looks like a type (`UpperCamelCase`).
pub fn names_type(path: &str) -> bool {
    path.rsplit("::")
        .next()
        .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// A chain of at most [`MAX_VIA`] items, keeping both ends.
pub fn bounded(via: impl Iterator<Item = String>) -> Vec<String> {
    let via: Vec<String> = via.collect();
    if via.len() <= MAX_VIA {
        return via;
    }
    let mut out: Vec<String> = via[..MAX_VIA - 2].to_vec();
    out.push("…".into());
    out.push(via[via.len() - 1].clone());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_globs() {
        let mut exports = Exports::default();
        exports
            .aliases
            .insert("Command".into(), vec!["std::process::Command".into()]);
        exports
            .aliases
            .insert("net::*".into(), vec!["std::net".into()]);
        assert_eq!(
            alias_targets(&exports, "Command::new"),
            ["std::process::Command::new"]
        );
        assert_eq!(
            alias_targets(&exports, "net::TcpStream::connect"),
            ["std::net::TcpStream::connect"]
        );
        assert!(alias_targets(&exports, "other").is_empty());
        // Every glob of a module counts, not the first recorded; a named
        // alias beside a glob does not hide it (namespaces are not known).
        exports
            .aliases
            .insert("*".into(), vec!["std::fs".into(), "std::process".into()]);
        assert_eq!(
            alias_targets(&exports, "write"),
            ["std::fs::write", "std::process::write"]
        );
        assert_eq!(
            alias_targets(&exports, "Command::new"),
            ["std::fs::Command::new", "std::process::Command::new"]
        );
    }

    fn witness(capability: Capability) -> Witness {
        Witness {
            capability,
            rule: "rule".into(),
            via: Vec::new(),
            resolution: crate::model::Resolution::Path,
        }
    }

    #[test]
    fn own_aliases_are_followed_per_segment_and_a_walk_past_the_bound_is_unanalysed() {
        let rules = RuleSet::builtin();
        let mut exports = Exports::default();
        // winnow's chapters: `c1::next` is `c2`, whose `previous` is `c1`.
        exports
            .aliases
            .insert("c1::next".into(), vec!["crate::c2".into()]);
        exports
            .aliases
            .insert("c2::previous".into(), vec!["crate::c1".into()]);
        exports
            .items
            .insert("c2::run".into(), vec![witness(Capability::ProcessSpawn)]);
        // Aliases that make a longer path at every step.
        exports
            .aliases
            .insert("a::*".into(), vec!["crate::b::c".into()]);
        exports
            .aliases
            .insert("b::*".into(), vec!["crate::a::d".into()]);
        let deps = DependencyExports::new([("dep".to_owned(), &exports)]);
        let long = format!("dep::c1{}::next::run", "::next::previous".repeat(40));
        let found = deps.lookup(&long, &rules);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].capability, Capability::ProcessSpawn);
        // Back where it started: nothing there, and nothing unanalysed.
        assert!(
            deps.lookup("dep::c1::next::previous::absent", &rules)
                .is_empty()
        );
        let growing = deps.lookup("dep::a::x", &rules);
        assert_eq!(growing.len(), 1, "{growing:?}");
        assert_eq!(growing[0].capability, Capability::Unanalyzed);
        assert_eq!(growing[0].rule, "scan-limit");
    }
}
