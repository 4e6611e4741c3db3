"""The engine behind the distributed executor, kept to one small interface (docs/decisions/
scale-out-engine.md): `map(fn, specs)` runs `fn(spec)` for every spec as tasks and returns the
results in order (an exception in place of a result whose task could not finish),
`broadcast(fn)` runs `fn()` once in every worker process, `workers()` and `close()`.

* `DaskEngine` - Dask distributed: a `LocalCluster` of worker processes bound to 127.0.0.1
  (one thread each), or a client of an existing scheduler (`address`).
* `InlineEngine` - every task in this process, one after the other (the plan without a
  cluster; tests and `--workers 0`).
"""

from __future__ import annotations

import logging


class EngineMissing(RuntimeError):
    pass


class InlineEngine:
    name = "inline"

    def map(self, fn, specs):
        out = []
        for s in specs:
            try:
                out.append(fn(s))
            except Exception as ex:  # noqa: BLE001 - reported as the task's result
                out.append(ex)
        return out

    def broadcast(self, fn):
        fn()

    def workers(self) -> int:
        return 1

    def close(self):
        pass


class DaskEngine:
    name = "dask"

    def __init__(self, workers: int = 2, address: str | None = None, timeout: float = 60,
                 task_timeout: float | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as ex:   # the [distributed] extra is not installed
            raise EngineMissing("the dask executor needs Dask distributed: "
                                "pip install 'dtlhub[distributed]'") from ex
        for name in ("distributed", "distributed.nanny", "distributed.scheduler",
                     "distributed.worker", "distributed.core", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self.cluster = None
        self.task_timeout = task_timeout      # a bound on waiting for one task (tests)
        if address:
            self.client = Client(address, timeout=timeout)
        else:
            # workers are processes (one writer per shard each), one thread per worker; memory
            # is the tasks' own business (they stream), so the nanny does not police it
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                        processes=True, host="127.0.0.1",
                                        dashboard_address="127.0.0.1:0", memory_limit=0,
                                        silence_logs=logging.CRITICAL)
            self.client = Client(self.cluster, timeout=timeout)

    def map(self, fn, specs):
        futs = [self.client.submit(fn, s, pure=False) for s in specs]
        out = []
        for f in futs:
            try:
                out.append(f.result(timeout=self.task_timeout))
            except Exception as ex:  # noqa: BLE001 - a task that died (KilledWorker, ...)
                out.append(ex)
        return out

    def broadcast(self, fn):
        self.client.run(fn)

    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def worker_pids(self) -> dict:
        import os
        return self.client.run(os.getpid)

    def close(self):
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
