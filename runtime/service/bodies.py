"""Request bodies from outside: bounded in size before they are read (413), parsed as JSON
without recursion and with a nesting bound, and refused with a 400 that says where.

The size bound is an ASGI middleware, so it holds for every route, multipart forms and zips
included; `dtl serve --max-body-size` sets it."""

from __future__ import annotations

from dtl import transit
from runtime.service.node import NodeError

DEFAULT_MAX_BODY = 64 * 1024 * 1024


def parse_size(text: str) -> int:
    """`64MB`, `512k`, `1GiB`, `1000` (bytes) -> bytes."""
    t = str(text).strip().lower().replace(" ", "")
    for suffix, mult in (("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10), ("gb", 1 << 30),
                         ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1 << 30), ("m", 1 << 20),
                         ("k", 1 << 10), ("b", 1)):
        if t.endswith(suffix):
            t, m = t[:-len(suffix)], mult
            break
    else:
        m = 1
    try:
        n = int(float(t) * m)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (e.g. 64MB, 512k)") from None
    if n <= 0:
        raise ValueError(f"a size must be positive: {text!r}")
    return n


def too_large(limit: int) -> NodeError:
    return NodeError(413, "body-too-large",
                     f"the request body is larger than {limit} bytes (dtl serve --max-body-size)")


class BodyLimit:
    """Refuses bodies over `limit` bytes: at once when Content-Length says so, else as soon as
    the streamed bytes pass it (the route then answers 413 and has stored nothing)."""

    def __init__(self, app, limit: int = DEFAULT_MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers") or ():
            if k == b"content-length":
                try:
                    n = int(v)
                except ValueError:
                    n = -1
                if n < 0 or n > self.limit:
                    return await _answer(send, 413 if n > self.limit else 400,
                                         too_large(self.limit) if n > self.limit else
                                         NodeError(400, "bad-header", "invalid Content-Length"))
        seen = 0
        limit = self.limit

        async def bounded():
            nonlocal seen
            msg = await receive()
            if msg.get("type") == "http.request":
                seen += len(msg.get("body") or b"")
                if seen > limit:
                    raise too_large(limit)
            return msg
        return await self.app(scope, bounded, send)


async def _answer(send, status, err: NodeError):
    import json
    body = json.dumps({"error": err.code, "message": err.message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def parse(raw: bytes, what: str = "the body"):
    """Plain JSON of a request body; 400 naming line and column, or the JSON pointer of the
    first container nested too deep."""
    try:
        return transit.parse_json(raw)
    except transit.DepthError as e:
        raise NodeError(400, "too-deep", f"{what}: {e}",
                        {"pointer": transit.pointer(e.path), "max_depth": e.limit}) from None
    except ValueError as e:
        line, col = getattr(e, "lineno", None), getattr(e, "colno", None)
        msg = getattr(e, "msg", None) or str(e)
        where = f" at line {line}, column {col}" if line is not None else ""
        raise NodeError(400, "bad-body", f"{what} is not JSON{where}: {msg}",
                        {"line": line, "column": col} if line is not None else None) from None


async def json_body(request, what: str = "the body"):
    return parse(await request.body(), what)


async def text_body(request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NodeError(400, "bad-body", f"the body is not UTF-8 text (byte {e.start})",
                        {"offset": e.start}) from None
