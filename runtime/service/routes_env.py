"""Environment variables and secrets (global and per system). Secret values are write-only:
every answer lists names. A change re-loads the configuration, so `$ENV(...)`/`$SECRET(...)`
take the new values."""

from __future__ import annotations


from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from runtime.service.bodies import json_body, text_body
from runtime.service.common import AUTH, caller, errors, json_response, node, system_for
from runtime.service.node import NodeError

router = APIRouter(prefix="/api", tags=["env"])
OBJECT_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
NAMES = {200: {"content": {"application/json": {"schema": {"type": "array",
                                                            "items": {"type": "string"}}}}}}


async def _object(request, strings=False) -> dict:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise NodeError(400, "bad-body", "expected a JSON object")
    if strings and not all(isinstance(v, str) for v in body.values()):
        raise NodeError(400, "bad-body", "secret values must be strings")
    if strings and any("/" in k or not k for k in body):
        raise NodeError(400, "bad-body", "secret names must be non-empty and without '/'")
    return body


def _deleted(n, found: bool, what: str) -> None:
    """After a delete from the env or secrets store: a 404 when `what` was not there, else the
    node reloads to see the change."""
    if not found:
        raise NodeError(404, "not-found", f"no {what}")
    n.reload()


# -- environment ----------------------------------------------------------------------------
@router.get("/env", responses=AUTH)
def get_env(request: Request, _=Depends(caller)):
    return json_response(node(request).env.get())


async def _set_env(request, replace):
    n = node(request)
    body = await _object(request)
    await run_in_threadpool(lambda: (n.env.put(body) if replace else n.env.merge(body),
                                     n.reload()))
    return json_response(n.env.get())


@router.put("/env", responses={**AUTH, **errors(400)}, openapi_extra={"requestBody": OBJECT_BODY})
async def put_env(request: Request, _=Depends(caller)):
    """Replace every variable (ours: as the Sesam client expects on upload)."""
    return await _set_env(request, True)


@router.post("/env", responses={**AUTH, **errors(400)}, openapi_extra={"requestBody": OBJECT_BODY})
async def post_env(request: Request, _=Depends(caller)):
    return await _set_env(request, False)


@router.patch("/env", responses={**AUTH, **errors(400)},
              openapi_extra={"requestBody": OBJECT_BODY})
async def patch_env(request: Request, _=Depends(caller)):
    return await _set_env(request, False)


@router.delete("/env/{env_var}", responses={**AUTH, **errors(404)})
def delete_env(request: Request, env_var: str, _=Depends(caller)):
    n = node(request)
    _deleted(n, n.env.delete(env_var), f"environment variable {env_var!r}")
    return json_response(n.env.get())


# -- secrets ------------------------------------------------------------------------------------
@router.get("/secrets", responses={**AUTH, **NAMES})
def get_secrets(request: Request, _=Depends(caller)):
    return json_response(node(request).secrets.names())


async def _set_secrets(request, replace, system=None):
    n = node(request)
    body = await _object(request, strings=True)
    names = await run_in_threadpool(lambda: n.secrets.put(body, system, replace))
    await run_in_threadpool(n.reload)
    return json_response(names)


@router.put("/secrets", responses={**AUTH, **errors(400), **NAMES},
            openapi_extra={"requestBody": OBJECT_BODY})
async def put_secrets(request: Request, _=Depends(caller)):
    return await _set_secrets(request, True)


@router.post("/secrets", responses={**AUTH, **errors(400), **NAMES},
             openapi_extra={"requestBody": OBJECT_BODY})
async def post_secrets(request: Request, _=Depends(caller)):
    return await _set_secrets(request, False)


@router.delete("/secrets/{secret_key}", responses={**AUTH, **errors(404), **NAMES})
def delete_secret(request: Request, secret_key: str, _=Depends(caller)):
    n = node(request)
    _deleted(n, n.secrets.delete(secret_key), f"secret {secret_key!r}")
    return json_response(n.secrets.names())


@router.get("/systems/{system_id}/secrets", responses={**AUTH, **errors(404), **NAMES})
def get_system_secrets(request: Request, system_id: str, user=Depends(caller)):
    n, _ = system_for(request, user, "write_config", system_id)
    return json_response(n.secrets.names(system_id))


async def _system_secrets(request, system_id, user, replace):
    n, _ = system_for(request, user, "write_config", system_id)
    return await _set_secrets(request, replace, system_id)


@router.put("/systems/{system_id}/secrets", responses={**AUTH, **errors(400, 404), **NAMES},
            openapi_extra={"requestBody": OBJECT_BODY})
async def put_system_secrets(request: Request, system_id: str,
                             user=Depends(caller)):
    return await _system_secrets(request, system_id, user, True)


@router.post("/systems/{system_id}/secrets", responses={**AUTH, **errors(400, 404), **NAMES},
             openapi_extra={"requestBody": OBJECT_BODY})
async def post_system_secrets(request: Request, system_id: str,
                              user=Depends(caller)):
    return await _system_secrets(request, system_id, user, False)


@router.delete("/systems/{system_id}/secrets/{secret_key}",
               responses={**AUTH, **errors(404), **NAMES})
def delete_system_secret(request: Request, system_id: str, secret_key: str,
                         user=Depends(caller)):
    n, _ = system_for(request, user, "write_config", system_id)
    _deleted(n, n.secrets.delete(secret_key, system_id), f"secret {secret_key!r} on {system_id!r}")
    return json_response(n.secrets.names(system_id))
