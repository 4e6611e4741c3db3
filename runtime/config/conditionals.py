"""`$conditional_properties` blocks and conditional sources/transforms/sinks.

Both choose an alternative by the (already substituted) value of `condition`. A condition value
with no alternative is an error (test-runner.md §9), never a silent no-op.
"""

from __future__ import annotations

from dtl.syntax.jsontree import JList, JNode, JObject, JScalar
from runtime.config.problems import Problems, did_you_mean
from runtime.config.refs import has_refs
from runtime.config.secret import Secret

CP = "$conditional_properties"


def _choose(node: JObject, problems: Problems, what: str) -> JNode | None:
    """The alternative picked by a {condition, alternatives} object, or None after an error."""
    cond, alts = node.get("condition"), node.get("alternatives")
    if cond is None or alts is None:
        missing = "condition" if cond is None else "alternatives"
        problems.error(f"{what} needs {missing!r}", node.span, "missing-property")
        return None
    if not isinstance(alts, JObject):
        problems.error(f"{what}: 'alternatives' must be an object", alts.span, "wrong-type")
        return None
    if not (isinstance(cond, JScalar) and isinstance(cond.value, str)) or \
            isinstance(cond.value, Secret):
        problems.error(f"{what}: 'condition' must be a string", cond.span, "wrong-type")
        return None
    chosen = alts.get(cond.value)
    if chosen is None and has_refs(cond.value):
        return None  # the reference itself was reported; do not pile on
    if chosen is None:
        keys = alts.keys()
        problems.error(f"{what}: the condition is {cond.value!r} but there is no such "
                       f"alternative (have: {', '.join(map(repr, keys)) or 'none'})",
                       cond.span, "no-alternative",
                       did_you_mean(cond.value, keys) or "every possible condition value must "
                       "be a key of 'alternatives'")
    return chosen


def resolve_properties(node: JNode, problems: Problems, *, root: bool = True,
                       skip: frozenset = frozenset(), deep: frozenset = frozenset()) -> JNode:
    """Apply every `$conditional_properties` block at its own level, depth first.

    Values of `skip` keys at this level, and of `deep` keys at any level below, are left alone
    (transforms, embedded data).
    """
    if isinstance(node, JList):
        return JList(tuple(resolve_properties(c, problems, root=False, deep=deep)
                           for c in node.items), node.span)
    if not isinstance(node, JObject):
        return node
    items = []
    block = None
    for k, ks, v in node.items:
        if k == CP:
            block = (ks, v)
        elif k in skip or k in deep:
            items.append((k, ks, v))
        else:
            below = deep | {"entities"} if root and k == "source" else deep
            items.append((k, ks, resolve_properties(v, problems, root=False, deep=below)))
    if block is None:
        return JObject(tuple(items), node.span)
    ks, v = block
    if not isinstance(v, JObject):
        problems.error(f"{CP} must be an object with 'condition' and 'alternatives'", v.span,
                       "wrong-type")
        return JObject(tuple(items), node.span)
    for extra in v.keys():
        if extra not in ("condition", "alternatives"):
            problems.error(f"unknown property {extra!r} of {CP}", v.span, "unknown-property")
    chosen = _choose(v, problems, CP)
    if chosen is None:
        return JObject(tuple(items), node.span)
    if not isinstance(chosen, JObject):
        problems.error(f"a {CP} alternative must be an object", chosen.span, "wrong-type")
        return JObject(tuple(items), node.span)
    chosen = resolve_properties(chosen, problems, root=False, deep=deep)
    if root:
        for k, kspan, _ in chosen.items:
            if k in ("_id", "type"):
                problems.error(f"{k!r} of an entity cannot be set by {CP}", kspan,
                               "conditional-not-allowed")
        chosen = JObject(tuple(it for it in chosen.items if it[0] not in ("_id", "type")),
                         chosen.span)
    # the alternative replaces same-named keys wholesale (no merging of objects)
    replace = {k: (k, kspan, val) for k, kspan, val in chosen.items}
    merged = [replace.pop(k, (k, s, val)) for k, s, val in items]
    merged.extend(replace.values())
    return JObject(tuple(merged), node.span)


def resolve_component(node: JNode, problems: Problems, what: str, depth: int = 0):
    """A source/transform/sink with `type: conditional` -> (chosen node, condition value).

    Returns (node, None) for other components, and (None, value) after an error.
    """
    if not (isinstance(node, JObject) and _type(node) == "conditional"):
        return node, None
    for extra in node.keys():
        if extra not in ("type", "condition", "alternatives", "comment"):
            problems.error(f"unknown property {extra!r} of a conditional {what}",
                           _key_span(node, extra), "unknown-property",
                           did_you_mean(extra, ("condition", "alternatives", "comment")))
    chosen = _choose(node, problems, f"conditional {what}")
    cond = node.get("condition")
    value = cond.value if isinstance(cond, JScalar) else None
    if chosen is None:
        return None, value
    if not isinstance(chosen, JObject):
        problems.error(f"the chosen alternative of a conditional {what} must be an object",
                       chosen.span, "wrong-type")
        return None, value
    if depth < 8 and _type(chosen) == "conditional":
        inner, _ = resolve_component(chosen, problems, what, depth + 1)
        return inner, value
    return chosen, value


def _type(node: JObject):
    t = node.get("type")
    return t.value if isinstance(t, JScalar) else None


def _key_span(node: JObject, key: str):
    for k, ks, _ in node.items:
        if k == key:
            return ks
    return node.span
