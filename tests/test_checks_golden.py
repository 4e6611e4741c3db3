"""Golden tests: the exact message of every static check (tests/golden/errors/*.json -> .txt).

Set DTL_UPDATE_GOLDEN=1 to rewrite the .txt files after an intended change.
"""

import os
from pathlib import Path

import pytest

import dtl

HERE = Path(__file__).parent
CASES = sorted((HERE / "golden" / "errors").glob("*.json"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_error_message(case, monkeypatch):
    monkeypatch.chdir(HERE)
    rel = str(case.relative_to(HERE))
    with pytest.raises(dtl.DTLSyntaxError) as info:
        dtl.compile(case.read_text(), file=rel)
    got = info.value.render() + "\n"
    golden = case.with_suffix(".txt")
    if os.environ.get("DTL_UPDATE_GOLDEN"):
        golden.write_text(got)
    assert got == golden.read_text()


def test_every_check_has_a_golden_case():
    codes = set()
    for case in CASES:
        try:
            dtl.compile(case.read_text(), file=case.name)
        except dtl.DTLSyntaxError as e:
            codes.update(d.code for d in e.diagnostics)
    assert {"unknown-function", "arity", "argument-kind", "unknown-rule", "p-outside-apply",
            "undeclared-alias", "hops-key", "no-default", "json-syntax", "path-syntax",
            "transit", "hops-join"} <= codes


def test_errors_carry_positions():
    with pytest.raises(dtl.DTLCompileError) as info:
        dtl.compile('{"default": [["ad", "x", 1]]}', file="f.json")
    d = info.value.diagnostics[0]
    assert (d.span.file, d.span.line, d.span.column) == ("f.json", 1, 15)
    assert d.span.pointer == "/default/0/0"


def test_python_objects_get_json_pointers():
    with pytest.raises(dtl.DTLCompileError) as info:
        dtl.compile({"default": [["copy", "_id"], ["ad", "x", 1]]})
    assert info.value.diagnostics[0].span.pointer == "/default/1/0"
    assert "#/default/1/0" in str(info.value)
