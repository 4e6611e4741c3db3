"""What every route module shares: the node and caller, permission checks, error answers
documented in the OpenAPI document, JSON array streaming, boolean query parameters."""

from __future__ import annotations

import json

from fastapi import Depends, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dtl import transit
from runtime.service.auth import Principal, allowed, require
from runtime.service.node import NodeError

_bearer = HTTPBearer(auto_error=False, description="JWT from `dtl token create`")

ERROR_SCHEMA = {"type": "object", "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                               "details": {}}}


def errors(*codes) -> dict:
    """OpenAPI `responses` for the error statuses a route can answer."""
    text = {400: "Bad input or invalid configuration", 401: "No token, or a bad one",
            403: "The token's principals lack the permission", 404: "Unknown id",
            409: "Conflict (pump running)", 503: "Unhealthy"}
    return {c: {"description": text[c], "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            for c in codes}


AUTH = errors(401, 403)


def node(request: Request):
    return request.app.state.node


def caller(request: Request,
           _cred: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    # the header is re-read so that a malformed scheme is a 401, not silently anonymous
    return request.app.state.verifier.principal(request.headers.get("authorization"))


def guard(request: Request) -> None:
    """The dependency of every API router: the route's entry in `roles.TABLE` (a route
    without one is refused), checked before the route runs; public entries read no token."""
    from runtime.service.auth import AuthError
    from runtime.service.roles import authorize, need_of
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    entry = need_of(request.method, path) if path is not None else None
    if entry is None:
        raise AuthError(403, "forbidden", "this route has no permission entry")
    if entry.perm is None:
        return
    user = request.app.state.verifier.principal(request.headers.get("authorization"))
    authorize(request.app.state.node, user, entry, request.path_params)


def acl_of(entity_config) -> list:
    acl = entity_config.get("permissions") if entity_config is not None else None
    return list(acl) if isinstance(acl, list | tuple) else []


def check(n, user: Principal, perm: str, entity) -> None:
    """`perm` on a pipe or system (None: one not created yet), honouring its `permissions`
    ACL and its owner (roles.permit)."""
    from runtime.config.model import System
    from runtime.service.roles import permit
    if entity is None:
        require(user, perm, None, owns=True)   # whoever creates it owns it
        return
    permit(n, user, perm, "system" if isinstance(entity, System) else "pipe", entity.id, entity)


def pipe_for(request: Request, user: Principal, perm: str, pipe_id: str):
    """The node and its pipe, once `user` has `perm` on it: a 404 for no such pipe comes
    before the 403, as on every pipe route."""
    n = node(request)
    p = n.pipe(pipe_id)
    check(n, user, perm, p)
    return n, p


def system_for(request: Request, user: Principal, perm: str, system_id: str):
    """The node and its system, as `pipe_for`."""
    n = node(request)
    s = n.system(system_id)
    check(n, user, perm, s)
    return n, s


def readable(n, user: Principal, entities, view, verbose: bool):
    """The views of those pipes or systems whose permissions let `user` read their
    configuration: the listing routes."""
    return json_response([view(n, e, verbose) for e in entities
                          if allowed(user, "read_config", acl_of(e.original))])


def flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise NodeError(400, "bad-parameter", f"expected true or false, got {value!r}")


def json_response(value, status=200, headers=None) -> Response:
    return Response(json.dumps(value, default=str), status_code=status,
                    media_type="application/json", headers=headers)


def entity_json(value, status=200) -> Response:
    return Response(transit.dumps(value), status_code=status, media_type="application/json")


def stream_array(entities, close=None, headers=None, ndjson=False) -> StreamingResponse:
    """Entities as one JSON array (or NDJSON lines), written in chunks as they are read."""
    def gen():
        try:
            first = True
            buf = [] if ndjson else ["["]
            for e in entities:
                s = transit.dumps(e)
                if ndjson:
                    buf.append(s + "\n")
                else:
                    buf.append(s if first else "," + s)
                first = False
                if len(buf) >= 256:
                    yield "".join(buf).encode()
                    buf = []
            if not ndjson:
                buf.append("]")
            if buf:
                yield "".join(buf).encode()
        finally:
            if close is not None:
                close()
    return StreamingResponse(gen(), media_type="application/x-ndjson" if ndjson else
                             "application/json", headers=headers)


def wants_ndjson(request: Request) -> bool:
    return "application/x-ndjson" in (request.headers.get("accept") or "")


ARRAY_OF_ENTITIES = {"application/json": {"schema": {"type": "array",
                                                     "items": {"type": "object"}}}}
ENTITY_OR_ARRAY = {"application/json": {"schema": {"oneOf": [
    {"type": "object"}, {"type": "array", "items": {"type": "object"}}]}}}
