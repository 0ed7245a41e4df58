#!/usr/bin/env python3
"""cargo-capgate's benchmark: scan cost against the syn-parse floor.

    python3 benches/run.py [--only own,gen,bom] [--sizes 250,500,1000,2000]
                           [--repeat 3] [--no-build] [--work DIR]
    python3 benches/run.py --only bom --bom FILE [--compare BINARY]

Builds the release binary and the `floor` bench (benches/floor.rs), then for
each input measures, side by side in one run:

- `cargo metadata --offline` (what every scan pays before scanning);
- cold scan: `cargo-capgate scan --offline --format json -q` with an empty
  `CAPGATE_CACHE_DIR`;
- warm scan: the same command again on the now full cache;
- floor: every source file the cold scan read (`CAPGATE_SCANNED_FILES`),
  read and parsed with `syn::parse_file` on all cores, in its own process.

Inputs: `own` (this repository's graph), `gen` (generated workspaces of
`--sizes` tiny crates, benches/gen_workspace.py), `bom` (`vet-bom` of a BoM of
up to `--bom-max` crates from the local cargo cache, benches/gen_bom.py).
Before measuring, each input gets one untimed cold scan (which writes the
file list and warms the page cache). Times are medians (`--stat min`: minima)
of `--repeat` runs;
peak memory (max RSS of the child, from wait4) is the largest seen. Prints a
table, the ratios, and whether each target is met. Python 3.11, stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ROOT / "benches"

# Targets from the performance issue.
COLD_OVER_FLOOR_MAX = 1.2
WARM_OWN_MAX_S = 0.3
PEAK_MAX_MIB = 300
BOM_MAX_S = 10.0
LINEAR_SLACK = 1.15  # cost ratio may exceed the source-size ratio by this factor


class BenchError(Exception):
    """An input that could not be measured; the others still are."""


@dataclass
class Run:
    seconds: float
    peak_kib: int
    code: int
    cpu: float = 0.0  # user + system seconds of the child


@dataclass
class Result:
    name: str
    packages: int | None = None
    files: int = 0
    bytes: int = 0
    metadata: list[float] = field(default_factory=list)
    cold: list[Run] = field(default_factory=list)
    warm: list[Run] = field(default_factory=list)
    floor: list[Run] = field(default_factory=list)
    note: str = ""

    # statistics.median, or min with --stat min (steadier on a busy machine,
    # where noise only ever adds time).
    stat = staticmethod(statistics.median)

    @staticmethod
    def med(runs) -> float | None:
        values = [r.seconds if isinstance(r, Run) else r for r in runs]
        return Result.stat(values) if values else None

    @staticmethod
    def peak(runs: list[Run]) -> float | None:
        return max(r.peak_kib for r in runs) / 1024 if runs else None


def measure(cmd: list[str], env: dict[str, str] | None = None, stdout: Path | None = None, ok=(0,)) -> Run:
    """Runs cmd, returning wall time, the child's peak RSS and its exit code."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = tempfile.TemporaryFile()
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
    finally:
        if stdout:
            out.close()
    if code not in ok:
        err.seek(0)
        raise BenchError(f"failed (exit {code}): {' '.join(cmd)}\n{err.read().decode(errors='replace')[-3000:]}")
    # ru_maxrss is KiB on Linux
    return Run(seconds, usage.ru_maxrss, code, usage.ru_utime + usage.ru_stime)


def build(cargo_env: dict[str, str]) -> tuple[Path, Path]:
    """Builds the release binary and the floor bench; returns their paths."""
    print("building release binary and floor bench ...", file=sys.stderr)
    cmd = ["cargo", "build", "--release", "--bin", "cargo-capgate", "--bench", "floor", "--message-format=json"]
    proc = subprocess.run(cmd, cwd=ROOT, env=cargo_env, stdout=subprocess.PIPE)
    if proc.returncode != 0:
        sys.exit("cargo build failed")
    exes = {}
    for line in proc.stdout.decode().splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            exes[msg["target"]["name"]] = Path(msg["executable"])
    return exes["cargo-capgate"], exes["floor"]


