"""The worker side of the distributed executor: one task runs one pipe, either whole or on one
shard of its partitioned source (docs/scale-out.md).

A task is a `TaskSpec` (small, picklable); the worker loads the configuration once per
fingerprint, builds a `TaskHub` for the task and runs the ordinary pump (runtime/pump.py) on
it. On a shard the hub hands the pump:

* a `dataset` source over shard k of the source dataset (a plain `storage.Dataset`, so the
  columnar path and dependency tracking work as on one machine; re-read dependents are looked
  up in that shard only, which is where their `_id`s live);
* a `dataset` sink over shard k of the sink dataset: the shard's own writer, so parallel tasks
  never share a writer. The pipe state goes into each shard's commits, atomic with the rows
  (a killed task's shard resumes after its last commit), marked with the shard it belongs to;
* a guard: an output whose `_id` belongs to another shard (the transform changed `_id`) stops
  the task before that batch is written, and the driver runs the pipe whole instead;
* order keys (storage/partitioned.py): each output version gets the key of the source version
  with its `_id` in the batches being read (the epoch is the driver's, the same for every
  shard of the run), so whole reads of the sink see the versions in the default executor's
  order; dependency re-reads and deletion tracking get their phase and the `_id`.

Execution-log events and dead letters are collected and returned; the driver writes them (the
execution log has one writer).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from runtime.execlog import ExecLog
from runtime.hub import Hub
from runtime.sources.dataset import DatasetSource
from storage import partitioned

MARK = "executor-shard"    # in a pipe state: the shard [k, n] it belongs to (absent: whole)


class ForeignShard(Exception):
    def __init__(self, eid, shard, n):
        super().__init__(f"output _id {eid!r} belongs to shard {partitioned.shard_of(eid, n)}"
                         f" of {n}, not {shard} (the transform changes _id)")
        self.eid = eid


@dataclass
class TaskSpec:
    config_dir: str
    data_dir: str
    pipe_id: str
    fingerprint: str = ""
    profile: str | None = None
    allow_paths: tuple = ()
    fsync: bool = True
    keep_going: bool = False
    backend: str = "auto"
    full: bool = False
    push: bool = True
    shard: tuple | None = None          # (k, n): run on shard k of n; None: the whole pipe
    epoch: int | None = None            # the order keys' epoch of a run by shard (its shards')
    sleep_per_batch: float = 0.0        # tests: slow a task down (to kill it mid-run)


@dataclass
class TaskResult:
    pipe: str
    shard: tuple | None
    run: dict = field(default_factory=dict)         # PipeRun.as_dict()
    events: list = field(default_factory=list)      # execution-log rows
    dead: dict = field(default_factory=dict)        # dead-letter dataset -> rows
    foreign: str | None = None                      # an output _id of another shard
    seconds: float = 0.0                            # the task on the worker
    setup: float = 0.0                              # config + hub before the pump ran
    pid: int = 0


# -- stores and datasets a shard task sees ------------------------------------------------------
class _Provenance:
    """Order keys of the source versions a shard task reads, for the keys of its outputs. The
    batches the pump has in hand are at most the last two read (an entity-path batch may
    span two of the reader's); an output `_id` not among them takes the latest key read."""

    def __init__(self):
        self.maps = deque(maxlen=2)
        self.last = b""
        self.ended = self.requeue = False

    def read(self, ids, keys):
        self.maps.append(dict(zip(ids, keys)))
        if keys:
            self.last = keys[-1]
        self.ended = self.requeue = False

    def key(self, epoch, head, eid):
        """The key of an output `_id`: `head` (the epoch's WRITE prefix) and its source's."""
        if self.requeue:     # after the read: the pump's dependency re-reads (`refetch`)
            return partitioned.order_key(epoch, partitioned.REQUEUE, partitioned.id_tail(eid))
        for m in reversed(self.maps):
            k = m.get(eid)
            if k is not None:
                return head + k
        return head + self.last


class _KeyedReader:
    """A source shard's read handle that tells the provenance which keys it read."""

    def __init__(self, ds, prov):
        self._ds, self._prov = ds, prov

    def __getattr__(self, name):
        return getattr(self._ds, name)

    def batches(self, since=None, history=False, deleted=True, limit=None, columns=None,
                batch_size=8192):
        if columns is not None and "_order" not in columns:
            columns = [*columns, "_order"]
        self._prov.ended = False
        for b in self._ds.batches(since, history, deleted, limit, columns, batch_size):
            i = b.schema.get_field_index("_order")
            keys = b.column(i).to_pylist() if i >= 0 else [None] * b.num_rows
            self._prov.read(b.column("_id").to_pylist(), [k or b"" for k in keys])
            yield b
        self._prov.ended = True

    def entities(self, since=None, history=False, deleted=True, limit=None, batch_size=8192):
        from storage.dataset import batch_entities
        for b in self.batches(since, history, deleted, limit, batch_size=batch_size,
                              columns=["_updated", "_id", "_deleted", "_ts", "_hash",
                                       "_previous", "body"]):
            yield from batch_entities(b)

    def get(self, entity_id):
        if self._prov.ended:   # only `refetch` gets source entities once the read is done
            self._prov.requeue = True
        return self._ds.get(entity_id)


class _Guarded:
    """A sink's writer handle: states carry the shard mark (and a state of another mode reads as
    none); on a shard, an `_id` of another shard is refused before anything is written, and
    versions get order keys."""

    def __init__(self, ds, shard, flags, prov=None, epoch=None):
        self._ds, self._shard, self._flags, self._prov = ds, shard, flags, prov
        self._mark = list(shard) if shard is not None else None
        self._epoch = None
        if shard is not None:
            # the driver's epoch, unless this shard already has later keys (another clock)
            last = ds.state().props.get(partitioned.EPOCH) or 0
            e = epoch if epoch is not None and epoch > last else \
                partitioned.next_epoch([ds], epoch or 0)
            self._epoch = e
            self._head = partitioned.order_key(e, partitioned.WRITE)

    def _order(self):
        """(order, props) for a shard's append; (None, None) for a whole writer's (a
        partitioned dataset keys its own versions)."""
        if self._epoch is None:
            return None, None
        prov, head, e = self._prov, self._head, self._epoch
        return (lambda eid: prov.key(e, head, eid)), {partitioned.EPOCH: e}

    def __getattr__(self, name):
        return getattr(self._ds, name)

    @property
    def meta(self):
        m = self._ds.meta
        p = m.get("pump")
        if isinstance(p, dict) and p.get(MARK) != self._mark:
            m = {k: v for k, v in m.items() if k != "pump"}
        return m

    def _meta(self, meta):
        if meta and isinstance(meta.get("pump"), dict):
            meta = {**meta, "pump": {**meta["pump"], MARK: self._mark}}
        return meta

    def _check(self, ids):
        if self._shard is None:
            return
        k, n = self._shard
        for eid in ids:
            if type(eid) is str and partitioned.shard_of(eid, n) != k:
                self._flags["foreign"] = eid
                raise ForeignShard(eid, k, n)

    def append(self, entities, meta=None, **kw):
        if not isinstance(entities, list):
            entities = list(entities)
        self._check([e.get("_id") for e in entities if type(e) is dict])
        order, props = self._order()
        if order is not None:
            kw["order"], kw["props"] = order, {**(kw.get("props") or {}), **props}
        return self._ds.append(entities, meta=self._meta(meta), **kw)

    def append_columns(self, ids, deleted, bodies, hashes, typed=None, present=(), meta=None,
                       group=False):
        self._check(ids)
        order, props = self._order()
        kw = {} if order is None else {"order": order, "props": props}
        return self._ds.append_columns(ids, deleted, bodies, hashes, typed, present,
                                       meta=self._meta(meta), group=group, **kw)

    def commit_meta(self, meta=None, **props):
        return self._ds.commit_meta(self._meta(meta), **props)

    def track_deletions(self, seen, run_started_offset=None, mark=False, meta=None,
                        batch_size=10_000):
        kw = {}
        if self._epoch is not None:
            d = partitioned.order_key(self._epoch, partitioned.DELETE)
            kw = {"order": lambda eid: d + partitioned.id_tail(eid),
                  "props": {partitioned.EPOCH: self._epoch}}
        return self._ds.track_deletions(seen, run_started_offset, mark=mark,
                                        meta=self._meta(meta), batch_size=batch_size, **kw)


class _TaskStore:
    """What sources and sinks of a task open: shard k of every dataset (on a shard), writers
    guarded."""

    def __init__(self, store, shard, epoch=None):
        self._store, self._shard, self._epoch = store, shard, epoch
        self.flags: dict = {}
        self.prov = _Provenance() if shard is not None else None

    def __getattr__(self, name):
        return getattr(self._store, name)

    def open(self, name, writer=False, create=False):
        if self._shard is None:
            ds = self._store.open(name, writer=writer, create=create)
            return _Guarded(ds, None, self.flags) if writer else ds
        ds = self._store.open_shard(name, self._shard[0], writer=writer)
        if writer:
            return _Guarded(ds, self._shard, self.flags, self.prov, self._epoch)
        return _KeyedReader(ds, self.prov)


class _Collector:
    """An execution log's dataset stand-in: rows kept for the driver."""

    populated = True

    def __init__(self, rows):
        self.rows = rows

    def append(self, rows, force=False, **kw):
        self.rows.extend(rows)

    def close(self):
        pass


class _BufferedLog(ExecLog):
    def __init__(self, store, pipe_id, clock, rows):
        super().__init__(store, pipe_id, clock=clock)
        self._ds = _Collector(rows)

    def _open(self):
        return self._ds

    def close(self):
        pass


class TaskHub(Hub):
    """A hub for one task: on a shard, the pipe's dataset source and sink are that shard's."""

    def __init__(self, config, data_dir, shard=None, views=None, epoch=None, **kw):
        super().__init__(config, data_dir, **kw)
        self.provider.views = views     # the worker's join views, kept between tasks
        self.shard = shard
        self.task_store = _TaskStore(self.store, shard, epoch)
        self.dead: dict = {}

    def _make_source(self, pipe):
        if pipe.source is not None and pipe.source.type == "dataset":
            bs = int(pipe.get("batch_size", 100) or 100)
            name = pipe.source["dataset"]
            if self.shard is not None:
                return DatasetSource(pipe, pipe.source, bs, self.task_store)
            if self.store.exists(name) and self.store.is_partitioned(name):
                # positions are per-shard tokens: the entity path, not the columnar one
                return _AllShardsSource(pipe, pipe.source, bs, self.store)
        return super()._make_source(pipe)

    def _make_sink(self, pipe):
        from runtime.sinks.dataset import DatasetSink
        if pipe.sink is not None and pipe.sink.type == "dataset":
            return DatasetSink(self.task_store, pipe.sink.config, pipe.id)
        return super()._make_sink(pipe)

    def _dead_letter(self, name, entity, message):
        from dtl import transit
        body = transit.loads(transit.dumps(entity))
        self.dead.setdefault(name, []).append(
            {"_id": str(entity.get("_id")), "entity": body, "error": message})


class _AllShardsSource(DatasetSource):
    """A partitioned dataset read whole: every shard in turn, positions as one token (a type
    of its own, so the columnar reader, which keeps integer offsets, leaves it alone)."""


# -- the task ------------------------------------------------------------------------------------
class _WorkerCache:
    """What a worker process keeps between its tasks, for one configuration at a time: the
    loaded configuration, and per data directory the join views (storage.provider.SharedViews)
    - so a joined dataset's view, rebuilt when the dataset's content changes, is built once
    per worker and content and shared by every task and pipe that joins that dataset."""

    def __init__(self):
        self.key, self.cfg, self.views = None, None, {}

    def config(self, spec):
        key = (spec.config_dir, spec.profile, spec.fingerprint)
        if key != self.key:
            from runtime.config import load_config
            cfg = load_config(spec.config_dir, profile=spec.profile, lenient=True)
            self.clear()
            self.key, self.cfg = key, cfg
        return self.cfg

    def shared_views(self, spec):
        from storage.provider import SharedViews
        return self.views.setdefault(spec.data_dir, SharedViews())

    def clear_views(self):
        for v in self.views.values():
            v.close()
        self.views = {}

    def clear(self):
        self.clear_views()
        self.key, self.cfg = None, None


_WORKER = _WorkerCache()


def forget_views():
    """Close the worker's join views and their read handles (the driver broadcasts it at the
    end of every run: a process holding a dataset open would reuse its index if the dataset
    were deleted and made again under the same path)."""
    _WORKER.clear_views()


def run_task(spec: TaskSpec) -> TaskResult:
    import os

    from runtime.confine import Roots, file_roots
    from runtime.pump import Pump
    t0 = time.perf_counter()
    cfg = _WORKER.config(spec)
    roots = Roots.build(cfg.root, spec.data_dir, spec.allow_paths, file_roots(cfg))
    hub = TaskHub(cfg, spec.data_dir, shard=spec.shard, epoch=spec.epoch,
                  keep_going=spec.keep_going,
                  fsync=spec.fsync, roots=roots, push=spec.push, backend=spec.backend,
                  views=_WORKER.shared_views(spec))
    out = TaskResult(spec.pipe_id, spec.shard, pid=os.getpid())
    try:
        pipe = hub._pipe(spec.pipe_id)
        pump = Pump(hub, pipe)
        pump.log = _BufferedLog(hub.store, pipe.id, hub.clock, out.events)
        progress = None
        if spec.sleep_per_batch:
            def progress(_pid, _res, done=False):
                time.sleep(spec.sleep_per_batch)
        out.setup = time.perf_counter() - t0
        r = pump.run(full=spec.full, keep_going=spec.keep_going, progress=progress)
        out.run = r.as_dict()
        out.run["error_events"] = r.error_events
        out.dead = hub.dead
        out.foreign = hub.task_store.flags.get("foreign")
    finally:
        hub.close()
    out.seconds = time.perf_counter() - t0
    return out


def noop(_spec=None):
    """An empty task (the engine's own overhead per task, bench/scale_bench.py)."""
    return None
