#!/usr/bin/env bash
# Sets up dtlhub in .venv and runs a whole Sesam configuration on this machine, no server:
# examples/hub (embedded, SQLite and CSV source systems, a merge pipe with namespaces and hops,
# an http_endpoint publisher and an SQL sink). Data goes to examples/hub/.dtl-data.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e . >.venv/install.log 2>&1 \
  || { cat .venv/install.log; exit 1; }
HUB=examples/hub
echo "== dtl config validate $HUB"
.venv/bin/dtl config validate "$HUB"
echo
echo "== dtl run $HUB --fresh   (every pipe in dependency order until nothing changes)"
rm -f "$HUB/out/warehouse.sqlite"
.venv/bin/dtl run "$HUB" --fresh --show person-out
echo
echo "== the person-warehouse pipe's SQL sink wrote $HUB/out/warehouse.sqlite (table person):"
.venv/bin/python - "$HUB/out/warehouse.sqlite" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
cols = [d[1] for d in con.execute("PRAGMA table_info(person)")]
print("  " + " | ".join(cols))
for row in con.execute("SELECT * FROM person ORDER BY id"):
    print("  " + " | ".join(map(str, row)))
PY
echo
echo "== a new ERP order arrives; dependency tracking re-queues only the merged person it joins"
.venv/bin/dtl dataset put erp-order - --data "$HUB/.dtl-data" \
  <<< '{"_id": "erp-order:o-9", "erp-order:amount": 5, "erp-order:customer-ni": "~:erp-customer:c-100"}' >/dev/null
.venv/bin/dtl run "$HUB" --pipe global-person --once --show person-out