def existing_binaries(cargo_env: dict[str, str], need_floor: bool = True) -> tuple[Path, Path | None]:
    """The most recent release binary and floor bench, without building."""
    target = Path(cargo_env.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
    floors = sorted((p for p in (target / "deps").glob("floor-*") if p.is_file() and os.access(p, os.X_OK) and not p.suffix),
                    key=lambda p: p.stat().st_mtime)
    if not (target / "cargo-capgate").is_file() or (need_floor and not floors):
        sys.exit("--no-build: no release binary or floor bench built yet")
    return target / "cargo-capgate", floors[-1] if floors else None


def bench_input(result: Result, tool_cmd: list[str], manifest: Path | None, floor: Path,
                work: Path, repeat: int, ok=(0,)) -> Result:
    """Measures one input: metadata, cold, warm and floor, `repeat` times."""
    base_env = dict(os.environ)
    base_env.pop("CAPGATE_SCANNED_FILES", None)
    list_file = work / f"{result.name}.files"
    out_file = work / f"{result.name}.report.json"
    meta_cmd = None
    if manifest is not None:
        meta_cmd = ["cargo", "metadata", "--offline", "--format-version", "1", "--manifest-path", str(manifest)]
        measure(meta_cmd)  # writes Cargo.lock if missing; untimed

    counter = iter(range(1_000_000))

    def fresh_cache() -> Path:
        # A new directory each time, removed only with the work directory:
        # deleting and recreating caches between runs makes ext4 search for
        # free inodes (recently deleted ones are skipped), which a first scan
        # into an empty cache does not pay.
        cache = work / "caches" / f"{result.name}-{next(counter)}"
        cache.mkdir(parents=True)
        return cache

    # Untimed cold scan: the file list for the floor, and a warm page cache.
    cache = fresh_cache()
    list_file.unlink(missing_ok=True)
    env = base_env | {"CAPGATE_CACHE_DIR": str(cache), "CAPGATE_SCANNED_FILES": str(list_file)}
    measure(tool_cmd, env, stdout=out_file, ok=ok)
    files = list_file.read_text().split("\n") if list_file.exists() else []
    files = [f for f in files if f]
    if not files:
        raise BenchError(f"{result.name}: the cold scan wrote no file list to CAPGATE_SCANNED_FILES ({list_file}); "
                 "this binary does not support it, or the scan read no files. The floor cannot be measured.")
    result.files = len(files)
    result.bytes = sum(os.path.getsize(f) for f in files if os.path.exists(f))
    try:
        report = json.loads(out_file.read_text())
        result.packages = len(report.get("packages", [])) or None
    except (json.JSONDecodeError, OSError):
        pass

    for i in range(repeat):
        print(f"  {result.name}: run {i + 1}/{repeat}", file=sys.stderr)
        if meta_cmd:
            result.metadata.append(measure(meta_cmd).seconds)
        cache = fresh_cache()
        env = base_env | {"CAPGATE_CACHE_DIR": str(cache)}
        result.cold.append(measure(tool_cmd, env, ok=ok))
        result.warm.append(measure(tool_cmd, env, ok=ok))
        result.floor.append(measure([str(floor), str(list_file)]))
        meta = f"metadata {result.metadata[-1]:.2f} s, " if meta_cmd else ""
        print(f"    {meta}cold {result.cold[-1].seconds:.2f} s, warm {result.warm[-1].seconds:.2f} s, "
              f"floor {result.floor[-1].seconds:.2f} s", file=sys.stderr)
    return result


def fmt(x: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "—" if x is None else f"{x:{spec}}{suffix}"


def print_table(results: list[Result]) -> None:
    head = ["input", "packages", "files", "MB", "metadata s", "floor s", "cold s", "warm s",
            "floor MiB", "cold MiB", "warm MiB"]
    rows = []
    for r in results:
        rows.append([
            r.name, fmt(r.packages, "d"), str(r.files), f"{r.bytes / 1e6:.1f}",
            fmt(r.med(r.metadata)), fmt(r.med(r.floor)), fmt(r.med(r.cold)), fmt(r.med(r.warm)),
            fmt(r.peak(r.floor), ".0f"), fmt(r.peak(r.cold), ".0f"), fmt(r.peak(r.warm), ".0f"),
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(head))
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        print(line(row))


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def report(results: list[Result], sizes: list[int], failed: dict[str, str], bom_max: int) -> bool:
    print()
    print_table(results)
    print()
    all_ok = not failed
    for name, message in failed.items():
        print(f"  [NOT RUN] {name}: {message.splitlines()[0]}")

    def target(text: str, ok: bool) -> None:
        nonlocal all_ok
        all_ok &= ok
        print(f"  [{verdict(ok)}] {text}")

    print("ratios:")
    for r in results:
        floor, cold, warm, meta = r.med(r.floor), r.med(r.cold), r.med(r.warm), r.med(r.metadata)
        scan_only = f", {(cold - meta) / floor:.2f}x without cargo metadata" if meta is not None else ""
        beyond = f"; warm {warm - meta:.3f} s beyond cargo metadata" if meta is not None else ""
        print(f"  {r.name}: cold/floor {cold / floor:.2f}x{scan_only}{beyond}")
    by_name = {r.name: r for r in results}
    gen = [(n, by_name[f"gen-{n}"]) for n in sizes if f"gen-{n}" in by_name]
    if len(gen) > 1:
        print("growth (each size against the previous one):")
        for (n0, a), (n1, b) in zip(gen, gen[1:]):
            cold_a, cold_b = a.med(a.cold), b.med(b.cold)
            scan_a, scan_b = cold_a - a.med(a.metadata), cold_b - b.med(b.metadata)
            print(f"  {n0} -> {n1} crates: source x{b.bytes / a.bytes:.2f}, cold x{cold_b / cold_a:.2f} "
                  f"(scan without metadata x{scan_b / scan_a:.2f}), warm x{b.med(b.warm) / a.med(a.warm):.2f}, "
                  f"cargo metadata x{b.med(b.metadata) / a.med(a.metadata):.2f}, floor x{b.med(b.floor) / a.med(a.floor):.2f}")

    print("targets:")
    for r in results:
        ratio = r.med(r.cold) / r.med(r.floor)
        target(f"{r.name}: cold scan <= {COLD_OVER_FLOOR_MAX}x the floor ({ratio:.2f}x)", ratio <= COLD_OVER_FLOOR_MAX)
    if "own" in by_name:
        warm = by_name["own"].med(by_name["own"].warm)
        target(f"own: warm scan <= {WARM_OWN_MAX_S} s including cargo metadata ({warm:.3f} s)", warm <= WARM_OWN_MAX_S)
    if len(gen) > 1:
        for (n0, a), (n1, b) in zip(gen, gen[1:]):
            cost, size = b.med(b.cold) / a.med(a.cold), b.bytes / a.bytes
            target(f"gen {n0} -> {n1}: cost linear in source size (cold x{cost:.2f} for source x{size:.2f})",
                   cost <= size * LINEAR_SLACK)
    for r in results:
        peak = max(r.peak(r.cold), r.peak(r.warm))
        target(f"{r.name}: peak memory <= {PEAK_MAX_MIB} MiB ({peak:.0f} MiB)", peak <= PEAK_MAX_MIB)
    if "bom" in by_name:
        b = by_name["bom"]
        cold = b.med(b.cold)
        if b.packages and b.packages < bom_max:
            # Too few crates in the local cache: judge the time projected
            # linearly to bom_max components.
            projected = cold * bom_max / b.packages
            target(f"bom: {bom_max}-component BoM vetted in <= {BOM_MAX_S:.0f} s from the local cache "
                   f"(projected {projected:.1f} s from {cold:.2f} s for {b.packages}{b.note})", projected <= BOM_MAX_S)
        else:
            target(f"bom: {b.packages}-component BoM vetted in <= {BOM_MAX_S:.0f} s from the local cache "
                   f"({cold:.2f} s cold)", cold <= BOM_MAX_S)
    return all_ok


def bench_real_bom(bom: Path, binaries: list[tuple[str, Path]], work: Path, repeat: int) -> bool:
    """`vet-bom` of a real BoM, side by side for each binary, alternating.

    Every `.crate` is made local first: one untimed run downloads them into
    a store of its own (from the registry cargo's configuration names). Each
    cold run starts from a new cache holding only those downloads (hard
    links of `crates/`), so listing, unpacking and scanning are cold; the
    warm run is the same command again on that cache. Index lookups still go
    to the registry, as they do for a user. Prints medians of wall time,
    CPU time (user + system) and peak memory, and each binary's ratio to the
    first."""
    base_env = dict(os.environ)
    base_env.pop("CAPGATE_SCANNED_FILES", None)
    cmd_of = lambda binary: [str(binary), "vet-bom", str(bom), "--format", "json", "--min-age", "0", "-q"]
    store = work / "bom-store"
    if not (store / "crates").is_dir():
        print(f"downloading the BoM's crates into {store} ...", file=sys.stderr)
        store.mkdir(parents=True, exist_ok=True)
        measure(cmd_of(binaries[0][1]), base_env | {"CAPGATE_CACHE_DIR": str(store)}, ok=(0, 1, 2))
    counter = iter(range(1_000_000))
    runs: dict[str, dict[str, list[Run]]] = {name: {"cold": [], "warm": []} for name, _ in binaries}
    reports: dict[str, bytes] = {}
    for i in range(repeat):
        order = binaries if i % 2 == 0 else list(reversed(binaries))
        for name, binary in order:
            cache = work / "caches" / f"bom-{name}-{next(counter)}"
            cache.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(store / "crates", cache / "crates", copy_function=os.link)
            env = base_env | {"CAPGATE_CACHE_DIR": str(cache)}
            out = work / f"bom-{name}.json"
            cold = measure(cmd_of(binary), env, stdout=out, ok=(0, 1, 2))
            warm = measure(cmd_of(binary), env, ok=(0, 1, 2))
            runs[name]["cold"].append(cold)
            runs[name]["warm"].append(warm)
            reports.setdefault(name, out.read_bytes())
            print(f"  {name} run {i + 1}/{repeat}: cold {cold.seconds:.2f} s ({cold.cpu:.1f} CPU-s, "
                  f"{cold.peak_kib / 1024:.0f} MiB), warm {warm.seconds:.2f} s ({warm.cpu:.1f} CPU-s, "
                  f"{warm.peak_kib / 1024:.0f} MiB)", file=sys.stderr)
            shutil.rmtree(cache, ignore_errors=True)
    med = lambda xs: Result.stat(xs)
    first = binaries[0][0]
    print(f"\nvet-bom {bom.name}, medians of {repeat} (wall s / CPU s / peak MiB):")
    for name, _ in binaries:
        line = []
        for kind in ("cold", "warm"):
            r = runs[name][kind]
            wall, cpu, peak = med([x.seconds for x in r]), med([x.cpu for x in r]), med([x.peak_kib / 1024 for x in r])
            text = f"{kind} {wall:.2f} / {cpu:.1f} / {peak:.0f}"
            if name != first:
                b = runs[first][kind]
                text += (f" (x{wall / med([x.seconds for x in b]):.2f} wall, x{cpu / med([x.cpu for x in b]):.2f} CPU, "
                         f"x{peak / med([x.peak_kib / 1024 for x in b]):.2f} peak)")
            line.append(text)
        print(f"  {name}: " + "; ".join(line))
    same = len(set(reports.values())) == 1
    if len(binaries) > 1:
        print(f"  reports byte-identical: {'yes' if same else 'NO'}")
    cold = med([x.seconds for x in runs[binaries[-1][0]]["cold"]])
    ok = cold <= BOM_MAX_S
    print(f"  [{verdict(ok)}] bom: vetted in <= {BOM_MAX_S:.0f} s cold with every .crate local ({cold:.2f} s)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="own,gen,bom", help="inputs to run: own, gen, bom (comma-separated)")
    parser.add_argument("--sizes", default="250,500,1000,2000", help="generated workspace sizes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median taken)")
    parser.add_argument("--stat", choices=["median", "min"], default="median",
                        help="how repeated timings are combined (default median)")
    parser.add_argument("--bom-max", type=int, default=1000, help="components in the generated BoM")
    parser.add_argument("--bom", type=Path, default=None,
                        help="with --only bom: vet this real BoM instead of a generated one (downloads its crates once)")
    parser.add_argument("--compare", type=Path, default=None,
                        help="with --bom: another cargo-capgate binary (say, main's) measured alternately beside this one")
    parser.add_argument("--no-build", action="store_true", help="use the binaries already built")
    parser.add_argument("--work", type=Path, default=None,
                        help="scratch directory (default: a temporary one, removed afterwards)")
    args = parser.parse_args()
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    unknown = only - {"own", "gen", "bom"}
    if unknown:
        parser.error(f"unknown inputs: {', '.join(sorted(unknown))}")
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    Result.stat = staticmethod(min if args.stat == "min" else statistics.median)

    cargo_env = dict(os.environ)
    if args.no_build:
        binary, floor = existing_binaries(cargo_env, need_floor=args.bom is None)
    else:
        binary, floor = build(cargo_env)
    work = args.work or Path(tempfile.mkdtemp(prefix="capgate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"binary {binary}\nfloor  {floor}\nwork   {work}\ncores  {os.cpu_count()}, load average {load:.2f}"
          + (" (the machine is busy: timings will be noisy)" if load > 0.5 else ""), file=sys.stderr)

    scan = lambda manifest: [str(binary), "scan", "--manifest-path", str(manifest), "--offline", "--format", "json", "-q"]
    results: list[Result] = []
    failed: dict[str, str] = {}

    def attempt(name: str, run) -> None:
        try:
            results.append(run())
        except BenchError as e:
            print(f"{name}: {e}", file=sys.stderr)
            failed[name] = str(e)

    def gen(n: int) -> Result:
        ws = work / f"ws-{n}"
        subprocess.run([sys.executable, str(BENCHES / "gen_workspace.py"), str(n), str(ws)], check=True)
        try:
            return bench_input(Result(f"gen-{n}"), scan(ws / "Cargo.toml"), ws / "Cargo.toml", floor, work, args.repeat)
        finally:
            shutil.rmtree(ws, ignore_errors=True)

    def bom() -> Result:
        path = work / "bom.json"
        count = int(subprocess.run([sys.executable, str(BENCHES / "gen_bom.py"), str(path), "--max", str(args.bom_max)],
                                   check=True, stdout=subprocess.PIPE).stdout.decode().strip())
        cmd = [str(binary), "vet-bom", str(path), "--offline", "--format", "json", "--min-age", "0"]
        r = bench_input(Result("bom"), cmd, None, floor, work, args.repeat, ok=(0, 1))
        r.packages = count
        if count < args.bom_max:
            r.note = f"; the local cache has only {count} crates"
        return r

    if args.bom is not None:
        if only != {"bom"}:
            parser.error("--bom goes with --only bom")
        binaries = ([("compared", args.compare.resolve())] if args.compare else []) + [("this", binary)]
        try:
            ok = bench_real_bom(args.bom.resolve(), binaries, work, args.repeat)
        finally:
            if args.work is None:
                shutil.rmtree(work, ignore_errors=True)
        sys.exit(0 if ok else 1)

    try:
        if "own" in only:
            attempt("own", lambda: bench_input(Result("own"), scan(ROOT / "Cargo.toml"), ROOT / "Cargo.toml",
                                               floor, work, args.repeat))
        if "gen" in only:
            for n in sizes:
                attempt(f"gen-{n}", lambda n=n: gen(n))
        if "bom" in only:
            attempt("bom", bom)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if not results:
        sys.exit("nothing could be measured")
    ok = report(results, sizes, failed, args.bom_max)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
