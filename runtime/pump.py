"""Running one pipe: source -> transforms -> sink in batches (pipes-and-pumps.md §4, §7, §8).

Crash safety: with a dataset sink, the pipe state (continuation value, dependency offsets,
whether a full run is under way) is committed in the same append as the batch it covers, so a
run killed at any point resumes after the last committed batch: nothing is lost, and a batch
written again is dropped by the sink's hash check. An interrupted full run restarts from the
beginning (its deletion tracking needs every id of one complete pass), unless its sink
`resumes` (json push: the receiver tracks deletions over the sequence, which goes on).
"""

from __future__ import annotations

import gc
import time
import uuid
from dataclasses import dataclass, field

from runtime.execlog import ExecLog
from runtime.state import FileState
from runtime.transforms import EntityFailure


class PumpFailed(Exception):
    pass


@dataclass
class PipeRun:
    pipe: str
    status: str = "ok"             # ok / skipped / failed
    sync_type: str = ""
    read: int = 0                  # source entities processed (dependency re-reads included)
    written: int = 0               # entities handed to the sink
    changed: int = 0               # versions the sink stored (incl. deletion tracking)
    errors: int = 0
    deleted: int = 0               # deletion-tracking deletes
    queued: int = 0                # dependency-tracking re-reads
    seconds: float = 0.0
    reason: str | None = None
    error_events: list = field(default_factory=list)

    def as_dict(self):
        d = dict(self.__dict__)
        d.pop("error_events")
        return d


class Pump:
    def __init__(self, hub, pipe):
        self.hub = hub
        self.pipe = pipe
        self.log = ExecLog(hub.store, pipe.id, clock=hub.clock)
        self.file_state = FileState(hub.data_dir, pipe.id)

    # -- state ----------------------------------------------------------------------------
    def load_state(self, sink=None):
        st = None
        if sink is not None and sink.atomic_state:
            st = sink.load_state()
        elif self.pipe.sink is not None and self.pipe.sink.type == "dataset":
            st = self.hub._sink_meta(self.pipe)
        else:
            st = self.file_state.load()
        return dict(st or {})

    def save_state(self, state, sink=None):
        if sink is not None and sink.atomic_state:
            sink.save_state(state)
        elif self.pipe.sink is not None and self.pipe.sink.type == "dataset":
            sink = self.hub._make_sink(self.pipe)
            try:
                sink.save_state(state)
            finally:
                sink.close()
        else:
            self.file_state.save(state)

    # -- one run ----------------------------------------------------------------------------
    def run(self, *, full=False, keep_going=False, progress=None) -> PipeRun:
        res = PipeRun(self.pipe.id)
        why = self.hub.skip_reason(self.pipe)
        if why:
            res.status, res.reason = "skipped", why
            return res
        r = _Run(self, res, keep_going, progress)
        try:
            r.open()
            r.plan(full)
            r.read()
            r.requeue()
            r.finish()
        except Exception as ex:  # noqa: BLE001 - a failed run is logged, then reported
            r.failed(ex)
        finally:
            r.close()
        return res

    def pending(self) -> bool:
        """Whether the pipe has input it has not processed yet: changes in its source
        datasets after its saved position, or in its hopped datasets after its dependency
        offsets. Sources outside the hub (embedded, SQL, HTTP) are never pending: they are
        read whole on every run and do not change because another pipe ran."""
        if self.hub.skip_reason(self.pipe):
            return False
        src = self.pipe.source
        if src is None or src.type not in ("dataset", "merge", "merge_datasets",
                                           "union_datasets"):
            return False
        state = self.load_state()
        source = self.hub._make_source(self.pipe)
        try:
            if hasattr(source, "end_since") and _behind(state.get("since"), source.end_since()):
                return True
        finally:
            source.close()
        tracker = self.hub._tracker(self.pipe)
        if tracker is not None:
            deps = state.get("deps") or {}
            return _behind(deps, tracker.ends())
        return False

    # -- inbox (http_endpoint source) ----------------------------------------------------------
    def receive(self, entities):
        chain = self.hub._chain(self.pipe)
        outs = []
        # one batch through the transforms (columnar where it pays); the first failing
        # entity fails the whole request, as before, and nothing is written
        results = chain.run_many(list(entities))
        for out in results:
            if isinstance(out, EntityFailure):
                raise out
            outs.extend(out)
        sink = self.hub._make_sink(self.pipe)
        try:
            state = self.load_state(sink)
            stored, problems = sink.write(outs, state or None, strict=True)
            if problems:
                raise ValueError("; ".join(f"{eid!r}: {m}" for _, eid, m in problems))
            if sink.populates:
                sink.set_populated()
            return stored
        finally:
            sink.close()


