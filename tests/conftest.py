import os
import sys

# tests/storage would shadow the `storage` package as a namespace package (the editable
# install's finder runs after the path finder): the project root on the path before any test
# module is imported, and a namespace `storage` imported before this forgotten
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
if getattr(sys.modules.get("storage"), "__file__", 1) is None:
    del sys.modules["storage"]

# the vector kernels compiled from the first row (numba), as before lazy loading: the suite's
# small batches would otherwise run the plain-Python loops only (tests/vector/test_lazy_jit.py
# compares the two)
os.environ.setdefault("DTL_JIT_AFTER", "0")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def strict_batches():
    """An exception inside a columnar batch raises instead of rerunning entity by entity (in
    the differential tests such an exception is a bug, not a reason to fall back). Module
    scoped, so hypothesis tests can use it; undone after the module."""
    from dtl.backends.vector import runner
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "STRICT", True)
        yield
