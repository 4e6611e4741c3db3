"""The execution log of a pipe: dataset `system:pump_execution:<pipe>` (pipes-and-pumps.md §7).

Run events (`pump-started`, `pump-completed`, `pump-failed`, `pump-offset-set`) have id
`<event>:<run id>`; entity errors are `write-error:<entity _id>` (a later failure of the same
entity replaces the earlier event, as a new version)."""

from __future__ import annotations

import time
import traceback as tb
import uuid

from dtl import transit


def log_name(pipe_id: str) -> str:
    return f"system:pump_execution:{pipe_id}"


def _jsonable(e):
    return transit.loads(transit.dumps(e)) if e is not None else None


class ExecLog:
    def __init__(self, store, pipe_id, clock=time.time):
        self.store = store
        self.pipe_id = pipe_id
        self.clock = clock
        self._ds = None

    def _open(self):
        if self._ds is None:
            self._ds = self.store.open(log_name(self.pipe_id), writer=True, create=True)
            if not self._ds.populated:
                self._ds.set_populated(True)
        return self._ds

    def event(self, kind, run_id=None, **fields):
        eid = f"{kind}:{run_id or uuid.uuid4()}"
        e = {"_id": eid, "type": kind, "pipe": self.pipe_id, "event_time": self.clock()}
        e.update({k: v for k, v in fields.items() if v is not None})
        self._open().append([e], force=True)
        return e

    def entity_error(self, entity, message, exc=None, dead=True, run_id=None):
        eid = entity.get("_id") if isinstance(entity, dict) else None
        e = {"_id": f"write-error:{eid if isinstance(eid, str) else uuid.uuid4()}",
             "type": "write-error", "pipe": self.pipe_id, "event_time": self.clock(),
             "entity": _jsonable(entity), "original_error_message": message,
             "traceback": "".join(tb.format_exception(exc)) if exc is not None else None,
             "retryable": False, "dead": dead, "resolved": False, "run_id": run_id}
        self._open().append([{k: v for k, v in e.items() if v is not None}], force=True)
        return e

    def events(self, kind=None):
        if not self.store.exists(log_name(self.pipe_id)):
            return []
        ds = self._ds or self.store.open(log_name(self.pipe_id))
        try:
            return [e for e in ds.entities(deleted=False)
                    if kind is None or e.get("type") == kind]
        finally:
            if ds is not self._ds:
                ds.close()

    def close(self):
        if self._ds is not None:
            self._ds.close()
            self._ds = None
