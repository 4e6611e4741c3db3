#!/usr/bin/env bash
# Sets up dtlhub with its test dependencies in .venv and runs every test.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" >/dev/null
exec .venv/bin/python -m pytest "$@"
