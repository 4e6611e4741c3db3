"""`system:url`: an HTTP client (httpx) with the system's authentication, headers, timeouts
and retry strategy, or local files for `file:` urls (ours, for offline csv/json).

Secrets are revealed only when a request is built; nothing here formats a credential into
a message."""

from __future__ import annotations

import io
import time
from contextlib import contextmanager

from runtime.config.secret import reveal

RETRY_STATUS = (408, 425, 429, 500, 502, 503, 504)


class HttpError(Exception):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def retryable(ex) -> bool:
    import httpx
    if isinstance(ex, HttpError):
        return ex.status is None or ex.status in RETRY_STATUS
    return isinstance(ex, (httpx.TransportError, OSError))


def backoff(base, attempt, cap=60.0):
    """Exponential backoff: base, 2*base, 4*base ... capped (base 0 still waits a little,
    so a struggling server is not hammered)."""
    return min(cap, max(float(base or 0), 0.05) * (2 ** attempt))


class UrlSystem:
    def __init__(self, system_id, config, roots):
        self.id = system_id
        self.cfg = config
        self.roots = roots
        self.pattern = str(reveal(config.get("url_pattern") or config.get("base_url") or ""))
        self._client = None
        self._strategy = _parse_strategy(config.get("retry_strategy") or {})

    # -- urls -------------------------------------------------------------------------------
    def url(self, rel) -> str:
        return self.join(self.pattern, str(reveal(rel or "")))

    @staticmethod
    def join(pattern: str, rel: str) -> str:
        """A source's or sink's `url` against the system's `url_pattern` / `base_url`."""
        if "://" in rel or rel.startswith("file:"):
            return rel
        if "%s" in pattern:
            return pattern.replace("%s", rel)
        return pattern + rel

    def local_path(self, url):
        """The real path of a `file:` url inside the allowed roots (relative paths against
        the configuration folder), None for other urls; confine.Refused when outside."""
        from runtime.confine import file_url_path
        path = file_url_path(url)
        if path is None:
            return None
        return self.roots.resolve(path, f"system {self.id!r}: file url")

    # -- the client ------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            import httpx
            c = self.cfg
            headers = {str(k): str(reveal(v)) for k, v in (c.get("headers") or {}).items()}
            auth = None
            kind = c.get("authentication")
            user, pw = reveal(c.get("username")), reveal(c.get("password"))
            if kind == "basic" or (kind is None and user is not None and pw is not None):
                auth = httpx.BasicAuth(str(user or ""), str(pw or ""))
            elif kind == "digest":
                auth = httpx.DigestAuth(str(user or ""), str(pw or ""))
            elif kind == "jwt" or (kind is None and c.get("jwt_token")):
                headers["Authorization"] = "Bearer " + str(reveal(c.get("jwt_token")) or "")
            elif kind is not None:
                raise ValueError(f"system {self.id!r}: authentication {kind!r} is not "
                                 "supported offline (use basic, digest or jwt)")
            timeout = httpx.Timeout(float(c.get("read_timeout", 1800)),
                                    connect=float(c.get("connect_timeout", 60)))
            self._client = httpx.Client(auth=auth, headers=headers, timeout=timeout,
                                        verify=bool(c.get("verify_ssl", False)),
                                        follow_redirects=True)
        return self._client

    def retry_settings(self, status, pump) -> dict:
        """Retry properties for a status code: the system's `retry_strategy` entry for it
        (or its `default`), over the pump's own settings."""
        out = {k: pump.get(k) for k in ("max_read_retries", "read_retry_delay",
                                         "write_retry_delay", "batch_retries")}
        for test, props in self._strategy:
            if test(status):
                out.update(props)
                break
        return out

    # -- reading -----------------------------------------------------------------------------
    @contextmanager
    def open(self, url, *, params=None, headers=None, pump=None, on_retry=None):
        """A readable binary stream of `url`. HTTP errors worth retrying (5xx, 429, timeouts,
        refused connections) are retried before any byte is handed out."""
        path = self.local_path(url)
        if path is not None:
            with open(path, "rb") as f:
                yield f
            return
        pump = pump or {}
        attempt = 0
        while True:
            try:
                resp = self._send("GET", url, params=params, headers=headers)
                break
            except Exception as ex:  # noqa: BLE001 - classified just below
                status = getattr(ex, "status", None)
                rs = self.retry_settings(status, pump)
                if not retryable(ex) or attempt >= int(rs.get("max_read_retries") or 0):
                    raise
                delay = backoff(rs.get("read_retry_delay"), attempt)
                if on_retry:
                    on_retry(f"GET {url} failed ({ex}); retry {attempt + 1} in {delay:.2f}s",
                             status)
                time.sleep(delay)
                attempt += 1
        try:
            yield io.BufferedReader(_Body(resp), 1 << 16)
        finally:
            resp.close()

    def _send(self, method, url, **kw):
        import httpx
        req = self.client.build_request(method, url, **{k: v for k, v in kw.items()
                                                        if k != "stream"})
        try:
            resp = self.client.send(req, stream=True)
        except httpx.TimeoutException as ex:
            raise HttpError(f"{method} {url}: timed out ({type(ex).__name__})") from ex
        except httpx.TransportError as ex:
            raise HttpError(f"{method} {url}: {type(ex).__name__}: {ex}") from ex
        if resp.status_code >= 300:
            try:
                body = resp.read()[:300].decode("utf-8", "replace")
            finally:
                resp.close()
            raise HttpError(f"{method} {url}: HTTP {resp.status_code} {body}".rstrip(),
                            resp.status_code)
        return resp

    # -- writing -----------------------------------------------------------------------------
    def post(self, url, body: bytes, *, params=None, headers=None):
        """POST `body`; returns the response text. Raises HttpError on any failure."""
        import httpx
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        resp = self._send("POST", url, params=params, headers=h, content=body)
        try:
            return resp.read().decode("utf-8", "replace")
        except httpx.TransportError as ex:
            raise HttpError(f"POST {url}: {type(ex).__name__}: {ex}") from ex
        finally:
            resp.close()

    def close(self):
        if self._client is not None:
            self._client.close()
            self._client = None


class _Body(io.RawIOBase):
    """A response body as a binary file (read errors surface as HttpError)."""

    def __init__(self, resp):
        self._it = resp.iter_bytes()
        self._buf = b""

    def readable(self):
        return True

    def readinto(self, b):
        import httpx
        while not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
            except httpx.TransportError as ex:
                raise HttpError(f"reading the response: {type(ex).__name__}") from ex
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _parse_strategy(strategy):
    """retry_strategy keys: "429", "500,502,504", "400-428", "default" (checked last)."""
    rules, default = [], None
    for key, props in strategy.items():
        if key == "default":
            default = dict(props)
            continue
        codes = set()
        for part in str(key).split(","):
            lo, _, hi = part.strip().partition("-")
            codes.update(range(int(lo), int(hi or lo) + 1))
        rules.append((lambda st, c=frozenset(codes): st in c, dict(props)))
    if default is not None:
        rules.append((lambda st: True, default))
    return rules
