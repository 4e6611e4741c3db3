"""`sql` sink: upserts entities as rows (a `_deleted` or filtered entity deletes its row), one
transaction per batch, so a failed batch leaves the table as it was; the pump saves the
since marker only after the transaction commits.

A lost connection (or deadlock) rolls the batch back; it is retried whole on a fresh
connection (`batch_retries`, backoff from `write_retry_delay`), each retry logged. A batch the
database refuses for its data is redone row by row under savepoints: refused rows are
reported (execution log), the others commit together. Within a batch the last version of a
key wins. Table creation: `create_table_if_missing` with `schema_definition`, or (ours)
from the first batch's entity shape."""

from __future__ import annotations

import time

from runtime.sinks.base import Sink
from runtime.systems.sqlddl import create_table_sql, infer_definition
from runtime.systems.sqltypes import to_db
from runtime.systems.url import backoff


class SqlSink(Sink):
    atomic_state = False
    checkpoint = True          # the pump saves the pipe state after every committed batch

    def __init__(self, hub, pipe, component):
        c = component
        self.system = hub.systems.get(c["system"])
        self.table = c["table"]
        self.schema = c.get("schema")
        pk = c.get("primary_key")
        self.pk = [pk] if isinstance(pk, str) else list(pk or ())
        self.create = bool(c.get("create_table_if_missing", False))
        self.recreate = bool(c.get("recreate_table_on_first_run", False))
        self.truncate = bool(c.get("truncate_table_on_first_run", False))
        self.definition = [dict(d) for d in (c.get("schema_definition") or ())]
        self.ts_col = c.get("timestamp", "sesam-timestamp")
        self.whitelist = set(c.get("whitelist") or ()) or None
        self.blacklist = set(c.get("blacklist") or ())
        self.retries = int(pipe.pump.get("batch_retries", 3) or 0)
        self.delay = pipe.pump.get("write_retry_delay", 0)
        self.on_event = None      # set by the pump: on_event(kind, message, **fields)
        self._cols = None         # [(column, kind)] of the target table
        self._prop = {}           # column -> entity property (schema_definition)
        self._default = {}
        if self.definition:
            for d in self.definition:
                name = d.get("name") or d.get("source_property")
                self._prop[name] = d.get("source_property") or name
                if "default" in d:
                    self._default[name] = d["default"]
            if not self.pk:
                self.pk = [d.get("name") or d.get("source_property") for d in self.definition
                           if d.get("primary_key")]

    # -- the table -----------------------------------------------------------------------------
    def _ensure(self, entities, state):
        if self._cols is not None:
            return
        sy = self.system
        first = not (state or {}).get("runs")
        ref = sy.table_ref(self.table, self.schema)
        with sy.engine.begin() as conn:
            cols = sy.columns(conn, self.table, self.schema)
            if cols is not None and first and self.recreate and self.create:
                conn.exec_driver_sql(f"DROP TABLE {ref}")
                cols = None
            if cols is None:
                if not self.create:
                    raise ValueError(f"table {ref} does not exist (set create_table_if_missing)")
                definition = self.definition or infer_definition(entities, self.pk or ["id"])
                for stmt in create_table_sql(sy, self.table, self.schema, definition):
                    conn.exec_driver_sql(stmt)
                cols = sy.columns(conn, self.table, self.schema)
            elif first and self.truncate:
                conn.exec_driver_sql(f"DELETE FROM {ref}")
            if not self.pk:
                self.pk = sy.primary_key(conn, self.table, self.schema) or \
                    (["id"] if not self.definition and "id" in dict(cols) else [])
            if not self.pk:
                raise ValueError(f"table {ref} has no primary key; set primary_key on the sink")
        self._cols = cols
        self._kinds = dict(cols)

    # -- rows ----------------------------------------------------------------------------------
    def _row(self, e):
        """(key, {column: db value}, delete?) for an entity; ValueError if it has no key."""
        sy, kinds = self.system, self._kinds
        row = {}
        for col, kind in self._cols:
            prop = self._prop.get(col, col)
            if (self.whitelist is not None and prop not in self.whitelist) or \
                    prop in self.blacklist:
                continue
            if prop in e:
                row[col] = to_db(e[prop], kind, sy.dialect, sy.tz)
            elif col in self._default:
                row[col] = self._default[col]
        missing = [c for c in self.pk if row.get(c) is None]
        if missing:
            eid = e.get("_id")
            parts = [eid] if len(self.pk) == 1 else str(eid).split(":")
            if not isinstance(eid, str) or len(parts) != len(self.pk):
                raise ValueError(f"no value for primary key {missing}")
            for c, v in zip(self.pk, parts):
                if row.get(c) is None:
                    row[c] = _coerce_key(v, kinds.get(c))
        key = tuple(row[c] for c in self.pk)
        delete = bool(e.get("_deleted")) or bool(e.get("_filtered"))
        if self.ts_col and self.ts_col in kinds and not delete:
            from dtl.values import DateTime
            row[self.ts_col] = to_db(DateTime(time.time_ns()), kinds[self.ts_col],
                                     sy.dialect, sy.tz)
        return key, row, delete

    # -- writing -------------------------------------------------------------------------------
    def write(self, entities, state, strict=False):
        if not entities:
            return 0, []
        self._ensure(entities, state)
        latest, problems = {}, []
        for pos, e in enumerate(entities):
            try:
                key, row, delete = self._row(e)
            except (ValueError, TypeError) as ex:
                problems.append((pos, e.get("_id"), str(ex)))
                continue
            latest.pop(key, None)          # keep first-seen order of the final versions
            latest[key] = (pos, row, delete, e.get("_id"))
        items = list(latest.values())
        from sqlalchemy.exc import DBAPIError
        attempt = 0
        while True:
            try:
                with self.system.engine.begin() as conn:
                    self._apply(conn, items)
                return len(items), problems
            except DBAPIError as ex:
                if not self._transient(ex):
                    if strict:
                        raise
                    return self._row_by_row(items, problems)
                if attempt >= self.retries:
                    raise RuntimeError(f"sql sink: batch of {len(items)} failed after "
                                       f"{attempt} retries: {_msg(ex)}") from ex
                delay = backoff(self.delay, attempt)
                self._event("write-retry", f"sql sink: batch of {len(items)} rolled back "
                            f"({_msg(ex)}); retry {attempt + 1} in {delay:.2f}s",
                            attempt=attempt + 1, batch_size=len(items))
                time.sleep(delay)
                attempt += 1

    def _row_by_row(self, items, problems):
        from sqlalchemy.exc import DBAPIError
        stored = 0
        with self.system.engine.begin() as conn:
            for it in items:
                sp = conn.begin_nested()
                try:
                    self._apply(conn, [it])
                    sp.commit()
                    stored += 1
                except DBAPIError as ex:
                    sp.rollback()
                    if self._transient(ex):
                        raise
                    problems.append((it[0], it[3], f"sql sink: {_msg(ex)}"))
        return stored, sorted(problems, key=lambda p: p[0])

    def _apply(self, conn, items):
        sy = self.system
        ref = sy.table_ref(self.table, self.schema)
        p = sy.param(None)
        dels = [tuple(row[c] for c in self.pk) for _, row, d, _ in items if d]
        ups = [row for _, row, d, _ in items if not d]
        if dels:
            where = " AND ".join(f"{sy.quote(c)} = {p}" for c in self.pk)
            conn.exec_driver_sql(f"DELETE FROM {ref} WHERE {where}", dels)
        if ups:
            present = set()
            for r in ups:
                present.update(r)
            cols = [c for c, _ in self._cols if c in present]
            conn.exec_driver_sql(self._upsert_sql(cols), [tuple(r.get(c) for c in cols)
                                                          for r in ups])

    def _upsert_sql(self, cols):
        sy = self.system
        q = sy.quote
        names = ", ".join(q(c) for c in cols)
        ph = ", ".join(sy.param(None) for _ in cols)
        rest = [c for c in cols if c not in self.pk]
        ins = f"INSERT INTO {sy.table_ref(self.table, self.schema)} ({names}) VALUES ({ph})"
        if sy.dialect == "mysql":
            if not rest:
                return ins.replace("INSERT", "INSERT IGNORE", 1)
            return ins + " ON DUPLICATE KEY UPDATE " + ", ".join(
                f"{q(c)} = VALUES({q(c)})" for c in rest)
        conflict = f" ON CONFLICT ({', '.join(q(c) for c in self.pk)}) DO "
        if not rest:
            return ins + conflict + "NOTHING"
        return ins + conflict + "UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}"
                                                            for c in rest)

    def _transient(self, ex) -> bool:
        from sqlalchemy.exc import InterfaceError, OperationalError
        if getattr(ex, "connection_invalidated", False):
            return True
        if self.system.dialect == "sqlite":
            m = str(ex.orig).lower()
            return "locked" in m or "busy" in m
        return isinstance(ex, (OperationalError, InterfaceError))

    def _event(self, kind, message, **fields):
        if self.on_event is not None:
            self.on_event(kind, message, **fields)


def _coerce_key(v, kind):
    if kind == "int":
        try:
            return int(v)
        except ValueError:
            return v
    return v


def _msg(ex) -> str:
    """A driver error's first line, without the SQL statement and parameters (which may
    hold data that does not belong in a log line)."""
    orig = getattr(ex, "orig", None) or ex
    return f"{type(orig).__name__}: {str(orig).strip().splitlines()[0] if str(orig) else ''}"
