#!/usr/bin/env bash
# Sets up dtlhub in .venv and runs a whole Sesam configuration on this machine, no server:
# examples/hub (three embedded source systems, a merge pipe with namespaces and hops, an
# http_endpoint publisher). Data goes to examples/hub/.dtl-data (embedded storage).
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
.venv/bin/dtl run "$HUB" --fresh --show person-out
echo
echo "== a new ERP order arrives; dependency tracking re-queues only the merged person it joins"
.venv/bin/dtl dataset put erp-order - --data "$HUB/.dtl-data" \
  <<< '{"_id": "erp-order:o-9", "erp-order:amount": 5, "erp-order:customer-ni": "~:erp-customer:c-100"}' >/dev/null
.venv/bin/dtl run "$HUB" --pipe global-person --once --show person-out
