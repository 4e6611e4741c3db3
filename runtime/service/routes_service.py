"""Health, ping, version, service metadata and Prometheus metrics."""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from runtime.service import configstore
from runtime.service.bodies import parse, text_body
from runtime.service.node import NodeError
from runtime.service.common import AUTH, caller, errors, json_response, node

router = APIRouter(prefix="/api", tags=["service"])


@router.get("/health", responses=errors(503))
def health(request: Request):
    """`{status: ok}` while the node has a configuration loaded and its storage answers."""
    n = node(request)
    try:
        n.store.names()
        ok = n.hub is not None
    except OSError:
        ok = False
    return json_response({"status": "ok" if ok else "failed",
                          "uptime": round(time.time() - n.started, 3)},
                         status=200 if ok else 503)


@router.get("/ping")
def ping():
    return {"status": "ok"}


@router.get("", responses=AUTH)
def info(request: Request, _=Depends(caller)):
    from importlib.metadata import version
    n = node(request)
    return {"status": {"version": version("dtlhub"), "pipes": len(n.config.pipes),
                       "systems": len(n.config.systems), "data": "embedded"}}


@router.get("/metadata", responses=AUTH)
def get_metadata(request: Request, _=Depends(caller)):
    for e in node(request).configs.entities():
        if configstore.kind(e) == "metadata":
            return e
    return {"_id": "node", "type": "metadata"}


@router.put("/metadata", responses={**AUTH, **errors(400)}, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}})
async def put_metadata(request: Request, force: str | None = None,
                       _=Depends(caller)):
    from starlette.concurrency import run_in_threadpool

    from runtime.service.common import flag
    text = await text_body(request)
    n = node(request)
    try:
        body = parse(text.encode())
    except NodeError:
        body = None   # the loader reports where the text is wrong
    if isinstance(body, dict):
        body.setdefault("_id", "node")
        body.setdefault("type", "metadata")
        text = json.dumps(body, indent=2)
    errs = await run_in_threadpool(n.put_entity, text, "node", "metadata",
                                   force=flag(force, False))
    return {"validation_errors": errs}


@router.get("/metrics", response_class=PlainTextResponse, responses=AUTH)
def metrics(request: Request, _=Depends(caller)):
    """Prometheus text exposition: per-pipe counters since the server started."""
    n = node(request)
    out = ["# HELP sesam_health 1 when the node is healthy", "# TYPE sesam_health gauge",
           "sesam_health 1"]
    series = (("sesam_pipe_runs_total", "runs", "pump runs"),
              ("sesam_pipe_failed_runs_total", "failed", "failed pump runs"),
              ("sesam_pipe_changes_total", "changed", "entity versions written by runs"),
              ("sesam_pipe_received_entities_total", "received", "entities received"))
    for name, key, text in series:
        out += [f"# HELP {name} {text}", f"# TYPE {name} counter"]
        for pid in n.config.pipes:
            c = n.counters.get(pid, {})
            out.append(f'{name}{{pipe="{_label(pid)}"}} {c.get(key, 0)}')
    out += ["# HELP sesam_pump_running 1 while the pipe's pump runs",
            "# TYPE sesam_pump_running gauge"]
    for pid in n.config.pipes:
        out.append(f'sesam_pump_running{{pipe="{_label(pid)}"}} {int(n.is_running(pid))}')
    return PlainTextResponse("\n".join(out) + "\n",
                             media_type="text/plain; version=0.0.4; charset=utf-8")


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
