"""Executors: where a hub's pump runs happen (docs/scale-out.md).

* `local` (the default and the reference): `runtime.hub.Hub` runs every pump in this process.
* `dask`: `DistributedHub` runs the same passes in the same pipe order, but each pump run is
  one task per shard of its partitioned source on a Dask distributed cluster (a local one on
  127.0.0.1 with `workers` processes, or an existing scheduler's); a pipe that cannot run by
  shard runs whole, as one task.

    from runtime.executor import DistributedHub
    from runtime.executor.engine import DaskEngine
    hub = DistributedHub(cfg, data_dir, engine=DaskEngine(workers=2), shards=2)
    hub.run()

Which pipes run by shard: a `dataset` source over a partitioned dataset and a `dataset` sink
partitioned into as many shards (new sink datasets are laid out with `shards` shards before the
first run). The shard tasks write each its own shard; when a transform moves an entity to another
shard (a changed `_id`) the tasks stop before writing it, and the pipe runs whole from then on
(remembered in `<data>/executor/whole.json`), with a full run the first time.

Small pipes run in the driver: a pipe whose source holds fewer than `inline_below` entities
(an embedded source, or dataset sources counted by their indexes) runs its tasks - the same
`run_task` specs - in this process, where a task's fixed cost (~0.1-0.3 s shipped, mostly
setting up the task on a worker) would be most of the run. `inline_below=0` ships every task.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from runtime.execlog import log_name
from runtime.hub import Hub
from runtime.pump import PipeRun
from runtime.executor.engine import InlineEngine
from runtime.executor.task import TaskResult, TaskSpec, run_task

EXECUTORS = ("local", "dask")
INLINE_BELOW = 10_000   # source entities under which a pipe's tasks run in the driver


class DistributedHub(Hub):
    def __init__(self, config, data_dir, *, engine, shards=2, config_dir=None, allow_paths=(),
                 profile=None, task_hook=None, inline_below=INLINE_BELOW, **kw):
        super().__init__(config, data_dir, **kw)
        self.config_dir = os.path.abspath(str(config_dir or config.root))
        self.data_dir = os.path.abspath(self.data_dir)
        self.engine = engine
        self.inline = InlineEngine()
        self.inline_below = int(inline_below)
        self.shards = int(shards)
        self.allow_paths = tuple(str(p) for p in allow_paths)
        self.profile = profile
        self.fsync = kw.get("fsync", True)
        self.task_hook = task_hook        # tests: edit each TaskSpec before it is submitted
        self.fingerprint = _fingerprint(config)
        self.tasks: list[TaskResult] = []     # every task result of this hub (bench, tests)
        self._whole_path = os.path.join(self.data_dir, "executor", "whole.json")

    # -- layout ---------------------------------------------------------------------------------
    def prepare(self, pipes=None):
        """Lay out the sink datasets that do not exist yet as `shards` shards."""
        for p in self.config.pipes_in_order():
            if pipes is not None and p.id not in pipes:
                continue
            if not self.runnable(p) or p.sink.type != "dataset":
                continue
            name = p.writes[0] if p.writes else p.id
            if not self.store.exists(name):
                self.store.create_partitioned(name, self.shards)

    def run(self, pipes=None, **kw):
        self.prepare(pipes)
        try:
            return super().run(pipes, **kw)
        finally:
            self.forget_views()

    def forget_views(self):
        """The join views the workers (and this process, for small pipes) kept during the run
        are dropped with their dataset handles."""
        from runtime.executor.task import forget_views
        self.inline.broadcast(forget_views)
        try:
            self.engine.broadcast(forget_views)
        except Exception:  # noqa: BLE001 - a worker that is gone holds no handles
            pass

    def pump(self, pipe_id):
        p = self._pumps.get(pipe_id)
        if p is None:
            p = self._pumps[pipe_id] = RemotePump(self, self._pipe(pipe_id))
        return p

    # -- which pipes run by shard -----------------------------------------------------------------
    def whole_pipes(self) -> dict:
        try:
            with open(self._whole_path, "rb") as f:
                return json.loads(f.read())
        except FileNotFoundError:
            return {}

    def _mark_whole(self, pipe_id, why):
        d = self.whole_pipes()
        d[pipe_id] = why
        os.makedirs(os.path.dirname(self._whole_path), exist_ok=True)
        tmp = self._whole_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(d, f, indent=1, sort_keys=True)
        os.replace(tmp, self._whole_path)

    def shards_of(self, pipe) -> int | None:
        """The shard count a pipe runs by, or None: it runs whole."""
        if pipe.id in self.whole_pipes():
            return None
        src, sink = pipe.source, pipe.sink
        if src is None or src.type != "dataset" or sink is None or sink.type != "dataset":
            return None
        sname, oname = src["dataset"], (pipe.writes[0] if pipe.writes else pipe.id)
        st = self.store
        if sname == oname or not (st.exists(sname) and st.exists(oname)):
            return None
        if not (st.is_partitioned(sname) and st.is_partitioned(oname)):
            return None
        from storage import partitioned
        n = partitioned.read_layout(st._dir(sname))["shards"]
        return n if partitioned.read_layout(st._dir(oname))["shards"] == n else None

    def spec(self, pipe, full, shard=None, epoch=None) -> TaskSpec:
        s = TaskSpec(config_dir=self.config_dir, data_dir=self.data_dir, pipe_id=pipe.id,
                     fingerprint=self.fingerprint, profile=self.profile,
                     allow_paths=self.allow_paths, fsync=self.fsync,
                     keep_going=self.keep_going, backend=self.backend, full=full,
                     push=self.push, shard=shard, epoch=epoch)
        if self.task_hook is not None:
            self.task_hook(s)
        return s

    def small(self, pipe) -> bool:
        """Whether a pipe's source holds fewer than `inline_below` entities (unknown: no)."""
        from runtime.hub import DATASET_SOURCES
        src = pipe.source
        if self.inline_below <= 0 or src is None:
            return False
        if src.type == "embedded":
            return len(src.get("entities") or ()) < self.inline_below
        if src.type not in DATASET_SOURCES:
            return False
        total = 0
        for name in pipe.reads:
            if self.store.exists(name):
                ds = self.store.open(name)
                try:
                    c = ds.index.counts()
                finally:
                    ds.close()
                total += c["exists"] + c["deleted"]
            if total >= self.inline_below:
                return False
        return True

    def submit(self, specs, inline=False) -> list[TaskResult]:
        outs = (self.inline if inline else self.engine).map(run_task, specs)
        self.tasks.extend(o for o in outs if isinstance(o, TaskResult))
        return outs


