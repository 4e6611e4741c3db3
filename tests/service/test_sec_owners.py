"""The User role manages its own pipes, systems and datasets (service-api.md §2), over a real
server: what a user creates through the API it may change, pump, feed and delete; another
User may only read it; the configuration folder's entities belong to no User; owners
survive a restart and cannot be written through the API."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import httpx

from runtime.service.auth import local_key, mint
from runtime.service.server import Background, build
from tests.service.conftest import HUBCONF


def _pipe(pid, **kw):
    return {"_id": pid, "type": "pipe",
            "source": {"type": "embedded", "entities": [{"_id": "1", "n": 1}]}, **kw}


def _client(bg, data, role, email):
    return httpx.Client(base_url=bg.url, timeout=60, headers={
        "Authorization": f"Bearer {mint(local_key(data), role, email=email)}"})


@contextmanager
def _node(data, *people, conf=HUBCONF):
    """A server on DATA and a client for each (role, email) of PEOPLE, closed before it."""
    with Background(build(data, conf, fsync=False)) as bg, ExitStack() as clients:
        yield [clients.enter_context(_client(bg, data, role, email)) for role, email in people]


def test_a_user_manages_what_it_created_and_nothing_else(tmp_path):
    data = tmp_path / "data"
    with _node(data, ("User", "ann@example.com"),
               ("User", "bob@example.com"),
               ("Developer", "dev@example.com")) as [ann, bob, dev]:
        assert ann.post("/pipes", json=[_pipe("mine")]).status_code == 200
        assert ann.post("/pipes", json=[{"_id": "in", "type": "pipe",
                                         "source": {"type": "http_endpoint"}}]).status_code == 200
        # the owner: config, pump, receiver, delete
        r = ann.put("/pipes/mine/config", json=_pipe("mine", comment="v2"))
        assert r.status_code == 200, r.text
        r = ann.post("/pipes/mine/pump", data={"operation": "run-to-stable"})
        assert r.status_code == 200, r.text
        assert ann.post("/receivers/in/entities", json=[{"_id": "a"}]).status_code == 200
        # another User reads, never writes
        assert bob.get("/pipes/mine").status_code == 200
        assert bob.get("/datasets/mine/entities").status_code == 200
        for method, path, kw in [
                ("PUT", "/pipes/mine/config", {"json": _pipe("mine", comment="bob")}),
                ("POST", "/pipes", {"json": [_pipe("mine", comment="bob")]}),   # replace
                ("POST", "/pipes/mine/pump", {"data": {"operation": "start"}}),
                ("POST", "/pipes/mine/preview", {"json": {"config": _pipe("mine")}}),
                ("POST", "/receivers/in/entities", {"json": [{"_id": "b"}]}),
                ("DELETE", "/datasets/mine", {}),
                ("DELETE", "/pipes/mine", {})]:
            r = bob.request(method, path, **kw)
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            assert "created through the API" in r.json()["message"]
        # the folder's pipes belong to no User; run-all-pipes runs everyone's
        assert ann.post("/pipes/people/pump", data={"operation": "start"}).status_code == 403
        assert ann.put("/pipes/people/config", json=_pipe("people")).status_code == 403
        assert ann.post("/pipes/run-all-pipes").status_code == 403
        # roles that manage any pipe still do
        r = dev.put("/pipes/mine/config", json=_pipe("mine", comment="dev"))
        assert r.status_code == 200, r.text
        assert ann.get("/pipes/mine/config").json()["comment"] == "dev"
        # nothing bob tried changed anything
        assert "b" not in {e["_id"] for e in ann.get("/datasets/in/entities").json()}
        assert ann.delete("/pipes/mine").status_code == 200
        # a deleted pipe's owner is forgotten: the next creator owns the id
        assert bob.post("/pipes", json=[_pipe("mine")]).status_code == 200
        assert ann.delete("/pipes/mine").status_code == 403
        assert bob.delete("/pipes/mine").status_code == 200


def test_datasets_created_through_the_api_have_their_creator_as_owner(tmp_path):
    data = tmp_path / "data"
    with _node(data, ("User", "ann@example.com"),
               ("User", "bob@example.com"),
               ("Admin", "root@example.com")) as [ann, bob, admin]:
        assert ann.post("/datasets/notes/entities", json=[{"_id": "1"}]).status_code == 200
        assert ann.post("/datasets/notes/entities", json=[{"_id": "2"}]).status_code == 200
        assert bob.post("/datasets/notes/entities", json=[{"_id": "3"}]).status_code == 403
        assert bob.delete("/datasets/notes").status_code == 403
        assert {e["_id"] for e in bob.get("/datasets/notes/entities").json()} == {"1", "2"}
        assert ann.delete("/datasets/notes").status_code == 200
        # the node's own datasets are written by the node only, whatever the role
        for c in (ann, admin):
            for name in ("system:config-owners", "system:config"):
                r = c.post(f"/datasets/{name}/entities",
                           json=[{"_id": "pipe:people", "owner": "user:ann@example.com"}])
                assert r.status_code == 403, (name, r.text)
                assert c.delete(f"/datasets/{name}").status_code == 403
        assert ann.post("/pipes/people/pump", data={"operation": "start"}).status_code == 403


def test_owners_survive_a_restart(tmp_path):
    data = tmp_path / "data"
    with _node(data, ("User", "ann@example.com")) as [ann]:
        assert ann.post("/pipes", json=[_pipe("mine")]).status_code == 200
        assert ann.post("/systems", json=[{"_id": "mysys", "type": "system:url",
                                           "base_url": "http://127.0.0.1:9/"}]).status_code == 200
    with _node(data, ("User", "ann@example.com"),
               ("User", "bob@example.com"), conf=None) as [ann, bob]:
        assert bob.put("/pipes/mine/config", json=_pipe("mine", comment="b")).status_code == 403
        assert bob.delete("/systems/mysys").status_code == 403
        r = ann.put("/pipes/mine/config", json=_pipe("mine", comment="a"))
        assert r.status_code == 200, r.text
        assert ann.delete("/systems/mysys").status_code == 200
