"""Namespaced identifiers (dtl-functions-namespaced-identifiers.rst): is-ni, ni, ni-id, ni-ns.

An NI's namespace ends at its first colon (``~:foo:x:y`` is identifier ``x:y`` in ``foo``);
an NI without a colon is in the global namespace. `ni-id`/`ni-ns` read plain strings the
same way.
"""

from __future__ import annotations

from dtl.functions._common import first_value
from dtl.functions.registry import expression
from dtl.values import NI, URI

# URI prefixes known without pipe configuration (the docs map example.org to "_").
_DEFAULT_URI_NAMESPACES = {"http://example.org/": "_"}
_GENERATED = "ni:generated-uri-namespaces"  # ctx.services slot for prefixes seen at runtime


def _map(values, fn):
    """fn over a value or the elements of a list; in a list, results of None are dropped."""
    if type(values) is list:
        return [r for r in map(fn, values) if r is not None]
    return fn(values)


@expression("is-ni", "VALUES(value-expression{1})", category="namespaced-identifiers",
            summary="True if the value, or the first element of a list, is an NI.")
def is_ni(values):
    return type(first_value(values)) is NI


def _uri_prefix(text: str) -> tuple[str, str]:
    """Split a URI after its last '#' or '/' into (prefix, local name)."""
    cut = max(text.rfind("#"), text.rfind("/"))
    return text[:cut + 1], text[cut + 1:]


def _collapse(env, uri: URI) -> NI:
    prefix, local = _uri_prefix(uri.value)
    services = env.ctx.services
    known = services.get("uri_namespaces") or {}
    ns = known.get(prefix) or _DEFAULT_URI_NAMESPACES.get(prefix)
    if ns is None:
        # an undeclared prefix gets a generated namespace, stable for the run
        seen = services.setdefault(_GENERATED, {})
        ns = seen.get(prefix)
        if ns is None:
            base = services.get("pipe_id") or env.ctx.options.identity_namespace or "ns"
            ns = seen[prefix] = f"{base}-{len(seen) + 1}"
    return NI(f"{ns}:{local}")


@expression("ni", "NAMESPACE(string{0|1}), VALUES(value-expression{1})",
            category="namespaced-identifiers", needs_env=True,
            summary="Strings (and, without NAMESPACE, URIs) as namespaced identifiers.")
def ni(env, values, namespace=None):
    def one(v):
        t = type(v)
        if t is str:
            return NI(f"{namespace}:{v}" if namespace is not None else v)
        if t is NI:
            return v
        if t is URI and namespace is None:
            return _collapse(env, v)
        return None  # other values, and URIs with a NAMESPACE, are not supported
    return _map(values, one)


def _text(v) -> str | None:
    t = type(v)
    if t is NI:
        return v.value
    if t is str:
        return v
    return None


def _ni_id(v):
    text = _text(v)
    if text is None:
        return None
    _, sep, ident = text.partition(":")
    return ident if sep else text


def _ni_ns(v):
    text = _text(v)
    if text is None:
        return None
    ns, sep, _ = text.partition(":")
    return ns if sep else ""


@expression("ni-id", "VALUES(value-expression{1})", category="namespaced-identifiers",
            summary="The identifier part of NIs or strings; other values are ignored.")
def ni_id(values):
    return _map(values, _ni_id)


@expression("ni-ns", "VALUES(value-expression{1})", category="namespaced-identifiers",
            summary="The namespace part of NIs or strings ('' if none); others are ignored.")
def ni_ns(values):
    return _map(values, _ni_ns)
