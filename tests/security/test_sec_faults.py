"""The fault campaign of bench/faults_bench.py, bounded: a few SIGKILLs of each writer, damaged
segment and log files, and a secrets scan. (SIGKILL of `dtl run` and of `dtl serve` mid-pump
are also tests/runtime/test_kill.py and tests/service/test_scheduler.py.) The bench runs the
same functions with hundreds of trials: bench/RESULTS-faults.md."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import faults_bench as fb  # noqa: E402


def _nothing_lost(res):
    # every trial's kill landed while the process wrote (retries of early ends are bounded)
    assert res["kills"] == res["trials"], res
    assert res["lost"] == 0, res
    assert res.get("duplicated", 0) == 0, res
    assert res["verify_problems"] == 0, res


def test_sigkill_serve_mid_receive(tmp_path):
    res = fb.serve_receive(str(tmp_path), 3)
    _nothing_lost(res)
    assert res["torn_batches"] == 0, res
    assert res["batches_acknowledged"] >= 3, res


def test_sigkill_dataset_put(tmp_path):
    res = fb.dataset_put(str(tmp_path), 4, n=20000)
    _nothing_lost(res)


def test_sigkill_compaction(tmp_path):
    _nothing_lost(fb.compact(str(tmp_path), 3))


def test_sigkill_dtl_run_small(tmp_path):
    res = fb.run(str(tmp_path), 2, n=10000)
    _nothing_lost(res)
    assert res["final_exit"] == 0, res


def test_damaged_segments_and_log_are_named_never_silently_wrong(tmp_path):
    res = fb.corrupt(str(tmp_path), 120)
    assert res["silently_wrong"] == 0, res
    assert res["error_unnamed"] == 0, res
    assert res["error_names_file"] >= 40, res      # most damage is found, not read past
    assert {"segment flip", "segment truncate", "log truncate"} <= set(res["by_file"]), res


def test_reads_of_the_other_datasets_still_work(tmp_path):
    from storage import Store
    st = Store(str(tmp_path), fsync=False)
    for name in ("ok", "bad"):
        with st.open(name, writer=True, create=True) as ds:
            ds.append([{"_id": f"{name}{i}", "n": i} for i in range(100)])
    d = tmp_path / "datasets" / "bad"
    seg = sorted(p for p in os.listdir(d) if p.endswith(".parquet"))[0]
    (d / seg).write_bytes((d / seg).read_bytes()[:50])
    with pytest.raises(Exception, match=seg):
        with st.open("bad") as ds:
            list(ds.entities())
    with st.open("ok") as ds:
        assert len(list(ds.entities())) == 100


def test_no_secret_in_any_file_or_answer(tmp_path):
    res = fb.secrets(str(tmp_path))
    assert res["secret_used"] and res["entities"] == 50, res
    assert res["answers_scanned"] >= 25 and res["files_scanned"] >= 10, res
    assert res["occurrences"] == 0, res["where"]
