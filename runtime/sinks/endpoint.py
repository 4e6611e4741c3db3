"""`http_endpoint` / `csv_endpoint` sinks: publishers computed on demand (source + transforms,
in source order); never pumped. Deleted and filtered entities are not published."""

from __future__ import annotations

import csv
import io

from runtime.transforms import EntityFailure


def compute(hub, pipe, since=None, bindings=None, keep_updated=False, deleted=False):
    """The published entities. `since` continues from a source offset; `bindings` is DTL's
    `_B` (a publisher's URL parameters); `keep_updated` keeps the source entity's `_updated` on
    its outputs, so a JSON-pull client can continue from it; `deleted` keeps the deletes a
    transform emits (`"_deleted": true`), as a sink would receive them."""
    source = hub._make_source(pipe)
    chain = hub._chain(pipe, mark_filtered=False)
    try:
        for batch in source.read(since):
            ents = batch.entities
            for e, got in zip(ents, chain.run_many(ents, bindings or None)):
                if isinstance(got, EntityFailure):
                    raise got
                upd = e.get("_updated")
                for o in got:
                    gone = o.get("_deleted") is True
                    if o.get("_filtered") or (gone and not deleted):
                        continue
                    for k in ("_updated", "_ts", "_hash", "_previous", "_deleted"):
                        o.pop(k, None)
                    if gone:
                        o["_deleted"] = True
                    if keep_updated and upd is not None:
                        o["_updated"] = upd
                    yield o
    finally:
        source.close()


def csv_text(hub, pipe, **kw) -> str:
    """The csv_endpoint body: `columns` in order, header unless `include_header` is false.
    Keywords (`since`, `bindings`) go to `compute`."""
    from dtl import transit
    cfg = pipe.sink.config
    cols = list(cfg.get("columns") or ())
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=cfg.get("delimiter", ","), quotechar=cfg.get("quotechar", '"'),
                   lineterminator=cfg.get("lineterminator", "\r\n"),
                   doublequote=cfg.get("doublequote", True))
    if cfg.get("include_header", True):
        w.writerow(cols)
    for e in compute(hub, pipe, **kw):
        row = []
        for c in cols:
            v = e.get(c)
            row.append("" if v is None else v if isinstance(v, str) else transit.dumps(v))
        w.writerow(row)
    return buf.getvalue()
