"""CREATE TABLE for the sql sink: from `schema_definition`, or (ours) from the shape of the
first batch of entities when no definition is given."""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
from decimal import Decimal

from dtl.values import DateTime

INT64 = 2 ** 63

# kind -> (postgresql, mysql, sqlite)
_TYPES = {
    "string": ("TEXT", "LONGTEXT", "TEXT"),
    "integer": ("BIGINT", "BIGINT", "INTEGER"),
    "bigint": ("NUMERIC(65,0)", "DECIMAL(65,0)", "DECIMAL TEXT"),
    "decimal": ("NUMERIC", "DECIMAL(65,30)", "DECIMAL TEXT"),
    "float": ("DOUBLE PRECISION", "DOUBLE", "REAL"),
    "boolean": ("BOOLEAN", "BOOLEAN", "BOOLEAN"),
    "datetime": ("TIMESTAMPTZ", "DATETIME(6)", "TIMESTAMP"),
    "date": ("DATE", "DATE", "DATE"),
    "time": ("TIME", "TIME(6)", "TIME"),
    "binary": ("BYTEA", "LONGBLOB", "BLOB"),
    "uuid": ("UUID", "CHAR(36)", "UUID"),
    "json": ("JSONB", "LONGTEXT", "JSON"),
}
_COL = {"postgresql": 0, "mysql": 1, "sqlite": 2}


def value_kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer" if -INT64 <= v < INT64 else "bigint"
    if isinstance(v, float):
        return "float"
    if isinstance(v, Decimal):
        return "decimal"
    if isinstance(v, (DateTime, _dt.datetime)):
        return "datetime"
    if isinstance(v, bytes):
        return "binary"
    if isinstance(v, _uuid.UUID):
        return "uuid"
    if isinstance(v, (dict, list)):
        return "json"
    return "string"


def column_type(kind, dialect, d=None):
    d = d or {}
    i = _COL[dialect]
    if kind == "decimal" and d.get("precision"):
        return ("DECIMAL TEXT" if dialect == "sqlite" else
                f"{'NUMERIC' if dialect == 'postgresql' else 'DECIMAL'}"
                f"({int(d['precision'])},{int(d.get('scale') or 0)})")
    if kind == "integer" and d.get("max_value") is not None and \
            not -INT64 <= int(d["max_value"]) < INT64:
        kind = "bigint"
    if kind == "string" and (d.get("max_size") or d.get("primary_key") or d.get("index")):
        n = int(d.get("max_size") or 255)
        if dialect == "mysql":
            return f"VARCHAR({n})" if n <= 16000 else "LONGTEXT"
        return f"VARCHAR({n})" if dialect == "postgresql" else "TEXT"
    if kind == "binary" and dialect == "mysql" and (d.get("primary_key") or d.get("index")):
        return f"VARBINARY({int(d.get('max_size') or 255)})"
    if kind not in _TYPES:
        raise ValueError(f"schema_definition: unknown type {kind!r}")
    return _TYPES[kind][i]


def infer_definition(entities, pk):
    """Column definitions from entity properties ("_id" feeds a missing key column)."""
    kinds: dict = {}
    for e in entities:
        if e.get("_deleted"):
            continue
        for k, v in e.items():
            if k.startswith("_") or k.startswith("$") or v is None:
                continue
            new = value_kind(v)
            old = kinds.get(k)
            if old is None or (old == "integer" and new in ("bigint", "decimal")) or \
                    (old == "bigint" and new == "decimal"):
                kinds[k] = new
    out = [{"name": c, "source_property": c, "type": kinds.get(c, "string"),
            "primary_key": True, "allow_null": False} for c in pk]
    out += [{"name": k, "source_property": k, "type": t} for k, t in kinds.items()
            if k not in pk]
    return out


def create_table_sql(system, table, schema, definition):
    dialect = system.dialect
    cols, pk, idx = [], [], []
    for d in definition:
        name = d.get("name") or d.get("source_property")
        t = column_type(str(d.get("type", "string")), dialect, d)
        line = f"{system.quote(name)} {t}"
        if d.get("primary_key") or d.get("allow_null") is False:
            line += " NOT NULL"
        cols.append(line)
        if d.get("primary_key"):
            pk.append(system.quote(name))
        elif d.get("index"):
            idx.append(name)
    if not pk:
        raise ValueError("schema_definition: at least one column must have primary_key true")
    ref = system.table_ref(table, schema)
    stmts = [f"CREATE TABLE {ref} ({', '.join(cols)}, PRIMARY KEY ({', '.join(pk)}))"]
    for name in idx:
        stmts.append(f"CREATE INDEX {system.quote(f'{table}_{name}_idx')} ON {ref} "
                     f"({system.quote(name)})")
    return stmts
