"""Bad input is an answer: every parser of outside input is iterative or depth-bounded and
size-bounded, and says where the problem is. 100,000 levels of nesting are a 400, never a
RecursionError or a traceback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import httpx
import pytest
from hypothesis import given, strategies as st

from dtl import transit
from dtl.errors import DTLSyntaxError, TransitError
from dtl.syntax.jsontree import parse_json_text
from runtime.service.auth import local_key, mint
from runtime.service.server import Background, build
from tests.service.conftest import HUBCONF

DEEP = 100_000


def deep_text(n=DEEP, inner='"x"'):
    return "[" * n + inner + "]" * n


def deep_value(n):
    root = cur = []
    for _ in range(n - 1):
        nxt = []
        cur.append(nxt)
        cur = nxt
    return root


def _recursive_decode(v):
    """The definition the iterative decoder must agree with."""
    if isinstance(v, str):
        return transit.decode_string(v)
    if isinstance(v, dict):
        return {k: _recursive_decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_recursive_decode(x) for x in v]
    return v


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) |
    st.sampled_from(["~t2020-01-02T03:04:05Z", "~f1.50", "~:a:b", "~~x", "~rhttp://x", "~",
                     "~u5a2d8f3c-2d3a-4f6b-9c1d-0a1b2c3d4e5f", "plain"]) | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=4), kids,
                                                              max_size=4),
    max_leaves=30)


@given(json_values)
def test_iterative_decode_equals_recursive_definition(v):
    assert transit.decode(v) == _recursive_decode(v)
    # key order survives too
    if isinstance(v, dict):
        assert list(transit.decode(v)) == list(v)


def test_decode_is_bounded_not_recursive():
    v = deep_value(DEEP)
    with pytest.raises(transit.DepthError) as ei:
        transit.decode(v)
    assert ei.value.path == (0,) * transit.MAX_DEPTH
    assert transit.decode(deep_value(transit.MAX_DEPTH)) == deep_value(transit.MAX_DEPTH)
    assert transit.depth_error(deep_value(transit.MAX_DEPTH)) is None
    assert transit.depth_error(deep_value(transit.MAX_DEPTH + 1)).path == \
        (0,) * transit.MAX_DEPTH


def test_bad_transit_value_names_its_place():
    with pytest.raises(TransitError, match=r"invalid decimal '~fzz' at /x/1/y"):
        transit.decode({"x": [1, {"y": "~fzz"}]})


@pytest.mark.parametrize("text", [deep_text(), deep_text(200), deep_text(DEEP, "1" * 30),
                                  '{"a":' * 300 + "1" + "}" * 300])
def test_loads_refuses_deep_text(text):
    with pytest.raises(ValueError) as ei:
        transit.loads(text)
    assert not isinstance(ei.value, RecursionError)
    assert "deep" in str(ei.value) or "depth" in str(ei.value)


def test_loads_keeps_big_integers_and_nan():
    assert transit.loads("[12345678901234567890123, NaN]")[0] == 12345678901234567890123


def test_config_text_nesting_is_a_positioned_error():
    text = '{\n  "_id": "p",\n  "x": ' + deep_text() + "}"
    with pytest.raises(DTLSyntaxError) as ei:
        parse_json_text(text, "pipes/p.conf.json")
    d = ei.value.diagnostics[0]
    assert (d.span.file, d.span.line, d.span.column, d.code) == \
        ("pipes/p.conf.json", 3, 8 + transit.MAX_DEPTH - 1, "json-too-deep")


# -- the running service ------------------------------------------------------------------
@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    data = tmp_path_factory.mktemp("limits-data")
    app = build(data, HUBCONF, fsync=False, max_body=1 << 20)
    with Background(app) as bg:
        tok = mint(local_key(data), "Admin")
        with httpx.Client(base_url=bg.url, timeout=60,
                          headers={"Authorization": f"Bearer {tok}"}) as c:
            yield c


WRITES = [("POST", "/receivers/inbox/entities"), ("POST", "/datasets/scratch/entities"),
          ("PUT", "/config"), ("POST", "/pipes"), ("POST", "/systems"),
          ("PUT", "/pipes/people/config"), ("PUT", "/systems/crm/config"), ("PUT", "/env"),
          ("POST", "/env"), ("PATCH", "/env"), ("PUT", "/secrets"), ("POST", "/secrets"),
          ("PUT", "/systems/crm/secrets"), ("POST", "/dtl/test"), ("PUT", "/metadata")]


def _is_answer(r, status=400):
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    body = r.json()
    assert set(body) <= {"error", "message", "details", "validation_errors"}
    assert "Traceback" not in r.text and "RecursionError" not in r.text
    return body


@pytest.mark.parametrize("method,path", WRITES)
def test_100k_nesting_is_a_400_everywhere(svc, method, path):
    body = ('{"_id": "deep", "v": ' + deep_text() + "}").encode()
    r = svc.request(method, path, content=body, headers={"Content-Type": "application/json"})
    b = _is_answer(r)
    text = json.dumps(b)
    assert "deep" in text or "depth" in text or "JSON" in text, text
    assert svc.get("/health").status_code == 200


def test_nesting_answer_says_where(svc):
    r = svc.post("/receivers/inbox/entities", content=deep_text(500).encode())
    b = _is_answer(r)
    assert b["details"]["max_depth"] == transit.MAX_DEPTH
    assert b["details"]["pointer"] == "/0" * transit.MAX_DEPTH
    r = svc.put("/config", content=('[\n{"_id": "p", "type": "pipe", "x":\n' + deep_text(300)
                                    + "}]").encode())
    b = _is_answer(r)
    e = b["details"]["validation_errors"][0]
    assert (e["line"], e["column"], e["code"]) == (3, transit.MAX_DEPTH - 1, "json-too-deep")


def test_bad_json_says_line_and_column(svc):
    r = svc.post("/receivers/inbox/entities", content=b'[{"_id": "a"},\n {"_id": }]')
    b = _is_answer(r)
    assert (b["details"]["line"], b["details"]["column"]) == (2, 10)
    r = svc.post("/datasets/scratch/entities", content=b"\xff\xfe")
    _is_answer(r)


def test_body_limit_is_413_and_writes_nothing(svc):
    big = json.dumps([{"_id": f"big{i}", "pad": "x" * 1000} for i in range(2000)]).encode()
    r = svc.post("/receivers/inbox/entities", content=big)
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "body-too-large"

    def chunks():   # no Content-Length: the streamed bytes are counted
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]
    r = svc.post("/receivers/inbox/entities", content=chunks())
    assert r.status_code == 413, r.text
    got = svc.get("/datasets/inbox/entities").json() if \
        svc.get("/datasets/inbox").status_code == 200 else []
    assert not any(str(e.get("_id", "")).startswith("big") for e in got)
    assert svc.get("/health").status_code == 200


def test_zip_bomb_is_refused(svc):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("pipes/bomb.conf.json", b" " * (300 << 20))
    data = buf.getvalue()
    assert len(data) < 1 << 20
    r = svc.put("/config", content=data, headers={"Content-Type": "application/zip"})
    b = _is_answer(r)
    assert b["error"] == "bad-zip"
    r = svc.put("/config", content=b"PK\x03\x04garbage", headers={"Content-Type": "application/zip"})
    _is_answer(r)


def test_dataset_put_reports_deep_and_long_lines(tmp_path):
    f = tmp_path / "in.ndjson"
    from storage import ops
    f.write_bytes(b'{"_id": "ok1"}\n' + ('{"_id": "d", "v": ' + deep_text() + "}\n").encode()
                  + b'{"_id": "ok2"}\n')
    dtl = os.path.join(os.path.dirname(sys.executable), "dtl")
    r = subprocess.run([dtl, "dataset", "put", "people", str(f), "--data", str(tmp_path / "d"),
                        "--format", "json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stderr
    out = json.loads(r.stdout)
    assert out["stored"] == 2 and out["invalid"] == 1
    assert out["problems"][0]["line"] == 2 and "depth" in out["problems"][0]["error"]
    assert "Traceback" not in r.stderr
    lines = list(ops.bounded_lines(io.BytesIO(b"a\n" + b"x" * 5000 + b"\nb\n"), limit=100))
    assert lines[0] == b"a\n" and isinstance(lines[1], ops.LineTooLong) and lines[2] == b"b\n"
