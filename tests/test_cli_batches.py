"""`dtl transform` asks the compiled transform whether batches pay (Transform.batched): on
auto a rule with a columnar hops join runs as batches, a plain map entity by entity (batches
of one, streaming)."""

import json

import pytest
from click.testing import CliRunner

import dtl
from cli.main import main

JOIN = {"default": [["copy", "_id"], ["add", "n", ["count", ["hops", {
    "datasets": ["orders o"], "where": ["eq", "_S._id", "o.c"]}]]],
    ["add", "r", ["range", 0, 2, ["if", ["eq", "_S._id", "bad"], 0, 1]]]]}
PLAIN = {"default": [["copy", "_id"], ["add", "n", ["upper", "_S._id"]]]}


def _transform(tmp_path, rules, orders, ids):
    """`dtl transform` of entities with these _ids, hops into `orders` (c -> customer)."""
    f = tmp_path / "r.json"
    f.write_text(json.dumps(rules))
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "orders.ndjson").write_text(
        "".join(json.dumps({"_id": f"o{i}", "c": c}) + "\n" for i, c in enumerate(orders)))
    inp = "".join(json.dumps({"_id": i}) + "\n" for i in ids)
    return CliRunner().invoke(main, ["transform", str(f), "-", "--datasets", str(tmp_path / "ds")],
                              input=inp)


@pytest.mark.parametrize("rules,batched", [(JOIN, True), (PLAIN, False)])
def test_transform_batches_when_the_transform_says_so(tmp_path, monkeypatch, rules, batched):
    calls = []
    real = dtl.Transform.apply_each
    monkeypatch.setattr(dtl.Transform, "apply_each",
                        lambda self, ents, **kw: calls.append(len(ents)) or real(self, ents, **kw))
    res = _transform(tmp_path, rules, ["a", "a"], ["a", "b", "c"])
    assert res.exit_code == 0, res.output
    assert calls == ([3] if batched else [1, 1, 1])
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert [o["_id"] for o in out] == ["a", "b", "c"]
    if batched:
        assert [o["n"] for o in out] == [2, 0, 0]


def test_a_failing_entity_in_a_batch_is_named_and_the_others_come_out(tmp_path):
    res = _transform(tmp_path, JOIN, ["a"], ["a", "bad", "c"])
    assert res.exit_code == 3
    assert [json.loads(x)["_id"] for x in res.stdout.splitlines()] == ["a", "c"]
    err = json.loads(res.stderr)
    assert err["_id"] == "bad" and err["line"] == 2 and "STEP cannot be 0" in err["error"]
