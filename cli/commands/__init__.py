"""One module per `dtl` subcommand; `register` adds them all to the group."""

from __future__ import annotations


def register(group):
    from cli.commands import conformance, dtl_cmds, functions
    group.add_command(conformance.conformance)
    group.add_command(functions.functions_cmd)
    for cmd in dtl_cmds.COMMANDS:
        group.add_command(cmd)
    group.add_command(__import__("cli.commands.config", fromlist=["config"]).config_group)
    group.add_command(__import__("cli.commands.dataset", fromlist=["dataset"]).dataset)
    [group.add_command(c) for c in __import__("cli.commands.test", fromlist=["test"]).COMMANDS]
    group.add_command(__import__("cli.commands.run", fromlist=["run"]).run_cmd)
    [group.add_command(c) for c in __import__("cli.commands.serve", fromlist=["serve"]).COMMANDS]
