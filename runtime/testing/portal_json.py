"""JSON text in the layout the Sesam portal and client write configuration files in.

`convert` and `init` rewrite pipe files and create testdata files; writing them in this layout keeps
our output byte-identical to the client's, so a repository converted by either tool diffs clean.
The layout (default style): objects one key per line, objects inside arrays not indented further
("[{" … "}, {" … "}]"), arrays of scalars on one line, an array inside an array on its own line, a
closing bracket after a nested array on its own line, keys in "conventional" order.
"""

from __future__ import annotations

import json

# Keys that come first, in this order; then other keys alphabetically; then internal keys
# (leading underscore except `_id`, and the audit keys) alphabetically.
_FIRST = ("_id", "type", "name", "description", "source", "sink", "transform", "pump", "metadata",
          "system", "datasets", "where", "return", "recurse", "max_depth", "exclude_root",
          "track-dependencies", "trace", "default")
_RANK = {k: i for i, k in enumerate(_FIRST)}
_LAST = {"$audit", "$principals-from-user"}


def _key_rank(key: str):
    if (key.startswith("_") and key != "_id") or key in _LAST:
        return (2, 0, key)
    if key in _RANK:
        return (0, _RANK[key], "")
    return (1, 0, key)


def _scalar(v) -> str:
    return json.dumps(v, ensure_ascii=False)


def dumps(value, indent: str = "  ") -> str:
    """`value` as portal-formatted JSON text, ending in a newline."""
    out: list[str] = []

    def nl(level: int) -> str:
        return "\n" + indent * level

    def emit(v, level: int, in_array: bool):
        # `level` is the indentation of the line the value starts on, counted as the client's
        # nesting counter: objects inside arrays do not add a level.
        if isinstance(v, dict):
            if not v:
                out.append("{}")
                return
            inner = level if in_array else level + 1
            out.append("{")
            for i, k in enumerate(sorted(v, key=_key_rank)):
                out.append(("," if i else "") + nl(inner) + _scalar(k) + ": ")
                emit(v[k], inner, False)
            out.append(nl(inner - 1) + "}")
        elif isinstance(v, list | tuple):
            inner = level + 1
            out.append("[")
            last_was_array = False
            for i, item in enumerate(v):
                is_array = isinstance(item, list | tuple)
                if is_array:
                    out.append(("," if i else "") + nl(inner))
                elif i:
                    out.append(", ")
                emit(item, inner, True)
                last_was_array = is_array
            out.append((nl(inner - 1) if last_was_array else "") + "]")
        else:
            out.append(_scalar(v))

    emit(value, 0, False)
    return "".join(out) + "\n"
