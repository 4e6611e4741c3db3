"""When pipes run by themselves (pipes-and-pumps.md §5): each scheduled pipe fires by
`cron_expression` or every `schedule_interval` seconds, and a dataset that changed signals the
pipes reading it (they run at once; a running pipe is never interrupted, it runs again after).

Two drivers share the timing rules: `Scheduler` (the foreground loop of `dtl run --watch`, one
run at a time) and `NodeScheduler` (the background thread of `dtl serve`, which starts runs
through the node so that the API sees them and pump operations act on them)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from runtime.cron import Cron

log = logging.getLogger("dtlhub.scheduler")

DATASET_SOURCES = ("dataset", "merge", "merge_datasets", "union_datasets", "diff_datasets")


def default_interval(pipe) -> float:
    """Sesam's default: 30 s for a dataset-to-dataset pipe, else 900 s."""
    src = pipe.source.type if pipe.source is not None else None
    snk = pipe.sink.type if pipe.sink is not None else None
    return 30.0 if src in DATASET_SOURCES and snk == "dataset" else 900.0


class Timing:
    """Next run times of a set of pipes (cron wins over interval)."""

    def __init__(self, pipes):
        self.pipes = {p.id: p for p in pipes}
        self.cron = {p.id: Cron(p.pump["cron_expression"]) for p in pipes
                     if p.pump.get("cron_expression")}

    def next_after(self, pipe_id, now) -> float:
        c = self.cron.get(pipe_id)
        if c is not None:
            return c.next_after(datetime.fromtimestamp(now, timezone.utc)).timestamp()
        p = self.pipes[pipe_id]
        iv = p.pump.get("schedule_interval")
        return now + (float(iv) if iv is not None else default_interval(p))

    def readers(self, datasets) -> list[str]:
        """Pipes whose source or hops read any of `datasets`."""
        ds = set(datasets)
        return [p.id for p in self.pipes.values() if ds & set(p.inputs)]


def scheduled(hub, pipe) -> bool:
    return hub.runnable(pipe) and pipe.pump.get("mode", "scheduled") == "scheduled"


class Scheduler:
    """`dtl run --watch`: one loop, one run at a time, everything once at start."""

    def __init__(self, hub, pipes=None, *, clock=time.time, sleep=time.sleep):
        self.hub = hub
        self.clock = clock
        self.sleep = sleep
        self.pipes = [p for p in hub.config.pipes_in_order()
                      if scheduled(hub, p) and (pipes is None or p.id in pipes)]
        self.timing = Timing(self.pipes)
        now = clock()
        self.due = {p.id: now for p in self.pipes}

    def tick(self, on_run=None):
        """Run every pipe that is due (in dependency order); returns the runs made."""
        now = self.clock()
        runs = []
        for p in self.pipes:
            if self.due[p.id] > now:
                continue
            r = self.hub.pump(p.id).run(keep_going=self.hub.keep_going)
            runs.append(r)
            self.due[p.id] = self.timing.next_after(p.id, self.clock())
            if r.changed:
                for reader in self.timing.readers(p.writes):
                    if reader != p.id:
                        self.due[reader] = min(self.due[reader], self.clock())
            if on_run:
                on_run(r)
        return runs

    def run_forever(self, on_run=None, stop=lambda: False):
        while not stop():
            self.tick(on_run)
            wait = min(self.due.values(), default=self.clock() + 60) - self.clock()
            if wait > 0:
                self.sleep(min(wait, 1.0))


class NodeScheduler:
    """The background timer of a served node. It decides when; the node runs (one run per
    pipe at a time, visible in the API). Disabled pumps (the `disable` operation) are skipped;
    `start` still runs them. Everything scheduled runs once at start, as `dtl run --watch`."""

    def __init__(self, node, *, clock=time.time, max_wait=1.0):
        self.node = node
        self.clock = clock
        self.max_wait = max_wait
        self._cv = threading.Condition()
        self._stopping = False
        self._thread = None
        self.due: dict = {}
        self.again: set = set()           # signalled while running: run once more after
        self.reload()

    # -- configuration -----------------------------------------------------------------------
    def reload(self):
        """The node deployed a new configuration: keep due times of pipes that stay."""
        hub = self.node.hub
        self.paused = bool((hub.config.metadata.config.get("task_manager") or {})
                           .get("disable_pump_scheduler"))
        pipes = [] if self.paused else \
            [p for p in hub.config.pipes_in_order() if scheduled(hub, p)]
        now = self.clock()
        with self._cv:
            seen = getattr(self, "_configs", {})
            self._configs = {p.id: p.effective for p in pipes}
            self.timing = Timing(pipes)
            self.order = [p.id for p in pipes]
            # new pipes and pipes whose configuration changed run now; the rest keep theirs
            self.due = {p.id: self.due.get(p.id, now) if seen.get(p.id) == p.effective
                        else now for p in pipes}
            self.again &= set(self.due)
            self._cv.notify_all()

    def next_run(self, pipe_id):
        with self._cv:
            return self.due.get(pipe_id)

    # -- events --------------------------------------------------------------------------------
    def signal(self, datasets):
        """`datasets` changed: their readers are due now."""
        now = self.clock()
        with self._cv:
            for pid in self.timing.readers(datasets):
                if pid in self.due:
                    if self.node.is_running(pid):
                        self.again.add(pid)
                    self.due[pid] = min(self.due[pid], now)
            self._cv.notify_all()

    def finished(self, pipe_id, res):
        """A run of `pipe_id` ended (any starter): schedule its next run, signal readers."""
        with self._cv:
            if pipe_id in self.due:
                self.due[pipe_id] = self.clock() if pipe_id in self.again else \
                    self.timing.next_after(pipe_id, self.clock())
                self.again.discard(pipe_id)
        pipe = self.node.config.pipes.get(pipe_id)
        if pipe is not None and res is not None and res.changed:
            self.signal(pipe.writes)
        else:
            with self._cv:
                self._cv.notify_all()

    # -- the thread ----------------------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=10):
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self):
        while True:
            with self._cv:
                if self._stopping:
                    return
                now = self.clock()
                due = [pid for pid in self.order if self.due.get(pid, now + 1) <= now
                       and not self.node.is_running(pid)]
                for pid in due:           # not again until it finished
                    self.due[pid] = float("inf")
            for pid in due:
                self._start(pid)
            with self._cv:
                if self._stopping:
                    return
                nxt = min((t for pid, t in self.due.items()
                           if not self.node.is_running(pid)), default=now + self.max_wait)
                self._cv.wait(max(0.0, min(nxt - self.clock(), self.max_wait)))

    def _start(self, pipe_id):
        from runtime.service.node import NodeError
        try:
            if self.node.disabled(pipe_id):
                self.finished(pipe_id, None)
                return
            self.node.run_pipe(pipe_id, starter="scheduler")
        except NodeError as e:              # running already, or not runnable just now
            log.debug("scheduler: %s not started: %s", pipe_id, e.message)
            self.finished(pipe_id, None)
        except Exception:  # noqa: BLE001 - the timer must outlive any one pipe
            log.exception("scheduler: starting %s failed", pipe_id)
            self.finished(pipe_id, None)
