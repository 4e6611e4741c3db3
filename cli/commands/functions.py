"""`dtl functions`: list the DTL functions from the registry."""

from __future__ import annotations

import json

import click


@click.command("functions")
@click.argument("name", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="markdown renders docs/functions.md.")
def functions_cmd(name, fmt):
    """List every DTL function with its signature and summary (or one, by NAME)."""
    import dtl  # noqa: F401  (loads the registry)
    from dtl.functions.reference import markdown
    from dtl.functions.registry import REGISTRY
    specs = [s for s in REGISTRY.specs() if name is None or s.name == name]
    if name and not specs:
        raise click.BadParameter(f"no DTL function named {name!r}")
    if fmt == "markdown":
        click.echo(markdown())
    elif fmt == "json":
        click.echo(json.dumps([{"name": s.name, "kind": s.kind, "category": s.category,
                                "signature": str(s.signature), "summary": s.summary,
                                "backends": sorted(s.backends), "doc": s.doc} for s in specs],
                              indent=1))
    else:
        for s in specs:
            click.echo(f"{s.name:<22} {s.kind:<10} {s.summary}")
            click.echo(f"{'':<22} {s.name}({s.signature})")
