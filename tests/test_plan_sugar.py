"""The plan's ``sugar`` pass (dtl.ir.sugar): `case` becomes nested `if`s, with the spans of
what it replaces and every argument node kept; a program without sugar is kept as it is."""

import dtl
from dtl.ir.nodes import Call, HopsSpec, TransformList, walk
from dtl.ir.printer import to_json
from dtl.ir.sugar import desugar
from dtl.plan import build

HOPS = ["hops", {"datasets": ["orders o"], "where": ["eq", "_S._id", "o.c"]}]
HOPS_IR = ["hops", {"datasets": ["orders o"], "where": [["eq", "_S._id", "o.c"]]}]  # printed


def _lowered_and_sugared(doc):
    low = build(doc, after="lower").programs[0]
    return low, desugar(low)


def test_a_program_without_sugar_is_the_same_object():
    low, sug = _lowered_and_sugared({"default": [["copy", "_id"], ["add", "n", HOPS]]})
    assert sug is low


def test_case_becomes_nested_ifs():
    doc = {"default": [["add", "s", ["case", ["eq", "_S.a", 1], "one", ["eq", "_S.a", 2], HOPS,
                                     "other"]],
                       ["case", ["eq", "_S.a", 1], ["add", "x", 1], ["eq", "_S.a", 2],
                        ["add", "x", 2]]]}
    low, sug = _lowered_and_sugared(doc)
    assert to_json(sug)["default"] == [
        ["add", "s", ["if", ["eq", "_S.a", 1], "one", ["if", ["eq", "_S.a", 2], HOPS_IR, "other"]]],
        ["if", ["eq", "_S.a", 1], [["add", "x", 1]],
         [["if", ["eq", "_S.a", 2], [["add", "x", 2]]]]]]
    case_e = low.rules[0].transforms[0].args[1]
    if_e, if_t = sug.rules[0].transforms[0].args[1], sug.rules[0].transforms[1]
    assert if_e.span == case_e.span and if_e.args[0] is case_e.args[0]
    assert if_t.span == low.rules[0].transforms[1].span and isinstance(if_t.args[2], TransformList)
    # the hops spec inside a branch is the lowered node itself, and the plan has its join plan
    spec = next(n for n in walk(sug) if isinstance(n, HopsSpec))
    assert spec in [n for n in walk(low) if isinstance(n, HopsSpec)]
    plan = build(doc).programs[0]
    assert [h.spec.span for h in plan.hops] == [spec.span]
    assert all(not (isinstance(n, Call) and n.name == "case") for n in walk(sug))


def test_explain_shows_case_as_written_and_runs_it_as_generated_code():
    doc = {"default": [["add", "s", ["case", ["eq", "_S.a", 1], "one", "other"]]]}
    plan = dtl.compile(doc).plan
    assert plan.labels(0)["default"] == ["pysource"]
    from dtl.ir.explain import analyse
    a = analyse(plan)
    assert "case" in a["rules"][0]["transforms"][0]["text"]
    assert {f["name"] for f in a["functions"]} == {"add", "case", "eq"}
