"""The timer for `dtl run --watch`: each pumped pipe fires by `cron_expression` or every
`schedule_interval` seconds (pipes-and-pumps.md §5), and a run that changed its sink dataset
signals the pipes reading that dataset (they run at once). One run at a time."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from runtime.cron import Cron


class Scheduler:
    def __init__(self, hub, pipes=None, *, clock=time.time, sleep=time.sleep):
        self.hub = hub
        self.clock = clock
        self.sleep = sleep
        self.pipes = [p for p in hub.config.pipes_in_order()
                      if hub.runnable(p) and p.pump.get("mode", "scheduled") == "scheduled"
                      and (pipes is None or p.id in pipes)]
        self.cron = {p.id: Cron(p.pump["cron_expression"]) for p in self.pipes
                     if p.pump.get("cron_expression")}
        now = clock()
        self.due = {p.id: now for p in self.pipes}   # everything runs once at start

    def _next(self, pipe, now):
        c = self.cron.get(pipe.id)
        if c is not None:
            return c.next_after(datetime.fromtimestamp(now, timezone.utc)).timestamp()
        return now + float(pipe.pump.get("schedule_interval") or 900)

    def tick(self, on_run=None):
        """Run every pipe that is due (in dependency order); returns the runs made."""
        now = self.clock()
        runs = []
        for p in self.pipes:
            if self.due[p.id] > now:
                continue
            r = self.hub.pump(p.id).run(keep_going=self.hub.keep_going)
            runs.append(r)
            self.due[p.id] = self._next(p, self.clock())
            if r.changed:
                for reader in self.pipes:
                    if reader.id != p.id and set(p.writes) & set(reader.reads):
                        self.due[reader.id] = min(self.due[reader.id], self.clock())
            if on_run:
                on_run(r)
        return runs

    def run_forever(self, on_run=None, stop=lambda: False):
        while not stop():
            self.tick(on_run)
            wait = min(self.due.values(), default=self.clock() + 60) - self.clock()
            if wait > 0:
                self.sleep(min(wait, 1.0))
