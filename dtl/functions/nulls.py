"""Nulls (dtl-functions-nulls.rst): coalesce, coalesce-args, if-null, is-null, is-not-null.

`is-null` looks only at the first element of a list: null, [] and [null, ...] are all null.
`coalesce-args` and `if-null` are special forms so that later arguments are evaluated only
when needed.
"""

from __future__ import annotations

from dtl.functions.registry import expression
from dtl.values import is_true


def is_nullish(v) -> bool:
    """DTL `is-null`: null, an empty list, or a list whose first element is null."""
    if v is None:
        return True
    if type(v) is list:
        return not v or v[0] is None
    return False


@expression("coalesce", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="nulls",
            summary="The first non-null value (or the first for which FUNCTION is true).")
def coalesce(values, function=None):
    if type(values) is not list:
        if function is None or values is None:
            return values
        return values if is_true(function(values)) else None
    if function is None:
        for v in values:
            if v is not None:
                return v
        return None
    for v in values:
        if is_true(function(v)):
            return v
    return None


@expression("coalesce-args", "VALUES(value-expression{>=1})", category="nulls", compiler=True,
            summary="The first argument that is not null; later arguments are not evaluated.")
def compile_coalesce_args(call, c):
    fns = [c.expr(a) for a in call.args]

    def coalesce_args(env):
        for f in fns:
            v = f(env)
            if v is not None:
                return v
        return None
    return coalesce_args


@expression("if-null", "VALUE(value-expression{1}), FALLBACK_VALUE(value-expression{1})",
            category="nulls", compiler=True,
            summary="VALUE unless it is-null, else FALLBACK_VALUE (evaluated only then).",
            native=("generated", "vector"))
def compile_if_null(call, c):
    value, fallback = (c.expr(a) for a in call.args)

    def if_null(env):
        v = value(env)
        return fallback(env) if is_nullish(v) else v
    return if_null


# The templates are and/or of `is` tests (always a bool): in an `if` they are plain jumps.
@expression("is-null", "VALUES(value-expression{1})", category="nulls", boolean=True,
            inline='(({a} := {0}) is None or (type({a}) is list and (not {a} or {a}[0] is None)))',
            summary="True for null, [] or a list whose first element is null.", native=("vector",))
def is_null(values):
    return is_nullish(values)


@expression("is-not-null", "VALUES(value-expression{1})", category="nulls", boolean=True,
            inline='(({a} := {0}) is not None and (type({a}) is not list or {f}({a})))',
            summary="The inverse of is-null.", native=("vector",))
def is_not_null(values):
    return not is_nullish(values)
