//! Attacks on `vet-bom` by the author of a bill of materials (or of a crate
//! in it) who has read capgate's source and wants a `pass` for something
//! that was not fully vetted. Each test is one attack; each must end in a
//! verdict other than `pass`.

use std::path::Path;

use serde_json::{Value, json};

use crate::registry_server::{Archive, Published, Registry, Server, crate_base};
use crate::util::Run;
use crate::vet_bom::{CALM, Env, NETTY, bom, cargo, fixture_component, with_features};

const NET_FN: &str =
    "pub fn connect() { let _ = std::net::TcpStream::connect(\"127.0.0.1:1\"); }\n";

/// The verdict of a report, or `error` for the error object.
fn verdict(run: &Run) -> String {
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", run.describe()));
    if report.get("error").is_some() {
        return "error".into();
    }
    report["verdict"].as_str().unwrap_or("?").to_owned()
}

fn assert_not_pass(run: &Run, why: &str) {
    crate::util::assert_no_crash(run);
    assert_ne!(run.code, Some(0), "{why}: passed\n{}", run.describe());
    if !run.stdout.trim().is_empty() {
        assert_ne!(verdict(run), "pass", "{why}\n{}", run.describe());
    }
}

fn with_ref(mut component: Value, r: &str) -> Value {
    component["bom-ref"] = r.into();
    component
}

/// `capatk-dual@1.0.0`: `net` only behind its `net` feature.
fn dual() -> Published {
    let manifest = "[package]\nname = \"capatk-dual\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[features]\nnet = []\n";
    let archive = Archive::new()
        .file("capatk-dual-1.0.0/Cargo.toml", manifest.as_bytes())
        .file(
            "capatk-dual-1.0.0/src/lib.rs",
            format!("#[cfg(feature = \"net\")]\n{NET_FN}").as_bytes(),
        );
    Published::archive("capatk-dual", "1.0.0", archive.gz())
}

#[test]
fn the_same_crate_twice_with_different_features_is_scanned_with_both() {
    let env = Env::new();
    let server: Server = Registry::new().publish(dual()).start();
    // The harmless listing first, so that a "first one wins" dedup keeps it.
    let quiet = with_ref(with_features(cargo("capatk-dual", "1.0.0"), ""), "a");
    let loud = with_ref(with_features(cargo("capatk-dual", "1.0.0"), "net"), "b");
    let run = env.vet(&server, &bom(vec![quiet, loud]), &[]);
    assert_not_pass(
        &run,
        "the `net` feature one listing records was never scanned",
    );
}

/// `capatk-user@1.0.0` calls `capatk-wire::connect` (net); the policy grants
/// `net` to `capatk-wire` only.
fn user_and_wire() -> (Published, Published) {
    let manifest = "[package]\nname = \"capatk-user\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[dependencies]\ncapatk-wire = \"1\"\n";
    let user = Archive::new()
        .file("capatk-user-1.0.0/Cargo.toml", manifest.as_bytes())
        .file(
            "capatk-user-1.0.0/src/lib.rs",
            b"pub fn phone_home() { capatk_wire::connect(); }\n",
        );
    let user = Published::archive("capatk-user", "1.0.0", user.gz())
        .with_deps(vec![("capatk-wire".into(), "^1".into())]);
    let wire = Published::archive(
        "capatk-wire",
        "1.0.0",
        crate_base("capatk-wire", "1.0.0", NET_FN).gz(),
    );
    (user, wire)
}

#[test]
fn a_bom_graph_that_leaves_out_a_required_dependency_does_not_hide_its_reach() {
    // The user's manifest requires capatk-wire; the BoM says it has no
    // dependencies at all.
    let run = vet_user_and_wire_with_graph(json!([
        { "ref": "ref:capatk-user@1.0.0", "dependsOn": [] },
        { "ref": "ref:capatk-wire@1.0.0", "dependsOn": [] },
    ]));
    assert_not_pass(&run, "capatk-user reaches net through capatk-wire");
}

/// Vets a BoM of capatk-user and capatk-wire (whose `net` is granted) with
/// the `dependencies` section given.
fn vet_user_and_wire_with_graph(dependencies: Value) -> Run {
    let env = Env::new();
    let (user, wire) = user_and_wire();
    let server = Registry::new().publish(user).publish(wire).start();
    let policy = env.policy("[pkg.capatk-wire]\nallow = [\"net\"]\n");
    let mut b = bom(vec![
        cargo("capatk-user", "1.0.0"),
        cargo("capatk-wire", "1.0.0"),
    ]);
    b["dependencies"] = dependencies;
    env.vet(&server, &b, &["--policy", &policy])
}

