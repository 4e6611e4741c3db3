"""`dtl dataset ...`: inspect and fill datasets in a data directory (`--data`, `DTL_DATA`)."""

from __future__ import annotations

import json
import sys

import click

EXIT_DATA, EXIT_IO = 3, 4
_data = click.option("--data", "data", envvar="DTL_DATA", default="dtl-data", show_default=True,
                     type=click.Path(file_okay=False), help="Data directory (env DTL_DATA).")
_fmt = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                    show_default=True, help="json: one JSON document (NDJSON for entity streams).")


def _store(data):
    from storage import Store
    return Store(data)


def _fail(ex):
    from storage import EntityError, NoSuchDataset
    if isinstance(ex, NoSuchDataset):
        click.echo(f"error: {ex}", err=True)
        sys.exit(EXIT_DATA)
    if isinstance(ex, EntityError):
        click.echo(f"error: {ex}", err=True)
        sys.exit(EXIT_DATA)
    click.echo(f"error: {ex}", err=True)
    sys.exit(EXIT_IO)


def _guard(fn):
    import functools

    @functools.wraps(fn)
    def run(*a, **kw):
        from storage import EntityError, StorageError
        try:
            return fn(*a, **kw)
        except (StorageError, EntityError, OSError) as ex:
            _fail(ex)
    return run


def _dump(obj):
    from dtl import transit
    return transit.dumps(obj)


@click.group("dataset")
def dataset():
    """Datasets in a data directory: list, info, put, entities, get, verify, compact."""


@dataset.command("list")
@_data
@_fmt
@_guard
def list_cmd(data, fmt):
    """Names of the datasets."""
    names = _store(data).names()
    if fmt == "json":
        click.echo(json.dumps(names))
    else:
        for n in names:
            click.echo(n)


@dataset.command("info")
@click.argument("name")
@_data
@_fmt
@_guard
def info_cmd(name, data, fmt):
    """Counts, last offset, segments, flags and indexes of NAME."""
    ds = _store(data).reader(name)
    try:
        info = ds.info()
    finally:
        ds.close()
    if fmt == "json":
        click.echo(json.dumps(info))
    else:
        for k, v in info.items():
            click.echo(f"{k:<20} {json.dumps(v) if isinstance(v, (dict, list)) else v}")


@dataset.command("put")
@click.argument("name")
@click.argument("file", required=False, default="-")
@click.option("--batch-size", default=10_000, show_default=True, help="Entities per commit.")
@click.option("--force", is_flag=True, help="Store every version, changed or not.")
@_data
@_fmt
@_guard
def put_cmd(name, file, batch_size, force, data, fmt):
    """Append entities from FILE (NDJSON, `-` for stdin) with change detection.

    Bad lines and entities are reported (exit 3); the others are stored."""
    from storage import ops
    f = sys.stdin.buffer if file == "-" else open(file, "rb")
    try:
        tot, problems = ops.put_ndjson(_store(data), name, ops.bounded_lines(f),
                                       batch_size=batch_size, force=force)
    finally:
        if f is not sys.stdin.buffer:
            f.close()
    problems.sort(key=lambda p: p["line"])
    for p in problems:
        who = f" (_id {p['_id']!r})" if p["_id"] is not None else ""
        click.echo(f"error: line {p['line']}{who}: {p['error']}", err=True)
    if fmt == "json":
        click.echo(json.dumps({**tot, "problems": problems}))
    else:
        click.echo(f"stored {tot['stored']} of {tot['received']} entities "
                   f"({tot['unchanged']} unchanged, {tot['invalid']} invalid) in {tot['commits']} commits")
    if problems:
        sys.exit(EXIT_DATA)


@dataset.command("entities")
@click.argument("name")
@click.option("--since", type=int, default=None, help="Only versions after this offset.")
@click.option("--history", is_flag=True, help="Every version, not just the latest.")
@click.option("--limit", type=int, default=None)
@click.option("--no-deleted", is_flag=True, help="Omit deleted entities (latest only).")
@_data
@_fmt
@_guard
def entities_cmd(name, since, history, limit, no_deleted, data, fmt):
    """Stream entities as NDJSON in offset order (`_updated` is the offset)."""
    from storage import ops
    ds = _store(data).reader(name)
    out = sys.stdout
    try:
        with ops.bulk():
            for e in ds.entities(since=since, history=history, deleted=not no_deleted, limit=limit):
                out.write(_dump(e) + "\n")
    finally:
        ds.close()


@dataset.command("get")
@click.argument("name")
@click.argument("entity_id")
@_data
@_fmt
@_guard
def get_cmd(name, entity_id, data, fmt):
    """The latest version of ENTITY_ID (exit 3 if there is none)."""
    ds = _store(data).reader(name)
    try:
        e = ds.get(entity_id)
    finally:
        ds.close()
    if e is None:
        click.echo(f"error: no entity {entity_id!r} in {name!r}", err=True)
        sys.exit(EXIT_DATA)
    click.echo(_dump(e))


@dataset.command("verify")
@click.argument("name", required=False)
@_data
@_fmt
@_guard
def verify_cmd(name, data, fmt):
    """Check that segments, commit log and indexes agree (exit 4 on any problem)."""
    from storage import ops
    res = ops.verify(_store(data), [name] if name else None)
    if fmt == "json":
        click.echo(json.dumps({"ok": not any(res.values()), "datasets": res}))
    else:
        for n, probs in res.items():
            click.echo(f"{n}: {'ok' if not probs else f'{len(probs)} problems'}")
            for p in probs:
                click.echo(f"  {p}")
    if any(res.values()):
        sys.exit(EXIT_IO)


@dataset.command("compact")
@click.argument("name")
@click.option("--keep-versions", type=int, default=2, show_default=True)
@click.option("--time-threshold-hours", type=float, default=None)
@click.option("--hold-offset", type=int, default=None,
              help="Lowest offset a dependency-tracking reader still needs.")
@_data
@_fmt
@_guard
def compact_cmd(name, keep_versions, time_threshold_hours, hold_offset, data, fmt):
    """Remove old versions (the latest of every _id always stays)."""
    with _store(data).open(name, writer=True) as ds:
        try:
            res = ds.compact(keep_versions, time_threshold_hours, hold_offset)
        except ValueError as ex:
            raise click.UsageError(str(ex))
    if fmt == "json":
        click.echo(json.dumps(res))
    else:
        click.echo(f"removed {res['removed']} versions, rewrote {res['segments_rewritten']} segments")
