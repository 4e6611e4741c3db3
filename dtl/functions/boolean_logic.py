"""Boolean logic (dtl-functions-boolean-logic.rst): and, or, not, all, any.

`and`, `or` and `not` are special forms so they stop at the first argument that decides the
result (later arguments may be expensive hops or may fail). All results are true booleans;
argument truthiness is DTL's (only false, null and [] are false).
"""

from __future__ import annotations

from dtl.functions.registry import expression
from dtl.values import is_true


def _args(call, c):
    return [c.expr(a) for a in call.args]


def _conjunction(fns):
    """A closure that is True when every fn is truthy, stopping at the first falsy one."""
    if len(fns) == 1:
        (a,) = fns
        return lambda env: is_true(a(env))
    if len(fns) == 2:
        a, b = fns
        return lambda env: is_true(a(env)) and is_true(b(env))

    def and_(env):
        for f in fns:
            if not is_true(f(env)):
                return False
        return True
    return and_


@expression("and", "VALUES(boolean-expression{>=1})", category="boolean-logic", compiler=True,
            summary="True if every argument is true; stops at the first false one.")
def compile_and(call, c):
    return _conjunction(_args(call, c))


@expression("or", "VALUES(boolean-expression{>=1})", category="boolean-logic", compiler=True,
            summary="True if any argument is true; stops at the first true one.")
def compile_or(call, c):
    fns = _args(call, c)
    if len(fns) == 2:
        a, b = fns
        return lambda env: is_true(a(env)) or is_true(b(env))

    def or_(env):
        for f in fns:
            if is_true(f(env)):
                return True
        return False
    return or_


@expression("not", "VALUES(boolean-expression{>=1})", category="boolean-logic", compiler=True,
            summary="The inverse of `and` over the arguments.")
def compile_not(call, c):
    conj = _conjunction(_args(call, c))
    return lambda env: not conj(env)


def _items(values) -> list:
    # a single value (null included) is tested as a one-element list
    return values if type(values) is list else [values]


@expression("all", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="boolean-logic",
            summary="True if every value (or FUNCTION of it) is true; true for [].")
def all_(values, function=None):
    items = _items(values)
    if function is None:
        return all(is_true(v) for v in items)
    return all(is_true(function(v)) for v in items)


@expression("any", "FUNCTION(function-expression{0|1}), VALUES(value-expression{1})",
            category="boolean-logic",
            summary="True if at least one value (or FUNCTION of it) is true; false for [].")
def any_(values, function=None):
    items = _items(values)
    if function is None:
        return any(is_true(v) for v in items)
    return any(is_true(function(v)) for v in items)
