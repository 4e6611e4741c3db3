"""The `dtl` command, run as a real process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DTL = [sys.executable, "-m", "cli.main"]


def dtl(*args, input=None):
    return subprocess.run([*DTL, *args], input=input, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def rules(tmp_path):
    p = tmp_path / "rules.json"
    p.write_text(json.dumps({"default": [["copy", "_id"], ["add", "n", ["upper", "_S.name"]],
                                         ["if", ["eq", "_S.bad", True], ["fail!", "bad entity"]]]}))
    return p


def test_compile_ok_prints_nothing(rules):
    r = dtl("compile", str(rules))
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_compile_errors_exit_1_with_positions(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"default": [\n  ["ad", "x", 1]\n]}')
    r = dtl("compile", str(p))
    assert r.returncode == 1
    assert f"{p}:2:4: error[unknown-function]" in r.stderr
    assert "did you mean 'add'?" in r.stderr
    r = dtl("compile", str(p), "--format", "json")
    assert r.returncode == 1
    err = json.loads(r.stdout)["errors"][0]
    assert (err["line"], err["column"], err["code"]) == (2, 4, "unknown-function")


def test_compile_missing_file_is_an_io_error():
    r = dtl("compile", "/nonexistent/rules.json")
    assert r.returncode == 4 and "cannot read" in r.stderr


def test_eval_prints_transit_json():
    r = dtl("eval", '["upper", "_S.name"]', "--source", '{"name": "ann"}')
    assert (r.returncode, r.stdout.strip()) == (0, '"ANN"')
    r = dtl("eval", "_S.d", "-s", '{"d": "~t2020-01-01T00:00:00.000000001Z"}')
    assert r.stdout.strip() == '"~t2020-01-01T00:00:00.000000001Z"'


def test_transform_streams_and_reports_failing_entities(rules):
    lines = [{"_id": "a", "name": "x"}, {"_id": "b", "bad": True}, {"_id": "c", "name": "z"}]
    inp = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    r = dtl("transform", str(rules), "-", input=inp)
    assert r.returncode == 3
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert out == [{"_id": "a", "n": "X"}, {"_id": "c", "n": "Z"}]
    errs = [json.loads(x) for x in r.stderr.splitlines()]
    assert errs[0]["_id"] == "b" and "bad entity" in errs[0]["error"]
    assert errs[1]["line"] == 4 and "invalid JSON" in errs[1]["error"]


@pytest.mark.parametrize("fail_fast", [False, True])
def test_transform_vector_batches_match_closure(tmp_path, fail_fast):
    # the vector CLI runs batches through apply_batch; a batch that raises is rerun entity by
    # entity, so output and error lines must equal the closure backend's, line for line
    rules = tmp_path / "r.json"
    rules.write_text(json.dumps({"default": [
        ["filter", ["not", ["eq", "_S.skip", True]]],
        ["copy", "_id"], ["add", "n", ["upper", "_S.name"]], ["add", "a", ["plus", 1, "_S.age"]],
        ["add", "t", ["count", "_S.tags"]],
        ["if", ["eq", "_S.bad", True], ["fail!", "bad entity"]]]}))
    lines = [json.dumps({"_id": f"p{i}", "name": f"x{i}", "age": i, "tags": ["a"] * (i % 3),
                         "skip": i % 7 == 0}) for i in range(50)]
    lines[20] = json.dumps({"_id": "bad", "name": "b", "bad": True})
    lines[30] = "not json"
    inp = tmp_path / "in.ndjson"
    inp.write_text("\n".join(lines) + "\n")
    flags = ["--fail-fast"] if fail_fast else []
    runs = {b: dtl("transform", str(rules), str(inp), "--backend", b, *flags)
            for b in ("closure", "vector")}
    c, v = runs["closure"], runs["vector"]
    assert c.returncode == v.returncode == 3
    assert v.stdout == c.stdout and v.stderr == c.stderr
    errs = [json.loads(x) for x in v.stderr.splitlines()]
    assert errs[0]["_id"] == "bad" and "bad entity" in errs[0]["error"]
    if fail_fast:
        assert len(errs) == 1 and len(v.stdout.splitlines()) == 20 - 3  # p0, p7, p14 skipped
    else:
        assert errs[1]["line"] == 31 and len(v.stdout.splitlines()) == 50 - 8 - 2


def test_transform_vector_columnar_batch(tmp_path):
    # no failure: the whole file is one columnar batch, same output as the closure backend
    rules = tmp_path / "r.json"
    rules.write_text(json.dumps({"default": [
        ["filter", ["not", ["eq", "_S.skip", True]]], ["copy", "_id"],
        ["add", "n", ["upper", "_S.name"]], ["add", "a", ["plus", 1, "_S.age"]],
        ["add", "t", ["count", "_S.tags"]]]}))
    lines = [json.dumps({"_id": f"p{i}", "name": f"x{i}", "age": i if i % 5 else None,
                         "tags": ["a"] * (i % 3), "skip": i % 7 == 0}) for i in range(50)]
    inp = "\n".join(lines) + "\n\nnot json\n"
    c, v = (dtl("transform", str(rules), "-", "--backend", b, input=inp)
            for b in ("closure", "vector"))
    assert c.returncode == v.returncode == 3
    assert (v.stdout, v.stderr) == (c.stdout, c.stderr)
    assert len(v.stdout.splitlines()) == 50 - 8 and json.loads(v.stderr)["line"] == 52


def test_transform_with_datasets_folder(tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "orders.ndjson").write_text(
        '{"_id": "o1", "c": "a", "n": 1}\n{"_id": "o2", "c": "a", "n": 2}\n')
    rules = tmp_path / "r.json"
    rules.write_text(json.dumps({"default": [["copy", "_id"], ["add", "n", ["sorted", [
        "hops", {"datasets": ["orders o"], "where": ["eq", "_S._id", "o.c"], "return": "o.n"}]]]]}))
    r = dtl("transform", str(rules), "-", "--datasets", str(tmp_path / "ds"), input='{"_id": "a"}')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"_id": "a", "n": [1, 2]}


def test_explain_lists_functions_with_summaries(rules):
    r = dtl("explain", str(rules))
    assert r.returncode == 0
    assert "upper" in r.stdout and "reads _S: _id, bad, name" in r.stdout


def test_help_explains_every_command():
    r = dtl("--help")
    for cmd in ("compile", "explain", "eval", "transform", "conformance", "functions"):
        assert cmd in r.stdout
