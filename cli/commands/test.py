"""`dtl test`, `dtl update`, `dtl init`, `dtl convert`: the Sesam client's CI workflow on a
repository folder, run against the embedded hub (runtime.testing; test-runner.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

EXIT_FAILED, EXIT_RUNTIME, EXIT_IO = 1, 3, 4


def _workflow_options(f):
    opts = [
        click.option("--data-dir", type=click.Path(file_okay=False),
                     help="keep the hub's data here (default: a temporary folder)"),
        click.option("--do-float-as-decimal", "float_as_decimal", is_flag=True,
                     help="read floats in testdata files as decimals"),
        click.option("--disable-json-html-escape", is_flag=True,
                     help="update: write <, > and & as they are, not as \\u003c …"),
        click.option("--unicode-encoding", is_flag=True,
                     help="update: escape non-ASCII characters (ensure_ascii, as the client)"),
        click.option("--no-large-int-bugs", is_flag=True,
                     help="compare integers longer than 16 digits exactly"),
        click.option("--scheduler-max-runs", default=100, show_default=True,
                     help="passes allowed before a run counts as not stabilizing"),
        click.option("--scheduler-zero-runs", default=2, show_default=True,
                     help="consecutive passes without changes that end a run"),
        click.option("--runs", default=1, show_default=True, help="how many runs before verify"),
        click.option("--push", is_flag=True,
                     help="run pipes whose sinks write outside the hub (SQL, HTTP, files); "
                          "by default their output is compared, not pushed"),
        click.option("--whitelist-file", type=click.Path(dir_okay=False),
                     help="limit upload, testdata, verify and update to the files listed"),
        click.option("--profile", "-p", default="test", show_default=True,
                     help="environment from <profile>-env.json"),
        click.option("--output-run-statistics", "run_stats", is_flag=True,
                     help="print per-pipe counts of the last run (JSON, on stderr)"),
        click.option("--print-scheduler-log", "scheduler_log", is_flag=True,
                     help="print one line per pipe run"),
        click.option("--backend", type=click.Choice(["auto", "closure", "vector"]),
                     default="auto", show_default=True, help="the DTL backend pipes run on"),
        click.option("-v", "--verbose", count=True, help="more log lines"),
        click.argument("path", type=click.Path(), default="."),
    ]
    for o in opts:
        f = o(f)
    return f


def _session(path, profile, whitelist_file, runs, zero_runs, max_runs, no_large_int_bugs,
             unicode_encoding, disable_json_html_escape, float_as_decimal, data_dir, log,
             push=False, backend="auto"):
    from runtime.testing.repo import RepoError
    from runtime.testing.runner import RunOptions, Session
    opts = RunOptions(large_int_bugs=not no_large_int_bugs, unicode_encoding=unicode_encoding,
                      html_escape=not disable_json_html_escape, runs=runs,
                      float_as_decimal=float_as_decimal, max_runs=max_runs,
                      zero_runs=zero_runs, push=push, backend=backend)
    try:
        return Session(path, opts, whitelist_file=whitelist_file, profile=profile,
                       data_dir=data_dir, log=log)
    except RepoError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_IO)


def _logger(verbose: int, quiet: bool):
    def log(level, message):
        if quiet or (level == "info" and verbose < 1) or (level == "debug" and verbose < 2):
            return
        click.echo(f"{level.upper()}: {message}" if level != "info" else message, err=True)
    return log


def _pipe_run_line(pipe_id, r):
    from datetime import datetime, timezone
    click.echo(json.dumps({"timestamp": datetime.now(timezone.utc).isoformat(),
                           "loglevel": "ERROR" if r.status == "failed" else "INFO",
                           "logdata": f"pipe {pipe_id}: {r.status}, read {r.read}, changed "
                                      f"{r.changed}" + (f" ({r.reason})" if r.reason else "")}),
               err=True)


def _prepare(session, scheduler_log=False, run_stats=False):
    """Upload and run; exits with the workflow's code when either fails."""
    from runtime.testing.repo import RepoError
    from runtime.testing.runner import TestRunError
    try:
        session.upload()
        session.run(_pipe_run_line if scheduler_log else None)
        if run_stats and session.summary is not None:
            click.echo(json.dumps(session.summary.as_dict(), indent=1), err=True)
    except (TestRunError, RepoError) as e:
        click.echo(f"error: {e}", err=True)
        code = EXIT_IO if isinstance(e, RepoError) else \
            EXIT_FAILED if str(e).startswith("Failed to upload config") else EXIT_RUNTIME
        session.close()
        sys.exit(code)


