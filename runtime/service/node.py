"""The node behind the API: one data directory, its deployed configuration, and a Hub.

Routes call these methods and nothing else. Every write to storage (uploads, posts, pump runs,
dataset deletes) holds `lock`: a dataset has one writer, and one process must not race itself
for it. Reads open datasets read-only and never take the lock, so publishers stream while
receivers write.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from dtl.diagnostics import render
from runtime.config.loader import load_files
from runtime.config.problems import Problems
from runtime.hub import Hub
from runtime.service import configstore
from runtime.service.owners import Owners
from runtime.service.stores import EnvStore, PumpFlags, SecretStore
from storage import Store
from storage.errors import NoSuchDataset


class NodeError(Exception):
    """An error the API reports as-is: HTTP status, code, message, details."""

    def __init__(self, status, code, message, details=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def not_found(what, ident):
    return NodeError(404, "not-found", f"no {what} {ident!r}")


class Node:
    def __init__(self, data_dir, config_dir=None, *, profile=None, keep_going=False,
                 fsync=True, scheduler=True, allow_paths=()):
        self.data_dir = str(data_dir)
        # file: urls and sqlite files stay inside these roots (runtime/confine.py)
        self.config_dir = os.path.abspath(config_dir) if config_dir is not None else None
        self.allow_paths = tuple(allow_paths)
        self.keep_going = keep_going
        self.fsync = fsync
        self.lock = threading.RLock()
        self._runs_lock = threading.Lock()   # check-and-start of runs is atomic
        self.store = Store(self.data_dir, fsync=fsync)
        self.env = EnvStore(self.data_dir)
        self.secrets = SecretStore(self.data_dir)
        self.configs = configstore.ConfigStore(self.store)
        self.owners = Owners(self.store)
        self.flags = PumpFlags(self.data_dir)
        self.hub = None
        self.scheduler = None     # NodeScheduler once started
        self.started = time.time()
        self.runs = {}            # pipe id -> {"thread", "stop", "last": PipeRun}
        self.counters = {}        # pipe id -> {"runs", "failed", "changed", "received"}
        with self.lock:
            if config_dir is not None:
                self.bootstrap(config_dir, profile)
            else:
                self._install(self._load_stored())
        if scheduler:
            from runtime.scheduler import NodeScheduler
            self.scheduler = NodeScheduler(self)
        self.closed = False

    # -- configuration -------------------------------------------------------------------------
    def bootstrap(self, config_dir, profile=None):
        """Deploy a configuration folder: its env and secrets files join the node's stores
        (folder values win), its entities replace the stored configuration. Errors raise
        ConfigError (the server does not start on a broken folder, as `dtl run`)."""
        from runtime.config import ConfigError
        from dtl.syntax.jsontree import JObject, to_python
        loaded = load_files(Path(config_dir), Problems(), profile=profile)
        if loaded.env:
            self.env.merge(loaded.env)
        sec = dict(loaded.secrets.global_)
        for system, values in loaded.secrets.local.items():
            sec.update({f"{system}/{k}": v for k, v in values.items()})
        if sec:
            self.secrets.put(sec)
        from runtime.config import load_config
        cfg = load_config(config_dir, profile=profile, env=self.env.get(),
                          secrets=self.secrets.values(), lenient=True)
        n = len(cfg.errors)
        cfg = self.confined(cfg)
        # a node starts with invalid pipes (they do not run; /pipes shows their errors); it
        # refuses an unreadable folder, and one that names files outside the allowed roots
        if cfg.refused or len(cfg.errors) > n:
            raise ConfigError(list(cfg.errors), list(cfg.warnings), dict(cfg.texts))
        entities = [to_python(n) for n, _ in loaded.entities if isinstance(n, JObject)]
        self.configs.replace(entities)
        self._keep_owners(entities)
        self._install(cfg)

    def _load_stored(self):
        return self.confined(configstore.load_entities(self.configs.entities(), self.env.get(),
                                                       self.secrets.values()))

    def roots(self, cfg):
        """Where `cfg` may touch files: the bootstrap folder, the data directory's files/
        area, --allow-path and the metadata's file_roots; relative paths resolve against
        the bootstrap folder (else files/), never against a staged upload."""
        from runtime.confine import Roots, file_roots
        return Roots.build(self.config_dir, self.data_dir, self.allow_paths, file_roots(cfg))

    def confined(self, cfg):
        """`cfg` with its refused paths as errors (positioned, as any validation error)."""
        import dataclasses
        from runtime.confine import check_config
        extra = check_config(cfg, self.roots(cfg))
        return dataclasses.replace(cfg, errors=tuple(cfg.errors) + tuple(extra)) if extra else cfg

    def _install(self, cfg):
        old = self.hub
        self.hub = Hub(cfg, self.data_dir, keep_going=self.keep_going, fsync=self.fsync,
                       roots=self.roots(cfg))
        if old is not None:
            old.close()
        if self.scheduler is not None:
            self.scheduler.reload()

    @property
    def config(self):
        return self.hub.config

    def reload(self):
        """Re-read the stored configuration (after env or secrets changed)."""
        with self.lock:
            self._install(self._load_stored())

    def upload(self, cfg, entities, *, force=False, files=None):
        """Deploy `entities` (already loaded as `cfg`) unless it has errors in `files` (None:
        anywhere) and not `force`. Returns the validation errors; nothing changes on refusal."""
        cfg = self.confined(cfg)
        errors = validation_errors(cfg, files)
        if errors and not force:
            raise NodeError(400, "invalid-config", "the configuration has errors",
                            {"validation_errors": errors})
        _check_ids(entities)     # even forced: the stored set is keyed by _id
        with self.lock:
            self.configs.replace(entities)
            self._keep_owners(entities)
            self._install(cfg)
        return errors

    def _keep_owners(self, entities):
        for kind in ("pipe", "system"):
            self.owners.keep_only(kind, [e["_id"] for e in entities
                                         if configstore.kind(e) == kind])

    def upload_text(self, text, *, force=False):
        try:
            entities = configstore.entities_of(text)
        except ValueError:
            entities = []
        cfg = configstore.load_text(text, self.env.get(), self.secrets.values())
        return self.upload(cfg, entities, force=force)

    def upload_zip(self, data, *, force=False):
        import zipfile
        import zlib
        try:
            cfg, entities = configstore.load_zip(data, self.env.get(), self.secrets.values())
        except zipfile.BadZipFile as e:
            raise NodeError(400, "bad-zip", f"the body is not a usable zip file: {e}") from None
        except (zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, zlib.error) as e:
            raise NodeError(400, "bad-zip", f"the zip cannot be read: {e}") from None
        return self.upload(cfg, entities, force=force)

    def put_entity(self, entity_text, expected_id=None, expected_kind=None, *, force=False,
                   files_ok=True, owner=None):
        """Add or replace one pipe or system, validated within the whole configuration; errors
        in that entity's file refuse the change (errors elsewhere were there before)."""
        try:
            new = configstore.entities_of(entity_text)
        except ValueError:
            new = []
        if len(new) != 1 or not isinstance(new[0].get("_id"), str):
            # let the loader report where the text is wrong
            cfg = configstore.load_text(entity_text, self.env.get(), self.secrets.values())
            errs = validation_errors(cfg) or [{"level": "error", "msg": "expected one entity "
                                               "with a string _id", "config_id": expected_id}]
            raise NodeError(400, "invalid-config", "the configuration has errors",
                            {"validation_errors": errs})
        e = new[0]
        if expected_id is not None and e["_id"] != expected_id:
            raise NodeError(400, "id-mismatch",
                            f"the entity's _id {e['_id']!r} is not {expected_id!r}")
        if expected_kind and configstore.kind(e) != expected_kind:
            raise NodeError(400, "wrong-type", f"expected a {expected_kind} configuration")
        return self.put_entities([e], raw={configstore.layout_name(e): entity_text},
                                 force=force, files_ok=files_ok, owner=owner)

    def put_entities(self, new, *, raw=None, force=False, files_ok=True, owner=None):
        """Add or replace entities; only errors in their own files refuse the change.
        Without `files_ok` (a caller without manage_node) an entity that touches the node's
        files is refused with 403 (confine.file_uses). `owner` owns those it creates."""
        _check_ids(new)
        ids = {e["_id"] for e in new}
        with self.lock:
            cur = self.configs.entities()
            had = {(configstore.kind(x), x["_id"]) for x in cur}
            rest = [x for x in cur if x["_id"] not in ids]
            entities = rest + list(new)
            cfg = configstore.load_entities(entities, self.env.get(), self.secrets.values(),
                                            raw=raw)
            if not files_ok:
                refuse_file_uses(cfg, ids)
            errors = self.upload(cfg, entities, force=force,
                                 files={configstore.layout_name(e) for e in new})
            for kind in ("pipe", "system"):
                made = [e["_id"] for e in new
                        if configstore.kind(e) == kind and (kind, e["_id"]) not in had]
                if owner is not None:
                    self.owners.set(kind, [(i, owner) for i in made])
                else:
                    self.owners.forget(kind, made)
            return errors

    def delete_entity(self, entity_id, kind):
        with self.lock:
            cur = self.configs.entities()
            if not any(x["_id"] == entity_id and configstore.kind(x) == kind for x in cur):
                raise not_found(kind, entity_id)
            entities = [x for x in cur if x["_id"] != entity_id]
            cfg = configstore.load_entities(entities, self.env.get(), self.secrets.values())
            if kind == "pipe":
                self.stop(entity_id)
            self.configs.replace(entities)
            self.owners.forget(kind, [entity_id])
            self._install(cfg)

    # -- pipes ---------------------------------------------------------------------------------
    def pipe(self, pipe_id):
        p = self.config.pipes.get(pipe_id)
        if p is None:
            raise not_found("pipe", pipe_id)
        return p

    def system(self, system_id):
        s = self.config.systems.get(system_id)
        if s is None:
            raise not_found("system", system_id)
        return s

    def pump_state(self, pipe) -> dict:
        """The pipe's saved state, read without the writer lock."""
        if pipe.sink is not None and pipe.sink.type == "dataset":
            name = pipe.writes[0] if pipe.writes else pipe.id
            if not self.store.exists(name):
                return {}
            ds = self.store.open(name)
            try:
                return dict(ds.meta.get("pump") or {})
            finally:
                ds.close()
        return dict(self.hub.pump(pipe.id).file_state.load() or {})

    def is_running(self, pipe_id) -> bool:
        r = self.runs.get(pipe_id)
        return bool(r and r.get("thread") and r["thread"].is_alive())

    def run_pipe(self, pipe_id, *, full=False, wait=False, starter="api"):
        """Start a pump run in the background (409 if one is running); `wait` blocks. The
        run's progress is `runs[id]["current"]` while it lasts, then `runs[id]["last"]`."""
        pipe = self.pipe(pipe_id)
        with self._runs_lock:
            if self.is_running(pipe_id):
                raise NodeError(409, "pump-running",
                                f"the pump of {pipe_id!r} is already running")
            if not self.hub.runnable(pipe) and self.hub.skip_reason(pipe):
                raise NodeError(400, "not-runnable", f"pipe {pipe_id!r} cannot run: "
                                f"{self.hub.skip_reason(pipe)}")
            stop = threading.Event()
            hub = self.hub
            entry = {"stop": stop, "starter": starter, "started": time.time(), "current": None,
                     "last": self.runs.get(pipe_id, {}).get("last")}

            def progress(_pid, res, done=False):
                entry["current"] = res
                if stop.is_set():
                    # the batch just written is committed with its state: stopping here
                    # abandons nothing and duplicates nothing
                    raise RuntimeError(entry.get("why") or "stopped by a 'stop' pump operation")

            def work():
                res = None
                try:
                    with self.lock:
                        if not stop.is_set():
                            res = hub.pump(pipe_id).run(full=full, keep_going=self.keep_going,
                                                        progress=progress)
                    if res is not None:
                        entry["last"] = res
                        self._count(pipe_id, res)
                finally:
                    entry["current"] = None
                    if self.scheduler is not None:
                        self.scheduler.finished(pipe_id, res)

            t = threading.Thread(target=work, name=f"pump:{pipe_id}", daemon=True)
            entry["thread"] = t
            self.runs[pipe_id] = entry
            t.start()
        if wait:
            t.join()

    def stop(self, pipe_id, why=None):
        r = self.runs.get(pipe_id)
        if r and r.get("stop") is not None:
            if why:
                r["why"] = why
            r["stop"].set()

    def disabled(self, pipe_id) -> bool:
        return bool(self.flags.get().get(pipe_id, {}).get("disabled"))

    def run_to_stable(self, pipe_ids=None, **kw):
        with self.lock:
            s = self.hub.run(pipe_ids, until_stable=True, **kw)
        for p in s.pipes.values():
            self.counters.setdefault(p.pipe, {"runs": 0, "failed": 0, "changed": 0,
                                              "received": 0})
            c = self.counters[p.pipe]
            c["runs"] += p.runs
            c["changed"] += p.changed
            c["failed"] += p.status == "failed"
        return s

    def run_all(self, *, extra_zero_runs=1, max_runs=100, max_run_time=None,
                delete_input_datasets=True, reset=True, check_input_pipes=False):
        """The Sesam client's `run-all-pipes` (test-runner.md §4): optionally reset every pipe
        and delete its sink dataset (receivers' datasets too unless `delete_input_datasets` is
        false), then run in dependency order until `extra_zero_runs` passes change nothing."""
        with self.lock:
            if reset:
                self.hub.close()
                for p in self.config.pipes.values():
                    if p.source is not None and p.source.type == "http_endpoint" and \
                            not delete_input_datasets:
                        continue
                    for name in p.writes:
                        if self.store.exists(name):
                            self.store.delete(name)
                    state = self.hub.pump(p.id).file_state.path
                    if Path(state).exists():
                        Path(state).unlink()
                self._install(self.config)
            t0 = time.monotonic()
            s = self.run_to_stable(None, max_passes=max_runs, extra_zero_runs=extra_zero_runs)
            took = time.monotonic() - t0
        failed = [p for p in s.failed if check_input_pipes or
                  self.config.pipes[p].role != "input"]
        info = None
        if failed:
            info = "; ".join(f"pipe {p} failed: {s[p].reason}" for p in failed)
        elif not s.stable:
            info = f"did not stabilize within {s.passes} runs"
        elif max_run_time is not None and took > max_run_time:
            info = f"exceeded max_run_time ({took:.1f} s > {max_run_time} s)"
        out = {"status": "failed" if info else "success",
               "statistics": {p: ps.as_dict() for p, ps in s.pipes.items()}}
        if info:
            out["additional_info"] = info
        return out

    def _count(self, pipe_id, res):
        c = self.counters.setdefault(pipe_id, {"runs": 0, "failed": 0, "changed": 0,
                                               "received": 0})
        c["runs"] += 1
        c["failed"] += res.status == "failed"
        c["changed"] += res.changed

    def pump_op(self, pipe_id, op, last_seen=None, comment=None):
        pipe = self.pipe(pipe_id)
        if op in ("start", "start-rescan"):
            return self.run_pipe(pipe_id, full=op == "start-rescan")
        if op == "run-to-stable":
            return self.run_to_stable([pipe_id])
        if op == "stop":
            return self.stop(pipe_id)
        if op in ("enable", "disable"):
            self.flags.set(pipe.id, op == "disable", comment)
            if op == "enable" and self.scheduler is not None:
                self.scheduler.signal(pipe.inputs)
            return None
        if op not in ("reset", "update-last-seen", "set-last-seen-to-end", "reset-tracking",
                      "set-tracking-to-start"):
            raise NodeError(400, "unsupported-operation", f"unsupported pump operation {op!r}")
        if self.is_running(pipe_id):
            raise NodeError(409, "pump-running", f"the pump of {pipe_id!r} is running")
        kw = {"last_seen": last_seen or ""} if op == "update-last-seen" else {}
        with self.lock:
            return self.hub.pump_op(pipe.id, op, **kw)

    def post(self, pipe_id, entities):
        """A receiver's batch: all entities stored in one commit, or none."""
        self.pipe(pipe_id)
        with self.lock:
            try:
                self.hub.post(pipe_id, entities)
            except ValueError as e:
                raise NodeError(400, "rejected", str(e)) from None
            except Exception as e:  # noqa: BLE001 - a DTL failure refuses the whole batch
                from runtime.transforms import EntityFailure
                if isinstance(e, EntityFailure):
                    raise NodeError(400, "entity-error", str(e),
                                    {"_id": e.entity.get("_id")}) from None
                raise
        c = self.counters.setdefault(pipe_id, {"runs": 0, "failed": 0, "changed": 0,
                                               "received": 0})
        c["received"] += len(entities) if isinstance(entities, list) else 1
        self._signal(self.config.pipes[pipe_id].writes)

    def _signal(self, datasets):
        if self.scheduler is not None:
            self.scheduler.signal(datasets)

    def execution_log(self, pipe_id):
        self.pipe(pipe_id)
        from runtime.execlog import log_name
        return self.open_dataset(log_name(pipe_id), missing_ok=True)

    # -- datasets --------------------------------------------------------------------------------
    def open_dataset(self, name, missing_ok=False):
        """A read-only handle (the caller closes it); None when missing and `missing_ok`."""
        try:
            return self.store.open(name)
        except NoSuchDataset:
            if missing_ok:
                return None
            raise not_found("dataset", name) from None
        except Exception as e:  # noqa: BLE001 - invalid names are unknown datasets
            from storage.errors import StorageError
            if isinstance(e, StorageError):
                raise not_found("dataset", name) from None
            raise

    def write_dataset(self, name, entities, force=False, owner=None):
        """Entities straight into a dataset (not one a pipe writes), all or nothing; `owner`
        owns it if this creates it."""
        from dtl import transit
        from storage.errors import EntityError, StorageError
        entities = entities if isinstance(entities, list) else [entities]
        if not all(isinstance(e, dict) for e in entities):
            raise NodeError(400, "bad-body", "expected an entity or a list of entities")
        _not_system(name)
        w = self.config.writer(name)
        if w is not None:
            raise NodeError(409, "dataset-has-writer", f"pipe {w.id!r} writes {name!r}")
        with self.lock:
            try:
                new = not self.store.exists(name)
                ds = self.store.open(name, writer=True, create=True)
            except StorageError as e:
                raise NodeError(400, "bad-dataset", str(e)) from None
            try:
                st = ds.append([transit.decode(e) for e in entities], force=force)
                if not ds.populated:
                    ds.set_populated(True)
            except (EntityError, ValueError) as e:
                raise NodeError(400, "entity-error", str(e)) from None
            finally:
                ds.close()
            if new and owner:
                self.owners.set("dataset", [(name, owner)])
            elif new:
                self.owners.forget("dataset", [name])
        if st.stored:
            self._signal([name])
        return {"received": st.received, "stored": st.stored, "unchanged": st.unchanged}

    def delete_dataset(self, name):
        _not_system(name)
        with self.lock:
            try:
                if not self.store.exists(name):
                    raise not_found("dataset", name)
            except NodeError:
                raise
            except Exception:  # noqa: BLE001 - an invalid name names no dataset
                raise not_found("dataset", name) from None
            writer = self.config.writer(name)
            if writer is not None and self.is_running(writer.id):
                raise NodeError(409, "pump-running", f"pipe {writer.id!r} is writing {name!r}")
            self.hub.provider.close()
            self.store.delete(name)
            self.owners.forget("dataset", [name])

    def start(self):
        """The service is up: the scheduler starts (if the node has one)."""
        if self.scheduler is not None and self.scheduler._thread is None:
            self.scheduler.start()

    def close(self, timeout=30):
        """Shut down: no new runs; running ones end after the batch they are writing (its
        state commits with it, so the next start resumes there). Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.scheduler is not None:
            self.scheduler.stop()
        for pid in list(self.runs):
            self.stop(pid, "stopped: the service is shutting down")
        for r in list(self.runs.values()):
            if r.get("thread") is not None:
                r["thread"].join(timeout=timeout)
        if self.hub is not None:
            self.hub.close()


def _not_system(name) -> None:
    """`system:` datasets (the configuration, its owners, execution logs) are the node's own:
    written through the API they would change configuration and ownership unchecked."""
    if isinstance(name, str) and name.startswith("system:"):
        raise NodeError(403, "forbidden", f"{name!r} is written by the node only")


def _check_ids(entities) -> None:
    for e in entities:
        if not isinstance(e, dict) or not isinstance(e.get("_id"), str) or \
                "/" in e["_id"] or not e["_id"]:
            raise NodeError(400, "invalid-config", "every entity needs a string _id "
                            "without '/'")
    if len({e["_id"] for e in entities}) != len(entities):
        raise NodeError(400, "invalid-config", "duplicate _id in the upload")


def refuse_file_uses(cfg, ids) -> None:
    """403 when any of `ids` touches the node's files (for callers without manage_node)."""
    from runtime.confine import file_uses
    uses = file_uses(cfg, ids)
    if uses:
        raise NodeError(403, "forbidden", "configuring file access needs the manage_node "
                        "permission (Admin or Developer): " + "; ".join(
                            f"{u['_id']}: {u['reason']}" for u in uses), {"file_uses": uses})


def validation_errors(cfg, files=None) -> list:
    """`Config.errors` as the API's `validation_errors`: Sesam's keys plus our positions."""
    out = []
    for d in cfg.errors:
        s = d.span
        if files is not None and s.file not in files:
            continue
        out.append({"config_id": _config_id(cfg, s), "level": "error",
                    "msg": render(d, cfg.texts.get(s.file)), "elements": s.pointer or None,
                    "code": d.code, "message": d.message, "hint": d.hint, "file": s.file,
                    "line": s.line, "column": s.column})
    return out


def _config_id(cfg, span):
    f = span.file or ""
    for prefix in ("pipes/", "systems/"):
        if f.startswith(prefix) and f.endswith(".conf.json"):
            return f[len(prefix):-len(".conf.json")]
    if f == "node-metadata.conf.json":
        return "node"
    if span.line is None:
        return None
    for x in list(cfg.pipes.values()) + list(cfg.systems.values()):
        xs = x.span
        if xs.file == f and xs.line is not None and xs.end_line is not None and \
                xs.line <= span.line <= xs.end_line:
            return x.id
    return None
