"""SQL systems: `system:postgresql` (psycopg 3), `system:mysql` (PyMySQL, MariaDB) and
`system:sqlite` (ours; `database` is a file path). One SQLAlchemy engine per system gives the
connection pool (`pool_size`, `pool_max_overflow`, `pool_timeout`, `pool_recycle`);
connections are pinged before use so a dropped one is replaced, and sessions run in UTC."""

from __future__ import annotations

import os
import sqlite3
from zoneinfo import ZoneInfo

from runtime.config.secret import reveal


class SqlSystem:
    def __init__(self, system_id, kind, config, roots):
        self.id = system_id
        self.kind = kind
        self.cfg = config
        self.roots = roots
        self.dialect = "postgresql" if kind == "postgresql" else \
            "mysql" if kind == "mysql" else "sqlite"
        self.tz = ZoneInfo(str(config.get("timezone") or "UTC"))
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self):
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import URL
        c = self.cfg
        pool = dict(pool_size=int(c.get("pool_size", 10)),
                    max_overflow=int(c.get("pool_max_overflow", 10)),
                    pool_timeout=float(c.get("pool_timeout", 30)),
                    pool_recycle=int(c.get("pool_recycle", 1800)), pool_pre_ping=True)
        if self.kind == "sqlite":
            path = str(reveal(c.get("database")))
            if path != ":memory:":
                path = self.roots.resolve(path, f"system {self.id!r}: sqlite database")
            eng = create_engine(URL.create("sqlite", database=path),
                                connect_args={"detect_types": sqlite3.PARSE_DECLTYPES,
                                              "timeout": float(c.get("pool_timeout", 30))},
                                **pool)

            # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy own it
            @event.listens_for(eng, "connect")
            def _no_implicit(dbapi_conn, _rec):
                dbapi_conn.isolation_level = None

            @event.listens_for(eng, "begin")
            def _begin(conn):
                conn.exec_driver_sql("BEGIN")
            return eng
        common = dict(username=_s(c.get("username")), password=_s(c.get("password")),
                      host=_s(c.get("host")), port=c.get("port"), database=_s(c.get("database")))
        if self.kind == "postgresql":
            url = URL.create("postgresql+psycopg", query={"sslmode": str(c.get("sslmode")
                                                                          or "prefer")}, **common)
            eng = create_engine(url, connect_args={"options": "-c TimeZone=UTC",
                                                   "connect_timeout": 30}, **pool)
        else:
            url = URL.create("mysql+pymysql", query={"charset": "utf8mb4"}, **common)
            eng = create_engine(url, connect_args={"connect_timeout": 30}, **pool)

            @event.listens_for(eng, "connect")
            def _utc(dbapi_conn, _rec):
                cur = dbapi_conn.cursor()
                cur.execute("SET time_zone = '+00:00'")
                cur.close()
        return eng

    def quote(self, name) -> str:
        return self.engine.dialect.identifier_preparer.quote(str(name))

    def table_ref(self, table, schema=None) -> str:
        return (self.quote(schema) + "." if schema else "") + self.quote(table)

    def param(self, name) -> str:
        """A bind placeholder in the driver's paramstyle (for exec_driver_sql)."""
        return "?" if self.dialect == "sqlite" else "%s"

    def columns(self, conn, table, schema=None):
        """[(name, kind)] of a table, or None if it does not exist."""
        from sqlalchemy import inspect
        from runtime.systems.sqltypes import kind_of
        insp = inspect(conn)
        if not insp.has_table(table, schema=schema):
            return None
        if self.dialect == "sqlite":
            pre = f"{self.quote(schema)}." if schema else ""
            rows = conn.exec_driver_sql(f"PRAGMA {pre}table_info({self.quote(table)})").all()
            return [(r[1], kind_of(None, r[2] or "")) for r in rows]
        return [(col["name"], kind_of(col["type"]))
                for col in insp.get_columns(table, schema=schema)]

    def primary_key(self, conn, table, schema=None) -> list:
        from sqlalchemy import inspect
        pk = inspect(conn).get_pk_constraint(table, schema=schema)
        return list(pk.get("constrained_columns") or ())

    def close(self):
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _s(v):
    v = reveal(v)
    return None if v is None else str(v)
