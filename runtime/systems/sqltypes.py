"""Values between database drivers and entities (source-datatype-mapping; ours where silent).

Reading: integers stay integers (any size), decimals stay `Decimal`, floats floats, timestamps
become UTC `DateTime`s (a timestamp without zone is read in the system's `timezone`), dates
become midnight UTC, times become "HH:MM:SS[.ffffff]" strings, binary becomes bytes, UUIDs
stay UUIDs, JSON columns stay structures. Writing converts back by the column's kind.

SQLite has no native decimal or timestamp type: declared types decide (a column whose type
names DECIMAL/NUMERIC is read as Decimal, TIMESTAMP/DATETIME as a timestamp). Exact values that
must not pass through REAL are stored as text: tables we create use `DECIMAL TEXT` (TEXT
affinity, read back as Decimal)."""

from __future__ import annotations

import datetime as _dt
import sqlite3
import uuid as _uuid
from decimal import Decimal, InvalidOperation

from dtl.values import URI, NI, DateTime

UTC = _dt.timezone.utc
INT64 = 2 ** 63


def to_entity(v, tz=UTC):
    """A driver value as an entity value."""
    if v is None or isinstance(v, (bool, int, float, str, Decimal)):
        return v
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=tz)
        return DateTime.from_datetime(v.astimezone(UTC))
    if isinstance(v, _dt.date):
        return DateTime.from_parts(v.year, v.month, v.day)
    if isinstance(v, _dt.time):
        return v.replace(tzinfo=None).isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, _uuid.UUID):
        return v
    if isinstance(v, dict):
        return {str(k): to_entity(x, tz) for k, x in v.items()}
    if isinstance(v, list):
        return [to_entity(x, tz) for x in v]
    return str(v)


def kind_of(satype, declared: str = "") -> str:
    """A column's kind from its reflected SQLAlchemy type (or, for SQLite, declared text)."""
    from sqlalchemy import types as t
    if declared:
        d = declared.upper()
        for needle, k in (("INT", "int"), ("BOOL", "bool"), ("DEC", "decimal"),
                          ("NUM", "decimal"), ("TIMESTAMP", "datetime_tz"),
                          ("DATETIME", "datetime_tz"), ("DATE", "date"), ("TIME", "time"),
                          ("REAL", "float"), ("FLOA", "float"), ("DOUB", "float"),
                          ("BLOB", "bytes"), ("UUID", "uuid"), ("JSON", "json")):
            if needle in d:
                return k
        return "text"
    if isinstance(satype, t.Boolean):
        return "bool"
    if isinstance(satype, t.Integer):
        return "int"
    if isinstance(satype, t.Float):
        return "float"
    if isinstance(satype, t.Numeric):
        return "decimal"
    if isinstance(satype, t.DateTime):
        return "datetime_tz" if satype.timezone else "datetime"
    if isinstance(satype, t.Date):
        return "date"
    if isinstance(satype, t.Time):
        return "time"
    if isinstance(satype, t._Binary):
        return "bytes"
    if isinstance(satype, t.Uuid):
        return "uuid"
    if isinstance(satype, t.JSON):
        return "json"
    return "text"


def to_db(v, kind, dialect, tz=UTC):
    """An entity value for a column of `kind` on `dialect` (sqlite, postgresql, mysql)."""
    if v is None:
        return None
    if isinstance(v, DateTime):
        d = v.to_datetime()
        if kind == "date":
            return d.date().isoformat() if dialect == "sqlite" else d.date()
        if dialect == "sqlite":
            return d.isoformat()
        if kind == "datetime_tz" and dialect == "postgresql":
            return d
        return d.astimezone(tz).replace(tzinfo=None)   # zone-less columns hold local time
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        if dialect == "sqlite" and not -INT64 <= v < INT64:
            return str(v)       # sqlite3 cannot bind it; a TEXT-affinity column keeps it exact
        return v
    if isinstance(v, Decimal):
        return str(v) if dialect == "sqlite" else v
    if isinstance(v, _uuid.UUID):
        return v if dialect == "postgresql" and kind == "uuid" else str(v)
    if isinstance(v, (NI, URI)):
        return v.value
    if isinstance(v, (dict, list)):
        from dtl import transit
        return transit.dumps(v)
    return v


# -- SQLite: typed values through declared column types (used with PARSE_DECLTYPES) -----------
def _text(b):
    return b.decode("utf-8", "replace")


def _sqlite_ts(b):
    s = _text(b).strip()
    try:
        d = _dt.datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s else s)
    except ValueError:
        return s
    return d


def _sqlite_date(b):
    s = _text(b).strip()
    try:
        return _dt.date.fromisoformat(s[:10]) if len(s) == 10 else _sqlite_ts(b)
    except ValueError:
        return s


def _sqlite_dec(b):
    s = _text(b).strip()
    try:
        return Decimal(s)
    except InvalidOperation:
        return s


def _sqlite_bool(b):
    s = _text(b).strip().lower()
    return {"1": True, "0": False, "true": True, "false": False}.get(s, s)


# converter names match the first word of a declared type, case-insensitively; they only
# apply to connections opened with detect_types (ours)
for _name, _fn in (("TIMESTAMP", _sqlite_ts), ("DATETIME", _sqlite_ts),
                   ("TIMESTAMPTZ", _sqlite_ts), ("DATE", _sqlite_date),
                   ("DECIMAL", _sqlite_dec), ("NUMERIC", _sqlite_dec),
                   ("BOOLEAN", _sqlite_bool), ("BOOL", _sqlite_bool)):
    sqlite3.register_converter(_name, _fn)
