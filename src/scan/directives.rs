//! The cargo directives a build script prints that link native code into
//! its package: `cargo:rustc-link-lib=…`, `rustc-link-search`,
//! `rustc-link-arg*`, `rustc-cdylib-link-arg`, `rustc-flags` (`-l`, `-L`),
//! in the `cargo:` and `cargo::` spellings. cargo reads the build script's
//! standard output line by line, trimmed; such a line means `ffi` for the
//! package even without an `extern` block in its code.
//!
//! Fail closed: a line whose key cannot be read before a build (`println!`
//! of a variable, a format string starting `{}` or `cargo:{}`, bytes
//! written to `std::io::stdout()`) may be one of them, and is reported as
//! such (`build-link-computed`). A placeholder in a known key's value
//! (`cargo:rerun-if-changed={}`) is not: see ARCHITECTURE.md, known limits.
//!
//! In a library, a directive it prints (cc's `cargo:rustc-link-lib=static=…`,
//! a helper's) links native code into the package whose build script calls
//! it: such findings are the printing item's reach, carried to that build
//! script through exports, and not the library's own capability.

use super::facts::{CrateFacts, Pos, RefKind};
use super::matcher::{Matched, Origin};
use crate::model::{Finding, Location};
use crate::rules::RuleSet;

/// Macros that write to standard output whatever they are given.
const STDOUT_MACROS: &[&str] = &["print", "println"];

/// Macros that write to a writer, which is standard output when the build
/// script holds a handle to it.
const WRITER_MACROS: &[&str] = &["write", "writeln"];

/// Methods that write bytes or formatted text to a writer.
const WRITE_METHODS: &[&str] = &[
    "write",
    "write_all",
    "write_fmt",
    "write_vectored",
    "write_all_vectored",
];

/// What one line of a format string or literal means to cargo.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A directive that links native code.
    Links,
    /// The key is filled in at run time.
    Computed,
    /// Anything else.
    Other,
}

/// The link directives of a target's facts, each with the item it is in
/// (`Ref::function`); `resolved` gives each reference's resolved paths
/// (`Matched::resolved`), for its handles to standard output. What is
/// computed at run time counts only in a build script: in a library, a
/// `println!("{}", x)` is no directive unless a build script runs it, and
/// then it is that script's computed print that counts.
fn link_directives(
    facts: &CrateFacts,
    resolved: &[super::matcher::Paths],
    rules: &RuleSet,
    build_script: bool,
) -> Vec<(Finding, u32)> {
    let stdout = facts.refs().iter().zip(resolved).any(|(_, paths)| {
        paths
            .iter()
            .any(|p| p.starts_with("std::io::stdout") || p.starts_with("std::io::Stdout"))
    });
    let mut findings: Vec<(Finding, u32)> = Vec::new();
    let mut push = |rule: &str, pos: Pos, function: u32, evidence: String| {
        if rule == "build-link-computed" && !build_script {
            return;
        }
        let rule = rules.structural(rule);
        let finding = Finding {
            capability: rule.capability,
            location: Location::at(facts.file_name(pos.file).to_owned(), pos.line, pos.column),
            evidence,
            rule: rule.id.as_str().to_owned(),
            via: Vec::new(),
            resolution: None,
        };
        findings.push((finding, function));
    };
    for print in &facts.prints {
        let name = print.macro_name.as_str();
        let literal = name.is_empty();
        let to_stdout = STDOUT_MACROS.contains(&name) || (stdout && WRITER_MACROS.contains(&name));
        let Some(format) = &print.format else {
            if to_stdout {
                push(
                    "build-link-computed",
                    print.pos,
                    print.function,
                    format!("{name}! of a format string computed at run time"),
                );
            }
            continue;
        };
        let lines = format
            .split('\n')
            .map(|line| (line, classify(line, !literal)));
        let mut computed = false;
        let mut linking = None;
        for (line, meaning) in lines {
            match meaning {
                Line::Links => {
                    linking = Some(line.trim());
                    break;
                }
                Line::Computed => computed = true,
                Line::Other => {}
            }
        }
        if let Some(line) = linking {
            push(
                "build-link-directive",
                print.pos,
                print.function,
                shorten(line),
            );
        } else if literal && directive_piece(format) {
            // A piece of a directive, to be completed at run time.
            push(
                "build-link-directive",
                print.pos,
                print.function,
                shorten(format.trim()),
            );
        } else if computed && to_stdout {
            push(
                "build-link-computed",
                print.pos,
                print.function,
                format!(
                    "{name}!({:?}): the directive is computed at run time",
                    shorten(format)
                ),
            );
        }
    }
    // Bytes written to a handle of standard output: `.write_all(buf)`,
    // `Write::write_all(&mut out, buf)`, `io::copy(&mut r, &mut out)`.
    let write = facts.refs().iter().zip(resolved).find_map(|(r, paths)| {
        let name = match &r.kind {
            RefKind::Method(method) => method.name.as_str(),
            RefKind::Path(_) => paths.iter().find_map(|p| {
                let last = p.rsplit("::").next()?;
                (WRITE_METHODS.contains(&last) || &**p == "std::io::copy").then_some(last)
            })?,
            RefKind::Macro(_) => return None,
        };
        (WRITE_METHODS.contains(&name) || name == "copy").then_some((r.pos, r.function, name))
    });
    if stdout && let Some((pos, function, name)) = write {
        push(
            "build-link-computed",
            pos,
            function,
            format!("std::io::stdout written with {name}: what reaches cargo is not read"),
        );
    }
    // A format string is also a literal: one finding per line and text.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|(f, _)| seen.insert((f.location.line, f.rule.clone(), f.evidence.clone())));
    findings
}

