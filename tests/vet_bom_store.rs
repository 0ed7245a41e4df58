//! What `vet-bom` keeps in the cache directory (`crates/` downloads, `src/`
//! unpacked crates) is written by whoever can write that directory, so it
//! is checked before reuse: a kept `.crate` against the index checksum, a
//! kept unpacking against that `.crate`. Each test vets netty (which opens
//! sockets: a violation), tampers with the kept copy so that netty would
//! look clean or different, drops the scan results (so the sources are
//! read again), and vets again: the report must be the first one.

use std::path::{Path, PathBuf};

use crate::registry_server::{Registry, Server};
use crate::util::Run;
use crate::vet_bom::{CALM, Env, NETTY, bom, fixture_component, vetted};

/// The single directory below `dir` whose name starts with `prefix`.
fn only_dir(dir: &Path, prefix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    assert_eq!(found.len(), 1, "one {prefix}* in {}", dir.display());
    found.into_iter().next().unwrap()
}

fn vet(env: &Env, server: &Server) -> Run {
    env.vet(
        server,
        &bom(vec![fixture_component(NETTY), fixture_component(CALM)]),
        &[],
    )
}

/// Vets, lets `tamper` change the cache (given its root), removes the
/// scan results, vets again; the reports must be equal, and stderr must
/// mention `warning` (or nothing, when `None`).
fn tampered_store_is_not_trusted(warning: Option<&str>, tamper: impl Fn(&Path)) {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY, CALM]).start();
    let first = vetted(vet(&env, &server), 1);
    first.expect_status("capfix-netty", "violation");
    tamper(&env.cache());
    std::fs::remove_dir_all(env.cache().join("v2")).unwrap();
    let again = vetted(vet(&env, &server), 1);
    assert_eq!(
        again.run.stdout,
        first.run.stdout,
        "the same report\n{}",
        again.run.describe()
    );
    if let Some(warning) = warning {
        assert!(
            again.run.stderr.contains(warning),
            "stderr says {warning:?}\n{}",
            again.run.describe()
        );
    }
}

fn netty_unpacked(cache: &Path) -> PathBuf {
    only_dir(&cache.join("src"), "capfix-netty-0.3.0-")
}

#[test]
fn an_unpacked_crate_edited_in_the_cache_is_unpacked_again() {
    tampered_store_is_not_trusted(Some("src/lib.rs is shorter than in the archive"), |cache| {
        let dir = netty_unpacked(cache);
        let mut edited = 0;
        crate::vet_bom::walk_files(&dir, &mut |p| {
            if p.extension().is_some_and(|e| e == "rs") {
                std::fs::write(p, "pub fn calm() {}\n").unwrap();
                edited += 1;
            }
        });
        assert!(edited > 0);
    });
}

#[test]
fn a_file_added_to_an_unpacked_crate_is_found() {
    tampered_store_is_not_trusted(Some("is not in the archive"), |cache| {
        std::fs::write(netty_unpacked(cache).join("src/planted.rs"), "").unwrap();
    });
}

#[test]
fn a_file_removed_from_an_unpacked_crate_is_found() {
    tampered_store_is_not_trusted(Some("is missing"), |cache| {
        std::fs::remove_file(netty_unpacked(cache).join("Cargo.toml")).unwrap();
    });
}

#[test]
fn an_unpacked_crate_replaced_by_a_link_is_not_followed() {
    tampered_store_is_not_trusted(Some("is not a directory"), |cache| {
        let dir = netty_unpacked(cache);
        let calm = only_dir(&cache.join("src"), "capfix-calm-1.0.0-");
        std::fs::remove_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(&calm, &dir).unwrap();
    });
}

#[test]
fn a_kept_download_that_no_longer_matches_is_fetched_again() {
    tampered_store_is_not_trusted(None, |cache| {
        std::fs::remove_dir_all(netty_unpacked(cache)).unwrap();
        let crates = cache.join("crates");
        let kept = std::fs::read_dir(&crates)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains("capfix-netty"))
            .expect("netty's download is kept");
        std::fs::write(&kept, b"not the archive").unwrap();
    });
}

#[test]
fn a_cache_directory_that_is_a_file_gives_one_warning_and_the_same_report() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[NETTY, CALM]).start();
    let first = vetted(vet(&env, &server), 1);
    std::fs::remove_dir_all(env.cache()).unwrap();
    std::fs::write(env.cache(), b"not a directory").unwrap();
    let again = vetted(vet(&env, &server), 1);
    assert_eq!(again.run.stdout, first.run.stdout, "the same report");
    let warnings: Vec<&str> = again
        .run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning\n{}", again.run.describe());
    assert!(warnings[0].contains("cannot write to the scan cache"));
}
