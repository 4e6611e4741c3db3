"""Misc (dtl-functions-misc.rst): hash128, is-changed, literal, tuples, completeness.

`is-changed` and `completeness` depend on pipe state that only the runtime knows; they ask
`env.ctx.services` for hooks and return null (unknown) when there is none:

* ``services["previous_version"]``: ``f(entity) -> previous version or None``
* ``services["completeness"]``: ``f(via_dataset_id, dataset_id) -> DateTime or None``
"""

from __future__ import annotations

import itertools

import mmh3

from dtl.errors import DTLRuntimeError
from dtl.functions.registry import expression
from dtl.values import deep_equal


def _murmur3(v, seed: int):
    t = type(v)
    if t is str:
        v = v.encode("utf-8")
    elif t is not bytes:
        return None
    return mmh3.hash128(v, seed, True, signed=False)


@expression("hash128", "ALGORITHM(string{1}), SEED(integer-expression{0|1}), "
            "VALUES(value-expression{1})", category="misc",
            summary="128-bit MurmurHash3 (x64) of strings and bytes; other values are ignored.")
def hash128(algorithm, values, seed=0):
    if algorithm != "murmur3":
        raise DTLRuntimeError(f"hash128: unsupported algorithm {algorithm!r} "
                              "(only \"murmur3\" is supported)")
    if seed is None:
        seed = 0
    elif type(seed) is not int:
        raise DTLRuntimeError(f"hash128: the seed must be an integer, got {seed!r}")
    seed &= 0xFFFFFFFF  # MurmurHash3 takes a 32-bit seed
    if type(values) is list:
        return [h for h in (_murmur3(v, seed) for v in values) if h is not None]
    return _murmur3(values, seed)


def _deleted(e) -> bool:
    return type(e) is dict and e.get("_deleted") is True


@expression("is-changed", "FUNCTION(function-expression{1})", category="misc",
            needs_env=True,
            summary="Whether FUNCTION differs between this and the previous version of _S "
                    "(null if there is no previous version).")
def is_changed(env, function):
    hook = env.ctx.services.get("previous_version")
    if hook is None:
        return None
    current = env.S
    previous = hook(current)
    if previous is None:
        return None
    if _deleted(current) or _deleted(previous):
        return True
    return not deep_equal(function(current), function(previous))


@expression("literal", "VALUE(value{1})", category="misc",
            summary="Its argument as-is, never evaluated.")
def literal(value):
    # lowering already turns a literal call into a constant; this covers IR built otherwise
    return value


@expression("tuples", "VALUES(value-expression{>=0})", category="misc",
            summary="The product of the arguments' values as tuples; nulls are ignored.")
def tuples(*values):
    if not values:
        return []
    pools = []
    for v in values:
        pool = [x for x in v if x is not None] if type(v) is list else \
            ([] if v is None else [v])
        if not pool:
            return []
        pools.append(pool)
    return [list(t) for t in itertools.product(*pools)]


@expression("completeness", "VIA_DATASET_ID(string{1}), DATASET_ID(string{1})",
            category="misc", needs_env=True,
            summary="The completeness datetime of DATASET_ID as seen via VIA_DATASET_ID, "
                    "or null if unknown.")
def completeness(env, via_dataset_id, dataset_id):
    # only the runtime knows pipe state; without its hook the value is unknown (null)
    hook = env.ctx.services.get("completeness")
    if hook is None or type(via_dataset_id) is not str or type(dataset_id) is not str:
        return None
    return hook(via_dataset_id, dataset_id)
