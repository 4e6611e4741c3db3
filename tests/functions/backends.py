"""`ev(expr, source, **kw)`: one expression's value on the backend the `dtl_backend` fixture
chose (dtl.conformance.expression_runner), compiled once per expression and backend."""

import json
from contextlib import contextmanager

from dtl.conformance import expression_runner

_BACKEND = ["closure"]
_CACHE: dict = {}


@contextmanager
def using(backend: str):
    old = _BACKEND[0]
    _BACKEND[0] = backend
    try:
        yield
    finally:
        _BACKEND[0] = old
        _CACHE.clear()


def _key(expr, kw):
    if set(kw) - {"options"}:
        return None  # datasets, providers, rules: compiled per call
    try:
        return _BACKEND[0], json.dumps(expr, sort_keys=True), json.dumps(kw, sort_keys=True)
    except (TypeError, ValueError):
        return None


def ev(expr, source=None, **kw):
    key = _key(expr, kw)
    run = _CACHE.get(key) if key is not None else None
    if run is None:
        run = expression_runner(expr, _BACKEND[0], **kw)
        if key is not None:
            _CACHE[key] = run
    return run(source if source is not None else {})
