"""Real-world compatibility: run Sesam node repositories as `dtl test` does and summarise.

    .venv/bin/python bench/compat.py PATH [PATH ...] [--format json]

Each PATH is a repository folder in the Sesam client's layout (pipes/, systems/, testdata/,
expected/, node-metadata.conf.json); fetch public ones yourself, we never commit them. Per
repository: configuration errors and warnings (as a node reports them), pipes that ran,
failed, were skipped (grouped by reason), tests passed / failed / ignored, failed tests grouped
by kind (length mismatch, content mismatch, error), and the wall time. Figures go to
bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _group(reason: str) -> str:
    """A failure or skip reason without its names and numbers (to count like causes)."""
    r = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason or "")
    r = re.sub(r"\b\d+\b", "N", r)
    r = re.sub(r"at pipes/\S+", "at …", r)
    return r[:160]


def measure(path: str) -> dict:
    from runtime.testing.runner import RunOptions, Session, TestRunError
    out: dict = {"repository": path}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dtl-compat-") as tmp:
        s = Session(path, RunOptions(), data_dir=os.path.join(tmp, "data"))
        try:
            try:
                s.upload()
            except TestRunError as e:
                out.update(loaded=False, error=str(e).splitlines()[0][:300])
                return out
            cfg = s.config
            out.update(loaded=True, pipes=len(cfg.pipes), systems=len(cfg.systems),
                       config_errors=len(cfg.errors), config_warnings=len(cfg.warnings))
            try:
                s.run()
                out["stable"] = True
            except TestRunError as e:
                out["stable"] = False
                out["run_error"] = str(e)[:300]
            summ = s.summary
            status = collections.Counter(p.status for p in summ.pipes.values())
            out["pipe_runs"] = dict(status)
            # endpoints and pipes that push outside are not pumped in a test run: their
            # output is what the tests compare
            out["pipe_runs"]["not pumped"] = len(cfg.pipes) - sum(status.values())
            out["passes"] = summ.passes
            out["skipped_because"] = dict(collections.Counter(
                _group(p.reason) for p in summ.pipes.values() if p.status == "skipped"))
            out["failed_because"] = dict(collections.Counter(
                _group(p.reason) for p in summ.pipes.values() if p.status == "failed"))
            out["failed_pipes"] = sorted(p.pipe for p in summ.pipes.values()
                                         if p.status == "failed")
            report = s.verify()
            ignored = sum(r.status == "ignored" for r in report.results)
            out.update(tests_passed=report.passed, tests_failed=report.failed,
                       tests_ignored=ignored, verify_errors=report.errors[:5])
            out["test_failures"] = dict(collections.Counter(
                (r.outcome.kind or "failed") + ": " + _group(r.outcome.message or "")[:80]
                for r in report.results if r.status == "failed"))
        finally:
            s.close()
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _text(r: dict) -> str:
    lines = [f"== {r['repository']}"]
    if not r.get("loaded"):
        return "\n".join(lines + [f"  refused at load: {r.get('error')}"])
    lines.append(f"  config: {r['pipes']} pipes, {r['systems']} systems; "
                 f"{r['config_errors']} errors, {r['config_warnings']} warnings")
    lines.append(f"  run: {'stable' if r['stable'] else 'NOT stable'} after {r['passes']} "
                 f"passes; pipes {r['pipe_runs']}")
    for title, key in (("skipped", "skipped_because"), ("failed", "failed_because")):
        for reason, n in sorted(r[key].items(), key=lambda kv: -kv[1])[:8]:
            lines.append(f"    {title} {n:3d}  {reason}")
    lines.append(f"  tests: {r['tests_passed']} passed, {r['tests_failed']} failed, "
                 f"{r['tests_ignored']} ignored  ({r['seconds']} s)")
    for cause, n in sorted(r["test_failures"].items(), key=lambda kv: -kv[1])[:10]:
        lines.append(f"    {n:3d}  {cause}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--format", choices=["text", "json"], default="text")
    a = ap.parse_args(argv)
    results = [measure(p) for p in a.paths]
    if a.format == "json":
        print(json.dumps(results, indent=1))
    else:
        print("\n".join(_text(r) for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
