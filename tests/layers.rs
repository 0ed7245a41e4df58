//! The pipeline in the imports: a top-level module of `src/` may import
//! only modules of earlier layers, so stages call forward and the shared
//! vocabulary depends on nothing (ARCHITECTURE.md, "Bird's-eye view").
//! Read from the source text, so an import that points back fails here
//! before it grows into a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each layer may import the layers before it, never its own neighbours
/// or a later one.
const LAYERS: &[&[&str]] = &[
    &["digest", "diagnostic"],
    &["model"],
    &["platform", "rules"],
    &["resolve"],
    &["fetch"],
    &["scan"],
    &["reach"],
    &["cache"],
    &["advisories", "policy"],
    &["evaluate"],
    &["pipeline"],
    &["report"],
    &["mcp"],
    &["cli"],
];

#[test]
fn top_level_modules_only_import_earlier_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (*n, i)))
        .collect();
    let imports = imports_by_module(&src);
    let unknown: Vec<&String> = imports
        .keys()
        .filter(|m| !layer_of.contains_key(m.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "modules with no layer in tests/layers.rs: {unknown:?}"
    );
    let mut backwards = Vec::new();
    for (module, used) in &imports {
        let layer = layer_of[module.as_str()];
        for other in used {
            if let Some(&other_layer) = layer_of.get(other.as_str())
                && other != module
                && other_layer >= layer
            {
                backwards.push(format!("{module} imports {other}"));
            }
        }
    }
    assert!(
        backwards.is_empty(),
        "imports against the pipeline's order:\n{}",
        backwards.join("\n")
    );
}

/// Every top-level module (`src/x.rs` or `src/x/`) with the top-level
/// modules its code names as `crate::y`. Comments are skipped: a doc link
/// is not an import.
fn imports_by_module(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if matches!(name.as_str(), "lib" | "main") {
            continue;
        }
        let used = out.entry(name).or_default();
        for file in rust_files(&path) {
            let text = std::fs::read_to_string(&file).expect("a source file");
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                used.extend(crate_paths(line));
            }
        }
    }
    out
}

fn rust_files(path: &Path) -> Vec<std::path::PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The first segment after every `crate::` on a line, and each name of a
/// `use crate::{a, b::c}` group.
fn crate_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in line.match_indices("crate::") {
        if line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &line[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or_default();
            out.extend(group.split(',').filter_map(first_segment));
        } else if let Some(name) = first_segment(rest) {
            out.push(name);
        }
    }
    out
}

fn first_segment(path: &str) -> Option<String> {
    let name: String = path
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}
