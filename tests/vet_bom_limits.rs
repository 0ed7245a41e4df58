//! `vet-bom` against a registry that stalls or floods: a silent server, a
//! trickling body, an endless body, a declared size over the bound. Each
//! ends within the deadline (`--timeout`) or the per-request limit
//! (`CAPGATE_HTTP_TIMEOUT`), the component is an `error` that says why,
//! the verdict is `error` (exit 2), and the crates the registry did serve
//! are still vetted.
//!
//! Timeouts here are seconds, so each test stays fast; the bound on the
//! elapsed time is loose (a shared machine) but far below what an unbounded
//! fetch would take.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::registry_server::{Hostile, Registry, Server};
use crate::util::Run;
use crate::vet_bom::{CALM, Env, NETTY, Vetted, bom, fixture_component, vetted};

const CALM_INDEX: &str = "/index/ca/pf/capfix-calm";
const CALM_DOWNLOAD: &str = "/dl/capfix-calm/1.0.0/download";

/// `vet-bom` of calm and netty with `args`, and extra environment.
fn vet_with(env: &Env, server: &Server, args: &[&str], vars: &[(&str, &str)]) -> (Run, Duration) {
    let b: Value = bom(vec![fixture_component(CALM), fixture_component(NETTY)]);
    let path = env
        .write("bom.json", &serde_json::to_string_pretty(&b).unwrap())
        .display()
        .to_string();
    let url = server.index_url();
    let mut all = vec![
        "vet-bom",
        path.as_str(),
        "--registry",
        url.as_str(),
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    let mut cmd = env.cmd();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let run = Run::of(&mut cmd, &all);
    (run, started.elapsed())
}

fn assert_within(elapsed: Duration, bound: Duration, v: &Vetted) {
    assert!(
        elapsed < bound,
        "took {elapsed:?}, more than {bound:?}\n{}",
        v.run.describe()
    );
}

/// Calm failed with an error naming `needles`; netty, served normally, was
/// vetted (its violation is its `net` use).
fn calm_failed_netty_vetted(v: &Vetted, needles: &[&str]) {
    v.expect_status("capfix-calm", "error")
        .expect_message("capfix-calm", needles)
        .expect_stderr_names("capfix-calm")
        .expect_not_scanned("capfix-calm")
        .expect_status("capfix-netty", "violation");
}

#[test]
fn a_silent_index_is_cut_off_at_the_deadline() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .hostile(CALM_INDEX, Hostile::Silent)
        .start();
    let (run, elapsed) = vet_with(&env, &server, &["--timeout", "2s"], &[]);
    let v = vetted(run, 2);
    calm_failed_netty_vetted(&v, &["--timeout of 2s passed", "before it was looked up"]);
    assert_within(elapsed, Duration::from_secs(15), &v);
}

#[test]
fn a_silent_download_is_cut_off_at_the_deadline() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .hostile(CALM_DOWNLOAD, Hostile::Silent)
        .start();
    let (run, elapsed) = vet_with(&env, &server, &["--timeout", "2s"], &[]);
    let v = vetted(run, 2);
    calm_failed_netty_vetted(&v, &["--timeout of 2s passed", "before it was downloaded"]);
    assert_within(elapsed, Duration::from_secs(15), &v);
}

#[test]
fn a_trickling_download_is_cut_off_by_the_request_limit() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .hostile(
            CALM_DOWNLOAD,
            Hostile::Trickle {
                bytes: 1 << 20,
                every: Duration::from_millis(50),
            },
        )
        .start();
    // The deadline is far away: the per-request limit cuts the trickle.
    let (run, elapsed) = vet_with(
        &env,
        &server,
        &["--timeout", "5m"],
        &[("CAPGATE_HTTP_TIMEOUT", "1s")],
    );
    let v = vetted(run, 2);
    calm_failed_netty_vetted(&v, &["could not fetch", "no complete answer within 1s"]);
    assert_within(elapsed, Duration::from_secs(15), &v);
}

#[test]
fn a_trickling_index_is_cut_off_at_the_deadline() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .hostile(
            CALM_INDEX,
            Hostile::Trickle {
                bytes: 1 << 20,
                every: Duration::from_millis(50),
            },
        )
        .start();
    let (run, elapsed) = vet_with(&env, &server, &["--timeout", "2s"], &[]);
    let v = vetted(run, 2);
    calm_failed_netty_vetted(&v, &["--timeout of 2s passed"]);
    assert_within(elapsed, Duration::from_secs(15), &v);
}

#[test]
fn retries_do_not_outlast_the_deadline() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .hostile(CALM_DOWNLOAD, Hostile::Silent)
        .start();
    // Fifty retries of one second each, with back-off, would take minutes.
    let (run, elapsed) = vet_with(
        &env,
        &server,
        &["--timeout", "3s"],
        &[
            ("CAPGATE_HTTP_TIMEOUT", "1s"),
            ("CAPGATE_HTTP_RETRIES", "50"),
            ("CAPGATE_HTTP_BACKOFF_MS", "200"),
        ],
    );
    let v = vetted(run, 2);
    calm_failed_netty_vetted(&v, &["--timeout of 3s passed"]);
    assert_within(elapsed, Duration::from_secs(15), &v);
}

#[test]
fn a_declared_size_over_the_bound_is_refused_unread() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .hostile(CALM_DOWNLOAD, Hostile::Declares { bytes: 1 << 40 })
        .start();
    let (run, elapsed) = vet_with(&env, &server, &[], &[]);
    let v = vetted(run, 2);
    calm_failed_netty_vetted(&v, &["larger than"]);
    assert_within(elapsed, Duration::from_secs(15), &v);
}

#[test]
fn an_endless_body_is_cut_off_at_the_size_bound_and_leaves_nothing() {
    let env = Env::new();
    let server = Registry::new()
        .fixtures(&[CALM, NETTY])
        .hostile(CALM_DOWNLOAD, Hostile::Endless)
        .start();
    let (run, elapsed) = vet_with(&env, &server, &[], &[]);
    let v = vetted(run, 2);
    calm_failed_netty_vetted(&v, &["larger than"]);
    assert_within(elapsed, Duration::from_secs(60), &v);
    let mut left = 0;
    crate::vet_bom::walk_files(&env.cache(), &mut |p| {
        left += p.metadata().map(|m| m.len()).unwrap_or(0);
    });
    assert!(
        left < 16 << 20,
        "the cut-off download was not removed: {left} bytes left in the cache"
    );
}

#[test]
fn the_timeout_takes_human_durations_and_refuses_nonsense() {
    let env = Env::new();
    let server = Registry::new().fixtures(&[CALM, NETTY]).start();
    for ok in ["90s", "5m", "1h 30m"] {
        let (run, _) = vet_with(&env, &server, &["--timeout", ok], &[]);
        vetted(run, 1).expect_status("capfix-calm", "ok");
    }
    for bad in ["soon", "0s", "5 parsecs"] {
        let (run, _) = vet_with(&env, &server, &["--timeout", bad], &[]);
        run.assert_code(2);
        assert!(
            run.stderr.contains("--timeout"),
            "the error names the flag\n{}",
            run.describe()
        );
    }
}
