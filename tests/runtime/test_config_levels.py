"""Levels like a Sesam node's: what the node accepts loads with warnings (the pipe still runs);
errors mark only their own pipe or system invalid. Plus what real configurations write that the
node reads: `chained` transforms, sinks without a type, `$SECRET(...)` as a DTL key argument,
numbers written as strings."""

import json
import os

import pytest
from click.testing import CliRunner

from cli.main import main
from runtime.config import ConfigError, load_config
from runtime.hub import Hub


def write(root, pipes=(), systems=(), env=None, secrets=None):
    for folder, items in (("pipes", pipes), ("systems", systems)):
        os.makedirs(root / folder, exist_ok=True)
        for x in items:
            (root / folder / f"{x['_id']}.conf.json").write_text(json.dumps(x, indent=1))
    if env is not None:
        (root / "test-env.json").write_text(json.dumps(env))
    if secrets is not None:
        (root / "test-secrets.json").write_text(json.dumps(secrets))
    return root


def embedded(pid, entities, **kw):
    return {"_id": pid, "type": "pipe", "source": {"type": "embedded", "entities": entities},
            **kw}


def codes(diags):
    return sorted(d.code for d in diags)


def test_what_a_node_accepts_loads_with_warnings(tmp_path):
    root = write(tmp_path, pipes=[
        embedded("a", [{"_id": "1"}], sorce="typo",
                 pump={"write_retry_delay": "~f0.5", "schedule_interval": "30"}),
        embedded("b", [{"_id": "2", "u": "$ENV(not-set)"}]),
        {"_id": "c", "type": "pipe", "source": {"type": "dataset", "dataset": "d"}},
        {"_id": "d", "type": "pipe", "source": {"type": "dataset", "dataset": "c"}},
    ], systems=[{"_id": "mq", "type": "system:some-future-kind", "x": 1},
                {"_id": "api", "type": "system:url", "url_pattern": "http://h/%s",
                 "password": "$SECRET(nope)"}], env={})
    cfg = load_config(root)                      # no ConfigError: nothing here is an error
    assert cfg.errors == ()
    assert codes(cfg.warnings) == ["dataset-cycle", "unknown-env", "unknown-property",
                                   "unknown-secret", "unknown-type", "wrong-type", "wrong-type"]
    assert all(p.valid for p in cfg.pipes.values())
    # numbers written as strings are read as numbers (transit decimals too)
    assert cfg.pipes["a"].pump.get("write_retry_delay") == 0.5
    assert cfg.pipes["a"].pump.get("schedule_interval") == 30
    # an unset $ENV stays as written: no second error about its type
    w = [d for d in cfg.warnings if d.code == "unknown-env"][0]
    line = 1 + (root / "pipes" / "b.conf.json").read_text().split("$ENV(not-set)")[0].count("\n")
    assert (w.span.file, w.span.line) == ("pipes/b.conf.json", line)


def test_an_error_marks_only_its_own_pipe_invalid(tmp_path):
    root = write(tmp_path, pipes=[
        embedded("good", [{"_id": "1"}]),
        embedded("bad", [{"_id": "2"}], transform={"type": "no-such-transform"})])
    with pytest.raises(ConfigError):
        load_config(root)                        # strict loading still refuses
    cfg = load_config(root, force=True)
    assert {p.id: p.valid for p in cfg.pipes.values()} == {"good": True, "bad": False}
    with Hub(cfg, tmp_path / "data") as hub:
        s = hub.run()
        assert s["good"].status != "failed" and [e["_id"] for e in hub.output("good")] == ["1"]
        assert s["bad"].status == "skipped"


def test_chained_transforms_run_in_order_and_a_sink_without_type_is_a_dataset_sink(tmp_path):
    root = write(tmp_path, pipes=[embedded("p", [{"_id": "1", "n": 2}], sink={"indexes": "$ids"},
                                           transform={"type": "chained", "transforms": [
        {"type": "dtl", "rules": {"default": [["copy", "*"], ["add", "n", ["plus", 1, "_S.n"]]]}},
        {"type": "chained", "transforms": {"type": "dtl", "rules": {"default": [
            ["copy", "*"], ["add", "n", ["multiply", 10, "_S.n"]]]}}}]})])
    cfg = load_config(root)
    p = cfg.pipes["p"]
    assert [t.type for t in p.transforms] == ["dtl", "dtl"] and p.writes == ("p",)
    with Hub(cfg, tmp_path / "data") as hub:
        assert hub.run().ok
        assert [e["n"] for e in hub.output("p")] == [30]      # (2 + 1) * 10, not 2 * 10 + 1


def test_secret_as_a_dtl_key_argument_resolves_at_run_time(tmp_path):
    key = "a key nobody prints"
    root = write(tmp_path, pipes=[embedded("p", [{"_id": "1", "v": "hello"}], transform={
        "type": "dtl", "rules": {"default": [
            ["copy", "_id"],
            ["add", "back", ["decrypt", "$SECRET(k)", ["encrypt", "$SECRET(k)", "_S.v"]]]]}})],
        env={}, secrets={"k": key})
    cfg = load_config(root, profile="test", secrets_file=root / "test-secrets.json")
    assert cfg.errors == () and cfg.warnings == ()
    with Hub(cfg, tmp_path / "data") as hub:
        assert hub.run().ok
        assert [e["back"] for e in hub.output("p")] == ["hello"]
    r = CliRunner().invoke(main, ["config", "validate", str(root)])
    assert r.exit_code == 0 and key not in r.output


def test_validate_prints_both_levels_and_strict_fails_on_warnings(tmp_path):
    root = write(tmp_path, pipes=[embedded("p", [{"_id": "1"}], sorce="typo")])
    r = CliRunner().invoke(main, ["config", "validate", str(root)])
    assert r.exit_code == 0, r.output
    assert "warning[unknown-property]" in r.output and "pipes/p.conf.json:" in r.output
    r = CliRunner().invoke(main, ["config", "validate", "--strict", str(root)])
    assert r.exit_code == 1
    assert "error[unknown-property]" in r.output


def test_files_with_a_byte_order_mark_load(tmp_path):
    # editors on Windows write a UTF-8 BOM; the Sesam client and a node read such files, and
    # positions count from the first character after it
    root = write(tmp_path, pipes=[embedded("a", [{"_id": "1", "v": "$ENV(x)"}])])
    for f in (root / "pipes" / "a.conf.json", ):
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    (root / "test-env.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"x": "y"}).encode())
    (root / "pipes" / "bad.conf.json").write_bytes(b"\xef\xbb\xbf{\"_id\": }")
    with pytest.raises(ConfigError) as e:
        load_config(root)
    (d,) = e.value.diagnostics
    assert (d.span.file, d.span.line, d.span.column) == ("pipes/bad.conf.json", 1, 9)
    (root / "pipes" / "bad.conf.json").unlink()
    cfg = load_config(root)
    assert cfg.errors == () and cfg.pipes["a"].valid
