"""A real `dtl serve` process on 127.0.0.1 (free port) for tests that need the whole node:
its scheduler, its signal handling, a browser."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from runtime.service.server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DTL = os.path.join(os.path.dirname(sys.executable), "dtl")


class Served:
    def __init__(self, config_dir, data_dir, *args, port=None, log=None):
        self.config_dir, self.data_dir = str(config_dir), str(data_dir)
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/api"
        self.args = list(args)
        self.log = log
        self.proc = None

    def start(self, timeout=60):
        cmd = [DTL, "serve", self.config_dir, "--data", self.data_dir, "--port", str(self.port),
               *self.args]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=out,
                                     env=dict(os.environ, PYTHONPATH=ROOT))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dtl serve exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("dtl serve did not come up")

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kw)

    def terminate(self, timeout=60) -> int:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()


def wait_for(pred, timeout=30, step=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