#[test]
fn odd_purls_never_pass_as_the_registrys_crate() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    for (purl, version) in [
        // packageurl refuses a namespace for cargo: a BoM error.
        ("pkg:cargo/elsewhere/capfix-calm@1.0.0", "1.0.0"),
        // A subpath names something in or beside the crate: unvetted.
        ("pkg:cargo/capfix-calm@1.0.0#vendor/other", "1.0.0"),
        // Another spelling of the name: the index answers, the archive
        // does not match it.
        ("pkg:cargo/CAPFIX-CALM@1.0.0", "1.0.0"),
        // Build metadata makes another version: not in the index.
        ("pkg:cargo/capfix-calm@1.0.0+evil", "1.0.0+evil"),
        ("pkg:cargo/%20capfix-calm@1.0.0", "1.0.0"),
    ] {
        let mut c = fixture_component(CALM);
        c["purl"] = purl.into();
        c["version"] = version.into();
        let run = env.vet(&server, &bom(vec![c]), &[]);
        assert_not_pass(&run, purl);
    }
}

fn local_crate(dir: &Path, name: &str, lib_rs: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), lib_rs).unwrap();
}

fn local(name: &str, dir: &str, r: &str) -> Value {
    json!({
        "type": "library",
        "bom-ref": r,
        "name": name,
        "version": "1.0.0",
        "purl": format!("pkg:cargo/{name}@1.0.0?download_url=file://{dir}"),
    })
}

#[test]
fn two_local_crates_of_one_name_and_version_are_both_scanned() {
    let env = Env::new();
    let server = Registry::new().start();
    local_crate(
        &env.work().join("a"),
        "capatk-twin",
        "pub fn nothing() {}\n",
    );
    local_crate(&env.work().join("b"), "capatk-twin", NET_FN);
    let run = env.vet(
        &server,
        &bom(vec![
            local("capatk-twin", "a", "twin-a"),
            local("capatk-twin", "b", "twin-b"),
        ]),
        &[],
    );
    assert_not_pass(&run, "the second local crate was never scanned");
}

#[test]
fn a_bom_that_leaves_out_a_required_dependency_entirely_does_not_pass() {
    let env = Env::new();
    let (user, wire) = user_and_wire();
    let server = Registry::new().publish(user).publish(wire).start();
    // capatk-user cannot be built without capatk-wire, which is not listed.
    let run = env.vet(&server, &bom(vec![cargo("capatk-user", "1.0.0")]), &[]);
    assert_not_pass(&run, "capatk-wire would be built but was never vetted");
}

#[test]
fn a_huge_timeout_or_minimum_age_is_refused_not_a_crash() {
    // The MCP server passes `timeout` and `min_age_days` through: values
    // past what a clock or a Duration holds must be an error, not a panic.
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM]).start();
    let b = serde_json::to_string(&bom(vec![fixture_component(CALM)])).unwrap();
    for arg in ["--timeout=400000000000y", "--min-age=1e300"] {
        let run = env.run_raw(&server, &b, &["--format", "json", arg]);
        run.assert_code(2);
        assert!(!run.stdout.contains("\"pass\""), "{}", run.describe());
    }
}

