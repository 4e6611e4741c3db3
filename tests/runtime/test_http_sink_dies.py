"""One pipe's system dies mid-run: a JSON push receiver on 127.0.0.1 (its own process) is
SIGKILLed while `dtl run` (the CLI, a real subprocess) pushes to it. The other pipes finish,
the summary names the failed pipe and its system and URL, and a rerun once the receiver is
back delivers everything.

What "without loss or duplicates" means for an HTTP sink: the pump's marker moves only when
every request of a pipe batch was acknowledged (answered 2xx), and the rerun starts after the
marker. So every entity arrives; the only ones that can arrive twice are those of the pipe
batch in flight when the receiver died: its requests the receiver recorded (when the pipe's
batch_size is the sink's, that is the one unanswered request, if it was recorded before the
receiver died). At-least-once, as Sesam's pipes are ("not transactional": batch_size 1 to
avoid duplicates). The full sync is continued, not
restarted: the rerun goes on with the same sequence_id, chains previous_request_id from the
last acknowledged request and ends with is_last, so a receiver doing deletion tracking sees
one complete sequence."""

import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECEIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "push_receiver.py")
DTL = os.path.join(os.path.dirname(sys.executable), "dtl")
N, FEED, BATCH = 300, 50, 20
URL_PATH = "/receivers/cards/entities"


def _config(root, port, pipe_batch=BATCH):
    def pipe(pid, source, rules=None, **kw):
        p = {"_id": pid, "type": "pipe", "source": source, **kw}
        if rules:
            p["transform"] = {"type": "dtl", "rules": {"default": rules}}
        return p
    animals = [{"_id": f"a{i:03d}", "n": i, "kind": ("cat", "dog", "owl")[i % 3]}
               for i in range(N)]
    feed = [{"_id": f"f{i:02d}", "kg": i} for i in range(FEED)]
    items = [
        {"_id": "shelter", "type": "system:url", "url_pattern": f"http://127.0.0.1:{port}/%s",
         "connect_timeout": 2, "read_timeout": 10},
        pipe("animals", {"type": "embedded", "entities": animals}),
        pipe("animal-cards", {"type": "dataset", "dataset": "animals"},
             [["copy", "*"], ["add", "label", ["concat", "_S.kind", "-", ["string", "_S.n"]]]]),
        pipe("push-cards", {"type": "dataset", "dataset": "animal-cards"}, batch_size=pipe_batch,
             sink={"type": "json", "system": "shelter", "url": URL_PATH.lstrip("/"),
                   "batch_size": BATCH},
             pump={"batch_retries": 2, "write_retry_delay": 0.05}),
        pipe("feed", {"type": "embedded", "entities": feed}),
        pipe("feed-totals", {"type": "dataset", "dataset": "feed"},
             [["copy", "_id"], ["add", "grams", ["multiply", 1000, "_S.kg"]]]),
    ]
    os.makedirs(os.path.join(root, "pipes"), exist_ok=True)
    for it in items:
        kind = "pipes" if it["type"] == "pipe" else "systems"
        os.makedirs(os.path.join(root, kind), exist_ok=True)
        with open(os.path.join(root, kind, it["_id"] + ".conf.json"), "w") as f:
            json.dump(it, f)


def _receiver(tmp, log, port=0, *args):
    pf = str(tmp / f"port-{time.monotonic_ns()}")
    p = subprocess.Popen([sys.executable, RECEIVER, log, pf, "--port", str(port), *args])
    deadline = time.monotonic() + 20
    while not os.path.exists(pf):
        assert p.poll() is None and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.02)
    with open(pf) as f:
        return p, int(f.read())


