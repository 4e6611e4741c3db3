"""A dataset: Parquet segments + commit log + LMDB indexes, with one writer and many readers.

Commit protocol for a batch (`append`): write the segment to a temp file, fsync, rename; append
the commit record (checksummed, fsynced) to the log — that line is the commit point; then apply
the rows to the indexes, which record the commit they reached. After a crash, the next writer
cuts a torn log tail, deletes temp and unreferenced segment files and replays committed batches
the indexes have not seen. Readers see commits up to what the indexes have applied, so a get,
a lookup and a scan agree.
"""

from __future__ import annotations

import bisect
import fcntl
import itertools
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storage import hashing, log, segments
from storage.errors import (CorruptionError, EntityError, StorageError, WriterLockedError)
from storage.index import HEADER, Index, id_key, set_aside
from storage.state import CHECKPOINT_EVERY, LogState, State, load_checkpoint, save_checkpoint

GROUP_ROWS = 65_536    # a grouped append commits once this many versions are pending...
GROUP_SECONDS = 1.0    # ...or this long after the group's first batch
MERGE_SMALL = 4_096    # segments with fewer rows are small: merged once there are MERGE_AFTER
MERGE_AFTER = 16       # of them at the end of the log

OUT_NAMES = {"offset": "_updated", "deleted": "_deleted", "ts": "_ts", "hash": "_hash",
             "previous": "_previous", segments.ORDER: "_order"}


@dataclass
class AppendStats:
    received: int = 0
    stored: int = 0
    unchanged: int = 0
    invalid: int = 0
    first_offset: int | None = None
    last_offset: int | None = None
    seq: int | None = None
    problems: list = field(default_factory=list)
    latest: dict | None = field(default=None, repr=False)   # _id -> offset (append's batch)

    def as_dict(self):
        d = dict(self.__dict__)
        d.pop("latest")
        d["problems"] = [{"position": p, "_id": i, "error": m} for p, i, m in self.problems]
        return d


class _Group:
    """Versions staged by grouped appends, committed together (one segment, one log record,
    one index transaction). `latest` maps each staged `_id` to its newest staged version, so
    change detection sees staged versions as if they were committed."""

    __slots__ = ("offs", "ids", "dels", "hashes", "prevs", "bodies", "stripped", "ts", "latest",
                 "meta", "props", "t0", "parts", "orders")

    def __init__(self):
        self.offs, self.ids, self.dels, self.hashes, self.prevs = [], [], [], [], []
        self.orders = None   # order keys (storage/partitioned.py), once a batch brings them
        self.bodies, self.stripped, self.ts = [], [], []
        self.latest: dict = {}
        self.meta: dict = {}
        self.props: dict = {}
        self.t0 = time.monotonic()
        # runs of staged rows: ["rows", n] (typed columns come from `stripped` at commit) or
        # ["cols", n, {p:<name>: array}, present names] (an append_columns batch's own)
        self.parts: list = []

    def add_orders(self, keys):
        """Order keys of the rows just staged (None: the batch has none)."""
        if keys is None and self.orders is None:
            return
        if self.orders is None:
            self.orders = [None] * (len(self.offs) - len(keys))
        self.orders.extend(keys if keys is not None else
                           [None] * (len(self.offs) - len(self.orders)))

    def add_rows(self, n):
        if n:
            if self.parts and self.parts[-1][0] == "rows":
                self.parts[-1][1] += n
            else:
                self.parts.append(["rows", n])

    def typed(self):
        """The segment's typed columns and the names every row has."""
        if all(p[0] == "rows" for p in self.parts):
            return segments.typed_columns(self.stripped)
        per, k = [], 0
        for p in self.parts:
            n = p[1]
            tp, pr = segments.typed_columns(self.stripped[k:k + n]) if p[0] == "rows" else \
                (p[2], p[3])
            per.append((tp, pr, n))
            k += n
        types, present = _merge_typed([({c: a.type for c, a in tp.items()}, pr)
                                       for tp, pr, _ in per])
        cols = {c: pa.concat_arrays([tp[c] if c in tp else pa.nulls(n, t) for tp, _, n in per])
                for c, t in types.items()}
        return cols, present


