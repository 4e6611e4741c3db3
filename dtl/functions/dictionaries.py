"""Dictionaries (dtl-functions-dictionaries.rst): dict, has-key, is-dict, items, key-values,
keys, values, apply-ns, strip-ns and path. (`apply`/`apply-hops` live in hops.py.)
"""

from __future__ import annotations

from dtl.errors import Diagnostic, DTLCompileError
from dtl.functions._common import first_value, split_property
from dtl.functions.registry import expression
from dtl.paths import walk_path


def _dicts(values):
    """The dicts among `values` (a single value counts as a one-element list)."""
    if type(values) is dict:
        return (values,)
    if type(values) is list:
        return [v for v in values if type(v) is dict]
    return ()


# -- dict ------------------------------------------------------------------------------------

def _from_items(items) -> dict:
    out = {}
    if type(items) is not list:
        return out
    for it in items:
        # only two-element tuples with a string key make a pair; anything else is ignored
        if type(it) is list and len(it) == 2 and type(it[0]) is str:
            out[it[0]] = it[1]
    return out


@expression("dict", "ARGS(value-expression{>=0})", category="dictionaries", compiler=True,
            summary="{} with no arguments, a dict from a list of [key, value] pairs, "
                    "or from KEY, VALUE argument pairs (last key wins).")
def compile_dict(call, c):
    fns = [c.expr(a) for a in call.args]
    n = len(fns)
    if n == 0:
        return lambda env: {}
    if n == 1:
        (items,) = fns
        return lambda env: _from_items(items(env))
    if n % 2:
        raise DTLCompileError([Diagnostic(
            f"'dict' takes no arguments, one list of pairs, or KEY, VALUE pairs; got {n} "
            "arguments", call.span, "arity", 'e.g. ["dict", "a", 1, "b", 2]')])
    pairs = list(zip(fns[0::2], fns[1::2]))

    def dict_(env):
        out = {}
        for k, v in pairs:
            key = k(env)
            if type(key) is str:  # dict keys are strings; other keys are dropped
                out[key] = v(env)
        return out
    return dict_


# -- tests and projections -------------------------------------------------------------------

@expression("has-key", "KEY(value-expression{1}), VALUES(value-expression{1})",
            category="dictionaries",
            summary="Whether the (first) dict in VALUES has KEY; null if it is not a dict.")
def has_key(key, values):
    d = first_value(values)
    if type(d) is not dict:
        return None
    return type(key) is str and key in d


@expression("is-dict", "VALUES(value-expression{1})", category="dictionaries",
            summary="True if the value, or the first element of a list, is a dict.")
def is_dict(values):
    return type(first_value(values)) is dict


@expression("items", "DICTS(value-expression{1})", category="dictionaries",
            summary="[key, value] pairs of every dict in DICTS; other values are ignored.")
def items(dicts):
    return [[k, v] for d in _dicts(dicts) for k, v in d.items()]


@expression("key-values", "DICTS(value-expression{1})", category="dictionaries",
            summary='{"key": ..., "value": ...} for every pair of every dict in DICTS.')
def key_values(dicts):
    out = [{"key": k, "value": v} for d in _dicts(dicts) for k, v in d.items()]
    # a single dict with a single pair gives that one dict, as the docs show
    if type(dicts) is not list and len(out) == 1:
        return out[0]
    return out


@expression("keys", "DICTS(value-expression{1})", category="dictionaries",
            summary="The keys of every dict in DICTS; other values are ignored.")
def keys(dicts):
    return [k for d in _dicts(dicts) for k in d]


@expression("values", "DICTS(value-expression{1})", category="dictionaries",
            summary="The values of every dict in DICTS; other values are ignored.")
def values_(dicts):
    return [v for d in _dicts(dicts) for v in d.values()]


# -- namespaces ------------------------------------------------------------------------------

_NS_DEFAULTS = {"skip_underscore": True, "skip_dollar": True, "recursive": True}


