"""Publishers (`http_endpoint` / `csv_endpoint` sinks, computed on demand) and receivers
(`http_endpoint` sources, one atomic commit per request). A pipe's `permissions` ACL may open
them to `group:Anonymous` for webhooks and public feeds."""

from __future__ import annotations


from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from runtime.service.bodies import json_body, text_body
from runtime.service.common import (ENTITY_OR_ARRAY, caller, check, errors, node, stream_array,
                                    wants_ndjson)
from runtime.service.auth import AuthError
from runtime.service.node import NodeError

router = APIRouter(prefix="/api", tags=["endpoints"])
RESERVED = ("since", "limit")
ARRAY = {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
         "application/x-ndjson": {"schema": {"type": "string"}}}


def _pipe(n, pipe_id, user):
    """An anonymous caller learns nothing, not even whether the pipe exists."""
    p = n.config.pipes.get(pipe_id)
    if p is None and user.anonymous:
        raise AuthError(401, "unauthorized", "this call needs a bearer token")
    return n.pipe(pipe_id)


def _publisher(request, pipe_id, sink_type, user):
    n = node(request)
    p = _pipe(n, pipe_id, user)
    check(n, user, "read_data", p)
    if p.sink is None or p.sink.type != sink_type:
        raise NodeError(404, "not-a-publisher",
                        f"pipe {pipe_id!r} has no {sink_type} sink")
    q = request.query_params
    since = q.get("since")
    if since is not None and since.lstrip("-").isdigit():
        since = int(since)
    limit = q.get("limit")
    if limit is not None:
        if not limit.isdigit():
            raise NodeError(400, "bad-parameter", "limit must be a non-negative integer")
        limit = int(limit)
    # every other URL parameter is DTL's `_B` (json-pull.rst); repeated ones become lists
    bindings = {}
    for k in q.keys():
        if k not in RESERVED:
            vals = q.getlist(k)
            bindings[k] = vals[0] if len(vals) == 1 else vals
    return n, p, since, limit, bindings


def _limited(it, limit):
    if limit is None:
        yield from it
        return
    for i, e in enumerate(it):
        if i >= limit:
            return
        yield e


@router.get("/publishers/{pipe_id}/entities", responses={
    200: {"content": ARRAY}, **errors(400, 401, 403, 404)})
def publish_entities(request: Request, pipe_id: str, since: str | None = None,
                     limit: int | None = None, user=Depends(caller)):
    """JSON pull: the pipe's transformed entities after `since`, each with `_updated` to
    continue from; other URL parameters are visible to DTL as `_B`."""
    from runtime.sinks.endpoint import compute
    n, p, since_v, lim, bindings = _publisher(request, pipe_id, "http_endpoint", user)
    hub = n.hub
    it = compute(hub, p, since=since_v, bindings=bindings or None, keep_updated=True)
    return stream_array(_limited(it, lim), close=it.close, ndjson=wants_ndjson(request))


@router.get("/publishers/{pipe_id}/entities/{filename}", responses={
    200: {"content": ARRAY}, **errors(400, 401, 403, 404)})
def publish_entities_file(request: Request, pipe_id: str, filename: str,
                          since: str | None = None, limit: int | None = None,
                          user=Depends(caller)):
    resp = publish_entities(request, pipe_id, since, limit, user)
    resp.headers["Content-Disposition"] = f'attachment; filename="{_safe(filename)}"'
    return resp


@router.get("/publishers/{pipe_id}/csv", responses={
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    **errors(400, 401, 403, 404)})
def publish_csv(request: Request, pipe_id: str, since: str | None = None,
                limit: int | None = None, user=Depends(caller), filename: str | None = None):
    """The `csv_endpoint` sink's CSV (header and `columns` as configured)."""
    from runtime.sinks.endpoint import csv_text
    n, p, since_v, lim, bindings = _publisher(request, pipe_id, "csv_endpoint", user)
    if lim is not None:
        raise NodeError(400, "bad-parameter", "limit is not supported for CSV")
    text = csv_text(n.hub, p, since=since_v, bindings=bindings or None)
    name = filename or p.sink.get("filename") or f"{pipe_id}.csv"
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_safe(name)}"'})


@router.get("/publishers/{pipe_id}/csv/{filename}", responses={
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
    **errors(400, 401, 403, 404)})
def publish_csv_file(request: Request, pipe_id: str, filename: str, since: str | None = None,
                     user=Depends(caller)):
    return publish_csv(request, pipe_id, since, None, user, filename)


def _safe(name: str) -> str:
    return "".join(c for c in str(name) if c.isprintable() and c not in '"\\/') or "data"


@router.post("/receivers/{pipe_id}/entities", responses={
    200: {"content": {"application/json": {"schema": {"type": "object"}}}},
    **errors(400, 401, 403, 404)},
    openapi_extra={"requestBody": {"required": True, "content": ENTITY_OR_ARRAY}})
async def receive(request: Request, pipe_id: str, user=Depends(caller)):
    """JSON push: an entity or an array, transformed by the pipe and stored in one commit
    (all or nothing)."""
    n = node(request)
    p = _pipe(n, pipe_id, user)
    check(n, user, "write_data", p)
    if p.source is None or p.source.type != "http_endpoint":
        raise NodeError(404, "not-a-receiver", f"pipe {pipe_id!r} has no http_endpoint source")
    body = await json_body(request)
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list) or not all(isinstance(e, dict) for e in body):
        raise NodeError(400, "bad-body", "expected an entity or a list of entities")
    await run_in_threadpool(n.post, pipe_id, body)
    return {}
