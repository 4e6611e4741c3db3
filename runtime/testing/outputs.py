"""What the Sesam API would answer for `/pipes/<id>/entities` and `/publishers/<id>/<kind>`,
computed from the embedded hub.

Entities are turned into the JSON the API sends: transit strings for the extension types,
Decimal included (`"~f158325.000000"`, digits as stored: the expected files a real node wrote
show them so), numbers for Integer and Float.
"""

from __future__ import annotations

import json

from dtl import transit


class OutputError(Exception):
    pass


def api_json(value):
    """A DTL value as the API's JSON."""
    return transit.encode(value)


class HubOutputs:
    def __init__(self, hub):
        self.hub = hub

    def _valid(self, pipe_id):
        pipe = self.hub.config.pipes.get(pipe_id)
        if pipe is not None and not pipe.valid:
            raise OutputError(f"pipe {pipe_id!r} has an invalid configuration (see its errors "
                              "above); it has no output")

    def entities(self, pipe_id: str, stage: str | None) -> list:
        self._valid(pipe_id)
        if stage in (None, "sink", "after-transforms"):
            # (ours) offline the sink stage equals the transform output: no sink-side rewriting
            # deletes included, as the API lists them: the spec's ignore_deletes decides
            rows = self.hub.output(pipe_id, deleted=True)
        elif stage in ("source", "before-transforms"):
            rows = self._source_entities(pipe_id)
        else:
            raise OutputError(f"unknown stage {stage!r}")
        return [api_json(e) for e in rows]

    def _source_entities(self, pipe_id):
        pipe = self.hub.config.pipes[pipe_id]
        source = self.hub._make_source(pipe)
        try:
            return [e for batch in source.read(None) for e in batch.entities
                    if not e.get("_deleted")]
        finally:
            source.close()

    def published(self, pipe_id: str, kind: str, params: dict) -> bytes:
        self._valid(pipe_id)
        pipe = self.hub.config.pipes[pipe_id]
        sink = pipe.sink.type if pipe.sink is not None else None
        if params:
            raise OutputError("publisher parameters (_B) are not supported offline yet")
        if kind == "csv" and sink == "csv_endpoint":
            from runtime.sinks.endpoint import csv_text
            cfg = pipe.sink.config
            text = csv_text(self.hub, pipe)
            if cfg.get("byte_order_mark", False):
                text = "\ufeff" + text
            return text.encode(cfg.get("encoding", "utf-8"),
                               cfg.get("encode_error_strategy", "backslashreplace"))
        if kind == "entities" and sink == "http_endpoint":
            body = [api_json(e) for e in self.hub.output(pipe_id)]
            return json.dumps(body, ensure_ascii=False).encode("utf-8")
        raise OutputError(f"no '{kind}' publisher for pipe '{pipe_id}' (sink {sink!r}) offline")
