"""`dtl test`, `dtl update`, `dtl init`, `dtl convert` end to end on the fixture repositories
(shaped like the Sesam client's own fair-weather and embedded-conversion tests)."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sesam_repos"


def dtl(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def fair(tmp_path):
    shutil.copytree(FIXTURES / "fair_weather", tmp_path / "repo")
    return tmp_path / "repo"


def write(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# -- fair weather -------------------------------------------------------------------------------
@pytest.mark.parametrize("whitelist", [True, False])
def test_fair_weather_passes(fair, whitelist):
    args = ["--whitelist-file", fair / "whitelist.txt"] if whitelist else []
    r = dtl("test", fair, *args, "--run-pytest", "tests", "--pytest-args", "-q")
    assert r.exit_code == 0, r.output
    assert "All tests passed! Ran 2 tests." in r.stdout


def test_json_report(fair):
    r = dtl("test", fair, "--format", "json")
    report = json.loads(r.stdout)
    assert (r.exit_code, report["passed"], report["failed"]) == (0, 2, 0)
    assert [(t["name"], t["pipe"], t["status"], t["diff"]) for t in report["tests"]] == [
        ("planets-csv", "planets-csv", "passed", ""), ("planets-out", "planets-out", "passed", "")]


def test_failing_pipe_gets_a_diff_and_update_repairs_it(fair):
    original = files(fair / "expected")
    write(fair / "expected" / "planets-out.json", '[{"_id": "earth", "label": "Terra", '
          '"moons": 1}, {"_id": "mars", "label": "Mars", "moons": 2}]')
    write(fair / "expected" / "planets-csv.csv", "_id,label\nmars,Mars\nearth,Earth\n")
    r = dtl("test", fair, "--format", "json")
    report = json.loads(r.stdout)
    assert (r.exit_code, report["passed"], report["failed"]) == (1, 0, 2)
    out = {t["pipe"]: t for t in report["tests"]}
    assert '-    "label": "Terra",\n+    "label": "Earth",' in out["planets-out"]["diff"]
    assert out["planets-out"]["diff"].startswith("--- expected/planets-out.json\n"
                                                 "+++ current-output.json\n")
    assert "-earth,Earth\n+_id,label\r\n" in out["planets-csv"]["diff"]
    text = dtl("test", fair)
    assert "Failed 2 of 2 tests!" in text.stderr
    assert "planets-out (expected/planets-out.test.json)" in text.stderr

    r = dtl("update", fair)
    assert r.exit_code == 0 and "2 tests updated!" in r.stdout
    assert files(fair / "expected") == original      # the fixtures are in the client's format
    assert dtl("test", fair).exit_code == 0


def test_update_housekeeping(fair):
    exp = fair / "expected"
    (exp / "planets-out.test.json").unlink()
    (exp / "planets-out.json").unlink()
    write(exp / "gone.test.json", '{"pipe": "no-such-pipe"}')
    write(exp / "gone-ignored.test.json", '{"pipe": "no-such-pipe", "ignore": true}')
    write(exp / "planets-csv.test.json", '{"pipe": "planets-csv", "ignore": true, '
                                         '"endpoint": "csv", "file": "planets-csv.csv"}')
    r = dtl("update", fair)
    assert r.exit_code == 0, r.output
    assert not (exp / "gone.test.json").exists()            # spec of a missing pipe: removed
    assert (exp / "gone-ignored.test.json").exists()        # unless it is ignored
    assert not (exp / "planets-csv.csv").exists()           # ignored: expected file removed
    assert (exp / "planets-out.test.json").read_text() == "{\n}"   # new empty spec
    assert json.loads((exp / "planets-out.json").read_text())[0]["_id"] == "earth"
    assert "1 tests updated!" in r.stdout


def test_update_creates_missing_expected_file(fair):
    write(fair / "expected" / "planets-out.test.json", '{"file": "other/planets.json"}')
    assert dtl("update", fair).exit_code == 0
    assert (fair / "expected" / "other" / "planets.json").read_text().startswith('[\n  {\n')


def test_verify_checks_before_comparing(fair):
    write(fair / "expected" / "stray.test.json", '{"pipe": "planets"}')   # an input pipe
    (fair / "expected" / "planets-csv.csv").unlink()
    r = dtl("test", fair, "--format", "json")
    report = json.loads(r.stdout)
    assert r.exit_code == 1 and report["tests"] == []
    assert any("references a non-existing output pipe 'planets'" in e for e in report["errors"])
    assert any("non-existing 'expected' output file 'expected/planets-csv.csv'" in e
               for e in report["errors"])


def test_missing_and_ignored_tests(fair):
    (fair / "expected" / "planets-csv.test.json").unlink()
    write(fair / "expected" / "planets-out.test.json", '{"ignore": true}')
    r = dtl("test", fair, "--format", "json")
    report = json.loads(r.stdout)
    assert r.exit_code == 1
    assert [(t["pipe"], t["status"]) for t in report["tests"]] == [
        ("planets-out", "ignored"), ("planets-csv", "failed")]
    assert "No tests references pipe 'planets-csv'" in report["tests"][1]["message"]
    # the whitelist takes pipes out of verify
    write(fair / "wl.txt", "pipes/planets.conf.json\npipes/planets-out.conf.json\n")
    assert dtl("test", fair, "--whitelist-file", fair / "wl.txt").exit_code == 0


def test_scheduler_log_and_run_statistics(fair):
    r = dtl("test", fair, "--print-scheduler-log", "--output-run-statistics")
    assert r.exit_code == 0
    lines = [json.loads(ln) for ln in r.stderr.splitlines() if ln.startswith('{"timestamp"')]
    assert any(ln["logdata"] == "pipe planets: ok, read 2, changed 2" for ln in lines)
    assert '"stable": true' in r.stderr


def test_no_specs_is_only_a_warning(fair):
    shutil.rmtree(fair / "expected")
    r = dtl("test", fair)
    assert r.exit_code == 0 and "Found no tests (*.test.json) to run" in r.stderr


def test_blacklist_and_stage(fair):
    write(fair / "expected" / "planets-out.test.json", '{"blacklist": ["moons"]}')
    write(fair / "expected" / "planets-out.json", '[{"_id": "mars", "label": "Mars"}, '
                                                  '{"_id": "earth", "label": "Earth"}]')
    assert dtl("test", fair).exit_code == 0
    # the source stage reads the dataset as stored: namespaced
    write(fair / "expected" / "planets-out.test.json", '{"blacklist": ["*moons"], '
                                                       '"stage": "source"}')
    write(fair / "expected" / "planets-out.json", json.dumps([
        {"_id": "planets:mars", "planets:label": "Mars"},
        {"_id": "planets:earth", "planets:label": "Earth"}]))
    assert dtl("test", fair).exit_code == 0


def test_bad_spec_is_reported_with_position(fair):
    write(fair / "expected" / "planets-out.test.json", '{\n  "pipe": ["planets-out"]\n}')
    r = dtl("test", fair)
    assert r.exit_code == 1
    assert "expected/planets-out.test.json:2:11: error[wrong-type]: 'pipe' must be a string" \
        in r.stderr


def test_config_errors_stay_with_their_pipe(fair):
    write(fair / "pipes" / "planets-out.conf.json",
          '{"_id": "planets-out", "type": "pipe",\n "source": {"type": "dataset", '
          '"dataset": "planets"},\n "transform": {"type": "dtl", "rules": {"default": '
          '[["ad", "x", 1]]}},\n "sink": {"type": "http_endpoint"}}')
    r = dtl("test", fair)
    # as a node: the pipe is invalid and does not run; the other pipes ran and were verified
    assert r.exit_code == 1
    assert "pipes/planets-out.conf.json:3:" in r.stderr and "(the pipe or system is invalid)" \
        in r.stderr
    assert "pipe 'planets-out' has an invalid configuration" in r.stderr
    assert "Failed 1 of 2 tests!" in r.stderr and "Traceback" not in r.output


def test_jinja_vars_and_profiles(fair):
    write(fair / ".jinja_vars", "what=*\n")
    write(fair / "pipes" / "planets-out.conf.json", json.dumps({
        "_id": "planets-out", "type": "pipe", "source": {"type": "dataset", "dataset": "planets"},
        "transform": {"type": "dtl", "rules": {"default": [
            ["filter", "$ENV(keep)"], ["copy", "{{@ what @}}"]]}},
        "sink": {"type": "http_endpoint"}}))
    write(fair / "test-env.json", '{"keep": true}')
    assert dtl("test", fair).exit_code == 0, dtl("test", fair).output
    write(fair / "other-env.json", '{"keep": false}')
    assert dtl("test", fair, "--profile", "other").exit_code == 1
    assert dtl("test", fair, "--profile", "nope").exit_code == 4


def test_testdata_needs_a_receiver(fair):
    write(fair / "testdata" / "planets.json", '[{"_id": "venus"}]')
    r = dtl("test", fair)
    assert r.exit_code == 3
    assert "Failed to post payload to pipe planets (testdata/planets.json)" in r.stderr


# -- embedded conversion --------------------------------------------------------------------------
def test_convert_matches_the_clients_result_and_still_passes(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "embedded_conversion" / "before", repo)
    assert dtl("test", repo).exit_code == 0
    r = dtl("convert", repo)
    assert r.exit_code == 0
    assert "wrote testdata/Mixed-Case-Birds.json" in r.stdout    # the pipe _id, not the file
    assert files(repo) == files(FIXTURES / "embedded_conversion" / "expected_after")
    r = dtl("test", repo, "-v")
    assert r.exit_code == 0 and "Uploading entities for fruit" in r.stderr
    assert dtl("convert", repo).exit_code == 0                    # a second run changes nothing
    assert files(repo) == files(FIXTURES / "embedded_conversion" / "expected_after")


def test_init(tmp_path):
    write(tmp_path / "pipes" / "crm.conf.json", json.dumps(
        {"_id": "crm", "type": "pipe", "source": {"type": "sql", "system": "crm-db",
                                                  "table": "customers"}}))
    write(tmp_path / "pipes" / "half.conf.json", json.dumps(
        {"_id": "half", "type": "pipe", "source": {"type": "conditional", "condition": "x",
                                                   "alternatives": {"prod": {"type": "sql"}}}}))
    untouched = '{"_id": "copy", "type": "pipe", "source": {"type": "dataset", "dataset": "x"}}'
    write(tmp_path / "pipes" / "copy.conf.json", untouched)
    r = dtl("init", tmp_path)
    assert r.exit_code == 0 and "added test sources to 2 pipes" in r.stdout
    assert (tmp_path / "pipes" / "crm.conf.json").read_text() == """{
  "_id": "crm",
  "type": "pipe",
  "source": {
    "type": "conditional",
    "alternatives": {
      "prod": {
        "type": "sql",
        "system": "crm-db",
        "table": "customers"
      },
      "test": {
        "type": "embedded",
        "entities": []
      }
    },
    "condition": "$ENV(node-env)"
  }
}
"""
    half = json.loads((tmp_path / "pipes" / "half.conf.json").read_text())
    assert half["source"]["alternatives"]["test"] == {"type": "embedded", "entities": []}
    assert (tmp_path / "pipes" / "copy.conf.json").read_text() == untouched
    assert "No test sources were added" in dtl("init", tmp_path).stdout


def test_example_hub_passes_its_own_ci_tests(tmp_path):
    # the staged upload holds only pipes/systems; its file: urls and sqlite files (data/) must
    # still resolve against the repository, as the client's node would see them
    example = Path(__file__).resolve().parents[2] / "examples" / "hub"
    repo = tmp_path / "hub"
    shutil.copytree(example, repo, ignore=shutil.ignore_patterns(".dtl-data", "warehouse.sqlite"))
    r = dtl("test", repo)
    assert r.exit_code == 0, r.output
    assert "All tests passed! Ran 2 tests." in r.stdout


def test_pipes_that_push_outside_are_compared_not_pushed(fair):
    # a test run has no outside systems: the pipe's output is compared, as an endpoint's
    write(fair / "systems" / "db.conf.json", json.dumps({
        "_id": "db", "type": "system:sqlite", "database": "out.db"}))
    write(fair / "pipes" / "planets-sql.conf.json", json.dumps({
        "_id": "planets-sql", "type": "pipe", "source": {"type": "dataset", "dataset": "planets"},
        "sink": {"type": "sql", "system": "db", "table": "planets",
                 "create_table_if_missing": True}}))
    shutil.copy(fair / "expected" / "planets-out.json", fair / "expected" / "planets-sql.json")
    write(fair / "expected" / "planets-sql.test.json", '{"pipe": "planets-sql"}')
    r = dtl("test", fair, "-vv")
    assert r.exit_code == 0, r.output
    assert "All tests passed! Ran 3 tests." in r.stdout
    assert not (fair / "out.db").exists()
    r = dtl("test", fair, "--push")
    assert r.exit_code == 0, r.output
    import sqlite3
    with sqlite3.connect(fair / "out.db") as db:
        assert sorted(db.execute("select label from planets")) == [("Earth",), ("Mars",)]


def test_decimals_are_compared_as_the_api_sends_them(fair):
    # the entities API writes a Decimal as a transit string with its stored digits
    # ("~f2.500"), not as a JSON number; a float stays a number
    write(fair / "pipes" / "amounts.conf.json", json.dumps({
        "_id": "amounts", "type": "pipe",
        "source": {"type": "embedded", "entities": [
            {"_id": "a", "exact": "~f2.500", "approx": 2.5}]}}))
    write(fair / "pipes" / "amounts-out.conf.json", json.dumps({
        "_id": "amounts-out", "type": "pipe",
        "source": {"type": "dataset", "dataset": "amounts"},
        "transform": {"type": "dtl", "rules": {"default": [
            ["copy", "*"], ["add", "sum", ["plus", "_S.exact", ["decimal", "0.25"]]]]}},
        "sink": {"type": "http_endpoint"}}))
    write(fair / "expected" / "amounts-out.test.json", '{"pipe": "amounts-out"}')
    write(fair / "expected" / "amounts-out.json", json.dumps([
        {"_id": "a", "approx": 2.5, "exact": "~f2.500", "sum": "~f2.750"}]))
    r = dtl("test", fair)
    assert r.exit_code == 0, r.output
    assert "All tests passed! Ran 3 tests." in r.stdout


def test_deletes_a_transform_emits_are_compared(fair):
    # an output pipe whose transform marks entities deleted: an expected file may hold them
    # ("_deleted": true); ignore_deletes (default true) drops only those it does not name
    write(fair / "pipes" / "gone.conf.json", json.dumps({
        "_id": "gone", "type": "pipe", "source": {"type": "dataset", "dataset": "planets"},
        "transform": {"type": "dtl", "rules": {"default": [
            ["copy", "_id"], ["add", "_deleted", ["eq", "_S.label", "Earth"]]]}},
        "sink": {"type": "http_endpoint"}}))
    write(fair / "expected" / "gone.test.json", '{"pipe": "gone"}')
    write(fair / "expected" / "gone.json", json.dumps([
        {"_id": "earth", "_deleted": True}, {"_id": "mars"}]))
    r = dtl("test", fair)
    assert r.exit_code == 0, r.output
    assert "All tests passed! Ran 3 tests." in r.stdout
    write(fair / "expected" / "gone.json", json.dumps([{"_id": "mars"}]))
    assert dtl("test", fair).exit_code == 0
    write(fair / "expected" / "gone.test.json", '{"pipe": "gone", "ignore_deletes": false}')
    r = dtl("test", fair)
    assert r.exit_code == 1 and "Length mismatch" in r.output, r.output


@pytest.mark.parametrize("backend", ["closure", "vector"])
def test_dtl_test_runs_the_pipes_on_the_backend_it_is_given(fair, monkeypatch, backend):
    """`dtl test --backend`: the hub the run builds compiles its pipes on that backend (Hub's
    own tests show it does), and the fair-weather repository passes on it."""
    from runtime.hub import Hub
    seen = []
    real = Hub.__init__

    def init(self, *a, **kw):
        real(self, *a, **kw)
        seen.append(self.backend)
    monkeypatch.setattr(Hub, "__init__", init)
    r = dtl("test", fair, "--backend", backend)
    assert r.exit_code == 0, r.output
    assert seen == [backend]