/// A program that leaves `marker` behind if anything starts it, then does
/// what the real one would (so cargo does not fail first).
fn plant_program(path: &Path, marker: &Path) {
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\necho \"$0 $*\" >> '{}'\nexec \"$@\"\n",
            marker.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_local_crates_tree_starts_nothing_when_vet_bom_reads_it() {
    // The BoM names a local crate whose directory (and the workspace
    // around it) configures programs for cargo to run: wrappers, a runner,
    // a credential provider, a toolchain. vet-bom runs `cargo metadata` on
    // it, and nothing of that may start.
    let env = Env::new();
    let server = Registry::new().start();
    let work = env.work();
    let marker = work.join("RAN");
    let evil = work.join("evil.sh");
    plant_program(&evil, &marker);
    let toolchain = work.join("toolchain/bin");
    std::fs::create_dir_all(&toolchain).unwrap();
    plant_program(&toolchain.join("cargo"), &marker);
    plant_program(&toolchain.join("rustc"), &marker);
    let config = format!(
        "[build]\nrustc = '{e}'\nrustc-wrapper = '{e}'\nrustc-workspace-wrapper = '{e}'\n\
         [target.'cfg(all())']\nrunner = '{e}'\nlinker = '{e}'\n\
         [registry]\nglobal-credential-providers = ['{e}']\n\
         [alias]\nmetadata = 'build'\n",
        e = evil.display()
    );
    let toolchain_file = format!(
        "[toolchain]\npath = '{}'\n",
        work.join("toolchain").display()
    );
    let sub = work.join("sub");
    local_crate(&sub, "capatk-local", "pub fn nothing() {}\n");
    std::fs::write(
        sub.join("build.rs"),
        format!(
            "fn main() {{ std::process::Command::new('{}').status().ok(); }}\n",
            evil.display()
        )
        .replace('\'', "\""),
    )
    .unwrap();
    for dir in [&work, &sub] {
        std::fs::create_dir_all(dir.join(".cargo")).unwrap();
        std::fs::write(dir.join(".cargo/config.toml"), &config).unwrap();
        std::fs::write(dir.join("rust-toolchain.toml"), &toolchain_file).unwrap();
    }
    let mut cmd = env.cmd();
    for var in ["CARGO", "RUSTC", "RUSTUP_TOOLCHAIN"] {
        cmd.env_remove(var);
    }
    let b = serde_json::to_string(&bom(vec![local("capatk-local", "sub", "l")])).unwrap();
    let path = env.write("bom.json", &b).display().to_string();
    let url = server.index_url();
    let run = Run::of(
        &mut cmd,
        &["vet-bom", &path, "--registry", &url, "--format", "json"],
    );
    crate::util::assert_no_crash(&run);
    assert!(
        !marker.exists(),
        "a program of the tree ran: {}\n{}",
        std::fs::read_to_string(&marker).unwrap_or_default(),
        run.describe()
    );
    // It was read, and its build script is the `build` capability.
    assert_not_pass(&run, "a build script without a grant");
    assert!(run.stdout.contains("\"build\""), "{}", run.describe());
}

#[test]
fn explain_does_not_say_a_capability_is_absent_from_code_it_could_not_read() {
    // A crate hides its network code in a module file that does not exist
    // before a build (a build script would write it): asked whether it uses
    // `net`, explain must not answer "no" without naming what it could not
    // read.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"capatk-hidden\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/lib.rs"),
        "mod generated;\npub use generated::*;\n",
    )
    .unwrap();
    for format in ["json", "human"] {
        let run = crate::util::run_on(
            "explain",
            root,
            &[
                "--color",
                "never",
                "--format",
                format,
                "capatk-hidden",
                "net",
            ],
        );
        crate::util::assert_no_crash(&run);
        assert!(
            !run.stdout.contains("does not use"),
            "claims the absence of net\n{}",
            run.describe()
        );
        assert!(run.stdout.contains("unanalyzed"), "{}", run.describe());
    }
}

#[test]
fn a_bom_graph_that_points_a_dependency_at_a_decoy_version_does_not_hide_its_reach() {
    let env = Env::new();
    let (user, wire) = user_and_wire();
    let decoy = Published::archive(
        "capatk-wire",
        "0.1.0",
        crate_base("capatk-wire", "0.1.0", "pub fn connect() {}\n").gz(),
    );
    let server = Registry::new()
        .publish(user)
        .publish(wire)
        .publish(decoy)
        .start();
    let policy = env.policy("[pkg.capatk-wire]\nallow = [\"net\"]\n");
    let mut b = bom(vec![
        cargo("capatk-user", "1.0.0"),
        cargo("capatk-wire", "1.0.0"),
        cargo("capatk-wire", "0.1.0"),
    ]);
    // capatk-user requires capatk-wire ^1; the BoM says it uses 0.1.0.
    b["dependencies"] = json!([
        { "ref": "ref:capatk-user@1.0.0", "dependsOn": ["ref:capatk-wire@0.1.0"] },
    ]);
    let run = env.vet(&server, &b, &["--policy", &policy]);
    assert_not_pass(&run, "capatk-user reaches net through capatk-wire 1.0.0");
}

