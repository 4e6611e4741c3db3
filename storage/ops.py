"""Whole-dataset operations behind `dtl dataset ...` (kept here so the CLI stays thin)."""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager

import orjson
from xxhash import xxh3_128_digest

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


_GUESS_ID = re.compile(rb'"_id"\s*:\s*"([^"\\]*)"')


def _guess_id(line: bytes):
    """The first `"_id": "..."` in a line, or None: only a key to look the line up by
    (Dataset.same_input decides, by digest, whether the line is what that id was stored from)."""
    m = _GUESS_ID.search(line)
    if m is None:
        return None
    try:
        return m.group(1).decode()
    except UnicodeDecodeError:
        return None


def put_ndjson(store: Store, name: str, lines, batch_size: int = 10_000, force: bool = False):
    """Append NDJSON lines in batches with change detection; bad lines and bad entities are
    reported and skipped, the rest stored. Returns totals and the problems.

    A line whose bytes are those its `_id`'s latest version was stored from (digest noted
    per version, see storage.index) is unchanged without being parsed - unless another line
    of its batch has that `_id`."""
    tot = {"received": 0, "stored": 0, "unchanged": 0, "invalid": 0, "commits": 0,
           "first_offset": None, "last_offset": None}
    problems = []
    with bulk(), store.open(name, writer=True, create=True) as ds:
        fast = hasattr(ds, "same_input")
        # lines can only be known inputs when something was stored before this put
        look = fast and not force and any(ds.index.counts().values())
        raw, linenos = [], []

        def flush():
            n = len(raw)
            digs = list(map(xxh3_128_digest, raw)) if fast else None
            skip = [False] * n
            if look:
                guess = list(map(_guess_id, raw))
                cand = [i for i in range(n) if guess[i] is not None]
                if cand:
                    for i, same in zip(cand, ds.same_input([guess[i] for i in cand],
                                                           [digs[i] for i in cand])):
                        skip[i] = same
            parsed = {}   # line index -> (entity, finite)

            def parse(i):
                try:
                    parsed[i] = _loads(raw[i])
                except (ValueError, TransitError) as ex:
                    tot["received"] += 1
                    tot["invalid"] += 1
                    problems.append({"line": linenos[i], "_id": None,
                                     "error": f"invalid JSON: {ex}"})
            for i in range(n):
                if not skip[i]:
                    parse(i)
            if any(skip):
                ids = {e.get("_id") for e, _ in parsed.values() if type(e) is dict}
                for i in range(n):
                    if skip[i] and guess[i] in ids:   # its batch changes it: in order
                        skip[i] = False
                        parse(i)
                k = sum(skip)
                tot["received"] += k
                tot["unchanged"] += k
            order = sorted(parsed)
            batch = [parsed[i][0] for i in order]
            st = ds.append(batch, skip_invalid=True, force=force,
                           finite=all(parsed[i][1] for i in order))
            bad = set()
            for pos, eid, msg in st.problems:
                bad.add(pos)
                problems.append({"line": linenos[order[pos]], "_id": eid, "error": msg})
            for k in ("received", "stored", "unchanged", "invalid"):
                tot[k] += getattr(st, k)
            if st.stored:
                tot["commits"] += 1
                if tot["first_offset"] is None:
                    tot["first_offset"] = st.first_offset
                tot["last_offset"] = st.last_offset
            if fast and st.latest:
                lat = st.latest
                if not bad and len(lat) == len(batch) and len(order) == n:
                    # every line parsed, stored or unchanged, each id once: line i made it
                    ids = list(lat)   # in batch order (dicts keep insertion order)
                    ds.record_input(ids, digs, list(lat.values()))
                else:
                    noted = {}   # _id -> line: the last good line of each id made its version
                    for pos, i in enumerate(order):
                        if pos not in bad:
                            noted[batch[pos]["_id"]] = i
                    noted = [(eid, i) for eid, i in noted.items() if eid in lat]
                    ds.record_input([e for e, _ in noted], [digs[i] for _, i in noted],
                                    [lat[e] for e, _ in noted])
            raw.clear()
            linenos.clear()

        for no, line in enumerate(lines, 1):
            if isinstance(line, LineTooLong):
                tot["received"] += 1
                tot["invalid"] += 1
                problems.append({"line": no, "_id": None, "error": f"line {line}"})
                continue
            if not line.strip():
                continue
            raw.append(line)
            linenos.append(no)
            if len(raw) >= batch_size:
                flush()
        if raw:
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
