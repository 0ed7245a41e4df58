//! How head's policy differs from base's. A pull request can edit the
//! policy that judges it, so whatever the change lets through that base did
//! not (a capability granted, an advisory ignored, an unvettable component
//! accepted) is reported as a widening of its own policy: a reviewer must
//! see it first, and `--deny-grant-changes` fails on it.

use std::collections::BTreeSet;

use crate::evaluate::Scope;
use crate::model::Capability;
use crate::policy::Policy;

/// One capability one policy entry grants.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GrantChange {
    /// The policy entry's package name (`name@requirement` for an entry
    /// bound to versions), or `[defaults]`.
    pub package: String,
    pub scope: Scope,
    pub capability: Capability,
}

/// What head's policy adds to and removes from base's. A package entry
/// whose version requirement changes is its old grants removed and its new
/// ones added: a looser requirement is a widening like any other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyChanges {
    pub grants_added: Vec<GrantChange>,
    pub grants_removed: Vec<GrantChange>,
    /// Advisory ids head ignores and base did not.
    pub ignores_added: Vec<String>,
    pub ignores_removed: Vec<String>,
    /// Components vet-bom may pass unvetted in head and not in base.
    pub accepts_added: Vec<String>,
    pub accepts_removed: Vec<String>,
}

impl PolicyChanges {
    pub fn between(base: &Policy, head: &Policy) -> PolicyChanges {
        let (base_grants, head_grants) = (grants(base), grants(head));
        let mut grants_added = uncovered(&head_grants, &base_grants);
        grants_added.extend(defaults_in_place_of_entries(base, head));
        grants_added.sort();
        grants_added.dedup();
        let grants_removed = uncovered(&base_grants, &head_grants);
        let ignores = |p: &Policy| -> BTreeSet<String> {
            p.ignored_advisories.iter().map(|i| i.id.clone()).collect()
        };
        let (ignores_added, ignores_removed) = added_removed(ignores(base), ignores(head));
        let accepts = |p: &Policy| -> BTreeSet<String> {
            p.accepted_unvetted
                .iter()
                .map(|a| a.component.clone())
                .collect()
        };
        let (accepts_added, accepts_removed) = added_removed(accepts(base), accepts(head));
        PolicyChanges {
            grants_added,
            grants_removed,
            ignores_added,
            ignores_removed,
            accepts_added,
            accepts_removed,
        }
    }

    /// Whether head's policy lets through anything base's did not.
    pub fn widens(&self) -> bool {
        !(self.grants_added.is_empty()
            && self.ignores_added.is_empty()
            && self.accepts_added.is_empty())
    }

