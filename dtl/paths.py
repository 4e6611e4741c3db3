"""Property-path traversal, shared by path strings, the `path` function and join indexes."""

from __future__ import annotations


def _get(d: dict, key):
    return d.get(key)


def walk_path(value, elements, read=_get):
    """Follow property names; through lists the results are gathered and flattened once.

    `read(dict, element)` looks one element up (namespace-aware lookups pass their own).
    A non-dict, non-list value on the way gives null.
    """
    for el in elements:
        t = type(value)
        if t is dict:
            value = read(value, el)
        elif t is list:
            out = []
            for item in value:
                if type(item) is dict:
                    x = read(item, el)
                    if type(x) is list:
                        out.extend(x)
                    elif x is not None:
                        out.append(x)
            value = out
        else:
            return None
    return value


def path_values(entity, path) -> list:
    """The flattened, non-null values at `path` (the values a join index holds)."""
    v = walk_path(entity, path)
    if type(v) is list:
        out = []
        for x in v:
            if type(x) is list:
                out.extend(y for y in x if y is not None)
            elif x is not None:
                out.append(x)
        return out
    return [] if v is None else [v]
