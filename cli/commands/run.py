"""`dtl run DIR`: run a Sesam configuration on this machine, no server.

Data directory: `--data DIR`, else env DTL_DATA, else `<DIR>/.dtl-data` beside the
configuration (so two configurations never share datasets by accident)."""

from __future__ import annotations

import json
import os
import sys

import click

EXIT_FAILED, EXIT_IO = 3, 4


def _data_dir(config_dir, data):
    if data:
        return data
    if os.environ.get("DTL_DATA"):
        return os.environ["DTL_DATA"]
    base = config_dir if os.path.isdir(config_dir) else os.path.dirname(config_dir) or "."
    return os.path.join(base, ".dtl-data")


@click.command("run")
@click.argument("config_dir", type=click.Path(exists=True))
@click.option("--data", "data", type=click.Path(file_okay=False),
              help="Data directory (default: env DTL_DATA, else <DIR>/.dtl-data).")
@click.option("--profile", default=None, help="Environment profile (<profile>-env.json).")
@click.option("--allow-path", "allow_paths", multiple=True, type=click.Path(file_okay=False),
              help="Another folder file: urls and sqlite files may use (repeatable; DIR and "
                   "<data>/files are always allowed).")
@click.option("--pipe", "pipes", multiple=True, help="Run only these pipes (repeatable).")
@click.option("--watch", is_flag=True, help="Keep running pipes on their schedules.")
@click.option("--once", is_flag=True, help="One pass instead of running until stable.")
@click.option("--full", is_flag=True, help="Full runs (rescans with deletion tracking).")
@click.option("--fresh", is_flag=True, help="Delete the data directory first.")
@click.option("--keep-going", is_flag=True,
              help="A failing entity is logged and skipped however many fail in a row.")
@click.option("--show", "show", multiple=True, metavar="PIPE",
              help="Print the output entities of a pipe afterwards (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--backend", type=click.Choice(["auto", "closure", "vector"]), default="auto",
              show_default=True, help="The DTL backend pipes run on.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
              show_default=True,
              help="Where pump runs happen: this process, or tasks on a Dask distributed "
                   "cluster, one per dataset shard (docs/scale-out.md).")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="--executor dask: worker processes of the local cluster on 127.0.0.1 "
                   "(default 2).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="--executor dask: use the running scheduler at ADDRESS (tcp://host:port) "
                   "instead of starting a local cluster.")
@click.option("--shards", type=click.IntRange(1, 4096), default=None,
              help="--executor dask: shards of new sink datasets (default: --workers).")
@click.option("--inline-below", type=click.IntRange(0), default=None, metavar="N",
              help="--executor dask: a pipe whose source holds fewer than N entities runs in "
                   "this process, not as tasks on the workers (default 10000; 0: never).")
