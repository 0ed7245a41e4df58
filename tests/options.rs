//! Every shared option either takes effect in a command or is refused
//! there (exit 2, naming it): none is read and forgotten. The table below
//! is the contract, written out rather than taken from the source; the
//! refusal comes before any work, so each case is one quick run.

use crate::util;

/// Each shared option, with a value where it takes one.
const OPTIONS: &[(&str, Option<&str>)] = &[
    ("--manifest-path", Some("Cargo.toml")),
    ("--features", Some("x")),
    ("--all-features", None),
    ("--no-default-features", None),
    ("--target", Some("x86_64-unknown-linux-gnu")),
    ("--dev", None),
    ("--all-targets-cfg", None),
    ("--offline", None),
    ("--locked", None),
    ("--policy", Some("capgate.toml")),
    ("--advisory-db", Some("advisory-db")),
    ("--fetch-advisories", None),
    ("--rules", Some("rules.toml")),
    ("--no-cache", None),
    ("--verbose", None),
];

/// Each command (with the arguments it needs to parse) and the options it
/// refuses.
const REFUSED: &[(&[&str], &[&str])] = &[
    (&["scan"], &["--policy"]),
    (&["check"], &[]),
    (&["diff", "--base", "HEAD"], &[]),
    (&["init"], &["--advisory-db", "--fetch-advisories"]),
    (&["explain", "x"], &["--advisory-db", "--fetch-advisories"]),
    (&["bom"], &["--policy"]),
    (
        &["allow", "x", "fs"],
        &[
            "--advisory-db",
            "--fetch-advisories",
            "--rules",
            "--no-cache",
            "--verbose",
        ],
    ),
    (
        &["vet-bom", "bom.json"],
        &[
            "--features",
            "--all-features",
            "--no-default-features",
            "--dev",
            "--locked",
        ],
    ),
];

fn refused_by(command: &[&str], option: &str) {
    let (_, value) = OPTIONS.iter().find(|(o, _)| *o == option).unwrap();
    let mut args: Vec<&str> = command.to_vec();
    args.push(option);
    args.extend(value.iter());
    let run = util::run(&args);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(&format!("`{option}` has no effect on `{}`", command[0])),
        "{}",
        run.describe()
    );
}

#[test]
fn an_option_a_command_does_not_honour_is_refused_naming_it() {
    for (command, refused) in REFUSED {
        for option in *refused {
            refused_by(command, option);
        }
    }
    // The server and the cache honour none of them.
    for command in [&["mcp"][..], &["cache", "info"]] {
        for (option, _) in OPTIONS {
            refused_by(command, option);
        }
    }
}

#[test]
fn several_refused_options_are_named_together() {
    let run = util::run(&["cache", "clean", "--offline", "--dev"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            "`--dev`, `--offline` have no effect on `cache` (it acts on the cache itself)"
        ),
        "{}",
        run.describe()
    );
}

#[test]
fn diff_refuses_a_policy_for_a_revision_judged_by_its_own() {
    let run = util::run(&[
        "diff", "--base", "HEAD", "--head", "HEAD", "--policy", "p.toml",
    ]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("`--policy` applies to the working tree"),
        "{}",
        run.describe()
    );
}
