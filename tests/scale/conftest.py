import shutil
import sys
import os

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from runtime.executor.engine import DaskEngine   # noqa: E402

TASK_TIMEOUT = 180      # seconds: no task of these tests may take longer


@pytest.fixture(scope="session")
def dask_engines():
    """One local cluster per worker count, started on first use, shared by the session."""
    engines = {}

    def get(workers):
        if workers not in engines:
            engines[workers] = DaskEngine(workers=workers, task_timeout=TASK_TIMEOUT)
        return engines[workers]
    yield get
    for e in engines.values():
        e.close()


@pytest.fixture
def copy_tree(tmp_path):
    def copy(src, name):
        dst = tmp_path / name
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".dtl-data", "*.sqlite-journal"))
        return str(dst)
    return copy
