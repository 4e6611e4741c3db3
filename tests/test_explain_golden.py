"""Golden tests of `dtl explain` (text and JSON). DTL_UPDATE_GOLDEN=1 rewrites them."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main

HERE = Path(__file__).parent
CASES = sorted(c for c in (HERE / "golden" / "explain").glob("*.json")
               if not c.name.endswith(".explain.json"))


@pytest.mark.parametrize("fmt,suffix", [("text", ".txt"), ("json", ".explain.json")])
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_explain(case, fmt, suffix, monkeypatch):
    monkeypatch.chdir(HERE)
    rel = str(case.relative_to(HERE))
    res = CliRunner().invoke(main, ["explain", rel, "--format", fmt])
    assert res.exit_code == 0, res.output
    golden = case.with_name(case.stem + suffix)
    if os.environ.get("DTL_UPDATE_GOLDEN"):
        golden.write_text(res.output)
    assert res.output == golden.read_text()
    if fmt == "json":
        plan = json.loads(res.output)
        for t in plan["transforms"]:
            for f in t["functions"]:
                assert f["summary"], f  # every summary comes from the registry
