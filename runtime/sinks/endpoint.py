"""`http_endpoint` / `csv_endpoint` sinks: publishers computed on demand (source + transforms,
in source order); never pumped. Deleted and filtered entities are not published."""

from __future__ import annotations

import csv
import io


def compute(hub, pipe):
    source = hub._make_source(pipe)
    chain = hub._chain(pipe, mark_filtered=False)
    try:
        for batch in source.read(None):
            for e in batch.entities:
                for o in chain(e):
                    if o.get("_deleted") or o.get("_filtered"):
                        continue
                    for k in ("_updated", "_ts", "_hash", "_previous"):
                        o.pop(k, None)
                    o.pop("_deleted", None)
                    yield o
    finally:
        source.close()


def csv_text(hub, pipe) -> str:
    """The csv_endpoint body: `columns` in order, header unless `include_header` is false."""
    from dtl import transit
    cfg = pipe.sink.config
    cols = list(cfg.get("columns") or ())
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=cfg.get("delimiter", ","), quotechar=cfg.get("quotechar", '"'),
                   lineterminator=cfg.get("lineterminator", "\r\n"),
                   doublequote=cfg.get("doublequote", True))
    if cfg.get("include_header", True):
        w.writerow(cols)
    for e in compute(hub, pipe):
        row = []
        for c in cols:
            v = e.get(c)
            row.append("" if v is None else v if isinstance(v, str) else transit.dumps(v))
        w.writerow(row)
    return buf.getvalue()
