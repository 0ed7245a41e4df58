#!/usr/bin/env python3
"""capgate on a real binary workspace: axum hello world with tokio, reqwest & co.

    python3 benches/real_workspace.py [--bin PATH] [--work DIR] [--latest] [--offline]

Writes, in a temporary directory (or `--work DIR`, kept), a binary crate
`hello-axum` whose main is an axum hello world serving on a bound
tokio::net::TcpListener, depending on axum, tokio (feature `full`),
reqwest, walkdir, h2, socket2, memchr and serde_json at the versions in
`benches/real_workspace.toml` (`--latest`: the newest compatible ones, and
no pins). It resolves the graph from the registry cargo's configuration
names, with `cargo generate-lockfile` and `cargo update --precise` only
(nothing is built), then runs `scan --format json` with a private
CAPGATE_CACHE_DIR, and prints for every labelled crate what its source
really does (the labels in real_workspace.toml, written from reading the
sources at those versions) beside what capgate reports, with the cause of
each difference; then the issue's requirements (socket2, mio and tokio show
`net`; the root reaches `net.listen`) and the other packages of the graph
unlabelled.

Exits 1 if a difference has no cause in the labels or a requirement does
not hold. Needs the release binary (`--bin`, default $CAPGATE_BIN, else
$CARGO_TARGET_DIR/release or target/release) and the registry (or, with
`--offline`, cargo's cache). Python 3.11, stdlib only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the repository
import capcompare  # noqa: E402

HERE = Path(__file__).resolve().parent
LABELS = HERE / "real_workspace.toml"
ROOT_CRATE = "hello-axum"


def manifest(deps: dict, latest: bool) -> str:
    lines = ["[package]", f'name = "{ROOT_CRATE}"', 'version = "0.1.0"', 'edition = "2021"',
             "publish = false", "", "[workspace]", "", "[dependencies]"]
    for name, spec in deps.items():
        spec = dict(spec) if isinstance(spec, dict) else {"version": spec}
        if not latest:
            spec["version"] = "=" + spec["version"]
        else:
            spec["version"] = spec["version"].split(".")[0] if not spec["version"].startswith("0.") \
                else ".".join(spec["version"].split(".")[:2])
        fields = ", ".join(f"{k} = {json.dumps(v)}" for k, v in spec.items())
        lines.append(f"{name} = {{ {fields} }}")
    return "\n".join(lines) + "\n"


def cargo(args: list[str], cwd: Path, offline: bool, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["cargo", *args] + (["--offline"] if offline else [])
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"`{' '.join(cmd)}` exited {proc.returncode}")
    return proc


def requirements(report: dict) -> list[tuple[str, bool]]:
    caps = {p["name"]: set(p["capabilities"]) for p in report["packages"]}
    out = []
    for name in ("socket2", "mio", "tokio"):
        has = any(c.startswith("net.") for c in caps.get(name, ()))
        out.append((f"{name} shows net", has))
    out.append((f"the root ({ROOT_CRATE}) reaches net.listen", "net.listen" in caps.get(ROOT_CRATE, ())))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", type=Path, default=capcompare.default_binary())
    ap.add_argument("--work", type=Path, help="work directory, kept (default: a temporary one)")
    ap.add_argument("--latest", action="store_true", help="newest compatible versions, no pins")
    ap.add_argument("--offline", action="store_true", help="resolve and scan from cargo's cache only")
    args = ap.parse_args()
    if not args.bin.is_file():
        ap.error(f"no binary at {args.bin}: build it with `cargo build --release` or pass --bin")
    with open(LABELS, "rb") as f:
        ws = tomllib.load(f)["workspace"]
    labels = capcompare.load_labels(LABELS)

    tmp = None
    if args.work:
        work = args.work.resolve()
        if work.is_relative_to(capcompare.ROOT):
            ap.error("--work must be outside the repository")
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="capgate-real-")
        work = Path(tmp)
    try:
        crate = work / "hello-axum"
        (crate / "src").mkdir(parents=True, exist_ok=True)
        (crate / "Cargo.toml").write_text(manifest(ws["dependencies"], args.latest))
        (crate / "src" / "main.rs").write_text(ws["main"].lstrip())
        cargo(["generate-lockfile"], crate, args.offline)
        if not args.latest:
            for name, version in ws.get("precise", {}).items():
                proc = cargo(["update", "-p", name, "--precise", version], crate, args.offline, check=False)
                if proc.returncode != 0:
                    print(f"warning: could not hold {name} at {version}: "
                          f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'cargo failed'}")
        report = capcompare.scan(args.bin, crate / "Cargo.toml", work / "capgate-cache", args.offline)
        (work / "report.json").write_text(json.dumps(report))

        cmp = capcompare.compare(labels, {"": report})
        ok = capcompare.print_comparison(
            f"real workspace: {len(report['packages'])} packages ({crate})", cmp, show_peer=False)

        print("Requirements of the issue:")
        for what, holds in requirements(report):
            print(f"  - {what}: {'yes' if holds else 'NO'}")
            ok &= holds
        print()

        labelled = {e["name"] for e in labels["crate"]}
        print("Other packages (not labelled):")
        for pkg in report["packages"]:
            if pkg["name"] in labelled:
                continue
            build = pkg["build_script"]["capabilities"]
            extra = f"  build script: {','.join(build)}" if build else ""
            print(f"  {pkg['name']} {pkg['version']}: {','.join(pkg['capabilities']) or '-'}{extra}")
        return 0 if ok else 1
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
