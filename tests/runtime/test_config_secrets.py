"""Secret values never appear in reprs, exceptions, rendered errors or CLI output."""

import json
import string

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import main
from runtime.config import ConfigError, Secret, load_config
from runtime.config.secret import mask, reveal

# random content between markers, so that a value cannot occur in the output by chance
secret_values = st.text(alphabet=string.ascii_letters + string.digits + "!#%&*+-=?@^_~ ",
                        min_size=1, max_size=40).map(lambda s: f"Zq9{s}9qZ")


def make_repo(root, secret: str, bad: bool):
    (root / "systems").mkdir(parents=True, exist_ok=True)
    (root / "pipes").mkdir(exist_ok=True)
    system = {"_id": "api", "type": "system:url", "url_pattern": "http://x/%s",
              "password": "$SECRET(pw)", "headers": {"X-Key": "k=$SECRET(pw);"},
              # a secret where an integer is expected: the error must not show the value
              "read_timeout": "$SECRET(pw)" if bad else 30}
    (root / "systems" / "api.conf.json").write_text(json.dumps(system, indent=1))
    pipe = {"_id": "p", "type": "pipe", "source": {"type": "json", "system": "api", "url": "u"}}
    (root / "pipes" / "p.conf.json").write_text(json.dumps(pipe, indent=1))
    (root / "secrets.json").write_text(json.dumps({"pw": secret, "api/other": secret}))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=secret_values)
def test_secret_never_leaks(tmp_path_factory, secret):
    root = tmp_path_factory.mktemp("repo")
    make_repo(root, secret, bad=False)
    cfg = load_config(root)
    sysm = cfg.systems["api"]
    assert sysm.get("password").reveal() == secret
    for text in (repr(cfg), str(cfg), repr(sysm), str(sysm.config), repr(sysm.get("password")),
                 f"{sysm.get('password')}", json.dumps(mask(dict(sysm.config)))):
        assert secret not in text
    runner = CliRunner()
    for args in (["config", "show", str(root), "--effective"], ["config", "show", str(root)],
                 ["config", "validate", str(root)],
                 ["config", "validate", str(root), "--format", "json"]):
        res = runner.invoke(main, args)
        assert res.exit_code == 0, res.output
        assert secret not in res.output

    make_repo(root, secret, bad=True)
    try:
        load_config(root)
        raise AssertionError("expected a ConfigError")
    except ConfigError as e:
        assert [d.code for d in e.diagnostics] == ["wrong-type"]
        assert secret not in str(e) and secret not in repr(e)
        assert all(secret not in json.dumps(d.to_json()) for d in e.diagnostics)
    res = runner.invoke(main, ["config", "validate", str(root)])
    assert res.exit_code == 1 and secret not in res.output
    res = runner.invoke(main, ["config", "show", str(root), "--effective"])
    assert secret not in res.output


def test_secrets_in_a_broken_secrets_file_are_not_quoted(tmp_path):
    make_repo(tmp_path, "placeholder-value", bad=False)
    (tmp_path / "secrets.json").write_text('{"pw": "Zq7-very-secret\x01"}')
    try:
        load_config(tmp_path)
    except ConfigError as e:
        assert "Zq7" not in str(e) and "very-secret" not in str(e)
    else:
        raise AssertionError("expected a ConfigError")


def test_secret_object():
    s = Secret("abc")
    assert str(s) == "***" and repr(s) == "Secret('***')" and f"{s:>5}" == "  ***"
    assert s == Secret("abc") and s.reveal() == "abc"
    assert reveal({"a": [s]}) == {"a": ["abc"]} and mask({"a": [s]}) == {"a": ["***"]}
    try:
        import pickle
        pickle.dumps(s)
    except TypeError:
        pass
    else:
        raise AssertionError("a Secret must not pickle")
