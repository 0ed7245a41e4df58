//! What `vet-bom` flags about a requested crate before and after scanning
//! it: names agents get wrong, releases too new to trust, yanked versions,
//! and the status and message an agent acts on for each component.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::fetch::registry::PublishedVersion;

/// The popular crate names (most downloaded first), embedded from
/// `rules/popular-crates.txt`.
const POPULAR_CRATES: &str = include_str!("../../rules/popular-crates.txt");

/// A component's outcome, most severe first (the order of the variants is
/// the severity order, so the worst of several flags is the minimum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    ChecksumMismatch,
    Error,
    NotFound,
    MissingDependency,
    Yanked,
    TyposquatSuspect,
    TooNew,
    /// Some of its source could not be analysed and that is not granted: a
    /// violation of `unanalyzed`, named on its own because no grant should
    /// be written for code nobody has read.
    Unanalyzed,
    Violation,
    Unvetted,
    Ok,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Violation => "violation",
            Status::Unanalyzed => "unanalyzed",
            Status::NotFound => "not-found",
            Status::MissingDependency => "missing-dependency",
            Status::Yanked => "yanked",
            Status::ChecksumMismatch => "checksum-mismatch",
            Status::TyposquatSuspect => "typosquat-suspect",
            Status::TooNew => "too-new",
            Status::Unvetted => "unvetted",
            Status::Error => "error",
        }
    }

    /// Whether the component could not be vetted at all (exit 2).
    pub fn is_error(self) -> bool {
        matches!(self, Status::ChecksumMismatch | Status::Error)
    }
}

/// One reason a component is not simply vetted, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub status: Status,
    pub message: String,
    /// Crate names the component was probably meant to be.
    pub did_you_mean: Option<String>,
    /// The release to use instead (of a yanked or missing version).
    pub nearest_release: Option<String>,
}

impl Flag {
    pub fn new(status: Status, message: impl Into<String>) -> Flag {
        Flag {
            status,
            message: message.into(),
            did_you_mean: None,
            nearest_release: None,
        }
    }

    /// The same flag, naming the crate probably meant.
    pub fn did_you_mean(mut self, name: impl Into<String>) -> Flag {
        self.did_you_mean = Some(name.into());
        self
    }

    /// The same flag, naming the release to use instead.
    pub fn nearest_release(mut self, version: impl Into<String>) -> Flag {
        self.nearest_release = Some(version.into());
        self
    }
}

/// A popular name, normalised, with its character histogram (a cheap lower
/// bound on edit distance: one edit changes the histogram by at most two).
struct PopularName {
    name: &'static str,
    normalized: String,
    histogram: [u8; 64],
}

fn popular() -> &'static (Vec<PopularName>, HashSet<String>) {
    static POPULAR: OnceLock<(Vec<PopularName>, HashSet<String>)> = OnceLock::new();
    POPULAR.get_or_init(|| {
        let names: Vec<PopularName> = POPULAR_CRATES
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|name| {
                let normalized = normalize(name);
                PopularName {
                    name,
                    histogram: histogram(&normalized),
                    normalized,
                }
            })
            .collect();
        let set = names.iter().map(|p| p.normalized.clone()).collect();
        (names, set)
    })
}

/// Crate names as cargo compares them: case and `-`/`_` do not matter.
pub(crate) fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn histogram(name: &str) -> [u8; 64] {
    let mut h = [0u8; 64];
    for b in name.bytes() {
        let slot = &mut h[usize::from(b & 63)];
        *slot = slot.saturating_add(1);
    }
    h
}