    /// What the widening adds, counted: `2 grants, 1 ignored advisory`.
    pub fn widening_summary(&self) -> String {
        let counts = [
            (self.grants_added.len(), "grant", "grants"),
            (
                self.ignores_added.len(),
                "ignored advisory",
                "ignored advisories",
            ),
            (
                self.accepts_added.len(),
                "accepted unvetted component",
                "accepted unvetted components",
            ),
        ];
        counts
            .iter()
            .filter(|(n, ..)| *n > 0)
            .map(|&(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One thing a policy lets through: a grant, an ignored advisory or an
/// accepted unvetted component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyItem<'a> {
    Grant(&'a GrantChange),
    Ignore(&'a str),
    Accept(&'a str),
}

impl PolicyChanges {
    /// What head's policy adds, grants first.
    pub fn added(&self) -> impl Iterator<Item = PolicyItem<'_>> {
        items(&self.grants_added, &self.ignores_added, &self.accepts_added)
    }

    /// What head's policy no longer has, grants first.
    pub fn removed(&self) -> impl Iterator<Item = PolicyItem<'_>> {
        items(
            &self.grants_removed,
            &self.ignores_removed,
            &self.accepts_removed,
        )
    }
}

fn items<'a>(
    grants: &'a [GrantChange],
    ignores: &'a [String],
    accepts: &'a [String],
) -> impl Iterator<Item = PolicyItem<'a>> {
    let grants = grants.iter().map(PolicyItem::Grant);
    let ignores = ignores.iter().map(|id| PolicyItem::Ignore(id));
    let accepts = accepts.iter().map(|c| PolicyItem::Accept(c));
    grants.chain(ignores).chain(accepts)
}

fn added_removed<T: Ord + Clone>(base: BTreeSet<T>, head: BTreeSet<T>) -> (Vec<T>, Vec<T>) {
    (
        head.difference(&base).cloned().collect(),
        base.difference(&head).cloned().collect(),
    )
}

/// The grants of `these` that no grant of `by` to the same entry and scope
/// covers (`fs` covers `fs.read`: narrowing a grant is not widening it).
fn uncovered(these: &BTreeSet<GrantChange>, by: &BTreeSet<GrantChange>) -> Vec<GrantChange> {
    these
        .iter()
        .filter(|g| {
            !by.iter().any(|b| {
                b.package == g.package && b.scope == g.scope && b.capability.covers(g.capability)
            })
        })
        .cloned()
        .collect()
}

/// An entry replaces `[defaults]` for the versions it matches. A base entry
/// that no head entry of its name matches everywhere it did (one without
/// a version, or with the same requirement) hands those versions to head's
/// `[defaults]`: deleting `[pkg.foo] allow = []`, or moving its requirement
/// off the version in use, grants foo whatever the defaults grant. Each
/// default grant the base entry did not give is added, under
/// `[defaults] for ENTRY`.
fn defaults_in_place_of_entries(base: &Policy, head: &Policy) -> Vec<GrantChange> {
    let mut out = Vec::new();
    for entry in &base.packages {
        let still_an_entry = head
            .packages
            .iter()
            .any(|h| h.name == entry.name && (h.version.is_none() || h.version == entry.version));
        if still_an_entry {
            continue;
        }
        let package = format!("[defaults] for {}", entry_key(entry));
        for (scope, defaults, granted) in [
            (Scope::Code, &head.defaults.allow, &entry.grants.allow),
            (
                Scope::BuildScript,
                &head.defaults.build_script,
                &entry.grants.build_script,
            ),
        ] {
            for &capability in defaults {
                if !granted.iter().any(|g| g.covers(capability)) {
                    out.push(GrantChange {
                        package: package.clone(),
                        scope,
                        capability,
                    });
                }
            }
        }
    }
    out
}

/// An entry's package name, `name@requirement` when bound to versions.
fn entry_key(entry: &crate::policy::PackageEntry) -> String {
    match &entry.version {
        Some(req) => format!("{}@{req}", entry.name),
        None => entry.name.clone(),
    }
}

fn grants(policy: &Policy) -> BTreeSet<GrantChange> {
    let mut out = BTreeSet::new();
    let mut add = |package: &str, scope: Scope, caps: &[Capability]| {
        for &capability in caps {
            out.insert(GrantChange {
                package: package.to_owned(),
                scope,
                capability,
            });
        }
    };
    add("[defaults]", Scope::Code, &policy.defaults.allow);
    add(
        "[defaults]",
        Scope::BuildScript,
        &policy.defaults.build_script,
    );
    for entry in &policy.packages {
        let name = entry_key(entry);
        add(&name, Scope::Code, &entry.grants.allow);
        add(&name, Scope::BuildScript, &entry.grants.build_script);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{AcceptedComponent, Grants, IgnoredAdvisory, PackageEntry};

    fn entry(name: &str, version: Option<&str>, allow: &[Capability]) -> PackageEntry {
        PackageEntry {
            name: name.to_owned(),
            version: version.map(|v| v.parse().unwrap()),
            grants: Grants {
                allow: allow.to_vec(),
                build_script: Vec::new(),
            },
            reason: None,
            span: None,
        }
    }

    #[test]
    fn a_policy_compared_with_itself_does_not_widen() {
        let mut p = Policy::empty();
        p.packages.push(entry("mio", None, &[Capability::Net]));
        let changes = PolicyChanges::between(&p, &p);
        assert_eq!(changes, PolicyChanges::default());
        assert!(!changes.widens());
    }

    #[test]
    fn a_looser_version_requirement_widens() {
        let mut base = Policy::empty();
        base.packages
            .push(entry("mio", Some("=1.0.0"), &[Capability::Net]));
        let mut head = Policy::empty();
        head.packages.push(entry("mio", None, &[Capability::Net]));
        let changes = PolicyChanges::between(&base, &head);
        assert!(changes.widens());
        assert_eq!(changes.grants_added[0].package, "mio");
        assert_eq!(changes.grants_removed[0].package, "mio@=1.0.0");
    }

    #[test]
    fn narrowing_a_grant_is_not_widening_it() {
        let mut base = Policy::empty();
        base.packages
            .push(entry("tempfile", None, &[Capability::Fs]));
        let mut head = Policy::empty();
        head.packages
            .push(entry("tempfile", None, &[Capability::FsRead]));
        let narrowed = PolicyChanges::between(&base, &head);
        assert!(!narrowed.widens());
        assert_eq!(narrowed.grants_removed.len(), 1);
        let widened = PolicyChanges::between(&head, &base);
        assert!(widened.widens());
        assert_eq!(widened.grants_added[0].capability, Capability::Fs);
    }

    #[test]
    fn an_entry_dropped_in_favour_of_broader_defaults_widens() {
        let mut base = Policy::empty();
        base.defaults.allow = vec![Capability::Fs, Capability::Net];
        base.defaults.build_script = vec![Capability::Env];
        base.packages
            .push(entry("evil", Some("=1.0.0"), &[Capability::Net]));
        base.packages.push(entry("other", None, &[]));
        // Deleted, or bound to a version not in use: defaults apply.
        let mut head = base.clone();
        head.packages = vec![entry("evil", Some("=9.0.0"), &[])];
        let changes = PolicyChanges::between(&base, &head);
        assert!(changes.widens());
        let added: Vec<(String, Scope, Capability)> = changes
            .grants_added
            .iter()
            .map(|g| (g.package.clone(), g.scope, g.capability))
            .collect();
        let evil = "[defaults] for evil@=1.0.0".to_owned();
        let other = "[defaults] for other".to_owned();
        assert_eq!(
            added,
            [
                (evil.clone(), Scope::Code, Capability::Fs),
                (evil, Scope::BuildScript, Capability::Env),
                (other.clone(), Scope::Code, Capability::Fs),
                (other.clone(), Scope::Code, Capability::Net),
                (other, Scope::BuildScript, Capability::Env),
            ]
        );
        // An entry kept, or one for every version, keeps the defaults away.
        let mut kept = base.clone();
        kept.packages = vec![
            entry("evil", Some("=1.0.0"), &[Capability::Net]),
            entry("other", Some("=2.0.0"), &[]),
            entry("other", None, &[]),
        ];
        assert!(!PolicyChanges::between(&base, &kept).widens());
    }

    #[test]
    fn ignoring_an_advisory_or_accepting_a_component_widens() {
        let base = Policy::empty();
        let mut head = Policy::empty();
        head.ignored_advisories.push(IgnoredAdvisory {
            id: "RUSTSEC-2099-0001".to_owned(),
            reason: None,
        });
        head.accepted_unvetted.push(AcceptedComponent {
            component: "pkg:npm/left-pad@1.3.0".to_owned(),
            reason: None,
        });
        let changes = PolicyChanges::between(&base, &head);
        assert!(changes.widens());
        assert_eq!(
            changes.widening_summary(),
            "1 ignored advisory, 1 accepted unvetted component"
        );
        // The other way round narrows: nothing added.
        assert!(!PolicyChanges::between(&head, &base).widens());
    }
}
