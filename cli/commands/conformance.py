"""`dtl conformance`: run a conformance corpus and print pass counts per category."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.argument("cases", type=click.Path(exists=True, dir_okay=False))
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Write every case's transit-encoded result and error to this JSON file.")
@click.option("--only", default=None, help="Run only cases whose id starts with this prefix.")
@click.option("--show-failures", is_flag=True, help="List every failing case with its error.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format of the summary.")
@click.option("--backend", type=click.Choice(["auto", "closure", "vector"]), default="auto",
              show_default=True, help="auto: generated source with closure fallback.")
def conformance(cases, report_path, only, show_failures, fmt, backend):
    """Run the DTL conformance CASES (JSONL, format of shared/conformance/README.md).

    Prints passed/total per category and overall. Exits 0 when every case passes, 1 otherwise.
    """
    from dtl.conformance import load_cases, report, run_all, summarize

    items = load_cases(cases)
    if only:
        items = [c for c in items if c["id"].startswith(only)]
    results = run_all(items, backend=backend)
    summary = summarize(results)
    if report_path:
        with open(report_path, "w", encoding="utf-8") as f:
            json.dump(report(results), f, indent=1, ensure_ascii=False)
    if fmt == "json":
        click.echo(json.dumps(summary, indent=1))
    else:
        width = max((len(k) for k in summary["categories"]), default=10)
        for cat, c in summary["categories"].items():
            click.echo(f"{cat:<{width}}  {c.get('passed', 0):>4}/{c['total']:<4}")
        click.echo(f"{'total':<{width}}  {summary['passed']:>4}/{summary['total']:<4} "
                   f"({100 * summary['rate']:.1f}%)")
        if show_failures:
            for r in results:
                if not r.passed:
                    got = json.dumps(r.got, ensure_ascii=False)
                    click.echo(f"FAIL {r.id}: " + (r.error.splitlines()[0] if r.error else
                               f"got {got[:300]} expected {json.dumps(r.expected)[:300]}"))
    sys.exit(0 if summary["passed"] == summary["total"] else 1)
