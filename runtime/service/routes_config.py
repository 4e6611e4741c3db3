"""Configuration: the whole config (bootstrap), pipes and systems one by one, config history.
Uploads are validated by `runtime.config` exactly as `dtl config validate` does; an upload with
errors is refused whole (400 with `validation_errors`) unless `force=true`."""

from __future__ import annotations


from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from runtime.service import configstore
from runtime.service.bodies import json_body, text_body
from runtime.service.common import (AUTH, caller, check, errors, flag, json_response, node,
                                    pipe_for, readable, system_for)
from runtime.service.node import NodeError
from runtime.service.views import pipe_view, system_view

router = APIRouter(prefix="/api", tags=["config"])

UPLOAD_RESULT = {"type": "object", "properties": {"validation_errors": {"type": "array"}}}
CONFIG_BODY = {"required": True, "content": {
    "application/json": {"schema": {"oneOf": [{"type": "array", "items": {"type": "object"}},
                                              {"type": "object"}]}},
    "application/zip": {"schema": {"type": "string", "format": "binary"}}}}
ENTITY_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
LIST_BODY = {"required": True, "content": {"application/json": {
    "schema": {"type": "array", "items": {"type": "object"}}}}}


@router.get("/config", responses={**AUTH, 200: {"content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    "application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
def get_config(request: Request, _=Depends(caller)):
    """The deployed configuration as a JSON array, or a zip in repository layout."""
    entities = node(request).configs.entities()
    if "application/zip" in (request.headers.get("accept") or ""):
        return Response(configstore.to_zip(entities), media_type="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="config.zip"'})
    return json_response(entities)


@router.put("/config", responses={**AUTH, **errors(400),
                                  200: {"content": {"application/json": {"schema": UPLOAD_RESULT}}}},
            openapi_extra={"requestBody": CONFIG_BODY})
async def put_config(request: Request, force: str | None = None, _=Depends(caller)):
    """Replace the whole configuration: a JSON array, or a zip (raw `application/zip`, or a
    multipart field `file`). Removed pipes stop; their datasets stay."""
    n = node(request)
    f = flag(force, False)
    ctype = (request.headers.get("content-type") or "").lower()
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        up = form.get("file")
        if up is None or isinstance(up, str):
            raise NodeError(400, "bad-body", "expected a multipart field 'file' with a zip")
        errs = await run_in_threadpool(n.upload_zip, await up.read(), force=f)
    elif "zip" in ctype:
        errs = await run_in_threadpool(n.upload_zip, await request.body(), force=f)
    else:
        errs = await run_in_threadpool(n.upload_text, await text_body(request), force=f)
    return {"validation_errors": errs}


@router.get("/config-history/entity", responses={**AUTH, **errors(400)})
def config_history(request: Request, entity_id: str, _=Depends(caller)):
    """Every stored version of one configuration entity, oldest first."""
    out = []
    for v in node(request).configs.history(entity_id):
        v = {k: x for k, x in v.items() if k not in ("_hash", "_ts")}
        out.append(v)
    return json_response(out)


# -- pipes ------------------------------------------------------------------------------------
@router.post("/pipes", responses={**AUTH, **errors(400)}, openapi_extra={"requestBody": LIST_BODY})
async def add_pipes(request: Request, force: str | None = None, user=Depends(caller)):
    """Add (or replace) pipes: `[PipeConfig]` → `[Pipe]`."""
    return await _add(request, force, "pipe", user)


def _files_ok(user) -> bool:
    """Whether `user` may configure what touches the node's files (confine.file_uses)."""
    from runtime.service.auth import allowed
    return allowed(user, "manage_node")


async def _add(request, force, kind, user):
    n = node(request)
    body = await json_body(request)
    body = body if isinstance(body, list) else [body]
    if any(not isinstance(e, dict) or configstore.kind(e) != kind for e in body):
        raise NodeError(400, "wrong-type", f"expected a list of {kind} configurations")
    have = n.config.pipes if kind == "pipe" else n.config.systems
    for e in body:      # replacing one is writing its configuration (ACL, owner)
        if isinstance(e.get("_id"), str) and e["_id"] in have:
            check(n, user, "write_config", have[e["_id"]])
    await run_in_threadpool(lambda: n.put_entities(body, force=flag(force, False),
                                                   files_ok=_files_ok(user),
                                                   owner=user.owner_id))
    view = pipe_view if kind == "pipe" else system_view
    get = n.pipe if kind == "pipe" else n.system
    return json_response([view(n, get(e["_id"])) for e in body])


@router.get("/pipes/{pipe_id}/config", responses={**AUTH, **errors(404)})
def get_pipe_config(request: Request, pipe_id: str, user=Depends(caller)):
    n, p = pipe_for(request, user, "read_config", pipe_id)
    return json_response(n.configs.get(pipe_id) or {})


@router.put("/pipes/{pipe_id}/config", responses={**AUTH, **errors(400, 404)},
            openapi_extra={"requestBody": ENTITY_BODY})
async def put_pipe_config(request: Request, pipe_id: str, force: str | None = None,
                          user=Depends(caller)):
    return await _put_one(request, pipe_id, force, user, "pipe")


async def _put_one(request, ident, force, user, kind):
    n = node(request)
    existing = (n.config.pipes if kind == "pipe" else n.config.systems).get(ident)
    check(n, user, "write_config", existing)
    text = await text_body(request)
    await run_in_threadpool(lambda: n.put_entity(text, ident, kind, force=flag(force, False),
                                                 files_ok=_files_ok(user),
                                                 owner=user.owner_id))
    if kind == "pipe":
        return json_response(pipe_view(n, n.pipe(ident)))
    return json_response(system_view(n, n.system(ident)))


@router.delete("/pipes/{pipe_id}", responses={**AUTH, **errors(404)})
def delete_pipe(request: Request, pipe_id: str, user=Depends(caller)):
    n, _ = pipe_for(request, user, "write_config", pipe_id)
    n.delete_entity(pipe_id, "pipe")
    return {"_id": pipe_id, "deleted": True}


# -- systems ----------------------------------------------------------------------------------
@router.get("/systems", responses=AUTH)
def list_systems(request: Request, verbose: str | None = None, user=Depends(caller)):
    n = node(request)
    return readable(n, user, n.config.systems.values(), system_view, flag(verbose, False))


@router.post("/systems", responses={**AUTH, **errors(400)},
             openapi_extra={"requestBody": LIST_BODY})
async def add_systems(request: Request, force: str | None = None,
                      user=Depends(caller)):
    return await _add(request, force, "system", user)


@router.get("/systems/{system_id}", responses={**AUTH, **errors(404)})
def get_system(request: Request, system_id: str, user=Depends(caller)):
    n, s = system_for(request, user, "read_config", system_id)
    return json_response(system_view(n, s))


@router.delete("/systems/{system_id}", responses={**AUTH, **errors(404)})
def delete_system(request: Request, system_id: str, user=Depends(caller)):
    n, _ = system_for(request, user, "write_config", system_id)
    n.delete_entity(system_id, "system")
    return {"_id": system_id, "deleted": True}


@router.get("/systems/{system_id}/config", responses={**AUTH, **errors(404)})
def get_system_config(request: Request, system_id: str, user=Depends(caller)):
    n, _ = system_for(request, user, "read_config", system_id)
    return json_response(n.configs.get(system_id) or {})


@router.put("/systems/{system_id}/config", responses={**AUTH, **errors(400, 404)},
            openapi_extra={"requestBody": ENTITY_BODY})
async def put_system_config(request: Request, system_id: str, force: str | None = None,
                            user=Depends(caller)):
    return await _put_one(request, system_id, force, user, "system")
