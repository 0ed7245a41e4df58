#!/usr/bin/env python3
"""Robustness scan of the most-downloaded crates, newest versions.

    python3 benches/popular.py [--count 1000] [--names FILE] [--chunk 250]
                               [--time-limit 1800] [--no-build] [--no-rustc]
                               [--work DIR] [--json OUT]

1. Names: the first `--count` names of `--names` (default
   /work/shared/data/popular-crates.txt, or $CAPGATE_POPULAR_CRATES: one
   `NAME<TAB>DOWNLOADS` line per crate, most downloaded first, `#` comments).
2. Versions: the newest version of each that is neither yanked nor a
   pre-release, with its checksum, from the `newest` bench (benches/newest.rs),
   which asks the registry cargo's configuration names, through the same code
   as `vet-bom`.
3. A CycloneDX 1.5 BoM of `pkg:cargo/NAME@VERSION` components with SHA-256
   hashes and no dependencies section, cut into BoMs of `--chunk` components.
4. Each chunk: the release `cargo-capgate capgate vet-bom BOM --format json
   --min-age 0 -v` (plus `--timeout` when the binary has it) under
   `/usr/bin/time -v` and a wall-clock limit of `--time-limit` seconds, with a
   private CAPGATE_CACHE_DIR (downloads and unpacked crates stay in the work
   directory, never in the repository or the user's cache). A chunk that
   crashes or hits the limit is run again one crate at a time, so every crash
   and hang is pinned to a crate.
5. For every file syn rejected (read by the token-level fallback; `-v`
   prints them), whether rustc's own parser rejects it too
   (`RUSTC_BOOTSTRAP=1 rustc -Z unpretty=normal --edition E`, the crate's
   edition: rustc's parser on the file alone, no expansion, no module loading):
   a file rustc parses but syn does not is a scanner shortfall.

Prints components by status, crashes (exit code other than 0/1/2, or a panic
on stderr), hangs (time limit hit), the `unanalyzed` findings grouped by rule
(with the crates and whether each names a reason), the token-fallback files,
wall time and peak memory. `--json OUT` writes all of it as JSON. Exits 1 if
there is a crash, a hang, an `unanalyzed` finding without a reason, or a file
that syn rejects and rustc accepts.

Needs the network (the registry only). Python 3.11, stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAMES = Path(os.environ.get("CAPGATE_POPULAR_CRATES", "/work/shared/data/popular-crates.txt"))
BIN = ROOT / "target" / "release" / "cargo-capgate"

# Exit codes of a finished vet-bom: pass, fail, error (unvetted component).
NORMAL_EXITS = {0, 1, 2}
PANIC = re.compile(r"panicked at|RUST_BACKTRACE|stack overflow|memory allocation of .* failed")
FALLBACK_NOTE = re.compile(r"^note: (?P<name>\S+) (?P<version>\S+): syn could not parse (?P<file>.+?): (?P<error>.*); read it as tokens$")


@dataclass
class Run:
    """One vet-bom process."""

    names: list[str]
    code: int | None  # None: killed at the time limit
    seconds: float
    peak_kib: int
    report: dict | None
    stderr: str
    files: Path  # the CAPGATE_SCANNED_FILES list it wrote
    crash: str = ""

    @property
    def hung(self) -> bool:
        return self.code is None


@dataclass
class Summary:
    crates: list[tuple[str, str, str]] = field(default_factory=list)
    unresolved: list[tuple[str, str]] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    wall: float = 0.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_names(path: Path, count: int) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        name = line.split("\t")[0].strip()
        if name and not name.startswith("#"):
            names.append(name)
            if len(names) == count:
                break
    return names


def build() -> None:
    log("building the release binary and the newest bench")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "bench", "--no-run", "--quiet", "--bench", "newest"], cwd=ROOT, check=True)


def newest_versions(names: list[str], work: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(name, version, sha256) for each name that has a release; (name, why) for the rest."""
    listing = work / "names.txt"
    listing.write_text("".join(n + "\n" for n in names))
    out = subprocess.run(
        ["cargo", "bench", "--quiet", "--bench", "newest", "--", str(listing)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found, missing = [], []
    for line in out.splitlines():
        name, version, rest = line.split("\t", 2)
        if version == "-":
            missing.append((name, rest))
        else:
            found.append((name, version, rest))
    (work / "versions.tsv").write_text(out)
    return found, missing


def write_bom(path: Path, crates: list[tuple[str, str, str]]) -> None:
    components = []
    for name, version, sha in crates:
        purl = f"pkg:cargo/{name}@{version}"
        components.append(
            {
                "type": "library",
                "bom-ref": purl,
                "name": name,
                "version": version,
                "purl": purl,
                "hashes": [{"alg": "SHA-256", "content": sha}],
            }
        )
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "version": 1,
        "metadata": {"component": {"type": "application", "bom-ref": "capgate-popular", "name": "capgate-popular", "version": "0.0.0"}},
        "components": components,
    }
    path.write_text(json.dumps(bom, indent=1) + "\n")


def has_timeout_flag() -> bool:
    help_text = subprocess.run([str(BIN), "capgate", "vet-bom", "--help"], capture_output=True, text=True).stdout
    return "--timeout" in help_text


def vet(crates: list[tuple[str, str, str]], work: Path, tag: str, limit: float, timeout_flag: bool) -> Run:
    bom = work / f"bom-{tag}.json"
    write_bom(bom, crates)
    time_out = work / f"time-{tag}.txt"
    command = ["/usr/bin/time", "-v", "-o", str(time_out), str(BIN), "capgate", "vet-bom", str(bom), "--format", "json", "--min-age", "0", "-v"]
    if timeout_flag:
        command += ["--timeout", f"{int(limit * 0.9)}s"]
    env = dict(os.environ, CAPGATE_CACHE_DIR=str(work / "cache"), CAPGATE_SCANNED_FILES=str(work / f"files-{tag}.txt"))
    env.pop("RUST_BACKTRACE", None)
    start = time.monotonic()
    with open(work / f"out-{tag}.json", "w+b") as out, open(work / f"err-{tag}.txt", "w+b") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=work, start_new_session=True)
        try:
            code: int | None = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    peak = 0
    if time_out.exists():
        text = time_out.read_text()
        if m := re.search(r"Maximum resident set size \(kbytes\): (\d+)", text):
            peak = int(m[1])
        # /usr/bin/time reports a child killed by a signal as this line, and
        # exits with 128 + the signal.
        if code is not None and (m := re.search(r"Command terminated by signal (\d+)", text)):
            code = 128 + int(m[1])
    try:
        report = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    run = Run([c[0] for c in crates], code, seconds, peak, report, stderr, Path(env["CAPGATE_SCANNED_FILES"]))
    if code is not None and (code not in NORMAL_EXITS or PANIC.search(stderr)):
        run.crash = f"exit {code}" + (f"; {PANIC.search(stderr)[0]}" if PANIC.search(stderr) else "")
    elif code is not None and report is None:
        run.crash = f"exit {code} without a JSON report"
    return run


