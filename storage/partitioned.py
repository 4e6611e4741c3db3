"""Partitioned datasets: one dataset split into N shards by a stable hash of `_id`.

Layout: `<dataset dir>/partitions.json` ({"format": 1, "shards": N, "hash": ...}) and one
directory `shard-0000` ... per shard, each a whole `storage.Dataset` (its own commit log,
offsets, segments and indexes, its own writer lock). A version lives in shard
`shard_of(_id, N)`: XXH3-64 (seed 0) of the `_id`'s UTF-8 bytes, modulo N. XXH3 is specified
byte for byte, so every machine, Python version and process agrees (Python's `hash()` does
not: it is salted per process).

Offsets are per shard, so a position in a partitioned dataset is a vector of per-shard offsets.
It travels as one opaque token (`encode_since`): what `since` parameters, pipe state and
`update-last-seen` carry. One writer per shard: the distributed executor (runtime/executor)
opens each shard's writer in the task that owns it; `PartitionedDataset(writer=True)` takes
every shard's lock, for a single process that writes the whole dataset.

Order keys: the default executor's dataset has one log, and a reader sees its versions in the
order they were written - which version of several with one `_id` a downstream pipe keeps
depends on it. Shards have a log each, so every version carries its position in its
writer's order (`order_key`; the segment column `order`) and whole reads merge the shards by
it. A key is bytes that sort as versions were written: the writer's epoch (8 bytes, later for
every later writer of the dataset), a phase and a tail:

* a whole writer (`PartitionedDataset(writer=True)`): phase WRITE, its counter (8 bytes);
* a shard task (runtime/executor/task.py): phase WRITE and the key of the source version it
  came from (all shards of one pump run share the epoch, so their outputs interleave as the
  sources did), phase REQUEUE and the `_id` for dependency re-reads (the default pump writes
  them after the reads, in `_id` order);
* deletion tracking: phase DELETE and the `_id` (after the run's writes, in index order).

Versions without a key (datasets written before keys existed) sort first, shard by shard: a
dataset without keys reads as it did before them.
"""

from __future__ import annotations

import heapq
import os
import time
from operator import itemgetter

import orjson
from xxhash import xxh3_64_intdigest

from storage.dataset import AppendStats, Dataset
from storage.errors import StorageError
from storage.index import id_key

LAYOUT = "partitions.json"
HASH = "xxh3_64(utf-8 _id, seed 0) mod shards"
TOKEN = "p:"
WRITE, REQUEUE, DELETE = 0, 1, 2     # phases of an order key
EPOCH = "order-epoch"                # shard prop: the latest epoch of its order keys


def shard_of(eid: str, shards: int) -> int:
    """The shard of an `_id` (stable across machines and processes)."""
    return xxh3_64_intdigest(eid.encode("utf-8", "surrogatepass")) % shards


def shard_dir(directory: str, k: int) -> str:
    return os.path.join(directory, f"shard-{k:04d}")


def is_partitioned(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, LAYOUT))


def read_layout(directory: str) -> dict:
    with open(os.path.join(directory, LAYOUT), "rb") as f:
        lay = orjson.loads(f.read())
    if lay.get("format") != 1 or not isinstance(lay.get("shards"), int) or lay["shards"] < 1:
        raise StorageError(f"{directory}: unreadable {LAYOUT}: {lay!r}")
    return lay


def create(directory: str, shards: int) -> None:
    """Lay out a partitioned dataset (the directory must not hold a dataset yet)."""
    if shards < 1:
        raise StorageError("a partitioned dataset needs at least one shard")
    if os.path.exists(os.path.join(directory, "log")):
        raise StorageError(f"{directory} already holds an unpartitioned dataset")
    os.makedirs(directory, exist_ok=True)
    if is_partitioned(directory):
        if read_layout(directory)["shards"] != shards:
            raise StorageError(f"{directory} is partitioned into "
                               f"{read_layout(directory)['shards']} shards, not {shards}")
        return
    for k in range(shards):
        os.makedirs(shard_dir(directory, k), exist_ok=True)
    tmp = os.path.join(directory, f"tmp-{LAYOUT}")
    with open(tmp, "wb") as f:
        f.write(orjson.dumps({"format": 1, "shards": shards, "hash": HASH}))
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(directory, LAYOUT))   # the layout exists once it is complete


