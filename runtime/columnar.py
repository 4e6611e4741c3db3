"""The columnar pipe path: a dataset source, one DTL transform whose default rule is columnar
(vector backend, or `auto`), and a dataset sink - entities stay Arrow batches from the source
segments through the transform to the sink's segment.

A source batch (COLUMNAR_ROWS versions, typed `p:<name>` columns where the segment has them,
bodies decoded only for what columns cannot serve) runs through the rule's column kernels;
the targets are rendered to canonical bodies and hashed by column (storage.columnar) and
appended with `Dataset.append_columns` (change detection against the index in bulk). The
pipe state goes with the batch into the same group commit as on the entity path, so crash
safety is the entity path's.

Results are the entity path's, row for row (tests/runtime/test_columnar_pipes.py): a batch
the path cannot reproduce exactly - a kernel raises, a value without an exact columnar
rendering (transit-escaped strings, extension types, non-finite floats), an output without a
string `_id`, duplicate output ids, `_deleted`/`_filtered` set by the rule, `$replaced`
sources - runs on the entity path instead, in the pipe's batches (`Fallback`).
`DTL_COLUMNAR=0` turns the path off.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dtl.backends.vector import numba_kernels as NB
from dtl.backends.vector import runner
from runtime.sinks.dataset import STATE_KEY, DatasetSink
from runtime.sources.base import chunks
from runtime.sources.dataset import DatasetSource
from storage import columnar, hashing, segments
from storage.dataset import batch_entities

COLUMNAR_ROWS = 16_384   # source versions per columnar batch (one segment row group)
_SYSTEM = ("_id", "_updated", "_deleted", "_ts", "_previous")
_TYPED = (pa.string(), pa.int64(), pa.float64(), pa.bool_())


class Fallback(Exception):
    """This batch runs on the entity path."""


class _NeedBodies(Exception):
    """The batch was read without bodies and needs them."""


class _NeedColumn(_NeedBodies):
    """The batch was read without a typed column the rule asks for."""


def plan(run) -> "Columnar | None":
    """The columnar reader for a pump run (pump._Run), or None where the pipe is not one."""
    if os.environ.get("DTL_COLUMNAR", "1") == "0":
        return None
    src, sink, chain = run.source, run.sink, run.chain
    if type(src) is not DatasetSource or src.history or type(sink) is not DatasetSink:
        return None
    stages = chain.stages
    if len(stages) != 1 or stages[0].kind != "dtl" or any(chain.namespaces):
        return None
    tr = stages[0].transform
    if tr.stages and tr.stages[0][0].options.namespaced_identifiers:
        return None
    stage = runner.columnar_stage(tr)
    return None if stage is None else Columnar(run, tr, stage)


class Columnar:
    def __init__(self, run, transform, stage):
        self.run, self.tr, self.stage = run, transform, stage
        self.batches = 0     # batches that ran columnar
        self.fallbacks = 0   # batches that ran on the entity path

    def read(self):
        """Batches without bodies while the rule reads only typed columns (decompressing
        bodies is most of a segment read); the first batch that needs them - a property
        without a typed column, a delete, a fallback - is read again with bodies, and so is
        the rest of the run."""
        r = self.run
        ds = r.source._open()
        if ds is None:
            return
        # the first batch reads every typed column; the rest only those the rule asked for
        # (a later batch asking for another one is read again with it)
        self.asked, self.only = set(), None
        cols = [*_SYSTEM, "_hash", "p:*"]
        since = r.state["since"]
        NB.expect(ds.last_offset - (-1 if since is None else since))   # at most this many
        while True:
            try:
                for rb in ds.batches(since=r.state["since"], deleted=True,
                                     batch_size=COLUMNAR_ROWS, columns=cols):
                    self._one(ds, rb)
                    if cols is not None and self.only is None:
                        self.only = set(self.asked)
                        raise _NeedColumn()
                return
            except _NeedColumn:
                if cols is not None:
                    cols = [*_SYSTEM, "_hash", *(segments.PROP + k for k in sorted(self.only))]
            except _NeedBodies:
                cols = None

    def _one(self, ds, rb):
        r = self.run
        try:
            self.batch(ds, rb)
            self.batches += 1
        except Fallback:
            if "body" not in rb.schema.names:
                raise _NeedBodies() from None
            self.fallbacks += 1
            for ch in chunks(batch_entities(rb), r.source.batch_size):
                r._batch(ch, ch[-1]["_updated"])

    # -- one batch --------------------------------------------------------------------------
    def batch(self, src, rb):
        r, n = self.run, rb.num_rows
        schema = rb.schema
        src_del = rb.column("_deleted").to_numpy(zero_copy_only=False)
        if src_del.any():  # a `$replaced` delete is the pump's to handle (pump.transform)
            if "body" not in schema.names:
                raise _NeedBodies()
            dels = rb.column("body").filter(pa.array(src_del))
            if pc.any(pc.match_substring(dels, '"$replaced"')).as_py():
                raise Fallback("$replaced")

        def column(name):
            if name in _SYSTEM:
                return rb.column(name)
            if name != "_hash":
                self.asked.add(name)
                if self.only is not None and name not in self.only and \
                        "body" not in schema.names:
                    self.only.add(name)
                    raise _NeedColumn()
            if name == "_hash":
                return pa.array([h.hex() for h in rb.column("_hash").to_pylist()])
            i = schema.get_field_index(segments.PROP + name)
            if i < 0:
                return None
            arr = rb.column(i)
            return arr if arr.null_count == 0 or segments.is_present(schema.field(i)) else None

        def rows():
            if "body" not in schema.names:
                raise _NeedBodies()
            return batch_entities(rb)

        ctx = self.tr.stages[0][0]
        b = runner.batch_from_columns(n, column, rows, ctx)
        filtered = {} if self.tr.mark_filtered else None
        try:
            self.stage.run(b, filtered)
        except _NeedBodies:
            raise
        except Exception as ex:  # noqa: BLE001 - the entity path reports it per entity
            if runner.STRICT:
                raise
            raise Fallback(str(ex)) from ex
        src_ids = rb.column("_id")
        alive = b.index
        ids, bodies, hashes, dels, typed, present = self._targets(b, src_del[alive])
        positions = alive.tolist()
        sink = r.sink
        seen_extra = []
        if filtered:
            extra = self._filtered(sink.ds, filtered, src_ids, src_del, seen_extra)
            if extra:
                ids, bodies, hashes, dels, typed, present = _merge(
                    positions, (ids, bodies, hashes, dels, typed), extra)
        if len(set(ids)) != len(ids) or (seen_extra and len(set(ids) | set(seen_extra)) !=
                                         len(ids) + len(seen_extra)):
            raise Fallback("duplicate output ids")
        if sink.seen is not None:
            sink.seen.update(ids)
            sink.seen.update(seen_extra)
        res = r.res
        r.state["since"] = rb.column("_updated")[n - 1].as_py()
        res.read += n
        res.written += len(alive) + len(filtered or ())
        st = sink.ds.append_columns(ids, dels, bodies, hashes, typed, present,
                                    meta={STATE_KEY: dict(r.state)}, group=True)
        res.changed += st.stored
        r.consec = 0
        if r.progress:
            r.progress(r.pipe.id, res)

    def _targets(self, b, deleted):
        """(ids, bodies, hashes, deleted, typed columns, present) of the rows still alive."""
        m = b.n
        keys = list(dict.fromkeys(k for k, _ in b.slots))
        if "_deleted" in keys or "_filtered" in keys:
            raise Fallback("the rule sets _deleted or _filtered")
        if not m:
            return [], [], [], [], {}, set()
        idc = b.target("_id")
        if idc is None or (idc.missing is not None and any(idc.missing)):
            raise Fallback("an output without _id")
        if _arrow(idc) and idc.arr.type == pa.string() and idc.arr.null_count == 0:
            ids = idc.arr.to_pylist()
            cols = {"_id": (idc.arr, None)}   # rendered by Arrow kernels, not per value
        else:
            ids = idc.values()
            if not all(type(v) is str for v in ids):
                raise Fallback("an output _id that is not a string")
            cols = {"_id": (ids, None)}
        typed, present = {}, set()
        props = [k for k in keys if k[:1] != "_"]
        for k in props:
            c = b.target(k)
            vals = c.arr if _arrow(c) else c.values()
            cols[k] = (vals, c.missing)
            if _arrow(c) and c.arr.type in _TYPED and len(props) <= segments.MAX_TYPED:
                arr = c.arr
                if c.missing is not None and any(c.missing):
                    arr = pc.if_else(pa.array(c.missing), pa.scalar(None, arr.type), arr)
                elif arr.null_count == arr.__len__():
                    continue   # all null: no type to keep, as storage does for entities
                else:
                    present.add(segments.PROP + k)
                typed[segments.PROP + k] = arr
        try:
            bodies, hashes = columnar.encode(cols, m, deleted)
        except columnar.NotColumnar as ex:
            raise Fallback(str(ex)) from None
        return ids, bodies, hashes, [bool(d) for d in deleted], typed, present

    def _filtered(self, ds, filtered, src_ids, src_del, seen_extra):
        """The dataset sink's handling of `_filtered` outputs: a delete of each id that is
        live, nothing for the others. Returns [(position, prepared row)] of the deletes."""
        sids = src_ids.to_pylist()
        order = sorted(filtered)
        ids = []
        for pos in order:
            e = filtered[pos]
            eid = e["_id"] if "_id" in e else sids[pos]
            if type(eid) is not str:
                raise Fallback("a filtered output without a string _id")
            ids.append(eid)
        live = ds.live(ids)
        if not any(live):   # nothing to delete (a full run's first pass): all dead
            seen_extra.extend(ids)
            return []
        rows = []
        for pos, eid in zip(order, ids):
            e = dict(filtered[pos])
            e["_id"] = eid
            if src_del[pos] and "_deleted" not in e:
                e["_deleted"] = True
            rows.append((pos, e))
        out, dead = [], []
        for (pos, e), ok in zip(rows, live):
            if not ok:
                dead.append(e["_id"])
                continue
            e.pop("_filtered", None)
            e["_deleted"] = True
            out.append((pos, e))
        seen_extra.extend(dead)
        prepared, problems = hashing.prepare([e for _, e in out])
        if problems:
            raise Fallback("a filtered output storage refuses")
        return [(pos, p) for (pos, _), p in zip(out, prepared)]


def _arrow(c) -> bool:
    """Whether a column is exactly its Arrow array (no Python values, ints or join view)."""
    return c.arr is not None and c.py is None and c.ints is None and not c.is_const and \
        c.join is None


def _merge(positions, cols, extra):
    """Interleave the alive rows (at `positions`) and the deletes [(position, row)] in
    source order; typed columns get nulls on the deletes and lose `present`."""
    ids, bodies, hashes, dels, typed = cols
    pos = np.array(positions + [p for p, _ in extra], np.int64)
    order = np.argsort(pos, kind="stable").tolist()
    ids = ids + [r[0] for _, r in extra]
    bodies = bodies + [r[1] for _, r in extra]
    hashes = hashes + [r[2] for _, r in extra]
    dels = dels + [r[3] for _, r in extra]
    k = len(extra)
    idx = pa.array(order, pa.int64())
    typed = {c: pa.concat_arrays([a, pa.nulls(k, a.type)]).take(idx) for c, a in typed.items()}
    return ([ids[i] for i in order], [bodies[i] for i in order], [hashes[i] for i in order],
            [dels[i] for i in order], typed, set())
