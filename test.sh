#!/usr/bin/env bash
# Sets up dtlhub with its test dependencies in .venv and runs every test.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" >.venv/install.log 2>&1 \
  || { cat .venv/install.log; exit 1; }
exec .venv/bin/python -m pytest "$@"
