"""The JSON shapes of service-api.md §4 (Pipe, Pump, Dataset, System), built from the node.
Secrets never appear: originals hold `$SECRET(...)` references, effective values are masked."""

from __future__ import annotations

from runtime.config.secret import mask
from runtime.config.model import thaw

OPERATIONS = ["start", "start-rescan", "stop", "enable", "disable", "run-to-stable", "reset",
              "update-last-seen", "set-last-seen-to-end", "reset-tracking",
              "set-tracking-to-start"]


def _json_safe(v):
    return mask(thaw(v))


def _iso(t):
    if t is None or t == float("inf"):
        return None
    from datetime import datetime, timezone
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def _counts(run):
    return {"processed": run.read, "changed": run.changed, "errors": run.errors,
            "sync-type": run.sync_type}


def pump_runtime(node, pipe) -> dict:
    state = node.pump_state(pipe)
    entry = node.runs.get(pipe.id) or {}
    run, current = entry.get("last"), entry.get("current")
    running = node.is_running(pipe.id)
    flag = node.flags.get().get(pipe.id) or {}
    sched = node.scheduler
    return {
        "is-running": running,
        "is-disabled": bool(flag.get("disabled")) or pipe.pump.get("mode") == "off",
        "disabled-comment": flag.get("comment"),
        "last-seen": state.get("since"),
        "supported-operations": OPERATIONS if node.hub.runnable(pipe) else
        [o for o in OPERATIONS if o not in ("start", "start-rescan", "run-to-stable")],
        "last-run": None if run is None else run.seconds,
        "last-started": _iso(entry.get("started")),
        "started-by": entry.get("starter"),
        "success": None if run is None else run.status == "ok",
        "last-message": None if run is None else (run.reason or run.status),
        "last-run-counts": None if run is None else _counts(run),
        # while running: the counts so far; else those of the last run
        "progress": _counts(current) if running and current is not None else
        None if run is None else _counts(run),
        "next-run": None if sched is None or sched.paused else _iso(sched.next_run(pipe.id)),
        "scheduler": "off" if sched is None or sched.paused else "on",
    }


def pipe_view(node, pipe, verbose=True) -> dict:
    errors = [e for e in _errors_of(node, pipe.id)]
    rt = {"state": "Deployed", "is-valid-config": pipe.valid, "config-errors": errors,
          "dependencies": list(pipe.inputs), "execution-dataset":
          f"system:pump_execution:{pipe.id}", "origin": "user",
          "queues": {"source": None, "dependencies": {}, "retries": 0}}
    rt.update(pump_runtime(node, pipe))
    out = {"_id": pipe.id, "runtime": rt}
    if verbose:
        out["config"] = {"original": _json_safe(pipe.original),
                         "effective": _json_safe(pipe.effective)}
    out["storage"] = {"sink-datasets": list(pipe.writes)}
    # (ours) what the flow graph and the pipe list draw: the pipe's datasets and systems
    out["flow"] = {"name": pipe.effective.get("name"), "source-type": _type(pipe.source),
                   "sink-type": _type(pipe.sink), "source-datasets": list(pipe.reads),
                   "hop-datasets": list(pipe.hops), "sink-datasets": list(pipe.writes),
                   "systems": _systems(pipe), "role": pipe.role}
    return out


def _type(component):
    return component.type if component is not None else None


def _systems(pipe) -> dict:
    out = {}
    for part, c in (("source", pipe.source), ("sink", pipe.sink)):
        sid = c.get("system") if c is not None else None
        if isinstance(sid, str):
            out[part] = sid
    return out


def pump_view(node, pipe) -> dict:
    return {"_id": f"pump:{pipe.id}", "runtime": pump_runtime(node, pipe)}


def _errors_of(node, entity_id):
    from runtime.service.node import validation_errors
    return [{"elements": e["elements"], "level": e["level"], "msg": e["msg"]}
            for e in validation_errors(node.config) if e["config_id"] == entity_id]


def system_view(node, system, verbose=True) -> dict:
    out = {"_id": system.id, "type": f"system:{system.type}",
           "runtime": {"is-valid-config": system.valid, "origin": "user",
                       "config-errors": _errors_of(node, system.id),
                       "secrets": node.secrets.names(system.id)}}
    if verbose:
        out["config"] = {"original": _json_safe(system.original),
                         "effective": _json_safe(system.config)}
    return out


def dataset_view(node, name) -> dict:
    ds = node.open_dataset(name)
    try:
        i = ds.info()
    finally:
        ds.close()
    writer = node.config.writer(name)
    return {"_id": name, "runtime": {
        "populated": i["populated"], "count-log-exists": i["count-log-exists"],
        "count-log-deleted": i["count-log-deleted"],
        "count-index-exists": i["count-index-exists"],
        "count-index-deleted": i["count-index-deleted"], "generation": i["generation"],
        "completeness": i["completeness"], "last-offset": i["last_offset"],
        "circuit-breaker": {"tripped": False, "uncommitted": 0},
        "origin": "system" if name.startswith("system:") else "user",
        "sink-of": writer.id if writer is not None else None}}
