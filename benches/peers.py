#!/usr/bin/env python3
"""capgate against the peer tools' own test suites, crate by crate.

    python3 benches/peers.py [--cackle DIR] [--cargo-scan DIR] [--bin PATH]

`--cackle DIR`: a checkout of cackle (github cackle-rs/cackle), its root or
its `test_crates` workspace. `--cargo-scan DIR`: a checkout of cargo-scan
(github PLSysSec/cargo-scan), its root or its `data/test-packages`. Check
them out outside this repository, e.g.

    git --git-dir=MIRROR archive COMMIT test_crates | tar x -C /tmp/peers

(the commits the labels were written for are at the top of each label file).

Each suite is scanned with `scan --format json` (cackle's as one workspace,
offline: its dependencies are path dependencies; cargo-scan's one package
at a time, resolved through cargo's configured registry, since some name
libc, log, rand, syn or wasm-bindgen), with a private cache. The result is
compared with the hand-written labels in `benches/peers/SUITE.toml`: what
each crate's source really does, written from reading it (the peer's own
labels, cackle.toml's grants or cargo-scan's results/test_all.csv, are shown
beside them but do not decide), over (crate, capability) pairs: precision,
recall, every difference with its cause. Exits 1 if a difference has no
cause written in the labels (see capcompare.py).

Needs the release binary (`--bin`, default $CAPGATE_BIN, else
$CARGO_TARGET_DIR/release or target/release): build it first with
`cargo build --release`. Python 3.11, stdlib only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the repository
import capcompare  # noqa: E402

HERE = Path(__file__).resolve().parent


def suite_root(path: Path, subdir: str) -> Path:
    """The suite inside a checkout given as its root or as the suite itself."""
    return path / subdir if (path / subdir).is_dir() else path


def run_suite(name: str, checkout: Path, binary: Path, cache: Path) -> bool:
    labels = capcompare.load_labels(HERE / "peers" / f"{name}.toml")
    root = suite_root(checkout, labels["subdir"])
    offline = labels.get("offline", False)
    reports: dict[str, dict] = {}
    if labels["layout"] == "workspace":
        reports[""] = capcompare.scan(binary, root / "Cargo.toml", cache, offline)
    else:
        for entry in labels["crate"]:
            d = entry["dir"]
            if d not in reports:
                reports[d] = capcompare.scan(binary, root / d / "Cargo.toml", cache, offline)
    cmp = capcompare.compare(labels, reports)
    title = f"{name}: {root} ({labels['repo']} at {labels['commit'][:12]})"
    return capcompare.print_comparison(title, cmp, show_peer=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cackle", type=Path, help="cackle checkout (root or test_crates)")
    ap.add_argument("--cargo-scan", type=Path, help="cargo-scan checkout (root or data/test-packages)")
    ap.add_argument("--bin", type=Path, default=capcompare.default_binary())
    args = ap.parse_args()
    if not args.cackle and not args.cargo_scan:
        ap.error("give --cackle DIR and/or --cargo-scan DIR")
    if not args.bin.is_file():
        ap.error(f"no binary at {args.bin}: build it with `cargo build --release` or pass --bin")
    ok = True
    with tempfile.TemporaryDirectory(prefix="capgate-peers-") as tmp:
        cache = Path(tmp) / "cache"
        if args.cackle:
            ok &= run_suite("cackle", args.cackle, args.bin, cache)
        if args.cargo_scan:
            ok &= run_suite("cargo-scan", args.cargo_scan, args.bin, cache)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