# -- order keys ---------------------------------------------------------------------------
def order_key(epoch: int, phase: int, tail: bytes = b"") -> bytes:
    return epoch.to_bytes(8, "big") + bytes((phase,)) + tail


def id_tail(eid: str) -> bytes:
    """The tail of REQUEUE and DELETE keys: the index's key order (UTF-8 for most `_id`s,
    the order a sorted list of `_id`s has)."""
    return id_key(eid)


def next_epoch(shards, at_least: int = 0) -> int:
    """An epoch later than every key in `shards` (the clock's, unless a shard's keys are
    already later than the clock: clocks of other machines, or one set back)."""
    last = max((s.state().props.get(EPOCH) or 0 for s in shards), default=0)
    return max(time.time_ns(), at_least, last + 1)


# -- since tokens --------------------------------------------------------------------------
def encode_since(offsets) -> str:
    """Per-shard offsets as one token: `p:` and the offsets, comma separated."""
    return TOKEN + ",".join(str(int(o)) for o in offsets)


def decode_since(token, shards: int) -> list[int]:
    """The per-shard offsets of a token (None or -1: the start of every shard). Raises
    ValueError naming what is wrong."""
    if token is None or (type(token) is int and token == -1):
        return [-1] * shards
    if not isinstance(token, str) or not token.startswith(TOKEN):
        raise ValueError(f"since {token!r} is not a partitioned dataset's position "
                         f"(expected a token like {encode_since([-1] * shards)!r})")
    try:
        offs = [int(x) for x in token[len(TOKEN):].split(",")]
    except ValueError:
        raise ValueError(f"since token {token!r}: offsets must be integers") from None
    if len(offs) != shards:
        raise ValueError(f"since token {token!r} has {len(offs)} offsets; the dataset has "
                         f"{shards} shards")
    return offs


def _offsets(x) -> list[int] | None:
    if isinstance(x, str) and x.startswith(TOKEN):
        try:
            return [int(v) for v in x[len(TOKEN):].split(",")]
        except ValueError:
            return None
    return None


class Position(str):
    """A position in a partitioned dataset: a since token (a `str`, so pipe states and the
    API carry it as they carry any token). Entities read from a partitioned dataset have one
    as `_updated` (the position after them: where a reader that stops there resumes) and
    `_previous` (the shard-local offset of the previous version, the other shards at -1), so
    code that keeps `_updated` of the last entity read as its position, or compares it with a
    limit, works as on one dataset. `p > t`: `p` is past `t` in some shard (not covered by
    it); an integer `t` stands for every shard at `t`."""

    __slots__ = ()

    def _cmp(self, other):
        """(a, b) to compare: offset lists, or the furthest shard and an integer."""
        a = _offsets(self)
        if a is None:
            return None
        if type(other) is int:
            return max(a), other
        b = _offsets(other)
        if b is None or len(a) != len(b):
            return None
        return a, b

    def __gt__(self, other):            # past `other` in some shard
        p = self._cmp(other)
        if p is None:
            return NotImplemented
        a, b = p
        return a > b if type(b) is int else any(x > y for x, y in zip(a, b))

    def __le__(self, other):            # covered by `other`
        r = self.__gt__(other)
        return r if r is NotImplemented else not r

    def __lt__(self, other):
        p = self._cmp(other)
        if p is None:
            return NotImplemented
        a, b = p
        return a < b if type(b) is int else (all(x <= y for x, y in zip(a, b)) and a != b)

    def __ge__(self, other):
        r = self.__lt__(other)
        return r if r is NotImplemented else not r

    __hash__ = str.__hash__


def _single(k: int, n: int, off) -> Position | None:
    if off is None:
        return None
    return Position(TOKEN + ",".join(str(off) if j == k else "-1" for j in range(n)))


