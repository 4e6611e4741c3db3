"""Confined file access: file: urls and SQLite files resolve inside the allowed roots; `..`,
symlinks out, absolute paths elsewhere and the data directory's own files are refused, at
load time with a positioned error and at run time by the opener itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from runtime.confine import Refused, Roots, check_config, file_url_path
from runtime.config import load_config

DTL = os.path.join(os.path.dirname(sys.executable), "dtl")


@pytest.fixture
def tree(tmp_path):
    cfg, outside = tmp_path / "cfg", tmp_path / "outside"
    (cfg / "in").mkdir(parents=True)
    outside.mkdir()
    (cfg / "in" / "people.json").write_text('[{"_id": "a"}]')
    (outside / "loot.json").write_text('[{"_id": "stolen"}]')
    data = cfg / ".dtl-data"
    (data / "service").mkdir(parents=True)
    (data / "service" / "jwt-hs256.key").write_text("k" * 64)
    return cfg, data, outside


def test_inside_is_allowed_outside_is_refused(tree):
    cfg, data, outside = tree
    r = Roots.build(cfg, data)
    assert r.resolve("in/people.json") == str(cfg / "in" / "people.json")
    assert r.resolve(str(cfg / "in" / "people.json")) == str(cfg / "in" / "people.json")
    assert r.resolve(str(data / "files" / "out.csv")) == str(data / "files" / "out.csv")
    for bad, why in [(str(outside / "loot.json"), "outside the allowed roots"),
                     ("/etc/passwd", "outside the allowed roots"),
                     ("../outside/loot.json", "'..'"), ("in/../in/people.json", "'..'"),
                     ("in\\..\\x", "'..'"),
                     (".dtl-data/service/jwt-hs256.key", "inside the data directory"),
                     (str(data / "datasets" / "x" / "log"), "inside the data directory"),
                     ("test-secrets.json", "secrets file"), ("prod-env.json", "secrets file"),
                     ("in/people.json\0", "NUL")]:
        with pytest.raises(Refused, match=why.replace("(", r"\(")):
            r.resolve(bad)


def test_symlink_out_of_the_root_is_refused(tree):
    cfg, data, outside = tree
    (cfg / "in" / "link.json").symlink_to(outside / "loot.json")
    (cfg / "dirlink").symlink_to(outside)
    (cfg / "keylink").symlink_to(data / "service" / "jwt-hs256.key")
    (cfg / "in" / "ok.json").symlink_to(cfg / "in" / "people.json")
    r = Roots.build(cfg, data)
    for bad in ("in/link.json", "dirlink/loot.json", "dirlink/new.csv", "keylink"):
        with pytest.raises(Refused, match="symlink|data directory"):
            r.resolve(bad)
    assert r.resolve("in/ok.json") == str(cfg / "in" / "people.json")


def test_key_files_are_outside_every_root_whatever_the_roots(tree, tmp_path):
    """However many roots the command line or metadata add, even `/`, the service's own
    files stay refused: the data directory (keys, secrets, datasets) is private."""
    from runtime.service.auth import key_path
    from runtime.service.stores import SecretStore
    cfg, data, outside = tree
    SecretStore(data).put({"pw": "x"})
    keys = [key_path(data), data / "service" / "secrets.key", data / "service" / "secrets.enc"]
    (cfg / "test-secrets.json").write_text("{}")
    for extra in ((), (str(tmp_path),), ("/",), (str(data),), (str(data / "service"),)):
        r = Roots.build(cfg, data, extra=extra, metadata_roots=extra)
        for k in keys + [cfg / "test-secrets.json"]:
            assert os.path.exists(k)
            assert r.refusal(str(k)) is not None, (extra, k)
        if extra == ("/",):
            assert r.refusal(str(outside / "loot.json")) is None


def test_file_url_forms():
    assert file_url_path("file:x.csv") == "x.csv"
    assert file_url_path("file:/a/b") == "/a/b"
    assert file_url_path("file:///a/b%20c") == "/a/b c"
    assert file_url_path("file://localhost/a") == "/a"
    assert file_url_path("file://evil/a").startswith("//")
    assert file_url_path("http://x/file:") is None


def _write(cfg, systems, pipes, metadata=None):
    for d in ("pipes", "systems"):
        (cfg / d).mkdir(parents=True, exist_ok=True)
    for s in systems:
        (cfg / "systems" / f"{s['_id']}.conf.json").write_text(json.dumps(s, indent=2))
    for p in pipes:
        (cfg / "pipes" / f"{p['_id']}.conf.json").write_text(json.dumps(p, indent=2))
    if metadata is not None:
        (cfg / "node-metadata.conf.json").write_text(json.dumps(metadata, indent=2))


FILES = {"_id": "files", "type": "system:url", "url_pattern": "file:%s"}


def _json_pipe(pid, url, system="files"):
    return {"_id": pid, "type": "pipe",
            "source": {"type": "json", "system": system, "url": url}}


def test_check_config_positions_every_refusal(tree):
    cfg, data, outside = tree
    _write(cfg, [FILES, {"_id": "db", "type": "system:sqlite", "database": "/tmp/x.sqlite"},
                 {"_id": "ok-db", "type": "system:sqlite", "database": "local.sqlite"}],
           [_json_pipe("a", "in/people.json"), _json_pipe("b", "../outside/loot.json"),
            _json_pipe("c", f"file://{outside}/loot.json"),
            {"_id": "d", "type": "pipe", "source": {"type": "dataset", "dataset": "a"},
             "sink": {"type": "csv", "system": "files", "url": "/usr/lib/x.pth"}}])
    c = load_config(cfg, force=True)
    got = sorted((d.span.file, d.span.line, d.span.column, d.code)
                 for d in check_config(c, Roots.build(cfg, data)))
    assert got == [("pipes/b.conf.json", 7, 12, "path-refused"),
                   ("pipes/c.conf.json", 7, 12, "path-refused"),
                   ("pipes/d.conf.json", 11, 12, "path-refused"),
                   ("systems/db.conf.json", 4, 15, "path-refused")]


def test_dtl_run_refuses_before_running_and_allow_path_opens(tree):
    cfg, data, outside = tree
    _write(cfg, [FILES], [_json_pipe("steal", str(outside / "loot.json"))])
    r = subprocess.run([DTL, "run", str(cfg), "--format", "json"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "pipes/steal.conf.json:7:12: error[path-refused]" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (data / "datasets").exists() or "steal" not in os.listdir(data / "datasets")
    r = subprocess.run([DTL, "run", str(cfg), "--format", "json", "--allow-path", str(outside)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    from storage import Store
    with Store(str(data)).open("steal") as ds:
        assert ds.get("stolen") is not None


def test_metadata_file_roots_open_more_but_a_pipe_cannot(tree):
    cfg, data, outside = tree
    pipe = _json_pipe("steal", str(outside / "loot.json"))
    pipe["file_roots"] = [str(outside)]          # a pipe cannot widen the roots
    _write(cfg, [FILES], [pipe])
    c = load_config(cfg, force=True)
    from runtime.confine import file_roots
    assert check_config(c, Roots.build(cfg, data, metadata_roots=file_roots(c)))
    _write(cfg, [FILES], [_json_pipe("steal", str(outside / "loot.json"))],
           metadata={"_id": "node", "type": "metadata", "file_roots": ["../outside"]})
    c = load_config(cfg, force=True)
    assert file_roots(c) == ("../outside",)
    assert check_config(c, Roots.build(cfg, data, metadata_roots=file_roots(c))) == []


def test_the_opener_refuses_even_when_validation_was_skipped(tree):
    """Run time is the real check: a configuration loaded without the load-time check (or a
    url computed later) still cannot open the file."""
    from runtime.hub import Hub
    cfg, data, outside = tree
    _write(cfg, [FILES], [_json_pipe("steal", str(outside / "loot.json")),
                          {"_id": "drop", "type": "pipe",
                           "source": {"type": "embedded", "entities": [{"_id": "x"}]},
                           "sink": {"type": "csv", "system": "files",
                                    "url": "../outside/evil.pth"}}])
    hub = Hub(load_config(cfg), str(data))
    try:
        s = hub.run()
    finally:
        hub.close()
    assert s.pipes["steal"].status == "failed" and "refused" in s.pipes["steal"].reason
    assert s.pipes["drop"].status == "failed" and "refused" in s.pipes["drop"].reason
    assert not (outside / "evil.pth").exists()
    from storage import Store
    st = Store(str(data))
    assert not st.exists("steal") or st.open("steal").get("stolen") is None


def test_api_upload_is_refused_with_the_position(tmp_path):
    import httpx
    from runtime.service.auth import local_key, mint
    from runtime.service.server import Background, build
    cfg, data = tmp_path / "cfg", tmp_path / "data"
    _write(cfg, [FILES], [_json_pipe("ok", "in.json")])
    (cfg / "in.json").write_text('[{"_id": "a"}]')
    with Background(build(data, cfg, fsync=False)) as bg, \
            httpx.Client(base_url=bg.url, timeout=60, headers={
                "Authorization": f"Bearer {mint(local_key(data), 'Developer')}"}) as c:
        text = '{"_id": "steal", "type": "pipe",\n "source": {"type": "json", ' \
               '"system": "files",\n   "url": "%s"}}' % (data / "service" / "jwt-hs256.key")
        r = c.put("/pipes/steal/config", content=text)
        assert r.status_code == 400, r.text
        e = r.json()["details"]["validation_errors"][0]
        assert (e["file"], e["line"], e["column"], e["code"]) == \
            ("pipes/steal.conf.json", 3, 11, "path-refused")
        assert "inside the data directory" in e["message"]
        assert c.get("/pipes/steal").status_code == 404
        # relative paths resolve against the bootstrap folder, not a staging directory
        r = c.post("/pipes/ok/pump", data={"operation": "start"})
        assert r.status_code == 200, r.text
        import time
        for _ in range(100):
            if c.get("/datasets/ok").status_code == 200 and \
                    c.get("/datasets/ok/entities").json():
                break
            time.sleep(0.1)
        assert [e["_id"] for e in c.get("/datasets/ok/entities").json()] == ["a"]