/// Adds the target's link directives to `matched`, in the items they are
/// in, for reach to carry (and, in a build script, to report).
pub fn add_link_directives(
    matched: &mut Matched,
    facts: &CrateFacts,
    rules: &RuleSet,
    build_script: bool,
) {
    for (finding, function) in link_directives(facts, &matched.resolved, rules, build_script) {
        matched.findings.push(finding);
        matched.expanded.push(false);
        matched.origins.push(match function {
            0 => Origin::Outside,
            f => Origin::Item(f),
        });
    }
}

/// What `line` says to cargo; `format` when `{…}` are placeholders.
fn classify(line: &str, format: bool) -> Line {
    let line = line.trim_start();
    // The text before the first placeholder (`{{` is a brace).
    let mut fixed = line;
    let mut placeholder = false;
    if format {
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'{' {
                if bytes.get(i + 1) == Some(&b'{') {
                    i += 2;
                    continue;
                }
                fixed = &line[..i];
                placeholder = true;
                break;
            }
            i += 1;
        }
    }
    let rest = fixed
        .strip_prefix("cargo::")
        .or_else(|| fixed.strip_prefix("cargo:"));
    match rest {
        Some(rest) => match rest.split_once('=') {
            Some((key, _)) if links(key.trim()) => Line::Links,
            Some(_) => Line::Other,
            None if placeholder => Line::Computed,
            None => Line::Other,
        },
        None if placeholder && "cargo::".starts_with(fixed) => Line::Computed,
        None => Line::Other,
    }
}

/// Whether a literal holds a link key with its value or ready for one
/// (`rustc-link-lib=evil`, `cargo:rustc-link-search=`, ending in
/// `rustc-link-arg`): a helper may print it. A key only mentioned in prose
/// (cc's "use `cargo:rustc-link-arg` for linker flags") is not.
fn directive_piece(text: &str) -> bool {
    const KEYS: &[&str] = &[
        "rustc-link-lib",
        "rustc-link-search",
        "rustc-link-arg",
        "rustc-flags",
        "rustc-cdylib-link-arg",
    ];
    KEYS.iter().any(|key| {
        text.match_indices(key).any(|(at, _)| {
            let rest = text[at + key.len()..]
                .trim_start_matches(|c: char| c.is_ascii_lowercase() || c == '-');
            rest.is_empty() || rest.starts_with('=')
        })
    })
}

/// Whether a directive key links native code.
fn links(key: &str) -> bool {
    matches!(key, "rustc-link-lib" | "rustc-link-search" | "rustc-flags")
        || key.starts_with("rustc-link-arg")
        || key.starts_with("rustc-cdylib-link-arg")
}

/// At most 200 characters of a line, as evidence.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Line, classify};

    #[test]
    fn a_key_in_prose_is_no_directive() {
        assert!(super::directive_piece("rustc-link-lib=evil"));
        assert!(super::directive_piece("cargo:rustc-link-arg-bins"));
        assert!(super::directive_piece("x cargo::rustc-link-search="));
        assert!(!super::directive_piece(
            "Use `cargo:rustc-link-arg` for linker flags"
        ));
    }

    #[test]
    fn lines_are_read_as_cargo_reads_them() {
        assert_eq!(
            classify("cargo:rustc-link-lib=static=foo", true),
            Line::Links
        );
        assert_eq!(
            classify("  cargo::rustc-link-search=native={}", true),
            Line::Links
        );
        assert_eq!(
            classify("cargo:rustc-link-arg-bins=-lfoo", false),
            Line::Links
        );
        assert_eq!(
            classify("cargo:rustc-cdylib-link-arg=x", false),
            Line::Links
        );
        assert_eq!(classify("cargo:rustc-flags=-l foo", false), Line::Links);
        assert_eq!(classify("cargo:rerun-if-changed={}", true), Line::Other);
        assert_eq!(classify("cargo:rustc-cfg=has_{}", true), Line::Other);
        assert_eq!(classify("cargo:include=/x", false), Line::Other);
        assert_eq!(classify("{}", true), Line::Computed);
        assert_eq!(classify("cargo:{}={}", true), Line::Computed);
        assert_eq!(classify("cargo::rustc-{}", true), Line::Computed);
        assert_eq!(classify("carg{}", true), Line::Computed);
        assert_eq!(classify("building {}", true), Line::Other);
        // `{{` is a brace, not a placeholder.
        assert_eq!(classify("{{}}", true), Line::Other);
        assert_eq!(classify("{}", false), Line::Other);
    }
}
