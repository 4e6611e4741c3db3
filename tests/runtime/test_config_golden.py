"""Golden renderings of configuration errors (tests/golden/config/<case> -> <case>.txt).

Each case is a configuration folder or a JSON array file. Set DTL_UPDATE_GOLDEN=1 to rewrite the
.txt files after an intended change.
"""

import os
from pathlib import Path

import pytest

from runtime.config import ConfigError, load_config

GOLDEN = Path(__file__).parent.parent / "golden" / "config"
CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir() or p.suffix == ".json")


def _render(case: Path) -> str:
    try:
        cfg = load_config(case)
    except ConfigError as e:
        return e.render() + "\n"
    return cfg.render_warnings() + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_config_errors(case):
    got = _render(case)
    golden = case.with_suffix(".txt") if case.is_file() else case.parent / f"{case.name}.txt"
    if os.environ.get("DTL_UPDATE_GOLDEN"):
        golden.write_text(got)
    assert got == golden.read_text()


def test_goldens_cover_the_checks():
    codes = set()
    for case in CASES:
        try:
            cfg = load_config(case)
            codes.update(d.code for d in cfg.warnings)
        except ConfigError as e:
            codes.update(d.code for d in e.diagnostics + e.warnings)
    assert {"unknown-property", "wrong-type", "missing-property", "invalid-value", "unknown-type",
            "unknown-system", "wrong-system", "duplicate-id", "unknown-function", "dataset-cycle",
            "hops-cycle", "duplicate-sink", "unknown-env", "unknown-secret", "secret-not-allowed",
            "bad-reference", "no-alternative", "conditional-not-allowed", "json-syntax",
            "conflict"} <= codes


def test_several_files_at_once():
    with pytest.raises(ConfigError) as info:
        load_config(GOLDEN / "several-files")
    files = {d.span.file for d in info.value.diagnostics}
    assert files == {"pipes/a.conf.json", "pipes/b.conf.json", "pipes/broken.conf.json",
                     "systems/db.conf.json"}
    assert all(d.span.line and d.span.column for d in info.value.diagnostics)
