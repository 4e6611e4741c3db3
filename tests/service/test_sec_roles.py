"""The role table (runtime/service/roles.py) against the running service: every route the app
answers has an entry (a new route without one fails here and stops the app from starting),
and every route called with every role answers as the table says: 401 for an anonymous
caller without the permission, 403 for a token without it, and neither when it is held."""

from __future__ import annotations

import re

import httpx
import pytest

from runtime.service.auth import ROLE_PERMS
from runtime.service.roles import PUBLIC_MOUNTS, TABLE, check_routes, mounts, route_keys
from runtime.service.server import build
from tests.service.conftest import HUBCONF

ROLES = (None, "Guest", "User", "Developer", "Admin")     # None: no token (group:Anonymous)
PARAMS = {"pipe_id": "people", "system_id": "crm", "dataset_id": "people",
          "filename": "x.json", "env_var": "no-such", "secret_key": "no-such",
          "path:path": "pipes/people"}
# ids that do not exist where the call would destroy what other calls use
DESTROY = {("DELETE", "/api/pipes/{pipe_id}"), ("DELETE", "/api/systems/{system_id}"),
           ("DELETE", "/api/datasets/{dataset_id}")}
QUERY = {"/api/config-history/entity": "?entity_id=people",
         "/api/datasets/{dataset_id}/entity": "?entity_id=1",
         "/api/pipes/run-all-pipes": "?max_runs=0"}      # a 400 after the permission check


def _url(method, path):
    def fill(m):
        name = m.group(1)
        if (method, path) in DESTROY:
            return "no-such"
        return PARAMS[name]
    return re.sub(r"\{([^}]+)\}", fill, path) + QUERY.get(path, "")


def _perms(role):
    return set() if role is None else set(ROLE_PERMS[role])


def _granted(role, need, method, path):
    """The User role manages its own pipes, systems and datasets only (service-api.md §2):
    the folder's have no owner; one that does not exist yet it may create (a DESTROY path
    names none: 404); run-all-pipes runs everyone's."""
    if role == "User" and need.perm in ("write_config", "run_pump_operation", "write_data"):
        return need.scope == "create" or (method, path) in DESTROY
    return need.perm in _perms(role)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return build(tmp_path_factory.mktemp("roles-app"), HUBCONF, fsync=False)


def test_the_table_covers_every_route_and_nothing_else(app):
    routes = set(route_keys(app))
    assert len(routes) >= 60
    assert sorted(routes - set(TABLE)) == [], "routes without a TABLE entry"
    assert sorted(set(TABLE) - routes) == [], "TABLE entries without a route"
    assert all(m.startswith(PUBLIC_MOUNTS) for m in mounts(app))


def test_every_operation_of_the_openapi_document_has_an_entry(app):
    doc = app.openapi()
    ops = [(m.upper(), p) for p, item in doc["paths"].items() for m in item]
    assert len(ops) >= 50
    assert [op for op in ops if op not in TABLE] == []


def test_a_route_without_an_entry_stops_the_app(tmp_path):
    app = build(tmp_path, HUBCONF, fsync=False)

    @app.get("/api/new-route")
    def new_route():
        return {}
    with pytest.raises(RuntimeError, match="GET /api/new-route"):
        check_routes(app)


CASES = [(m, p, role) for (m, p) in sorted(TABLE) for role in ROLES]


@pytest.mark.parametrize("method,path,role", CASES,
                         ids=[f"{m} {p} {r or 'anonymous'}" for m, p, r in CASES])
def test_every_route_with_every_role(server, method, path, role, request):
    need = TABLE[(method, path)]
    h = {"Authorization": f"Bearer {server.token(role)}"} if role else {}
    base = server.url.rsplit("/api", 1)[0]
    body = b"[" if method in ("POST", "PUT", "PATCH") else None   # bad JSON: a 400 if let in
    r = httpx.request(method, base + _url(method, path), content=body, headers=h, timeout=120)
    if need.perm is None or _granted(role, need, method, path):
        assert r.status_code not in (401, 403), (r.status_code, r.text)
        assert r.status_code < 500, (r.status_code, r.text)
        return
    want = 401 if role is None else 403
    assert r.status_code == want, (need, r.status_code, r.text)
    b = r.json()
    assert set(b) == {"error", "message"}
    assert b["error"] in ("unauthorized", "forbidden")
    assert "Ann" not in r.text and "greeting" not in r.text


