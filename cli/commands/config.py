"""`dtl config validate` and `dtl config show`: Sesam configuration folders (runtime.config)."""

from __future__ import annotations

import json
import sys

import click

EXIT_INVALID, EXIT_IO = 1, 4


@click.group("config")
def config_group():
    """Load, check and inspect a Sesam configuration (pipes/, systems/, node-metadata)."""


def _common(f):
    f = click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False),
                     help="secrets file (default: <profile>-secrets.json or secrets.json)")(f)
    f = click.option("--env", "env_pairs", multiple=True, metavar="NAME=VALUE",
                     help="set an environment variable (overrides the profile file)")(f)
    f = click.option("--profile", "-p", default=None,
                     help="profile whose <profile>-env.json is used (default: test)")(f)
    return click.argument("path", type=click.Path())(f)


def _env(pairs) -> dict:
    out = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--env")
        out[name] = value
    return out


def _load(path, profile, env_pairs, secrets_file, force):
    from pathlib import Path

    from runtime.config import load_config
    if not Path(path).exists():
        click.echo(f"error: no configuration at {path}", err=True)
        sys.exit(EXIT_IO)
    return load_config(path, profile=profile, env=_env(env_pairs), secrets_file=secrets_file,
                       force=force)


def _diag_json(d, level):
    out = d.to_json()
    out["level"] = level
    return out


@config_group.command("validate")
@_common
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--strict", is_flag=True,
              help="treat warnings as errors (a linter's view; a node runs such pipes)")
def validate_cmd(path, profile, env_pairs, secrets_file, fmt, strict):
    """Check every pipe and system; print errors and warnings with file:line:col.

    Errors are what a Sesam node marks invalid (that pipe or system does not run); warnings
    are what a node accepts (unknown properties, unset $ENV/$SECRET, cycles, ...).
    Exit 0 ok (warnings allowed), 1 errors (or warnings with --strict)."""
    from runtime.config import ConfigError, render_problems
    try:
        cfg = _load(path, profile, env_pairs, secrets_file, force=False)
        if strict and cfg.warnings:
            raise ConfigError(list(cfg.warnings), [], dict(cfg.texts))
    except ConfigError as e:
        if fmt == "json":
            click.echo(json.dumps({"ok": False,
                                   "errors": [_diag_json(d, "error") for d in e.diagnostics],
                                   "warnings": [_diag_json(d, "warning") for d in e.warnings]},
                                  indent=1))
        else:
            click.echo(e.render(), err=True)
        sys.exit(EXIT_INVALID)
    if fmt == "json":
        click.echo(json.dumps({"ok": True, "errors": [],
                               "warnings": [_diag_json(d, "warning") for d in cfg.warnings],
                               "pipes": list(cfg.order), "systems": list(cfg.systems)},
                              indent=1))
        return
    if cfg.warnings:
        click.echo(render_problems([], cfg.warnings, dict(cfg.texts)), err=True)
    n, m, w = len(cfg.pipes), len(cfg.systems), len(cfg.warnings)
    click.echo(f"ok: {n} pipe{'s' * (n != 1)}, {m} system{'s' * (m != 1)}"
               + (f", {w} warning{'s' * (w != 1)}" if w else ""))


@config_group.command("show")
@_common
@click.option("--pipe", "pipe_id", default=None, help="show only this pipe")
@click.option("--effective", is_flag=True,
              help="values after substitution, conditionals and defaults (secrets as ***)")
def show_cmd(path, profile, env_pairs, secrets_file, pipe_id, effective):
    """Print the configuration as loaded (or --effective) as JSON; errors go to stderr."""
    from runtime.config import render_problems
    from runtime.config.model import thaw
    from runtime.config.secret import mask
    cfg = _load(path, profile, env_pairs, secrets_file, force=True)
    entities = []
    if pipe_id is None:
        if cfg.metadata.config:
            entities.append(cfg.metadata.config)
        entities.extend(s.config if effective else s.original for s in cfg.systems.values())
    for p in cfg.pipes.values():
        if pipe_id is None or p.id == pipe_id:
            entities.append(p.effective if effective else p.original)
    if pipe_id is not None and not entities:
        click.echo(f"error: no pipe {pipe_id!r}", err=True)
        sys.exit(EXIT_INVALID)
    out = mask(thaw(entities[0] if pipe_id is not None else entities))
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    if cfg.errors:
        click.echo(render_problems(cfg.errors, cfg.warnings, dict(cfg.texts)), err=True)
        sys.exit(EXIT_INVALID)
