"""`json` sink: the JSON push protocol (hub/json-push.rst). Each batch is POSTed as a JSON
array (transit-encoded entities) with `sequence_id`, `is_full`, `request_id` and
`previous_request_id`; a full run sends `is_first` on its first request and ends with an
empty `is_last` request (ours: the sink cannot know which batch is last while streaming).

A request that fails (5xx, 429, timeout, refused connection) is retried with exponential
backoff up to `batch_retries` times with the same request id; then the run fails and the
batch is not acknowledged, so the next run sends it again: never skipped. A full sync that
failed is continued by the next run, in the same sequence after the last acknowledged batch
(its requests chained on), so the receiver sees one complete sequence. 409 Conflict aborts
the sync at once (a full sync restarts with a new sequence). Filtered entities are sent as
deletes."""

from __future__ import annotations

import time
import uuid

import orjson

from dtl import transit
from runtime.sinks.base import Sink
from runtime.systems.url import HttpError, backoff, retryable

INTERNAL = ("_updated", "_ts", "_hash", "_previous", "_filtered")


class JsonSink(Sink):
    atomic_state = False
    checkpoint = True
    resumes = True     # a full sync goes on in the same sequence after a failed run

    def __init__(self, hub, pipe, component):
        c = component
        self.system = hub.systems.get(c["system"])
        self.url = self.system.url(c["url"])
        self.headers = {str(k): str(v) for k, v in (c.get("headers") or {}).items()}
        self.batch_size = int(c.get("batch_size", 100) or 100)
        self.pump = pipe.pump
        self.on_event = None
        self.full = False
        self.sequence = None
        self.prev = None
        self.sent = 0

    def begin(self, full):
        self.full = full
        self.sequence = str(uuid.uuid4())
        self.prev = None
        self.sent = 0

    def position(self):
        return {"sequence_id": self.sequence, "sent": self.sent, "previous": self.prev}

    def resume(self, position):
        self.sequence = position.get("sequence_id") or self.sequence
        self.sent = int(position.get("sent") or 0)
        self.prev = position.get("previous")

    def write(self, entities, state, strict=False):
        for i in range(0, len(entities), self.batch_size):
            self._post([_wire(e) for e in entities[i:i + self.batch_size]])
        return len(entities), []

    def finish(self, state, full, ok):
        if ok and self.full:
            self._post([], last=True)
        return 0

    def _post(self, items, last=False):
        rid = str(self.sent + 1)
        params = {"sequence_id": self.sequence, "is_full": _b(self.full), "request_id": rid}
        if self.prev is not None:
            params["previous_request_id"] = self.prev
        if self.full and self.sent == 0:
            params["is_first"] = "true"
        if last:
            params["is_last"] = "true"
        body = orjson.dumps([transit.encode(e) for e in items])
        attempt = 0
        while True:
            try:
                self.system.post(self.url, body, params=params, headers=self.headers)
                break
            except HttpError as ex:
                rs = self.system.retry_settings(ex.status, self.pump)
                limit = int(rs.get("batch_retries") if rs.get("batch_retries") is not None
                            else 3)
                if ex.status == 409 or not retryable(ex) or attempt >= limit:
                    raise RuntimeError(f"json sink (system {self.system.id!r}): request {rid} "
                                       f"({len(items)} entities) failed after {attempt} "
                                       f"retries: {ex}") from ex
                delay = backoff(rs.get("write_retry_delay"), attempt)
                if self.on_event is not None:
                    self.on_event("write-retry", f"json sink: request {rid} failed ({ex}); "
                                  f"retry {attempt + 1} in {delay:.2f}s",
                                  attempt=attempt + 1, status=ex.status, batch_size=len(items))
                time.sleep(delay)
                attempt += 1
        self.prev = rid
        self.sent += 1


def _wire(e):
    out = {k: v for k, v in e.items() if k not in INTERNAL}
    if e.get("_filtered"):
        out["_deleted"] = True
    return out


def _b(v):
    return "true" if v else "false"
