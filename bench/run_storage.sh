#!/usr/bin/env bash
# dtlhub storage vs the shared storage baselines, in one run -> bench/RESULTS-storage.md
#   bash bench/run_storage.sh [--n 1000000] [--reps 3] [--skip-baselines]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SHARED=${DTL_BENCH_SHARED:-../shared/bench}
# the baselines need these (versions pinned in shared/bench/requirements.txt)
"$PY" -c "import duckdb, deltalake, lmdb, xxhash" 2>/dev/null ||
  "$PY" -m pip install -q $(grep -E '^(duckdb|deltalake|lmdb|xxhash)==' "$SHARED/requirements.txt")
# same allocator settings as the shared yardstick (see shared/bench/NOTES.md)
export MALLOC_TRIM_THRESHOLD_=17179869184
export MALLOC_MMAP_THRESHOLD_=33554432
export PYTHONHASHSEED=0
n=1000000
for ((i = 1; i <= $#; i++)); do [ "${!i}" = "--n" ] && j=$((i + 1)) && n=${!j}; done
[ -f "bench/data/n$n/persons.ndjson" ] || "$PY" "$SHARED/gen.py" --n "$n" --out "bench/data/n$n"
exec "$PY" bench/storage_bench.py "$@"
