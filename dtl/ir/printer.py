"""IR -> DTL JSON: the inverse of lowering (up to spans and surface spelling).

`to_json(lower(x))` lowers back to the same IR; tests/test_roundtrip.py checks it.
"""

from __future__ import annotations

from dtl import transit
from dtl.ir.nodes import (Call, HopsSpec, Lambda, Literal, Path, Program, Rule, TransformList)


def quote_element(el: str) -> str:
    if el and "." not in el and "'" not in el:
        return el
    return "'" + el.replace("'", "''") + "'"


def path_text(node: Path) -> str:
    return node.head + "." + ".".join(quote_element(e) for e in node.elements)


def to_json(node):
    """The DTL JSON value of an IR node (literals transit-encoded)."""
    if isinstance(node, Literal):
        v = node.value
        if isinstance(v, str) and _needs_literal(v):
            return ["literal", v]
        if isinstance(v, list | dict):
            enc = transit.encode(v)
            return ["literal", enc] if isinstance(v, list) else enc
        return transit.encode(v)
    if isinstance(node, Path):
        return path_text(node)
    if isinstance(node, Lambda):
        return to_json(node.body)
    if isinstance(node, Call):
        return [node.name, *(transit.encode(a.value) if p.kind == "value" else to_json(a)
                             for a, p in zip(node.args, node.params))]
    if isinstance(node, TransformList):
        return [to_json(c) for c in node.items]
    if isinstance(node, HopsSpec):
        d: dict = {"datasets": [f"{ds} {a}" for ds, a in node.datasets],
                   "where": [to_json(w) for w in node.where]}
        if isinstance(node.returns, tuple):
            d["return"] = ",".join(node.returns)
        elif node.returns is not None:
            d["return"] = to_json(node.returns)
        for k, v in node.options:
            d[k] = v
        if node.subsets:
            d["subsets"] = {a: to_json(n) for a, n in node.subsets}
        return d
    if isinstance(node, Rule):
        return [to_json(c) for c in node.transforms]
    if isinstance(node, Program):
        return {r.name: to_json(r) for r in node.rules}
    raise TypeError(type(node).__name__)


def _needs_literal(s: str) -> bool:
    """Strings that could read back as a path (a variable or hop alias, then a dot)."""
    return "." in s and s[:1] != "~"


def compact(node, limit: int = 80) -> str:
    """A one-line rendering for listings."""
    import json
    text = json.dumps(to_json(node), ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 3] + "..."
