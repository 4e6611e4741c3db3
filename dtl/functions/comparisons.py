"""Comparisons (dtl-functions-comparisons.rst): eq, neq, gt, gte, lt, lte.

`eq`/`neq` coerce both sides to lists (null -> [], x -> [x]) and compare those exactly, so
``["eq", 1, ["list", 1]]`` holds. The ordering functions compare only the first value of each
side (null for null or an empty list) under the mixed-type ordering of entity-data-model.rst,
which makes them a total order: null sorts before every other value.

These run once per entity in most pipes, so each starts with a same-type scalar fast path.
"""

from __future__ import annotations

import operator

from dtl.functions._common import first_value
from dtl.functions.registry import expression
from dtl.values import deep_equal, order_key

# Same-type pairs of these compare directly with Python operators, with DTL's meaning.
_FAST = frozenset({int, str, float})

_SIG = "LEFT(value-expression{1}), RIGHT(value-expression{1})"


def equal(a, b) -> bool:
    """DTL `eq`: both sides as lists, compared element-wise with DTL equality."""
    ta = type(a)
    if ta is type(b) and ta in _FAST:
        return a == b
    if ta is not list:
        a = [] if a is None else [a]
    if type(b) is not list:
        b = [] if b is None else [b]
    return deep_equal(a, b)


def _keys(a, b):
    """Comparable keys of the first values of a and b (mixed-type ordering)."""
    a, b = first_value(a), first_value(b)
    return order_key(a), order_key(b)


def _inline(op: str, null: bool = False):
    """Generated source: same-type scalars compare with Python's operator. Against a literal
    number, string or boolean the type test is written for it, and a null side gives `null`
    (with a value on the other side, eq is false and the orderings have nothing to order)."""
    def inline(g, call, impl):
        left, right = (g.known(x) for x in call.args)
        lit = 0 if type(left) in _SCALAR else 1 if type(right) in _SCALAR else None
        if lit is None:
            return None
        c = (left, right)[lit]
        k, a = g.const(c), g.temp()
        v, f = g.expr(call.args[1 - lit]), g.func(impl)
        x, y = (k, a) if lit == 0 else (a, k)
        if type(c) is bool and op in ("==", "!="):  # x is c, else only a list may equal c
            # and/or of `is` tests and the impl's bool: a bool, and plain jumps in an `if`
            if op == "==":
                return (f"(({a} := {v}) is {c} or ({a} is not {not c} and {a} is not None "
                        f"and {f}({x}, {y})))")
            return (f"(({a} := {v}) is not {c} and ({a} is {not c} or {a} is None "
                    f"or {f}({x}, {y})))")
        return (f"({x} {op} {y} if type({a} := {v}) is {type(c).__name__} else "
                f"({null} if {a} is None else {f}({x}, {y})))")
    return (inline, "({a} " + op + " {b} if type({a} := {0}) is type({b} := {1}) and "
            "type({a}) in (int, str, float, bool) else {f}({a}, {b}))")


_SCALAR = (int, str, float, bool)


@expression("eq", _SIG, category="comparisons", inline=_inline("=="), boolean=True,
            summary="True if both values, taken as lists, are exactly equal.",
            native=("vector",))
def eq(left, right):
    return equal(left, right)


@expression("neq", _SIG, category="comparisons", inline=_inline("!=", True), boolean=True,
            summary="False if both values, taken as lists, are exactly equal.",
            native=("vector",))
def neq(left, right):
    return not equal(left, right)


def _ordering(name: str, symbol: str, op, summary: str):
    """Declare one of gt/gte/lt/lte: a same-type scalar fast path, else mixed-type keys."""
    def compare(left, right):
        t = type(left)
        if t is type(right) and t in _FAST:
            return op(left, right)
        a, b = first_value(left), first_value(right)
        if a is None or b is None:
            # nothing to order: false, as a node gives it (a real node's expected outputs
            # show ["gt", date, null] false; null sorts first only in sorted/min/max)
            return False
        return op(order_key(a), order_key(b))
    compare.__name__ = name
    return expression(name, _SIG, category="comparisons", inline=_inline(symbol), boolean=True,
                      summary=summary, native=("vector",))(compare)


gt = _ordering("gt", ">", operator.gt, "True if the first value of LEFT sorts after that of RIGHT.")
gte = _ordering("gte", ">=", operator.ge,
                "True if the first value of LEFT sorts after or equal to that of RIGHT.")
lt = _ordering("lt", "<", operator.lt, "True if the first value of LEFT sorts before that of RIGHT.")
lte = _ordering("lte", "<=", operator.le,
                "True if the first value of LEFT sorts before or equal to that of RIGHT.")