def vet_all(crates, work: Path, chunk: int, limit: float) -> list[Run]:
    timeout_flag = has_timeout_flag()
    runs = []
    for start in range(0, len(crates), chunk):
        part = crates[start : start + chunk]
        tag = f"{start:04d}"
        log(f"vet-bom: crates {start + 1}-{start + len(part)} of {len(crates)}")
        run = vet(part, work, tag, limit, timeout_flag)
        log(f"  exit {run.code}, {run.seconds:.1f} s, peak {run.peak_kib / 1024:.0f} MiB{'; ' + run.crash if run.crash else ''}{'; HUNG' if run.hung else ''}")
        if (run.crash or run.hung) and len(part) > 1:
            log("  running this chunk's crates one at a time to find the culprit")
            runs.extend(vet([c], work, f"{tag}-{c[0]}", limit, timeout_flag) for c in part)
        else:
            runs.append(run)
    return runs


def edition_of(package_dir: Path) -> str:
    try:
        manifest = tomllib.loads((package_dir / "Cargo.toml").read_text())
        edition = manifest.get("package", {}).get("edition", "2015")
        return edition if isinstance(edition, str) else "2015"
    except (OSError, tomllib.TOMLDecodeError):
        return "2015"


def rustc_parses(path: Path, edition: str) -> tuple[bool, str]:
    """Whether rustc's parser accepts the file on its own, and its first
    error. `-Z unpretty=normal` prints the crate as parsed, before expansion,
    so out-of-line modules are not loaded and nothing is type-checked."""
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    done = subprocess.run(
        ["rustc", "-Z", "unpretty=normal", "--edition", edition, "--crate-type", "lib", "--error-format", "short", "-o", os.devnull, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    first = next((line for line in done.stderr.splitlines() if "error" in line), "")
    return done.returncode == 0, first


def token_fallbacks(runs: list[Run], check_rustc: bool) -> list[dict]:
    """Every file read as tokens, with the absolute path (from the run's
    scanned-file list) and rustc's verdict."""
    rows = []
    for run in runs:
        files = run.files.read_text().splitlines() if run.files.exists() else []
        for line in run.stderr.splitlines():
            m = FALLBACK_NOTE.match(line)
            if not m:
                continue
            rel = m["file"]
            # Unpacked crates live in `src/NAME-VERSION-<checksum prefix>/`.
            marker = f"/{m['name']}-{m['version']}-"
            path = next((p for p in files if p.endswith("/" + rel) and marker in p), None)
            row = {"crate": f"{m['name']}@{m['version']}", "file": rel, "syn_error": m["error"], "path": path}
            if check_rustc and path:
                package_dir = Path(path[: len(path) - len(rel)])
                ok, error = rustc_parses(Path(path), edition_of(package_dir))
                row["rustc_accepts"] = ok
                row["rustc_error"] = error
            rows.append(row)
    return rows


def unanalyzed(runs: list[Run]) -> list[dict]:
    rows = []
    for run in runs:
        for package in (run.report or {}).get("packages", []):
            findings = package.get("findings", []) + package.get("build_script", {}).get("findings", [])
            for f in findings:
                if f.get("capability") == "unanalyzed":
                    rows.append(
                        {
                            "crate": f"{package['name']}@{package['version']}",
                            "rule": f.get("rule"),
                            "file": f.get("file"),
                            "line": f.get("line"),
                            "evidence": f.get("evidence", ""),
                        }
                    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--names", type=Path, default=DEFAULT_NAMES)
    parser.add_argument("--chunk", type=int, default=250, help="components per vet-bom run")
    parser.add_argument("--time-limit", type=float, default=1800, help="wall-clock seconds per vet-bom run")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--no-rustc", action="store_true", help="do not ask rustc about files syn rejected")
    parser.add_argument("--work", type=Path, help="work directory (kept); default: a temporary one, removed")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    args = parser.parse_args()

    if not args.no_build:
        build()
    work = args.work or Path(tempfile.mkdtemp(prefix="capgate-popular-"))
    work = work.resolve()
    if work.is_relative_to(ROOT):
        sys.exit("--work must be outside the repository (its files are hashed for the cache key)")
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.monotonic()
        names = read_names(args.names, args.count)
        log(f"{len(names)} names from {args.names}; resolving newest versions")
        crates, missing = newest_versions(names, work)
        runs = vet_all(crates, work, args.chunk, args.time_limit)
        wall = time.monotonic() - started
        fallbacks = token_fallbacks(runs, not args.no_rustc)
        findings = unanalyzed(runs)
        results = report(names, crates, missing, runs, findings, fallbacks, wall)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n")
        return 1 if results["failed"] else 0
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def build_time(finding: dict) -> bool:
    """Whether an `unanalyzed` finding is code that exists only at build
    time: a build script's output, a file a build-environment variable
    names, or a module file outside the package that the package does not
    hold."""
    rule = finding["rule"]
    return rule in ("include-out-dir", "module-outside-package") or (
        rule == "include-unresolved" and "environment variable" in finding["evidence"]
    )


def report(names, crates, missing, runs, findings, fallbacks, wall) -> dict:
    statuses = Counter()
    for run in runs:
        for component in (run.report or {}).get("components", []):
            statuses[component["status"]] += 1
    crashes = [{"crates": r.names if len(r.names) > 1 else r.names[0], "what": r.crash, "stderr_tail": r.stderr[-2000:]} for r in runs if r.crash]
    hangs = [{"crates": r.names if len(r.names) > 1 else r.names[0], "seconds": round(r.seconds, 1)} for r in runs if r.hung]
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for f in findings:
        by_rule[f["rule"]].append(f)
    reasonless = [f for f in findings if not f["evidence"].strip()]
    shortfalls = [f for f in fallbacks if f.get("rustc_accepts")]
    peak = max((r.peak_kib for r in runs), default=0)
    vet_seconds = sum(r.seconds for r in runs)

    print(f"\nnames: {len(names)}; resolved: {len(crates)}; without a release: {len(missing)}")
    for name, why in missing:
        print(f"  {name}: {why}")
    print(f"vet-bom runs: {len(runs)}; vet-bom time {vet_seconds:.0f} s; whole run {wall:.0f} s; peak memory {peak / 1024:.0f} MiB")
    print("components by status: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())))
    print(f"crashes: {len(crashes)}")
    for c in crashes:
        print(f"  {c['crates']}: {c['what']}")
    print(f"hangs: {len(hangs)}")
    for h in hangs:
        print(f"  {h['crates']}: killed after {h['seconds']} s")
    crates_unanalyzed = {f["crate"] for f in findings}
    print(f"unanalyzed findings: {len(findings)} in {len(crates_unanalyzed)} crates; without a reason: {len(reasonless)}")
    for rule, rows in sorted(by_rule.items()):
        print(f"  {rule}: {len(rows)} in {len({r['crate'] for r in rows})} crates")
        for r in rows:
            where = f"{r['file']}:{r['line']}" if r["file"] else "-"
            print(f"    {r['crate']} {where}: {r['evidence'][:200]}")
    other = [f for f in findings if not build_time(f)]
    print(
        f"unanalyzed for code that exists only at build time: {len(findings) - len(other)}; "
        f"for anything else: {len(other)} in {len({f['crate'] for f in other})} crates"
        + "".join(f"\n    {f['crate']} {f['rule']}" for f in other)
    )
    print(f"files syn rejected (token fallback): {len(fallbacks)}; of these rustc accepts: {len(shortfalls)}")
    for f in fallbacks:
        verdict = {True: "rustc ACCEPTS", False: "rustc rejects", None: "rustc not asked"}[f.get("rustc_accepts")]
        print(f"  {f['crate']} {f['file']}: {verdict}; syn: {f['syn_error'][:150]}" + (f"; rustc: {f['rustc_error'][:150]}" if f.get("rustc_error") else ""))
    failed = bool(crashes or hangs or reasonless or shortfalls)
    print("result: " + ("FAIL" if failed else "ok: no crash, no hang, every unanalyzed with a reason, syn rejects only what rustc rejects"))
    return {
        "names": len(names),
        "resolved": len(crates),
        "missing": missing,
        "statuses": dict(statuses),
        "wall_seconds": round(wall, 1),
        "vet_seconds": round(vet_seconds, 1),
        "peak_kib": peak,
        "runs": [{"crates": len(r.names), "code": r.code, "seconds": round(r.seconds, 1), "peak_kib": r.peak_kib} for r in runs],
        "crashes": crashes,
        "hangs": hangs,
        "unanalyzed": findings,
        "unanalyzed_not_build_time": [f for f in findings if not build_time(f)],
        "token_fallback": fallbacks,
        "failed": failed,
    }


if __name__ == "__main__":
    sys.exit(main())
