"""UUID functions (dtl-functions-uuids.rst)."""

from __future__ import annotations

import uuid as _uuid

from dtl.functions._common import first_is
from dtl.functions.registry import expression
from dtl.values import UUID

_MISSING = object()


def _to_uuid(v):
    t = type(v)
    if t is UUID:
        return v
    if t is str:
        try:
            return UUID(v)
        except ValueError:
            return None
    return None


@expression("is-uuid", "VALUES(value-expression{1})", category="uuids",
            summary="Whether the value (or a list's first element) is a UUID.")
def is_uuid(values):
    return first_is(values, UUID)


# Without an argument it returns a fresh random UUID, hence pure=False (never folded).
@expression("uuid", "VALUES(value-expression{0|1})", category="uuids", pure=False,
            summary="A new random (version 4) UUID, or UUIDs parsed from strings.")
def uuid(values=_MISSING):
    if values is _MISSING:
        return _uuid.uuid4()
    if type(values) is list:
        out = []
        for v in values:
            u = _to_uuid(v)
            if u is not None:
                out.append(u)
        return out
    return _to_uuid(values)
