"""Small helpers shared by the function families: list broadcasting, patterns, namespaces."""

from __future__ import annotations

import functools
import re

from dtl.values import as_list, deep_equal, is_true  # noqa: F401  (re-exported for families)


def each(values, fn):
    """Apply `fn` to a single value, or to every element of a list (DTL broadcasting)."""
    if type(values) is list:
        return [fn(v) for v in values]
    return fn(values)


def first_value(v):
    """The value a function works on when it takes one: a list stands for its first element
    (null when empty)."""
    if type(v) is list:
        return v[0] if v else None
    return v


def first_is(values, t: type) -> bool:
    """The is-<type> predicates: the value, or a list's first element, has exactly type `t`."""
    if type(values) is list:
        return bool(values) and type(values[0]) is t
    return type(values) is t


def convert_each(values, one, invalid=None):
    """`one` on a value, or on each non-null element of a list, leaving out `invalid` results
    (the conversion functions: numbers, json-parse, ...)."""
    if type(values) is list:
        out = []
        for v in values:
            if v is None:
                continue
            r = one(v)
            if r is not invalid:
                out.append(r)
        return out
    if values is None:
        return None
    r = one(values)
    return None if r is invalid else r


def flatten_once(values) -> list:
    """A list with nested lists spliced in one level deep; a non-list becomes [value]."""
    out = []
    for v in as_list(values):
        if type(v) is list:
            out.extend(v)
        else:
            out.append(v)
    return out


@functools.lru_cache(maxsize=4096)
def wildcard(pattern: str) -> re.Pattern:
    """A compiled full-match regex for a DTL wildcard pattern (only * and ? are special)."""
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def split_property(name: str) -> tuple[str | None, str]:
    """Split a property name at its last colon into (namespace, identifier)."""
    ns, sep, ident = name.rpartition(":")
    return (ns, ident) if sep else (None, name)


def property_matches(pattern: str, key: str, ns_aware: bool) -> bool:
    """Whether a property name matches a wildcard pattern.

    With namespaced identifiers on, the last colon of pattern and key separates namespace and
    identifier; a pattern without a namespace matches the identifier in every namespace.
    """
    if not ns_aware:
        return wildcard(pattern).fullmatch(key) is not None
    if pattern.startswith("::"):
        return wildcard(pattern[2:]).fullmatch(key) is not None
    pns, pid = split_property(pattern)
    kns, kid = split_property(key)
    if pns is None:
        return wildcard(pid).fullmatch(kid) is not None
    if kns is None:
        return False
    return wildcard(pns).fullmatch(kns) is not None and wildcard(pid).fullmatch(kid) is not None


def qualify_property(name: str, opts) -> str:
    """The target property name under the namespace rules of add/default (NI escape syntax)."""
    if not opts.namespaced_identifiers:
        return name
    if name.startswith("::"):
        return name[2:]
    if name.startswith(":"):
        name = name[1:]
        return f"{opts.property_namespace}:{name}" if opts.property_namespace else name
    if ":" in name or name[:1] in ("_", "$") or not opts.property_namespace:
        return name
    return f"{opts.property_namespace}:{name}"


def first_branch(pairs, other, run, value=None):
    """The `case` / `case-eq` evaluator, for expressions and transforms alike: runs
    (`run(branch, env)`) the branch of the first pair whose test holds, else `other`. A test
    is a condition (is_true), or with `value` a candidate deep-equal to `value(env)`; only
    the tests up to the first that holds are evaluated."""
    def case(env):
        if value is None:
            for test, then in pairs:
                if is_true(test(env)):
                    return run(then, env)
        else:
            v = value(env)
            for test, then in pairs:
                if deep_equal(v, test(env)):
                    return run(then, env)
        return run(other, env)
    return case
