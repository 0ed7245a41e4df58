//! The GitHub Action (`action.yml`), the workflows under `.github/workflows`
//! and the `cargo binstall` metadata of Cargo.toml: the promises the README
//! makes of them that actionlint cannot see. No YAML parser is among the
//! dependencies, so the files are read as text: a step is the lines from
//! one `- ` of a `steps:` list to the next, its script what follows `run:`.
//! What the scripts do on a runner cannot be tried without one; these tests
//! keep what must never change from changing.

use std::collections::BTreeSet;

use crate::util;

fn read(path: &str) -> String {
    let path = util::repo_root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The workflow files, by path relative to the repository root.
fn workflows() -> Vec<(String, String)> {
    let dir = util::repo_root().join(".github/workflows");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yml") || name.ends_with(".yaml"))
        .map(|name| format!(".github/workflows/{name}"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no workflow in .github/workflows");
    files
        .into_iter()
        .map(|path| {
            let text = read(&path);
            (path, text)
        })
        .collect()
}

/// `action.yml` and every workflow.
fn all_files() -> Vec<(String, String)> {
    let mut files = vec![("action.yml".to_string(), read("action.yml"))];
    files.extend(workflows());
    files
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// One item of a `steps:` list.
#[derive(Debug)]
struct Step {
    /// Every line of the step, as written.
    text: String,
    /// What `run:` holds (a block or one line), if the step runs a script.
    run: Option<String>,
}

impl Step {
    /// The value of `key:` on a line of its own in the step, if any.
    fn field(&self, key: &str) -> Option<&str> {
        self.text.lines().find_map(|line| {
            let line = line.trim_start().trim_start_matches("- ");
            line.strip_prefix(key)?
                .strip_prefix(':')
                .map(|value| value.trim())
        })
    }

    fn name(&self) -> &str {
        self.field("name")
            .or_else(|| self.field("uses"))
            .or_else(|| self.field("run"))
            .unwrap_or("?")
    }

    /// The script's lines that are not comments, trimmed.
    fn commands(&self) -> Vec<&str> {
        self.run
            .as_deref()
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    }
}

/// Every step of every `steps:` list in `yaml`.
fn steps(yaml: &str) -> Vec<Step> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "steps:" {
            i += 1;
            continue;
        }
        let list = indent(lines[i]);
        i += 1;
        let mut current: Option<Vec<&str>> = None;
        while i < lines.len() {
            let line = lines[i];
            if !line.trim().is_empty() && indent(line) <= list && !line.trim().starts_with("- ") {
                break;
            }
            if line.trim_start().starts_with("- ") && indent(line) <= list + 2 {
                if let Some(step) = current.take() {
                    steps.push(step_of(&step));
                }
                current = Some(vec![line]);
            } else if let Some(step) = current.as_mut() {
                step.push(line);
            }
            i += 1;
        }
        if let Some(step) = current.take() {
            steps.push(step_of(&step));
        }
    }
    steps
}

fn step_of(lines: &[&str]) -> Step {
    let mut run = None;
    for (n, line) in lines.iter().enumerate() {
        let key = line.trim_start().trim_start_matches("- ");
        let Some(value) = key.strip_prefix("run:") else {
            continue;
        };
        let value = value.trim();
        if value.starts_with('|') || value.starts_with('>') {
            let own = indent(line);
            let block: Vec<&str> = lines[n + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || indent(l) > own)
                .copied()
                .collect();
            run = Some(block.join("\n"));
        } else {
            run = Some(value.to_string());
        }
        break;
    }
    Step {
        text: lines.join("\n"),
        run,
    }
}

/// Subcommands that resolve a dependency graph with `cargo metadata`.
const RESOLVING: &[&str] = &["scan", "check", "init", "allow", "bom", "diff", "explain"];

#[test]
fn the_step_reader_finds_every_step_and_script() {
    let action = steps(&read("action.yml"));
    assert!(action.len() >= 10, "{action:#?}");
    let check = action
        .iter()
        .find(|s| s.field("id") == Some("check"))
        .expect("a step with id: check");
    assert!(
        check
            .commands()
            .iter()
            .any(|c| c.starts_with("cargo-capgate capgate check")),
        "{check:#?}"
    );
    let ci = steps(&read(".github/workflows/ci.yml"));
    assert!(ci.iter().any(|s| s.field("uses") == Some("./")), "{ci:#?}");
}

#[test]
fn every_capgate_run_that_resolves_a_graph_is_locked() {
    let mut seen = 0;
    for (path, text) in all_files() {
        for step in steps(&text) {
            for command in step.commands() {
                // `cargo-capgate capgate SUB` (the action) and
                // `cargo run ... -- capgate SUB` (the project's own CI).
                let Some(at) = command.find(" capgate ") else {
                    continue;
                };
                let invoked =
                    command.contains("cargo-capgate capgate ") || command.starts_with("cargo run");
                let sub = command[at + " capgate ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if !invoked || !RESOLVING.contains(&sub) {
                    continue;
                }
                seen += 1;
                let after = &command[at..];
                assert!(
                    after.contains(" --locked"),
                    "{path}, step `{}`: `{command}` resolves the graph without --locked",
                    step.name()
                );
            }
        }
    }
    // check (log, annotations, SARIF), diff (Markdown, JSON), CI's own check.
    assert!(seen >= 6, "found only {seen} capgate runs");
}

#[test]
fn every_cargo_command_that_resolves_or_builds_is_locked() {
    for (path, text) in all_files() {
        for step in steps(&text) {
            for command in step.commands() {
                let words: Vec<&str> = command.split_whitespace().collect();
                if words.first() != Some(&"cargo") {
                    continue;
                }
                let sub = words.get(1).copied().unwrap_or("");
                if ["install", "build", "test", "clippy", "run", "nextest"].contains(&sub) {
                    assert!(
                        words.contains(&"--locked"),
                        "{path}, step `{}`: `{command}` without --locked",
                        step.name()
                    );
                }
            }
        }
    }
}

#[test]
fn the_action_runs_the_installed_binary_never_cargo_capgate() {
    // `cargo capgate` goes through the rustup proxy, which would run the
    // toolchain the checked-out tree's rust-toolchain.toml names.
    for step in steps(&read("action.yml")) {
        for command in step.commands() {
            if command.starts_with("echo ") || command.starts_with("printf ") {
                continue;
            }
            assert!(
                !command.contains("cargo capgate"),
                "action.yml, step `{}`: `{command}` runs cargo capgate",
                step.name()
            );
        }
    }
}

#[test]
fn installing_runs_outside_the_checked_out_tree() {
    let installs: Vec<Step> = steps(&read("action.yml"))
        .into_iter()
        .filter(|s| s.commands().iter().any(|c| c.starts_with("cargo install")))
        .collect();
    assert!(!installs.is_empty(), "no step installs cargo-capgate");
    for step in installs {
        assert_eq!(
            step.field("working-directory"),
            Some("${{ runner.temp }}"),
            "step `{}` installs in the checked-out tree, whose rust-toolchain.toml and .cargo/config.toml would choose programs",
            step.name()
        );
    }
}

#[test]
fn scripts_take_expressions_only_through_the_environment() {
    // An expression inside a script is pasted into the shell before it runs:
    // a branch name or a policy path could then run commands.
    for (path, text) in all_files() {
        for step in steps(&text) {
            if let Some(run) = &step.run {
                assert!(
                    !run.contains("${{"),
                    "{path}, step `{}`: an expression inside the script; pass it through env:",
                    step.name()
                );
            }
        }
    }
}

#[test]
fn no_package_registry_host_is_named() {
    // The host is assembled so that this file does not name it either.
    let host = ["crates", "io"].join(".");
    let mut files = all_files();
    files.push(("Cargo.toml".into(), read("Cargo.toml")));
    files.push(("README.md".into(), read("README.md")));
    for (path, text) in files {
        for (n, line) in text.lines().enumerate() {
            assert!(
                !line.to_ascii_lowercase().contains(&host),
                "{path}:{}: names a package registry's host: {line}",
                n + 1
            );
        }
    }
}

/// The names of `inputs:` (or `outputs:`) of action.yml, in order.
fn declared(action: &str, section: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in action.lines() {
        if indent(line) == 0 && !line.trim().is_empty() {
            inside = line.trim() == format!("{section}:");
            continue;
        }
        if inside && indent(line) == 2 && line.trim_end().ends_with(':') {
            names.push(line.trim().trim_end_matches(':').to_string());
        }
    }
    names
}

/// Every `PREFIX.NAME` in `text`, NAME being what follows up to the first
/// character that cannot be in one.
fn references(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_input_is_declared_and_used_and_every_step_reference_exists() {
    let action = read("action.yml");
    let inputs: BTreeSet<String> = declared(&action, "inputs").into_iter().collect();
    for expected in [
        "version",
        "policy",
        "manifest-path",
        "fail-on-violations",
        "deny-grant-changes",
        "fetch-advisories",
        "upload-sarif",
        "comment",
    ] {
        assert!(inputs.contains(expected), "no input `{expected}`");
    }
    let used = references(&action, "inputs.");
    assert_eq!(
        inputs, used,
        "inputs declared (left) and used (right) differ"
    );

    let ids: BTreeSet<String> = steps(&action)
        .iter()
        .filter_map(|s| s.field("id").map(str::to_string))
        .collect();
    for id in references(&action, "steps.") {
        assert!(ids.contains(&id), "steps.{id} names no step");
    }

    let outputs = declared(&action, "outputs");
    for expected in ["exit-code", "sarif-file", "diff-file", "diff-exit-code"] {
        assert!(
            outputs.iter().any(|o| o == expected),
            "no output `{expected}`"
        );
    }
}

#[test]
fn sarif_goes_to_code_scanning_only_where_it_can_and_never_fails_the_job() {
    let action = steps(&read("action.yml"));
    let upload = action
        .iter()
        .find(|s| {
            s.field("uses")
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("a SARIF upload step");
    assert_eq!(upload.field("continue-on-error"), Some("true"));
    assert!(
        upload
            .field("if")
            .is_some_and(|c| c.contains("steps.code-scanning.outputs.upload == 'true'")),
        "the upload is not decided by the code-scanning step: {upload:#?}"
    );
    let decide = action
        .iter()
        .find(|s| s.field("id") == Some("code-scanning"))
        .expect("the step that decides");
    let script = decide.run.as_deref().unwrap();
    // A fork's pull request is recognised by its head repository; the API
    // says whether code scanning is there for this token.
    assert!(script.contains("\"$HEAD_REPO\" != \"$GITHUB_REPOSITORY\""));
    assert!(script.contains("/code-scanning/analyses"));
}

#[test]
fn the_pull_request_diff_is_against_the_merge_base_and_kept_with_the_run() {
    let action = steps(&read("action.yml"));
    let diff = action
        .iter()
        .find(|s| s.field("id") == Some("diff"))
        .expect("the diff step");
    let script = diff.run.as_deref().unwrap();
    assert!(script.contains("git merge-base HEAD"));
    assert!(script.contains("--base \"$merge_base\""));
    assert!(
        script.contains("--unshallow"),
        "a shallow clone is deepened"
    );
    assert!(script.contains("--full-report-url \"$run_url\""));
    assert!(
        script.contains(
            "run_url=\"$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID\""
        )
    );
    assert!(script.contains(">> \"$GITHUB_STEP_SUMMARY\""));
    assert!(script.contains("--deny-grant-changes"));
    assert!(
        action.iter().any(|s| s
            .field("uses")
            .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
            && s.field("path") == Some("${{ steps.diff.outputs.diff-json }}")),
        "the JSON report is not uploaded as an artifact"
    );
    let fail = action
        .iter()
        .find(|s| s.name() == "Fail on violations")
        .expect("the step that fails the job");
    let condition = fail.field("if").unwrap();
    assert!(condition.contains("inputs.fail-on-violations == 'true'"));
    assert!(condition.contains("steps.check.outputs.exit-code == '1'"));
    assert!(condition.contains("steps.diff.outputs.exit-code == '1'"));
}

#[test]
fn the_check_step_annotates_and_prints_the_violations() {
    let action = steps(&read("action.yml"));
    let check = action
        .iter()
        .find(|s| s.field("id") == Some("check"))
        .unwrap();
    let commands = check.commands();
    let runs: Vec<&&str> = commands
        .iter()
        .filter(|c| c.contains("cargo-capgate capgate check"))
        .collect();
    // Human (the log), GitHub annotations, SARIF.
    assert!(runs.iter().any(|c| !c.contains("--format")), "{runs:?}");
    assert!(
        runs.iter().any(|c| c.contains("--format github")),
        "{runs:?}"
    );
    assert!(
        runs.iter().any(|c| c.contains("--format sarif")),
        "{runs:?}"
    );
    // The advisory database is fetched by default, into the cached directory.
    let script = check.run.as_deref().unwrap();
    assert!(script.contains("--fetch-advisories"));
    assert!(script.contains("--advisory-db \"$ADVISORY_DB\""));
    assert!(
        check
            .text
            .contains("CAPGATE_CACHE_DIR: ${{ steps.prep.outputs.scan-cache }}")
    );
}

#[test]
fn the_caches_saved_are_the_directories_cargo_capgate_uses() {
    // actions/cache expands `~` to the home directory on every system; the
    // prepare step names the same directories for cargo-capgate.
    let text = read("action.yml");
    let action = steps(&text);
    let prep = action
        .iter()
        .find(|s| s.field("id") == Some("prep"))
        .unwrap()
        .run
        .as_deref()
        .unwrap();
    let root = "~/.cache/cargo-capgate-action/";
    assert!(prep.contains("root=\"$home/.cache/cargo-capgate-action\""));
    let mut cached = 0;
    for step in &action {
        if !step
            .field("uses")
            .is_some_and(|u| u.starts_with("actions/cache@"))
        {
            continue;
        }
        let path = step.field("path").unwrap();
        let tail = path
            .strip_prefix(root)
            .unwrap_or_else(|| panic!("cache path {path} is not under {root}"));
        assert!(prep.contains(&format!("=$root/{tail}\"")), "{tail}");
        cached += 1;
    }
    // The installed binary, the scan cache, the advisory database.
    assert_eq!(cached, 3);
}

#[test]
fn release_archives_are_the_ones_binstall_and_the_action_look_for() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let pkg_url = binstall["pkg-url"].as_str().unwrap();
    let bin_dir = binstall["bin-dir"].as_str().unwrap();
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"));
    assert_eq!(
        binstall["overrides"]["x86_64-pc-windows-msvc"]["pkg-fmt"].as_str(),
        Some("zip")
    );
    // The templates, with the scripts' variables for the target and version.
    let expand = |template: &str| {
        template
            .replace("{ name }", "cargo-capgate")
            .replace("{ bin }", "cargo-capgate")
            .replace("{ target }", "$TARGET")
            .replace("{ version }", "$VERSION")
    };
    assert_eq!(
        expand(pkg_url),
        "{ repo }/releases/download/v$VERSION/cargo-capgate-$TARGET-v$VERSION{ archive-suffix }"
    );
    assert_eq!(
        expand(bin_dir),
        "cargo-capgate-$TARGET-v$VERSION/cargo-capgate{ binary-ext }"
    );
    let name = "name=\"cargo-capgate-$TARGET-v$VERSION\"";

    let release = read(".github/workflows/release.yml");
    assert!(
        release.contains(name),
        "release.yml names archives otherwise"
    );
    assert!(release.contains("archive=\"$name.tar.gz\""));
    assert!(release.contains("archive=\"$name.zip\""));
    assert!(release.contains("> \"$archive.sha256\""));
    assert!(release.contains("tags: [\"v*\"]"));
    assert!(release.contains("cargo build --release --locked --target \"$TARGET\""));

    let action = read("action.yml");
    assert!(action.contains(name), "action.yml looks for other archives");
    assert!(action.contains("/releases/download/v$VERSION/$archive\""));
    assert!(action.contains("\"unpacked/$name/cargo-capgate$EXE\""));
    assert!(action.contains("\"$url.sha256\""));

    // Every target the action looks for is one the release builds.
    let built: BTreeSet<&str> = release
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- target: "))
        .collect();
    let looked_for: BTreeSet<&str> = action
        .lines()
        .filter_map(|l| l.split_once(") target=").map(|(_, t)| t))
        .map(|t| t.trim_end_matches(" ;;"))
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(looked_for.len(), 5, "{looked_for:?}");
    assert!(
        looked_for.is_subset(&built),
        "{looked_for:?} not all in {built:?}"
    );

    // Only the job that attaches the files may write.
    let writes = release.matches("contents: write").count();
    assert_eq!(writes, 1);
    let publish = &release[release.find("  publish:").unwrap()..];
    assert!(publish.contains("contents: write"));
}

#[test]
fn a_workflow_runs_the_action_from_this_repository_on_pull_requests() {
    let found = workflows().into_iter().any(|(_, text)| {
        text.contains("\n  pull_request:")
            && steps(&text).iter().any(|s| s.field("uses") == Some("./"))
            && text.contains("security-events: write")
    });
    assert!(
        found,
        "no workflow runs `uses: ./` on pull requests with security-events: write"
    );
}
