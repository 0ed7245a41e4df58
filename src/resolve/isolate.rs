//! Runs `cargo metadata` so that nothing the scanned tree names can start.
//!
//! cargo reads `.cargo/config.toml` (and `.cargo/config`, and the files
//! they `include`) in the directory it runs in and every parent, and the
//! tree controls those files: `build.rustc`, `build.rustc-wrapper`,
//! `build.rustc-workspace-wrapper` name programs cargo runs to learn the
//! target, `[env]` (`LD_PRELOAD`) and `build.rustflags` /
//! `target.*.rustflags` shape that run, credential providers run when a
//! registry asks for a token, and a `rust-toolchain.toml` makes the rustup
//! proxy run a toolchain of the tree's choosing.
//!
//! So cargo never runs in the tree. It runs in a fresh directory holding a
//! copy of the tree's configuration reduced to the keys resolution needs
//! and that name no program (an allow-list: `source`, `registries.*.index`,
//! `patch`, `paths`, `net.offline`/`net.retry`, `http`, `resolver`), with
//! relative paths made absolute, at the same relative precedence. The real
//! `cargo` and `rustc` binaries are found from that directory, never through
//! a proxy reading the tree, and environment variables (which beat every
//! configuration file, the user's own `CARGO_HOME` one included) switch off
//! wrappers and configured rustflags. The user's own environment
//! (`RUSTUP_TOOLCHAIN`, `CARGO`, `RUSTC`, `RUSTFLAGS`) is respected.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use toml::{Table, Value};

use super::ResolveError;

/// A configuration file larger than this is not a configuration file.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// `include` chains deeper than this are refused (cargo refuses cycles).
const MAX_INCLUDE_DEPTH: usize = 16;

/// A cargo command ready to run in a neutral directory; the directory lives
/// as long as this value.
pub(super) struct NeutralCargo {
    _dir: tempfile::TempDir,
    pub command: Command,
}

/// `cargo` set up to run as if in `config_from`, reading only what is safe
/// of the configuration found there.
pub(super) fn cargo(config_from: &Path) -> Result<NeutralCargo, ResolveError> {
    let dir = tempfile::Builder::new()
        .prefix("capgate-cargo-")
        .tempdir()
        .map_err(|e| config_error(&std::env::temp_dir(), e.to_string()))?;
    let home = cargo_home();
    check_neutral(dir.path(), home.as_deref())?;
    let cwd = write_sanitized(dir.path(), config_from, home.as_deref())?;
    let (cargo, rustc) = toolchain(&cwd)?;
    let mut command = Command::new(cargo);
    command
        .current_dir(&cwd)
        .env("RUSTC", rustc)
        // An empty wrapper is no wrapper, whatever any configuration says.
        .env("RUSTC_WRAPPER", "")
        .env("RUSTC_WORKSPACE_WRAPPER", "");
    if std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_none()
        && std::env::var_os("RUSTFLAGS").is_none()
    {
        // Beats `build.rustflags` and `target.*.rustflags` of any file.
        command.env("CARGO_ENCODED_RUSTFLAGS", "");
    }
    Ok(NeutralCargo { _dir: dir, command })
}

/// The version of the real cargo (`1.91.0`), asked in a neutral directory:
/// `cargo -V` run where the user stands would go through rustup's proxy,
/// which runs whatever toolchain a `rust-toolchain.toml` there names.
pub(super) fn cargo_version() -> Result<String, ResolveError> {
    let mut neutral = cargo(&std::env::temp_dir())?;
    let output = neutral
        .command
        .arg("-V")
        .output()
        .map_err(ResolveError::CargoSpawn)?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .nth(1)
        .filter(|v| output.status.success() && semver::Version::parse(v).is_ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            ResolveError::Toolchain(format!(
                "`cargo -V` did not print a version: {}",
                text.trim()
            ))
        })
}

fn config_error(path: &Path, reason: String) -> ResolveError {
    ResolveError::CargoConfig {
        path: path.to_path_buf(),
        reason,
    }
}

/// `$CARGO_HOME`, whose configuration is the user's own: cargo reads it
/// wherever it runs.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cargo")))
        .map(|p| p.canonicalize().unwrap_or(p))
}

fn same_dir(a: &Path, home: Option<&Path>) -> bool {
    home.is_some_and(|home| a.canonicalize().unwrap_or_else(|_| a.to_path_buf()) == home)
}

