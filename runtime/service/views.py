"""The JSON shapes of service-api.md §4 (Pipe, Pump, Dataset, System), built from the node.
Secrets never appear: originals hold `$SECRET(...)` references, effective values are masked."""

from __future__ import annotations

from runtime.config.secret import mask
from runtime.config.model import thaw

OPERATIONS = ["start", "start-rescan", "stop", "run-to-stable", "reset", "update-last-seen",
              "set-last-seen-to-end", "reset-tracking", "set-tracking-to-start"]


def _json_safe(v):
    return mask(thaw(v))


def pump_runtime(node, pipe) -> dict:
    state = node.pump_state(pipe)
    run = (node.runs.get(pipe.id) or {}).get("last")
    return {
        "is-running": node.is_running(pipe.id),
        "last-seen": state.get("since"),
        "supported-operations": OPERATIONS if node.hub.runnable(pipe) else
        [o for o in OPERATIONS if o not in ("start", "start-rescan", "run-to-stable")],
        "last-run": None if run is None else run.seconds,
        "success": None if run is None else run.status == "ok",
        "last-message": None if run is None else (run.reason or run.status),
        "progress": None if run is None else {"processed": run.read, "changed": run.changed,
                                              "errors": run.errors},
        "next-run": None,
    }


def pipe_view(node, pipe, verbose=True) -> dict:
    errors = [e for e in _errors_of(node, pipe.id)]
    rt = {"state": "Deployed", "is-valid-config": pipe.valid, "is-disabled":
          pipe.pump.get("mode") == "off", "config-errors": errors,
          "dependencies": list(pipe.inputs), "execution-dataset":
          f"system:pump_execution:{pipe.id}", "origin": "user",
          "queues": {"source": None, "dependencies": {}, "retries": 0}}
    rt.update(pump_runtime(node, pipe))
    out = {"_id": pipe.id, "runtime": rt}
    if verbose:
        out["config"] = {"original": _json_safe(pipe.original),
                         "effective": _json_safe(pipe.effective)}
    out["storage"] = {"sink-datasets": list(pipe.writes)}
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
