"""$ENV/$SECRET substitution, conditional properties and conditional components."""

import json

import pytest

from runtime.config import ConfigError, Secret, load_config


def write(tmp_path, entities, env=None, secrets=None):
    f = tmp_path / "config.json"
    f.write_text(json.dumps(entities, indent=1))
    if env is not None:
        (tmp_path / "test-env.json").write_text(json.dumps(env))
    if secrets is not None:
        (tmp_path / "secrets.json").write_text(json.dumps(secrets))
    return f


def embedded(pid="p", **extra):
    return {"_id": pid, "type": "pipe", "source": {"type": "embedded", "entities": []}, **extra}


def test_whole_string_reference_keeps_the_json_type(tmp_path):
    f = write(tmp_path, [embedded(batch_size="$ENV(bs)", comment="$ENV(c)")])
    cfg = load_config(f, env={"bs": 7, "c": ["a", "b"]})
    assert cfg.pipes["p"].get("batch_size") == 7
    assert cfg.pipes["p"].get("comment") == ("a", "b")


def test_several_references_make_a_string(tmp_path):
    f = write(tmp_path, [{"_id": "s", "type": "system:url",
                          "url_pattern": "http://$ENV(host):$ENV(port)/$ENV(x)%s"}])
    cfg = load_config(f, env={"host": "h", "port": 80, "x": "$ not a ref"})
    assert cfg.systems["s"].get("url_pattern") == "http://h:80/$ not a ref%s"


def test_profile_env_file_and_overrides(tmp_path):
    (tmp_path / "pipes").mkdir()
    (tmp_path / "pipes" / "p.conf.json").write_text(json.dumps(embedded(name="$ENV(n)")))
    (tmp_path / "test-env.json").write_text('{"n": "from-test"}')
    (tmp_path / "prod-env.json").write_text('{"n": "from-prod"}')
    assert load_config(tmp_path).pipes["p"].get("name") == "from-test"
    assert load_config(tmp_path, profile="prod").pipes["p"].get("name") == "from-prod"
    assert load_config(tmp_path, env={"n": "given"}).pipes["p"].get("name") == "given"
    with pytest.raises(ConfigError, match="no environment file"):
        load_config(tmp_path, profile="stage")


def test_original_keeps_references(tmp_path):
    f = write(tmp_path, [embedded(name="$ENV(n)")])
    p = load_config(f, env={"n": "x"}).pipes["p"]
    assert p.original["name"] == "$ENV(n)" and p.effective["name"] == "x"


def test_secrets_global_and_system_local(tmp_path):
    f = write(tmp_path, [
        {"_id": "a", "type": "system:url", "url_pattern": "x%s", "password": "$SECRET(pw)"},
        {"_id": "b", "type": "system:url", "url_pattern": "x%s", "password": "$SECRET(pw)",
         "headers": {"Authorization": "Bearer $SECRET(pw)"}}],
        secrets={"pw": "global-pw", "b/pw": "local-pw"})
    cfg = load_config(f, secrets_file=tmp_path / "secrets.json")
    a, b = cfg.systems["a"], cfg.systems["b"]
    assert isinstance(a.get("password"), Secret)
    assert a.get("password").reveal() == "global-pw"
    assert b.get("password").reveal() == "local-pw"
    assert b.get("headers")["Authorization"].reveal() == "Bearer local-pw"


def test_conditional_properties_replace_same_level_keys(tmp_path):
    f = write(tmp_path, [{
        "_id": "s", "type": "system:url", "url_pattern": "http://prod/%s",
        "headers": {"a": "1", "b": "2"},
        "$conditional_properties": {"condition": "$ENV(node-env)", "alternatives": {
            "test": {"url_pattern": "file:///tmp/%s", "headers": {"c": "3"},
                     "$conditional_properties": {"condition": "$ENV(tier)", "alternatives": {
                         "gold": {"read_timeout": 5}}}},
            "prod": {}}}}], env={"node-env": "test", "tier": "gold"})
    s = load_config(f).systems["s"]
    assert s.get("url_pattern") == "file:///tmp/%s"
    assert s.get("headers") == {"c": "3"}   # replaced, not merged
    assert s.get("read_timeout") == 5
    assert "$conditional_properties" not in s.config


def test_conditional_properties_not_applied_inside_embedded_data(tmp_path):
    data = {"_id": "1", "$conditional_properties": {"condition": "x", "alternatives": {}}}
    f = write(tmp_path, [{"_id": "p", "type": "pipe",
                          "source": {"type": "embedded", "entities": [data]}}])
    assert load_config(f).pipes["p"].source["entities"][0] == data


def test_conditional_source_transform_and_sink(tmp_path):
    f = write(tmp_path, [{
        "_id": "p", "type": "pipe",
        "source": {"type": "conditional", "condition": "$ENV(node-env)", "alternatives": {
            "prod": {"type": "dataset", "dataset": "upstream"},
            "test": {"type": "embedded", "entities": [{"_id": "1"}]}}},
        "transform": [{"type": "conditional", "condition": "$ENV(node-env)", "alternatives": {
            "test": {"type": "dtl", "rules": {"default": [["copy", "*"]]}},
            "prod": {"type": "emit_children"}}}],
        "sink": {"type": "conditional", "condition": "$ENV(node-env)", "alternatives": {
            "test": {"type": "null"}, "prod": {"type": "http_endpoint"}}}}],
        env={"node-env": "test"})
    p = load_config(f).pipes["p"]
    assert p.source.type == "embedded" and p.source.condition == "test"
    assert p.transforms[0].type == "dtl"
    assert p.sink.type == "null"
    assert p.reads == () and p.writes == ()
    assert p.original["source"]["type"] == "conditional"
    prod = load_config(f, env={"node-env": "prod"}).pipes["p"]
    assert prod.reads == ("upstream",) and prod.sink.type == "http_endpoint"


def test_missing_alternative_is_an_error(tmp_path):
    f = write(tmp_path, [{"_id": "p", "type": "pipe", "source": {
        "type": "conditional", "condition": "$ENV(node-env)",
        "alternatives": {"prod": {"type": "embedded", "entities": []}}}}])
    with pytest.raises(ConfigError) as info:
        load_config(f, env={"node-env": "test"})
    assert [d.code for d in info.value.diagnostics] == ["no-alternative"]


def test_substituted_values_are_validated_at_the_reference(tmp_path):
    f = write(tmp_path, [embedded(batch_size="$ENV(bs)")])
    with pytest.raises(ConfigError) as info:
        load_config(f, env={"bs": "many"})
    d = info.value.diagnostics[0]
    assert d.code == "wrong-type" and (d.span.line, d.span.column) == (9, 17)
