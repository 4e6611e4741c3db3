"""Running one pipe: source -> transforms -> sink in batches (pipes-and-pumps.md §4, §7, §8).

Crash safety: with a dataset sink, the pipe state (continuation value, dependency offsets,
whether a full run is under way) is committed in the same append as the batch it covers, so a
run killed at any point resumes after the last committed batch: nothing is lost, and a batch
written again is dropped by the sink's hash check. An interrupted full run restarts from the
beginning (its deletion tracking needs every id of one complete pass).
"""

from __future__ import annotations

import gc
import time
import uuid
from dataclasses import dataclass, field

from runtime.execlog import ExecLog
from runtime.state import FileState
from runtime.transforms import EntityFailure, build_chain


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
        pipe = self.pipe
        res = PipeRun(pipe.id)
        why = self.hub.skip_reason(pipe)
        if why:
            res.status, res.reason = "skipped", why
            return res
        t0 = time.perf_counter()
        run_id = str(uuid.uuid4())
        source = self.hub._make_source(pipe)
        sink = self.hub._make_sink(pipe)
        tracker = self.hub._tracker(pipe)
        gc_was = gc.isenabled()
        try:
            state = self.load_state(sink)
            resumed_full = bool(state.get("full"))
            incremental = source.supports_since and state.get("since") is not None \
                and not full and not resumed_full
            since = state.get("since") if incremental else None
            res.sync_type = "incremental" if incremental else "full"
            queue, dep_offsets = [], dict(state.get("deps") or {})
            if tracker is not None:
                if incremental:
                    queue, dep_offsets = tracker.queue(source, dep_offsets)
                else:
                    dep_offsets = tracker.ends()
            self.log.event("pump-started", run_id, sync_type=res.sync_type,
                           start_time=self.hub.clock())
            chain = self.hub._chain(pipe)
            sink.begin(not incremental)
            max_consec = int(pipe.pump.get("max_consecutive_write_errors", 1) or 1)
            consec = [0]
            dead_letter = pipe.pump.get("dead_letter_dataset")
            state = {**state, "deps": dep_offsets if not incremental or not queue else
                     dict(state.get("deps") or {}), "full": not incremental and source.supports_since}
            state["since"] = since
            gc.disable()

            run_many = getattr(chain, "run_many", None)

            def process(entities):
                outs = []
                # the whole batch through the transforms at once (columnar on the vector
                # backend); failures come back per entity and are handled one by one below
                results = run_many(entities) if run_many is not None else None
                for k, e in enumerate(entities):
                    try:
                        if results is None:
                            out = chain(e)
                        else:
                            out = results[k]
                            if isinstance(out, EntityFailure):
                                raise out
                        if e.get("$replaced") and e.get("_deleted"):
                            for o in out:
                                o["_filtered"] = True
                        outs.extend(out)
                        consec[0] = 0
                    except EntityFailure as ex:
                        res.errors += 1
                        consec[0] += 1
                        ev = self.log.entity_error(ex.entity, str(ex), ex.cause, run_id=run_id)
                        res.error_events.append(ev)
                        if dead_letter:
                            self.hub._dead_letter(dead_letter, ex.entity, str(ex))
                        if consec[0] >= max_consec and not keep_going:
                            raise PumpFailed(f"entity {ex.entity.get('_id')!r}: {ex} "
                                             f"(max_consecutive_write_errors {max_consec})") from ex
                return outs

            def on_event(kind, message, **fields):   # connector retries, in the log
                self.log.event(kind, str(uuid.uuid4()), message=message, run=run_id,
                               **fields)
            for part in (source, sink):
                if hasattr(part, "on_event"):
                    part.on_event = on_event

            for batch in source.read(since):
                for bad, msg in batch.errors:      # bad rows/lines: logged, the rest go on
                    res.errors += 1
                    res.error_events.append(self.log.event(
                        "read-error", str(uuid.uuid4()), entity=_plain(bad),
                        original_error_message=msg, run=run_id))
                outs = process(batch.entities)
                res.read += len(batch.entities)
                if batch.since is not None:
                    state["since"] = batch.since
                res.written += len(outs)
                res.changed += self._write(sink, outs, state, res, run_id)
                if progress:
                    progress(pipe.id, res)
            if queue:
                res.queued = len(queue)
                limit = state.get("since")
                for ents in source.refetch(queue, limit):
                    outs = process(ents)
                    res.read += len(ents)
                    res.written += len(outs)
                    res.changed += self._write(sink, outs, state, res, run_id)
                    if progress:
                        progress(pipe.id, res)
                state["deps"] = dep_offsets
            state["full"] = False
            state["runs"] = int(state.get("runs") or 0) + 1
            n = sink.finish(state, not incremental, True)
            if not sink.atomic_state:
                self.save_state(state)
            res.deleted = n
            res.changed += n
            if hasattr(sink, "set_populated") and source.populated():
                sink.set_populated()
            res.seconds = time.perf_counter() - t0
            self.log.event("pump-completed", run_id, sync_type=res.sync_type,
                           end_time=self.hub.clock(), total_time=res.seconds,
                           entities_succeeded=res.written, entities_failed=res.errors,
                           metrics={"entities.changes_last_run": res.changed,
                                    "entities.entities_last_run": res.read,
                                    "entities.write_errors_last_run": res.errors,
                                    "dependencies.queued_last_run": res.queued})
        except Exception as ex:  # noqa: BLE001 - a failed run is logged, then reported
            res.status, res.reason = "failed", str(ex)
            res.seconds = time.perf_counter() - t0
            import traceback
            self.log.event("pump-failed", run_id, sync_type=res.sync_type,
                           reason_why_stopped=str(ex), end_time=self.hub.clock(),
                           traceback=traceback.format_exc(),
                           original_error_message=str(ex))
        finally:
            if gc_was:
                gc.enable()
            source.close()
            sink.close()
            self.log.close()
        return res

    def _write(self, sink, outs, state, res, run_id):
        stored, problems = sink.write(outs, dict(state))
        if getattr(sink, "checkpoint", False):
            # connector sinks commit per batch: keep the marker in step with what they hold
            self.save_state(state, sink)
        for pos, eid, msg in problems:
            res.errors += 1
            ent = outs[pos] if pos is not None and pos < len(outs) else {"_id": eid}
            res.error_events.append(self.log.entity_error(ent, msg, run_id=run_id))
        return stored

    # -- inbox (http_endpoint source) ----------------------------------------------------------
    def receive(self, entities):
        chain = self.hub._chain(self.pipe)
        outs = []
        # one batch through the transforms (columnar where it pays); the first failing
        # entity fails the whole request, as before, and nothing is written
        run_many = getattr(chain, "run_many", None)
        results = run_many(list(entities)) if run_many is not None else \
            [chain(e) for e in entities]
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
            if hasattr(sink, "set_populated"):
                sink.set_populated()
            return stored
        finally:
            sink.close()


def _plain(e):
    from dtl import transit
    try:
        return transit.loads(transit.dumps(e))
    except Exception:  # noqa: BLE001 - a log entry must not fail the run
        return {"repr": repr(e)[:1000]}
