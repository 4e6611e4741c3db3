"""Fixtures for connector tests: real SQLite, PostgreSQL (127.0.0.1:5432, trust, database
`test`), MariaDB (127.0.0.1:3306, root, database `test`) and real HTTP servers on 127.0.0.1.
A server that cannot be reached skips its tests, or fails them when CI is set."""

from __future__ import annotations

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

SERVERS = {
    "postgresql": {"type": "system:postgresql", "host": "127.0.0.1", "port": 5432,
                   "username": "postgres", "password": "$SECRET(db-password)",
                   "database": "test"},
    "mysql": {"type": "system:mysql", "host": "127.0.0.1", "port": 3306, "username": "root",
              "password": "$SECRET(db-password)", "database": "test"},
}
URLS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "mysql": "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"}


def unreachable(what, ex):
    msg = f"{what} is not reachable: {type(ex).__name__}: {str(ex).splitlines()[0][:200]}"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


class Db:
    """A database for one test: `system` config for the hub, `engine` for setup/checks."""

    def __init__(self, kind, engine, system):
        self.kind, self.engine, self.system = kind, engine, system
        self.tables = []

    def table(self, stem="t"):
        name = f"{stem}_{uuid.uuid4().hex[:10]}"
        self.tables.append(name)
        return name

    def q(self, name):
        return self.engine.dialect.identifier_preparer.quote(name)

    def run(self, *stmts):
        with self.engine.begin() as c:
            for s in stmts:
                c.exec_driver_sql(s) if isinstance(s, str) else c.exec_driver_sql(*s)

    def rows(self, sql):
        with self.engine.connect() as c:
            return [tuple(r) for r in c.exec_driver_sql(sql).all()]

    def drop_all(self):
        with self.engine.begin() as c:
            for t in self.tables:
                c.exec_driver_sql(f"DROP TABLE IF EXISTS {self.q(t)}")


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db(request, tmp_path):
    yield from _db(request.param, tmp_path)


@pytest.fixture
def pg(tmp_path):
    yield from _db("postgresql", tmp_path)


@pytest.fixture
def maria(tmp_path):
    yield from _db("mysql", tmp_path)


@pytest.fixture
def sqlite_db(tmp_path):
    yield from _db("sqlite", tmp_path)


def _db(kind, tmp_path):
    import sqlite3

    from sqlalchemy import create_engine
    if kind == "sqlite":
        path = str(tmp_path / "test.sqlite")
        eng = create_engine(f"sqlite:///{path}",
                            connect_args={"detect_types": sqlite3.PARSE_DECLTYPES})
        d = Db(kind, eng, {"type": "system:sqlite", "database": path})
    else:
        eng = create_engine(URLS[kind], pool_pre_ping=True,
                            connect_args={"connect_timeout": 5})
        try:
            with eng.connect() as c:
                c.exec_driver_sql("SELECT 1")
        except Exception as ex:  # noqa: BLE001
            eng.dispose()
            unreachable(kind, ex)
        d = Db(kind, eng, dict(SERVERS[kind]))
    try:
        yield d
    finally:
        d.drop_all()
        eng.dispose()


# -- configurations ------------------------------------------------------------------------
def write_config(root, systems=(), pipes=(), secrets=None):
    """A Sesam repository layout under `root`; returns the path."""
    (root / "systems").mkdir(parents=True, exist_ok=True)
    (root / "pipes").mkdir(parents=True, exist_ok=True)
    (root / "node-metadata.conf.json").write_text(json.dumps({"_id": "node",
                                                              "type": "metadata"}))
    (root / "systems" / "all.conf.json").write_text(json.dumps(list(systems)))
    (root / "pipes" / "all.conf.json").write_text(json.dumps(list(pipes)))
    (root / "test-secrets.json").write_text(json.dumps(secrets or {"db-password": ""}))
    return root


def hub_for(tmp_path, systems=(), pipes=(), **kw):
    from runtime.config import load_config
    from runtime.hub import Hub
    from runtime.confine import Roots
    root = write_config(tmp_path / "conf", systems, pipes)
    cfg = load_config(root)
    # the tests keep their files beside the configuration: tmp_path is allowed (--allow-path)
    kw.setdefault("roots", Roots.build(cfg.root, tmp_path / "data", extra=[tmp_path]))
    return Hub(cfg, tmp_path / "data", fsync=False, **kw)


def events(hub, pipe, kind):
    return hub.execution_log(pipe, kind)


# -- HTTP ----------------------------------------------------------------------------------
class Server:
    """A real HTTP server on 127.0.0.1. `script` is a list of per-request behaviours used in
    order (then `default`): an int status, ("hang", seconds), or a callable(handler)."""

    def __init__(self):
        self.requests = []          # (method, path, params, body)
        self.accepted = []          # bodies of POSTs answered 200
        self.script = []
        self.routes = {}            # path -> bytes or callable(params) -> bytes
        self.lock = threading.Lock()
        srv = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _reply(self, status, body=b"", ctype="application/json"):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _handle(self, method):
                u = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(u.query).items()}
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with srv.lock:
                    srv.requests.append((method, u.path, params, body,
                                         dict(self.headers.items())))
                    step = srv.script.pop(0) if srv.script else 200
                if isinstance(step, tuple) and step[0] == "hang":
                    import time
                    time.sleep(step[1])
                    return self._reply(503, b"late")
                if isinstance(step, int) and step != 200:
                    return self._reply(step, b'{"error": "scripted"}')
                if method == "POST":
                    with srv.lock:
                        srv.accepted.append((params, json.loads(body)))
                    return self._reply(200, b"{}")
                route = srv.routes.get(u.path)
                if route is None:
                    return self._reply(404, b"no route")
                data = route(params) if callable(route) else route
                self._reply(200, data)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http():
    s = Server()
    try:
        yield s
    finally:
        s.close()
