"""The HTTP calls the Sesam client makes for `upload`, `run` and `verify` (test-runner.md §3-§6),
replayed in order against `dtl serve` started on an empty data directory."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from runtime.service.auth import local_key, mint
from runtime.service.server import Background, build

REPOS = Path(__file__).parent.parent / "fixtures" / "sesam_repos"


def _zip(repo: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(repo.rglob("*.conf.json")):
            z.write(p, p.relative_to(repo).as_posix())
    return buf.getvalue()


def _filtered(entities):
    # the client's comparison drops `_` properties except `_id` and a true `_deleted`
    return sorted(({k: v for k, v in e.items() if not k.startswith("_") or k == "_id"}
                   for e in entities if not e.get("_deleted")), key=lambda e: e["_id"])


@pytest.fixture
def node(tmp_path):
    app = build(tmp_path, None, fsync=False)
    with Background(app) as bg:
        tok = mint(local_key(tmp_path), "Developer")
        with httpx.Client(base_url=bg.url, headers={"Authorization": f"Bearer {tok}"},
                          timeout=60) as c:
            yield c


def _upload(c, repo):
    env = json.loads((repo / "test-env.json").read_text(encoding="utf-8-sig"))
    assert c.put("/env", json=env).status_code == 200
    r = c.put("/config", params={"force": "true"}, content=_zip(repo),
              headers={"Content-Type": "application/zip"})
    assert r.status_code == 200, r.text
    pipes = c.get("/pipes").json()
    assert all(p["runtime"]["state"] != "Deploying" for p in pipes)
    for f in sorted((repo / "testdata").glob("*.json")) if (repo / "testdata").exists() else ():
        r = c.post(f"/receivers/{f.stem}/entities", content=f.read_bytes(),
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 200, (f.name, r.text)
    return {p["_id"] for p in pipes}


def _run(c, has_testdata):
    params = {"extra_zero_runs": 2, "max_runs": 100}
    if has_testdata:
        params["delete_input_datasets"] = False
    r = c.post("/pipes/run-all-pipes", params=params)
    assert r.status_code == 200 and r.json()["status"] == "success", r.text


def test_upload_run_verify_with_testdata(node):
    repo = REPOS / "embedded_conversion" / "expected_after"
    ids = _upload(node, repo)
    assert "fruit-out" in ids
    _run(node, True)
    for spec in sorted((repo / "expected").glob("*.test.json")):
        s = json.loads(spec.read_text())
        current = node.get(f"/pipes/{s['pipe']}/entities").json()
        expected = json.loads((repo / "expected" / f"{s['pipe']}.json").read_text())
        assert _filtered(current) == _filtered(expected)


def test_upload_run_verify_csv_endpoint(node):
    repo = REPOS / "fair_weather"
    _upload(node, repo)
    _run(node, False)
    r = node.get("/publishers/planets-csv/csv")
    assert r.status_code == 200
    assert r.content == (repo / "expected" / "planets-csv.csv").read_bytes()
    cur = node.get("/pipes/planets-out/entities").json()
    exp = json.loads((repo / "expected" / "planets-out.json").read_text())
    assert _filtered(cur) == _filtered(exp)
