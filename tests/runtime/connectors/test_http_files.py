"""json and csv sources and sinks against real HTTP servers on 127.0.0.1 and local files."""

from __future__ import annotations

import json

from tests.runtime.connectors.conftest import events, hub_for


def _url_system(http, **kw):
    return {"_id": "web", "type": "system:url", "url_pattern": http.url + "%s",
            "connect_timeout": 2, "read_timeout": 2, **kw}


FILES = {"_id": "files", "type": "system:url", "url_pattern": "file:data/%s"}


def test_json_ndjson_file_bad_line_logged(tmp_path):
    data = tmp_path / "conf" / "data"
    data.mkdir(parents=True)
    (data / "p.ndjson").write_text('{"_id": "a", "n": 1, "t": "~t2020-01-01T00:00:00Z"}\n'
                                   '{"_id": "b", "n": \n'
                                   '{"n": 3}\n'
                                   '{"_id": "c", "n": 4}\n')
    pipe = {"_id": "p", "type": "pipe",
            "source": {"type": "json", "system": "files", "url": "p.ndjson"}}
    with hub_for(tmp_path, [FILES], [pipe]) as hub:
        r = hub.run(until_stable=False)
        assert r.ok and r["p"].errors == 2
        assert [e["_id"] for e in hub.output("p")] == ["a", "c"]
        bad = events(hub, "p", "read-error")
        assert {b["entity"].get("line") for b in bad} == {2, None}
        assert any("no string _id" in b["original_error_message"] for b in bad)


def test_json_source_http_retry_since_and_paging(http, tmp_path):
    rows = [{"_id": f"e{i}", "_updated": i, "v": i} for i in range(25)]

    def page(params):
        since = int(params.get("since", -1))
        out = [r for r in rows if r["_updated"] > since][:int(params.get("limit", 1000))]
        return json.dumps(out).encode()
    http.routes["/people"] = page
    http.script = [500, ("hang", 3)]        # a 500, then a request that outlives read_timeout
    pipe = {"_id": "p", "type": "pipe", "batch_size": 4,
            "source": {"type": "json", "system": "web", "url": "people", "supports_since": True,
                       "is_chronological": True, "page_size": 10},
            "pump": {"max_read_retries": 3, "read_retry_delay": 0.01}}
    with hub_for(tmp_path, [_url_system(http)], [pipe]) as hub:
        r = hub.run(until_stable=False)
        assert r.ok, r["p"].reason
        assert len(hub.output("p")) == 25 and r["p"].read == 25
        assert len(events(hub, "p", "read-retry")) == 2
        limits = [q[2].get("limit") for q in http.requests]
        assert set(limits) == {"10"}
        rows.append({"_id": "new", "_updated": 99})
        r = hub.run(until_stable=False)
        assert r["p"].read == 1
        assert http.requests[-1][2]["since"] == "24"


def test_json_sink_push_protocol_retries_never_skips(http, tmp_path):
    ents = [{"_id": f"e{i}", "n": i, "d": "~f1.5"} for i in range(7)]
    http.script = [200, 500, ("hang", 3), 200]
    pipe = {"_id": "p", "type": "pipe", "batch_size": 3,
            "source": {"type": "embedded", "entities": ents},
            "sink": {"type": "json", "system": "web", "url": "receivers/x/entities"},
            "pump": {"batch_retries": 3, "write_retry_delay": 0.01}}
    sysdef = _url_system(http, authentication="jwt", jwt_token="$SECRET(tok)")
    from tests.runtime.connectors.conftest import write_config
    from runtime.config import load_config
    from runtime.hub import Hub
    root = write_config(tmp_path / "conf", [sysdef], [pipe], secrets={"tok": "s3cret"})
    with Hub(load_config(root), tmp_path / "data", fsync=False) as hub:
        r = hub.run(until_stable=False)
        assert r.ok, r["p"].reason
        assert len(events(hub, "p", "write-retry")) == 2
        log = json.dumps(hub.execution_log("p"), default=str)
        assert "s3cret" not in log
    got = [e["_id"] for _, body in http.accepted for e in body]
    assert sorted(got) == sorted(e["_id"] for e in ents)        # once each, none lost
    params = [p for p, _ in http.accepted]
    assert params[0]["is_first"] == "true" and params[-1]["is_last"] == "true"
    assert all(p["is_full"] == "true" and p["sequence_id"] == params[0]["sequence_id"]
               for p in params)
    assert [p.get("previous_request_id") for p in params] == \
        [None] + [p["request_id"] for p in params[:-1]]
    assert http.accepted[0][1][0]["d"] == "~f1.5"
    assert {k.lower(): v for k, v in http.requests[0][4].items()}["authorization"] == \
        "Bearer s3cret"

    # a target that keeps failing: the run fails and the next run sends the batch again
    http.accepted.clear()
    http.script = [500, 500]
    pipe["pump"]["batch_retries"] = 1
    root = write_config(tmp_path / "conf", [sysdef], [pipe], secrets={"tok": "s3cret"})
    with Hub(load_config(root), tmp_path / "data", fsync=False) as hub:
        assert not hub.run(until_stable=False).ok
        assert http.accepted == []
        assert hub.run(until_stable=False).ok
    assert sorted(e["_id"] for _, b in http.accepted for e in b) == sorted(e["_id"] for e in ents)


def test_csv_source_file_and_http_dialects_and_bad_rows(http, tmp_path):
    data = tmp_path / "conf" / "data"
    data.mkdir(parents=True)
    (data / "a.csv").write_bytes("nr;navn;by\n1;Ærø;Oslo\n2;Bø;\n3;x\n;nokey;y\n"
                                 .encode("iso-8859-1"))
    http.routes["/b.csv"] = b'"id"\t"name"\r\n7\t"multi\r\nline"\r\n'
    pipes = [
        {"_id": "a", "type": "pipe", "source": {
            "type": "csv", "system": "files", "url": "a.csv", "encoding": "iso-8859-1",
            "primary_key": "nummer", "field_names": ["nummer", "name", "city"]}},
        {"_id": "b", "type": "pipe", "source": {
            "type": "csv", "system": "web", "url": "b.csv", "dialect": "excel_tab",
            "primary_key": ["id"]}},
    ]
    with hub_for(tmp_path, [FILES, _url_system(http)], pipes) as hub:
        r = hub.run(until_stable=False)
        assert r.ok, [(p.pipe, p.reason) for p in r.pipes.values()]
        assert r["a"].errors == 2
        assert hub.output("a") == [{"_id": "1", "nummer": "1", "name": "Ærø", "city": "Oslo"},
                                   {"_id": "2", "nummer": "2", "name": "Bø"}]
        assert sorted(e["original_error_message"][:6] for e in events(hub, "a", "read-error")) \
            == ["line 4", "line 5"]
        assert hub.output("b") == [{"_id": "7", "id": "7", "name": "multi\r\nline"}]


def test_csv_sink_full_then_incremental(tmp_path):
    ents = [{"_id": "a", "x": "1,5", "n": 2}, {"_id": "b", "x": "q\"t"},
            {"_id": "c", "_deleted": True}]
    pipe = {"_id": "p", "type": "pipe", "source": {"type": "embedded", "entities": ents},
            "sink": {"type": "csv", "system": "files", "url": "out/p.csv",
                     "columns": ["_id", "x", "n"]}}
    with hub_for(tmp_path, [FILES], [pipe]) as hub:
        assert hub.run(until_stable=False).ok
    text = (tmp_path / "conf" / "data" / "out" / "p.csv").read_bytes().decode()
    assert text == '_id,x,n\r\na,"1,5",2\r\nb,"q""t",\r\n'
