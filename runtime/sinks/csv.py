"""`csv` sink (ours): writes entities to a CSV file named by a `file:` url of a url system.
A full run writes a new file, swapped in atomically when the run completes; an incremental
run appends its rows. `columns` (default: the properties of the first batch, `_id` first),
`include_header`, `delimiter`, `quotechar`, `quoting`, `doublequote`, `escapechar`,
`lineterminator`, `encoding`, `encode_error_strategy`, `byte_order_mark`; deleted and
filtered entities are skipped unless `skip-deleted-entities` is false. Values: strings as
they are, others transit-encoded."""

from __future__ import annotations

import csv
import os

from dtl import transit
from runtime.sinks.base import Sink

_QUOTING = {"all": csv.QUOTE_ALL, "minimal": csv.QUOTE_MINIMAL,
            "nonnumeric": csv.QUOTE_NONNUMERIC, "none": csv.QUOTE_NONE}


class CsvSink(Sink):
    atomic_state = False
    checkpoint = True

    def __init__(self, hub, pipe, component):
        c = component
        self.c = c
        system = hub.systems.get(c["system"])
        url = system.url(c["url"])
        self.path = system.local_path(url)
        if self.path is None:
            raise ValueError(f"csv sink: {url!r} is not a file: url")
        self.columns = list(c.get("columns") or ()) or None
        self.skip_deleted = bool(c.get("skip-deleted-entities", True))
        self._f = None
        self._w = None
        self._tmp = None

    def begin(self, full):
        self.full = full

    def _open(self, entities):
        c = self.c
        if self.columns is None:
            keys = []
            for e in entities:
                for k in e:
                    if k not in keys and (k == "_id" or not k.startswith("_")):
                        keys.append(k)
            self.columns = ["_id"] + sorted(k for k in keys if k != "_id")
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        fresh = self.full or not os.path.exists(self.path)
        target = self.path + ".tmp" if self.full else self.path
        self._tmp = target if self.full else None
        self._f = open(target, "w" if self.full else "a", newline="",
                       encoding=c.get("encoding", "utf-8"),
                       errors=c.get("encode_error_strategy", "backslashreplace"))
        if fresh and c.get("byte_order_mark"):
            self._f.write("\ufeff")
        self._w = csv.writer(self._f, delimiter=c.get("delimiter", ","),
                             quotechar=c.get("quotechar", '"'),
                             quoting=_QUOTING.get(c.get("quoting", "minimal"),
                                                  csv.QUOTE_MINIMAL),
                             doublequote=bool(c.get("doublequote", True)),
                             escapechar=c.get("escapechar"),
                             lineterminator=c.get("lineterminator", "\r\n"))
        if fresh and c.get("include_header", True):
            self._w.writerow(self.columns)

    def write(self, entities, state, strict=False):
        if self._f is None:
            self._open(entities)
        n = 0
        for e in entities:
            if self.skip_deleted and (e.get("_deleted") or e.get("_filtered")):
                continue
            self._w.writerow([_cell(e.get(k)) for k in self.columns])
            n += 1
        self._f.flush()
        os.fsync(self._f.fileno())
        return n, []

    def finish(self, state, full, ok):
        if self._f is None and ok and full:
            self._open([])
        if self._f is not None:
            self._f.close()
            self._f = None
            if self._tmp and ok:
                os.replace(self._tmp, self.path)
        return 0

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None


def _cell(v):
    if v is None:
        return ""
    return v if isinstance(v, str) else transit.dumps(v)