def _print_report(report):
    for r in report.results:
        if r.status == "failed":
            click.echo(r.outcome.message, err=True)
            if r.outcome.diff:
                click.echo(r.outcome.diff.rstrip("\n"), err=True)
    for e in report.errors:
        click.echo(f"ERROR: {e}", err=True)
    failed = [r for r in report.results if r.status == "failed"]
    if failed:
        click.echo(f"Failed {len(failed)} of {report.spec_pipes} tests!", err=True)
        click.echo("Failed pipe id (spec file):", err=True)
        for r in failed:
            click.echo(f"{r.pipe} ({r.spec.path})", err=True)
    if report.missing:
        click.echo(f"Missing {len(report.missing)} tests!", err=True)
        click.echo("Missing test for pipe:", err=True)
        for p in report.missing:
            click.echo(p, err=True)
    if report.ok:
        click.echo(f"All tests passed! Ran {report.spec_pipes} tests.")


def _run_pytest(root: Path, folder: str, args: str) -> bool:
    target = root / folder
    if not list(target.glob("test_*.py")):
        click.echo(f"WARNING: No test_*.py files were found in '{folder}', so no tests have "
                   "been run.", err=True)
        return True
    cmd = [sys.executable, "-m", "pytest", folder, *args.split()]
    return subprocess.run(cmd, cwd=root).returncode == 0


@click.command("test")
@_workflow_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--run-pytest", "pytest_folder", metavar="FOLDER",
              help="after verify, run pytest on this folder of the repository")
@click.option("--pytest-args", default="-rP -v", show_default=True)
def test_cmd(path, verbose, scheduler_log, run_stats, profile, whitelist_file, runs,
             scheduler_zero_runs,
             scheduler_max_runs, no_large_int_bugs, unicode_encoding, disable_json_html_escape,
             float_as_decimal, data_dir, push, backend, fmt, pytest_folder, pytest_args):
    """Load a Sesam repository into a fresh hub, post testdata/, run until stable and compare
    every output and endpoint pipe with expected/. Exit 0 only if every test passes."""
    log = _logger(verbose, quiet=fmt == "json")
    s = _session(path, profile, whitelist_file, runs, scheduler_zero_runs, scheduler_max_runs,
                 no_large_int_bugs, unicode_encoding, disable_json_html_escape,
                 float_as_decimal, data_dir, log, push=push, backend=backend)
    _prepare(s, scheduler_log, run_stats)
    with s:
        report = s.verify()
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=1, ensure_ascii=False))
    else:
        _print_report(report)
    ok = report.ok
    if ok and pytest_folder:
        ok = _run_pytest(Path(path), pytest_folder, pytest_args)
    sys.exit(0 if ok else EXIT_FAILED)


@click.command("update")
@_workflow_options
def update_cmd(path, verbose, scheduler_log, run_stats, profile, whitelist_file, runs,
               scheduler_zero_runs,
               scheduler_max_runs, no_large_int_bugs, unicode_encoding,
               disable_json_html_escape, float_as_decimal, data_dir, push, backend):
    """Run the repository as `dtl test` does, then store every output/endpoint pipe's current
    output as its expected file (creating specs and files that are missing)."""
    from runtime.testing.runner import TestRunError
    s = _session(path, profile, whitelist_file, runs, scheduler_zero_runs, scheduler_max_runs,
                 no_large_int_bugs, unicode_encoding, disable_json_html_escape,
                 float_as_decimal, data_dir, _logger(verbose, False), push=push,
                 backend=backend)
    _prepare(s, scheduler_log, run_stats)
    with s:
        try:
            n = s.update()
        except TestRunError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(f"{n} tests updated!")


@click.command("init")
@click.argument("path", type=click.Path(file_okay=False), default=".")
def init_cmd(path):
    """Wrap every source that fetches from outside in a conditional with an empty embedded
    `test` alternative (condition $ENV(node-env)); add missing `test` alternatives."""
    from runtime.testing.convert import init
    changes = _rewrite(init, path)
    if changes.pipes:
        click.echo(f"Successfully added test sources to {len(changes.pipes)} pipes.")
    else:
        click.echo("All input pipes already have conditional sources with test alternatives. "
                   "No test sources were added.")


@click.command("convert")
@click.argument("path", type=click.Path(file_okay=False), default=".")
@click.option("--profile", "-p", default="test", show_default=True,
              help="the conditional alternative to convert")
def convert_cmd(path, profile):
    """Move embedded test entities of conditional sources to testdata/<pipe _id>.json and make
    that alternative an http_endpoint source."""
    from runtime.testing.convert import convert
    changes = _rewrite(lambda p: convert(p, profile), path)
    for f in changes.testdata:
        click.echo(f"wrote {f}")
    click.echo("Successfully converted pipes and created testdata folder")


def _rewrite(fn, path):
    if not Path(path).is_dir():
        click.echo(f"error: no repository folder at '{path}'", err=True)
        sys.exit(EXIT_IO)
    try:
        changes = fn(path)
    except (ValueError, OSError) as e:   # a pipe file that is not JSON
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_IO)
    for f, why in changes.skipped:
        click.echo(f"WARNING: {f}: skipped, {why}", err=True)
    return changes


COMMANDS = (test_cmd, update_cmd, init_cmd, convert_cmd)