def _records(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [json.loads(line) for line in f if line.endswith("\n")]


def _dtl(cfg, data, *args, popen=False):
    env = dict(os.environ, PYTHONPATH=ROOT, COLUMNS="80")
    cmd = [DTL, "run", cfg, "--data", data, *args]
    if popen:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def _kill_and_rerun(tmp, die_args, external_after=None, pipe_batch=BATCH):
    """Run 1 with a receiver that dies (by itself at a request, or SIGKILLed from here once
    it recorded `external_after` requests); check run 1's summary; rerun with the receiver
    back. Returns (records of run 1, records of the rerun, run 1's output)."""
    cfg, data, log = str(tmp / "cfg"), str(tmp / "data"), str(tmp / "received.jsonl")
    srv, port = _receiver(tmp, log, 0, *die_args)
    try:
        _config(cfg, port, pipe_batch)
        p = _dtl(cfg, data, popen=True)
        if external_after is not None:
            deadline = time.monotonic() + 60
            while len(_records(log)) < external_after:
                assert time.monotonic() < deadline and p.poll() is None, "no pushes arrived"
                time.sleep(0.005)
            srv.send_signal(signal.SIGKILL)
        out, err = p.communicate(timeout=120)
        assert srv.wait(timeout=10) == -signal.SIGKILL
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    text = out + err
    assert p.returncode == 3, text
    assert "Traceback" not in text, text
    rows = {ln.split()[1]: ln for ln in out.splitlines()
            if ln.startswith("│") and len(ln.split()) > 2}
    for pid in ("animals", "animal-cards", "feed", "feed-totals"):
        assert " ok " in rows[pid] + " ", (pid, out)
    assert " failed " in rows["push-cards"] and "FAILED: 1 of 5 pipes (push-cards)" in out, out
    # the reason, whole on one line (the terminal is 80 columns): pipe, system, url, cause
    reason = [ln for ln in err.splitlines() if ln.startswith("push-cards: failed: ")]
    assert len(reason) == 1, err
    assert "json sink (system 'shelter')" in reason[0] and \
        f"POST http://127.0.0.1:{port}{URL_PATH}" in reason[0], reason
    before = _records(log)

    srv, port2 = _receiver(tmp, log, port)
    try:
        assert port2 == port
        r = _dtl(cfg, data, "--format", "json")
        assert r.returncode == 0, r.stdout + r.stderr
        summary = json.loads(r.stdout)
        assert all(p["status"] == "ok" for p in summary["pipes"].values()), summary
        # nothing is pending any more: a third run pushes nothing
        r = _dtl(cfg, data, "--format", "json")
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        srv.kill()
        srv.wait()
    after = _records(log)[len(before):]
    return before, after, out


def _check_delivery(before, after, may_repeat, bound=BATCH):
    want = [f"a{i:03d}" for i in range(N)]
    sent = [i for rec in before + after for i in rec["ids"]]
    assert sorted(set(sent)) == want                                  # nothing lost
    repeats = sorted(i for i in set(sent) if sent.count(i) > 1)
    assert all(sent.count(i) <= 2 for i in repeats)
    assert set(repeats) <= set(may_repeat), repeats                   # only the unanswered one
    assert len(repeats) <= bound
    # one full sync, continued across the runs: same sequence, an unbroken request chain
    params = [rec["params"] for rec in before + after]
    assert all(p["sequence_id"] == params[0]["sequence_id"] and p["is_full"] == "true"
               for p in params)
    assert [p.get("is_first") for p in params].count("true") == 1 and \
        params[0]["is_first"] == "true"
    assert params[-1].get("is_last") == "true" and after[-1]["ids"] == []
    assert all(rec["path"] == URL_PATH for rec in before + after)
    return repeats


def test_receiver_dies_after_recording_a_batch_it_never_answered(tmp_path):
    # the 4th request arrives, is recorded, and the receiver dies before answering
    before, after, _ = _kill_and_rerun(tmp_path, ("--die-at", "4", "--die-when", "recorded"))
    assert len(before) == 4
    repeats = _check_delivery(before, after, before[-1]["ids"])
    assert repeats == before[-1]["ids"]             # re-sent, as at-least-once allows
    assert after[0]["params"]["request_id"] == before[-1]["params"]["request_id"]
    assert after[0]["params"].get("previous_request_id") == \
        before[-2]["params"]["request_id"]


def test_receiver_dies_on_a_request_it_never_recorded(tmp_path):
    # the 9th request dies with the receiver: nothing of it arrived, nothing is repeated
    before, after, _ = _kill_and_rerun(tmp_path, ("--die-at", "9", "--die-when", "unrecorded"))
    assert len(before) == 8
    assert _check_delivery(before, after, []) == []
    assert after[0]["params"].get("previous_request_id") == \
        before[-1]["params"]["request_id"]


def test_receiver_sigkilled_from_outside_mid_push(tmp_path):
    # killed at whatever moment it is when 7 requests were recorded (answers are slowed down)
    before, after, _ = _kill_and_rerun(tmp_path, ("--delay", "0.05"), external_after=7)
    assert 7 <= len(before) < N // BATCH + 1
    _check_delivery(before, after, before[-1]["ids"])


def test_receiver_dies_on_the_closing_request(tmp_path):
    # every batch was acknowledged; the empty is_last request is the one that dies
    last = N // BATCH + 1
    before, after, _ = _kill_and_rerun(tmp_path, ("--die-at", str(last), "--die-when",
                                                  "unrecorded"))
    assert len(before) == last - 1
    assert _check_delivery(before, after, []) == []
    assert [rec["ids"] for rec in after] == [[]]          # the rerun only closes the sync


def test_pipe_batch_of_three_requests_is_resent_from_its_start(tmp_path):
    # pipe batches of 60 are pushed as requests of 20: the marker moves per pipe batch, so
    # the rerun resends the in-flight pipe batch from its first request (4: answered, 5:
    # recorded, never answered); nothing before it
    before, after, _ = _kill_and_rerun(tmp_path, ("--die-at", "5", "--die-when", "recorded"),
                                       pipe_batch=3 * BATCH)
    assert len(before) == 5
    resent = before[3]["ids"] + before[4]["ids"]
    assert _check_delivery(before, after, resent, bound=3 * BATCH) == sorted(resent)
    assert after[0]["params"]["request_id"] == before[3]["params"]["request_id"]
    assert after[0]["params"].get("previous_request_id") == \
        before[2]["params"]["request_id"]
