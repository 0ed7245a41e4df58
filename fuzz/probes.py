#!/usr/bin/env python3
"""Directed probes beyond the fuzzer's reach: inputs too big for it to build
(the fuzzer's inputs are a few kilobytes), deep or long in every way that
makes a recursive-descent parser or a visitor recurse, or repeats work.

    fuzz/probes.py [LEVELS]     # default 200000

Each probe is written to fuzz/artifacts/probes/ and run through the
scan_bytes target binary (build it first: fuzz/run.sh 0 scan_bytes), on the
stack the scanner's threads have. A probe fails on a crash (a stack
overflow is SIGSEGV, exit -11 or 139), on more than 30 s, or on more than
2 GB.
"""

import pathlib
import subprocess
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
PROBES = {
    "assign-chain": "fn f() { " + "x = " * n + "0; }\n",
    "return-chain": "fn f() { " + "return " * n + "0; }\n",
    "break-chain": "fn f() { loop { " + "break " * n + "; } }\n",
    "closure-chain": "fn f() { let g = " + "|| " * n + "0; }\n",
    "generic-nesting": "type T = " + "Vec<" * n + "u8" + ">" * n + ";\n",
    "reference-types": "type T = " + "&'a " * n + "u8;\n",
    "pointer-types": "type T = " + "*const " * n + "u8;\n",
    "fn-pointer-types": "type T = " + "fn() -> " * n + "u8;\n",
    "impl-trait-returns": "fn f() -> " + "impl Fn() -> " * n + "u8 {}\n",
    "method-chain": "fn f() { x" + ".a()" * n + "; }\n",
    "field-chain": "fn f() { x" + ".a" * n + "; }\n",
    "binary-chain": "fn f() { 0" + " + 1" * n + "; }\n",
    "cast-chain": "fn f() { x" + " as u8" * n + "; }\n",
    "try-chain": "fn f() { x" + "?" * n + "; }\n",
    "attribute-run": "fn f() { " + "#[a] " * n + "0; }\n",
    "let-chain": "fn f() { if " + "let Some(x) = y && " * n + "true {} }\n",
    "path-length": "type T = " + "a::" * n + "b;\n",
}

FUZZ = pathlib.Path(__file__).resolve().parent
binary = FUZZ / "target/x86_64-unknown-linux-gnu/release/scan_bytes"
out = FUZZ / "artifacts/probes"
out.mkdir(parents=True, exist_ok=True)
failed = 0
for name, text in PROBES.items():
    path = out / f"{name}.rs"
    path.write_text(text)
    start = time.monotonic()
    try:
        run = subprocess.run(
            ["nice", "-n", "19", str(binary), "-timeout=30", "-rss_limit_mb=2048", str(path)],
            capture_output=True, timeout=90)
        code = run.returncode
    except subprocess.TimeoutExpired:
        code = "hang"
    seconds = time.monotonic() - start
    ok = code == 0
    failed += not ok
    print(f"{name:20} {'ok  ' if ok else 'FAIL'} exit={code} {seconds:5.1f}s {len(text) >> 10} KiB")
sys.exit(1 if failed else 0)