def _ns_config(env, config) -> dict:
    opts = env.ctx.options
    cfg = {"property_namespace": opts.property_namespace,
           "identity_namespace": opts.identity_namespace, **_NS_DEFAULTS}
    if type(config) is str:
        cfg["property_namespace"] = cfg["identity_namespace"] = config
    elif type(config) is dict:
        unknown = set(config) - set(cfg)
        if unknown:
            raise ValueError("unknown apply-ns setting(s): " + ", ".join(sorted(unknown)))
        cfg.update(config)
    elif config is not None:
        raise ValueError("apply-ns takes a namespace string or a settings dict")
    return cfg


def _prefix_id(value, ns):
    if type(value) is str:
        return f"{ns}:{value}"
    if type(value) is list:
        return [_prefix_id(v, ns) for v in value]
    return value


def _add_ns(value, cfg):
    t = type(value)
    if t is list:
        return [_add_ns(v, cfg) for v in value]
    if t is not dict:
        return value
    pns, ins = cfg["property_namespace"], cfg["identity_namespace"]
    deep = cfg["recursive"]
    out = {}
    for k, v in value.items():
        if k == "_id" and ins:
            v = _prefix_id(v, ins)
        if (k[:1] == "_" and cfg["skip_underscore"]) or (k[:1] == "$" and cfg["skip_dollar"]):
            out[k] = v  # skipped properties are left as they are, value included
            continue
        if pns and ":" not in k:
            k = f"{pns}:{k}"
        out[k] = _add_ns(v, cfg) if deep else v
    return out


@expression("apply-ns", "NAMESPACE_OR_CONFIGDICT(value{1}), VALUES(value-expression{1})",
            category="dictionaries", needs_env=True,
            summary="Add a namespace to the property names of dicts (like add_namespaces).")
def apply_ns(env, namespace_or_configdict, values):
    return _add_ns(values, _ns_config(env, namespace_or_configdict))


def _strip_ns(value):
    t = type(value)
    if t is dict:
        return {split_property(k)[1]: _strip_ns(v) for k, v in value.items()}
    if t is list:
        return [_strip_ns(v) for v in value]
    return value


@expression("strip-ns", "VALUES(value-expression{1})", category="dictionaries",
            summary="Remove namespaces from dict keys, recursively.")
def strip_ns(values):
    return _strip_ns(values)


# -- path ------------------------------------------------------------------------------------

def _ns_getter(el: str, opts):
    """How to read path element `el` from a dict when namespaced identifiers are on.

    Returns a key to read as-is (str), or a callable for an unqualified element, which
    gathers that identifier from every namespace.
    """
    if el.startswith("::"):
        return el[2:]
    if el.startswith(":"):
        ns = opts.property_namespace
        return f"{ns}:{el[1:]}" if ns else el[1:]
    if ":" in el:
        return el

    def union(d: dict):
        hits = [v for k, v in d.items() if split_property(k)[1] == el and v is not None]
        if len(hits) <= 1:
            return hits[0] if hits else None
        out = []
        for v in hits:
            if type(v) is list:
                out.extend(x for x in v if x is not None)
            else:
                out.append(v)
        return out
    return union


def _walk_ns(value, getters):
    """walk_path, with namespace-aware element lookups (a getter is a key or a callable)."""
    return walk_path(value, getters, _read)


def _read(d, g):
    return g(d) if callable(g) else d.get(g)


@expression("path", "PROPERTY_PATH(value-expression{1}), VALUES(value-expression{1})",
            category="dictionaries", needs_env=True,
            summary="Follow property names through the dicts in VALUES; namespace aware.")
def path(env, property_path, values):
    if type(property_path) is str:
        els = (property_path,)
    elif type(property_path) is list:
        els = tuple(e for e in property_path if type(e) is str)
    else:
        els = ()
    if not els:
        return values
    opts = env.ctx.options
    if not opts.namespaced_identifiers:
        return walk_path(values, els)
    return _walk_ns(values, [_ns_getter(e, opts) for e in els])
