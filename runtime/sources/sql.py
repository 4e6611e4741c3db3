"""`sql` source: a table or a query of a SQL system, streamed in `fetch_size` chunks through a
server-side cursor (bounded memory), in a read-only transaction.

`_id` is the primary key (reflected for tables) as a string; compound keys are joined by ":"
(ours). With `updated_column` the source supports since: rows with the column >= the saved
value (`updated_query` with `:since` for queries). A table with `updated_column` is read in
that column's order, so the offset is saved after each batch; otherwise the largest value seen
is saved when the read completes. Nulls are dropped unless `preserve_null_values`."""

from __future__ import annotations

from dtl import transit
from runtime.sources.base import Batch, Source
from runtime.systems.sqltypes import to_db, to_entity


class SqlSource(Source):
    def __init__(self, pipe, component, batch_size, hub):
        c = component
        self.system = hub.systems.get(c["system"])
        self.table = c.get("table")
        q = c.get("query")
        self.query = "\n".join(q) if isinstance(q, (list, tuple)) else q
        uq = c.get("updated_query")
        self.updated_query = "\n".join(uq) if isinstance(uq, (list, tuple)) else uq
        pk = c.get("primary_key")
        self.pk = [pk] if isinstance(pk, str) else list(pk or ())
        self.updated = c.get("updated_column")
        self.schema = c.get("schema")
        self.whitelist = list(c.get("whitelist") or ()) or None
        self.blacklist = set(c.get("blacklist") or ())
        self.keep_nulls = bool(c.get("preserve_null_values", False))
        self.fetch_size = int(c.get("fetch_size", 1000) or 1000)
        since_ok = bool(self.updated) and (bool(self.table) or bool(self.updated_query))
        chrono = c.get("is_chronological")
        if chrono is None:
            chrono = bool(self.table) and since_ok
        if c.get("is_chronological_full") is False:
            self.order_full = False
        else:
            self.order_full = bool(chrono)
        super().__init__(pipe, batch_size, supports_since=bool(c.get("supports_since", since_ok)),
                         is_chronological=bool(chrono))

    def _sql(self, conn, since):
        sy = self.system
        if self.table:
            sql = f"SELECT * FROM {sy.table_ref(self.table, self.schema)}"
            params = ()
            if since is not None and self.updated:
                kinds = dict(sy.columns(conn, self.table, self.schema) or ())
                v = to_db(transit.decode(since), kinds.get(self.updated), sy.dialect, sy.tz)
                sql += f" WHERE {sy.quote(self.updated)} >= {sy.param('since')}"
                params = (v,)
            if self.updated and self.is_chronological and (since is not None or self.order_full):
                sql += f" ORDER BY {sy.quote(self.updated)}"
            return sql, params
        if since is not None and self.updated_query:
            # the documented `:since` bind, rewritten to the driver's placeholder
            v = transit.decode(since)
            return (self.updated_query.replace(":since", sy.param("since")),
                    (to_db(v, None, sy.dialect, sy.tz),))
        return self.query, ()

    def read(self, since):
        sy = self.system
        with sy.engine.connect() as conn:
            if sy.dialect != "sqlite":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            if self.table and not self.pk:
                self.pk = sy.primary_key(conn, self.table, self.schema)
                if not self.pk:
                    raise ValueError(f"table {self.table!r} has no primary key; "
                                     "set primary_key on the source")
            if not self.pk:
                raise ValueError("a query source needs primary_key")
            sql, params = self._sql(conn, since)
            res = conn.execution_options(stream_results=True, max_row_buffer=self.fetch_size) \
                .exec_driver_sql(sql, params)
            cols = list(res.keys())
            top = None
            try:
                while True:
                    rows = res.fetchmany(self.fetch_size)
                    if not rows:
                        break
                    for b in range(0, len(rows), self.batch_size):
                        ents, errs = [], []
                        for row in rows[b:b + self.batch_size]:
                            e, err, upd = self._entity(cols, row)
                            (ents.append(e) if err is None else errs.append((e, err)))
                            if upd is not None and (top is None or not upd < top):
                                top = upd
                        mark = transit.encode(top) if self.is_chronological and \
                            top is not None and self.supports_since else None
                        yield Batch(ents, mark, errs)
            finally:
                res.close()
            if self.supports_since and not self.is_chronological and top is not None:
                yield Batch([], transit.encode(top))

    def _entity(self, cols, row):
        tz = self.system.tz
        e = {}
        for k, v in zip(cols, row):
            if self.whitelist is not None and k not in self.whitelist:
                continue
            if k in self.blacklist:
                continue
            v = to_entity(v, tz)
            if v is None and not self.keep_nulls:
                continue
            e[k] = v
        full = dict(zip(cols, row))
        upd = to_entity(full.get(self.updated), tz) if self.updated else None
        keys = [full.get(k) for k in self.pk]
        if any(k is None for k in keys):
            missing = [k for k, v in zip(self.pk, keys) if v is None]
            return e, f"primary key column(s) {missing} missing or null", None
        e["_id"] = ":".join(_key_text(to_entity(k, tz)) for k in keys)
        return e, None, upd


def _key_text(v) -> str:
    from decimal import Decimal

    from dtl.values import DateTime
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, Decimal):
        return transit.encode_decimal(v)
    if isinstance(v, DateTime):
        return v.isoformat()
    return str(v)
