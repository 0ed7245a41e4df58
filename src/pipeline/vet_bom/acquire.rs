//! Getting one component's crate for `vet-bom`: looked up, flagged,
//! downloaded, verified and its archive checked and listed (what resolving
//! needs), or found in place when it is local. A registry crate is unpacked
//! later, by [`unpack_pending`], and only when its scan is not cached.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::cache::inventory;
use crate::evaluate::vet::{self, Flag, Status};
use crate::fetch::PackageSource;
use crate::fetch::http::Deadline;
use crate::fetch::registry::{FetchError, Registry};
use crate::fetch::unpack::{UnpackLimits, Unpacked, list_crate, unpack_verified};
use crate::resolve::bom::{CrateSource, RequestedComponent, RequestedCrate};
use crate::resolve::crates::{ArchiveContents, Origin, UnpackedCrate};
use crate::resolve::local::LocalCrates;

/// What every component's fetch shares.
pub(super) struct Fetching<'a> {
    pub(super) registry: &'a Registry,
    /// Where downloads (`crates/`) and unpacked crates (`src/`) are kept.
    pub(super) store: &'a Path,
    pub(super) min_age: Duration,
    pub(super) now: SystemTime,
    pub(super) deadline: Deadline,
}

/// Where each stage of one crate's vetting spent its time, for `-v`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CrateTimings {
    /// The index lookup.
    pub lookup: Duration,
    /// Getting the `.crate` (a download, hashed as it arrives), besides
    /// verifying a copy already on disk.
    pub fetch: Duration,
    pub verify: Duration,
    /// Checking and listing every entry of the archive.
    pub check: Duration,
}

/// A checked archive to unpack if its crate's scan is not cached.
#[derive(Clone, Debug)]
pub(super) struct PendingUnpack {
    pub(super) name: String,
    pub(super) version: String,
    pub(super) archive: PathBuf,
    pub(super) checksum: String,
    pub(super) dest: PathBuf,
    /// The archive is capgate's own download (not cargo's copy), to be
    /// marked used when it is unpacked.
    pub(super) stored: bool,
}

/// One component's crate as fetched: its flags, the crate to resolve, the
/// archive to unpack when it is scanned.
pub(super) struct Fetched {
    pub(super) flags: Vec<Flag>,
    pub(super) krate: Option<UnpackedCrate>,
    pub(super) pending: Option<PendingUnpack>,
    pub(super) timings: CrateTimings,
}

/// Looks a crate up, flags what is wrong with the request, and fetches,
/// verifies, checks and lists it unless it cannot or must not be.
pub(super) fn fetch_one(
    fetching: &Fetching,
    krate: &RequestedCrate,
    component: &RequestedComponent,
) -> Fetched {
    let mut timings = CrateTimings::default();
    let (flags, found) = fetch_timed(fetching, krate, component, &mut timings);
    let (krate, pending) = match found {
        Some((krate, pending)) => (Some(krate), Some(pending)),
        None => (None, None),
    };
    Fetched {
        flags,
        krate,
        pending,
        timings,
    }
}

