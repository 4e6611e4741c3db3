"""`test`, `verify` and `update` against the embedded hub: the Sesam client's CI workflow with
no node (test-runner.md §3, §6, §7).

The order of checks and the messages follow the client; where the client leaves the work to the
node (config validation, receiving testdata, running until stable) the hub does it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from runtime.testing.outputs import HubOutputs, OutputError
from runtime.testing.repo import Repo
from runtime.testing.spec import SpecError, TestSpec, load_spec
from runtime.testing.update import EMPTY_EXPECTED, EMPTY_SPEC, expected_json, expected_xml
from runtime.testing.verify import (Options, Outcome, SortError, compare_bytes, compare_json,
                                    compare_xml)


class TestRunError(Exception):
    """The workflow stopped before verify could compare anything (config, testdata, run)."""


@dataclass
class RunOptions(Options):
    runs: int = 1
    float_as_decimal: bool = False     # --do-float-as-decimal: testdata floats parse as Decimal
    max_runs: int = 100                # --scheduler-max-runs
    zero_runs: int = 2                 # --scheduler-zero-runs
    push: bool = False                 # --push: run pipes that write outside the hub
    backend: str = "auto"              # --backend: the DTL backend the pipes compile with


@dataclass
class Result:
    spec: TestSpec | None
    pipe: str
    status: str                       # passed / failed / ignored
    outcome: Outcome = field(default_factory=lambda: Outcome(True))

    @property
    def name(self) -> str:
        return self.spec.id if self.spec is not None else self.pipe

    def to_json(self) -> dict:
        return {"name": self.name, "pipe": self.pipe, "status": self.status,
                "spec": self.spec.path if self.spec is not None else None,
                "kind": self.outcome.kind or None, "message": self.outcome.message or None,
                "diff": self.outcome.diff}


@dataclass
class Report:
    results: list = field(default_factory=list)
    missing: list = field(default_factory=list)    # output pipes no spec references
    errors: list = field(default_factory=list)     # problems that fail verify as a whole
    spec_pipes: int = 0                            # the client's "Ran N tests" counts pipes

    @property
    def passed(self) -> int:
        return sum(r.status == "passed" for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status == "failed" for r in self.results) + len(self.missing)

    @property
    def ok(self) -> bool:
        return not self.errors and self.failed == 0

    def to_json(self) -> dict:
        tests = [r.to_json() for r in self.results]
        tests += [{"name": p, "pipe": p, "status": "failed", "spec": None, "kind": "missing",
                   "message": f"No tests references pipe '{p}'", "diff": ""}
                  for p in self.missing]
        return {"tests": tests, "passed": self.passed, "failed": self.failed,
                "errors": list(self.errors), "ok": self.ok}


def _log_default(level, msg):
    pass


class Session:
    """One repository loaded into a fresh hub: upload (config + testdata), run, verify/update."""

    def __init__(self, root, opts: RunOptions | None = None, *, whitelist_file=None,
                 profile: str = "test", data_dir=None, log=_log_default):
        self.opts = opts or RunOptions()
        self.repo = Repo.open(root, profile=profile, whitelist_file=whitelist_file)
        self.log = log
        self._tmp = tempfile.TemporaryDirectory(prefix="dtl-test-")
        self.data_dir = Path(data_dir) if data_dir else Path(self._tmp.name) / "data"
        self.hub = None
        self.config = None
        self.summary = None
        self.failed_pipes: dict = {}   # pipe id -> why it failed (the last run)

    # -- upload -------------------------------------------------------------------------------
    def upload(self):
        from runtime.config import ConfigError, load_config
        from runtime.hub import Hub
        staged = self.repo.stage(Path(self._tmp.name) / "config")
        staged.mkdir(parents=True, exist_ok=True)
        try:
            # as a node takes an upload: only an unreadable configuration is refused; a pipe
            # or system with errors is invalid (it does not run), warnings are reported
            self.config = load_config(staged, env=self.repo.env(),
                                      secrets_file=self.repo.secrets_file(), lenient=True)
        except ConfigError as e:
            raise TestRunError("Failed to upload config:\n" + e.render()) from None
        for d in self.config.errors:
            self.log("error", f"{d.span}: {d.message} (the pipe or system is invalid)")
        for w in self.config.warnings:
            self.log("debug", f"{w.span}: warning: {w.message}")
        if self.config.warnings:
            n = len(self.config.warnings)
            self.log("warning", f"the configuration has {n} warning{'s' * (n != 1)} "
                                "(`dtl config validate` lists them)")
        # the staged copy holds only what the client uploads; files the configuration names
        # (file: urls, sqlite databases) resolve against the repository itself
        from runtime.confine import Roots, file_roots
        roots = Roots.build(self.repo.root, self.data_dir, metadata_roots=file_roots(self.config))
        self.hub = Hub(self.config, self.data_dir, roots=roots, push=self.opts.push,
                       backend=self.opts.backend)
        self.log("info", "Config uploaded successfully")
        self._post_testdata()

    def _post_testdata(self):
        jobs = self.repo.testdata() if self.repo.has_testdata() else []
        if not jobs:
            self.log("info", "No test data found to upload")
            return
        failures = []
        parse_float = Decimal if self.opts.float_as_decimal else float
        for pipe_id, path in jobs:
            rel = path.relative_to(self.repo.root).as_posix()
            try:
                entities = json.loads(path.read_text(encoding="utf-8"), parse_float=parse_float)
                if entities is None:
                    continue
                self.log("info", f"Uploading entities for {pipe_id}")
                if pipe_id not in self.config.pipes:
                    raise ValueError(f"there is no pipe {pipe_id!r}")
                self.hub.post(pipe_id, entities)
            except (ValueError, KeyError, OSError) as e:
                failures.append(f"Failed to post payload to pipe {pipe_id} ({rel}): {e}")
        if failures:
            raise TestRunError("\n".join(failures))

    # -- run ------------------------------------------------------------------------------------
    def run(self, scheduler_log=None):
        """Run until stable `runs` times; `scheduler_log(pipe_id, PipeRun)` sees every pipe run.
        The last RunSummary is kept in `self.summary` (for -output-run-statistics)."""
        def progress(pipe_id, res, done=False):
            if done and scheduler_log is not None:
                scheduler_log(pipe_id, res)
        for _ in range(max(self.opts.runs, 1)):
            s = self.summary = self.hub.run(until_stable=True, max_passes=self.opts.max_runs,
                                            extra_zero_runs=self.opts.zero_runs,
                                            progress=progress)
            # a failed pipe stays where it is: it is reported, the others ran, and verify
            # compares what exists (the failed pipe's tests fail with their diffs)
            for p in s.failed:
                self.log("error", f"pipe {p} failed: {s[p].reason}")
                self.failed_pipes[p] = s[p].reason
            if not s.stable:
                changing = [p for p, ps in s.pipes.items() if ps.changed]
                raise TestRunError(f"Run did not stabilize within {s.passes} passes; still "
                                   f"changing: {', '.join(changing) or '(none)'}")
            self.log("info", f"Run stable after {s.passes} passes")

    # -- verify ----------------------------------------------------------------------------------
    def output_pipes(self) -> dict:
        return {p.id: p for p in self.config.pipes_in_order() if p.role in ("output", "endpoint")}

    def _load_specs(self, pipes: dict, update: bool) -> tuple[dict, list]:
        """pipe id -> specs, and the errors that fail verify before any comparison."""
        specs, errors = {}, []
        root = self.repo.root
        for path in self.repo.spec_files():
            try:
                spec, warnings = load_spec(root, path)
            except SpecError as e:
                from runtime.config.problems import render_problems
                errors.append(render_problems([d for d in e.diagnostics if d.level == "error"],
                                              [], e.texts))
                continue
            for w in warnings:
                self.log("warning", f"{w.span}: {w.message}" + (f" ({w.hint})" if w.hint else ""))
            pipe_id = spec.pipe
            if not self.repo.allows_pipe(pipe_id):
                self.log("warning", f"Skipping test spec for non-whitelisted pipe '{pipe_id}'")
                continue
            if pipe_id not in pipes:
                if not update:
                    errors.append(f"Test spec '{path}' references a non-existing output pipe "
                                  f"'{pipe_id}' - please remove '{path}'")
                elif not spec.ignore:
                    self.log("warning", f"Test spec '{path}' references a non-existing output "
                                        f"pipe '{pipe_id}' - removing '{path}'..")
                    (root / path).unlink()
                    continue
            expected = root / spec.file
            if not spec.ignore and not expected.is_file():
                if update:
                    self.log("info", f"Creating empty 'expected' output file '{spec.file}'...")
                    expected.parent.mkdir(parents=True, exist_ok=True)
                    expected.write_text(EMPTY_EXPECTED, encoding="utf-8")
                else:
                    errors.append(f"Test spec '{path}' references non-existing 'expected' "
                                  f"output file '{spec.file}'")
            if not errors and spec.ignore and expected.is_file():
                if update:
                    expected.unlink()
                else:
                    self.log("warning", f"pipe '{pipe_id}' is ignored, but output file "
                                        f"'{spec.file}' still exists")
            specs.setdefault(pipe_id, []).append(spec)
        return specs, errors

    def verify(self) -> Report:
        report = Report()
        pipes = self.output_pipes()
        specs, report.errors = self._load_specs(pipes, update=False)
        if report.errors:
            report.errors.append("Test specs verify failed, correct errors and retry")
            return report
        report.spec_pipes = len(specs)
        if not specs:
            self.log("warning", "Found no tests (*.test.json) to run")
            return report
        outputs = HubOutputs(self.hub)
        for pipe_id in pipes:
            if not self.repo.allows_pipe(pipe_id):
                self.log("warning", f"Skipping verify for pipe '{pipe_id}'")
                continue
            if pipe_id not in specs:
                report.missing.append(pipe_id)
                continue
            for spec in specs[pipe_id]:
                if spec.ignore:
                    report.results.append(Result(spec, pipe_id, "ignored"))
                    continue
                out = self._compare(outputs, spec)
                report.results.append(Result(spec, pipe_id, "passed" if out.passed else "failed",
                                             out))
        return report

    def _compare(self, outputs: HubOutputs, spec: TestSpec) -> Outcome:
        path = self.repo.root / spec.file
        try:
            if spec.is_json:
                expected = json.loads(path.read_text(encoding="utf-8-sig"))
                return compare_json(spec, expected, outputs.entities(spec.pipe, spec.stage),
                                    self.opts)
            current = outputs.published(spec.pipe, spec.endpoint, spec.parameters)
            if spec.endpoint == "xml":
                return compare_xml(spec, path.read_bytes(), current)
            return compare_bytes(spec, path.read_bytes(), current)
        except ValueError as e:   # the expected file is not JSON
            return Outcome(False, "error", f"cannot read '{spec.file}': {e}")
        except (OutputError, SortError) as e:
            return Outcome(False, "error", str(e))
        except Exception as e:  # noqa: BLE001 - one pipe's failure fails its own test only
            return Outcome(False, "error", f"pipe {spec.pipe!r}: {type(e).__name__}: {e}")

    # -- update ----------------------------------------------------------------------------------
    def update(self) -> int:
        """Write the current output as expected; returns how many tests were updated."""
        pipes = self.output_pipes()
        specs, errors = self._load_specs(pipes, update=True)
        if errors:
            raise TestRunError("\n".join(errors))
        root = self.repo.root
        for pipe_id in pipes:
            if not self.repo.allows_pipe(pipe_id) or pipe_id in specs:
                continue
            self.log("warning", f"Found no spec for pipe {pipe_id} - creating empty spec file")
            rel = f"expected/{pipe_id}.test.json"
            (root / "expected").mkdir(exist_ok=True)
            (root / rel).write_text(EMPTY_SPEC, encoding="utf-8")
            specs[pipe_id] = [load_spec(root, rel)[0]]
        if not specs:
            raise TestRunError("Found no tests (*.test.json) to update")
        outputs, n = HubOutputs(self.hub), 0
        for pipe_id in pipes:
            if pipe_id not in specs or not self.repo.allows_pipe(pipe_id):
                continue
            for spec in specs[pipe_id]:
                if spec.ignore:
                    continue
                try:
                    if spec.is_json:
                        data = expected_json(spec, outputs.entities(pipe_id, spec.stage),
                                             self.opts)
                    else:
                        data = outputs.published(pipe_id, spec.endpoint, spec.parameters)
                        if spec.endpoint == "xml":
                            data = expected_xml(data)
                except (OutputError, SortError) as e:
                    raise TestRunError(f"{spec.path}: {e}") from None
                target = root / spec.file
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                n += 1
        return n

    def close(self):
        if self.hub is not None:
            self.hub.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
