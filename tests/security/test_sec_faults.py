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
    assert {"segment flip", "segment truncate", "log truncate", "index truncate"} \
        <= set(res["by_file"]), res


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


READ = r"""
import sys
from storage import Store
with Store(sys.argv[1], fsync=False).open("d") as ds:
    print(sum(e["n"] for e in ds.entities()), len(list(ds.entities())))
"""


def _read(data):
    import subprocess
    return subprocess.run([sys.executable, "-c", READ, str(data)], capture_output=True,
                          text=True, timeout=120, env=fb.ENV)


def test_a_truncated_index_is_an_error_naming_it_and_a_writer_rebuilds_it(tmp_path):
    """LMDB maps the index file: a reader of one truncated past its first pages died with
    SIGBUS. Now: an error naming the file, whatever the cut; a writer sets the file aside
    and rebuilds from the live segments (compaction removed some the log's appends name)."""
    import subprocess

    from storage import Store
    st = Store(str(tmp_path), fsync=False)
    with st.open("d", writer=True, create=True) as ds:
        for v in range(3):
            for k in range(0, 6000, 2000):
                ds.append([{"_id": f"e{i}", "n": i + v, "pad": "p" * (i % 9)}
                           for i in range(k, k + 2000)])
        assert ds.compact(keep_versions=0, time_threshold_hours=-1)["removed"] == 12000
    want = f"{sum(range(6000)) + 2 * 6000} 6000"
    assert _read(tmp_path).stdout.strip() == want
    mdb = tmp_path / "datasets" / "d" / "index" / "data.mdb"
    full = mdb.read_bytes()
    for cut in (0, 100, 4096, 9000, len(full) // 3, len(full) - 4096):
        mdb.write_bytes(full[:cut])
        r = _read(tmp_path)
        assert r.returncode == 1, (cut, r.returncode, r.stderr[-400:])   # -7: SIGBUS
        assert "CorruptionError" in r.stderr and str(mdb) in r.stderr, (cut, r.stderr[-400:])
    # the CLI opens datasets as a writer: the index is rebuilt, the read exact, no traceback
    r = subprocess.run([fb.DTL, "dataset", "verify", "d", "--data", str(tmp_path)],
                       capture_output=True, text=True, timeout=120, env=fb.ENV)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert (mdb.parent.parent / "index.damaged.mdb").stat().st_size == len(full) - 4096
    assert _read(tmp_path).stdout.strip() == want
    with st.open("d") as ds:
        assert ds.verify() == []
        assert ds.get("e5")["n"] == 7


def test_a_renamed_system_column_in_a_segment_footer_is_named(tmp_path):
    """Page checksums leave the footer out: a flipped bit in a column's name there read as
    a segment without that column (a KeyError naming nothing)."""
    from storage import Store
    st = Store(str(tmp_path), fsync=False)
    with st.open("d", writer=True, create=True) as ds:
        ds.append([{"_id": f"e{i}", "n": i} for i in range(100)])
    d = tmp_path / "datasets" / "d"
    seg = next(p for p in d.iterdir() if p.suffix == ".parquet")
    b = seg.read_bytes()
    footer = len(b) - 8 - int.from_bytes(b[-8:-4], "little")    # ... footer, its length, PAR1
    at = b.index(b"deleted", footer)    # the footer's schema comes first in it
    seg.write_bytes(b[:at] + b"deletec" + b[at + 7:])
    with pytest.raises(Exception, match=seg.name):
        with st.open("d") as ds:
            list(ds.entities())