fn fetch_timed(
    fetching: &Fetching,
    krate: &RequestedCrate,
    component: &RequestedComponent,
    timings: &mut CrateTimings,
) -> (Vec<Flag>, Option<(UnpackedCrate, PendingUnpack)>) {
    let Fetching {
        registry,
        store,
        min_age,
        now,
        deadline,
    } = fetching;
    let (min_age, now) = (*min_age, *now);
    let name = &krate.name;
    let version = krate.version.to_string();
    let mut flags = Vec::new();
    let out_of_time = |stage: &str| {
        Flag::new(
            Status::Error,
            format!(
                "{name}@{version} was not vetted: the --timeout of {} passed before it was {stage}. Run again (what was fetched is kept), or give it more time",
                deadline.describe()
            ),
        )
    };
    // A registry request that failed: out of time before the crate was
    // `stage`, or an error of its own, saying what could not be done.
    let failed = |stage: &str, doing: String, error: FetchError| match error {
        FetchError::Deadline(e) => vec![out_of_time(stage), Flag::new(Status::Error, e)],
        e => vec![Flag::new(Status::Error, format!("could not {doing}: {e}"))],
    };
    if deadline.passed() {
        flags.push(out_of_time("looked up"));
        return (flags, None);
    }
    if let Some(popular) = vet::typosquat_of(name) {
        flags.push(
            Flag::new(
                Status::TyposquatSuspect,
                format!(
                    "`{name}` is one or two letters from the popular crate `{popular}`: if you meant `{popular}`, use it; otherwise check who publishes `{name}` before using it"
                ),
            )
            .did_you_mean(popular),
        );
    }
    if let CrateSource::Registry {
        repository_url: Some(url),
    } = &krate.source
    {
        flags.push(Flag::new(
            Status::Error,
            format!(
                "the purl names another registry ({url}); pass its sparse index with --registry"
            ),
        ));
        return (flags, None);
    }
    let started = Instant::now();
    let versions = registry.versions(name);
    timings.lookup = started.elapsed();
    let versions = match versions {
        Ok(Some(versions)) => versions,
        Ok(None) => {
            let meant = vet::closest_popular(name).filter(|p| p != name);
            let hint = meant
                .as_ref()
                .map(|p| format!("; did you mean `{p}`"))
                .unwrap_or_default();
            let mut flag = Flag::new(
                Status::NotFound,
                format!(
                    "no crate named `{name}` exists in the registry{hint}. Remove it from the dependencies"
                ),
            );
            if let Some(meant) = meant {
                flag = flag.did_you_mean(meant);
            }
            flags.push(flag);
            return (flags, None);
        }
        Err(e) => {
            flags.extend(failed("looked up", format!("look `{name}` up"), e));
            return (flags, None);
        }
    };
    let Some(published) = versions.iter().find(|v| v.version == krate.version) else {
        let latest = versions
            .iter()
            .rev()
            .find(|v| !v.yanked && v.version.pre.is_empty())
            .map(|v| v.version.to_string());
        let mut flag = Flag::new(
            Status::NotFound,
            format!(
                "`{name}` has no version {version} in the registry{}",
                latest
                    .as_ref()
                    .map(|v| format!("; the latest release is {v}"))
                    .unwrap_or_default()
            ),
        );
        if let Some(latest) = latest {
            flag = flag.nearest_release(latest);
        }
        flags.push(flag);
        return (flags, None);
    };
    if published.yanked {
        let nearest = vet::nearest_release(&krate.version, &versions);
        let mut flag = Flag::new(
            Status::Yanked,
            format!(
                "{name}@{version} is yanked{}",
                nearest
                    .as_ref()
                    .map(|v| format!("; {v} is the nearest release"))
                    .unwrap_or_else(|| "; no release of it is left unyanked".into())
            ),
        );
        if let Some(nearest) = nearest {
            flag = flag.nearest_release(nearest.to_string());
        }
        flags.push(flag);
    }
    // Old index entries carry no publication time; such releases predate
    // the field, so they are not new.
    if let (false, Some(pubtime)) = (min_age.is_zero(), &published.pubtime) {
        match vet::too_new(pubtime, min_age, now) {
            Ok(Some(age)) => flags.push(Flag::new(
                Status::TooNew,
                format!(
                    "{name}@{version} was published {} ago, less than the minimum age of {} days: wait, or pin an older release",
                    vet::describe_age(age),
                    min_age.as_secs_f64() / 86_400.0
                ),
            )),
            Ok(None) => {}
            Err(e) => flags.push(Flag::new(Status::Error, e)),
        }
    }
    if let Some(expected) = &krate.sha256
        && *expected != published.checksum
    {
        flags.push(Flag::new(
            Status::ChecksumMismatch,
            format!(
                "the BoM's SHA-256 {expected} differs from the registry's {}; the crate was not fetched or scanned. Regenerate the BoM or find out who changed it",
                published.checksum
            ),
        ));
        return (flags, None);
    }
    let started = Instant::now();
    let archive = registry.crate_file(name, &version, &published.checksum, &store.join("crates"));
    let archive = match archive {
        Ok((path, verifying)) => {
            timings.verify = verifying;
            timings.fetch = started.elapsed().saturating_sub(verifying);
            path
        }
        Err(e @ FetchError::ChecksumMismatch { .. }) => {
            flags.push(Flag::new(
                Status::ChecksumMismatch,
                format!("{e}; the crate was not scanned. Do not use this download"),
            ));
            return (flags, None);
        }
        Err(e) => {
            flags.extend(failed("downloaded", format!("fetch {name}@{version}"), e));
            return (flags, None);
        }
    };
    // Used now: the cache's eviction goes by last use. cargo's own copy is
    // cargo's to manage.
    if archive.starts_with(store) {
        inventory::touch(&archive);
    }
    if deadline.passed() {
        flags.push(out_of_time("unpacked"));
        return (flags, None);
    }
    let prefix = format!("{name}-{version}");
    // Everything is unpacked (`-all`): directories of earlier releases,
    // which held a subset, are left to the cache's eviction.
    let dest = store
        .join("src")
        .join(format!("{prefix}-{}-all", &published.checksum[..16]));
    let started = Instant::now();
    // Every entry is checked now, so a crate whose archive would not unpack
    // is flagged here as before; the unpacking itself waits for the scan.
    let listing = list_crate(&archive, &prefix, UnpackLimits::default());
    timings.check = started.elapsed();
    match listing {
        Ok(listing) => {
            let contents = ArchiveContents {
                files: listing.files,
                dirs: listing.dirs,
                manifest: listing.manifest,
            };
            let pending = PendingUnpack {
                name: name.clone(),
                version: version.clone(),
                stored: archive.starts_with(store),
                archive,
                checksum: published.checksum.clone(),
                dest: dest.clone(),
            };
            let krate = UnpackedCrate {
                name: name.clone(),
                version,
                root: dest,
                origin: Origin::Registry {
                    checksum: published.checksum.clone(),
                    source_id: registry.source_id.clone(),
                    default_registry: registry.is_default,
                },
                bom_ref: component.bom_ref.clone(),
                features: krate.features.clone(),
                listing: Some(Arc::new(contents)),
            };
            (flags, Some((krate, pending)))
        }
        Err(e) => {
            flags.push(Flag::new(Status::Error, e.to_string()));
            (flags, None)
        }
    }
}