/// The neutral directory's parents must hold no cargo configuration and no
/// toolchain file (a shared temporary directory could); cargo and rustup
/// would read them.
fn check_neutral(dir: &Path, home: Option<&Path>) -> Result<(), ResolveError> {
    for parent in dir.ancestors().skip(1) {
        let dot = parent.join(".cargo");
        for name in ["config", "config.toml"] {
            if dot.join(name).exists() && !same_dir(&dot, home) {
                return Err(config_error(
                    &dot.join(name),
                    "capgate runs cargo in a fresh temporary directory, and this file above it would be read; remove it or set TMPDIR elsewhere".into(),
                ));
            }
        }
        for name in ["rust-toolchain", "rust-toolchain.toml"] {
            if parent.join(name).exists() {
                return Err(config_error(
                    &parent.join(name),
                    "capgate runs cargo in a fresh temporary directory, and rustup would read this toolchain file above it; remove it or set TMPDIR elsewhere".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The configuration files cargo would read running in `from`, closest
/// first, without `$CARGO_HOME`'s (read anyway).
fn discover(from: &Path, home: Option<&Path>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in from.ancestors() {
        let dot = dir.join(".cargo");
        if same_dir(&dot, home) {
            continue;
        }
        // As cargo: `config` wins when both exist.
        let plain = dot.join("config");
        if std::fs::symlink_metadata(&plain).is_ok() {
            files.push(plain);
        } else if std::fs::symlink_metadata(dot.join("config.toml")).is_ok() {
            files.push(dot.join("config.toml"));
        }
    }
    files
}

/// Writes the sanitized copies of the configuration found from `from` as
/// nested directories under `root` (the farthest file outermost), so that
/// cargo merges them with its own precedence rules; returns the innermost
/// directory, where cargo runs.
fn write_sanitized(root: &Path, from: &Path, home: Option<&Path>) -> Result<PathBuf, ResolveError> {
    let mut sanitizer = Sanitizer {
        includes: root.join("includes"),
        written: 0,
    };
    let mut cwd = root.to_path_buf();
    for file in discover(from, home).iter().rev() {
        let table = sanitizer.file(file, 0)?;
        cwd = cwd.join("c");
        write_table(&cwd.join(".cargo").join("config.toml"), &table)?;
    }
    let cwd = cwd.join("c");
    std::fs::create_dir_all(&cwd).map_err(|e| config_error(&cwd, e.to_string()))?;
    Ok(cwd)
}

fn write_table(path: &Path, table: &Table) -> Result<(), ResolveError> {
    let text = toml::to_string(table).map_err(|e| config_error(path, e.to_string()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| config_error(parent, e.to_string()))?;
    }
    std::fs::write(path, text).map_err(|e| config_error(path, e.to_string()))
}

struct Sanitizer {
    includes: PathBuf,
    written: usize,
}

impl Sanitizer {
    /// One configuration file reduced to the allowed keys; its `include`s
    /// are sanitized into files of their own and included by absolute path.
    fn file(&mut self, path: &Path, depth: usize) -> Result<Table, ResolveError> {
        if depth > MAX_INCLUDE_DEPTH {
            return Err(config_error(path, "`include`s nest too deeply".into()));
        }
        let table = read_config(path)?;
        // Relative paths in a configuration file are relative to the
        // directory holding its `.cargo` directory; includes to its own.
        let dir = path.parent().unwrap_or(Path::new("/"));
        let base = dir.parent().unwrap_or(dir);
        let mut out = sanitize(&table, base);
        let mut includes = Vec::new();
        for (include, optional) in include_paths(&table, path)? {
            let include = dir.join(include);
            if optional && !include.exists() {
                continue;
            }
            let sanitized = self.file(&include, depth + 1)?;
            self.written += 1;
            let copy = self.includes.join(format!("{}.toml", self.written));
            write_table(&copy, &sanitized)?;
            includes.push(Value::String(copy.to_string_lossy().into_owned()));
        }
        if !includes.is_empty() {
            out.insert("include".into(), Value::Array(includes));
        }
        Ok(out)
    }
}

fn read_config(path: &Path) -> Result<Table, ResolveError> {
    let meta = std::fs::metadata(path).map_err(|e| config_error(path, e.to_string()))?;
    if !meta.is_file() {
        return Err(config_error(path, "not a regular file".into()));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(config_error(
            path,
            format!("larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| config_error(path, e.to_string()))?;
    text.parse::<Table>()
        .map_err(|e| config_error(path, format!("not valid TOML: {e}")))
}

/// `include = "a.toml"`, `["a.toml"]` or `[{ path = "a.toml", optional = true }]`.
fn include_paths(table: &Table, path: &Path) -> Result<Vec<(String, bool)>, ResolveError> {
    let bad = || config_error(path, "`include` is not a list of paths".into());
    let items = match table.get("include") {
        None => return Ok(Vec::new()),
        Some(Value::String(s)) => return Ok(vec![(s.clone(), false)]),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(bad()),
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok((s.clone(), false)),
            Value::Table(t) => {
                let path = t.get("path").and_then(Value::as_str).ok_or_else(bad)?;
                let optional = t.get("optional").and_then(Value::as_bool).unwrap_or(false);
                Ok((path.to_owned(), optional))
            }
            _ => Err(bad()),
        })
        .collect()
}

/// The allow-list: what resolution needs and names no program. Everything
/// else (`build`, `target`, `env`, `host`, `alias`, `credential-alias`,
/// `registry`, credential providers and tokens, `unstable`,
/// `net.git-fetch-with-cli`, ...) is dropped.
fn sanitize(table: &Table, base: &Path) -> Table {
    let mut out = Table::new();
    if let Some(Value::Table(sources)) = table.get("source") {
        let keys = [
            "replace-with",
            "registry",
            "local-registry",
            "directory",
            "git",
            "branch",
            "tag",
            "rev",
        ];
        let kept = each_table(sources, |source| {
            let mut t = pick(source, &keys);
            absolutize(&mut t, &["local-registry", "directory"], base);
            t
        });
        out.insert("source".into(), Value::Table(kept));
    }
    if let Some(Value::Table(registries)) = table.get("registries") {
        let kept = each_table(registries, |registry| {
            pick(registry, &["index", "protocol"])
        });
        out.insert("registries".into(), Value::Table(kept));
    }
    if let Some(Value::Table(patches)) = table.get("patch") {
        let kept = each_table(patches, |crates| {
            each_table(crates, |dep| {
                let mut dep = dep.clone();
                dep.remove("path").into_iter().for_each(|p| {
                    if let Some(p) = p.as_str() {
                        dep.insert("path".into(), Value::String(absolute(p, base)));
                    }
                });
                dep
            })
        });
        out.insert("patch".into(), Value::Table(kept));
    }
    if let Some(Value::Array(paths)) = table.get("paths") {
        let kept = paths
            .iter()
            .filter_map(Value::as_str)
            .map(|p| Value::String(absolute(p, base)))
            .collect();
        out.insert("paths".into(), Value::Array(kept));
    }
    if let Some(Value::Table(net)) = table.get("net") {
        out.insert("net".into(), Value::Table(pick(net, &["offline", "retry"])));
    }
    if let Some(Value::Table(http)) = table.get("http") {
        let mut http = http.clone();
        absolutize(&mut http, &["cainfo", "proxy-cainfo"], base);
        out.insert("http".into(), Value::Table(http));
    }
    if let Some(Value::Table(resolver)) = table.get("resolver") {
        out.insert("resolver".into(), Value::Table(resolver.clone()));
    }
    out
}

/// `f` applied to every table value of `table`; other values are dropped.
fn each_table(table: &Table, f: impl Fn(&Table) -> Table) -> Table {
    table
        .iter()
        .filter_map(|(k, v)| v.as_table().map(|t| (k.clone(), Value::Table(f(t)))))
        .collect()
}

fn pick(table: &Table, keys: &[&str]) -> Table {
    table
        .iter()
        .filter(|(k, _)| keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn absolutize(table: &mut Table, keys: &[&str], base: &Path) {
    for key in keys {
        if let Some(Value::String(p)) = table.get(*key) {
            let p = absolute(p, base);
            table.insert((*key).to_owned(), Value::String(p));
        }
    }
}

fn absolute(path: &str, base: &Path) -> String {
    base.join(path).to_string_lossy().into_owned()
}

/// The real `cargo` and `rustc` binaries, found from the neutral directory:
/// the sysroot of the `rustc` the user's environment selects there.
fn toolchain(neutral: &Path) -> Result<(OsString, PathBuf), ResolveError> {
    let exe = std::env::consts::EXE_SUFFIX;
    let rustc = match std::env::var_os("RUSTC") {
        Some(rustc) => PathBuf::from(rustc),
        None => {
            let out = Command::new("rustc")
                .arg("--print")
                .arg("sysroot")
                .current_dir(neutral)
                .env_remove("RUSTC_WRAPPER")
                .output()
                .map_err(|e| ResolveError::Toolchain(format!("could not run rustc: {e}")))?;
            if !out.status.success() {
                return Err(ResolveError::Toolchain(format!(
                    "`rustc --print sysroot` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            sysroot.join("bin").join(format!("rustc{exe}"))
        }
    };
    let cargo = match std::env::var_os("CARGO") {
        Some(cargo) => cargo,
        None => {
            let beside = rustc.with_file_name(format!("cargo{exe}"));
            if beside.is_file() {
                beside.into_os_string()
            } else {
                "cargo".into()
            }
        }
    };
    Ok((cargo, rustc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    #[test]
    fn only_resolution_keys_survive_with_absolute_paths() {
        let input = table(
            r#"
            include = ["more.toml"]
            paths = ["local/dep"]
            [build]
            rustc = "./evil"
            rustc-wrapper = "./evil"
            rustflags = ["-Zcodegen-backend=./evil.so"]
            [target.x86_64-unknown-linux-gnu]
            runner = "./evil"
            linker = "./evil"
            [env]
            LD_PRELOAD = "./evil.so"
            [source.crates-io]
            replace-with = "vendored"
            [source.vendored]
            directory = "vendor"
            [registries.mine]
            index = "sparse+https://example.invalid/"
            credential-provider = ["./evil"]
            token = "t"
            [registry]
            global-credential-providers = ["./evil"]
            [net]
            offline = true
            git-fetch-with-cli = true
            [patch.crates-io]
            foo = { path = "patched/foo" }
            [alias]
            metadata = "run"
            "#,
        );
        let out = sanitize(&input, Path::new("/ws"));
        let expected = table(
            r#"
            paths = ["/ws/local/dep"]
            [source.crates-io]
            replace-with = "vendored"
            [source.vendored]
            directory = "/ws/vendor"
            [registries.mine]
            index = "sparse+https://example.invalid/"
            [net]
            offline = true
            [patch.crates-io]
            foo = { path = "/ws/patched/foo" }
            "#,
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn includes_are_sanitized_and_nested_by_precedence() {
        let tree = tempfile::tempdir().unwrap();
        let inner = tree.path().join("ws");
        std::fs::create_dir_all(inner.join(".cargo")).unwrap();
        std::fs::create_dir_all(tree.path().join(".cargo")).unwrap();
        std::fs::write(
            inner.join(".cargo/config.toml"),
            "include = [\"hidden.toml\", { path = \"gone.toml\", optional = true }]\n[env]\nLD_PRELOAD = \"x\"\n",
        )
        .unwrap();
        std::fs::write(
            inner.join(".cargo/hidden.toml"),
            "[build]\nrustc-wrapper = \"./evil\"\n[source.v]\ndirectory = \"vendor\"\n",
        )
        .unwrap();
        // The legacy name wins over config.toml, as in cargo.
        std::fs::write(tree.path().join(".cargo/config"), "paths = [\"p\"]\n").unwrap();
        std::fs::write(tree.path().join(".cargo/config.toml"), "paths = [\"q\"]\n").unwrap();

        let out = tempfile::tempdir().unwrap();
        let cwd = write_sanitized(out.path(), &inner, None).unwrap();
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .unwrap()
                .parse::<Table>()
                .unwrap()
        };
        let closest = read(&cwd.parent().unwrap().join(".cargo/config.toml"));
        let farthest = read(&out.path().join("c/.cargo/config.toml"));
        assert_eq!(
            farthest,
            table(&format!(
                "paths = [{:?}]",
                tree.path().join("p").display().to_string()
            ))
        );
        let includes = closest["include"].as_array().unwrap();
        assert_eq!(closest.len(), 1, "{closest:?}");
        assert_eq!(includes.len(), 1);
        let hidden = read(Path::new(includes[0].as_str().unwrap()));
        assert_eq!(
            hidden,
            table(&format!(
                "[source.v]\ndirectory = {:?}",
                inner.join("vendor").display().to_string()
            ))
        );
    }

    #[test]
    fn a_configuration_that_is_not_a_regular_file_is_refused() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join(".cargo/config.toml")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let err = write_sanitized(out.path(), tree.path(), None).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn absolute_paths_stay_absolute() {
        assert_eq!(absolute("/abs/vendor", Path::new("/ws")), "/abs/vendor");
    }
}
