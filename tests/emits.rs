//! Code a procedural macro only emits (`fixtures/emits`): the tokens of the
//! registry crates' `quote!`, `quote_spanned!` and `parse_quote!` are
//! reported as what the macro's output does (`emits`, `emitted`), not as
//! what the macro does. The attacks on that (a local or path `quote`, a
//! renamed library, `#[macro_use]` and glob imports of another `quote!`,
//! code in `quote_spanned!`'s span) are `fixtures/hostile/macros-emits-*`.

use serde_json::Value;

use crate::util;

/// (capability, line) of each finding in `findings`.
fn places(findings: &Value) -> Vec<(String, u64)> {
    findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["capability"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|&(c, l)| (c.to_owned(), l)).collect()
}

#[test]
fn what_a_derive_generates_is_what_it_emits_not_what_it_does() {
    let w = util::TempWorkspace::copy("emits");
    let report = w.run("scan", &["--format", "json"]).assert_code(0).report();
    crate::schema::assert_valid(&crate::schema::validator("scan"), "emits", &report);
    let derive = util::package(&report, "persist-derive");
    assert_eq!(
        util::strings(&derive["capabilities"]),
        ["env.read", "proc-macro"],
        "the macro reads its configuration, and the span quote_spanned! evaluates"
    );
    assert_eq!(
        places(&derive["findings"]),
        pairs(&[("proc-macro", 7), ("env.read", 9), ("env.read", 24)])
    );
    assert_eq!(
        util::strings(&derive["emits"]),
        ["ffi", "fs.write", "net.connect", "process.spawn", "unsafe"]
    );
    assert_eq!(
        places(&derive["emitted"]),
        pairs(&[
            ("fs.write", 13),
            ("unsafe", 16),
            ("ffi", 19),
            ("process.spawn", 26),
            ("net.connect", 30),
        ])
    );
    for stand_in in ["quote", "syn"] {
        let package = util::package(&report, stand_in);
        assert_eq!(package["source"], "registry");
        assert!(package.get("emits").is_none(), "{stand_in} emits nothing");
    }
}

#[test]
fn a_policy_grants_what_the_macro_does_not_what_it_emits() {
    let w = util::TempWorkspace::copy("emits");
    std::fs::write(
        w.ws.join("capgate.toml"),
        "[pkg.persist-derive]\nallow = [\"env.read\", \"proc-macro\"]\n",
    )
    .unwrap();
    w.run("check", &[]).assert_code(0);
}