/// Unpacks a crate whose scan is not cached, into its place in the store
/// (or checks the copy kept there), verifying the archive's checksum again
/// in the same read: what the scanner reads is what was verified.
pub(super) fn unpack_pending(pending: &PendingUnpack, quiet: bool) -> PackageSource {
    let PendingUnpack {
        name,
        version,
        archive,
        checksum,
        dest,
        stored,
    } = pending;
    let prefix = format!("{name}-{version}");
    match unpack_verified(
        archive,
        &prefix,
        dest,
        UnpackLimits::default(),
        Some(checksum),
    ) {
        Ok(Unpacked { root, replaced }) => {
            inventory::touch(&root);
            // Read again just now, and after the unpacked copy: eviction
            // takes the sources, which are cheaper to make again, first.
            if *stored {
                inventory::touch(archive);
            }
            if let Some(why) = replaced.filter(|_| !quiet) {
                // Not the component's fault: the store was changed.
                eprintln!(
                    "warning: the unpacked copy of {name}@{version} in the cache did not match its verified .crate ({why}); unpacked it again"
                );
            }
            PackageSource::Present(root)
        }
        Err(e) => PackageSource::Missing {
            reason: format!("{name}@{version} could not be unpacked: {e}"),
        },
    }
}

/// A local crate (a workspace member or path dependency), read where the
/// BoM says it is, relative to the workspace root: never looked up in a
/// registry.
pub(super) fn local_one(
    locals: &mut LocalCrates,
    krate: &RequestedCrate,
    path: &str,
    component: &RequestedComponent,
) -> (Vec<Flag>, Option<UnpackedCrate>) {
    match locals.find(path, &krate.name, &krate.version) {
        Ok((root, local)) => (
            Vec::new(),
            Some(UnpackedCrate {
                name: krate.name.clone(),
                version: krate.version.to_string(),
                root,
                origin: Origin::Local(local),
                bom_ref: component.bom_ref.clone(),
                features: krate.features.clone(),
                listing: None,
            }),
        ),
        Err(why) => (
            vec![Flag::new(
                Status::NotFound,
                format!(
                    "{} is a local crate (download_url=file://{path}) that vet-bom could not read: {why}. Run vet-bom in the workspace the BoM was made for (or pass its --manifest-path)",
                    component.display_name()
                ),
            )],
            None,
        ),
    }
}

/// Why a crate whose purl vet-bom cannot follow is not vetted, if so.
pub(super) fn unfollowed_source(krate: &RequestedCrate) -> Option<String> {
    match &krate.source {
        CrateSource::Git { vcs_url } => Some(format!(
            "it is built from git ({vcs_url}), which vet-bom does not fetch; the registry's crate of that name is not what would be built"
        )),
        CrateSource::Unsupported { why } => Some(why.clone()),
        CrateSource::Registry { .. } | CrateSource::Local { .. } => None,
    }
}