class Dataset:
    """Open with `writer=True` to append (takes the dataset's cross-process writer lock).

    Grouped appends (`append(..., group=True)`) are staged and committed together once
    `group_rows` versions are pending or `group_seconds` have passed since the group's first
    batch, and always before the writer reads, compacts, commits metadata or closes: what a
    grouped append returns is durable only after that commit, together with its `meta`."""

    def __init__(self, directory: str, name: str, writer: bool = False, fsync: bool = True):
        self.dir = directory
        self.name = name
        self.writer = writer
        self.fsync = fsync
        self.group_rows = GROUP_ROWS
        self.group_seconds = GROUP_SECONDS
        self._lock_fd = None
        self._log = None
        self._group = None
        self._state = None       # writer: the committed state, kept incrementally
        self._rstate = None      # reader: the log read incrementally, up to the index
        self.index = None
        if not os.path.isdir(directory):
            raise StorageError(f"no dataset directory {directory}")
        self.log_path = os.path.join(directory, "log")
        try:
            if writer:
                self._lock()
                ck = load_checkpoint(directory, self.log_path) \
                    if os.path.exists(self.log_path) else None
                self._log = log.LogWriter(self.log_path, fsync=fsync,
                                          start=None if ck is None else (ck[1], ck[0].seq))
                self._state = State() if ck is None else ck[0]
                for r in self._log.records:
                    self._state.add(r)
            else:
                self._rstate = LogState(directory, self.log_path)
            try:
                self.index = Index(os.path.join(directory, "index"))
            except CorruptionError:
                if not writer:
                    raise
                set_aside(os.path.join(directory, "index"))   # derived: rebuilt by _recover
                self.index = Index(os.path.join(directory, "index"))
            if writer:
                self._recover()
        except BaseException:
            self.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------
    def _lock(self):
        fd = os.open(os.path.join(self.dir, "writer.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            finally:
                os.close(fd)
            raise WriterLockedError(
                f"dataset {self.name!r} already has a writer (pid {holder}); "
                "one writer at a time, readers are fine") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def close(self):
        try:
            if self._log is not None and self._log.fd is not None:
                self.flush()
                if self._log.records and self._log.last_line:
                    self._checkpoint()
        finally:
            self._group = None
            if self._log is not None:
                self._log.close()
                self._log = None
            if self.index is not None:
                self.index.close()
                self.index = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recover(self):
        if self._state.seq == 0:
            self._commit({"kind": "meta", "props": {"generation": str(uuid.uuid4()),
                                                    "populated": False}})
        st = self._state
        live = {s["file"] for s in st.segments}
        for f in os.listdir(self.dir):
            if f.startswith("tmp-") or (f.startswith("seg-") and f not in live):
                os.unlink(os.path.join(self.dir, f))
        shutil.rmtree(os.path.join(self.dir, "index.old"), ignore_errors=True)  # a rebuild's
        iseq = self.index.seq()
        # the index is ahead of the log (log lost?), or new beside a log with commits (set
        # aside as damaged, or lost mid-rebuild): the log's appends may name segments that
        # compaction removed since, so rebuild from the live segments
        if iseq > st.seq or (iseq == 0 and st.seq > 0):
            self.rebuild_index()
            return
        if iseq < st.seq:
            recs = self._log.records if iseq >= self._log.base_seq else self._log.all_records()
            base = self._log.base_seq if recs is self._log.records else 0
            for r in recs[iseq - base:]:
                self._apply_record(r)

    def _apply_record(self, r):
        if r["kind"] == "append":
            s = r["segment"]
            t = segments.read(os.path.join(self.dir, s["file"]),
                              ["_id", "offset", "deleted", "hash", "ts", "previous", "body"])
            cols = [t.column(c).to_pylist() for c in t.column_names]
            self.index.apply(zip(*cols), r["seq"])
        elif r["kind"] == "compact":
            self.index.drop_superseded(r.get("dropped", ()))
            self.index.mark_seq(r["seq"])
        else:
            self.index.mark_seq(r["seq"])

    def rebuild_index(self):
        """Rebuild every index from the live segments of the committed state (the log is the
        truth), in a new environment beside the old one that then takes its place: a crash
        midway leaves the old index, or none (rebuilt again on the next writer's open)."""
        self._need_writer()
        self.flush()
        st = self._state
        path = os.path.join(self.dir, "index")
        tmp = os.path.join(self.dir, "index.rebuild")
        shutil.rmtree(tmp, ignore_errors=True)
        new = Index(tmp)
        try:
            for k, s in enumerate(sorted(st.segments, key=lambda s: s["first"]), 1):
                t = segments.read(os.path.join(self.dir, s["file"]),
                                  ["_id", "offset", "deleted", "hash", "ts", "previous", "body"])
                new.apply(zip(*[t.column(c).to_pylist() for c in t.column_names]), k)
            new.mark_seq(st.seq, force=True)   # the k above only kept apply's order check
        finally:
            new.close()
        self.index.close()
        old = os.path.join(self.dir, "index.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
        self.index = Index(path)

    def _need_writer(self):
        if not self.writer or self._log is None:
            raise StorageError(f"dataset {self.name!r} is open read-only")

    def _commit(self, rec: dict) -> dict:
        """Append a commit record (the commit point) and fold it into the state."""
        rec = self._log.append(rec)
        self._state.add(rec)
        return rec

    def _checkpoint(self):
        save_checkpoint(self.dir, self._state, self._log.pos, self._log.last_line)
        self._log.forget()

    def _applied(self, seq: int):
        """After the index applied commit `seq`: checkpoint now and then."""
        if seq % CHECKPOINT_EVERY == 0:
            self._checkpoint()

    # -- state ---------------------------------------------------------------------------
    def state(self) -> State:
        """The committed state readers see: log records up to what the indexes applied (a
        writer commits its pending group first)."""
        if self._log is not None:
            self.flush()
            return self._state
        return self._rstate.upto(self.index.seq())

    @property
    def last_offset(self) -> int:
        return self.state().last_offset

    @property
    def populated(self) -> bool:
        return bool(self.state().props.get("populated"))

    @property
    def meta(self) -> dict:
        return self.state().meta

    def info(self) -> dict:
        st = self.state()
        c = self.index.counts()
        return {
            "name": self.name, "entities": c["exists"] + c["deleted"],
            "count-index-exists": c["exists"], "count-index-deleted": c["deleted"],
            "count-log-exists": st.log_exists, "count-log-deleted": st.log_deleted,
            "last_offset": st.last_offset, "segments": len(st.segments), "commits": st.seq,
            "bytes": sum(s["bytes"] for s in st.segments),
            "populated": bool(st.props.get("populated")), "generation": st.props.get("generation"),
            "completeness": st.props.get("completeness"), "indexes": [list(p) for p in self.index.paths()],
            "meta": st.meta,
        }

    # -- writing -------------------------------------------------------------------------
    def append(self, entities, meta: dict | None = None, force: bool = False,
               skip_invalid: bool = False, props: dict | None = None,
               group: bool = False, finite: bool = False, order=None) -> AppendStats:
        """Append a batch with change detection, atomically with `meta` (e.g. a pipe's offset).

        A version is stored only if its hash differs from the latest version of its `_id`
        (`force` stores anyway). Bad entities raise EntityError before anything is written,
        or with `skip_invalid` are reported in the stats while the rest are stored. With
        `group`, the batch joins the pending group (see the class doc); `seq` in the stats is
        then set only when this call committed the group. `finite`: the caller knows every
        float in the batch is finite (parsed by orjson), so the check is skipped. `order`:
        `_id` -> the stored version's order key (bytes; storage/partitioned.py).
        """
        self._need_writer()
        if not isinstance(entities, list):
            entities = list(entities)
        rows, problems = hashing.prepare(entities, defer_finite=True)
        g = self._group
        latest = self.index.latest([r[0] for r in rows])
        if g is not None and g.latest:
            gl = g.latest
            latest = [gl.get(r[0], cur) for r, cur in zip(rows, latest)]
        # The non-finite-float walk is only needed for rows that will be written: a row whose
        # hash equals its stored version has the bytes of a version checked when it was stored.
        bad = []
        for i, (r, cur) in enumerate(() if finite else zip(rows, latest)):
            if r[5] >= 0 and (force or cur is None or cur[0] != r[2]):
                try:
                    hashing.check_finite(r[4])
                except ValueError as ex:
                    problems.append((r[5], r[0], str(ex)))
                    bad.append(i)
        if bad:
            problems.sort(key=lambda p: p[0])
            drop = set(bad)
            rows = [r for i, r in enumerate(rows) if i not in drop]
            latest = [c for i, c in enumerate(latest) if i not in drop]
        st = AppendStats(received=len(entities), invalid=len(problems), problems=problems)
        if problems and not skip_invalid:
            raise EntityError(problems)
        if g is None:
            g = self._group = _Group()
        nxt = (g.offs[-1] if g.offs else self._state.last_offset) + 1
        first = nxt
        pending = g.latest
        ts = time.time_ns() // 1000
        where = st.latest = {}
        for (eid, body, h, deleted, s, _), cur in zip(rows, latest):
            p = pending.get(eid, cur)
            if p is not None and p[0] == h and not force:
                st.unchanged += 1
                where[eid] = p[1]
                continue
            where[eid] = nxt
            # the shape of an index header: (hash, offset, ts, previous, deleted)
            pending[eid] = (h, nxt, ts, None if p is None else p[1], deleted, len(g.offs))
            g.offs.append(nxt)
            g.ids.append(eid)
            g.dels.append(deleted)
            g.hashes.append(h)
            g.prevs.append(None if p is None else p[1])
            g.bodies.append(body)
            g.stripped.append(s)
            g.ts.append(ts)
            nxt += 1
        st.stored = nxt - first
        g.add_orders(None if order is None else list(map(order, g.ids[len(g.ids) - st.stored:])))
        g.add_rows(st.stored)
        if st.stored:
            st.first_offset, st.last_offset = first, nxt - 1
        return self._staged(st, meta, props, group)

    def _staged(self, st, meta, props, group):
        g = self._group
        if meta:
            g.meta.update(meta)
        if props:
            g.props.update(props)
        if not group or len(g.offs) >= self.group_rows or \
                time.monotonic() - g.t0 >= self.group_seconds:
            st.seq = self.flush()
        return st

    def append_columns(self, ids: list, deleted: list, bodies: list, hashes: list,
                       typed: dict | None = None, present=(), meta: dict | None = None,
                       group: bool = False, order=None, props: dict | None = None
                       ) -> AppendStats:
        """`append` for a batch already in canonical form (a columnar writer's): `ids` unique
        strings, `bodies` their canonical bytes (finite floats only, see hashing), `hashes`
        their digests, `deleted` the flags, `typed` {`p:<name>`: array} typed columns of the
        rows with `present` the names every row has. Change detection, grouping, `order` and
        the commit are `append`'s; no entity dict is built."""
        self._need_writer()
        n = len(ids)
        g = self._group
        if g is None:
            g = self._group = _Group()
        pending = g.latest
        c = self.index.counts()
        if c["exists"] or c["deleted"] or pending:
            latest = self.index.latest(ids) if c["exists"] or c["deleted"] else [None] * n
            if pending:
                latest = [pending.get(e, x) for e, x in zip(ids, latest)]
            keep = None if latest.count(None) == n else \
                [x is None or x[0] != h for x, h in zip(latest, hashes)]
        else:
            latest, keep = [None] * n, None
        if keep is not None and not all(keep):
            sel = [i for i, k in enumerate(keep) if k]
            ids = [ids[i] for i in sel]
            deleted = [deleted[i] for i in sel]
            bodies = [bodies[i] for i in sel]
            hashes = [hashes[i] for i in sel]
            latest = [latest[i] for i in sel]
            if typed:
                idx = pa.array(sel, pa.int64())
                typed = {k: a.take(idx) for k, a in typed.items()}
        m = len(ids)
        st = AppendStats(received=n, unchanged=n - m, stored=m)
        if m:
            first = (g.offs[-1] if g.offs else self._state.last_offset) + 1
            ts = time.time_ns() // 1000
            offs = range(first, first + m)
            prevs = [None if x is None else x[1] for x in latest]
            base = len(g.offs)
            pending.update(zip(ids, zip(hashes, offs, itertools.repeat(ts, m), prevs, deleted,
                                        range(base, base + m))))
            g.offs.extend(offs)
            g.ids.extend(ids)
            g.dels.extend(deleted)
            g.hashes.extend(hashes)
            g.prevs.extend(prevs)
            g.bodies.extend(bodies)
            g.stripped.extend(itertools.repeat(None, m))
            g.ts.extend(itertools.repeat(ts, m))
            g.parts.append(["cols", m, dict(typed or {}), set(present)])
            g.add_orders(None if order is None else list(map(order, ids)))
            st.first_offset, st.last_offset = first, first + m - 1
        return self._staged(st, meta, props, group)

    def flush(self) -> int | None:
        """Commit the pending group (if any); returns the commit's seq."""
        g = self._group
        if g is None:
            return None
        self._group = None
        if not g.offs:
            if not (g.meta or g.props):
                return None
            seq = self._commit({"kind": "meta", "meta": g.meta or None,
                                "props": g.props or None})["seq"]
            self.index.mark_seq(seq)
            self._applied(seq)
            return seq
        seq = self._log.next_seq
        offs = g.offs
        typed, present = g.typed()
        table = segments.build_table(offs, g.ids, g.dels, g.ts, g.hashes, g.prevs, g.bodies,
                                     typed, present, g.orders)
        name = f"seg-{seq:010d}.parquet"
        size = segments.write(table, self.dir, name, fsync=self.fsync)
        rec = {"kind": "append", "segment": {"file": name, "first": offs[0], "last": offs[-1],
                                             "rows": len(offs), "deleted": sum(g.dels),
                                             "bytes": size},
               "ts": g.ts[-1]}
        if g.meta:
            rec["meta"] = g.meta
        if g.props:
            rec["props"] = g.props
        if self.fsync:
            segments.fsync_dir(self.dir)  # the rename must be durable before the commit line
        seq = self._commit(rec)["seq"]
        self.index.apply_columns(g.ids, offs, g.dels, g.hashes, g.ts, g.prevs, g.bodies, seq)
        self._applied(seq)
        self._merge_small()
        return seq

    def commit_meta(self, meta: dict | None = None, **props) -> int:
        """Commit metadata (and flags such as populated, completeness) without entities; a
        pending group is committed with it, in the same commit."""
        self._need_writer()
        g = self._group
        if g is None:
            g = self._group = _Group()
        if meta:
            g.meta.update(meta)
        g.props.update(props)
        seq = self.flush()
        if seq is None:  # nothing to say: still a commit, as callers count on one
            seq = self._commit({"kind": "meta", "meta": None, "props": None})["seq"]
            self.index.mark_seq(seq)
        return seq

    def set_populated(self, populated: bool = True) -> None:
        self.commit_meta(populated=bool(populated))

    def delete(self, ids, meta=None) -> AppendStats:
        """Tombstones: a deleted version (copy of the latest body) for each existing id."""
        out = []
        for eid in ids:
            e = self.get(eid)
            if e is not None and not e["_deleted"]:
                e["_deleted"] = True
                out.append(e)
        return self.append(out, meta=meta)

    def track_deletions(self, seen, run_started_offset: int | None = None, mark: bool = False,
                        meta: dict | None = None, batch_size: int = 10_000, order=None,
                        props: dict | None = None) -> int:
        """After a complete full run: delete every live `_id` not in `seen`.

        Ids whose latest version is newer than `run_started_offset` were written by a
        concurrent incremental run and are skipped. With `mark`, deletes carry
        `$deletion_tracked: true`. `order` and `props` as for `append`. Returns the number
        of deletes written.
        """
        self._need_writer()
        self.flush()
        if run_started_offset is not None and run_started_offset < 0:
            doomed = []   # empty when the run started: every live id was written by it
        else:
            doomed = [eid for eid, hdr in self.index.ids() if eid not in seen and
                      (run_started_offset is None or hdr[1] <= run_started_offset)]
        n = 0
        for k in range(0, len(doomed), batch_size) or [0]:
            batch = []
            for eid in doomed[k:k + batch_size]:
                e = self.index.get(eid)
                e["_deleted"] = True
                if mark:
                    e["$deletion_tracked"] = True
                batch.append(e)
            last = k + batch_size >= len(doomed)
            n += self.append(batch, meta=meta if last else None, group=not last, order=order,
                             props=props).stored
        return n

    # -- compaction of small segments -------------------------------------------------------
    def _merge_small(self):
        """Merge the small segments at the end of the log into one once there are
        MERGE_AFTER of them (many small commits never leave thousands of files)."""
        segs = self._state.segments
        k = len(segs)
        while k > 0 and segs[k - 1]["rows"] < MERGE_SMALL:
            k -= 1
        if len(segs) - k >= MERGE_AFTER:
            self.merge_segments(segs[k:])

    def merge_segments(self, run: list[dict]) -> dict | None:
        """Rewrite adjacent segments (in log order) as one; offsets and versions unchanged."""
        if len(run) < 2:
            return None
        t = _concat_segments([segments.read(os.path.join(self.dir, s["file"])) for s in run])
        seq = self._log.next_seq
        name = f"seg-{seq:010d}-m.parquet"
        size = segments.write(t, self.dir, name, fsync=self.fsync)
        if self.fsync:
            segments.fsync_dir(self.dir)
        add = {"file": name, "first": run[0]["first"], "last": run[-1]["last"],
               "rows": t.num_rows, "bytes": size, "deleted": sum(s["deleted"] for s in run)}
        rec = self._commit({"kind": "compact", "remove": [s["file"] for s in run],
                            "add": [add], "dropped": []})
        self.index.mark_seq(rec["seq"])
        self._applied(rec["seq"])
        for s in run:  # readers holding the old layout re-read the state (see batches)
            try:
                os.unlink(os.path.join(self.dir, s["file"]))
            except FileNotFoundError:
                pass
        return add

    # -- reading -------------------------------------------------------------------------
    def get(self, entity_id: str) -> dict | None:
        """The latest version of `_id` (deleted ones too, with `_deleted: true`)."""
        if type(entity_id) is not str:
            return None
        g = self._group
        if g is not None:
            p = g.latest.get(entity_id)
            if p is not None and len(p) == 6:  # staged here, not committed yet
                h, off, ts, prev, deleted, i = p
                e = hashing.decode_body(g.bodies[i])
                e.update({"_deleted": deleted, "_updated": off, "_previous": prev, "_ts": ts,
                          "_hash": h.hex()})
                return e
        return self.index.get(entity_id)

    def same_input(self, ids, digests) -> list[bool]:
        """Whether each id's latest committed version was stored from input bytes with that
        digest (`record_input`); the pending group is committed first."""
        self.flush()
        return self.index.same_input(ids, digests)

    def record_input(self, ids, digests, offsets) -> None:
        """Note the digest of the input each version at `offsets` was stored from (a hint
        for `same_input`, kept in the index; written after the versions' commit)."""
        self.flush()
        if ids:
            self.index.record_input(ids, digests, offsets)

    def live(self, ids) -> list[bool]:
        """Per id whether its latest version (staged ones included) exists undeleted."""
        g = self._group
        pending = g.latest if g is not None else {}
        c = self.index.counts()
        if not (c["exists"] or c["deleted"]):   # nothing committed: the staged versions only
            return [x is not None and not x[4] for x in map(pending.get, ids)]
        return [x is not None and not x[4] for x in
                (pending.get(e, c) for e, c in zip(ids, self.index.latest(ids)))]

    def batches(self, since: int | None = None, history: bool = False, deleted: bool = True,
                limit: int | None = None, columns=None, batch_size: int = 8192):
        """Stream versions with offset > `since` as Arrow record batches, in offset order.

        Columns: `_updated _id _deleted _ts _hash _previous body` and the typed `p:<name>`
        columns a segment has (`columns` selects; `p:*` there is every typed column). Latest-only (default) emits a version only while it is the
        latest of its `_id`; `deleted=False` then omits deletes. A segment removed by a
        concurrent compaction is found again in the new state, from the last offset emitted.
        """
        pos = -1 if since is None else since
        left = limit
        segs = None
        while True:
            cur = self.state().segments  # replaced, never changed in place, by a new commit
            if cur is not segs:  # (re)find our place: new segments, or compacted under us
                segs = cur
                i = bisect.bisect_right([s["last"] for s in segs], pos)
            if i >= len(segs):
                return
            seg = segs[i]
            try:
                for b in self._segment_batches(seg, pos, history, deleted, columns, batch_size):
                    if left is not None:
                        if b.num_rows >= left:
                            b = b.slice(0, left)
                            left = 0
                        else:
                            left -= b.num_rows
                    if b.num_rows:
                        pos = b.column(0)[b.num_rows - 1].as_py()
                        yield b
                    if left == 0:
                        return
            except FileNotFoundError:
                if self.state().segments is segs:
                    raise CorruptionError(f"segment {seg['file']} of {self.name!r} is missing")
                segs = None  # compacted under us: continue in the new layout
                continue
            pos = max(pos, seg["last"])
            i += 1

    def _segment_batches(self, seg, since, history, deleted, columns, batch_size):
        path = os.path.join(self.dir, seg["file"])
        cols = None
        if columns is not None:
            want = {"offset", "deleted"} | {k for k, v in OUT_NAMES.items() if v in columns} | set(columns)
            cols = [c for c in segments.SYSTEM if c in want] + [c for c in columns if c.startswith("p:")]
            if segments.ORDER in want:
                cols.append(segments.ORDER)
        sup = None
        if not history:
            sup = self.index.superseded(max(since + 1, seg["first"]), seg["last"])
            sup = np.array(sup, dtype=np.int64) if sup else None
        for b in segments.batches(path, cols, batch_size):
            offs = b.column(0).to_numpy()
            mask = None
            if since >= seg["first"]:
                mask = offs > since
            if sup is not None:
                m = ~np.isin(offs, sup)
                mask = m if mask is None else mask & m
            if not history and not deleted:
                m = ~b.column(b.schema.get_field_index("deleted")).to_numpy(zero_copy_only=False)
                mask = m if mask is None else mask & m
            if mask is not None:
                if not mask.any():
                    continue
                if not mask.all():
                    b = b.filter(pa.array(mask))
            yield b.rename_columns([OUT_NAMES.get(n, n) for n in b.schema.names])

    def entities(self, since=None, history=False, deleted=True, limit=None, batch_size=8192):
        """The same stream as `batches`, as entity dicts (built one batch at a time)."""
        for b in self.batches(since, history, deleted, limit, batch_size=batch_size,
                              columns=["_updated", "_id", "_deleted", "_ts", "_hash", "_previous", "body"]):
            yield from batch_entities(b)

    def version_at(self, offset: int, _cache=None) -> dict | None:
        """The stored version at `offset` (None if compacted away or out of range)."""
        st = self.state()
        i = bisect.bisect_right(st.firsts, offset) - 1
        if i < 0 or offset > st.segments[i]["last"]:
            return None
        seg = st.segments[i]
        t = None if _cache is None else _cache.get(seg["file"])
        if t is None:
            t = segments.read(os.path.join(self.dir, seg["file"]),
                              ["offset", "_id", "deleted", "ts", "hash", "previous", "body"])
            if _cache is not None:
                _cache[seg["file"]] = t
        j = int(np.searchsorted(t.column("offset").to_numpy(), offset))
        if j >= t.num_rows or t.column("offset")[j].as_py() != offset:
            return None
        r = {c: t.column(c)[j].as_py() for c in t.column_names}
        e = hashing.decode_body(r["body"])
        e.update({"_deleted": r["deleted"], "_updated": offset, "_previous": r["previous"],
                  "_ts": r["ts"], "_hash": r["hash"].hex()})
        return e

    def history(self, entity_id: str) -> list[dict]:
        """Every stored version of `_id`, oldest first (following `_previous`)."""
        e = self.get(entity_id)
        out, cache = [], {}
        while e is not None:
            out.append(e)
            p = e["_previous"]
            e = None if p is None else self.version_at(p, cache)
            if e is not None and e["_id"] != entity_id:  # pragma: no cover - corrupt chain
                raise CorruptionError(f"_previous of {entity_id!r} points at another _id")
        out.reverse()
        return out

    def ensure_index(self, path) -> bool:
        """Declare a secondary index on a property path (tuple of names); builds it if new."""
        return self.index.ensure(tuple(path))

    def lookup(self, path, values) -> list[dict]:
        if tuple(path) == ("_deleted",):
            # a join on `_deleted` (dtl.provider.live_match): every live entity when the
            # values hold false, in id-key order as lookups are; none otherwise
            return list(self.index.scan()) if any(v is False for v in values) else []
        self.index.ensure(tuple(path))
        return self.index.lookup(tuple(path), values)

    def counts(self) -> dict:
        i = self.info()
        return {k: i[k] for k in ("count-log-exists", "count-log-deleted", "count-index-exists",
                                  "count-index-deleted")}

    # -- compaction ----------------------------------------------------------------------
    def compact(self, keep_versions: int = 2, time_threshold_hours: float | None = None,
                hold_offset: int | None = None, now_us: int | None = None) -> dict:
        """Remove old versions: keep the latest of every `_id` plus its newest `keep_versions`
        older ones, everything younger than `time_threshold_hours`, and everything after
        `hold_offset` (the lowest offset a dependency-tracking reader still needs: the log is
        compacted as if it ended there, so the version it will compare against survives).
        Offsets never change; readers at any offset continue (see `batches`)."""
        self._need_writer()
        if keep_versions < 0:
            raise ValueError("keep_versions must be >= 0")
        if keep_versions == 0 and time_threshold_hours is None:
            raise ValueError("keep_versions 0 requires a time threshold")
        st = self.state()
        if not st.segments:
            return {"removed": 0, "segments_rewritten": 0}
        parts = [segments.read(os.path.join(self.dir, s["file"]), ["_id", "offset", "ts"])
                 for s in st.segments]
        t = pa.concat_tables(parts).combine_chunks()
        offs = t.column("offset").to_numpy()
        ts = t.column("ts").to_numpy()
        codes = pc.dictionary_encode(t.column("_id")).combine_chunks().indices.to_numpy()
        hold = np.iinfo(np.int64).max if hold_offset is None else hold_offset
        # the log as if it ended at the hold: rank each version among the versions of its
        # _id up to the hold, newest first (0 = latest there); later versions all stay
        win = np.flatnonzero(offs <= hold)
        order = win[np.lexsort((-offs[win], codes[win]))]
        sc = codes[order]
        starts = np.r_[0, np.flatnonzero(sc[1:] != sc[:-1]) + 1] if len(sc) else np.zeros(0, np.int64)
        grp = np.repeat(starts, np.diff(np.r_[starts, len(sc)]))
        drop = np.zeros(len(offs), dtype=bool)
        drop[order] = (np.arange(len(order)) - grp) > keep_versions
        if time_threshold_hours is not None:
            now = time.time_ns() // 1000 if now_us is None else now_us
            drop &= ts < now - int(time_threshold_hours * 3600e6)
        if not drop.any():
            return {"removed": 0, "segments_rewritten": 0, "segments_merged": self._merge_runs()}
        dropped = offs[drop]
        seq = self._log.next_seq
        remove, add, k = [], [], 0
        gone = set(dropped.tolist())
        for s in st.segments:
            n = s["rows"]
            segdrop = drop[k:k + n]
            k += n
            if not segdrop.any():
                continue
            remove.append(s["file"])
            full = segments.read(os.path.join(self.dir, s["file"]))
            keep = full.filter(pa.array(~segdrop))
            if keep.num_rows:
                name = f"seg-{seq:010d}-{len(add):04d}.parquet"
                size = segments.write(keep, self.dir, name, fsync=self.fsync)
                o = keep.column("offset")
                add.append({"file": name, "first": o[0].as_py(), "last": o[-1].as_py(),
                            "rows": keep.num_rows, "bytes": size,
                            "deleted": pc.sum(keep.column("deleted")).as_py() or 0})
        if self.fsync:
            segments.fsync_dir(self.dir)
        rec = self._commit({"kind": "compact", "remove": remove, "add": add,
                            "dropped": sorted(gone)})
        self.index.drop_superseded(gone)
        self.index.mark_seq(rec["seq"])
        for f in remove:  # readers holding the old layout re-read the state (see batches)
            try:
                os.unlink(os.path.join(self.dir, f))
            except FileNotFoundError:
                pass
        return {"removed": len(gone), "segments_rewritten": len(remove),
                "segments_written": len(add), "segments_merged": self._merge_runs()}

    def _merge_runs(self) -> int:
        """Merge every run of adjacent segments that fit in one of GROUP_ROWS rows; returns
        how many segments were merged away."""
        n, run, rows = 0, [], 0
        for s in list(self._state.segments) + [None]:
            if s is not None and s["rows"] < GROUP_ROWS // 2 and rows + s["rows"] <= GROUP_ROWS:
                run.append(s)
                rows += s["rows"]
                continue
            if len(run) > 1:
                self.merge_segments(run)
                n += len(run) - 1
            run, rows = ([s], s["rows"]) if s is not None and s["rows"] < GROUP_ROWS // 2 \
                else ([], 0)
        return n

    # -- verification --------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Check that log, segments and indexes agree; returns the problems found."""
        from dtl.provider import path_values
        from storage.index import value_key
        probs = []
        recs, valid = log.read(self.log_path)
        size = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        if valid != size and self._log is None:
            probs.append(f"commit log has {size - valid} bytes of torn tail after commit {len(recs)}")
        st = self.state()
        iseq = self.index.seq()
        if iseq != st.seq:
            probs.append(f"index applied commit {iseq}, log has {st.seq}")
        latest: dict = {}
        prev_last = -1
        nrows = 0
        for s in st.segments:
            p = os.path.join(self.dir, s["file"])
            try:
                t = segments.read(p, ["offset", "_id", "deleted", "hash", "body"])
            except (OSError, pa.ArrowException) as ex:
                probs.append(f"segment {s['file']}: unreadable: {ex}")
                continue
            offs = t.column("offset").to_pylist()
            if len(offs) != s["rows"]:
                probs.append(f"segment {s['file']}: {len(offs)} rows, log says {s['rows']}")
            if offs and (offs[0] != s["first"] or offs[-1] != s["last"]):
                probs.append(f"segment {s['file']}: offsets {offs[0]}..{offs[-1]}, log says "
                             f"{s['first']}..{s['last']}")
            if any(b <= a for a, b in zip(offs, offs[1:])) or (offs and offs[0] <= prev_last):
                probs.append(f"segment {s['file']}: offsets not increasing")
            prev_last = offs[-1] if offs else prev_last
            nrows += len(offs)
            for off, eid, d, h, body in zip(offs, t.column("_id").to_pylist(), t.column("deleted").to_pylist(),
                                            t.column("hash").to_pylist(), t.column("body").to_pylist()):
                if hashing.digest(body) != h:
                    probs.append(f"offset {off}: hash does not match body")
                latest[eid] = (off, d, h)
        stray = [f for f in os.listdir(self.dir) if f.startswith("tmp-")]
        if stray and self._log is not None:
            probs.append(f"uncommitted temp files: {stray}")
        if nrows != st.log_exists + st.log_deleted:
            probs.append(f"log counts {st.log_exists + st.log_deleted} rows, segments hold {nrows}")
        if iseq != st.seq:
            return probs
        n = ex = de = 0
        live = {}
        for eid, hdr in self.index.ids(deleted=True):
            n += 1
            h, off, _, _, d = hdr
            want = latest.get(eid)
            if want is None:
                probs.append(f"index has {eid!r}, no segment does")
            elif want != (off, d, h):
                probs.append(f"index has {eid!r} at offset {off}, segments at {want[0]}")
            if d:
                de += 1
            else:
                ex += 1
                live[eid] = None
        if n != len(latest):
            probs.append(f"index has {n} ids, segments {len(latest)}")
        c = self.index.counts()
        if (c["exists"], c["deleted"]) != (ex, de):
            probs.append(f"index counts {c}, actual exists {ex} deleted {de}")
        sup = set(self.index.superseded(0, max(st.last_offset, 0)))
        latest_offs = {v[0] for v in latest.values()}
        if sup & latest_offs:
            probs.append(f"{len(sup & latest_offs)} latest versions marked superseded")
        if nrows - len(latest_offs) != len(sup & set(_all_offsets(self, st))):
            probs.append("superseded set does not match the segments")
        for path in self.index.paths():
            want = set()
            for e in self.index.scan():
                k = id_key(e["_id"])
                for v in path_values(e, path):
                    want.add((value_key(v), k))
            have = {(bytes(a), bytes(b)) for a, b in self.index.index_entries(path)}
            if want != have:
                probs.append(f"index {'.'.join(path)}: {len(have - want)} stale, {len(want - have)} missing entries")
        return probs


def batch_entities(b) -> list[dict]:
    """The entities of a batch from `Dataset.batches` (its system columns and bodies)."""
    decode = hashing.decode_body
    offs = b.column("_updated").to_pylist()
    dels = b.column("_deleted").to_pylist()
    tss = b.column("_ts").to_pylist()
    hs = b.column("_hash").to_pylist()
    prevs = b.column("_previous").to_pylist()
    out = []
    for i, body in enumerate(b.column("body").to_pylist()):
        e = decode(body)
        e["_deleted"] = dels[i]
        e["_updated"] = offs[i]
        e["_previous"] = prevs[i]
        e["_ts"] = tss[i]
        e["_hash"] = hs[i].hex()
        out.append(e)
    return out


def _concat_segments(parts: list) -> pa.Table:
    """Segments as one table: a typed `p:` column survives only where every part that has it
    agrees on its type (rows of the other parts get nulls, which readers take from the body);
    it keeps `dtl.present` only when every part has the column with that marker."""
    typed, present = _merge_typed([({f.name: f.type for f in p.schema
                                     if f.name.startswith(segments.PROP)},
                                    {f.name for f in p.schema if segments.is_present(f)})
                                   for p in parts])
    out = []
    keyed = any(segments.ORDER in p.schema.names for p in parts)
    for p in parts:
        cols = {c: p.column(c) for c in segments.SYSTEM}
        if keyed:   # order keys survive a merge (rows of parts without them: null)
            cols[segments.ORDER] = p.column(segments.ORDER) if segments.ORDER in \
                p.schema.names else pa.nulls(p.num_rows, pa.binary())
        for k, t in typed.items():
            cols[k] = p.column(k) if k in p.schema.names else pa.nulls(p.num_rows, t)
        fields = [pa.field(k, c.type, metadata=segments.PRESENT if k in present else None)
                  for k, c in cols.items()]
        out.append(pa.Table.from_arrays(list(cols.values()), schema=pa.schema(fields)))
    return pa.concat_tables(out)


def _merge_typed(parts):
    """[(name -> type, present names)] of consecutive parts -> (name -> type, present) of
    the whole: a name whose parts agree on one type; present where every part is."""
    types: dict = {}
    for tp, _ in parts:
        for k, t in tp.items():
            types.setdefault(k, set()).add(t)
    typed = {k: next(iter(v)) for k, v in sorted(types.items()) if len(v) == 1}
    present = {k for k in typed if all(k in pr for _, pr in parts)}
    return typed, present


def _all_offsets(ds, st):
    for s in st.segments:
        yield from segments.read(os.path.join(ds.dir, s["file"]), ["offset"]).column(0).to_pylist()


__all__ = ["Dataset", "AppendStats", "State", "EntityError", "HEADER"]
