"""`$SECRET(name)` references inside DTL string arguments (the encryption functions' keys).

The reference stays in the IR as written, so a secret never appears in explain output or
errors; it is resolved only when a function needs the key, through the `secrets` service
(`Context.services["secrets"]`: name -> value, or an object with `reveal()`). The syntax is
the configuration's reference grammar, `grammar/config_refs.lark`.
"""

from __future__ import annotations

from lark.exceptions import UnexpectedInput

from dtl.errors import DTLRuntimeError
from dtl.syntax.grammars import parser


def resolve(env, text: str) -> str:
    """`text` with every `$SECRET(name)` replaced by the secret's value."""
    if "$SECRET(" not in text:
        return text
    try:
        tree = parser("config_refs").parse(text)
    except UnexpectedInput:
        raise DTLRuntimeError("malformed $SECRET(...) reference") from None
    lookup = env.ctx.services.get("secrets") if env is not None else None
    parts = []
    for piece in tree.children:
        if piece.data == "secret":
            name = str(piece.children[1]).strip()
            value = lookup(name) if lookup is not None else None
            if value is None:
                raise DTLRuntimeError(f"secret {name!r} is not defined")
            parts.append(value.reveal() if hasattr(value, "reveal") else str(value))
        elif piece.data == "env":  # left to the configuration layer; kept as written
            parts.append(f"$ENV({piece.children[1]})")
        else:
            parts.append(str(piece.children[0]))
    return "".join(parts)
