//! What each fuzz target does with one input, and what it checks.
//!
//! Shared by the fuzz targets (through this package's library) and by the
//! main crate's `cargo test` (tests/fuzz_regressions.rs includes this file
//! by path), so that every input the fuzzer kept as a regression is run the
//! same way without the fuzzer or a nightly toolchain. It uses only the
//! main crate's own dependencies.
//!
//! A harness panics only when capgate breaks a promise: it crashed, or it
//! returned something it must never return (an `unanalyzed` finding
//! without a reason, a purl that does not read back as the package it
//! names, an unpacked entry outside its directory or not a plain file).

use std::io::Write;
use std::path::{Path, PathBuf};

use cargo_capgate::fetch::unpack::{UnpackLimits, unpack_crate};
use cargo_capgate::model::{
    BuildGraph, Edition, Package, PackageKind, SourceKind, Target, TargetRole,
};
use cargo_capgate::model::{Capability, Finding};
use cargo_capgate::resolve::bom::{ComponentKind, CrateSource};
use cargo_capgate::rules::RuleSet;

use cargo_capgate::scan::SCAN_STACK_BYTES;

/// A package on disk (a private temporary directory) whose library root is
/// rewritten for every input, scanned as a registry crate would be.
pub struct ScanHarness {
    dir: tempfile::TempDir,
    rules: RuleSet,
}

impl Default for ScanHarness {
    fn default() -> Self {
        Self::new()
    }
}

impl ScanHarness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir(dir.path().join("src")).expect("src directory");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"fuzzed\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .expect("manifest");
        ScanHarness {
            dir,
            rules: RuleSet::builtin(),
        }
    }

    /// Scans `source` as the crate root `src/lib.rs`; returns its findings.
    pub fn scan(&self, source: &[u8], edition: Edition) -> Vec<Finding> {
        let root = self.dir.path();
        let root_file = root.join("src").join("lib.rs");
        std::fs::write(&root_file, source).expect("write the crate root");
        let package = package(root, "fuzzed", "0.1.0", root_file, edition);
        let graph = BuildGraph {
            workspace_root: root.to_path_buf(),
            packages: vec![package],
            root: None,
            platform: "x86_64-unknown-linux-gnu".into(),
            cfg_target: Some("x86_64-unknown-linux-gnu".into()),
            cfg_host: Some("x86_64-unknown-linux-gnu".into()),
        };
        let source = cargo_capgate::fetch::PackageSource::Present(root.to_path_buf());
        // On a stack the size of the scanner's own threads (scan_graph), so
        // that a stack overflow here is one in real scans too.
        let scan = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(SCAN_STACK_BYTES)
                .spawn_scoped(scope, || {
                    cargo_capgate::pipeline::scan_package(
                        &graph.packages[0],
                        &graph,
                        &source,
                        &self.rules,
                        &|_| None,
                    )
                })
                .expect("a scanning thread")
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        let findings = scan.code.findings;
        for finding in &findings {
            if finding.capability == Capability::Unanalyzed {
                assert!(
                    !finding.evidence.trim().is_empty(),
                    "an unanalyzed finding without a reason: {finding:?}"
                );
            }
        }
        findings
    }
}

fn package(
    root: &Path,
    name: &str,
    version: &str,
    root_file: PathBuf,
    edition: Edition,
) -> Package {
    Package {
        id: format!("{name} {version}"),
        name: name.into(),
        version: version.into(),
        source: SourceKind::Registry,
        source_id: None,
        default_registry: true,
        manifest_path: root.join("Cargo.toml"),
        root: root.to_path_buf(),
        kind: PackageKind::Lib,
        targets: vec![Target {
            name: name.replace('-', "_"),
            kind: TargetRole::Lib,
            root_file,
            edition,
        }],
        build_script: None,
        links: None,
        dependencies: Vec::new(),
        build_dependencies: Vec::new(),
        features: Vec::new(),
        checksum: None,
        license: None,
        license_file: None,
        description: None,
        repository: None,
        homepage: None,
        documentation: None,
    }
}

/// Parses `text` as a `capgate.toml` and as a Cargo.toml with a
/// `[package.metadata.capgate]` table, rendering every diagnostic (spans
/// into the text included).
pub fn policy(text: &str) {
    use cargo_capgate::policy::{parse_cargo_metadata, parse_policy_file};
    render_policy(parse_policy_file(Path::new("capgate.toml"), text));
    if let Some(result) = parse_cargo_metadata(Path::new("Cargo.toml"), text) {
        render_policy(result);
    }
}

fn render_policy(result: PolicyResult) {
    use cargo_capgate::policy::PolicyError;
    use cargo_capgate::report::diagnostics::render_diagnostics;
    match result {
        Ok((_, warnings)) => {
            render_diagnostics(&warnings, false);
        }
        Err(PolicyError::Invalid { diagnostics, .. }) => {
            assert!(
                !diagnostics.is_empty(),
                "an invalid policy with no diagnostic"
            );
            render_diagnostics(&diagnostics, true);
        }
        Err(e) => panic!("parsing text gave a non-validation error: {e}"),
    }
}

