"""`dtl config validate` reports exactly what `dtl compile` reports for the same rules: for
every golden error case, a pipe holding those rules (verbatim, so positions match) gets the
same diagnostics from both, in text and in JSON."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main

HERE = Path(__file__).parent
CASES = sorted((HERE / "golden" / "errors").glob("*.json"))


def _pipe_dir(tmp_path, case: Path) -> Path:
    root = tmp_path / "cfg"
    (root / "pipes").mkdir(parents=True)
    (root / "pipes" / "p.conf.json").write_text(
        '{"_id": "p", "type": "pipe", "source": {"type": "embedded", "entities": []},\n'
        ' "transform": {"type": "dtl", "rules": ' + case.read_text() + '}}\n')
    return root


def _run(args, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    res = CliRunner().invoke(main, args)
    return res.exit_code, res.stdout, res.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_validate_prints_what_compile_prints(case, tmp_path, monkeypatch):
    root = _pipe_dir(tmp_path, case)
    code_c, _, err_c = _run(["compile", "pipes/p.conf.json"], root, monkeypatch)
    code_v, out_v, err_v = _run(["config", "validate", "."], root, monkeypatch)
    assert code_c == code_v == 1
    assert err_c.strip(), "the golden case must fail to compile"
    assert err_v == err_c
    assert "ok:" not in out_v


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_validate_json_has_the_diagnostics_of_compile(case, tmp_path, monkeypatch):
    root = _pipe_dir(tmp_path, case)
    _, out_c, _ = _run(["compile", "pipes/p.conf.json", "--format", "json"], root, monkeypatch)
    _, out_v, _ = _run(["config", "validate", ".", "--format", "json"], root, monkeypatch)
    compiled, validated = json.loads(out_c), json.loads(out_v)
    assert compiled["errors"], case
    assert validated["errors"] == compiled["errors"]
