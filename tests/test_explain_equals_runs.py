"""`dtl explain` says what the compiled transform runs: for every option set the tests use and
every backend, each rule's backend in the explanation (one entity: generated or closure; a
batch of entities: vector or rows; Arrow batches) is the one the compiled Transform holds."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import dtl
from cli.main import main
from dtl.backends.vector.runner import columnar_stage
from dtl.ir.explain import render_json
from tests.corpus import CORPUS

HERE = Path(__file__).parent

OPTION_SETS = {
    "plain": {},
    "namespaced": {"namespaced_identifiers": True,
                   "namespaces": {"identity": "foo", "property": "bar"}},
    "namespaced-p": {"namespaced_identifiers": True,
                     "namespaces": {"identity": "p", "property": "p"}},
}
BACKENDS = ("auto", "closure", "vector")

JOIN = {"default": [["copy", "_id"], ["add", "n", ["count", ["hops", {
    "datasets": ["orders o"], "where": ["eq", "_S._id", "o.p"]}]]]]}
CHAINED = {"transform": [
    {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "n", 1]]}},
    {"type": "dtl", "rules": JOIN}]}


def _docs():
    """Rule documents: the explain goldens, a few shapes, the corpus's transforms and its
    expressions inside an `add`."""
    out = {c.stem: json.loads(c.read_text()) for c in sorted((HERE / "golden" / "explain").glob("*.json"))
           if not c.name.endswith(".explain.json")}
    out.update({"join": JOIN, "chained": CHAINED, "empty": {"default": []},
                "plain-map": {"default": [["copy", "_id"], ["add", "x", ["upper", "_S.n"]]]}})
    for line in CORPUS.read_text().splitlines():
        case = json.loads(line)
        if "expected_error" in case:
            continue
        if case["kind"] == "transform":
            out[case["id"]] = case["rules"]
        else:
            out[case["id"]] = {"default": [["copy", "_id"], ["add", "v", case["expr"]]]}
    return out


DOCS = _docs()


def _runs(t) -> list[dict]:
    """What a compiled Transform holds, per program: rule -> how one entity runs, and how
    batches of dicts and Arrow batches run."""
    out = []
    for i, (ctx, _, _) in enumerate(t.stages):
        rules = {name: ("generated" if name in ctx.fast_rules else "closure")
                 for name in ctx.rules}
        out.append({"rules": rules, "batches": "vector" if t._columnar(i) else "rows"})
    return out


def _said(t) -> list[dict]:
    said = render_json(t.plan)
    out = []
    for prog in said["transforms"]:
        rules = {r["name"]: r["entity"] for r in prog["rules"]}
        batches = next(r["batches"] for r in prog["rules"] if "batches" in r)
        out.append({"rules": rules, "batches": batches, "labels": prog["rules"]})
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("opts", list(OPTION_SETS), ids=list(OPTION_SETS))
def test_explained_backend_is_the_compiled_one(opts, backend):
    checked = 0
    for name, doc in DOCS.items():
        try:
            t = dtl.compile(doc, options=OPTION_SETS[opts], backend=backend)
        except dtl.DTLCompileError:
            continue
        said, runs = _said(t), _runs(t)
        assert [{k: v for k, v in s.items() if k != "labels"} for s in said] == runs, name
        for i, s in enumerate(said):
            default = next(r for r in s["labels"] if r["name"] == "default")
            labels = [x["backend"] for x in default["transforms"]]
            ctx = t.stages[i][0]
            if backend == "vector":
                # a rule is columnar exactly when no transform is explained per entity
                assert (runs[i]["batches"] == "vector") == \
                    (not any(x.startswith("closure per entity") for x in labels)), name
            elif backend == "auto":
                # the generated code calls closures exactly where explain says so
                fast = ctx.fast_rules["default"]
                assert fast.needs_env == any("closure" in x.split("; batches")[0]
                                             for x in labels), (name, labels)
            else:
                assert set(labels) <= {"closure"}, name
        if len(t.stages) == 1:
            arrow = t.plan.programs[0].arrow if backend != "closure" else "rows"
            assert (columnar_stage(t) is not None) == (arrow == "vector"), name
        checked += 1
    assert checked > 500


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("opts", list(OPTION_SETS), ids=list(OPTION_SETS))
def test_cli_explain_prints_the_plan_it_compiles(opts, backend, tmp_path):
    f = tmp_path / "join.json"
    f.write_text(json.dumps(CHAINED))
    res = CliRunner().invoke(main, ["explain", str(f), "--format", "json", "--backend", backend,
                                    "--options", json.dumps(OPTION_SETS[opts])])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    t = dtl.compile(f.read_text(), file=str(f), options=OPTION_SETS[opts], backend=backend)
    assert got == render_json(t.plan)
    assert got["backend"] == backend and got["options"] == OPTION_SETS[opts]
    assert [p["batches"] for p in _said(t)] == [p["batches"] for p in _runs(t)]


def test_namespaced_options_are_explained_as_compiled():
    # add/copy on namespaced identifiers run as closures: explain must not say [vector]
    doc = {"default": [["copy", "_id"], ["add", "x", 1]]}
    ns = OPTION_SETS["namespaced"]
    t = dtl.compile(doc, options=ns, backend="vector")
    assert t.vector[0].run is None and not t.batched
    text = CliRunner().invoke(main, ["explain", "-", "--backend", "vector", "--options",
                                     json.dumps(ns)], input=json.dumps(doc)).output
    assert "[vector]" not in text and "namespaced identifiers" in text
    assert "batches: rows" in text
    plain = CliRunner().invoke(main, ["explain", "-", "--backend", "vector"],
                               input=json.dumps(doc)).output
    assert "[vector]" in plain and "batches: vector" in plain