def test_read_only_roles_never_write(server):
    """Guest: no configuration, secrets or environment written, no pump operation, no post
    to a receiver without the permission (service-api.md §2)."""
    with server.client("Guest") as g:
        for method, path, kw in [
                ("PUT", "/pipes/people/config", {"json": {"_id": "people", "type": "pipe"}}),
                ("POST", "/pipes", {"json": [{"_id": "g", "type": "pipe"}]}),
                ("POST", "/systems", {"json": [{"_id": "g", "type": "system:url"}]}),
                ("PUT", "/config", {"json": []}), ("PUT", "/env", {"json": {"a": "b"}}),
                ("PUT", "/secrets", {"json": {"a": "b"}}),
                ("POST", "/systems/crm/secrets", {"json": {"a": "b"}}),
                ("POST", "/pipes/people/pump", {"data": {"operation": "start"}}),
                ("POST", "/pipes/run-all-pipes", {}),
                ("POST", "/receivers/inbox/entities", {"json": [{"_id": "g"}]}),
                ("POST", "/datasets/people/entities", {"json": [{"_id": "g"}]}),
                ("DELETE", "/datasets/people", {}), ("DELETE", "/pipes/people", {}),
                ("POST", "/pipes/people/preview",
                 {"json": {"config": {"_id": "people", "type": "pipe"}}})]:
            r = g.request(method, path, **kw)
            assert r.status_code == 403, (method, path, r.status_code, r.text)
    with server.client("Admin") as a:
        assert a.get("/pipes/people").status_code == 200
        assert a.get("/pipes/g").status_code == 404
        assert "a" not in a.get("/env").json()


def test_acl_opens_one_pipe_and_not_its_neighbours(server):
    # inbox: write_data for group:Anonymous; public-feed: read_data for group:Anonymous
    assert httpx.post(server.url + "/receivers/inbox/entities",
                      json=[{"_id": "acl-1"}]).status_code == 200
    assert httpx.get(server.url + "/publishers/public-feed/entities").status_code == 200
    for method, path in [("GET", "/publishers/feed/entities"),
                         ("POST", "/receivers/people/entities"),
                         ("GET", "/pipes/inbox"), ("GET", "/pipes/inbox/log"),
                         ("POST", "/pipes/inbox/pump"), ("GET", "/datasets/inbox/entities")]:
        r = httpx.request(method, server.url + path, json=[])
        assert r.status_code == 401, (method, path, r.status_code, r.text)


def test_the_table_keeps_the_documented_policy():
    """service-api.md §2 as invariants of the table, so an entry cannot quietly loosen it:
    reads never need less than a read permission, writes never only a read one (the DTL
    test and the preview write nothing), node management stays with Admin and Developer,
    metrics with Admin, and the read-only role has no write route."""
    reads = {"read_config", "read_data"}
    read_only_writes = {("POST", "/api/dtl/test"), ("POST", "/api/pipes/{pipe_id}/preview")}
    for (method, path), need in TABLE.items():
        if need.perm is None:
            assert method in ("GET", "HEAD"), (method, path)
            assert not path.startswith("/api/") or path in (
                "/api/health", "/api/ping", "/api/openapi.json", "/api/reference"), path
            continue
        if (path + "/").split("/")[2] in ("env", "secrets", "metadata", "config", "config-history",
                                  "tests"):
            assert need.perm == "manage_node", (method, path, need)
        if path == "/api/metrics":
            assert need.perm == "read_metrics"
        if method not in ("GET", "HEAD") and (method, path) not in read_only_writes:
            assert need.perm not in reads, (method, path, need)
            assert need.perm not in ROLE_PERMS["Guest"], (method, path, need)
    assert {r for r in ROLE_PERMS if "manage_node" in ROLE_PERMS[r]} == {"Admin", "Developer"}
    assert {r for r in ROLE_PERMS if "read_metrics" in ROLE_PERMS[r]} == {"Admin"}
    assert ROLE_PERMS["Guest"] == frozenset(reads)


def test_dtl_test_hops_follow_the_dataset_acl(tmp_path):
    """/dtl/test needs only read_data, but its hops read the node's datasets: a dataset whose
    writer pipe's ACL denies the caller read_data stays closed there too."""
    import json
    import shutil

    from runtime.service.auth import local_key, mint
    from runtime.service.server import Background
    conf = tmp_path / "conf"
    shutil.copytree(HUBCONF, conf)
    p = conf / "pipes" / "people.conf.json"
    cfg = json.loads(p.read_text())
    cfg["permissions"] = [["deny", ["group:Developer"], ["read_data"]]]
    p.write_text(json.dumps(cfg))
    data = tmp_path / "data"
    hop = {"transform": {"default": [["copy", "*"], ["add", "names", ["hops", {
        "datasets": ["people p"], "where": [["eq", "_S.ref", "p._id"]],
        "return": "p.name"}]]]}, "entities": [{"_id": "x", "ref": "1"}]}
    with Background(build(data, conf, fsync=False)) as bg:
        def client(role):
            return httpx.Client(base_url=bg.url, timeout=60, headers={
                "Authorization": f"Bearer {mint(local_key(data), role)}"})
        with client("Admin") as a, client("Developer") as d:
            r = a.post("/pipes/people/pump", data={"operation": "run-to-stable"})
            assert r.status_code == 200, r.text
            r = a.post("/dtl/test", json=hop)
            assert r.status_code == 200, r.text
            assert r.json()["results"][0][0]["names"] == ["Ann"], r.text
            assert d.get("/datasets/people/entities").status_code == 403
            r = d.post("/dtl/test", json=hop)
            assert r.status_code == 403, r.text
            assert "Ann" not in r.text
            # datasets given in the body are the caller's own: no ACL to pass
            r = d.post("/dtl/test", json={**hop, "datasets": {"people": [
                {"_id": "1", "name": "Own"}]}})
            assert r.status_code == 200 and "Own" in r.text, r.text
