"""The generated-source backend's specialized inliners (literal operands, fused path walks, the
one-call entity function) agree with the closure backend, value for value and error for error.

tests/test_capabilities.py draws every function with path arguments only; these forms are the
ones an inliner writes differently when an argument is a literal or a path through a list.
"""

import math
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dtl
from dtl.errors import DTLError
from dtl.transit import dumps
from tests.vector.strategies import scalar

num = st.one_of(scalar, st.decimals(allow_nan=False, allow_infinity=False, places=3),
                st.sampled_from([Decimal("2.675"), 2**70, 0.5, -2.5, 1.115, 99999999.995]))
leaf = st.one_of(num, st.lists(num, max_size=3))
# lists of records whose x has one type (with nulls): the shapes the fused walks take whole
def _records(t):
    return st.lists(st.fixed_dictionaries({}, optional={"x": st.one_of(st.none(), t, t)}),
                    min_size=1, max_size=4)


records = st.one_of(*map(_records, [st.integers(-100, 100), st.integers(-2**70, 2**70),
                                    st.text("ab", max_size=2), st.floats(-1e9, 1e9),
                                    st.sampled_from([2.675, 0.5, 1e300, -0.0]), st.booleans(),
                                    st.lists(st.integers(-5, 5), max_size=2),
                                    st.decimals(allow_nan=False, allow_infinity=False,
                                                places=2)]))
value = st.one_of(leaf, records, records,
                  st.lists(st.one_of(st.fixed_dictionaries({}, optional={"x": leaf}), num),
                           max_size=4),
                  st.fixed_dictionaries({}, optional={"x": leaf}))
source = st.fixed_dictionaries({}, optional={"a": value, "b": value})

FORMS = [
    ["plus", 1, "_S.a"], ["plus", 0.0, "_S.a"], ["minus", 2, "_S.a"], ["multiply", 1.1, "_S.a"],
    ["multiply", -3, "_S.a"], ["plus", 2.5, ["sum", "_S.a.x"]],
    ["round", 2, "_S.a"], ["round", 9, "_S.a"], ["round", 1, ["multiply", 1.1, "_S.a"]],
    ["round", 2, ["multiply", 3, "_S.a"]], ["round", 3, ["multiply", "_S.b", "_S.a"]],
    ["concat", "_S.a", "-", "_S.b"], ["concat", "_S.a", "_S.b"], ["concat", "x", "_S.a"],
    ["concat", ["first", ["split", "@", "_S.a"]], "-", "_S.b"],
    ["first", ["split", "-", "_S.a"]], ["first", ["split", "_S.b", "_S.a"]],
    ["eq", "_S.a", True], ["eq", False, "_S.a"], ["neq", "_S.a", True], ["neq", False, "_S.a"],
    ["eq", 1, "_S.a"], ["neq", "_S.a", "a"], ["gte", "_S.a", 40],
    ["lt", 2.5, "_S.a"], ["gt", "_S.a", "B"], ["lte", "_S.a", False],
    ["upper", "_S.a"], ["lower", "_S.a"], ["count", "_S.a"],
    ["sum", "_S.a.x"], ["sum", "_S.a"], ["sorted", "_S.a.x"], ["sorted-descending", "_S.a.x"],
    ["if-null", ["sorted-descending", "_S.a.x"], ["list"]], ["list", "_S.a", 1], ["list"],
    "_S.a.x", "_S.a.x.x",
    ["if", ["is-null", "_S.a"], None, ["gte", "_S.a", 40]],
    ["if", ["eq", "_S.a", "a"], 1, 2], ["if", ["is-not-null", "_S.b"], "_S.b", "_S.a"],
]


# hand-picked shapes, checked first: drawn examples alone rarely reach every branch
_REC = [[{"x": 3}, {"x": 1}, {"x": None}, {"x": 2}], [{"x": 2.5}, {}, {"x": -1.25}],
        [{"x": "b"}, {"x": "a"}], [{"x": 1}, {"x": 2.5}], [{"x": 2.5}, {"x": 1}],
        [{"x": [2, 1]}, {"x": 3}], [{"x": True}], [{"x": Decimal("1.5")}, {"x": 1}],
        [1, {"x": 4}, "s"], [{"x": 2**70}, {"x": 0.5}], [], [{"x": {"x": 1}}]]