class _Run:
    """One run of a pump, in the steps `Pump.run` calls: open the parts, plan (state, sync
    type, dependency queue), read the source batch by batch, re-read queued dependents, finish
    (deletion tracking, final state, populated) - or fail - and close."""

    def __init__(self, pump, res, keep_going, progress):
        self.pump, self.hub, self.pipe, self.res = pump, pump.hub, pump.pipe, res
        self.log = pump.log
        self.keep_going, self.progress = keep_going, progress
        self.run_id = str(uuid.uuid4())
        self.t0 = time.perf_counter()
        self.source = self.sink = self.tracker = None
        self.gc_was = gc.isenabled()
        self.consec = 0
        self.incremental = False
        self.queue, self.dep_offsets, self.state = [], {}, {}

    # -- steps ------------------------------------------------------------------------------
    def open(self):
        self.source = self.hub._make_source(self.pipe)
        self.sink = self.hub._make_sink(self.pipe)
        self.tracker = self.hub._tracker(self.pipe)
        self.source.on_event = self.sink.on_event = self._on_event

    def plan(self, full):
        pipe, res, source = self.pipe, self.res, self.source
        state = self.pump.load_state(self.sink)
        resumed_full = bool(state.get("full"))
        incremental = source.supports_since and state.get("since") is not None \
            and not full and not resumed_full
        # a sink that can (json push) continues an interrupted full run after its marker
        go_on = resumed_full and self.sink.resumes and not full \
            and state.get("since") is not None and state.get("sink") is not None
        res.sync_type = "incremental" if incremental else "full"
        deps = dict(state.get("deps") or {})
        if go_on:
            self.dep_offsets = deps   # as the run started: later changes queue next run
        elif self.tracker is not None:
            if incremental:
                self.queue, self.dep_offsets = self.tracker.queue(source, deps)
            else:
                self.dep_offsets = self.tracker.ends()
        else:
            self.dep_offsets = deps
        self.log.event("pump-started", self.run_id, sync_type=res.sync_type,
                       start_time=self.hub.clock())
        self.chain = self.hub._chain(pipe)
        self.sink.begin(not incremental)
        if go_on:
            self.sink.resume(state["sink"])
        if self._initial_offset() == "initially":
            self.sink.set_populated()
        self.max_consec = int(pipe.pump.get("max_consecutive_write_errors", 1) or 1)
        self.dead_letter = pipe.pump.get("dead_letter_dataset")
        self.incremental = incremental
        # the dependency offsets move with the first batch unless queued re-reads must
        # finish first (then they move at the end, see requeue)
        self.state = {**state, "deps": self.dep_offsets if not incremental or not self.queue
                      else deps, "full": not incremental and source.supports_since,
                      "since": state.get("since") if incremental or go_on else None}
        gc.disable()   # entities are acyclic: the cyclic GC only slows bulk work

    def read(self):
        from runtime import columnar
        col = columnar.plan(self)
        if col is not None:   # Arrow batches from segment to segment (same results)
            col.read()
            return
        res = self.res
        for batch in self.source.read(self.state["since"]):
            for bad, msg in batch.errors:      # bad rows/lines: logged, the rest go on
                res.errors += 1
                res.error_events.append(self.log.event(
                    "read-error", str(uuid.uuid4()), entity=_plain(bad),
                    original_error_message=msg, run=self.run_id))
            self._batch(batch.entities, batch.since)

    def requeue(self):
        if not self.queue:
            return
        self.res.queued = len(self.queue)
        for ents in self.source.refetch(self.queue, self.state.get("since")):
            self._batch(ents, None)
        self.state["deps"] = self.dep_offsets

    def finish(self):
        res, state, sink = self.res, self.state, self.sink
        state["full"] = False
        state.pop("sink", None)
        state["runs"] = int(state.get("runs") or 0) + 1
        n = sink.finish(state, not self.incremental, True)
        if not sink.atomic_state:
            self.pump.save_state(state)
        res.deleted = n
        res.changed += n
        when = self._initial_offset()
        if when in ("always", "initially", "onload") or (
                when == "if-source-populated" and self.source.populated()):
            sink.set_populated()
        res.seconds = time.perf_counter() - self.t0
        self.log.event("pump-completed", self.run_id, sync_type=res.sync_type,
                       end_time=self.hub.clock(), total_time=res.seconds,
                       entities_succeeded=res.written, entities_failed=res.errors,
                       metrics={"entities.changes_last_run": res.changed,
                                "entities.entities_last_run": res.read,
                                "entities.write_errors_last_run": res.errors,
                                "dependencies.queued_last_run": res.queued})

    def _initial_offset(self):
        """The dataset sink's `set_initial_offset` (configuration-sinks-dataset.rst): when its
        dataset becomes populated; other sinks populate nothing."""
        if not self.sink.populates:
            return "never"
        return str(self.pipe.sink.get("set_initial_offset") or "if-source-populated")

    def failed(self, ex):
        import traceback
        res = self.res
        res.status, res.reason = "failed", str(ex)
        res.seconds = time.perf_counter() - self.t0
        self.log.event("pump-failed", self.run_id, sync_type=res.sync_type,
                       reason_why_stopped=str(ex), end_time=self.hub.clock(),
                       traceback=traceback.format_exc(), original_error_message=str(ex))

    def close(self):
        if self.gc_was:
            gc.enable()
        try:
            if self.source is not None:
                self.source.close()
        finally:
            try:
                if self.sink is not None:
                    self.sink.close()   # commits a staged group: batches done stay done
            finally:
                self.log.close()

    # -- one batch ----------------------------------------------------------------------------
    def _batch(self, entities, since):
        res = self.res
        outs = self.transform(entities)
        res.read += len(entities)
        if since is not None:
            self.state["since"] = since
        res.written += len(outs)
        res.changed += self.write(outs)
        if self.progress:
            self.progress(self.pipe.id, res)

    def transform(self, entities):
        """The batch through the transforms at once (columnar where it pays); failures come
        back per entity and are handled one by one."""
        res, outs = self.res, []
        results = self.chain.run_many(entities)
        for e, out in zip(entities, results):
            if isinstance(out, EntityFailure):
                self._entity_failed(out)
                continue
            if e.get("$replaced") and e.get("_deleted"):
                for o in out:
                    o["_filtered"] = True
            outs.extend(out)
            self.consec = 0
        return outs

    def _entity_failed(self, ex):
        res = self.res
        res.errors += 1
        self.consec += 1
        res.error_events.append(self.log.entity_error(ex.entity, str(ex), ex.cause,
                                                      run_id=self.run_id))
        if self.dead_letter:
            self.hub._dead_letter(self.dead_letter, ex.entity, str(ex))
        if self.consec >= self.max_consec and not self.keep_going:
            raise PumpFailed(f"entity {ex.entity.get('_id')!r}: {ex} "
                             f"(max_consecutive_write_errors {self.max_consec})") from ex

    def write(self, outs):
        sink, res = self.sink, self.res
        stored, problems = sink.write(outs, dict(self.state))
        if sink.checkpoint:
            # connector sinks commit per batch: keep the marker in step with what they hold
            if sink.resumes and self.state.get("full"):
                self.state["sink"] = sink.position()
            self.pump.save_state(self.state, sink)
        for pos, eid, msg in problems:
            res.errors += 1
            ent = outs[pos] if pos is not None and pos < len(outs) else {"_id": eid}
            res.error_events.append(self.log.entity_error(ent, msg, run_id=self.run_id))
        return stored

    def _on_event(self, kind, message, **fields):   # connector retries, in the log
        self.log.event(kind, str(uuid.uuid4()), message=message, run=self.run_id, **fields)


def _plain(e):
    from dtl import transit
    try:
        return transit.loads(transit.dumps(e))
    except Exception:  # noqa: BLE001 - a log entry must not fail the run
        return {"repr": repr(e)[:1000]}


def _behind(pos, end) -> bool:
    """Whether a saved position (an offset, or a dict of them per dataset; None: nothing
    read) is before a source's end (same shape; -1: empty)."""
    if isinstance(end, dict):
        pos = pos if isinstance(pos, dict) else {}
        return any(_behind(pos.get(k), v) for k, v in end.items())
    if end is None or end < 0:
        return False
    return pos is None or (not isinstance(pos, dict) and pos < end)