/// Popular names within `allowed(rank)` edits of `wanted` (normalised),
/// most downloaded first, with their distance.
fn near<'a>(
    wanted: &'a str,
    allowed: impl Fn(usize) -> usize + 'a,
) -> impl Iterator<Item = (&'static str, usize)> + 'a {
    let (names, _) = popular();
    let wanted_histogram = histogram(wanted);
    names.iter().enumerate().filter_map(move |(rank, p)| {
        let allowed = allowed(rank);
        if p.normalized.len().abs_diff(wanted.len()) > allowed {
            return None;
        }
        let bound: usize = p
            .histogram
            .iter()
            .zip(&wanted_histogram)
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum();
        if bound > 2 * allowed {
            return None;
        }
        let distance = strsim::osa_distance(&p.normalized, wanted);
        (distance <= allowed).then_some((p.name, distance))
    })
}

/// Below this rank, names two edits away are too many to mean anything.
const TWO_EDITS_TOP: usize = 1_000;

/// The popular crate `name` is a near miss of, if any: not itself popular,
/// and one edit from a popular name, or two from one of the most popular
/// for names of more than five characters, or a popular name dressed up as
/// a port (`lasso-rs`, `rust-serde`). `-` and `_` count as the same
/// character, as cargo treats them.
///
/// A numbered sibling names a family member, not a slip of the keyboard:
/// a later number of a numbered popular crate (`wasip3` after `wasip2`), or
/// two characters ending in a digit appended to a popular name (`wasip3`
/// after `wasi`). An earlier number stays suspect (`proc-macro1`, removed
/// for malicious code, after `proc-macro2`): successors are what families
/// publish next, so an impostor there is left to the scan to judge.
pub fn typosquat_of(name: &str) -> Option<&'static str> {
    let wanted = normalize(name);
    let (_, set) = popular();
    if set.contains(&wanted) {
        return None;
    }
    let long = wanted.chars().count() > 5;
    near(
        &wanted,
        |rank| if long && rank < TWO_EDITS_TOP { 2 } else { 1 },
    )
    .find(|(popular, _)| !is_numbered_sibling(&wanted, &normalize(popular)))
    .map(|(name, _)| name)
    .or_else(|| dressed_as_port(&wanted))
}

/// Whether `wanted` is a later-numbered member of `popular`'s family (both
/// normalised).
fn is_numbered_sibling(wanted: &str, popular: &str) -> bool {
    if wanted
        .strip_prefix(popular)
        .is_some_and(|suffix| suffix.ends_with(|c: char| c.is_ascii_digit()))
    {
        return true;
    }
    let split = |name: &str| -> Option<(String, u64)> {
        let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
        let number = name[stem.len()..].parse().ok()?;
        Some((stem.to_owned(), number))
    };
    match (split(wanted), split(popular)) {
        (Some((stem, number)), Some((popular_stem, popular_number))) => {
            stem == popular_stem && number > popular_number
        }
        _ => false,
    }
}

/// Affixes that make a popular name look like its Rust port, the disguise
/// of several crates removed for malicious code (`lasso-rs`, `winx-rs`,
/// `windows-service-rs`).
const PORT_SUFFIXES: &[&str] = &["_rs", "_rust"];
const PORT_PREFIXES: &[&str] = &["rust_", "rs_"];

/// The popular crate `wanted` (normalised, not popular) is, once a port
/// affix is taken off.
fn dressed_as_port(wanted: &str) -> Option<&'static str> {
    let (names, set) = popular();
    let bare = PORT_SUFFIXES
        .iter()
        .find_map(|s| wanted.strip_suffix(s))
        .or_else(|| PORT_PREFIXES.iter().find_map(|p| wanted.strip_prefix(p)))
        .filter(|bare| set.contains(*bare))?;
    names.iter().find(|p| p.normalized == bare).map(|p| p.name)
}

/// The popular crate closest to a name that does not exist, to suggest.
pub fn closest_popular(name: &str) -> Option<&'static str> {
    let wanted = normalize(name);
    near(&wanted, |_| 2)
        .min_by_key(|(_, distance)| *distance)
        .map(|(name, _)| name)
}

/// `Some(age)` when `pubtime` is less than `min_age` before `now`.
pub fn too_new(
    pubtime: &str,
    min_age: Duration,
    now: SystemTime,
) -> Result<Option<Duration>, String> {
    let published = humantime::parse_rfc3339_weak(pubtime)
        .map_err(|e| format!("publication time `{pubtime}` does not parse: {e}"))?;
    let age = now.duration_since(published).unwrap_or(Duration::ZERO);
    Ok((age < min_age).then_some(age))
}

/// The release an agent should take instead of a yanked `version`: the
/// lowest later release that is not yanked and is semver-compatible, else
/// the highest release that is not yanked.
pub fn nearest_release<'a>(
    version: &semver::Version,
    versions: &'a [PublishedVersion],
) -> Option<&'a semver::Version> {
    let usable = || {
        versions
            .iter()
            .filter(|v| !v.yanked && v.version.pre.is_empty())
            .map(|v| &v.version)
    };
    let compatible = semver::VersionReq::parse(&format!("^{version}")).ok();
    usable()
        .filter(|v| *v > version && compatible.as_ref().is_none_or(|r| r.matches(v)))
        .min()
        .or_else(|| usable().max())
}