def run_cmd(config_dir, data, profile, allow_paths, pipes, watch, once, full, fresh, keep_going,
            show, fmt, backend, executor, workers, scheduler, shards, inline_below):
    """Run every pipe of a configuration in dependency order until nothing changes, showing
    progress and a summary of entities in/out/errors per pipe. A pipe with configuration
    errors does not run and a failing pipe stops alone; the others run. Exit 0 ok, 1 the
    configuration cannot be read (or a path is refused), 3 a pipe failed or is invalid, 4 I/O."""
    from runtime.config import ConfigError, load_config
    from runtime.hub import Hub
    try:
        # as a node takes it: only an unreadable configuration is refused as a whole
        cfg = load_config(config_dir, profile=profile, lenient=True)
    except ConfigError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    if cfg.errors:
        from runtime.config import render_problems
        click.echo(render_problems(list(cfg.errors), [], dict(cfg.texts)), err=True)
        bad = sorted(p.id for p in cfg.pipes.values() if not p.valid)
        click.echo(f"{len(bad)} invalid pipe(s) will not run: {', '.join(bad)}", err=True)
    if cfg.warnings:
        n = len(cfg.warnings)
        click.echo(f"{n} configuration warning{'s' * (n != 1)} (`dtl config validate` lists "
                   "them)", err=True)
    data = _data_dir(config_dir, data)
    if fresh and os.path.isdir(data):
        import shutil
        shutil.rmtree(data)
    from runtime.confine import Roots, check_config, file_roots
    roots = Roots.build(cfg.root, data, allow_paths, file_roots(cfg))
    refused = check_config(cfg, roots)
    if refused:
        click.echo(str(ConfigError(refused, [], dict(cfg.texts))), err=True)
        sys.exit(1)
    if executor == "local" and (workers or scheduler or shards or inline_below is not None):
        click.echo("--workers, --scheduler, --shards and --inline-below need --executor dask",
                   err=True)
        sys.exit(2)
    if executor == "dask" and watch:
        click.echo("--watch runs with the local executor only (for now)", err=True)
        sys.exit(2)
    if executor == "dask":
        from runtime.executor import INLINE_BELOW, DistributedHub
        from runtime.executor.engine import DaskEngine, EngineMissing
        try:
            engine = DaskEngine(workers=workers or 2, address=scheduler)
        except EngineMissing as e:
            click.echo(str(e), err=True)
            sys.exit(2)
        except Exception as e:  # noqa: BLE001 - a cluster that does not start is an answer
            click.echo(f"error: the dask cluster did not start: {type(e).__name__}: {e}",
                       err=True)
            sys.exit(EXIT_IO)
        hub = DistributedHub(cfg, data, engine=engine, shards=shards or workers or 2,
                             config_dir=config_dir, allow_paths=allow_paths, profile=profile,
                             backend=backend, keep_going=keep_going, roots=roots,
                             inline_below=INLINE_BELOW if inline_below is None else inline_below)
    else:
        engine = None
        hub = Hub(cfg, data, keep_going=keep_going, roots=roots, backend=backend)
    try:
        if watch:
            _watch(hub, pipes or None, fmt)
            return
        text = fmt == "text"
        summary = _run(hub, list(pipes) or None, not once, full, text)
        if text:
            _table(summary, data)
            for ev in summary.errors[:20]:
                click.echo(f"entity error in {ev['pipe']}: {ev['_id']}: "
                           f"{ev['original_error_message']}", err=True)
            for pid in show:
                click.echo(f"\n{pid}:")
                from dtl import transit
                for e in hub.output(pid):
                    click.echo(transit.dumps(e))
        else:
            out = summary.as_dict()
            out["data"] = data
            if show:
                from dtl import transit
                out["outputs"] = {pid: json.loads(transit.dumps(hub.output(pid))) for pid in show}
            click.echo(json.dumps(out, indent=2, default=str))
        sys.exit(0 if summary.ok and not cfg.errors else EXIT_FAILED)
    except OSError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_IO)
    finally:
        hub.close()
        if engine is not None:
            engine.close()


def _run(hub, pipes, until_stable, full, live):
    if not live:
        return hub.run(pipes, until_stable=until_stable, full=full)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:<24}"), BarColumn(bar_width=None),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                  console=console, transient=True) as prog:
        tasks = {}

        def progress(pid, r, done=False):
            t = tasks.get(pid)
            if t is None:
                t = tasks[pid] = prog.add_task(pid, total=None, info="")
            prog.update(t, info=f"read {r.read}  changed {r.changed}  errors {r.errors}"
                        + (f"  [{r.status}]" if done else ""))
        return hub.run(pipes, until_stable=until_stable, full=full, progress=progress)


def _table(summary, data):
    from rich.console import Console
    from rich.table import Table
    failed = summary.failed
    state = (f"FAILED: {len(failed)} of {len(summary.pipes)} pipes ({', '.join(failed)})"
             if failed else "stable" if summary.stable else "done")
    t = Table(title=f"dtl run: {summary.passes} pass(es), {state} "
              f"in {summary.seconds:.2f}s  (data: {data})")
    for col in ("pipe", "runs", "in", "out", "changed", "deleted", "queued", "errors",
                "status"):
        t.add_column(col, justify="left" if col in ("pipe", "status") else "right",
                     no_wrap=col == "pipe")
    for p in summary.pipes.values():
        t.add_row(p.pipe, str(p.runs), str(p.read), str(p.written), str(p.changed),
                  str(p.deleted), str(p.queued), str(p.errors), p.status)
    Console().print(t)
    # reasons in whole lines below the table: a narrow terminal wraps a column to pieces
    for p in summary.pipes.values():
        if p.reason:
            click.echo(f"{p.pipe}: {p.status}: {p.reason}", err=p.status == "failed")


def _watch(hub, pipes, fmt):
    from runtime.scheduler import Scheduler
    sched = Scheduler(hub, pipes)

    def on_run(r):
        if fmt == "json":
            click.echo(json.dumps(r.as_dict(), default=str))
        elif r.status != "skipped":
            click.echo(f"{r.pipe}: {r.sync_type} run, read {r.read}, changed {r.changed}, "
                       f"errors {r.errors} [{r.status}]{': ' + r.reason if r.reason else ''}")
    try:
        sched.run_forever(on_run)
    except KeyboardInterrupt:
        pass
