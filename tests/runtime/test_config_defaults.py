"""Effective values, the model's dataset helpers and the example hub configuration."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from runtime.config import load_config

HUB = Path(__file__).parent.parent.parent / "examples" / "hub"


def cfg_of(tmp_path, entities, **kw):
    f = tmp_path / "config.json"
    f.write_text(json.dumps(entities))
    return load_config(f, **kw)


def test_pipe_defaults(tmp_path):
    cfg = cfg_of(tmp_path, [
        {"_id": "in", "type": "pipe", "source": {"type": "embedded", "entities": []}},
        {"_id": "mid", "type": "pipe", "source": {"type": "dataset", "dataset": "in"}},
        {"_id": "rest", "type": "system:rest", "url_pattern": "http://x/%s"},
        {"_id": "out", "type": "pipe", "source": {"type": "dataset", "dataset": "mid"},
         "sink": {"type": "rest", "system": "rest"}}])
    inp, mid, out = cfg.pipes["in"], cfg.pipes["mid"], cfg.pipes["out"]
    assert inp.sink.type == "dataset" and inp.sink["dataset"] == "in"
    assert inp.writes == ("in",) and mid.reads == ("in",)
    assert inp.get("batch_size") == 100 and inp.get("checkpoint_interval") == 100
    assert out.get("batch_size") == 1 and out.get("checkpoint_interval") == 1
    assert inp.pump["schedule_interval"] == 900 and mid.pump["schedule_interval"] == 30
    assert mid.pump["mode"] == "scheduled" and mid.pump["max_retries_per_entity"] == 5
    assert mid.get("compaction")["keep_versions"] == 2
    assert mid.get("dependency_tracking")["dependency_error_threshold"] == 50000
    assert mid.source["include_replaced"] is True and mid.sink["deletion_tracking"] is True
    assert mid.get("namespaces") == {"identity": "mid", "property": "mid"}
    assert inp.get("add_namespaces") is False  # namespaced identifiers are off by default
    assert cfg.order == ("in", "mid", "out")


def test_cron_expression_suppresses_the_interval_default(tmp_path):
    cfg = cfg_of(tmp_path, [{"_id": "p", "type": "pipe", "pump": {"cron_expression": "0 * * * *"},
                             "source": {"type": "embedded", "entities": []}}])
    assert "schedule_interval" not in cfg.pipes["p"].pump


def test_global_defaults_and_namespaces_from_metadata(tmp_path):
    cfg = cfg_of(tmp_path, [
        {"_id": "node", "type": "metadata", "namespaced_identifiers": True,
         "global_defaults": {"if_source_empty": "fail", "infer_pipe_entity_types": False,
                             "run_at_startup_if_not_populated": True}},
        {"_id": "p", "type": "pipe", "name": "P",
         "source": {"type": "embedded", "entities": [], "if_source_empty": "accept"}},
        {"_id": "q", "type": "pipe", "source": {"type": "dataset", "dataset": "p"},
         "sink": {"type": "csv_endpoint", "columns": ["_id"]}}])
    p, q = cfg.pipes["p"], cfg.pipes["q"]
    assert p.source["if_source_empty"] == "accept"   # explicit wins
    assert q.source["if_source_empty"] == "fail"     # then global_defaults
    assert p.get("infer_pipe_entity_types") is False
    assert p.pump["run_at_startup_if_not_populated"] is True
    assert p.get("namespaced_identifiers") is True and p.get("add_namespaces") is True
    assert q.get("add_namespaces") is False and q.get("remove_namespaces") is True
    assert p.source["name"] == "P source" and p.pump["name"] == "P pump"
    assert cfg.metadata.namespaced_identifiers


def test_model_is_read_only(tmp_path):
    cfg = cfg_of(tmp_path, [{"_id": "p", "type": "pipe",
                             "source": {"type": "embedded", "entities": [{"_id": "1"}]}}])
    p = cfg.pipes["p"]
    with pytest.raises(TypeError):
        p.effective["batch_size"] = 3
    with pytest.raises(TypeError):
        cfg.pipes["x"] = p
    assert json.loads(json.dumps(p.effective))["source"]["entities"] == [{"_id": "1"}]


def test_force_loads_invalid_pipes(tmp_path):
    cfg = cfg_of(tmp_path, [
        {"_id": "ok", "type": "pipe", "source": {"type": "embedded", "entities": []}},
        {"_id": "bad", "type": "pipe", "source": {"type": "embedded"}}], force=True)
    assert cfg.pipes["ok"].valid and not cfg.pipes["bad"].valid
    assert [d.code for d in cfg.errors] == ["missing-property"]


def test_example_hub_validates_and_orders():
    cfg = load_config(HUB)
    assert not cfg.warnings
    order = list(cfg.order)
    assert order.index("global-person") > max(order.index(x) for x in
                                               ("crm-person", "erp-customer", "erp-order"))
    for downstream in ("person-out", "person-warehouse"):
        assert order.index(downstream) > order.index("global-person")
    assert order.index("person-warehouse") > max(order.index(x) for x in
                                                 ("newsletter", "billing-invoice"))
    assert cfg.pipes["person-warehouse"].hops == ("newsletter", "billing-invoice")
    g = cfg.pipes["global-person"]
    assert g.reads == ("crm-person", "erp-customer") and g.hops == ("erp-order",)
    assert g.transforms[0].hops == (("erp-order", "o"),)
    assert [p.id for p in cfg.upstream("global-person")] == ["crm-person", "erp-customer",
                                                             "erp-order"]
    assert [p.id for p in cfg.readers("erp-order")] == ["global-person"]
    assert cfg.pipes["person-out"].role == "endpoint" and not cfg.pipes["person-out"].pumped
    assert cfg.pipes["crm-person"].role == "input"
    assert cfg.systems["crm"].get("headers")["Authorization"].reveal() == \
        "Bearer not-a-real-token"


def test_compiled_dtl_runs():
    cfg = load_config(HUB)
    t = cfg.pipes["crm-person"].transforms[0].compile()
    out = t.apply({"_id": "1", "name": "Ann"})
    assert out[0]["name"] == "Ann"


def test_cli_validate_and_show(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["config", "validate", str(HUB)])
    assert res.exit_code == 0 and res.output.startswith("ok: 8 pipes, 4 systems")
    res = runner.invoke(main, ["config", "show", str(HUB), "--pipe", "person-out", "--effective"])
    assert res.exit_code == 0
    shown = json.loads(res.output)
    assert shown["sink"] == {"type": "http_endpoint", "content_disposition": "attachment",
                             "name": "Persons for the web shop sink"}
    bad = tmp_path / "bad.json"
    bad.write_text('[{"_id": "p", "type": "pipe", "source": {"type": "embeded"}}]')
    res = runner.invoke(main, ["config", "validate", str(bad), "--format", "json"])
    assert res.exit_code == 1
    errs = json.loads(res.output)["errors"]
    assert errs[0]["code"] == "unknown-type" and errs[0]["line"] == 1
    res = runner.invoke(main, ["config", "validate", str(tmp_path / "missing")])
    assert res.exit_code == 4