class _Index:
    """What readers ask a dataset's index for, over every shard."""

    def __init__(self, shards):
        self._shards = shards

    def seq(self) -> int:
        # a sum of monotonic commit counters changes whenever any shard commits
        return sum(s.index.seq() for s in self._shards)

    def counts(self) -> dict:
        out = {"exists": 0, "deleted": 0}
        for s in self._shards:
            c = s.index.counts()
            out["exists"] += c["exists"]
            out["deleted"] += c["deleted"]
        return out

    def paths(self):
        return sorted({p for s in self._shards for p in s.index.paths()})

    def scan(self, deleted=False):
        """Latest versions of every shard merged in `_id` order."""
        from storage.provider import _id_order
        return heapq.merge(*(_id_order(s.index.scan(deleted=deleted)) for s in self._shards),
                           key=lambda e: e["_id"])

    def ids(self, deleted=False):
        return heapq.merge(*(s.index.ids(deleted=deleted) for s in self._shards),
                           key=lambda x: x[0])

    def latest(self, eids):
        n = len(self._shards)
        return [self._shards[shard_of(e, n)].index.latest([e])[0] for e in eids]


class PartitionedDataset:
    """The dataset interface pipes, sources, sinks and the provider use, over N shard
    datasets. Reads visit the shards in order; writes go to the shard of each `_id`."""

    partitioned = True

    def __init__(self, directory: str, name: str, writer: bool = False, fsync: bool = True):
        self.dir, self.name, self.writer = directory, name, writer
        self.n = read_layout(directory)["shards"]
        self.shards: list[Dataset] = []
        try:
            for k in range(self.n):
                self.shards.append(Dataset(shard_dir(directory, k), f"{name}#{k}",
                                           writer=writer, fsync=fsync))
        except BaseException:
            self.close()
            raise
        self.index = _Index(self.shards)
        self._epoch, self._count = None, 0    # a whole writer's order keys

    def _keys(self, ids):
        """Per shard, `_id` -> order key of the whole writer (the last occurrence of an
        `_id` in the batch: the version the batch leaves)."""
        if self._epoch is None:
            self._epoch = next_epoch(self.shards)
        parts = [{} for _ in range(self.n)]
        e, c = self._epoch.to_bytes(8, "big") + bytes((WRITE,)), self._count
        for i, eid in enumerate(ids):
            if type(eid) is str:
                parts[shard_of(eid, self.n)][eid] = e + (c + i).to_bytes(8, "big")
        self._count = c + len(ids)
        return parts

    def _props(self, props):
        return {**(props or {}), EPOCH: self._epoch}

    def set_group(self, rows=None, seconds=None):
        for s in self.shards:
            if rows is not None:
                s.group_rows = rows
            if seconds is not None:
                s.group_seconds = seconds

    def close(self):
        err = None
        for s in self.shards:
            try:
                s.close()
            except Exception as ex:  # noqa: BLE001 - close every shard, then raise
                err = err or ex
        if err is not None:
            raise err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def shard(self, eid: str) -> Dataset:
        return self.shards[shard_of(eid, self.n)]

    # -- state ----------------------------------------------------------------------------
    def offsets(self) -> list[int]:
        return [s.last_offset for s in self.shards]

    @property
    def last_offset(self) -> str:
        return Position(encode_since(self.offsets()))

    @property
    def populated(self) -> bool:
        return all(s.populated for s in self.shards)

    @property
    def meta(self) -> dict:
        """Shard 0's metadata: a whole-dataset writer commits the same to every shard."""
        return self.shards[0].meta

    def info(self) -> dict:
        parts = [s.info() for s in self.shards]
        out = {"name": self.name, "shards": self.n, "hash": HASH,
               "last_offset": self.last_offset, "populated": self.populated,
               "indexes": [list(p) for p in self.index.paths()], "meta": self.meta}
        for k in ("entities", "count-index-exists", "count-index-deleted", "count-log-exists",
                  "count-log-deleted", "segments", "commits", "bytes"):
            out[k] = sum(p[k] for p in parts)
        out["shard-offsets"] = [p["last_offset"] for p in parts]
        return out

    def counts(self) -> dict:
        i = self.info()
        return {k: i[k] for k in ("count-log-exists", "count-log-deleted", "count-index-exists",
                                  "count-index-deleted")}

    # -- writing ------------------------------------------------------------------------------
    def _split(self, ids):
        parts = [[] for _ in range(self.n)]
        for pos, eid in enumerate(ids):
            parts[shard_of(eid, self.n) if type(eid) is str else 0].append(pos)
        return parts

    def append(self, entities, meta=None, force=False, skip_invalid=False, props=None,
               group=False, finite=False) -> AppendStats:
        """Each entity to the shard of its `_id`; `meta` and `props` to every shard (each
        shard's commit carries them, so each shard's state is atomic with its rows)."""
        if not isinstance(entities, list):
            entities = list(entities)
        ids = [e.get("_id") if type(e) is dict else None for e in entities]
        if not skip_invalid:
            # bad entities fail the whole batch before any shard writes (Dataset.append's rule)
            from storage import hashing
            hashing.check_batch(entities)
        st = AppendStats(received=len(entities))
        keys = self._keys(ids)
        props = self._props(props)
        for k, pos in enumerate(self._split(ids)):
            s = self.shards[k].append([entities[p] for p in pos], meta=meta, force=force,
                                      skip_invalid=skip_invalid, props=props, group=group,
                                      finite=finite, order=keys[k].get)
            st.stored += s.stored
            st.unchanged += s.unchanged
            st.invalid += s.invalid
            st.problems += [(pos[p], i, m) for p, i, m in s.problems]
        st.problems.sort(key=lambda p: p[0])
        return st

    def append_columns(self, ids, deleted, bodies, hashes, typed=None, present=(), meta=None,
                       group=False) -> AppendStats:
        import pyarrow as pa
        st = AppendStats(received=len(ids))
        keys = self._keys(ids)
        props = self._props(None)
        for k, pos in enumerate(self._split(ids)):
            idx = pa.array(pos, pa.int64())
            s = self.shards[k].append_columns(
                [ids[p] for p in pos], [deleted[p] for p in pos], [bodies[p] for p in pos],
                [hashes[p] for p in pos], {c: a.take(idx) for c, a in (typed or {}).items()},
                present, meta=meta, group=group, order=keys[k].get, props=props)
            st.stored += s.stored
            st.unchanged += s.unchanged
        return st

    def flush(self):
        for s in self.shards:
            s.flush()

    def commit_meta(self, meta=None, **props) -> int:
        return sum(s.commit_meta(meta, **props) for s in self.shards)

    def set_populated(self, populated: bool = True) -> None:
        self.commit_meta(populated=bool(populated))

    def delete(self, ids, meta=None) -> AppendStats:
        out = []
        for eid in ids:
            e = self.get(eid)
            if e is not None and not e["_deleted"]:
                e["_deleted"] = True
                out.append(e)
        return self.append(out, meta=meta)

    def track_deletions(self, seen, run_started_offset=None, mark=False, meta=None,
                        batch_size=10_000) -> int:
        """Per shard: `run_started_offset` is a token (or None)."""
        starts = [None] * self.n if run_started_offset is None else \
            decode_since(run_started_offset, self.n)
        if self._epoch is None:
            self._epoch = next_epoch(self.shards)
        d = order_key(self._epoch, DELETE)
        return sum(s.track_deletions(seen, starts[k], mark=mark, meta=meta,
                                     batch_size=batch_size, order=lambda e: d + id_tail(e),
                                     props=self._props(None))
                   for k, s in enumerate(self.shards))

    def ensure_index(self, path) -> bool:
        return any([s.ensure_index(path) for s in self.shards])

    # -- reading ------------------------------------------------------------------------------
    def get(self, entity_id):
        if type(entity_id) is not str:
            return None
        k = shard_of(entity_id, self.n)
        e = self.shards[k].get(entity_id)
        if e is not None:
            self._positions(e, k)
        return e

    def _positions(self, e, k):
        """`_updated`/`_previous` of an entity of shard k as positions of this dataset."""
        if "_updated" in e:
            e["_updated"] = _single(k, self.n, e["_updated"])
        if e.get("_previous") is not None:
            e["_previous"] = _single(k, self.n, e["_previous"])

    def version_at(self, offset, _cache=None):
        """The version at a position with one shard's offset (an entity's `_previous`)."""
        offs = _offsets(offset)
        if offs is None or len(offs) != self.n:
            raise ValueError(f"{offset!r} is not a position in partitioned dataset "
                             f"{self.name!r}")
        ks = [k for k, o in enumerate(offs) if o != -1]
        if len(ks) != 1:
            return None
        k = ks[0]
        cache = None if _cache is None else _cache.setdefault(("shard", k), {})
        e = self.shards[k].version_at(offs[k], cache)
        if e is not None:
            self._positions(e, k)
        return e

    def live(self, ids) -> list[bool]:
        return [self.shard(e).live([e])[0] for e in ids]

    def lookup(self, path, values) -> list[dict]:
        out = [e for s in self.shards for e in s.lookup(path, values)]
        out.sort(key=lambda e: e["_id"])
        return out

    def _keyed(self, k, since, history, deleted, batch_size):
        """(order key, k, entity) of shard k after `since`, in its log order (which is its
        keys' order: a shard's writers write in key order)."""
        from storage.dataset import batch_entities
        cols = ["_updated", "_id", "_deleted", "_ts", "_hash", "_previous", "body", "_order"]
        for b in self.shards[k].batches(since, history, deleted, batch_size=batch_size,
                                        columns=cols):
            i = b.schema.get_field_index("_order")
            keys = b.column(i).to_pylist() if i >= 0 else [None] * b.num_rows
            for key, e in zip(keys, batch_entities(b)):
                yield key or b"", k, e

    def entity_batches(self, since=None, history=False, deleted=True, batch_size=1000):
        """[(entities, token after them)], the shards merged by order key (so in the order
        they were written, see the module doc): an entity's `_updated` has every shard where
        the read has got to, the entity's own at the entity."""
        pos = decode_since(since, self.n)
        n = self.n
        streams = [self._keyed(k, pos[k], history, deleted, max(batch_size, 1024))
                   for k in range(n)]
        buf = []
        for _, k, e in heapq.merge(*streams, key=itemgetter(0)):
            pos[k] = e["_updated"]
            e["_updated"] = Position(encode_since(pos))
            if e.get("_previous") is not None:
                e["_previous"] = _single(k, n, e["_previous"])
            buf.append(e)
            if len(buf) >= batch_size:
                yield buf, Position(buf[-1]["_updated"])
                buf = []
        if buf:
            yield buf, Position(buf[-1]["_updated"])

    def entities(self, since=None, history=False, deleted=True, limit=None, batch_size=8192):
        left = limit
        for b, _ in self.entity_batches(since, history, deleted, batch_size):
            if left is not None:
                b = b[:left]
                left -= len(b)
            yield from b
            if left == 0:
                return

    def verify(self) -> list[str]:
        out = []
        for k, s in enumerate(self.shards):
            out += [f"shard {k}: {p}" for p in s.verify()]
            for eid, _ in s.index.ids(deleted=True):
                if shard_of(eid, self.n) != k:
                    out.append(f"shard {k}: {eid!r} belongs in shard {shard_of(eid, self.n)}")
        return out


class LatestColumnsAll:
    """`storage.latest.LatestColumns` over every shard: each shard's latest live versions as
    Arrow columns, in one `_id` order (the joined side of a columnar `hops` into a partitioned
    dataset reads all shards)."""

    def __init__(self, pds: PartitionedDataset, where=None):
        import pyarrow as pa
        import pyarrow.compute as pc
        from storage.latest import LatestColumns
        self.ds = pds
        self.parts = [LatestColumns(s, where=where) for s in pds.shards]
        ids = pa.concat_arrays([p.ids for p in self.parts]) if self.parts else \
            pa.array([], pa.string())
        self.n = len(ids)
        self.order = pc.sort_indices(ids) if self.n > 1 else None
        self.ids = ids if self.order is None else ids.take(self.order)

    def column(self, name):
        import pyarrow as pa
        arrs = [p.column(name) for p in self.parts if p.n]
        if not arrs or any(a is None for a in arrs) or len({a.type for a in arrs}) != 1:
            return None
        arr = pa.concat_arrays(arrs)
        return arr if self.order is None else arr.take(self.order)

    def entities(self):
        ents = [e for p in self.parts for e in p.entities()]
        return ents if self.order is None else [ents[i] for i in self.order.to_pylist()]
