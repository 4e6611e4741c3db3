"""The entity value model: Python types for DTL values, and truthiness, equality and ordering.

DTL values are plain Python objects so entities stay ordinary dicts:

    null -> None        boolean -> bool     integer -> int (unbounded)   float -> float
    decimal -> Decimal  string -> str       list -> list                 dict -> dict
    datetime -> DateTime (UTC, nanoseconds) namespaced identifier -> NI   uri -> URI
    uuid -> uuid.UUID   bytes -> bytes

The transit codec (strings like ``"~t2015-07-28T09:46:00Z"``) lives in :mod:`dtl.transit`.
"""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
from decimal import Decimal

__all__ = [
    "DateTime", "NI", "URI", "Decimal", "UUID", "type_name", "is_true", "deep_equal",
    "order_key", "value_key", "as_list", "is_number", "TYPE_NAMES",
]

UUID = _uuid.UUID
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
NS_PER_S = 1_000_000_000
_MIN_NS = (_dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc) - _EPOCH) // _dt.timedelta(microseconds=1) * 1000
_MAX_NS = ((_dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_dt.timezone.utc) - _EPOCH)
           // _dt.timedelta(microseconds=1) * 1000 + 999_999_999)


class DateTime:
    """A UTC instant with nanosecond precision, stored as nanoseconds since the epoch.

    Python's datetime stops at microseconds; DTL datetimes carry nanoseconds end to end.
    """

    __slots__ = ("ns",)

    def __init__(self, ns: int):
        if not (_MIN_NS <= ns <= _MAX_NS):
            raise ValueError("datetime out of range (0001-01-01 .. 9999-12-31)")
        self.ns = ns

    @classmethod
    def from_datetime(cls, d: _dt.datetime, extra_ns: int = 0) -> DateTime:
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        delta = d - _EPOCH
        us = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return cls(us * 1000 + extra_ns)

    @classmethod
    def from_parts(cls, year, month, day, hour=0, minute=0, second=0, nanos=0) -> DateTime:
        d = _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.timezone.utc)
        return cls.from_datetime(d, nanos)

    def to_datetime(self) -> _dt.datetime:
        """The instant as an aware datetime, truncated to microseconds."""
        return _EPOCH + _dt.timedelta(microseconds=self.ns // 1000)

    @property
    def nanosecond_fraction(self) -> int:
        return self.ns % NS_PER_S

    def isoformat(self) -> str:
        d = _EPOCH + _dt.timedelta(seconds=self.ns // NS_PER_S)
        frac = self.ns % NS_PER_S
        text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        if frac:
            text += "." + f"{frac:09d}".rstrip("0")
        return text + "Z"

    def __eq__(self, other):
        return type(other) is DateTime and other.ns == self.ns

    def __hash__(self):
        return hash(("dt", self.ns))

    def __lt__(self, other):
        return self.ns < other.ns

    def __repr__(self):
        return f"DateTime({self.isoformat()!r})"


class _Tagged:
    """A string-valued extension type (NI, URI): equal by text, distinct from str."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __eq__(self, other):
        return type(other) is type(self) and other.value == self.value

    def __hash__(self):
        return hash((type(self).__name__, self.value))

    def __lt__(self, other):
        return self.value < other.value

    def __str__(self):
        return self.value

    def __repr__(self):
        return f"{type(self).__name__}({self.value!r})"


class NI(_Tagged):
    """A namespaced identifier, ``~:namespace:identifier``; the namespace ends at the first colon."""

    __slots__ = ()

    @property
    def namespace(self) -> str | None:
        ns, sep, _ = self.value.partition(":")
        return ns if sep else None

    @property
    def identifier(self) -> str:
        ns, sep, rest = self.value.partition(":")
        return rest if sep else ns


class URI(_Tagged):
    """A URI value, ``~rhttp://example.org/``."""

    __slots__ = ()


TYPE_NAMES = ("null", "boolean", "integer", "float", "decimal", "string", "datetime", "uuid",
              "bytes", "uri", "ni", "list", "dict")

_TYPE_NAME = {
    type(None): "null", bool: "boolean", int: "integer", float: "float", Decimal: "decimal",
    str: "string", DateTime: "datetime", UUID: "uuid", bytes: "bytes", URI: "uri", NI: "ni",
    list: "list", dict: "dict", tuple: "list",
}


def type_name(v) -> str:
    """The DTL type name of a value (the names used in `expected_type` and error messages)."""
    return _TYPE_NAME.get(type(v), type(v).__name__)


def is_number(v) -> bool:
    t = type(v)
    return t is int or t is float or t is Decimal


def is_true(v) -> bool:
    """DTL truthiness: only ``false``, ``null`` and the empty list are false."""
    if v is None or v is False:
        return False
    if type(v) is list and not v:
        return False
    return True


def as_list(v) -> list:
    """A value as a list: lists as they are, null as [], anything else as [v]."""
    if type(v) is list:
        return v
    if v is None:
        return []
    return [v]


def deep_equal(a, b) -> bool:
    """DTL equality: like ==, but booleans never equal numbers, and recursively so."""
    ta, tb = type(a), type(b)
    if ta is list or tb is list:
        if ta is not tb or len(a) != len(b):
            return False
        return all(deep_equal(x, y) for x, y in zip(a, b))
    if ta is dict or tb is dict:
        if ta is not tb or a.keys() != b.keys():
            return False
        return all(deep_equal(a[k], b[k]) for k in a)
    if (ta is bool) != (tb is bool):
        return False
    if ta is not tb and (ta not in _NUMERIC or tb not in _NUMERIC):
        return False
    return a == b


_NUMERIC = (int, float, Decimal)

# Mixed-type ordering: rank of each type (entity-data-model.rst, "Mixed type ordering").
_RANK = {
    type(None): 0, bool: 1, int: 2, float: 2, Decimal: 2, DateTime: 3, UUID: 4, NI: 5,
    URI: 6, str: 7, dict: 8, tuple: 9, list: 9, bytes: 10,
}


def order_key(v):
    """A sort key giving DTL's mixed-type ordering; compatible types compare by value."""
    t = type(v)
    rank = _RANK.get(t, 11)
    if rank == 2:
        return (2, v)
    if t is dict:
        return (8, tuple((k, order_key(v[k])) for k in sorted(v)))
    if t is list or t is tuple:
        return (9, tuple(order_key(x) for x in v))
    if t is DateTime:
        return (3, v.ns)
    if t is NI or t is URI:
        return (rank, v.value)
    if rank == 11:
        return (11, repr(v))
    return (rank, v)


def value_key(v):
    """A hashable key with DTL equality: equal values (and only those) get equal keys."""
    t = type(v)
    if t is list or t is tuple:
        return ("l", tuple(value_key(x) for x in v))
    if t is dict:
        return ("d", tuple(sorted((k, value_key(x)) for k, x in v.items())))
    if t is bool:
        return ("b", v)
    if t is float or t is Decimal:
        # 1, 1.0 and Decimal(1) are equal in DTL, and hash alike in Python already
        return ("n", v)
    if t is int:
        return ("n", v)
    return (t.__name__, v)
