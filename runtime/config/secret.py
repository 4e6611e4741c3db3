"""Secret values: strings that never show themselves when printed, logged or repr'd."""

from __future__ import annotations


class Secret:
    """A secret-derived string. `str()`, `repr()`, `format()` and JSON output show `***`;
    only `reveal()` gives the value, so leaking it takes a deliberate call."""

    __slots__ = ("_value",)
    MASK = "***"

    def __init__(self, value: str):
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return self._value

    def __setattr__(self, *_):
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return self.MASK

    def __format__(self, spec) -> str:
        return format(self.MASK, spec)

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self):
        # pickling would write the value to wherever the pickle goes
        raise TypeError("a Secret cannot be pickled")


def mask(value):
    """A JSON-able copy of a value with every Secret replaced by the mask."""
    if isinstance(value, Secret):
        return Secret.MASK
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


def reveal(value):
    """A plain copy with every Secret revealed (for connectors, which need the real value)."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(v) for v in value]
    return value
