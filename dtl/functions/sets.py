"""Set functions (dtl-functions-sets.rst): list operations under DTL equality.

Both arguments are taken as lists (a single value is a one-element list, null is empty).
Results keep the relative order of the inputs; only `union` removes duplicates.
"""

from __future__ import annotations

from dtl.functions._common import as_list
from dtl.functions.lists import hkey
from dtl.functions.registry import expression

CAT = "sets"
_SIG = "VALUES1(value-expression{1}), VALUES2(value-expression{1})"


def _keys(values: list) -> set:
    return {hkey(v) for v in values}


def _kept(values1, values2, inside: bool) -> list:
    """The values of VALUES1 whose key is (or is not) among VALUES2's, in order."""
    values1 = as_list(values1)
    if not values1:
        return []
    keys = _keys(as_list(values2))
    return [v for v in values1 if (hkey(v) in keys) is inside]


@expression("difference", _SIG, category=CAT,
            summary="The values of VALUES1 that are not in VALUES2, duplicates and order kept.")
def difference(values1, values2):
    return _kept(values1, values2, False)


@expression("intersection", _SIG, category=CAT,
            summary="The values of VALUES1 that are also in VALUES2, duplicates and order kept.")
def intersection(values1, values2):
    return _kept(values1, values2, True)


@expression("intersects", _SIG, category=CAT,
            summary="Whether VALUES1 and VALUES2 have a value in common.")
def intersects(values1, values2):
    values1 = as_list(values1)
    if not values1:
        return False
    keep = _keys(as_list(values2))
    for v in values1:
        if hkey(v) in keep:
            return True
    return False


@expression("union", _SIG, category=CAT,
            summary="The values of VALUES1 then VALUES2, each value only at its first "
                    "occurrence.")
def union(values1, values2):
    seen = set()
    out = []
    for part in (as_list(values1), as_list(values2)):
        for v in part:
            k = hkey(v)
            if k not in seen:
                seen.add(k)
                out.append(v)
    return out
