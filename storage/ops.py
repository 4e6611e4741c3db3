"""Whole-dataset operations behind `dtl dataset ...` (kept here so the CLI stays thin)."""

from __future__ import annotations

import gc
from contextlib import contextmanager

import orjson

from dtl import transit
from dtl.errors import TransitError

from storage.errors import EntityError
from storage.store import Store


@contextmanager
def bulk():
    """No cyclic GC during bulk work (entities are acyclic; full collections walk the heap)."""
    was = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if was:
            gc.enable()


MAX_LINE = 64 << 20


def bounded_lines(f, limit: int = MAX_LINE):
    """The lines of a binary file, none held longer than `limit` bytes: a longer one comes
    as a LineTooLong (its rest is skipped), so one huge line cannot exhaust memory."""
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = f.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield LineTooLong(f"longer than {limit} bytes")
            continue
        yield line


class LineTooLong(ValueError):
    pass


_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG = b"0" * 19


def _loads(line: bytes):
    """(entity, finite) of one NDJSON line: transit.loads, with its common case (no transit
    text, no integer beyond 64 bits, shallow) as one orjson call - orjson refuses NaN and
    Infinity, so such an entity holds finite floats only."""
    if b'"~' not in line and b"\\u007" not in line and \
            line.count(b"[") + line.count(b"{") < transit.MAX_DEPTH and \
            _LONG not in line.translate(_DIGITS):
        try:
            return orjson.loads(line), True
        except orjson.JSONDecodeError:
            pass
    return transit.loads(line), False


def put_ndjson(store: Store, name: str, lines, batch_size: int = 10_000, force: bool = False):
    """Append NDJSON lines in batches with change detection; bad lines and bad entities are
    reported and skipped, the rest stored. Returns totals and the problems."""
    tot = {"received": 0, "stored": 0, "unchanged": 0, "invalid": 0, "commits": 0,
           "first_offset": None, "last_offset": None}
    problems = []
    with bulk(), store.open(name, writer=True, create=True) as ds:
        batch, linenos = [], []
        finite = [True]

        def flush():
            st = ds.append(batch, skip_invalid=True, force=force, finite=finite[0])
            finite[0] = True
            for pos, eid, msg in st.problems:
                problems.append({"line": linenos[pos], "_id": eid, "error": msg})
            for k in ("received", "stored", "unchanged", "invalid"):
                tot[k] += getattr(st, k)
            if st.stored:
                tot["commits"] += 1
                if tot["first_offset"] is None:
                    tot["first_offset"] = st.first_offset
                tot["last_offset"] = st.last_offset
            batch.clear()
            linenos.clear()

        for no, line in enumerate(lines, 1):
            if isinstance(line, LineTooLong):
                tot["received"] += 1
                tot["invalid"] += 1
                problems.append({"line": no, "_id": None, "error": f"line {line}"})
                continue
            if not line.strip():
                continue
            try:
                e, fin = _loads(line)
                batch.append(e)
                linenos.append(no)
                finite[0] = finite[0] and fin
            except (ValueError, TransitError) as ex:
                tot["received"] += 1
                tot["invalid"] += 1
                problems.append({"line": no, "_id": None, "error": f"invalid JSON: {ex}"})
                continue
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    return tot, problems


def verify(store: Store, names=None) -> dict[str, list[str]]:
    out = {}
    for n in names or store.names():
        ds = store.reader(n)
        try:
            out[n] = ds.verify()
        finally:
            ds.close()
    return out


__all__ = ["put_ndjson", "verify", "bulk", "EntityError"]
