"""The Preview API the Studio uses equals `dtl transform` on the documentation's transform
cases that need no datasets (tests/conformance), run as an unsaved pipe of the node."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.corpus import CORPUS


def _cases():
    out = []
    for line in CORPUS.read_text().splitlines():
        c = json.loads(line)
        if c["kind"] == "transform" and not c.get("datasets") and isinstance(c.get("source"), dict):
            out.append(c)
    return out


def _dtl_transform(tmp_path, rules, entity):
    from cli.main import main as cli
    f = tmp_path / "rules.json"
    f.write_text(json.dumps(rules))
    r = CliRunner().invoke(cli, ["transform", str(f), "-"], input=json.dumps(entity))
    return r.exit_code, [json.loads(x) for x in r.output.splitlines() if x.startswith("{")]


def test_preview_equals_dtl_transform_on_the_corpus(admin, tmp_path):
    cases = _cases()
    assert cases
    compared, mismatches = 0, []
    for c in cases:
        src = dict(c["source"])
        src.setdefault("_id", "e1")
        cfg = {"_id": "preview-case", "type": "pipe",
               "source": {"type": "embedded", "entities": [src]},
               "transform": {"type": "dtl", "rules": c["rules"], "id_required": False}}
        r = admin.post("/pipes/preview-case/preview", json={"config": cfg, "entity": src})
        assert r.status_code == 200, (c["id"], r.text)
        got = r.json()
        code, want = _dtl_transform(tmp_path, c["rules"], src)
        if code != 0 or got["errors"]:
            # a failing entity fails both ways
            assert bool(got["errors"]) == (code != 0 or not want), (c["id"], got["errors"], code)
            continue
        compared += 1
        # a pipe keeps a filtered entity as a `_filtered` marker (its sink deletes it);
        # `dtl transform` drops it: the rest must be equal
        shown = [e for e in got["after_transforms"] if not e.get("_filtered")]
        # and a pipe's output without an `_id` (unset or null) keeps the source entity's
        want = [{**w, "_id": src["_id"]} if w.get("_id") is None else w for w in want]
        if shown != want:
            mismatches.append((c["id"], shown, want))
    assert mismatches == []
    assert compared >= 80, compared


def test_preview_positions_errors_of_unsaved_config(admin):
    text = json.dumps({"_id": "p-new", "type": "pipe", "source": {"type": "embedded",
                       "entities": [{"_id": "a"}]}, "transform": {"type": "dtl", "rules": {
                       "default": [["add", "x", ["nosuch", 1]]]}}}, indent=2)
    r = admin.post("/pipes/p-new/preview", json={"config": text})
    errs = r.json()["errors"]
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "nosuch" in ln)
    assert [e["line"] for e in errs] == [line] and errs[0]["code"] == "unknown-function"
    assert admin.get("/pipes/p-new").status_code == 404          # nothing saved


def test_preview_of_a_saved_pipe_reads_its_first_source_entity(admin):
    r = admin.post("/pipes/people/preview", json={})
    d = r.json()
    assert r.status_code == 200 and d["source_entity"] is not None, d
    assert d["after_transforms"] and not d["errors"]
