"""A writer killed with SIGKILL at random points never leaves partial or inconsistent data."""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_sigkill_writer_many_trials(tmp_path):
    r = subprocess.run([sys.executable, str(HERE / "crash_writer.py"), str(tmp_path / "d"), "300", "11", "35"],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout)
    assert res["trials"] >= 100
    assert res["max_batches"] > 5  # the writer got going before most kills
