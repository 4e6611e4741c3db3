"""Transform functions (dtl-functions-transforms.rst): they change the target entity.

Each is a special form: `compile_x(call, c)` returns a closure ``t(env)`` that returns None to
go on, or FILTERED/DISCARDED to stop the rule.
"""

from __future__ import annotations

import time

from dtl.backends.closure.env import DISCARDED, FILTERED
from dtl.errors import DTLFailError, DTLRuntimeError, DTLTripError
from dtl.functions._common import (as_list, deep_equal, first_branch, is_true, property_matches,
                                   qualify_property, split_property)
from dtl.functions.registry import transform
from dtl.ir.nodes import Literal
from dtl.values import NI


def _args(call, c):
    return c.args_by_name(call)


def _runs(fns, env):
    for f in fns:
        r = f(env)
        if r is not None:
            return r
    return None


def _names(value) -> list[str]:
    return [v for v in as_list(value) if isinstance(v, str)]


def _set_id_values(value, opts):
    """_id values get the identity namespace when namespaced identifiers are on."""
    if not opts.namespaced_identifiers or not opts.identity_namespace:
        return value

    def q(v):
        if isinstance(v, str) and ":" not in v:
            return f"{opts.identity_namespace}:{v}"
        return v
    return [q(v) for v in value] if type(value) is list else q(value)


@transform("add", "PROPERTY(string{1}), VALUES(value-expression{1})",
           summary="Set a target property to the value of an expression.",
           native=("generated", "vector"))
def compile_add(call, c):
    a = _args(call, c)
    prop, values = a["PROPERTY"][0], a["VALUES"][0]
    opts = c.ctx.options
    name_node = call.args[0]
    if not opts.namespaced_identifiers and isinstance(name_node, Literal) and \
            type(name_node.value) is str:
        key = name_node.value

        def add_literal(env):
            env.T[key] = values(env)
        return add_literal
    if not opts.namespaced_identifiers:
        def add(env):
            name = prop(env)
            if type(name) is str:
                env.T[name] = values(env)
            else:
                v = values(env)
                for n in _names(name):
                    env.T[n] = v
        return add

    def add_ns(env):
        v = values(env)
        for n in _names(prop(env)):
            q = qualify_property(n, opts)
            env.T[q] = _set_id_values(v, opts) if q == "_id" else v
    return add_ns


@transform("add-if",
           "PROPERTY(string{1}), CONDITION(function-expression{0|1}), VALUES(value-expression{1})",
           summary="Set a target property if a condition on the value holds (default: not null).")
def compile_add_if(call, c):
    a = _args(call, c)
    prop, values = a["PROPERTY"][0], a["VALUES"][0]
    cond = a.get("CONDITION", [None])[0]
    opts = c.ctx.options

    def add_if(env):
        v = values(env)
        ok = (v is not None) if cond is None else is_true(cond(env)(v))
        if ok:
            for n in _names(prop(env)):
                env.T[qualify_property(n, opts)] = v
    return add_if


@transform("default", "PROPERTY(string{1}), VALUES(value-expression{1})",
           summary="Set a target property unless it is already there.",
           native=("generated", "vector"))
def compile_default(call, c):
    a = _args(call, c)
    prop, values = a["PROPERTY"][0], a["VALUES"][0]
    opts = c.ctx.options

    def default(env):
        for n in _names(prop(env)):
            q = qualify_property(n, opts)
            if q not in env.T:
                env.T[q] = values(env)
    return default


@transform("comment", "COMMENTS(value{>=0})",
           summary="Does nothing; holds comments (its arguments are never evaluated).",
           native=("generated", "vector"))
def compile_comment(call, c):
    return lambda env: None


@transform("copy",
           "INCLUDE_PROPERTIES(wildcard-string-list{1}), EXCLUDE_PROPERTIES(wildcard-string-list{0|1})",
           summary="Copy source properties matching wildcard patterns to the target.",
           native=("generated", "vector"))
