#!/usr/bin/env python3
"""Writes a CycloneDX 1.5 JSON BoM of real crates from the local cargo cache.

    python3 benches/gen_bom.py OUT.json [--max 1000] [--all-versions]

Takes the `.crate` files in `$CARGO_HOME/registry/cache/*/` (CARGO_HOME
defaults to ~/.cargo): by default the newest version of each crate name,
with `--all-versions` every version, sorted by name and version, at most
`--max` components. Each component has the purl `pkg:cargo/NAME@VERSION` and
the SHA-256 of its `.crate` file. Prints how many components were written;
fewer than `--max` means the cache holds fewer crates (`cargo fetch` in a few
projects fills it).
"""

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path

# NAME-VERSION.crate; the version starts at the first "-<digits>.<digits>.<digits>".
CRATE_FILE = re.compile(r"^(?P<name>.+?)-(?P<version>\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)\.crate$")


def version_key(version: str):
    """Orders semver versions (a release after its pre-releases)."""
    core, _, rest = version.partition("+")[0].partition("-")
    nums = tuple(int(p) for p in core.split("."))
    pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in rest.split(".")) if rest else None
    return (nums, pre is None, pre or ())


def cargo_home() -> Path:
    return Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")


def find_crates() -> dict[tuple[str, str], Path]:
    found: dict[tuple[str, str], Path] = {}
    for registry in sorted((cargo_home() / "registry" / "cache").glob("*")):
        for path in sorted(registry.glob("*.crate")):
            match = CRATE_FILE.match(path.name)
            if match:
                found.setdefault((match["name"], match["version"]), path)
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--max", type=int, default=1000)
    parser.add_argument("--all-versions", action="store_true")
    args = parser.parse_args()

    crates = find_crates()
    if not args.all_versions:
        newest: dict[str, str] = {}
        for name, version in crates:
            if name not in newest or version_key(version) > version_key(newest[name]):
                newest[name] = version
        crates = {(n, v): crates[(n, v)] for n, v in newest.items()}
    chosen = sorted(crates, key=lambda nv: (nv[0], version_key(nv[1])))[: args.max]
    components = []
    for name, version in chosen:
        purl = f"pkg:cargo/{name}@{version}"
        components.append(
            {
                "type": "library",
                "bom-ref": purl,
                "name": name,
                "version": version,
                "purl": purl,
                "hashes": [{"alg": "SHA-256", "content": sha256(crates[(name, version)])}],
            }
        )
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "version": 1,
        "metadata": {
            "component": {"type": "application", "bom-ref": "capgate-bench", "name": "capgate-bench", "version": "0.0.0"},
        },
        "components": components,
        "dependencies": [{"ref": "capgate-bench", "dependsOn": [c["bom-ref"] for c in components]}],
    }
    args.out.write_text(json.dumps(bom, indent=1) + "\n")
    print(f"{len(components)} components from {cargo_home() / 'registry' / 'cache'}", file=sys.stderr)
    print(len(components))


if __name__ == "__main__":
    main()
