"""The function tests run on every backend: `ev` (tests/functions/backends.py) evaluates an
expression on the backend of the module-scoped `dtl_backend` fixture: closures, generated
source, or vector through the batch path. Tests that never call `ev` run once (closures)."""

import pytest

from dtl.conformance import EXPRESSION_BACKENDS


@pytest.fixture(scope="module", params=EXPRESSION_BACKENDS, autouse=True)
def dtl_backend(request):
    from tests.functions import backends
    with backends.using(request.param):
        yield request.param


def _uses_ev(fn) -> bool:
    fn = getattr(getattr(fn, "hypothesis", None), "inner_test", fn)
    code = getattr(fn, "__code__", None)
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        if "ev" in c.co_names:
            return True
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return False


def pytest_collection_modifyitems(config, items):
    """Only tests that evaluate through `ev` differ per backend: the others keep one run."""
    keep, drop = [], []
    for item in items:
        b = getattr(getattr(item, "callspec", None), "params", {}).get("dtl_backend")
        if b is not None and b != EXPRESSION_BACKENDS[0] and "tests/functions/" in \
                str(item.fspath).replace("\\", "/") and not _uses_ev(item.function):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
