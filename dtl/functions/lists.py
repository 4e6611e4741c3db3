"""List functions (dtl-functions-lists.rst).

Conventions shared by this family: a non-list argument counts as a one-element list and null
as the empty list, unless a function's doc section says otherwise (`first`, `sorted`, ...).
Results are always fresh lists: inputs may be the source entity's own lists.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal

from dtl.errors import DTLRuntimeError
from dtl.functions._common import as_list, first_value, flatten_once, is_true
from dtl.functions.registry import expression
from dtl.ir.nodes import Call
from dtl.paths import walk_path
from dtl.functions.strings import json_text  # the one JSON text writer (json-transit's)
from dtl.values import order_key, value_key

CAT = "lists"


def hkey(v):
    """A hashable key with DTL equality; plain strings (the common case) are their own key.

    value_key always returns a tuple, so a bare str can never collide with another value's key.
    """
    return v if type(v) is str else value_key(v)


# Types whose Python ordering already agrees with mixed-type ordering when a list holds
# only that one type: sorting them needs no order_key tuples.
_PLAIN_ORDER = frozenset({str, int, float})


def _sort_key(items: list):
    """The key function for ordering `items` (None when the natural order is right)."""
    if items:
        t = type(items[0])
        if t in _PLAIN_ORDER:
            for x in items:
                if type(x) is not t:
                    return order_key
            return None
    return order_key


def _int_arg(name: str, fn: str, v) -> int:
    if type(v) is not int:
        raise DTLRuntimeError(f"{fn}: {name} must be an integer, got {v!r}")
    return v


# -- construction -----------------------------------------------------------------------------

@expression("list", "VALUES(value-expression{>=0})", category=CAT,
            inline=(lambda g, call, impl: f"[{', '.join(g.expr(a) for a in call.args)}]", None),
            summary="A list of the argument values, as given (no flattening).")
def list_(*values):
    return list(values)


@expression("combine", "VALUES(value-expression{>=1})", category=CAT,
            summary="One list of all arguments: list arguments are spliced in, nulls dropped.")
def combine(*values):
    out = []
    for v in values:
        if type(v) is list:
            out.extend(v)
        elif v is not None:
            out.append(v)
    return out


@expression("range", "START(integer-expression{1}), STOP(integer-expression{1}), "
            "STEP(integer-expression{0|1})", category=CAT,
            summary="The integers from START (inclusive) to STOP (exclusive) by STEP.")
def range_(start, stop, step=1):
    if start is None or stop is None:
        # null in, null out: a real configuration's ["range", 1, ["plus", "_T.n", 1]] runs on
        # entities without n, and the node's outputs hold those entities
        return None
    start = _int_arg("START", "range", start)
    stop = _int_arg("STOP", "range", stop)
    step = _int_arg("STEP", "range", step)
    if step == 0:
        raise DTLRuntimeError("range: STEP cannot be 0")
    return list(range(start, stop, step))


# -- inspection -------------------------------------------------------------------------------

@expression("count", "VALUES(value-expression{1})", category=CAT,
            inline='(len({a}) if type({a} := {0}) is list else (0 if {a} is None else 1))',
            summary="The number of elements (null counts as 0, a single value as 1).",
            native=("vector",))
def count(values):
    if type(values) is list:
        return len(values)
    return 0 if values is None else 1


@expression("is-list", "VALUES(value-expression{1})", category=CAT,
            summary="Whether the value is a list.")
def is_list(values):
    return type(values) is list


@expression("is-empty", "VALUES(value-expression{1})", category=CAT,
            summary="Whether the value, taken as a list, has no elements.")
def is_empty(values):
    return values is None or (type(values) is list and not values)


@expression("is-not-empty", "VALUES(value-expression{1})", category=CAT,
            summary="Whether the value, taken as a list, has elements.")
def is_not_empty(values):
    return not (values is None or (type(values) is list and not values))


@expression("in", "VALUES(value-expression{1}), ITEMS(value-expression{1})", category=CAT,
            summary="Whether every value of VALUES is among ITEMS (false for no values).")
def in_(values, items):
    values = as_list(values)
    if not values:
        return False
    items = as_list(items)
    if len(values) == 1 and len(items) < 8:
        # one needle in a short list: hashing the haystack costs more than scanning it
        k = hkey(values[0])
        return any(hkey(x) == k for x in items)
    have = {hkey(x) for x in items}
    return all(hkey(v) in have for v in values)


# -- access -----------------------------------------------------------------------------------

def _first_inliner(g, call, impl):
    """["first", ["split", sep, x]] with a literal separator: the part before it."""
    inner = call.args[0]
    if not (isinstance(inner, Call) and inner.kind == "expression" and
            inner.name == "split" and len(inner.args) == 2):
        return None
    sep = g.known(inner.args[0])
    if type(sep) is not str or sep == "":
        return None
    k, b = g.const(sep), g.temp()
    v, f, split = g.expr(inner.args[1]), g.func(impl), g.func(inner.spec.impl)
    return (f"({b}.partition({k})[0] if type({b} := {v}) is str else "
            f"(None if {b} is None else {f}({split}({k}, {b}))))")


@expression("first", "VALUES(value-expression{1})", category=CAT,
            inline=(_first_inliner,
                    '(({a}[0] if {a} else None) if type({a} := {0}) is list else {a})'),
            summary="The first element; a non-list is returned as is, [] gives null.",
            native=("vector",))
def first(values):
    return first_value(values)


@expression("last", "VALUES(value-expression{1})", category=CAT,
            summary="The last element; a non-list is returned as is, [] gives null.")
def last(values):
    if type(values) is list:
        return values[-1] if values else None
    return values


@expression("nth", "INDEX(integer-expression{1}), VALUES(value-expression{1})", category=CAT,
            summary="The element at a zero-based INDEX, or null when out of bounds.")
def nth(index, values):
    if index is None:
        return None
    index = _int_arg("INDEX", "nth", index)
    if type(values) is list:
        # negative indexes count from the end, as Python (and Sesam) do
        if -len(values) <= index < len(values):
            return values[index]
        return None
    return values if index == 0 else None


@expression("slice", "START(integer-expression{1}), END(integer-expression{0|1}), "
            "STRIDE(integer-expression{0|1}), VALUES(value-expression{1})", category=CAT,
            summary="The elements from START to END (exclusive) every STRIDE; negatives count "
                    "from the end.")
def slice_(start, values, end=None, stride=None):
    # `values` second so the common two-argument form is called positionally
    if start is not None:
        _int_arg("START", "slice", start)
    if end is not None:
        _int_arg("END", "slice", end)
    if stride is not None:
        _int_arg("STRIDE", "slice", stride)
        if stride == 0:
            raise DTLRuntimeError("slice: STRIDE cannot be 0")
    return as_list(values)[start:end:stride]


@expression("insert", "INDEX(integer-expression{1}), VALUES(value-expression{1}), "
            "OBJECT(value-expression{1})", category=CAT,
            summary="A copy of VALUES with OBJECT inserted at INDEX (negative: from the end).")
def insert(index, values, object):  # noqa: A002  (named after the signature)
    index = _int_arg("INDEX", "insert", index)
    out = list(as_list(values))
    out.insert(index, object)
    return out


# -- reshaping --------------------------------------------------------------------------------

@expression("flatten", "VALUES(value-expression{1})", category=CAT,
            summary="A new list with nested lists spliced in one level deep.")
def flatten(values):
    return flatten_once(values)


@expression("reversed", "VALUES(value-expression{1})", category=CAT,
            summary="The list in reverse order; a non-list is returned as is.")
def reversed_(values):
    if type(values) is list:
        return values[::-1]
    return values


@expression("enumerate", "START(integer-expression{0|1}), VALUES(value-expression{1})",
            category=CAT,
            summary="{key: counter, value: element} for each element, counting from START.")
def enumerate_(values, start=0):
    # `values` first so the common one-argument form is called positionally
    if start is None:
        start = 0
    start = _int_arg("START", "enumerate", start)
    if type(values) is list:
        return [{"key": i, "value": v} for i, v in enumerate(values, start)]
    if values is None:
        return None
    return {"key": start, "value": values}


# -- higher-order -----------------------------------------------------------------------------

@expression("map", "FUNCTION(function-expression{1}), VALUES(value-expression{1})",
            category=CAT, summary="FUNCTION applied to each element, as a new list.")
def map_(function, values):
    return [function(v) for v in as_list(values)]


@expression("filter", "FUNCTION(function-expression{1}), VALUES(value-expression{1})",
            category=CAT, summary="The elements for which FUNCTION is true; a single value "
                                  "(not a list) is kept as itself or becomes null.")
def filter_(function, values):
    if type(values) is list or values is None:
        return [v for v in as_list(values) if is_true(function(v))]
    # (ours, from a real node's output) a single value stays single: a node keeps the keys
    # `["map-dict", ["filter", P, "_."], ...]` passes, so filter gave back the key string
    return values if is_true(function(values)) else None


@expression("distinct", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category=CAT,
            summary="The elements without duplicates (by FUNCTION's result if given); "
                    "the first occurrence wins.")
def distinct(values, function=None):
    if type(values) is not list and values is not None:
        return values   # a single value stays single, as `filter` (a real node's output)
    seen = set()
    out = []
    for v in as_list(values):
        k = hkey(v if function is None else function(v))
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


@expression("group", "KEY_FUNCTION(function-expression{1}), "
            "VALUE_FUNCTION(function-expression{1}), VALUES(value-expression{1})",
            category=CAT,
            summary="[key, [values...]] pairs grouping VALUE_FUNCTION results by KEY_FUNCTION "
                    "results, in order of first appearance.")
def group(key_function, value_function, values):
    groups: dict = {}
    out = []
    for v in as_list(values):
        key = key_function(v)
        k = hkey(key)
        members = groups.get(k)
        if members is None:
            members = groups[k] = []
            out.append([key, members])
        members.append(value_function(v))
    return out


def _json_key(v) -> str:
    """The text json-transit gives a group key (the docs define group-by keys that way)."""
    return json_text(v, True)


@expression("group-by", "KEY_FUNCTION(function-expression{0|1}), "
            "STRING_FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category=CAT,
            summary="A dict from each group key (transit JSON text, or STRING_FUNCTION of the "
                    "key) to the elements with that key.")
def group_by(values, key_function=None, string_function=None):
    out: dict = {}
    # Encoding is the costly part; cache it per string key (only strings: 1 and 1.0 are
    # equal in DTL but encode differently).
    texts: dict = {}
    for v in as_list(values):
        key = v if key_function is None else key_function(v)
        if string_function is not None:
            s = string_function(key)
            # a non-string result cannot be a dict key; fall back to the default encoding
            name = s if type(s) is str else _json_key(s)
        elif type(key) is str:
            name = texts.get(key)
            if name is None:
                name = texts[key] = _json_key(key)
        else:
            name = _json_key(key)
        members = out.get(name)
        if members is None:
            out[name] = [v]
        else:
            members.append(v)
    return out


@expression("map-dict", "KEY_FUNCTION(function-expression{1}), "
            "VALUE_FUNCTION(function-expression{1}), VALUES(value-expression{1})",
            category=CAT,
            summary="Each dict rebuilt with KEY_FUNCTION on its keys (non-string results drop "
                    "the pair) and VALUE_FUNCTION on its values; empty results are left out.")
def map_dict(key_function, value_function, values):
    def one(d):
        out = {}
        for k, v in d.items():
            nk = key_function(k)
            if type(nk) is str:
                out[nk] = value_function(v)
        return out

    if type(values) is dict:
        return one(values) or None
    out = []
    for d in as_list(values):
        if type(d) is dict:
            nd = one(d)
            if nd:
                out.append(nd)
    return out


@expression("map-values", "VALUE_FUNCTION(function-expression{1}), VALUES(value-expression{1})",
            category=CAT,
            summary="VALUE_FUNCTION applied to the values of each dict, as one flat list; "
                    "non-dicts are ignored.")
def map_values(value_function, values):
    out = []
    for d in as_list(values):
        if type(d) is dict:
            out.extend(value_function(v) for v in d.values())
    return out


# -- ordering ---------------------------------------------------------------------------------

def _sorted(values, function, reverse):
    if type(values) is not list:
        return values
    if function is None:
        return sorted(values, key=_sort_key(values), reverse=reverse)
    keys = [function(v) for v in values]
    kf = _sort_key(keys)
    if kf is not None:
        keys = [kf(k) for k in keys]
    order = sorted(range(len(values)), key=keys.__getitem__, reverse=reverse)
    return [values[i] for i in order]


def _sorted_at(values, key, reverse):
    """_sorted(walk_path(values, (key,)), None, reverse) in one pass over a list of dicts
    whose `key` holds one plain type (or null); the general way for anything else."""
    if type(values) is list:
        out = []
        t0 = None
        try:
            for x in values:
                v = x.get(key)
                if v is None:
                    continue
                t = type(v)
                if t is not t0 and (t0 is not None or t not in _PLAIN_ORDER):
                    break
                t0 = t
                out.append(v)
            else:
                return sorted(out, reverse=reverse)
        except AttributeError:  # an element that is not a dict (only dicts have .get)
            pass
    return _sorted(walk_path(values, (key,)), None, reverse)


def _sorted_inliner(reverse: bool):
    """["sorted", "_S.<list>.<key>"]: `_sorted_at`'s loop written out before the statement
    (for a _T path, which the statement may still be making: a call of it)."""
    def inline(g, call, impl):
        at = g.split_path(call.args[0]) if len(call.args) == 1 else None
        if at is None:
            return None
        f = g.func(_sorted_at)
        if call.args[0].head != "_S":
            return f"{f}({at[0]}, {at[1]}, {reverse})"
        out, t0, t, r = (g.temp() for _ in range(4))
        plain, give_up = g.const(_PLAIN_ORDER), g.GIVE_UP
        g.walk(call.args[0], out, [f"{out} = []", f"{t0} = None"],
               lambda v: [f"if {v} is not None:",  # nulls are left out
                          f"    if ({t} := type({v})) is not {t0} and "
                          f"({t0} is not None or {t} not in {plain}):",
                          f"        {give_up}",
                          f"    {t0} = {t}", f"    {out}.append({v})"],
               lambda o: [f"{r} = {f}({o}, {at[1]}, {reverse}) if {out} is None else "
                          f"sorted({out}, reverse={reverse})"])
        return r
    return (inline, None)


@expression("sorted", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category=CAT, inline=_sorted_inliner(False),
            summary="The list in ascending mixed-type order (by FUNCTION's result if given).")
def sorted_(values, function=None):
    return _sorted(values, function, False)


@expression("sorted-descending",
            "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})", category=CAT,
            inline=_sorted_inliner(True),
            summary="The list in descending mixed-type order (by FUNCTION's result if given).",
            native=("vector",))
def sorted_descending(values, function=None):
    return _sorted(values, function, True)


def _extreme(values, function, pick):
    if type(values) is not list:
        return values
    if not values:
        return None
    if function is None:
        kf = _sort_key(values)
        return pick(values) if kf is None else pick(values, key=kf)
    keys = [function(v) for v in values]
    kf = _sort_key(keys)
    if kf is not None:
        keys = [kf(k) for k in keys]
    # min/max return the first extreme index, so ties keep the earliest element
    return values[pick(range(len(values)), key=keys.__getitem__)]


@expression("max", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category=CAT,
            summary="The greatest element in mixed-type order (by FUNCTION's result if given).")
def max_(values, function=None):
    return _extreme(values, function, max)


@expression("min", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category=CAT,
            summary="The least element in mixed-type order (by FUNCTION's result if given).")
def min_(values, function=None):
    return _extreme(values, function, min)


# -- arithmetic -------------------------------------------------------------------------------

# Decimals are arbitrary precision in DTL: add them without the default 28-digit rounding.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _sum_at(values, key):
    """sum_(walk_path(values, (key,))) in one pass over a list of dicts of ints and floats
    (or nulls); the general way for anything else."""
    if type(values) is list:
        total = 0
        try:
            for x in values:
                v = x.get(key)
                t = type(v)
                if t is float or t is int:
                    total += v  # as sum_ adds them: ints exactly until the first float
                elif v is not None:
                    break
            else:
                return total
        except AttributeError:  # an element that is not a dict (only dicts have .get)
            pass
    return sum_(walk_path(values, (key,)))


def _sum_inliner(g, call, impl):
    """["sum", "_S.<list>.<key>"]: `_sum_at`'s loop written out before the statement (for a
    _T path, which the statement may still be making: a call of it)."""
    at = g.split_path(call.args[0])
    if at is None:
        return None
    f = g.func(_sum_at)
    if call.args[0].head != "_S":
        return f"{f}({at[0]}, {at[1]})"
    r, t = g.temp(), g.temp()
    g.walk(call.args[0], r, [f"{r} = 0"],
           lambda v: [f"if ({t} := type({v})) is float or {t} is int:", f"    {r} += {v}",
                      f"elif {v} is not None:", f"    {g.GIVE_UP}"],
           lambda o: [f"if {r} is None:", f"    {r} = {f}({o}, {at[1]})"])
    return r


@expression("sum", "VALUES(value-expression{1})", category=CAT, inline=(_sum_inliner, None),
            summary="The sum of the numeric elements; other values are ignored.",
            native=("vector",))
def sum_(values):
    total = 0
    exact = False  # a decimal is in the sum (and no float yet)
    inexact = False  # a float is in the sum: the result is a float
    for v in as_list(values):
        t = type(v)
        if t is int:
            total = _EXACT.add(total, v) if exact else total + v
        elif t is float:
            if exact:
                total, exact = float(total), False
            inexact = True
            total += v
        elif t is Decimal:
            if inexact:
                total += float(v)
            else:
                exact = True
                total = _EXACT.add(total, v)
    return total