def compile_copy(call, c):
    a = _args(call, c)
    inc = a["INCLUDE_PROPERTIES"][0]
    exc = a.get("EXCLUDE_PROPERTIES", [None])[0]
    ns = c.ctx.options.namespaced_identifiers
    pat = call.args[0]
    if exc is None and not ns and isinstance(pat, Literal) and pat.value == "*":
        def copy_all(env):
            if type(env.S) is dict:
                env.T.update(env.S)
        return copy_all
    if exc is None and not ns and isinstance(pat, Literal) and type(pat.value) is str and \
            "*" not in pat.value and "?" not in pat.value:
        key = pat.value

        def copy_one(env):
            src = env.S
            if type(src) is dict and key in src:
                env.T[key] = src[key]
        return copy_one

    def copy(env):
        src = env.S
        if type(src) is not dict:
            return None
        includes = _names(inc(env))
        excludes = _names(exc(env)) if exc is not None else []
        T = env.T
        if len(includes) == 1 and not excludes and not ns:
            p = includes[0]
            if "*" not in p and "?" not in p:
                if p in src:
                    T[p] = src[p]
                return None
        for k, v in src.items():
            if any(property_matches(p, k, ns) for p in includes) and not any(
                    property_matches(p, k, ns) for p in excludes):
                T[k] = v
        return None
    return copy


@transform("remove", "PROPERTY(wildcard-string{1})",
           summary="Remove target properties matching a wildcard pattern.",
           native=("generated", "vector"))
def compile_remove(call, c):
    prop = _args(call, c)["PROPERTY"][0]
    ns = c.ctx.options.namespaced_identifiers

    def remove(env):
        patterns = _names(prop(env))
        T = env.T
        for k in [k for k in T if any(property_matches(p, k, ns) for p in patterns)]:
            del T[k]
    return remove


@transform("rename", "PROPERTY1(string{1}), PROPERTY2(string{1})",
           summary="Copy a source property to the target under a new name.")
def compile_rename(call, c):
    a = _args(call, c)
    p1, p2 = a["PROPERTY1"][0], a["PROPERTY2"][0]
    ns = c.ctx.options.namespaced_identifiers

    def rename(env):
        old, new = p1(env), p2(env)
        src = env.S
        if type(src) is not dict or not isinstance(old, str) or not isinstance(new, str):
            return None
        if not ns or ":" in old:
            if old in src:
                env.T[new] = src[old]
            return None
        matches = [(k, v) for k, v in src.items() if split_property(k)[1] == old]
        if ":" in new:
            if matches:
                vals = [v for _, v in matches]
                env.T[new] = vals[0] if len(vals) == 1 else vals
        else:
            for k, v in matches:
                kns = split_property(k)[0]
                env.T[f"{kns}:{new}" if kns else new] = v
        return None
    return rename


@transform("make-ni", "NAMESPACE(string{1}), FROM_PROPERTY(string{1}), TO_PROPERTY(string{0|1})",
           summary="Add a property holding a source property's strings as namespaced identifiers.")
def compile_make_ni(call, c):
    a = _args(call, c)
    nsf, fromf = a["NAMESPACE"][0], a["FROM_PROPERTY"][0]
    tof = a.get("TO_PROPERTY", [None])[0]
    ns_on = c.ctx.options.namespaced_identifiers

    def one(namespace, v):
        # integers too (their decimal text): a real node merges on make-ni of integer keys
        if isinstance(v, str) or (type(v) is int):
            return NI(f"{namespace}:{v}")
        return None

    def to_ni(namespace, value):
        if type(value) is list:
            out = [n for n in (one(namespace, v) for v in value) if n is not None]
            return out or None
        return one(namespace, value)

    def make_ni(env):
        namespace, frm = nsf(env), fromf(env)
        to = tof(env) if tof is not None else None
        src = env.S
        if type(src) is not dict or not isinstance(frm, str):
            return None
        if not ns_on or ":" in frm:
            pairs = [(frm, src.get(frm))] if frm in src else []
        else:
            pairs = [(k, v) for k, v in src.items() if split_property(k)[1] == frm]
        for key, value in pairs:
            ni = to_ni(namespace, value)
            if ni is None:
                continue
            kns, kid = split_property(key) if ns_on else (None, key)
            if to is None:
                target = f"{key}-ni"
            elif ns_on and ":" not in to and kns:
                target = f"{kns}:{to}"
            else:
                target = to
            env.T[target] = ni
        return None
    return make_ni


def _entities(values):
    return [v for v in as_list(values) if type(v) is dict]


@transform("merge", "VALUES(value-expression{1})",
           summary="Copy every property of the given dicts onto the target; later ones win.")
def compile_merge(call, c):
    values = _args(call, c)["VALUES"][0]

    def merge(env):
        for d in _entities(values(env)):
            for k, v in d.items():
                if not k.startswith("_"):
                    env.T[k] = v
    return merge


@transform("merge-union", "VALUES(value-expression{1})",
           summary="Copy every property of the given dicts onto the target, collecting clashes.")
