#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 60), in turn,
# at the lowest CPU priority and on one core. Works on the stable
# toolchain: no sanitizer (`-s none`), so only libFuzzer's coverage
# instrumentation, which needs no nightly flag.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Corpora grow in fuzz/corpus/<target> (seeded by seed.py when missing);
# crashes, hangs (over 30 s) and out-of-memory inputs (over 2 GB) land in
# fuzz/artifacts/<target>/. A found one stops that target's run; keep it
# as a regression under fixtures/fuzz-regressions/ once fixed.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
[ -d corpus ] || python3 seed.py
export CARGO_BUILD_JOBS=1
# Targets write temporary files for every input: keep them in memory.
[ -d /dev/shm ] && export TMPDIR=/dev/shm
nice -n 19 cargo fuzz build -s none
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    echo "== $target: ${seconds}s"
    # The full log is kept beside the target's artifacts; shown here are
    # the final coverage, executions and anything that went wrong.
    log="artifacts/$target/last-run.log"
    # A few kilobytes of macros can reach a crate-wide scan limit (4,000,000
    # items, 32,000,000 expansion tokens), which takes 10 to 15 seconds in
    # a release build: bounded, so not a hang. -timeout sits above that.
    nice -n 19 cargo fuzz run -s none "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1 || status=1
    grep -E "DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|ERROR|panicked|Test unit written|SUMMARY" "$log" || true
done
exit $status
