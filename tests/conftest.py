import os

import pytest
from hypothesis import HealthCheck, settings

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