EXAMPLES = [{}, {"a": None, "b": None}, {"a": {"x": 7}}, {"a": 2.675, "b": "q"},
            {"a": "x@y.z", "b": "NO"}, {"a": ["p@q", "r"], "b": ["s"]}, {"a": 40, "b": 41},
            {"a": 39.5}, {"a": True}, {"a": Decimal("1.005")}, {"a": 2**70}, {"a": 1e300},
            {"a": "@"}, {"a": ""}] + [{"a": r, "b": r[::-1]} for r in _REC]


def _outcome(t, src):
    try:
        return "ok", dumps(t.apply(src))
    except DTLError:
        return "error", None


def _loops_agree(gen, ref, batch):
    """The generated loops (apply_each, apply_batch) give what apply gives, entity by entity."""
    assert set(gen.loops) == {"all", "each"}
    want = [_outcome(ref, e) for e in batch]
    got = [("error", None) if isinstance(r, Exception) else ("ok", dumps(r))
           for r in gen.apply_each(batch)]
    assert got == want
    ok = [e for e, w in zip(batch, want) if w[0] == "ok"]
    assert dumps(gen.apply_batch(ok)) == dumps([o for e in ok for o in ref.apply(e)])


def _agree(rules, sources=source):
    gen = dtl.compile(rules, backend="auto")
    ref = dtl.compile(rules, backend="closure")
    assert getattr(gen.apply, "__dtl_source__", None), "no one-call entity function"
    for src in EXAMPLES:
        src = {"_id": "x", **src}
        assert _outcome(gen, dict(src)) == _outcome(ref, dict(src)), (rules, src)
    _loops_agree(gen, ref, [{"_id": str(i), **e} for i, e in enumerate(EXAMPLES)] + [7, None])

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    @given(sources)
    def agree(src):
        assert _outcome(gen, dict(src)) == _outcome(ref, dict(src)), (rules, src)
    agree()


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_inlined_form_agrees_with_closures(form):
    _agree({"default": [["copy", "_id"], ["add", "v", form]]},
           source.map(lambda s: {"_id": "x", **s}))


@pytest.mark.parametrize("mark", [False, True])
@pytest.mark.parametrize("cond", [["eq", "_S.a", True], ["gte", "_S.a", 0], "_S.a"])
def test_filter_and_discard_in_the_entity_function(cond, mark):
    for stop in ("filter", "discard"):
        rules = {"default": [[stop, cond], ["add", "v", ["concat", "_S.b", "!"]]]}
        gen = dtl.compile(rules, mark_filtered=mark)
        ref = dtl.compile(rules, backend="closure", mark_filtered=mark)
        batch = [{"a": True, "b": "x"}, {"a": None}, {"a": 1}, {"a": [True]}, {"a": -1}]
        for src in batch:
            assert gen.apply(dict(src)) == ref.apply(dict(src)), (rules, src)
        _loops_agree(gen, ref, batch)


def test_entity_function_hands_bindings_and_non_dicts_to_the_general_path():
    t = dtl.compile({"default": [["add", "v", ["plus", 1, "_S.n"]]]})
    assert t.apply({"n": 1}) == [{"v": 2}]
    assert t.apply({"n": 1}, bindings={"x": 1}) == [{"v": 2}]
    with pytest.raises(dtl.DTLRuntimeError):  # errors keep their position (the closures')
        dtl.compile('{"default": [["add", "x", ["range", 1, 5, 0]]]}', file="r.json").apply({})


def test_a_rule_without_code_still_gets_an_entity_function():
    t = dtl.compile({"default": [["comment", "nothing"]]})
    assert t.apply({"a": 1}) == [{}] and getattr(t.apply, "__dtl_source__", None)


