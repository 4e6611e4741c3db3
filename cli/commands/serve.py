"""`dtl serve [DIR]`: a configuration folder and its data directory as a running service with
Sesam's API; `dtl token create --role R`: a bearer token for it."""

from __future__ import annotations

import sys

import click

from cli.commands.run import _data_dir


@click.command("serve")
@click.argument("config_dir", required=False, type=click.Path(exists=True))
@click.option("--data", type=click.Path(file_okay=False),
              help="Data directory (default: env DTL_DATA, else <DIR>/.dtl-data).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9042, show_default=True, type=int)
@click.option("--profile", default=None, help="Environment profile of DIR (<profile>-env.json).")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False))
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False))
@click.option("--jwt-public-key", type=click.Path(exists=True, dir_okay=False),
              help="PEM public key: also accept RS256 tokens of that issuer.")
@click.option("--no-auth", is_flag=True, help="No tokens needed (loopback binds only).")
@click.option("--keep-going", is_flag=True, help="Pump runs skip failing entities.")
@click.option("--no-scheduler", is_flag=True,
              help="Pipes run only when asked (pump operations); also set by the node "
                   "metadata's task_manager.disable_pump_scheduler.")
@click.option("--allow-path", "allow_paths", multiple=True, type=click.Path(file_okay=False),
              help="Another folder file: urls and sqlite files may use (repeatable; the "
                   "configuration folder and <data>/files are always allowed).")
@click.option("--max-body-size", default="64MB", show_default=True, metavar="SIZE",
              help="Largest request body (e.g. 512k, 64MB, 1GiB); bigger ones answer 413.")
def serve_cmd(config_dir, data, host, port, profile, ssl_certfile, ssl_keyfile, jwt_public_key,
              no_auth, keep_going, no_scheduler, allow_paths, max_body_size):
    """Serve Sesam's API and the Management Studio (/studio) for a configuration folder
    (deployed at start; later changes come through the API and are kept in the data
    directory). Without DIR, the configuration stored in --data is served.

    The node runs itself: each pipe fires by its cron_expression or schedule_interval, a
    changed dataset signals the pipes reading it, one run per pipe at a time. SIGTERM or
    Ctrl+C lets running pumps finish the batch they are writing, then stops."""
    from runtime.config import ConfigError
    from runtime.service.server import build, serve
    if config_dir is None and data is None:
        raise click.UsageError("give a configuration folder, --data, or both")
    data = data if config_dir is None else _data_dir(config_dir, data)
    from runtime.service.bodies import parse_size
    try:
        max_body = parse_size(max_body_size)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--max-body-size") from None
    pub = open(jwt_public_key).read() if jwt_public_key else None
    try:
        app = build(data, config_dir, profile=profile, auth=not no_auth, host=host,
                    rs256_public_key=pub, keep_going=keep_going,
                    scheduler=not no_scheduler, max_body=max_body,
                    allow_paths=allow_paths)
    except ConfigError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    node = app.state.node
    cfg = node.hub.config if node.hub is not None else None
    if cfg is not None and cfg.errors:
        from runtime.config import render_problems
        click.echo(render_problems(list(cfg.errors), [], dict(cfg.texts)), err=True)
        bad = sorted(p.id for p in cfg.pipes.values() if not p.valid)
        click.echo(f"dtl serve: {len(bad)} invalid pipe(s) will not run: {', '.join(bad)}",
                   err=True)
    base = f"{'https' if ssl_certfile else 'http'}://{host}:{port}"
    sched = "off" if no_scheduler or app.state.node.scheduler.paused else "on"
    click.echo(f"dtl serve: {data} on {base}/api (Studio: {base}/studio; scheduler {sched})",
               err=True)
    serve(app, host, port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)


@click.group("token")
def token_group():
    """Bearer tokens for `dtl serve`."""


@token_group.command("create")
@click.option("--role", required=True, type=click.Choice(["Admin", "Developer", "User", "Guest"]))
@click.option("--data", type=click.Path(file_okay=False),
              help="Data directory whose key signs the token (default: env DTL_DATA, else "
                   "<DIR>/.dtl-data).")
@click.argument("config_dir", required=False, type=click.Path(exists=True))
@click.option("--email", default=None, help="Adds the principal user:<email>.")
@click.option("--principal", "principals", multiple=True, help="Extra principal (repeatable).")
@click.option("--days", default=30.0, show_default=True, type=float, help="Validity.")
@click.option("--private-key", type=click.Path(exists=True, dir_okay=False),
              help="Sign RS256 with this PEM key instead of the data directory's HS256 key.")
def token_create(role, data, config_dir, email, principals, days, private_key):
    """Print a JWT with the role's principal (group:<role>)."""
    from runtime.service.auth import local_key, mint
    if private_key:
        key, alg = open(private_key).read(), "RS256"
    else:
        if data is None and config_dir is None:
            import os
            if not os.environ.get("DTL_DATA"):
                raise click.UsageError("give --data (or DIR) to find the signing key")
        key, alg = local_key(_data_dir(config_dir or ".", data)), "HS256"
    click.echo(mint(key, role, email=email, principals=principals, ttl=days * 86400,
                    algorithm=alg))


COMMANDS = [serve_cmd, token_group]
