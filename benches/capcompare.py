"""Compare capgate's capabilities per crate with hand-written labels.

Shared by `peers.py` and `real_workspace.py`. A label file is TOML:

    [[crate]]
    name = "crab-1"
    version = "0.1.0"            # optional: any version when absent
    caps = ["env.read", "unsafe"]  # what the source really does (run time)
    build_script = ["net.connect"] # optional: the build script's own; not compared when absent
    peer = "env, fs, unsafe"       # optional: what the peer tool's own labels say, shown as is
    [crate.cause]                  # why capgate differs, per capability
    "unsafe" = "over: ..."
    "build_script:fs.read" = "under: ..."

A difference with no cause is UNEXPLAINED (the scripts exit 1), so a scanner
change that moves a result shows up; a cause whose difference is gone is
listed as stale. `unanalyzed` is not a capability of the source: it is shown
per crate, and a capability missed in a crate capgate marks `unanalyzed` is
a miss that fails closed (counted apart).

Python 3.11, stdlib only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CAPABILITIES = {
    "fs.read", "fs.write", "net.connect", "net.listen", "process.spawn",
    "env.read", "env.write", "unsafe", "ffi", "build", "proc-macro",
}
FAMILIES = {"fs": ("fs.read", "fs.write"), "net": ("net.connect", "net.listen"),
            "process": ("process.spawn",), "env": ("env.read", "env.write")}


def default_binary() -> Path:
    """The release binary: $CAPGATE_BIN, else $CARGO_TARGET_DIR's, else the repository's."""
    if os.environ.get("CAPGATE_BIN"):
        return Path(os.environ["CAPGATE_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "cargo-capgate"


def expand(caps) -> set[str]:
    """Sub-capabilities of a list that may name families; unknown names are an error."""
    out: set[str] = set()
    for cap in caps:
        if cap in FAMILIES:
            out.update(FAMILIES[cap])
        elif cap in CAPABILITIES or cap == "unanalyzed":
            out.add(cap)
        else:
            raise SystemExit(f"unknown capability {cap!r}")
    return out


def load_labels(path: Path) -> dict:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    for entry in data.get("crate", []):
        entry["caps"] = expand(entry.get("caps", []))
        if "build_script" in entry:
            entry["build_script"] = expand(entry["build_script"])
        for key in entry.get("cause", {}):
            cap = key.removeprefix("build_script:")
            if cap not in CAPABILITIES:
                raise SystemExit(f"{path}: {entry['name']}: cause for unknown capability {key!r}")
    return data


def scan(binary: Path, manifest: Path, cache: Path, offline: bool) -> dict:
    """`scan --format json` of one manifest, with a private cache."""
    cmd = [str(binary), "capgate", "scan", "--format", "json", "--manifest-path", str(manifest)]
    if offline:
        cmd.append("--offline")
    env = dict(os.environ, CAPGATE_CACHE_DIR=str(cache))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"capgate scan of {manifest} exited {proc.returncode}")
    return json.loads(proc.stdout)


def find_package(report: dict, name: str, version: str | None) -> dict | None:
    for pkg in report["packages"]:
        if pkg["name"] == name and (version is None or pkg["version"] == version):
            return pkg
    return None


@dataclass
class Row:
    crate: str
    version: str
    expected: set[str]
    reported: set[str]
    unanalyzed: bool
    scope: str = ""  # "" for run time, "build_script" for the build script
    peer: str = ""

    @property
    def tp(self) -> set[str]:
        return self.expected & self.reported

    @property
    def fp(self) -> set[str]:
        return self.reported - self.expected

    @property
    def fn(self) -> set[str]:
        return self.expected - self.reported


@dataclass
class Totals:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    fn_closed: int = 0  # misses in a crate capgate marks unanalyzed

    def add(self, row: Row) -> None:
        self.tp += len(row.tp)
        self.fp += len(row.fp)
        self.fn += len(row.fn)
        if row.unanalyzed:
            self.fn_closed += len(row.fn)

    def line(self, label: str) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        rc = (self.tp + self.fn_closed) / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return (f"{label}: {self.tp} agreed, {self.fp} over-reported, {self.fn} missed "
                f"({self.fn_closed} of them in a crate marked unanalyzed); "
                f"precision {p:.3f}, recall {r:.3f} ({rc:.3f} counting fail-closed misses as caught)")


@dataclass
class Comparison:
    rows: list[Row] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)
    explained: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def compare(labels: dict, reports: dict[str, dict]) -> Comparison:
    """`reports` maps each label's `dir` (or "" for one report) to its scan."""
    out = Comparison()
    for entry in labels.get("crate", []):
        report = reports[entry.get("dir", "")]
        pkg = find_package(report, entry["name"], entry.get("version"))
        if pkg is None:
            pkg = find_package(report, entry["name"], None)
            if pkg is None:
                out.missing.append(f"{entry['name']} {entry.get('version', '')}: not in the report")
                continue
            out.missing.append(f"{entry['name']}: labels are for {entry.get('version')}, "
                               f"the graph has {pkg['version']} (compared anyway)")
        reported = set(pkg["capabilities"])
        unanalyzed = "unanalyzed" in reported
        reported.discard("unanalyzed")
        causes = entry.get("cause", {})
        scopes = [("", entry["caps"], reported, unanalyzed)]
        if "build_script" in entry:
            build = set(pkg["build_script"]["capabilities"])
            scopes.append(("build_script", entry["build_script"], build - {"unanalyzed"},
                           "unanalyzed" in build))
        for scope, expected, got, closed in scopes:
            row = Row(entry["name"], pkg["version"], set(expected), got, closed, scope,
                      entry.get("peer", ""))
            out.rows.append(row)
            prefix = "build_script:" if scope else ""
            for kind, caps in (("over", row.fp), ("under", row.fn)):
                for cap in sorted(caps):
                    key = prefix + cap
                    where = f"{row.crate} {row.version} {key} ({kind})"
                    if key in causes:
                        out.explained.append(f"{where}: {causes[key]}")
                    else:
                        note = " [unanalyzed: fails closed]" if kind == "under" and closed else ""
                        out.unexplained.append(where + note)
            for key in causes:
                if key.startswith("build_script:") != bool(scope):
                    continue
                cap = key.removeprefix("build_script:")
                if cap not in row.fp and cap not in row.fn:
                    out.stale.append(f"{row.crate} {row.version} {key}: no longer differs ({causes[key]})")
    return out


