"""A real uvicorn server on 127.0.0.1 (free port, background thread) per test module, over a
fresh data directory deployed from tests/service/hubconf."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from runtime.service.auth import local_key, mint
from runtime.service.server import Background, build

HUBCONF = Path(__file__).parent / "hubconf"
SECRET = "s3cr3t-value-never-shown"


class Server:
    def __init__(self, bg, data):
        self.bg, self.data, self.url = bg, data, bg.url

    def token(self, role="Admin", **kw):
        return mint(local_key(self.data), role, **kw)

    def client(self, role="Admin", **kw) -> httpx.Client:
        h = {"Authorization": f"Bearer {self.token(role, **kw)}"} if role else {}
        return httpx.Client(base_url=self.url, headers=h, timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("svc-data")
    app = build(data, HUBCONF, fsync=False)
    with Background(app) as bg:
        yield Server(bg, data)


@pytest.fixture(scope="module")
def admin(server):
    with server.client("Admin") as c:
        yield c