type PolicyResult = Result<
    (
        cargo_capgate::policy::Policy,
        Vec<cargo_capgate::diagnostic::Diagnostic>,
    ),
    cargo_capgate::policy::PolicyError,
>;

/// Reads `text` as a CycloneDX JSON bill of materials.
pub fn bom(text: &str) {
    match cargo_capgate::resolve::bom::parse("fuzz.json", text) {
        Ok(request) => {
            for component in &request.components {
                component.display_name();
            }
        }
        Err(e) => {
            e.to_string();
        }
    }
}

/// Purls both ways. The input is lines: a crate name, a version, a source
/// id (empty: the default registry), then a purl read as a BoM component.
/// A purl written for a valid crate name and semantic version must read
/// back as that crate, at that version, from that registry.
pub fn purl(input: &str) {
    let mut lines = input.splitn(4, '\n');
    let name = lines.next().unwrap_or_default();
    let version = lines.next().unwrap_or_default();
    let source_id = lines.next().unwrap_or_default();
    let raw = lines.next().unwrap_or_default();
    bom(&bom_with_purl(raw));

    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let Ok(semver) = version.parse::<semver::Version>() else {
        return;
    };
    if !valid_name {
        return;
    }
    let mut p = package(
        Path::new("/nonexistent"),
        name,
        version,
        PathBuf::from("/nonexistent/src/lib.rs"),
        Edition::E2021,
    );
    let registry = source_id
        .strip_prefix("registry+")
        .or_else(|| source_id.strip_prefix("sparse+"))
        .filter(|url| !url.is_empty());
    if let Some(url) = registry {
        p.source_id = Some(source_id.to_owned());
        p.default_registry = false;
        let written = cargo_capgate::report::package_purl(&p, Path::new("/"));
        let c = read_back(&written);
        assert_eq!(
            c.source,
            CrateSource::Registry {
                repository_url: Some(url.to_owned())
            },
            "{written}"
        );
    }
    p.source_id = None;
    p.default_registry = true;
    let written = cargo_capgate::report::package_purl(&p, Path::new("/"));
    let c = read_back(&written);
    assert_eq!(c.name, name, "{written}");
    assert_eq!(c.version, semver, "{written}");
    assert_eq!(
        c.source,
        CrateSource::Registry {
            repository_url: None
        },
        "{written}"
    );
    // A local crate reads back as local, never as the registry's.
    p.source = cargo_capgate::model::SourceKind::Path;
    let written = cargo_capgate::report::package_purl(&p, Path::new("/"));
    let c = read_back(&written);
    assert_eq!(
        c.source,
        CrateSource::Local {
            path: "nonexistent".into()
        },
        "{written}"
    );
}

fn bom_with_purl(purl: &str) -> String {
    serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"type": "library", "name": "x", "purl": purl}],
    })
    .to_string()
}

/// Unpacks a `.crate`. The first byte chooses the form of the rest: odd,
/// a tar stream that is gzip'd here (so that mutations reach the tar
/// reader rather than failing gzip's checksum); even, the `.crate` bytes as
/// they are. Whatever is unpacked must be plain files and directories
/// inside the destination.
pub fn unpack(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = dir.path().join("fuzzed-0.1.0.crate");
    let bytes = if mode & 1 == 1 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).expect("gzip in memory");
        gz.finish().expect("gzip in memory")
    } else {
        rest.to_vec()
    };
    std::fs::write(&archive, bytes).expect("write the archive");
    let out = dir.path().join("out");
    let dest = out.join("fuzzed-0.1.0");
    let limits = UnpackLimits {
        max_bytes: 4 << 20,
        max_files: 2_000,
    };
    if unpack_crate(&archive, "fuzzed-0.1.0", &dest, limits).is_ok() {
        check_tree(&dest, &dest);
    }
    // Nothing but the destination may appear beside it, finished or not.
    for entry in std::fs::read_dir(&out).expect("list the output directory") {
        let path = entry.expect("directory entry").path();
        assert_eq!(path, dest, "unpacking left {} behind", path.display());
    }
    for entry in std::fs::read_dir(dir.path()).expect("list the temporary directory") {
        let path = entry.expect("directory entry").path();
        assert!(
            path == archive || path == out,
            "unpacking wrote {} outside its destination",
            path.display()
        );
    }
}

fn check_tree(dir: &Path, dest: &Path) {
    for entry in std::fs::read_dir(dir).expect("list an unpacked directory") {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        assert!(path.starts_with(dest), "{} escaped", path.display());
        let kind = std::fs::symlink_metadata(&path)
            .expect("metadata")
            .file_type();
        if kind.is_dir() {
            check_tree(&path, dest);
        } else {
            assert!(kind.is_file(), "{} is not a plain file", path.display());
        }
    }
}

/// The crate a purl capgate wrote reads back as, through the BoM reader.
fn read_back(written: &str) -> cargo_capgate::resolve::bom::RequestedCrate {
    let request = cargo_capgate::resolve::bom::parse("fuzz.json", &bom_with_purl(written))
        .unwrap_or_else(|e| panic!("capgate's own purl {written} does not read back: {e}"));
    match request.components.into_iter().next().map(|c| c.kind) {
        Some(ComponentKind::Crate(c)) => c,
        _ => panic!("{written} does not read back as a crate"),
    }
}