@pytest.mark.parametrize("rules", [
    [["copy", "a"], ["add", "a", 1], ["copy", "b"]],  # a key twice: T made before the second
    [["add", "v", 1], ["add", "w", "_T.v"], ["copy", "a"]],  # reads T: made first
    [["copy", "b"], ["filter", ["eq", "_S.a", 1]], ["add", "v", "_S.b"]],
    [["add", "v", "_S.a"], ["if", "_S.b", [["add", "w", 1]], [["remove", "v"]]], ["copy", "b"]],
    [["add", "x", "_S.a"], ["add", "y", ["plus", 1, "_S.a"]], ["add", "z", ["sum", "_S.a.x"]]],
    [["filter", ["is-not-null", "_S.b"]], ["if", "_S.b", [["add", "v", "_S.a"]],
                                          [["add", "w", ["count", "_S.a"]]]], ["copy", "a"]],
])
def test_target_built_at_once_keeps_order_and_reads(rules):
    gen = dtl.compile({"default": rules}, mark_filtered=True)
    ref = dtl.compile({"default": rules}, backend="closure", mark_filtered=True)
    for src in EXAMPLES:
        got, want = gen.apply(dict(src)), ref.apply(dict(src))
        assert got == want and [list(t) for t in got] == [list(t) for t in want], (rules, src)
    _loops_agree(gen, ref, EXAMPLES)


@pytest.mark.parametrize("d", range(1, 10))
def test_inlined_round_is_the_functions_rounding(d):
    """round(y) / 10^d away from ties, on floats near ties, tiny, negative and large."""
    one = dtl.compile({"default": [["add", "v", ["round", d, "_S.a"]],
                                   ["add", "w", ["round", d, ["multiply", 1.1, "_S.a"]]]]})
    ref = dtl.compile({"default": [["add", "v", ["round", d, "_S.a"]],
                                   ["add", "w", ["round", d, ["multiply", 1.1, "_S.a"]]]]},
                      backend="closure")
    near_tie = st.integers(-10**8, 10**8).map(lambda k: (k + 0.5) / 10**d)
    xs = st.one_of(near_tie, near_tie.map(lambda x: x * (1 + 1e-15)),
                   st.floats(-1e9, 1e9), st.floats(-1e-3, 1e-3), st.integers(-10**9, 10**9))

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(st.lists(xs, min_size=1, max_size=50))
    def agree(values):
        batch = [{"a": x} for x in values]
        got = one.apply_batch(batch)
        want = [o for e in batch for o in ref.apply(e)]
        assert dumps(got) == dumps(want)
        assert [math.copysign(1, r["v"]) for r in got if type(r["v"]) is float] == \
            [math.copysign(1, r["v"]) for r in want if type(r["v"]) is float]
    agree()


def test_walks_of_one_list_share_one_loop():
    """sum/sorted of keys of the same source list in one statement: one loop, and a value that
    is not plain (or an item that is not a dict, or lacks the key) sends every walk of that
    loop to its general function."""
    rules = {"default": [["copy", "_id"], ["add", "s", ["sum", "_S.a.x"]],
                         ["add", "d", ["sorted-descending", "_S.a.x"]],
                         ["add", "u", ["if-null", ["sorted", "_S.a.x"], ["list"]]],
                         ["add", "t", ["plus", 0.0, ["sum", "_S.b.x"]]]]}
    _agree(rules, source.map(lambda s: {"_id": "x", **s}))
    src = dtl.compile(rules).apply.__dtl_source__
    assert src.count(" for ") == 2, src  # one loop over _S.a, one over _S.b


def test_copy_of_id_reads_it_directly_and_a_missing_one_takes_the_general_path():
    rules = {"default": [["copy", "_id"], ["add", "v", ["plus", 1, "_S.n"]], ["copy", "n"]]}
    gen, ref = dtl.compile(rules), dtl.compile(rules, backend="closure")
    assert "S[k0]" in gen.apply.__dtl_source__
    batch = [{"_id": "a", "n": 1}, {"n": 2}, {"_id": None}, {"_id": "b"}]
    for e in batch:
        assert gen.apply(dict(e)) == ref.apply(dict(e))
    assert [list(t) for t in gen.apply({"n": 2})] == [["v", "n"]]
    _loops_agree(gen, ref, batch)


def test_string_constants_are_interned():
    """Parsed entities' keys are interned; the generated code's keys must be the same objects
    for dict lookups to match by identity (a text built at run time is not interned)."""
    name = "".join(["act", "ive"])
    t = dtl.compile({"default": [["add", name, ["eq", "_S." + name, True]]]})
    ks = [k for k in t.apply.__globals__["K"] if type(k) is str]
    assert "active" in ks and all(sys.intern(k) is k for k in ks)