/// A human age: `5 hours`, `2 days`.
pub fn describe_age(age: Duration) -> String {
    let hours = age.as_secs() / 3600;
    if hours < 48 {
        format!("{hours} hour{}", if hours == 1 { "" } else { "s" })
    } else {
        format!("{} days", hours / 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(v: &str, yanked: bool) -> PublishedVersion {
        PublishedVersion {
            version: semver::Version::parse(v).unwrap(),
            checksum: String::new(),
            yanked,
            pubtime: None,
        }
    }

    #[test]
    fn near_misses_of_popular_names() {
        assert_eq!(typosquat_of("serde_jsom"), Some("serde_json"));
        assert_eq!(typosquat_of("reqwests"), Some("reqwest"));
        assert_eq!(typosquat_of("serde"), None);
        assert_eq!(typosquat_of("serde-json"), None, "same name to cargo");
        assert_eq!(typosquat_of("zzqxw-unrelated-crate"), None);
    }

    fn names(list: &str) -> impl Iterator<Item = &str> {
        list.lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    }

    #[test]
    fn siblings_and_ports() {
        assert_eq!(typosquat_of("wasip3"), None, "a numbered sibling of wasi");
        assert_eq!(typosquat_of("proc-macro1"), Some("proc-macro2"));
        assert_eq!(typosquat_of("lasso-rs"), Some("lasso"));
        assert_eq!(typosquat_of("rust-serde"), Some("serde"));
        assert_eq!(typosquat_of("encoding_rs"), None, "popular itself");
    }

    /// No popular crate is a typosquat of another, nor is any crate of a
    /// few real dependency graphs.
    #[test]
    fn no_false_alarms_on_popular_or_real_names() {
        let real = include_str!("../../fixtures/typosquat/real-dependencies.txt");
        let flagged: Vec<(&str, &str)> = names(POPULAR_CRATES)
            .chain(names(real))
            .filter_map(|n| Some((n, typosquat_of(n)?)))
            .collect();
        assert_eq!(flagged, []);
    }

    /// The crates removed from the registry for malicious code whose name
    /// imitates a popular one are all caught (18 of the 72; the others
    /// imitate nothing popular, which only the scan can judge).
    #[test]
    fn catches_past_malicious_crates_named_like_popular_ones() {
        let list = include_str!("../../fixtures/typosquat/malicious.txt");
        let caught: Vec<&str> = names(list).filter(|n| typosquat_of(n).is_some()).collect();
        assert_eq!(
            caught,
            [
                "bit-flags",
                "envlogger",
                "lasso-rs",
                "lazystatic",
                "oncecell",
                "openvpn-plugin-rs",
                "postgresderive",
                "postgress",
                "proc-macro1",
                "rands",
                "rustdecimal",
                "serd",
                "tauri-win-rt-notification",
                "tauri-winrt-notifications",
                "tracings",
                "windows-service-rs",
                "windowsservice",
                "winx-rs",
            ]
        );
        assert_eq!(names(list).count(), 72);
    }

    #[test]
    fn nearest_release_prefers_compatible_later() {
        let versions = [
            published("1.0.0", false),
            published("1.0.1", true),
            published("1.0.2", false),
            published("2.0.0", false),
        ];
        let v = semver::Version::parse("1.0.1").unwrap();
        assert_eq!(nearest_release(&v, &versions).unwrap().to_string(), "1.0.2");
        let versions = [published("0.1.0", false), published("0.2.0", true)];
        let v = semver::Version::parse("0.2.0").unwrap();
        assert_eq!(nearest_release(&v, &versions).unwrap().to_string(), "0.1.0");
    }

    #[test]
    fn ages() {
        let now = humantime::parse_rfc3339("2026-01-10T00:00:00Z").unwrap();
        let three_days = Duration::from_secs(3 * 86400);
        assert!(
            too_new("2026-01-09T23:00:00Z", three_days, now)
                .unwrap()
                .is_some()
        );
        assert!(
            too_new("2026-01-01T00:00:00Z", three_days, now)
                .unwrap()
                .is_none()
        );
        assert!(too_new("yesterday", three_days, now).is_err());
    }
}
