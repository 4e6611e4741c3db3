#!/usr/bin/env bash
# Sets up dtlhub in .venv and runs the example: a Sesam pipe's DTL over bundled entities.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e . >/dev/null
EX=examples/people
echo "== dtl compile $EX/person.conf.json"
.venv/bin/dtl compile "$EX/person.conf.json" && echo "ok: no errors"
echo
echo "== dtl explain $EX/person.conf.json"
.venv/bin/dtl explain "$EX/person.conf.json"
echo
echo "== dtl transform $EX/person.conf.json $EX/crm-person.ndjson --datasets $EX/datasets"
.venv/bin/dtl transform "$EX/person.conf.json" "$EX/crm-person.ndjson" --datasets "$EX/datasets"
