"""Every endpoint family over a real server."""

from __future__ import annotations

import io
import json
import time
import zipfile

from tests.service.conftest import SECRET


def test_health_ping_metrics(server, admin):
    import httpx
    assert httpx.get(server.url + "/health").json()["status"] == "ok"
    assert httpx.get(server.url + "/ping").status_code == 200
    m = admin.get("/metrics")
    assert m.status_code == 200 and "sesam_health 1" in m.text
    assert 'sesam_pipe_runs_total{pipe="people"}' in m.text
    assert admin.get("/openapi.json").json()["openapi"].startswith("3.")


def test_config_roundtrip_and_invalid_upload_changes_nothing(admin):
    before = admin.get("/config").json()
    assert {e["_id"] for e in before} >= {"node", "crm", "people", "inbox", "feed"}
    bad = json.dumps(before + [{"_id": "x", "type": "pipe", "source": {"type": "nope"}}],
                     indent=2)
    r = admin.put("/config", content=bad, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    errs = r.json()["details"]["validation_errors"]
    assert errs and errs[0]["config_id"] == "x" and errs[0]["line"] and errs[0]["column"]
    assert "config.json:" in errs[0]["msg"]
    assert admin.get("/config").json() == before
    # the same upload is accepted unchanged; zip round trip too
    r = admin.put("/config", content=json.dumps(before))
    assert r.status_code == 200 and r.json() == {"validation_errors": []}
    z = admin.get("/config", headers={"Accept": "application/zip"})
    assert z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "pipes/people.conf.json" in names and "node-metadata.conf.json" in names
    r = admin.put("/config", content=z.content, headers={"Content-Type": "application/zip"})
    assert r.status_code == 200
    assert admin.get("/config").json() == before


def test_pipe_config_versions_and_positioned_errors(admin):
    cfg = admin.get("/pipes/people/config").json()
    h0 = admin.get("/config-history/entity", params={"entity_id": "people"}).json()
    cfg["comment"] = "changed"
    r = admin.put("/pipes/people/config", content=json.dumps(cfg))
    assert r.status_code == 200, r.text
    h1 = admin.get("/config-history/entity", params={"entity_id": "people"}).json()
    assert len(h1) == len(h0) + 1 and h1[-1]["comment"] == "changed"
    r = admin.put("/pipes/people/config",
                  content='{"_id": "people", "type": "pipe",\n "source": {"type": "embeded"}}')
    assert r.status_code == 400
    e = r.json()["details"]["validation_errors"][0]
    assert (e["file"], e["line"], e["column"]) == ("pipes/people.conf.json", 2, 21)
    assert "did you mean 'embedded'" in e["msg"]
    assert admin.get("/pipes/people/config").json()["comment"] == "changed"
    # a pipe added, then removed
    r = admin.post("/pipes", json=[{"_id": "tmp", "type": "pipe",
                                    "source": {"type": "embedded", "entities": []}}])
    assert r.status_code == 200 and r.json()[0]["_id"] == "tmp"
    assert admin.delete("/pipes/tmp").status_code == 200
    assert admin.get("/pipes/tmp").status_code == 404


def test_pipes_pumps_and_log(admin):
    pipes = {p["_id"]: p for p in admin.get("/pipes").json()}
    assert pipes["people"]["runtime"]["is-valid-config"] is True
    r = admin.post("/pipes/people/pump", data={"operation": "start"})
    assert r.status_code == 200
    for _ in range(200):
        if not admin.get("/pipes/people/pump").json()["runtime"]["is-running"]:
            break
        time.sleep(0.05)
    pump = admin.get("/pipes/people/pump").json()
    assert pump["_id"] == "pump:people" and pump["runtime"]["success"] is True
    assert admin.post("/pipes/people/pump", data={"operation": "bogus"}).status_code == 400
    assert admin.post("/pipes/people/pump", data={"operation": "reset"}).status_code == 200
    assert admin.get("/pipes/people/pump").json()["runtime"]["last-seen"] is None
    r = admin.post("/pipes/people/pump", data={"operation": "run-to-stable"})
    assert r.status_code == 200
    r = admin.post("/pipes/people/pump", data={"operation": "update-last-seen",
                                               "last-seen": "1"})
    assert r.json()["runtime"]["last-seen"] == 1
    log = admin.get("/pipes/people/log").json()
    assert {e["type"] for e in log} >= {"pump-started", "pump-completed", "pump-offset-set"}
    assert admin.get("/pipes/people/log", params={"limit": 1}).json() == log[:1]
    assert len(admin.get("/pipes/people/log", params={"reverse": "true"}).json()) == len(log)
    ents = admin.get("/pipes/people/entities").json()
    assert [e["name"] for e in ents] == ["Ann", "Bo"] and ents[0]["greeting"] == "hello"
    src = admin.get("/pipes/people/entities", params={"stage": "source"}).json()
    assert "greeting" not in src[0]
    assert admin.get("/pipes/people/entities", params={"stage": "nope"}).status_code == 400
    assert admin.get("/pipes/nope").status_code == 404


def test_receiver_atomic_batches_and_publishers(admin):
    r = admin.post("/receivers/inbox/entities", json=[{"_id": "a", "n": "1"},
                                                     {"_id": "b", "n": 2}])
    assert r.status_code == 200 and r.json() == {}
    # one failing entity refuses the whole batch
    r = admin.post("/receivers/inbox/entities", json=[{"_id": "c", "n": 3},
                                                     {"_id": "d", "n": "boom"}])
    assert r.status_code == 400
    ids = [e["_id"] for e in admin.get("/datasets/inbox/entities").json()]
    assert ids == ["a", "b"]
    assert admin.post("/receivers/people/entities", json=[]).status_code == 404
    pub = admin.get("/publishers/feed/entities", params={"tag": "t1"}).json()
    assert [(e["_id"], e["tag"]) for e in pub] == [("a", "t1"), ("b", "t1")]
    since = pub[0]["_updated"]
    assert [e["_id"] for e in admin.get("/publishers/feed/entities",
                                        params={"since": since}).json()] == ["b"]
    assert len(admin.get("/publishers/feed/entities", params={"limit": 1}).json()) == 1
    nd = admin.get("/publishers/feed/entities", headers={"Accept": "application/x-ndjson"})
    assert [json.loads(x)["_id"] for x in nd.text.splitlines()] == ["a", "b"]
    admin.post("/pipes/people/pump", data={"operation": "run-to-stable"})
    csv = admin.get("/publishers/feed-csv/csv")
    assert csv.text == "_id,name\r\n1,Ann\r\n2,Bo\r\n"
    assert "feed-csv.csv" in csv.headers["content-disposition"]
    assert admin.get("/publishers/feed/csv").status_code == 404


def test_datasets(admin):
    names = [d["_id"] for d in admin.get("/datasets").json()]
    assert "inbox" in names and "system:config" in names
    info = admin.get("/datasets/inbox").json()
    assert info["runtime"]["count-index-exists"] == 2 and info["runtime"]["populated"]
    admin.post("/receivers/inbox/entities", json={"_id": "a", "n": 5})
    hist = admin.get("/datasets/inbox/entities").json()
    latest = admin.get("/datasets/inbox/entities", params={"history": "false"}).json()
    assert len(hist) == 3 and [e["_id"] for e in latest] == ["b", "a"]
    assert admin.get("/datasets/inbox/entities", params={"since": 1}).json()[0]["_updated"] == 2
    assert len(admin.get("/datasets/inbox/entities", params={"limit": 2}).json()) == 2
    e = admin.get("/datasets/inbox/entity", params={"entity_id": "a"}).json()
    assert e["n"] == 5 and e["_previous"] == 0
    assert admin.get("/datasets/inbox/entity", params={"entity_id": "zz"}).status_code == 404
    assert admin.get("/datasets/nope/entities").status_code == 404
    assert admin.post("/datasets/scratch/entities", json=[{"_id": "s"}]).status_code == 200
    assert admin.delete("/datasets/scratch").status_code == 200
    assert admin.get("/datasets/scratch").status_code == 404


def test_dtl_test_endpoint(admin):
    r = admin.post("/dtl/test", json={
        "transform": {"default": [["copy", "_id"], ["add", "o", ["apply-hops", "o", {
            "datasets": ["orders o"], "where": ["eq", "_S._id", "o.c"]}]]],
            "o": [["add", "amt", "_S.amount"]]},
        "entities": [{"_id": "1"}], "datasets": {"orders": [{"_id": "x", "c": "1", "amount": 3}]}})
    assert r.status_code == 200 and r.json()["results"] == [[{"_id": "1", "o": [{"amt": 3}]}]]
    r = admin.post("/dtl/test", json={"transform": {"default": [["ad", "x", 1]]}, "entities": []})
    assert r.status_code == 400
    e = r.json()["details"]["errors"][0]
    assert e["code"] == "unknown-function" and e["line"] and e["column"]


def test_env_and_secrets_are_write_only(server, admin):
    assert admin.get("/env").json()["greeting"] == "hello"
    assert admin.post("/env", json={"greeting": "hei"}).json()["greeting"] == "hei"
    admin.post("/pipes/people/pump", data={"operation": "start-rescan"})
    time.sleep(0.3)
    assert admin.get("/pipes/people/entities").json()[0]["greeting"] == "hei"
    assert admin.put("/secrets", json={"api-password": SECRET, "other": "v2-secret"}).json() \
        == ["api-password", "other"]
    assert admin.post("/systems/crm/secrets", json={"token": "local-secret"}).json() == ["token"]
    assert admin.get("/systems/crm/secrets").json() == ["token"]
    assert admin.delete("/secrets/other").json() == ["api-password"]
    assert admin.delete("/secrets/other").status_code == 404
    seen = ""
    for path in ("/secrets", "/systems", "/systems/crm", "/systems/crm/config", "/config",
                 "/pipes", "/env", "/metadata", "/systems?verbose=true"):
        r = admin.get(path)
        assert r.status_code == 200, path
        seen += r.text
    assert SECRET not in seen and "local-secret" not in seen and "v2-secret" not in seen
    eff = admin.get("/systems/crm").json()["config"]["effective"]
    assert eff["password"] == "***"
