"""Hostile bodies against every write endpoint of a running server (bounded, derandomized, so
CI runs the same examples each time): 0 server errors, the server stays up, answers are our
error shape and never a traceback, and no request is half-written: a receiver or dataset post
that is refused stores none of its entities, one that is accepted stores all of them.

The write endpoints come from the role table (runtime/service/roles.py), so a new write
route is fuzzed without anyone listing it here."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from runtime.service.auth import local_key, mint
from runtime.service.roles import TABLE
from runtime.service.server import Background, build
from storage import Store, ops
from tests.service.conftest import HUBCONF

DEEP = 100_000
# examples per endpoint: bounded in CI; DTL_FUZZ_EXAMPLES=500 for a deeper campaign
EXAMPLES = int(os.environ.get("DTL_FUZZ_EXAMPLES", "40"))
MAX_BODY = 1 << 20
# runs of a whole node's tests or pipes: called, but with the bodies they ignore only once
SLOW = {("POST", "/api/tests/run"), ("POST", "/api/pipes/run-all-pipes")}
WRITES = sorted(k for k in TABLE if k[0] in ("POST", "PUT", "PATCH", "DELETE")
                and k not in SLOW)
IDS = ["people", "inbox", "crm", "feed", "scratch", "no-such", "", " ", "..", "%2e%2e",
       "a/b", "é", "x" * 300, "\u202e", "con", "$ENV(x)"]


def _serve(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    conf = root / "conf"
    shutil.copytree(HUBCONF, conf)
    data = root / "data"
    app = build(data, conf, fsync=False, max_body=MAX_BODY, scheduler=False)
    with Background(app) as bg:
        tok = mint(local_key(data), "Admin")
        with httpx.Client(base_url=bg.url.rsplit("/api", 1)[0], timeout=120,
                          headers={"Authorization": f"Bearer {tok}"}) as c:
            yield c, data


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A server of its own: the fuzzing above deletes and rewrites pipes."""
    yield from _serve(tmp_path_factory)


# -- hostile bodies ------------------------------------------------------------------------------
transit_junk = st.sampled_from([
    "~t", "~t2020-13-45T99:99:99Z", "~tnot a date", "~f", "~fNaN", "~f1e99999", "~:", "~:a",
    "~r", "~rjavascript:x", "~u", "~unot-a-uuid", "~b", "~b!!!", "~~", "~", "~x", "~d1",
    "$ENV(nope)", "$SECRET(nope)", "$ENV(", "\x00", "\ud7ff", "\u202e", "%s%s%n"])
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12) | transit_junk)
keys = st.sampled_from(["_id", "_deleted", "_updated", "_ts", "_hash", "_previous", "type",
                        "source", "sink", "transform", "rules", "config", "entity", "entities",
                        "datasets", "permissions", "file_roots", "url", "system", "$ids",
                        "_filtered", "_S", ""]) | st.text(max_size=6)
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) |
                      st.dictionaries(keys, kids, max_size=5), max_leaves=25)
entities = st.dictionaries(keys, values, max_size=6).map(
    lambda d: d if "_id" in d else {**d, "_id": "f"})


def _deep(n, open_="[", close="]", inner='"x"'):
    return (open_ * n + inner + close * n).encode()


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"", b"[", b"{", b"]", b"}", b'{"_id":', b"[{}]", b"null", b"1e999999",
                     b"-", b"\xef\xbb\xbf[]", b"\xff\xfe[\x00]\x00", b'"\\ud800"', b"NaN",
                     b'{"_id": "a", "_id": "b"}', b"[" * 10 + b"]" * 9, b"PK\x03\x04junk",
                     b'{"a": 1}garbage', b"\x00" * 64]),
    st.integers(100, DEEP).map(_deep),
    st.integers(100, 5000).map(lambda n: _deep(n, '{"a":', "}", "1")),
    st.just(b"x" * (MAX_BODY + 1)))
json_bodies = st.one_of(values, entities, st.lists(entities, max_size=4)).map(
    lambda v: json.dumps(v, allow_nan=True).encode())
CTYPES = st.sampled_from(["application/json", "application/json; charset=latin-1",
                          "application/zip", "text/plain", "application/x-ndjson",
                          "application/x-www-form-urlencoded", "multipart/form-data",
                          "multipart/form-data; boundary=x", None])


def _url(path, draw_id):
    return re.sub(r"\{[^}]+\}", lambda m: quote(draw_id(), safe=""), path)


def _answer_ok(r):
    assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text[:500])
    assert "Traceback" not in r.text and "RecursionError" not in r.text
    if r.status_code >= 400 and r.request.method != "HEAD":
        b = r.json()
        assert isinstance(b, dict) and {"error", "message"} <= set(b), r.text[:300]


