"""Pipes and pumps: list, status, entities at each stage, pump operations, execution log, and
the Sesam client's run-all-pipes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool

from runtime.service.common import (AUTH, caller, check, errors, flag, json_response, node,
                                    pipe_for, readable, stream_array, wants_ndjson)
from runtime.service.node import NodeError
from runtime.service.views import pipe_view, pump_view

router = APIRouter(prefix="/api", tags=["pipes"])
STAGES = ("source", "before-transforms", "after-transforms", "sink")


@router.post("/pipes/run-all-pipes", responses={**AUTH, **errors(400)})
def run_all_pipes(request: Request, extra_zero_runs: int = 1, max_runs: int = 100,
                  max_run_time: float | None = None, delete_input_datasets: str | None = None,
                  check_input_pipes: str | None = None,
                  reset_pipes_and_delete_sink_datasets: str | None = None,
                  output_run_statistics: str | None = None,
                  _=Depends(caller)):
    """Run every pipe until stable (synchronous)."""
    if extra_zero_runs < 0 or max_runs < 1:
        raise NodeError(400, "bad-parameter", "extra_zero_runs >= 0 and max_runs >= 1")
    out = node(request).run_all(
        extra_zero_runs=max(extra_zero_runs, 1), max_runs=max_runs, max_run_time=max_run_time,
        delete_input_datasets=flag(delete_input_datasets, True),
        reset=flag(reset_pipes_and_delete_sink_datasets, True),
        check_input_pipes=flag(check_input_pipes, False))
    if not flag(output_run_statistics, False):
        out.pop("statistics")
    return json_response(out)


@router.get("/pipes/get-pipe-runner-status", responses=AUTH)
def runner_status(request: Request, token: str | None = None, _=Depends(caller)):
    """run-all-pipes runs synchronously here, so no run is ever left in progress."""
    return {"status": "not-running"}


@router.get("/pipes", responses=AUTH)
def list_pipes(request: Request, verbose: str | None = None, user=Depends(caller)):
    n = node(request)
    return readable(n, user, n.config.pipes.values(), pipe_view, flag(verbose, True))


@router.get("/pipes/{pipe_id}", responses={**AUTH, **errors(404)})
def get_pipe(request: Request, pipe_id: str, user=Depends(caller)):
    n, p = pipe_for(request, user, "read_config", pipe_id)
    return json_response(pipe_view(n, p))


@router.get("/pipes/{pipe_id}/entities", responses={**AUTH, **errors(400, 404)})
def pipe_entities(request: Request, pipe_id: str, stage: str | None = None,
                  since: int | None = None, limit: int | None = None,
                  user=Depends(caller)):
    """The pipe's entities at a stage, computed from its source now (the sink is not
    written); `sink` (default) and `after-transforms` are the transform output."""
    from runtime.testing.outputs import HubOutputs
    n, p = pipe_for(request, user, "read_data", pipe_id)
    if stage is not None and stage not in STAGES:
        raise NodeError(400, "bad-parameter", f"stage must be one of {', '.join(STAGES)}")
    if limit is not None and limit < 0:
        raise NodeError(400, "bad-parameter", "limit must be >= 0")
    with n.lock:  # the dataset-sink view recovers datasets, which needs the writer lock
        rows = HubOutputs(n.hub).entities(p.id, stage)
    if since is not None:
        rows = [e for e in rows if isinstance(e.get("_updated"), int) and e["_updated"] > since]
    if limit is not None:
        rows = rows[:limit]
    return json_response(rows)


@router.get("/pipes/{pipe_id}/log", responses={**AUTH, **errors(400, 404)})
def pipe_log(request: Request, pipe_id: str, since: int | None = None, limit: int | None = None,
             history: str | None = None, reverse: str | None = None,
             deleted: str | None = None, user=Depends(caller)):
    """The execution log (`system:pump_execution:<pipe>`): run events and entity errors."""
    n, _ = pipe_for(request, user, "read_data", pipe_id)
    if limit is not None and limit < 0:
        raise NodeError(400, "bad-parameter", "limit must be >= 0")
    hist, rev, dele = flag(history, True), flag(reverse, False), flag(deleted, True)
    ds = n.execution_log(pipe_id)
    if ds is None:
        return json_response([])
    if not rev:
        return stream_array(ds.entities(since=since, history=hist, deleted=dele, limit=limit),
                            close=ds.close, ndjson=wants_ndjson(request))
    try:
        rows = list(ds.entities(since=since, history=hist, deleted=dele))
    finally:
        ds.close()
    rows.reverse()
    return stream_array(rows[:limit] if limit is not None else rows)


@router.get("/pipes/{pipe_id}/pump", responses={**AUTH, **errors(404)})
def get_pump(request: Request, pipe_id: str, user=Depends(caller)):
    n, p = pipe_for(request, user, "read_config", pipe_id)
    return json_response(pump_view(n, p))


@router.post("/pipes/{pipe_id}/pump", responses={**AUTH, **errors(400, 404, 409)})
async def pump_operation(request: Request, pipe_id: str, operation: str = Form(...),
                         last_seen: str | None = Form(None, alias="last-seen"),
                         comment: str | None = Form(None),
                         user=Depends(caller)):
    """`start`, `start-rescan` (background run; 409 while one runs), `stop`, `enable`,
    `disable` (+`comment`; the scheduler skips a disabled pump), `run-to-stable`
    (ours: runs now until nothing changes), `reset`, `update-last-seen` (+`last-seen`),
    `set-last-seen-to-end`, `reset-tracking`, `set-tracking-to-start`."""
    n, p = pipe_for(request, user, "run_pump_operation", pipe_id)
    await run_in_threadpool(n.pump_op, pipe_id, operation, last_seen, comment)
    return json_response(pump_view(n, p))



PREVIEW_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {
        "entity": {"type": "object", "description": "the source entity (default: the first "
                   "one the pipe's source reads, else a sample)"},
        "config": {"oneOf": [{"type": "object"}, {"type": "string"}], "description":
                   "an unsaved pipe configuration (text keeps error positions)"}}}}}}


@router.post("/pipes/{pipe_id}/preview", responses={**AUTH, **errors(400, 404)},
             openapi_extra={"requestBody": PREVIEW_BODY})
async def pipe_preview(request: Request, pipe_id: str, user=Depends(caller)):
    """The pipe's transforms on one entity, nothing written: `{source_entity,
    before_transforms, stages: [{type, entities}], after_transforms, sink, errors}`.
    `config` previews an unsaved configuration (also of a pipe not yet saved); its errors
    (configuration and DTL) have `line` and `column` in the text sent."""
    from runtime.service.preview import preview
    from runtime.service.bodies import parse
    n = node(request)
    raw = await request.body()
    body = parse(raw) if raw.strip() else {}
    existing = n.config.pipes.get(pipe_id)
    if existing is not None:
        check(n, user, "read_data", existing)
    elif not isinstance(body, dict) or body.get("config") is None:
        n.pipe(pipe_id)  # 404
    if isinstance(body, dict) and body.get("config") is not None:
        # an unsaved configuration runs its source: as much as saving it would allow
        check(n, user, "write_config", existing)
    from runtime.service.routes_config import _files_ok
    return json_response(await run_in_threadpool(preview, n, pipe_id, body,
                                                 _files_ok(user)))