class RemotePump:
    """A pump whose runs are tasks (the Hub.run loop calls `run` as it calls Pump.run)."""

    def __init__(self, hub, pipe):
        from runtime.execlog import ExecLog
        self.hub, self.pipe = hub, pipe
        self.log = ExecLog(hub.store, pipe.id, clock=hub.clock)

    def run(self, *, full=False, keep_going=False, progress=None) -> PipeRun:
        hub, pipe = self.hub, self.pipe
        res = PipeRun(pipe.id)
        why = hub.skip_reason(pipe)
        if why:
            res.status, res.reason = "skipped", why
            return res
        t0 = time.perf_counter()
        n = hub.shards_of(pipe)
        inline = hub.small(pipe)
        if n is not None:
            # one epoch for the order keys of every shard (storage/partitioned.py)
            epoch = time.time_ns()
            outs = hub.submit([hub.spec(pipe, full, (k, n), epoch) for k in range(n)], inline)
            foreign = [o.foreign for o in outs if isinstance(o, TaskResult) and o.foreign]
            if foreign:
                # a transform that moves entities between shards: the pipe runs whole, from the
                # start (its shard states are not a whole run's)
                hub._mark_whole(pipe.id, f"output _id {foreign[0]!r} of another shard")
                outs = [o for o in outs if not isinstance(o, TaskResult) or not o.foreign]
                self._combine(res, outs, keep_run=False)
                outs = hub.submit([hub.spec(pipe, True)], inline)
        else:
            outs = hub.submit([hub.spec(pipe, full)], inline)
        self._combine(res, outs)
        res.seconds = time.perf_counter() - t0
        return res

    def pending(self) -> bool:
        """Pump.pending for a pipe run by tasks: per shard when it runs by shard."""
        from runtime.hub import DATASET_SOURCES
        from runtime.pump import _behind
        hub, pipe = self.hub, self.pipe
        if hub.skip_reason(pipe):
            return False
        if pipe.source is None or pipe.source.type not in DATASET_SOURCES:
            return False
        n = hub.shards_of(pipe)
        tracker = hub._tracker(pipe)
        ends = tracker.ends() if tracker is not None else None
        if n is None:
            checks = [(self._state(None), None)]
        else:
            checks = [(self._state((k, n)), k) for k in range(n)]
        for state, k in checks:
            if k is None:
                source = hub._make_source(pipe)
                try:
                    end = source.end_since() if hasattr(source, "end_since") else None
                finally:
                    source.close()
            else:
                ds = hub.store.open_shard(pipe.source["dataset"], k)
                try:
                    end = ds.last_offset
                finally:
                    ds.close()
            if end is not None and _behind(state.get("since"), end):
                return True
            if ends is not None and _behind(state.get("deps") or {}, ends):
                return True
        return False

    def _state(self, shard) -> dict:
        from runtime.executor.task import MARK
        from runtime.state import FileState
        hub, pipe = self.hub, self.pipe
        if pipe.sink is None or pipe.sink.type != "dataset":
            return dict(FileState(hub.data_dir, pipe.id).load() or {})
        name = pipe.writes[0] if pipe.writes else pipe.id
        if not hub.store.exists(name):
            return {}
        ds = hub.store.open_shard(name, shard[0]) if shard else hub.store.open(name)
        try:
            st = ds.meta.get("pump")
        finally:
            ds.close()
        ok = isinstance(st, dict) and st.get(MARK) == (list(shard) if shard else None)
        return dict(st) if ok else {}

    def _combine(self, res, outs, keep_run=True):
        events, dead = [], {}
        for o in outs:
            if not isinstance(o, TaskResult):
                res.status = "failed"
                res.reason = f"a task of pipe {self.pipe.id!r} did not finish: " \
                             f"{type(o).__name__}: {o}"
                continue
            events.extend(o.events)
            for name, rows in o.dead.items():
                dead.setdefault(name, []).extend(rows)
            if not keep_run:
                continue
            r = o.run
            for k in ("read", "written", "changed", "errors", "deleted", "queued"):
                setattr(res, k, getattr(res, k) + int(r.get(k) or 0))
            if r.get("sync_type") == "full" or not res.sync_type:
                res.sync_type = r.get("sync_type") or res.sync_type
            if r.get("status") == "failed" and res.status != "failed":
                res.status, res.reason = "failed", r.get("reason")
            res.error_events.extend(r.get("error_events") or ())
        self._write(events, dead)

    def _write(self, events, dead):
        """The execution log's events first, then each dead-letter dataset's rows."""
        for name, rows in ([(log_name(self.pipe.id), events)] if events else []) + [*dead.items()]:
            ds = self.hub.store.open(name, writer=True, create=True)
            try:
                ds.append(rows, force=True)
                if not ds.populated:
                    ds.set_populated(True)
            finally:
                ds.close()


def _fingerprint(config) -> str:
    h = hashlib.sha256()
    for k, v in sorted(dict(getattr(config, "texts", {}) or {}).items()):
        h.update(str(k).encode())
        h.update(str(v).encode())
    return h.hexdigest()[:16]
