"""Sesam configurations: loading, `$ENV`/`$SECRET` substitution, conditionals, validation with
positioned errors, effective values and a typed model for the pump engine.

    >>> from runtime.config import load_config
    >>> cfg = load_config("examples/hub")          # raises ConfigError listing every problem
    >>> [p.id for p in cfg.pipes_in_order()]
"""

from runtime.config.load import load_config
from runtime.config.model import Component, Config, DtlTransform, Metadata, Pipe, System
from runtime.config.problems import ConfigError, render_problems
from runtime.config.secret import Secret

__all__ = ["load_config", "Config", "Pipe", "System", "Metadata", "Component", "DtlTransform",
           "ConfigError", "Secret", "render_problems"]
