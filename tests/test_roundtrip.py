"""Parse/print round trips: lowering the printed IR gives the same IR (spans aside)."""

import dataclasses

from hypothesis import given, strategies as st

import dtl  # noqa: F401  (loads the registry)
from dtl.errors import DTLError
from dtl.functions.registry import EXPRESSION, REGISTRY, TRANSFORM
from dtl.ir.lower import lower_expression, lower_program
from dtl.ir.printer import to_json
from dtl.syntax.jsontree import from_python

EXPR = [s for s in REGISTRY.specs() if s.kind == EXPRESSION and s.implemented
        and not any(p.kind in ("dict", "transforms") for p in s.signature.params)]
TRANSFORMS = [s for s in REGISTRY.specs() if s.kind == TRANSFORM and s.implemented
              and not any(p.kind == "transforms" for p in s.signature.params)]

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)
scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=8)
           | names.map(lambda n: f"_S.{n}") | st.lists(names, min_size=1, max_size=3).map(
               lambda ns: "_S." + ".".join("'" + n.replace("'", "''") + "'" for n in ns)))


@st.composite
def calls(draw, specs, leaf):
    spec = draw(st.sampled_from(specs))
    lo, hi = spec.signature.arity
    n = draw(st.integers(lo, min(hi if hi is not None else lo + 2, lo + 3)))
    if spec.signature.match(n) is None:
        n = lo
    return [spec.name, *(draw(leaf) for _ in range(n))]


exprs = st.recursive(scalars, lambda c: calls(EXPR, c), max_leaves=8)


def strip(node):
    """The node with every span blanked, for comparison."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        kw = {}
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            kw[f.name] = None if f.name == "span" else strip(v)
        return type(node)(**kw)
    if isinstance(node, tuple):
        return tuple(strip(x) for x in node)
    return node


@given(exprs)
def test_expression_round_trip(doc):
    try:
        ir = lower_expression(from_python(doc))
    except DTLError:
        return
    again = lower_expression(from_python(to_json(ir)))
    assert strip(again) == strip(ir)
    assert to_json(again) == to_json(ir)


@given(st.lists(calls(TRANSFORMS, exprs), min_size=1, max_size=4))
def test_program_round_trip(rules):
    try:
        ir = lower_program(from_python({"default": rules}))
    except DTLError:
        return
    again = lower_program(from_python(to_json(ir)))
    assert strip(again) == strip(ir)


def test_hops_round_trip():
    doc = ["hops", {"datasets": ["orders o", "product p"],
                    "where": [["eq", "_S._id", "o.customer"], ["eq", "o.lines.pid", "p._id"]],
                    "return": "p", "recurse": False,
                    "subsets": {"o": ["eq", "_S.shop", "web"]}}]
    ir = lower_expression(from_python(doc))
    assert strip(lower_expression(from_python(to_json(ir)))) == strip(ir)
