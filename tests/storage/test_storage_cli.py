"""`dtl dataset ...` as a real process."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def dtl(*args, input=None, data=None):
    env = {**os.environ, "PYTHONPATH": ROOT, "DTL_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "cli.main", "dataset", *args], input=input,
                          capture_output=True, text=True, cwd=ROOT, env=env)


def test_put_info_entities_get_verify_compact(tmp_path):
    d = tmp_path / "data"
    lines = "\n".join(json.dumps({"_id": f"p{i}", "n": i, "t": "~t2020-01-01T00:00:00.5Z"}) for i in range(5))
    r = dtl("put", "people", "-", "--format", "json", input=lines + "\n", data=d)
    assert r.returncode == 0 and json.loads(r.stdout)["stored"] == 5
    r = dtl("put", "people", "-", input=lines + '\n{"x": 1}\n[2]\n{bad\n', data=d)
    assert r.returncode == 3 and "stored 0 of 8 entities (5 unchanged, 3 invalid)" in r.stdout
    assert "line 6: missing _id" in r.stderr and "line 8: invalid JSON" in r.stderr
    info = json.loads(dtl("info", "people", "--format", "json", data=d).stdout)
    assert (info["entities"], info["last_offset"], info["segments"]) == (5, 4, 1)
    out = dtl("entities", "people", "--since", "2", "--format", "json", data=d).stdout.splitlines()
    assert [json.loads(x)["_updated"] for x in out] == [3, 4]
    assert json.loads(out[0])["t"] == "~t2020-01-01T00:00:00.5Z"
    r = dtl("get", "people", "p1", data=d)
    assert json.loads(r.stdout)["n"] == 1
    assert dtl("get", "people", "nope", data=d).returncode == 3
    assert dtl("list", data=d).stdout.split() == ["people"]
    r = dtl("verify", "--format", "json", data=d)
    assert r.returncode == 0 and json.loads(r.stdout)["ok"]
    r = dtl("compact", "people", "--format", "json", data=d)
    assert r.returncode == 0 and json.loads(r.stdout)["removed"] == 0
    assert dtl("info", "nope", data=d).returncode == 3
    assert dtl("compact", "people", "--keep-versions", "0", data=d).returncode == 2
