"""Loads the Lark grammars of `grammar/` once per process."""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark


def grammar_text(name: str) -> str:
    return resources.files("grammar").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def parser(name: str) -> Lark:
    """An LALR parser for `grammar/<name>.lark` with positions on every tree node."""
    return Lark(grammar_text(f"{name}.lark"), parser="lalr", lexer="contextual", cache=True,
                propagate_positions=True, maybe_placeholders=True)
