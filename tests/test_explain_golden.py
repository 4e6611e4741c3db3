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


AFTER = [(c, p) for c in CASES for p in ("lower", "sugar", "check")]


@pytest.mark.parametrize("fmt,suffix", [("text", ".txt"), ("json", ".explain.json")])
@pytest.mark.parametrize("case,after", AFTER, ids=[f"{c.stem}-{p}" for c, p in AFTER])
def test_explain_after_a_pass(case, after, fmt, suffix, monkeypatch):
    """`dtl explain --after PASS`: the IR as that pass left it (hops plans once checked)."""
    monkeypatch.chdir(HERE)
    res = CliRunner().invoke(main, ["explain", str(case.relative_to(HERE)), "--after", after,
                                    "--format", fmt])
    assert res.exit_code == 0, res.output
    golden = case.with_name(f"{case.stem}.after-{after}{suffix}")
    if os.environ.get("DTL_UPDATE_GOLDEN"):
        golden.write_text(res.output)
    assert res.output == golden.read_text()


def test_explain_after_the_last_pass_is_the_plan(monkeypatch):
    from dtl.plan import PASS_NAMES
    from cli.commands import dtl_cmds
    assert dtl_cmds.PASS_NAMES == PASS_NAMES
    monkeypatch.chdir(HERE)
    rel = str(CASES[0].relative_to(HERE))
    full = CliRunner().invoke(main, ["explain", rel])
    last = CliRunner().invoke(main, ["explain", rel, "--after", PASS_NAMES[-1]])
    assert (last.exit_code, last.output) == (0, full.output)


def test_explain_after_lower_shows_what_check_refuses(monkeypatch):
    monkeypatch.chdir(HERE)
    rel = "golden/errors/hops-join.json"
    low = CliRunner().invoke(main, ["explain", rel, "--after", "lower"])
    assert low.exit_code == 0 and "after pass lower" in low.output and "hops @" not in low.output
    chk = CliRunner().invoke(main, ["explain", rel, "--after", "check"])
    assert chk.exit_code == 1 and "error[hops-join]" in chk.output