def fmt(caps: set[str]) -> str:
    return ",".join(sorted(caps)) or "-"


def print_comparison(title: str, cmp: Comparison, show_peer: bool) -> bool:
    """Prints the table, the differences and totals; True when every difference is explained."""
    print(f"## {title}\n")
    header = ["crate", "version", "scope", "expected (source)", "capgate", "over", "missed"]
    if show_peer:
        header.append("peer's labels")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in cmp.rows:
        cells = [row.crate, row.version, row.scope or "run time", fmt(row.expected),
                 fmt(row.reported) + (" +unanalyzed" if row.unanalyzed else ""),
                 fmt(row.fp), fmt(row.fn)]
        if show_peer:
            cells.append(row.peer if not row.scope else "")
        print("| " + " | ".join(cells) + " |")
    print()
    for line in cmp.missing:
        print(f"note: {line}")
    for title, lines in [
        ("Differences, with their cause:", cmp.explained),
        ("UNEXPLAINED differences (no cause in the labels):", cmp.unexplained),
        ("Stale causes (capgate now agrees with the labels):", cmp.stale),
    ]:
        if lines:
            print(title)
            for line in lines:
                print(f"  - {line}")
    run, build, both = Totals(), Totals(), Totals()
    for row in cmp.rows:
        (build if row.scope else run).add(row)
        both.add(row)
    print()
    print(run.line("run time (crate, capability) pairs"))
    if any(row.scope for row in cmp.rows):
        print(build.line("build-script pairs"))
        print(both.line("all pairs"))
    print()
    return not cmp.unexplained