#[test]
fn a_registry_crate_as_the_boms_subject_is_vetted_too() {
    // `cargo install`'s BoM: the subject is the crate that will be built.
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM, NETTY]).start();
    let mut b = bom(vec![fixture_component(CALM)]);
    let mut subject = fixture_component(NETTY);
    subject["type"] = "application".into();
    b["metadata"] = json!({ "component": subject });
    let run = env.vet(&server, &b, &[]);
    assert_not_pass(&run, "the subject capfix-netty (net) was never vetted");
}

#[test]
fn a_dependency_cycle_the_bom_invents_does_not_hide_a_reach() {
    // The real edge, and one back that no manifest has: a cycle, whose
    // members are scanned in some order, the first without the other's
    // exports.
    let run = vet_user_and_wire_with_graph(json!([
        { "ref": "ref:capatk-user@1.0.0", "dependsOn": ["ref:capatk-wire@1.0.0"] },
        { "ref": "ref:capatk-wire@1.0.0", "dependsOn": ["ref:capatk-user@1.0.0"] },
    ]));
    assert_not_pass(&run, "capatk-user reaches net through capatk-wire");
}

#[test]
fn a_local_crate_whose_library_lies_outside_it_is_not_read_there() {
    let env = Env::new();
    let server = Registry::new().start();
    let work = env.work();
    // Outside the workspace vet-bom runs in, too.
    let outside = work.parent().unwrap().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("lib.rs"), NET_FN).unwrap();
    let sub = work.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("Cargo.toml"),
        "[package]\nname = \"capatk-far\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[lib]\npath = \"../../outside/lib.rs\"\n\n[workspace]\n",
    )
    .unwrap();
    let run = env.vet(&server, &bom(vec![local("capatk-far", "sub", "far")]), &[]);
    assert_not_pass(&run, "the library is outside the workspace");
    assert!(run.stdout.contains("unanalyzed"), "{}", run.describe());
    assert!(!run.stdout.contains("net.connect"), "{}", run.describe());
}

#[test]
fn dependencies_a_build_may_not_have_are_not_required_of_a_bom() {
    // A dependency under a condition only a `--cfg` could make hold is not
    // required of a BoM: the build surely does not have it.
    let env = Env::new();
    let manifest = "[package]\nname = \"capatk-opt\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[dependencies]\ncapatk-wire = { version = \"1\", optional = true }\n\n[target.'cfg(capatk_unstable)'.dependencies]\ncapatk-calm = \"1\"\n";
    let opt = Archive::new()
        .file("capatk-opt-1.0.0/Cargo.toml", manifest.as_bytes())
        .file("capatk-opt-1.0.0/src/lib.rs", b"pub fn nothing() {}\n");
    let server = Registry::new()
        .publish(Published::archive("capatk-opt", "1.0.0", opt.gz()))
        .start();
    let none = with_features(cargo("capatk-opt", "1.0.0"), "");
    let run = env.vet(&server, &bom(vec![none]), &[]);
    run.assert_code(0);
    // With the feature recorded, the optional dependency is built.
    let c = with_features(cargo("capatk-opt", "1.0.0"), "capatk-wire");
    let run = env.vet(&server, &bom(vec![c]), &[]);
    assert_not_pass(&run, "the recorded feature turns on an unlisted dependency");
    // With no features recorded, every feature could be built (the issue's
    // rule, fail closed): the optional dependency is required, and the
    // message says how to record features instead.
    let run = env.vet(&server, &bom(vec![cargo("capatk-opt", "1.0.0")]), &[]);
    assert_not_pass(&run, "every feature assumed");
    assert!(
        run.stdout.contains("missing-dependency") && run.stdout.contains("capgate:features"),
        "{}",
        run.describe()
    );
}

#[test]
// Was open (an attack found in review): a BoM naming wasm32 hid the host's
// cfg(unix) code. Now such a BoM is vetted for every platform.
fn a_bom_that_names_another_target_does_not_hide_the_hosts_code() {
    let env = Env::new();
    let unix_net = Published::archive(
        "capatk-unixy",
        "1.0.0",
        crate_base("capatk-unixy", "1.0.0", &format!("#[cfg(unix)]\n{NET_FN}")).gz(),
    );
    let server = Registry::new().publish(unix_net).start();
    let mut b = bom(vec![cargo("capatk-unixy", "1.0.0")]);
    b["metadata"] = json!({ "properties": [
        { "name": "cdx:rustc:sbom:target:triple", "value": "wasm32-unknown-unknown" },
    ]});
    let run = env.vet(&server, &b, &[]);
    assert_not_pass(&run, "the host build has the cfg(unix) network code");
}
