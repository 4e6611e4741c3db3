"""The generated-source backend: user strings never become code, and it agrees with closures."""

import json

import pytest
from hypothesis import given, strategies as st

import dtl
from dtl import transit
from dtl.conformance import load_cases, values_equal
from tests.corpus import CORPUS

MARK = "\u2603Q"  # cannot occur in source text we generate ourselves
user_text = st.text(max_size=12).map(lambda s: MARK + s)
code_like = st.sampled_from(['"); import os; os.system("x") #', "__import__('os')", "k0", "T[k0]",
                             "\\", "'", '"', "\n", "lambda: 1", "{}", "S.get"]).map(
    lambda s: MARK + s)
strings = user_text | code_like


def _sources(t):
    """Every generated function of a transform: rule functions and the entry points."""
    entry = [f for f in (t.apply, *t.loops.values()) if hasattr(f, "__dtl_source__")]
    return [f.__dtl_source__ for ctx, _, _ in t.stages for f in ctx.fast_rules.values()] + \
        [f.__dtl_source__ for f in entry]


@given(strings, strings, strings, strings)
def test_user_strings_never_reach_the_source(prop, value, element, rule):
    rules = {
        "default": [
            ["add", prop, value],
            ["add", "p", f"_S.'{element.replace(chr(39), chr(39) * 2)}'"],
            ["default", value, ["concat", value, prop]],
            ["copy", element],
            ["add", "r", ["apply", rule, "_S.kids"]],
            ["if", ["eq", "_S.x", value], ["add", element, prop], ["remove", prop]],
            ["add", "s", ["sum", f"_S.kids.'{element.replace(chr(39), chr(39) * 2)}'"]],
            ["add", "o", ["sorted", f"_S.kids.'{value.replace(chr(39), chr(39) * 2)}'"]],
            ["add", "c", ["concat", value, ["first", ["split", prop, "_S.x"]], element]],
            ["add", "q", ["eq", "_S.x", value]],
        ],
        rule: [["add", prop, "_S."]],
    }
    t = dtl.compile(rules)
    for src in _sources(t):
        assert MARK not in src
    # without the closure (`apply`), the entry points are generated too
    plain = dtl.compile({"default": [r for r in rules["default"] if r[1:2] != ["r"]]})
    assert len(_sources(plain)) == (1 if plain.stages[0][2].needs_env else 4)
    for src in _sources(plain):
        assert MARK not in src
    src_entity = {element: value, "x": value, "kids": [1, 2]}
    closure = dtl.compile(rules, backend="closure")
    assert t.apply(dict(src_entity)) == closure.apply(dict(src_entity))


def test_backends_agree_on_the_transform_corpus():
    compared = 0
    for case in load_cases(str(CORPUS)):
        if case["kind"] != "transform" or "sleep!" in json.dumps(case["rules"]):
            continue
        datasets = {k: transit.decode(v) for k, v in (case.get("datasets") or {}).items()}
        out = {}
        for backend in ("auto", "closure"):
            try:
                t = dtl.compile({"type": "dtl", "rules": case["rules"]}, backend=backend,
                                options=case.get("options"), datasets=datasets)
                out[backend] = ("ok", t.apply(transit.decode(case["source"])))
            except dtl.DTLError as e:
                out[backend] = ("error", type(e).__name__)
        if out["auto"][0] == "ok" and out["closure"][0] == "ok":
            assert values_equal(out["auto"][1], out["closure"][1]), case["id"]
        else:
            assert out["auto"] == out["closure"], case["id"]
        compared += 1
    assert compared > 80


def test_fast_path_errors_are_positioned_like_closures():
    t = dtl.compile('{"default": [["add", "x", ["range", 1, 5, 0]]]}', file="r.json")
    with pytest.raises(dtl.DTLRuntimeError) as info:
        t.apply({"_id": "a"})
    assert "r.json:1:27" in str(info.value) and "'a'" in str(info.value)


def test_non_dict_sources_use_the_slow_path():
    t = dtl.compile({"default": [["add", "xs", ["apply", "r", "_S.xs"]]],
                     "r": [["add", "v", "_S."], ["add", "w", "_S.a"]]})
    assert t.apply({"xs": [1, {"a": 2}]}) == [{"xs": [{"v": 1, "w": None},
                                                     {"v": {"a": 2}, "w": 2}]}]


from hypothesis import given as _given, strategies as _st  # noqa: E402

_nums = _st.one_of(_st.none(), _st.booleans(), _st.integers(-10**20, 10**20),
                   _st.floats(allow_nan=False), _st.text(max_size=3),
                   _st.lists(_st.integers(-5, 5), max_size=2))


@_given(_st.sampled_from(["+", "-", "*", "plus", "minus", "multiply", "eq", "gte", "lt"]),
        _nums, _nums)
def test_inline_templates_agree_with_the_functions(op, a, b):
    rules = {"default": [["add", "r", [op, "_S.a", "_S.b"]]]}
    src = {"a": a, "b": b}
    fast = dtl.compile(rules).apply(dict(src))
    slow = dtl.compile(rules, backend="closure").apply(dict(src))
    assert fast == slow


def test_parameter_names_are_never_taken_from_a_freed_spec():
    # the closure compiler caches a spec's impl parameters by id(spec); an entry left by a
    # spec that was freed, at the address a new spec now has, must not be used (it once made
    # a full suite bind ["split", X] with X as SEPARATOR)
    import dataclasses

    from dtl.backends.closure import compiler
    from dtl.functions.registry import REGISTRY
    split = REGISTRY.get("split", "expression")

    def other(a, b, c):
        return None
    stale = dataclasses.replace(split, impl=other)
    compiler._PARAM_CACHE[id(split)] = (stale, [("a", False), ("b", False), ("c", False)])
    assert [n for n, _ in compiler._py_params(split)] == ["separator", "values"]
    assert dtl.evaluate(["split", "a  b\tc "], {}) == ["a", "b", "c"]
