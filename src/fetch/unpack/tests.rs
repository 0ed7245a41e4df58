//! Unpacking and listing `.crate` archives: the same refusals, paths kept
//! inside the crate, the checksum checked again.

use super::{UnpackError, UnpackLimits, checked_path, list_crate, unpack_crate, unpack_verified};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A `.crate` of `(path, Some(content))` files and `(path, None)`
/// directories, in that order.
fn archive(dir: &Path, entries: &[(&str, Option<&str>)]) -> PathBuf {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in entries {
        let mut h = tar::Header::new_ustar();
        let data = content.unwrap_or("").as_bytes();
        h.set_entry_type(if content.is_some() {
            tar::EntryType::Regular
        } else {
            tar::EntryType::Directory
        });
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    let path = dir.join("x-1.0.0.crate");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    path
}

/// What listing says of an archive is what unpacking it says: the same
/// refusal, or success with the same paths.
#[test]
fn listing_refuses_what_unpacking_refuses() {
    let cases: &[&[(&str, Option<&str>)]] = &[
        &[("x-1.0.0/a", Some("1")), ("x-1.0.0/a", Some("2"))],
        &[("x-1.0.0/a/", None), ("x-1.0.0/a", Some("1"))],
        &[("x-1.0.0/a", Some("1")), ("x-1.0.0/a/", None)],
        &[("x-1.0.0/a", Some("1")), ("x-1.0.0/a/b", Some("2"))],
        &[("x-1.0.0/a", Some("1")), ("x-1.0.0/a/b/c", Some("2"))],
        &[("x-1.0.0/a/b", Some("1")), ("x-1.0.0/a", Some("2"))],
        &[
            ("x-1.0.0/a/", None),
            ("x-1.0.0/a/", None),
            ("x-1.0.0/a/b", Some("1")),
        ],
        &[
            ("x-1.0.0/Cargo.toml", Some("[package]")),
            ("x-1.0.0/src/lib.rs", Some("")),
        ],
    ];
    let long = format!("x-1.0.0/{}.rs", "n".repeat(300));
    let long_case = [(long.as_str(), Some(""))];
    for case in cases.iter().copied().chain([&long_case[..]]) {
        let dir = tempfile::tempdir().unwrap();
        let crate_file = archive(dir.path(), case);
        let limits = UnpackLimits::default();
        let listed = list_crate(&crate_file, "x-1.0.0", limits).map_err(|e| e.to_string());
        let unpacked = unpack_crate(&crate_file, "x-1.0.0", &dir.path().join("out"), limits)
            .map_err(|e| e.to_string());
        match (&listed, &unpacked) {
            (Err(a), Err(b)) => assert_eq!(a, b, "{case:?}"),
            (Ok(listing), Ok(_)) => {
                for file in &listing.files {
                    assert!(dir.path().join("out").join(file).is_file(), "{case:?}");
                }
                for d in &listing.dirs {
                    assert!(dir.path().join("out").join(d).is_dir(), "{case:?}");
                }
            }
            _ => panic!("{case:?}: listed {listed:?}, unpacked {unpacked:?}"),
        }
    }
}

#[test]
fn an_archive_changed_since_it_was_verified_is_not_unpacked() {
    let dir = tempfile::tempdir().unwrap();
    let crate_file = archive(dir.path(), &[("x-1.0.0/src/lib.rs", Some("fn f() {}"))]);
    let real = crate::digest::file_sha256(&crate_file).unwrap();
    let dest = dir.path().join("out");
    let limits = UnpackLimits::default();
    let wrong = "0".repeat(64);
    let error = unpack_verified(&crate_file, "x-1.0.0", &dest, limits, Some(&wrong));
    assert!(
        matches!(error, Err(UnpackError::Changed { .. })),
        "{error:?}"
    );
    assert!(!dest.exists(), "nothing under the final name");
    unpack_verified(&crate_file, "x-1.0.0", &dest, limits, Some(&real)).unwrap();
    assert!(dest.join("src/lib.rs").is_file());
    // A kept copy is not reused once the archive no longer matches.
    let error = unpack_verified(&crate_file, "x-1.0.0", &dest, limits, Some(&wrong));
    assert!(
        matches!(error, Err(UnpackError::Changed { .. })),
        "{error:?}"
    );
}

#[test]
fn paths_stay_inside_the_crate() {
    assert_eq!(
        checked_path("x-1.0.0/src/lib.rs", "x-1.0.0"),
        Ok(Some(PathBuf::from("src/lib.rs")))
    );
    assert_eq!(checked_path("x-1.0.0/", "x-1.0.0"), Ok(None));
    assert!(checked_path("x-1.0.0/../evil", "x-1.0.0").is_err());
    assert!(checked_path("/etc/passwd", "x-1.0.0").is_err());
    assert!(checked_path("../x", "x-1.0.0").is_err());
    assert!(checked_path("y-1.0.0/src/lib.rs", "x-1.0.0").is_err());
    assert!(checked_path("x-1.0.0/a\\..\\b", "x-1.0.0").is_err());
}
