"""One plan per dtl transform: lowered once per load, read by the runtime; run-time DTL errors
of a pipe carry file:line:col of the rules in the configuration file."""

import json
import os
import re

import pytest
from click.testing import CliRunner


def _write(root, pipes):
    os.makedirs(os.path.join(root, "pipes"), exist_ok=True)
    for p in pipes:
        with open(os.path.join(root, "pipes", p["_id"] + ".conf.json"), "w") as f:
            f.write(json.dumps(p, indent=2))
    return root


def _embedded(pid, entities, transform=None):
    p = {"_id": pid, "type": "pipe", "source": {"type": "embedded", "entities": entities}}
    if transform is not None:
        p["transform"] = transform
    return p


def _dtl(rules):
    return {"type": "dtl", "rules": rules}


PIPES = [
    _embedded("a", [{"_id": "1", "n": 1}], _dtl({"default": [["copy", "*"], ["add", "m", 2]]})),
    _embedded("b", [{"_id": "2", "n": 2}], [
        _dtl({"default": [["copy", "*"]]}),
        _dtl({"default": [["copy", "*"], ["add", "k", ["plus", "_S.n", 1]]]})]),
    {"_id": "c", "type": "pipe", "source": {"type": "dataset", "dataset": "a"},
     "transform": _dtl({"default": [["copy", "*"], ["add", "o", ["hops", {
         "datasets": ["b b"], "where": ["eq", "_S._id", "b._id"]}]]]})},
]


@pytest.mark.parametrize("backend", ["auto", "closure", "vector"])
def test_one_lowering_per_dtl_transform_per_load(tmp_path, monkeypatch, backend):
    from dtl.ir.lower import Lowerer
    from runtime.config import load_config
    from runtime.hub import Hub
    calls = []
    real = Lowerer.program

    def counting(self, node):
        calls.append(node.span)
        return real(self, node)
    monkeypatch.setattr(Lowerer, "program", counting)
    cfg = load_config(_write(str(tmp_path / "cfg"), PIPES))
    assert len(calls) == 4          # a: 1, b: 2 chained, c: 1
    plans = [t.plan for p in cfg.pipes.values() for t in p.transforms]
    assert all(pl is not None and pl.text for pl in plans)
    hub = Hub(cfg, str(tmp_path / "data"), backend=backend)
    try:
        s = hub.run()
        assert s.ok, s
        assert hub.output("c")[0]["o"] == []
        assert hub.output("b")[0]["k"] == 3
    finally:
        hub.close()
    assert len(calls) == 4          # running the pipes compiled their plans, lowering nothing


RANGE = _embedded("p", [{"_id": "x"}], _dtl({"default": [["copy", "*"],
                                                        ["add", "r", ["range", 1, 5, 0]]]}))


def _range_position(cfg_dir):
    """Where `["range", 1, 5, 0]` starts in the written file: (line, column) of the call."""
    text = open(os.path.join(cfg_dir, "pipes", "p.conf.json")).read()
    i = text.index('"range"')
    i = text.rindex("[", 0, i)
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, col


@pytest.mark.parametrize("backend", ["auto", "closure", "vector"])
def test_run_time_error_carries_file_line_col(tmp_path, monkeypatch, backend):
    from runtime.config import load_config
    from runtime.hub import Hub
    cfg_dir = _write(str(tmp_path / "cfg"), [RANGE])
    line, col = _range_position(cfg_dir)
    hub = Hub(load_config(cfg_dir), str(tmp_path / "data"), keep_going=True, backend=backend)
    try:
        hub.run()
        errs = hub.execution_log("p", "write-error")
    finally:
        hub.close()
    assert len(errs) == 1
    msg = errs[0]["original_error_message"]
    assert f"pipes/p.conf.json:{line}:{col}" in msg, msg
    assert "#/default" not in msg


def test_dtl_run_prints_the_position_of_a_run_time_error(tmp_path):
    from cli.main import main
    cfg_dir = _write(str(tmp_path / "cfg"), [RANGE])
    line, col = _range_position(cfg_dir)
    res = CliRunner().invoke(main, ["run", cfg_dir, "--data", str(tmp_path / "data"),
                                    "--keep-going"])
    assert res.exit_code in (0, 3), res.output
    found = re.findall(r"pipes/p\.conf\.json:(\d+):(\d+)", res.output)
    assert (str(line), str(col)) in found, res.output
