#!/usr/bin/env bash
# DTL closure-backend benchmark: data, verification, all jobs, bench/RESULTS-closure.md.
#   bash bench/run.sh            N=1,000,000 (~16 min on the 2-core VM)
#   bash bench/run.sh --quick    N=10k/100k, writes bench/results/RESULTS-quick.md
# Extra arguments go to `run.py run` (e.g. --n 100000 --reps 3).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SHARED=${DTL_BENCH_SHARED:-../shared/bench}
# glibc heap trimming makes every allocation burst fault pages back in from the host on this
# VM (see shared/bench/NOTES.md); the shared yardstick runs with the same settings.
export MALLOC_TRIM_THRESHOLD_=17179869184
export MALLOC_MMAP_THRESHOLD_=33554432
[ -f bench/data/n10000/orders.ndjson ] || "$PY" "$SHARED/gen.py" --n 10000 --out bench/data/n10000
# verify.py runs inside run.py, against the same snapshot of dtl/ that the workers import
"$PY" bench/run.py run "$@"
