"""`dtl compile`, `dtl explain`, `dtl eval`, `dtl transform`: thin wrappers over `dtl`."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import click

EXIT_COMPILE, EXIT_RUNTIME, EXIT_IO = 1, 3, 4
PASS_NAMES = ("lower", "sugar", "check", "choose")  # dtl.plan.PASS_NAMES (a test keeps them equal)


def _read(path: str) -> tuple[str, str]:
    try:
        if path == "-":
            return sys.stdin.read(), "<stdin>"
        return Path(path).read_text(encoding="utf-8"), path
    except OSError as e:
        click.echo(f"error: cannot read {path}: {e.strerror}", err=True)
        sys.exit(EXIT_IO)


def _options(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text)
        return json.loads(Path(text).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise click.BadParameter(f"not a JSON object or file: {e}") from None


def _datasets(path: str | None) -> dict | None:
    """Datasets for hops: a JSON object {dataset: [entities]}, or a folder of NDJSON files."""
    if not path:
        return None
    from dtl import transit
    p = Path(path)
    if p.is_dir():
        out = {}
        for f in sorted(p.glob("*.ndjson")) + sorted(p.glob("*.jsonl")):
            with f.open("rb") as fh:
                out[f.stem] = [transit.loads(line) for line in fh if line.strip()]
        return out
    return {k: transit.decode(v) for k, v in json.loads(p.read_text(encoding="utf-8")).items()}


def _compile_or_exit(text, file, fmt="text", *, build=None, **kw):
    """`dtl.compile(text, file=, **kw)` (or `build`, e.g. dtl.plan.build), or the errors
    printed and exit 1."""
    import dtl
    try:
        return (build or dtl.compile)(text, file=file, **kw)
    except dtl.DTLSyntaxError as e:
        if fmt == "json":
            click.echo(json.dumps({"ok": False, "errors": [d.to_json() for d in e.diagnostics]},
                                  indent=1))
        else:
            click.echo(e.render(), err=True)
        sys.exit(EXIT_COMPILE)


_fmt = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                    show_default=True, help="text for people, json for machines.")
_opts = click.option("--options", "options", metavar="JSON|FILE",
                     help='Pipe settings, e.g. \'{"namespaced_identifiers": true, '
                          '"namespaces": {"identity": "foo", "property": "bar"}}\'.')


@click.command("compile")
@click.argument("file")
@_fmt
@_opts
def compile_cmd(file, fmt, options):
    """Check a DTL document without running it.

    FILE is a pipe config, a dtl transform, a rules object or a list of transforms (- for
    stdin). Prints nothing and exits 0 when it is valid; otherwise prints every error with
    file:line:col, the line and a caret, and exits 1.
    """
    text, name = _read(file)
    _compile_or_exit(text, name, fmt, options=_options(options))
    if fmt == "json":
        click.echo(json.dumps({"ok": True, "errors": []}))


@click.command("explain")
@click.argument("file")
@_fmt
@_opts
@click.option("--backend", type=click.Choice(["auto", "closure", "vector"]), default="auto",
              show_default=True, help="Whose plan to show (vector: per expression, and why not).")
@click.option("--after", type=click.Choice(PASS_NAMES), default=None,
              help="Show the IR as the plan's passes left it after this one (and the hops "
                   "join plans once checked).")
def explain_cmd(file, fmt, options, backend, after):
    """Show the plan of a DTL document: rules, functions, datasets, properties read/written.

    Every function used is listed with its one-line summary from the function registry, and
    each transform with the backend that runs it.
    """
    from dtl.ir.explain import draft_json, render_draft, render_json, render_text
    text, name = _read(file)
    if after is not None and after != PASS_NAMES[-1]:
        from dtl.plan import build
        d = _compile_or_exit(text, name, fmt, build=build, options=_options(options),
                             backend=backend, after=after)
        click.echo(json.dumps(draft_json(d), indent=1) if fmt == "json" else
                   render_draft(d, name))
        return
    # the plan of the transform as compiled for these options and this backend
    t = _compile_or_exit(text, name, fmt, options=_options(options), backend=backend)
    if fmt == "json":
        click.echo(json.dumps(render_json(t.plan), indent=1))
    else:
        click.echo(render_text(t.plan, name))


@click.command("eval")
@click.argument("expr")
@click.option("--source", "-s", metavar="JSON", help="The source entity _S (transit JSON).")
@click.option("--datasets", metavar="PATH", help="Datasets for hops: JSON file or NDJSON folder.")
@_opts
def eval_cmd(expr, source, datasets, options):
    """Evaluate one DTL expression and print the result as transit-encoded JSON.

    \b
    dtl eval '["upper", "_S.name"]' --source '{"name": "ann"}'
    dtl eval '_S.orders.amount' -s '{"orders": [{"amount": 1}, {"amount": 2}]}'
    """
    import dtl
    from dtl import transit
    try:
        src = transit.loads(source) if source else {}
    except ValueError as e:
        raise click.BadParameter(f"--source is not JSON: {e}") from None
    try:
        fn = dtl.compile_expression(expr, file="<expr>", options=_options(options),
                                    datasets=_datasets(datasets))
    except dtl.DTLSyntaxError as e:
        click.echo(e.render(), err=True)
        sys.exit(EXIT_COMPILE)
    try:
        click.echo(transit.dumps(fn(src)))
    except dtl.DTLError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_RUNTIME)


@click.command("transform")
@click.argument("rules")
@click.argument("input", default="-")
@click.option("--datasets", metavar="PATH", help="Datasets for hops: JSON file or NDJSON folder.")
@_opts
@click.option("--fail-fast", is_flag=True, help="Stop at the first entity that fails.")
@click.option("--backend", type=click.Choice(["auto", "closure", "vector"]), default="auto",
              show_default=True, help="auto: generated source with closure fallback.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False),
              help="Write failing entities (NDJSON with _id and error) here instead of stderr.")
def transform_cmd(rules, input, datasets, options, fail_fast, errors_path, backend):
    """Run DTL RULES over entities: NDJSON in (INPUT, or - for stdin), NDJSON out (stdout).

    Streams one entity at a time (rules that run columnar: batches of 10,000). An entity that
    fails is reported with its _id and the rest go on; the exit code is 3 if any failed.
    """
    text, name = _read(rules)
    t = _compile_or_exit(text, name, options=_options(options), datasets=_datasets(datasets),
                         backend=backend)
    src = sys.stdin.buffer if input == "-" else _open(input)
    out = sys.stdout
    errs = open(errors_path, "w", encoding="utf-8") if errors_path else sys.stderr
    gc.disable()  # entities are acyclic: the cyclic GC only costs time here
    try:
        failed = _transform(t, src, out, errs, fail_fast)
    finally:
        gc.enable()
        out.flush()
        if errors_path:
            errs.close()
    sys.exit(EXIT_RUNTIME if failed else 0)


BATCH = 10_000  # entities per batch where batches pay: enough to amortize the columnar kernels


def _transform(t, src, out, errs, fail_fast) -> int:
    """Entities through the transform's Chain (the pump's batch runner), BATCH at a time if
    the transform gains from batches (`Transform.batched`: columnar rules, on auto those with
    a columnar join), else one at a time (streaming). Per entity its outputs or its failure,
    so the failing entity is named and the others still come out; output and error lines
    keep the input order. Returns how many failed."""
    from dtl import transit
    from runtime.transforms import Chain
    chain, size = Chain.of(t), BATCH if t.batched else 1
    failed = 0
    items = []  # (lineno, entity, JSON error or None), in input order

    def flush() -> bool:
        """Run the pending items; False if fail_fast stopped at a failure."""
        nonlocal failed
        if not items:
            return True
        results = iter(chain.run_many([e for _, e, err in items if err is None]))
        for lineno, e, err in items:
            if err is not None:
                errs.write(json.dumps({"line": lineno, "error": f"invalid JSON: {err}"}) + "\n")
            elif _report(lineno, e, next(results), out, errs):
                continue
            failed += 1
            if fail_fast:
                return False
        items.clear()
        return True

    for lineno, line in enumerate(src, 1):
        if not line.strip():
            continue
        try:
            items.append((lineno, transit.loads(line), None))
        except ValueError as e:
            items.append((lineno, None, e))
            if fail_fast:  # stop here: run what came before, then report this line
                break
        if len(items) >= size and not flush():
            return failed
    flush()
    return failed


def _report(lineno, entity, got, out, errs) -> bool:
    """Write one entity's outputs, or report its failure (`got`: an EntityFailure, whose
    cause is the transform's error); False if it failed."""
    from dtl import transit
    from runtime.transforms import EntityFailure
    if isinstance(got, EntityFailure):
        eid = entity.get("_id") if isinstance(entity, dict) else None
        errs.write(json.dumps({"line": lineno, "_id": transit.encode(eid),
                               "error": str(got.cause or got)}) + "\n")
        return False
    for r in got:
        out.write(transit.dumps(r))
        out.write("\n")
    return True


def _open(path):
    try:
        return open(path, "rb")
    except OSError as e:
        click.echo(f"error: cannot read {path}: {e.strerror}", err=True)
        sys.exit(EXIT_IO)


COMMANDS = [compile_cmd, explain_cmd, eval_cmd, transform_cmd]
