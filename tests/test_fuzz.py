"""Fuzzing (bounded): arbitrary input raises only the project's DTL errors, never hangs.

Documents are built from the registry's real function names with arbitrary arguments, plus
plain arbitrary JSON and text; compiled transforms then run on arbitrary entities.
"""

import json

from hypothesis import given, settings, strategies as st

import dtl
from dtl.functions.registry import EXPRESSION, REGISTRY, TRANSFORM

# functions whose whole point is to wait or fail are left out of the running phase
NOT_RUN = {"sleep!", "now", "uuid"}
EXPR_NAMES = [n for n in REGISTRY.names(EXPRESSION) if n not in NOT_RUN]
TRANSFORM_NAMES = [n for n in REGISTRY.names(TRANSFORM) if n not in NOT_RUN]

scalars = (st.none() | st.booleans() | st.integers(-50, 50) | st.floats(-1e6, 1e6)
           | st.sampled_from(["_S.a", "_S.", "_T.a", "_.", "_S.a.b", "~f1.5", "~t2020-01-01",
                              "~:ns:x", "a*", "x", "", "_P._S.a", "o.x"])
           | st.text(max_size=8))


def exprs():
    return st.recursive(
        scalars,
        lambda c: st.tuples(st.sampled_from(EXPR_NAMES), st.lists(c, max_size=3)).map(
            lambda t: [t[0], *t[1]]) | st.dictionaries(st.text(max_size=3), c, max_size=2),
        max_leaves=10)


def transforms():
    return st.tuples(st.sampled_from(TRANSFORM_NAMES), st.lists(exprs(), max_size=3)).map(
        lambda t: [t[0], *t[1]])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
    max_leaves=15)

entities = st.dictionaries(st.sampled_from(["_id", "a", "b", "x"]),
                           json_values | exprs(), max_size=4)


def _only_dtl_errors(fn):
    try:
        return fn()
    except dtl.DTLError:
        return None


@settings(max_examples=300, deadline=2000)
@given(st.lists(transforms(), max_size=4), st.lists(entities, max_size=3))
def test_generated_transforms_raise_only_dtl_errors(rules, sources):
    t = _only_dtl_errors(lambda: dtl.compile({"default": rules}))
    if t is None:
        return
    for s in sources:
        _only_dtl_errors(lambda: t.apply(s))


@settings(max_examples=300, deadline=2000)
@given(exprs(), entities)
def test_generated_expressions_raise_only_dtl_errors(expr, source):
    e = _only_dtl_errors(lambda: dtl.compile_expression(expr))
    if e is not None:
        _only_dtl_errors(lambda: e(source))


@settings(max_examples=200, deadline=2000)
@given(json_values)
def test_arbitrary_json_documents(doc):
    _only_dtl_errors(lambda: dtl.compile(doc))
    _only_dtl_errors(lambda: dtl.compile(json.dumps(doc)))
    _only_dtl_errors(lambda: dtl.compile_expression(doc))


@settings(max_examples=300, deadline=2000)
@given(st.text(max_size=200))
def test_arbitrary_text(text):
    _only_dtl_errors(lambda: dtl.compile(text))
    _only_dtl_errors(lambda: dtl.compile_expression(text))


def test_deep_nesting_is_a_clean_error():
    deep = "[" * 5000 + "]" * 5000
    _only_dtl_errors(lambda: dtl.compile(deep))
    nested = ["list"]
    for _ in range(3000):
        nested = ["list", nested]
    _only_dtl_errors(lambda: dtl.compile({"default": [["add", "x", nested]]}))
