"""`$ENV(name)` / `$SECRET(name)` references inside configuration strings."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lark.exceptions import UnexpectedInput

from dtl.syntax.grammars import parser


@dataclass(frozen=True, slots=True)
class Ref:
    kind: str   # "env" or "secret"
    name: str


class RefSyntaxError(ValueError):
    """A reference is unterminated, empty or nested; `column` is 1-based in the string."""

    def __init__(self, column: int | None):
        self.column = column
        super().__init__("malformed $ENV/$SECRET reference")


def has_refs(s: str) -> bool:
    # a cheap guard so that most strings never reach the parser
    return "$ENV(" in s or "$SECRET(" in s


@functools.lru_cache(maxsize=4096)
def parse_refs(s: str) -> tuple:
    """The pieces of a string: plain `str` text and `Ref`s, in order."""
    if not has_refs(s):
        return (s,) if s else ()
    try:
        tree = parser("config_refs").parse(s)
    except UnexpectedInput as e:
        raise RefSyntaxError(getattr(e, "column", None)) from None
    out = []
    for piece in tree.children:
        if piece.data == "text":
            out.append(str(piece.children[0]))
        else:
            out.append(Ref(str(piece.data), str(piece.children[1])))
    return tuple(out)
