#!/usr/bin/env python3
"""Generates a workspace of N tiny crates for benches/run.py.

    python3 benches/gen_workspace.py N OUT_DIR

Shape (deterministic; path dependencies only, so `cargo metadata --offline`
resolves it with no registry):

- crates `gN0000` ... `gN{N-1}`, in chains of CHAIN (250) crates: crate i
  depends on crate i-1 unless i is the first of its chain, so the graph is
  250 levels deep at every size;
- fan-out: every 10th crate also depends on 10 earlier crates spread over
  the graph (across chains);
- a root package `bench-root` depending on every crate (fan-out N);
- every crate has a lib.rs and five small modules: file system, network,
  environment and process, `unsafe`/FFI (behind `#[cfg(unix)]`, with a
  `#[cfg(windows)] #[path]` twin that is not read), and plain code calling
  into its dependencies, with `use` trees, a macro, traits and generics so
  the scanner does real work (six files, about 3.3 KiB of source per crate).

Every crate is a workspace member (`members = ["g*", ...]`), so the scan covers all of them. The
output directory is replaced.
"""

import shutil
import sys
from pathlib import Path

CHAIN = 250
FAN_EVERY = 10
FAN_OUT = 10


def deps_of(i: int, n: int) -> list[int]:
    deps = []
    if i % CHAIN != 0:
        deps.append(i - 1)
    if i % FAN_EVERY == 0 and i > 0:
        step = max(1, i // FAN_OUT)
        for k in range(FAN_OUT):
            j = (i - 1 - k * step - (k * 7) % 13) % i
            if j not in deps:
                deps.append(j)
    return sorted(set(deps))


def name(i: int) -> str:
    return f"g{i:04d}"


def cargo_toml(i: int, deps: list[int]) -> str:
    lines = [
        "[package]",
        f'name = "{name(i)}"',
        'version = "0.1.0"',
        'edition = "2021"',
        "publish = false",
        "",
        "[dependencies]",
    ]
    lines += [f'{name(d)} = {{ path = "../{name(d)}" }}' for d in deps]
    return "\n".join(lines) + "\n"


def lib_rs(i: int, deps: list[int]) -> str:
    calls = "\n".join(f"    total = total.wrapping_add({name(d)}::plain::value({i}u64));" for d in deps)
    return f"""//! Generated crate {i} for the cargo-capgate benchmark.
#![allow(dead_code, unused_imports, unused_mut)]

pub mod files;
pub mod network;
pub mod environment;
pub mod plain;
#[cfg(unix)]
pub mod lowlevel;
#[cfg(windows)]
#[path = "windows_only.rs"]
pub mod lowlevel;

pub use plain::{{value, Counter}};

/// Combines this crate's value with its dependencies'.
pub fn combined() -> u64 {{
    let mut total = plain::value({i}u64);
{calls}
    total
}}
"""


def files_rs(i: int) -> str:
    variant = i % 3
    if variant == 0:
        body = """    let text = std::fs::read_to_string(path)?;
    Ok(text.len())"""
    elif variant == 1:
        body = """    let mut file = File::open(path)?;
    let mut buf = String::new();
    file.read_to_string(&mut buf)?;
    Ok(buf.len())"""
    else:
        body = """    let meta = fs::metadata(path)?;
    if Path::new(path).exists() {
        fs::write(path.with_extension("bak"), b"x")?;
    }
    Ok(meta.len() as usize)"""
    return f"""use std::fs::{{self, File}};
use std::io::{{self, Read, Write}};
use std::path::{{Path, PathBuf}};

/// Reads a file (crate {i}).
pub fn size(path: &Path) -> io::Result<usize> {{
{body}
}}

pub fn config_dir(base: &Path) -> PathBuf {{
    base.join("g{i:04d}").join("config")
}}

pub struct Store {{
    root: PathBuf,
    entries: Vec<(String, u64)>,
}}

impl Store {{
    pub fn new(root: PathBuf) -> Self {{
        Store {{ root, entries: Vec::new() }}
    }}

    pub fn add(&mut self, key: &str, value: u64) {{
        match self.entries.iter_mut().find(|(k, _)| k == key) {{
            Some((_, v)) => *v += value,
            None => self.entries.push((key.to_string(), value)),
        }}
    }}

    pub fn total(&self) -> u64 {{
        self.entries.iter().map(|(_, v)| *v).sum()
    }}
}}
"""


def network_rs(i: int) -> str:
    if i % 4 == 0:
        body = """    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    Ok(stream.peer_addr()?.port())"""
    elif i % 4 == 1:
        body = """    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(addr)?;
    Ok(socket.local_addr()?.port())"""
    else:
        body = """    let _ = addr;
    Ok(0)"""
    return f"""use std::io;
use std::net::{{SocketAddr, TcpStream}};

/// Talks to the network, or not (crate {i}).
pub fn probe(addr: SocketAddr) -> io::Result<u16> {{
{body}
}}

pub fn parse(text: &str) -> Option<SocketAddr> {{
    text.parse().ok()
}}
"""


def environment_rs(i: int) -> str:
    if i % 5 == 0:
        body = """    let out = std::process::Command::new("true").arg(key).output();
    out.map(|o| o.status.success()).unwrap_or(false).then(|| key.to_string())"""
    elif i % 5 == 1:
        body = """    env::var(key).ok()"""
    else:
        body = """    Some(key.to_uppercase())"""
    return f"""use std::env;

macro_rules! twice {{
    ($e:expr) => {{
        ($e).wrapping_mul(2)
    }};
}}

/// Reads a setting (crate {i}).
pub fn setting(key: &str) -> Option<String> {{
{body}
}}

pub fn doubled(x: u64) -> u64 {{
    twice!(x.wrapping_add({i % 97}))
}}
"""


def lowlevel_rs(i: int) -> str:
    if i % 6 == 0:
        return f"""/// Raw memory (crate {i}).
pub fn first(bytes: &[u8]) -> u8 {{
    assert!(!bytes.is_empty());
    unsafe {{ *bytes.get_unchecked(0) }}
}}

extern "C" {{
    fn abs(x: i32) -> i32;
}}

pub fn absolute(x: i32) -> i32 {{
    unsafe {{ abs(x) }}
}}
"""
    return f"""/// Safe code only (crate {i}).
pub fn first(bytes: &[u8]) -> u8 {{
    bytes.first().copied().unwrap_or(0)
}}
"""


def plain_rs(i: int, deps: list[int]) -> str:
    uses = "\n".join(f"use {name(d)}::plain as dep_{k};" for k, d in enumerate(deps[:3]))
    mixes = " ^ ".join(f"dep_{k}::mix(x)" for k in range(min(3, len(deps)))) or "0"
    return f"""{uses}

pub trait Measure {{
    fn measure(&self) -> u64;
}}

impl Measure for str {{
    fn measure(&self) -> u64 {{
        self.bytes().map(u64::from).sum()
    }}
}}

impl<T: Measure + ?Sized> Measure for Box<T> {{
    fn measure(&self) -> u64 {{
        (**self).measure()
    }}
}}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counter {{
    pub hits: u64,
    pub misses: u64,
}}

impl Counter {{
    pub fn record(&mut self, hit: bool) {{
        if hit {{
            self.hits += 1;
        }} else {{
            self.misses += 1;
        }}
    }}

    pub fn ratio(&self) -> f64 {{
        let total = self.hits + self.misses;
        if total == 0 {{ 0.0 }} else {{ self.hits as f64 / total as f64 }}
    }}
}}

pub fn mix(x: u64) -> u64 {{
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left({i % 63 + 1})
}}

/// This crate's value (crate {i}).
pub fn value(x: u64) -> u64 {{
    let items: Vec<u64> = (0..8).map(|k| mix(x.wrapping_add(k))).collect();
    let best = items.iter().copied().max().unwrap_or_default();
    best ^ ({mixes})
}}

#[cfg(test)]
mod tests {{
    #[test]
    fn mixes() {{
        assert_ne!(super::mix(1), super::mix(2));
    }}
}}
"""


def generate(n: int, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # A glob, not 2,000 names: cargo checks every member against an explicit
    # list, which costs `cargo metadata` about half a second at 2,000 crates.
    (out / "Cargo.toml").write_text('[workspace]\nresolver = "2"\nmembers = ["g*", "bench-root"]\n')
    for i in range(n):
        deps = deps_of(i, n)
        src = out / name(i) / "src"
        src.mkdir(parents=True)
        (out / name(i) / "Cargo.toml").write_text(cargo_toml(i, deps))
        (src / "lib.rs").write_text(lib_rs(i, deps))
        (src / "files.rs").write_text(files_rs(i))
        (src / "network.rs").write_text(network_rs(i))
        (src / "environment.rs").write_text(environment_rs(i))
        (src / "lowlevel.rs").write_text(lowlevel_rs(i))
        (src / "windows_only.rs").write_text(f"// crate {i}: not built on unix\npub fn first(b: &[u8]) -> u8 {{ b[0] }}\n")
        (src / "plain.rs").write_text(plain_rs(i, deps))
    root = out / "bench-root"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text(
        '[package]\nname = "bench-root"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n'
        + "".join(f'{name(i)} = {{ path = "../{name(i)}" }}\n' for i in range(n))
    )
    sums = "\n".join(f"    total = total.wrapping_add({name(i)}::combined());" for i in range(0, n, max(1, n // 50)))
    (root / "src" / "main.rs").write_text(
        f"fn main() {{\n    let mut total = 0u64;\n{sums}\n    println!(\"{{total}}\");\n}}\n"
    )


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    if n < 1:
        sys.exit("N must be at least 1")
    generate(n, Path(sys.argv[2]))


if __name__ == "__main__":
    main()
