//! Advisories: which packages of the graph the RustSec advisory database
//! says are vulnerable, unsound or unmaintained.
//!
//! Takes the graph and a database directory (by default the one cargo-audit
//! keeps, so users share one copy); returns, per package, the advisories
//! that affect its version. Withdrawn advisories never match. Only registry
//! packages are matched: a path or git crate that shares a name with a
//! published crate is not that crate. rustsec stays inside this module.

use std::path::{Path, PathBuf};

use crate::model::{BuildGraph, SourceKind};

/// What kind of advisory, as RustSec classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AdvisoryKind {
    Vulnerability,
    Unsound,
    Unmaintained,
    Notice,
    Informational,
}

impl AdvisoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvisoryKind::Vulnerability => "vulnerability",
            AdvisoryKind::Unsound => "unsound",
            AdvisoryKind::Unmaintained => "unmaintained",
            AdvisoryKind::Notice => "notice",
            AdvisoryKind::Informational => "informational",
        }
    }

    /// Whether `check` fails on it (unless the policy ignores it).
    pub fn fails_check(self) -> bool {
        matches!(
            self,
            AdvisoryKind::Vulnerability | AdvisoryKind::Unsound | AdvisoryKind::Unmaintained
        )
    }
}

/// One advisory affecting one package.
#[derive(Clone, Debug, PartialEq)]
pub struct AdvisoryMatch {
    pub id: String,
    pub aliases: Vec<String>,
    pub title: String,
    pub description: String,
    pub kind: AdvisoryKind,
    /// Version requirements that fix it (`>=1.2.3`).
    pub patched: Vec<String>,
    pub url: Option<String>,
    /// A CVSS vector string (`CVSS:3.1/AV:N/...`), when the advisory has one.
    pub cvss: Option<String>,
    /// The CVSS base score, computed from the vector.
    pub score: Option<f64>,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// A loaded advisory database.
pub struct AdvisoryDatabase {
    db: rustsec::Database,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdvisoryError {
    #[error("advisory database {} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("cannot load the advisory database {}: {message}", .path.display())]
    Load { path: PathBuf, message: String },
    #[error("could not fetch the advisory database from {url} into {}: {message}", .path.display())]
    Fetch {
        url: String,
        path: PathBuf,
        message: String,
    },
}

/// Where the RustSec advisory database is published. `CAPGATE_ADVISORY_DB_URL`
/// names a mirror (or, in tests, a local repository).
const ADVISORY_DB_URL: &str = "https://github.com/rustsec/advisory-db.git";

/// Clones the advisory database into `path`, or updates the clone already
/// there, with the `git` command (the database is data; nothing is run).
pub fn fetch(path: &Path) -> Result<(), AdvisoryError> {
    let url = std::env::var("CAPGATE_ADVISORY_DB_URL").unwrap_or_else(|_| ADVISORY_DB_URL.into());
    let fail = |message: String| AdvisoryError::Fetch {
        url: url.clone(),
        path: path.to_path_buf(),
        message,
    };
    let git = |args: &[&std::ffi::OsStr]| -> Result<(), AdvisoryError> {
        let output = std::process::Command::new("git")
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|e| fail(format!("cannot run git: {e}")))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(fail(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ))
        }
    };
    if path.join(".git").exists() {
        let dir = path.as_os_str();
        git(&[
            "-C".as_ref(),
            dir,
            "fetch".as_ref(),
            "--depth".as_ref(),
            "1".as_ref(),
            "origin".as_ref(),
        ])?;
        git(&[
            "-C".as_ref(),
            dir,
            "reset".as_ref(),
            "--hard".as_ref(),
            "FETCH_HEAD".as_ref(),
        ])
    } else if path.exists() {
        Err(fail(
            "the directory exists but is not a git clone; remove it or pass another --advisory-db"
                .into(),
        ))
    } else {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
        }
        git(&[
            "clone".as_ref(),
            "--depth".as_ref(),
            "1".as_ref(),
            "--quiet".as_ref(),
            url.as_ref(),
            path.as_os_str(),
        ])
    }
}

/// Where cargo-audit keeps its copy: `$CARGO_HOME/advisory-db`.
pub fn default_path() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    Some(cargo_home.join("advisory-db"))
}

impl AdvisoryDatabase {
    pub fn open(path: &Path) -> Result<Self, AdvisoryError> {
        if !path.is_dir() {
            return Err(AdvisoryError::Missing(path.to_path_buf()));
        }
        let db = rustsec::Database::open(path).map_err(|e| AdvisoryError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(AdvisoryDatabase { db })
    }

    /// The advisories affecting each package of `graph`, in graph order.
    pub fn matches(&self, graph: &BuildGraph) -> Vec<Vec<AdvisoryMatch>> {
        graph
            .packages
            .iter()
            .map(|p| {
                if p.source != SourceKind::Registry {
                    return Vec::new();
                }
                let (Ok(name), Ok(version)) = (
                    p.name.parse::<rustsec::package::Name>(),
                    rustsec::Version::parse(&p.version),
                ) else {
                    return Vec::new();
                };
                // Not `crate_scope()`: it leaves out informational advisories
                // (unsound, unmaintained), which `check` must see.
                let query = rustsec::database::Query::new()
                    .collection(rustsec::Collection::Crates)
                    .package_name(name)
                    .package_version(version)
                    .withdrawn(false);
                let mut found: Vec<AdvisoryMatch> =
                    self.db.query(&query).into_iter().map(to_match).collect();
                found.sort_by(|a, b| a.id.cmp(&b.id));
                found
            })
            .collect()
    }
}

/// Patched version requirements in words: "a version matching `>=1.6.1`
/// or `>=0.6.14, <1.0.0`".
pub fn describe_patched(patched: &[String]) -> String {
    let quoted: Vec<String> = patched.iter().map(|p| format!("`{p}`")).collect();
    format!("a version matching {}", quoted.join(" or "))
}

fn to_match(advisory: &rustsec::Advisory) -> AdvisoryMatch {
    let meta = &advisory.metadata;
    let kind = match &meta.informational {
        None => AdvisoryKind::Vulnerability,
        Some(rustsec::advisory::Informational::Unsound) => AdvisoryKind::Unsound,
        Some(rustsec::advisory::Informational::Unmaintained) => AdvisoryKind::Unmaintained,
        Some(rustsec::advisory::Informational::Notice) => AdvisoryKind::Notice,
        Some(_) => AdvisoryKind::Informational,
    };
    AdvisoryMatch {
        id: meta.id.to_string(),
        aliases: meta.aliases.iter().map(ToString::to_string).collect(),
        title: meta.title.clone(),
        description: meta.description.clone(),
        kind,
        patched: advisory
            .versions
            .patched()
            .iter()
            .map(ToString::to_string)
            .collect(),
        url: meta.url.as_ref().map(ToString::to_string),
        cvss: meta.cvss.as_ref().map(ToString::to_string),
        score: meta.cvss.as_ref().map(|c| c.score()),
        date: meta.date.to_string(),
    }
}
