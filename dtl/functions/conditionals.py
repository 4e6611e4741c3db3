"""Conditional expressions (dtl-functions-conditionals.rst): only the chosen branch runs."""

from __future__ import annotations

from dtl.functions._common import first_branch, is_true
from dtl.functions.registry import expression


def _by_name(call, c):
    return c.args_by_name(call)


def _null(env):
    return None


def _value(branch, env):
    return branch(env)


@expression("if", "CONDITION(boolean-expression{1}), THEN(value-expression{1}), "
            "ELSE(value-expression{0|1})", category="conditionals", compiler=True,
            summary="THEN if the condition holds, else ELSE (or null).",
            native=("generated", "vector"))
def compile_if(call, c):
    a = _by_name(call, c)
    cond, then = a["CONDITION"][0], a["THEN"][0]
    other = a.get("ELSE", [lambda env: None])[0]

    def if_(env):
        return then(env) if is_true(cond(env)) else other(env)
    return if_


@expression("case", "(VALUE(boolean-expression{1}), THEN(value-expression{1}))+, "
            "ELSE(value-expression{0|1})", category="conditionals", compiler=True,
            summary="The THEN of the first true condition, else ELSE (or null).",
            native=("generated", "vector"))
def compile_case(call, c):
    a = _by_name(call, c)
    return first_branch(list(zip(a["VALUE"], a["THEN"])), a.get("ELSE", [_null])[0], _value)


@expression("case-eq", "VALUE(value-expression{1}), (VALUE_N(value-expression{1}), "
            "THEN(value-expression{1}))+, ELSE(value-expression{0|1})",
            category="conditionals", compiler=True,
            summary="The THEN of the first VALUE_N equal to VALUE, else ELSE (or null).")
def compile_case_eq(call, c):
    a = _by_name(call, c)
    return first_branch(list(zip(a["VALUE_N"], a["THEN"])), a.get("ELSE", [_null])[0], _value,
                        a["VALUE"][0])
