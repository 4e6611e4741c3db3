"""The plan's ``sugar`` pass: DTL forms that are shorthand for core forms, rewritten once in
the IR, so that every backend runs (and optimizes) only the core form.

- ``["case", C1, T1, C2, T2, ..., ELSE]`` (expression and transform) is
  ``["if", C1, T1, ["if", C2, T2, ... ELSE]]``: the same tests in the same order, the first
  that holds chooses, nothing after it is evaluated, no match without ELSE gives null (runs no
  transform).

Forms that evaluate an argument once and use it twice (``case-eq``, ``if-null``, ``add-if``)
are not rewritten: their core form would need a binding form the IR does not have.
The rewritten nodes carry the span of the form they replace; every argument keeps its own.
"""

from __future__ import annotations

from dataclasses import replace

from dtl.functions.registry import REGISTRY
from dtl.ir.nodes import Call, HopsSpec, Lambda, Program, Rule, TransformList

REWRITTEN = frozenset({"case"})   # the functions this pass rewrites (their backends: the core's)


def desugar(program: Program) -> Program:
    """The program with its sugar rewritten (the same object where there is none)."""
    return _map(program)


def _map(node):
    """Bottom-up rewrite; a node whose children did not change is kept as it is."""
    if isinstance(node, Call):
        args = tuple(_map(a) for a in node.args)
        if node.name in REWRITTEN:
            return _case(node, args)
        return node if _same(args, node.args) else replace(node, args=args)
    if isinstance(node, Lambda):
        body = _map(node.body)
        return node if body is node.body else replace(node, body=body)
    if isinstance(node, TransformList):
        items = tuple(_map(c) for c in node.items)
        return node if _same(items, node.items) else replace(node, items=items)
    if isinstance(node, HopsSpec):
        where = tuple(_map(w) for w in node.where)
        returns = node.returns if node.returns is None or isinstance(node.returns, tuple) \
            else _map(node.returns)
        subsets = tuple((a, _map(n)) for a, n in node.subsets)
        if _same(where, node.where) and returns is node.returns and \
                _same([n for _, n in subsets], [n for _, n in node.subsets]):
            return node
        return replace(node, where=where, returns=returns, subsets=subsets)
    if isinstance(node, Rule):
        ts = tuple(_map(c) for c in node.transforms)
        return node if _same(ts, node.transforms) else replace(node, transforms=ts)
    if isinstance(node, Program):
        rules = tuple(_map(r) for r in node.rules)
        return node if _same(rules, node.rules) else replace(node, rules=rules)
    return node


def _same(new, old) -> bool:
    return all(a is b for a, b in zip(new, old))


def _case(node: Call, args) -> Call:
    """`case` as nested `if`s, from the last pair outwards."""
    tests = [a for a, p in zip(args, node.params) if p.name == "VALUE"]
    thens = [a for a, p in zip(args, node.params) if p.name == "THEN"]
    other = next((a for a, p in zip(args, node.params) if p.name == "ELSE"), None)
    sig = REGISTRY.get("if", node.kind).signature
    out = other
    for test, then in reversed(list(zip(tests, thens))):
        if out is None:
            cargs = (test, then)
        elif node.kind == "transform":
            cargs = (test, then, out if isinstance(out, TransformList)
                     else TransformList((out,), node.span))
        else:
            cargs = (test, then, out)
        out = Call("if", node.kind, cargs, tuple(sig.match(len(cargs))), node.span)
    return out