@pytest.mark.parametrize("method,path", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_hostile_bodies_are_answers(svc, method, path):
    c, _ = svc

    @given(body=st.one_of(raw_bodies, json_bodies), ctype=CTYPES, data=st.data(),
           force=st.sampled_from([None, "true", "junk"]))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(body, ctype, data, force):
        url = _url(path, lambda: data.draw(st.sampled_from(IDS)))
        params = {"force": force} if force else None
        headers = {"Content-Type": ctype} if ctype else {}
        r = c.request(method, url, content=body, headers=headers, params=params)
        _answer_ok(r)
    run()
    assert c.get("/api/health").status_code == 200


@pytest.mark.parametrize("method,path", sorted(SLOW))
def test_the_slow_writes_take_hostile_input(svc, method, path):
    c, _ = svc
    for q in ("max_runs=-1", "extra_zero_runs=x", "max_run_time=nan", "max_runs=1"):
        r = c.request(method, path + "?" + q, content=_deep(DEEP),
                      headers={"Content-Type": "application/json"})
        _answer_ok(r)
    assert c.get("/api/health").status_code == 200


BODY_WRITES = [k for k in WRITES if k[0] != "DELETE"]


@pytest.mark.parametrize("method,path", BODY_WRITES, ids=[f"{m} {p}" for m, p in BODY_WRITES])
def test_100k_nesting_is_a_400_on_every_write(svc, method, path):
    c, _ = svc
    url = _url(path, lambda: "people" if "pipe" in path else "crm" if "system" in path
               else "scratch")
    for body in (_deep(DEEP), b'{"_id": "deep", "v": ' + _deep(DEEP) + b"}",
                 _deep(DEEP, '{"a":', "}", "1")):
        r = c.request(method, url, content=body, headers={"Content-Type": "application/json"})
        _answer_ok(r)
        assert r.status_code in (400, 404), (method, url, r.status_code, r.text[:300])
    assert c.get("/api/health").status_code == 200


@pytest.mark.parametrize("method,path", BODY_WRITES, ids=[f"{m} {p}" for m, p in BODY_WRITES])
def test_nesting_inside_the_limit_never_breaks_the_node(svc, method, path):
    """Values nested just inside the parsers' limit are stored (forced where a write takes
    `force`): a typed column that deep once made the stored configuration's segment
    unreadable (Parquet's schema depth limit), and every later configuration call a 500."""
    c, _ = svc
    url = _url(path, lambda: "people" if "pipe" in path else "crm" if "system" in path
               else "scratch") + "?force=true"
    inner = _deep(120)
    for body in (b'{"_id": "deep", "type": "pipe", "v": ' + inner + b"}",
                 b'{"_id": "node", "type": "metadata", "v": ' + inner + b"}",
                 b'[{"_id": "deep", "type": "system:url", "v": ' + _deep(120, '{"a":', "}", "1")
                 + b"}]", b'{"a": ' + inner + b"}"):
        r = c.request(method, url, content=body, headers={"Content-Type": "application/json"})
        _answer_ok(r)
    for read in ("/api/config", "/api/pipes", "/api/systems", "/api/secrets", "/api/metadata"):
        r = c.get(read)
        assert r.status_code == 200, (method, path, read, r.status_code, r.text[:300])


# -- all or nothing ----------------------------------------------------------------------------
def _ids(c, dataset):
    r = c.get(f"/api/datasets/{dataset}/entities")
    return set() if r.status_code == 404 else {e["_id"] for e in r.json()}


@given(bad=st.lists(st.one_of(entities, values), min_size=1, max_size=3),
       where=st.integers(0, 3))
@settings(max_examples=max(60, EXAMPLES), deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def _posts(c, path, dataset, seen, bad, where):
    marks = [{"_id": f"mark-{uuid.uuid4().hex}", "n": i} for i in range(3)]
    batch = marks[:where] + bad + marks[where:]
    r = c.post(path, content=json.dumps(batch, allow_nan=True).encode(),
               headers={"Content-Type": "application/json"})
    _answer_ok(r)
    got = _ids(c, dataset)
    stored = [m["_id"] in got for m in marks]
    seen.add(r.status_code)
    if r.status_code == 200:
        assert all(stored), (r.text, batch)
    else:
        assert not any(stored), (r.status_code, r.text, batch)


@pytest.mark.parametrize("path,dataset", [("/api/receivers/inbox/entities", "inbox"),
                                          ("/api/datasets/scratch/entities", "scratch")])
def test_a_refused_post_writes_nothing(fresh, path, dataset):
    c, data = fresh
    seen = set()
    _posts(c, path, dataset, seen)
    assert 200 in seen and any(400 <= s < 500 for s in seen), seen   # both sides were tried
    assert c.get("/api/health").status_code == 200


def test_every_dataset_verifies_after_the_campaign(svc, fresh):
    # runs last in this module (pytest keeps file order): whatever the fuzzing wrote
    for _, data in (svc, fresh):
        problems = ops.verify(Store(str(data)))
        assert problems and all(p == [] for p in problems.values()), problems
