"""An embeddable hub: a loaded configuration, a data directory, and the pumps that run its
pipes with no server (pipes-and-pumps.md §4-§11).

    from runtime.config import load_config
    from runtime.hub import Hub
    hub = Hub(load_config("examples/hub"), "/tmp/hub-data")
    summary = hub.run()                 # every pipe, dependency order, until stable
    hub.output("person-out")            # an endpoint's entities, computed on demand
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from storage import Store, StoreProvider
from storage.errors import NoSuchDataset

PUMPED_SINKS = ("dataset", "null", "sql", "json", "csv")
LOCAL_SINKS = ("dataset", "null")   # sinks that write inside the hub (run even without push)
DATASET_SOURCES = ("dataset", "merge", "merge_datasets", "union_datasets")


@dataclass
class PipeSummary:
    pipe: str
    runs: int = 0
    read: int = 0
    written: int = 0
    changed: int = 0
    errors: int = 0
    deleted: int = 0
    queued: int = 0
    seconds: float = 0.0
    status: str = "ok"
    reason: str | None = None

    def add(self, r):
        if r.status == "skipped":
            if self.runs == 0:
                self.status, self.reason = "skipped", r.reason
            return
        self.runs += 1
        for k in ("read", "written", "changed", "errors", "deleted", "queued", "seconds"):
            setattr(self, k, getattr(self, k) + getattr(r, k))
        if r.status == "failed":
            self.status, self.reason = "failed", r.reason
        elif self.status == "skipped":
            self.status, self.reason = "ok", None

    def as_dict(self):
        return dict(self.__dict__)


@dataclass
class RunSummary:
    pipes: dict = field(default_factory=dict)      # pipe id -> PipeSummary
    passes: int = 0
    stable: bool = False
    seconds: float = 0.0
    errors: list = field(default_factory=list)     # write-error events of the run

    @property
    def ok(self) -> bool:
        return not any(p.status == "failed" for p in self.pipes.values())

    @property
    def failed(self) -> list:
        return [p.pipe for p in self.pipes.values() if p.status == "failed"]

    def __getitem__(self, pipe_id):
        return self.pipes[pipe_id]

    def as_dict(self):
        return {"ok": self.ok, "stable": self.stable, "passes": self.passes,
                "seconds": round(self.seconds, 3),
                "pipes": {k: v.as_dict() for k, v in self.pipes.items()}}


class Hub:
    def __init__(self, config, data_dir, *, clock=None, keep_going=False, fsync=True,
                 roots=None, push=True, backend="auto"):
        """`push=False` (a test run): pipes whose sinks write outside the hub do not run;
        their output is what the test compares (`output`), as an endpoint's is. `backend`:
        the DTL backend this hub's pipes compile with (dtl.plan.BACKENDS)."""
        from dtl.plan import check_backend
        check_backend(backend)
        self.backend = backend
        self.config = config
        self.push = push
        self.data_dir = str(data_dir)
        self.clock = clock or time.time
        self.keep_going = keep_going
        self.store = Store(self.data_dir, fsync=fsync)
        self.provider = StoreProvider(self.store, declared=self.dataset_exists)
        self._chains: dict = {}
        self._trackers: dict = {}
        self._pumps: dict = {}
        from runtime.confine import Roots, file_roots
        from runtime.systems import Systems
        # where file: urls and sqlite files may be (runtime/confine.py)
        self.roots = roots or Roots.build(config.root, self.data_dir,
                                          metadata_roots=file_roots(config))
        self.systems = Systems(config, self.roots)   # connections, shared by the pipes

    # -- running ------------------------------------------------------------------------------
    def pump(self, pipe_id):
        from runtime.pump import Pump
        p = self._pumps.get(pipe_id)
        if p is None:
            p = self._pumps[pipe_id] = Pump(self, self._pipe(pipe_id))
        return p

    def runnable(self, pipe) -> bool:
        return (pipe.valid and pipe.pumped and pipe.pump.get("mode", "scheduled") != "off"
                and pipe.sink is not None and pipe.sink.type in PUMPED_SINKS
                and (self.push or pipe.sink.type in LOCAL_SINKS))

    def run(self, pipes=None, *, until_stable=True, progress=None, full=False,
            max_passes=50, extra_zero_runs=1) -> RunSummary:
        """Run pipes (default: every runnable one) in dependency order. With `until_stable`,
        repeat passes until `extra_zero_runs` consecutive passes change nothing."""
        t0 = time.perf_counter()
        order = [p for p in self.config.pipes_in_order()
                 if (pipes is None and self.runnable(p)) or (pipes is not None and p.id in pipes)]
        if pipes is not None:
            missing = set(pipes) - {p.id for p in order}
            if missing:
                raise KeyError(f"no such pipe(s): {', '.join(sorted(missing))}")
        summary = RunSummary({p.id: PipeSummary(p.id) for p in order})
        if pipes is None:   # invalid pipes do not run; the summary says so
            for p in self.config.pipes_in_order():
                if not p.valid:
                    summary.pipes[p.id] = PipeSummary(p.id, status="skipped",
                                                      reason="invalid configuration")
        # a failed pipe stays where it is: it is marked failed and not retried in this run,
        # every other pipe goes on (downstream pipes read what exists)
        failed = set()
        zeros = 0
        while True:
            summary.passes += 1
            changed = 0
            for p in order:
                if p.id in failed:
                    continue
                r = self.pump(p.id).run(full=full and summary.passes == 1,
                                        keep_going=self.keep_going, progress=progress)
                summary.pipes[p.id].add(r)
                summary.errors.extend(r.error_events)
                changed += r.changed
                if r.status == "failed":
                    failed.add(p.id)
                if progress:
                    progress(p.id, r, done=True)
            if not until_stable:
                break
            zeros = zeros + 1 if changed == 0 else 0
            # settled: passes without changes, or every change already read downstream
            # (pipes run in dependency order, so one pass often carries a change to the end)
            settled = zeros >= extra_zero_runs or not any(
                self.pump(p.id).pending() for p in order if p.id not in failed)
            if settled or summary.passes >= max_passes:
                break
        summary.stable = until_stable and settled
        summary.seconds = time.perf_counter() - t0
        return summary

    def skip_reason(self, pipe) -> str | None:
        if not pipe.valid:
            return "invalid configuration"
        if pipe.pump.get("mode") == "off":
            return "pump mode is off"
        if not pipe.pumped:
            return "endpoint pipes are not pumped"
        if pipe.sink is None or pipe.sink.type not in PUMPED_SINKS:
            return f"sink type {pipe.sink.type if pipe.sink else None!r} is not run offline"
        if not self.push and pipe.sink.type not in LOCAL_SINKS:
            return "not pushed in a test run (its output is compared)"
        for ds in pipe.hops:
            if self.config.writer(ds) is not None and not self.dataset_populated(ds):
                return f"hop dataset {ds!r} is not populated"
        if pipe.source is not None and pipe.source.get("require_populated_input"):
            for ds in pipe.reads:
                if not self.dataset_populated(ds):
                    return f"source dataset {ds!r} is not populated"
        return None

    def dataset_populated(self, name) -> bool:
        """Whether dataset `name` is populated as a node sees it: its populated flag, or a
        writing pipe that populates it when loaded (a receiver, unless
        `auto_populate_dataset` is false; a sink with `set_initial_offset: onload`)."""
        w = self.config.writer(name)
        if w is not None:
            if (w.source is not None and w.source.type == "http_endpoint"
                    and w.source.get("auto_populate_dataset", True) is not False):
                return True
            if w.sink is not None and w.sink.get("set_initial_offset") == "onload":
                return True
        return self._populated(name)

    def dataset_exists(self, name) -> bool:
        """As a node sees it: a pipe's sink dataset exists once the pipe is loaded."""
        return self.config.writer(name) is not None or self.store.exists(name)

    def _populated(self, name) -> bool:
        if not self.store.exists(name):
            return False
        ds = self.store.open(name)
        try:
            return ds.populated
        finally:
            ds.close()

    # -- the inbox and the outputs --------------------------------------------------------------
    def post(self, pipe_id, entities) -> None:
        """Receive entities into a pipe with an `http_endpoint` source: transformed and written
        to its sink in one commit (all or nothing)."""
        pipe = self._pipe(pipe_id)
        if pipe.source is None or pipe.source.type != "http_endpoint":
            raise ValueError(f"pipe {pipe_id!r} has no http_endpoint source "
                             f"(source type {pipe.source.type if pipe.source else None!r})")
        if pipe.sink is None or pipe.sink.type != "dataset":
            raise ValueError(f"pipe {pipe_id!r}: an http_endpoint source needs a dataset sink")
        if isinstance(entities, dict):
            entities = [entities]
        from dtl import transit
        self.pump(pipe_id).receive([transit.decode(e) for e in entities])

    def output(self, pipe_id, *, deleted: bool = False) -> list[dict]:
        """Dataset sink: latest entities of the sink dataset in `_id` order.
        `*_endpoint` sinks: source + transforms computed now, in source order. Deleted
        entities (`"_deleted": true`) only with `deleted`."""
        from runtime.sinks.endpoint import compute
        pipe = self._pipe(pipe_id)
        if pipe.sink is not None and pipe.sink.type == "dataset":
            name = pipe.writes[0] if pipe.writes else pipe.id
            try:
                ds = self.store.reader(name)
            except NoSuchDataset:
                return []
            try:
                return sorted((_clean(e) for e in ds.entities(deleted=deleted)),
                              key=lambda e: e["_id"])
            finally:
                ds.close()
        return list(compute(self, pipe, deleted=deleted))

    def dataset(self, name):
        """A read handle on a dataset (close it when done)."""
        return self.store.reader(name)

    def pump_op(self, pipe_id, operation, **kw):
        from runtime.operations import pump_op
        return pump_op(self, self._pipe(pipe_id), operation, **kw)

    def execution_log(self, pipe_id, kind=None) -> list[dict]:
        return self.pump(pipe_id).log.events(kind)

    def close(self):
        self.systems.close()
        self.provider.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- parts ------------------------------------------------------------------------------
    def _pipe(self, pipe_id):
        try:
            return self.config.pipes[pipe_id]
        except KeyError:
            raise KeyError(f"no pipe named {pipe_id!r}") from None

    def _make_source(self, pipe):
        from runtime.sources import make_source
        return make_source(self, pipe)

    def _make_sink(self, pipe):
        from runtime.sinks.dataset import DatasetSink
        from runtime.sinks.null import NullSink
        t = pipe.sink.type if pipe.sink is not None else "null"
        if t == "dataset":
            return DatasetSink(self.store, pipe.sink.config, pipe.id)
        if t == "null":
            return NullSink()
        from runtime.sinks import make_connector_sink
        return make_connector_sink(self, pipe)

    def _sink_meta(self, pipe):
        name = pipe.writes[0] if pipe.writes else pipe.id
        if not self.store.exists(name):
            return None
        ds = self.store.reader(name)
        try:
            return ds.meta.get("pump")
        finally:
            ds.close()

    def _chain(self, pipe, mark_filtered=True):
        key = (pipe.id, mark_filtered, self.backend)
        ch = self._chains.get(key)
        if ch is None:
            from runtime.transforms import build_chain
            ch = self._chains[key] = build_chain(pipe, self.provider, self._services(pipe),
                                                 backend=self.backend,
                                                 mark_filtered=mark_filtered)
        return ch

    def _services(self, pipe):
        hub = self

        def previous_version(entity):
            eid = entity.get("_id") if isinstance(entity, dict) else None
            if not isinstance(eid, str) or not pipe.writes:
                return None
            return hub.provider.get(pipe.writes[0], eid)

        def completeness(via, dataset_id):
            return None

        return {"previous_version": previous_version, "completeness": completeness,
                "pipe_id": pipe.id, "secrets": hub.config.secret}

    def _tracker(self, pipe):
        if pipe.id not in self._trackers:
            from runtime.dependency import tracker_for
            self._trackers[pipe.id] = tracker_for(self, pipe)
        return self._trackers[pipe.id]

    def _dead_letter(self, name, entity, message):
        ds = self.store.open(name, writer=True, create=True)
        try:
            from dtl import transit
            body = transit.loads(transit.dumps(entity))
            ds.append([{"_id": str(entity.get("_id")), "entity": body, "error": message}],
                      force=True)
            if not ds.populated:
                ds.set_populated(True)
        finally:
            ds.close()


def _clean(e):
    for k in ("_updated", "_ts", "_hash", "_previous"):
        e.pop(k, None)
    if e.get("_deleted") is False:
        del e["_deleted"]
    return e