def compile_merge_union(call, c):
    values = _args(call, c)["VALUES"][0]

    def merge_union(env):
        T = env.T
        for d in _entities(values(env)):
            for k, v in d.items():
                if k.startswith("_"):
                    continue
                if k in T:
                    # a union, always a list: values already there are not added again (a
                    # real node's merge-union of two equal hop results is a list of one)
                    merged = list(T[k]) if type(T[k]) is list else [T[k]]
                    for x in v if type(v) is list else [v]:
                        if not any(deep_equal(x, o) for o in merged):
                            merged.append(x)
                    T[k] = merged
                else:
                    T[k] = v
    return merge_union


@transform("create", "VALUES(value-expression{1})",
           summary="Emit the given dicts as extra entities (each needs a string _id).")
def compile_create(call, c):
    values = _args(call, c)["VALUES"][0]

    def create(env):
        for d in _entities(values(env)):
            if "_id" in d:
                env.out.append(d)
    return create


@transform("create-child", "VALUES(value-expression{1})",
           summary="Add the given dicts to the target's $children property.")
def compile_create_child(call, c):
    values = _args(call, c)["VALUES"][0]

    def create_child(env):
        kids = [d for d in _entities(values(env)) if "_id" in d]
        if kids:
            existing = env.T.get("$children")
            env.T["$children"] = (as_list(existing) if existing is not None else []) + kids
    return create_child


def _stop(marker):
    def compile_stop(call, c):
        a = _args(call, c)
        cond = a.get("UNLESS_CONDITION", [None])[0]
        if cond is None:
            return lambda env: marker

        def stop(env):
            return None if is_true(cond(env)) else marker
        return stop
    return compile_stop


transform("filter", "UNLESS_CONDITION(boolean-expression{0|1})",
          summary="Stop and emit no target unless the condition holds (sinks see _filtered).",
          native=("generated", "vector"))(
    _stop(FILTERED))
transform("discard", "UNLESS_CONDITION(boolean-expression{0|1})",
          summary="Stop and drop the target unless the condition holds (no deletion downstream).",
          native=("generated", "vector"))(
    _stop(DISCARDED))


@transform("if", "CONDITION(boolean-expression{1}), THEN(transforms{1}), ELSE(transforms{0|1})",
           summary="Apply THEN if the condition holds, else ELSE.", native=("generated",))
def compile_if_t(call, c):
    a = _args(call, c)
    cond, then = a["CONDITION"][0], a["THEN"][0]
    other = a.get("ELSE", [()])[0]

    def if_t(env):
        return _runs(then if is_true(cond(env)) else other, env)
    return if_t


@transform("case", "(VALUE(boolean-expression{1}), THEN(transforms{1}))+, ELSE(transforms{0|1})",
           summary="Apply the transforms of the first true condition, else ELSE.",
           native=("generated",))
def compile_case_t(call, c):
    a = _args(call, c)
    return first_branch(list(zip(a["VALUE"], a["THEN"])), a.get("ELSE", [()])[0], _runs)


@transform("case-eq",
           "VALUE(value-expression{1}), (VALUE_N(value-expression{1}), THEN(transforms{1}))+, "
           "ELSE(transforms{0|1})",
           summary="Apply the transforms of the first VALUE_N equal to VALUE, else ELSE.")
def compile_case_eq_t(call, c):
    a = _args(call, c)
    return first_branch(list(zip(a["VALUE_N"], a["THEN"])), a.get("ELSE", [()])[0], _runs,
                        a["VALUE"][0])


def _raises(error, default: str):
    """`fail!` / `trip!`: raise `error` with the MESSAGE (or `default`) at the call."""
    def compile_raise(call, c):
        msg = _args(call, c).get("MESSAGE", [lambda env: default])[0]
        span = call.span

        def raise_(env):
            raise error(str(msg(env)), span)
        return raise_
    return compile_raise


transform("fail!", "MESSAGE(string{0|1})", pure=False,
          summary="Fail the pump with a message.")(_raises(DTLFailError, "fail! called"))
transform("trip!", "MESSAGE(string{0|1})", pure=False,
          summary="Trip the pipe's circuit breaker with a message.")(
    _raises(DTLTripError, "trip! called"))


@transform("sleep!", "SECONDS(numeric-expression{1})", pure=False,
           summary="Pause for a number of seconds.")
def compile_sleep(call, c):
    secs = _args(call, c)["SECONDS"][0]
    span = call.span

    def sleep(env):
        s = secs(env)
        if isinstance(s, bool) or not isinstance(s, int | float) or s < 0:
            raise DTLRuntimeError(f"sleep! needs a non-negative number of seconds, got {s!r}",
                                  span)
        time.sleep(float(s))
    return sleep
