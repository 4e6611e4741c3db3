"""Starting the service: a Node on a data directory, the app, and uvicorn.

    from runtime.service.server import build, Background
    app = build("/tmp/data", "examples/hub")
    with Background(app, port=0) as srv:      # a real server on 127.0.0.1
        srv.url                                # http://127.0.0.1:<port>/api
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import uvicorn

from runtime.service.app import create_app
from runtime.service.auth import Verifier, local_key
from runtime.service.node import Node


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build(data_dir, config_dir=None, *, profile=None, auth=True, host="127.0.0.1",
          rs256_public_key=None, keep_going=False, fsync=True, scheduler=False,
          max_body=None, allow_paths=()):
    """The app for a node on `data_dir`. `scheduler`: pipes run on their schedules while the
    app is served (`dtl serve` turns it on; embedded uses and tests drive pumps themselves)."""
    if not auth and not is_loopback(host):
        raise ValueError("authentication may be turned off only on a loopback address")
    node = Node(data_dir, config_dir, profile=profile, keep_going=keep_going, fsync=fsync,
                scheduler=scheduler, allow_paths=allow_paths)
    verifier = Verifier(local_key(data_dir), rs256_public_key, enabled=auth)
    return create_app(node, verifier, max_body=max_body)


def serve(app, host="127.0.0.1", port=9042, *, ssl_certfile=None, ssl_keyfile=None,
          log_level="info"):
    config = uvicorn.Config(app, host=host, port=port, ssl_certfile=ssl_certfile,
                            ssl_keyfile=ssl_keyfile, log_level=log_level, access_log=False)
    try:
        uvicorn.Server(config).run()
    finally:
        app.state.node.close()


def free_port(host="127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Background:
    """A real uvicorn server in a thread (tests and benchmarks); loopback only."""

    def __init__(self, app, host="127.0.0.1", port=0, **kw):
        if not is_loopback(host):
            raise ValueError("background servers bind loopback addresses only")
        self.app, self.host = app, host
        self.port = port or free_port(host)
        self.config = uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                     access_log=False, **kw)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.config.ssl_certfile else "http"
        return f"{scheme}://{self.host}:{self.port}/api"

    def __enter__(self):
        self.thread.start()
        import time
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.app.state.node.close()
