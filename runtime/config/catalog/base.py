"""The vocabulary of the property catalog: JSON types, properties and component kinds.

The catalog is data: one `Kind` per pipe/pump/source/transform/sink/system type, each a table of
`Prop`s transcribed from Sesam's property tables (names, types, defaults, required). The
validator and the defaults filler both read it, so a property is described in one place only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType


class T(enum.Flag):
    """The JSON types a property accepts."""

    STR = enum.auto()
    INT = enum.auto()
    FLOAT = enum.auto()
    BOOL = enum.auto()
    DICT = enum.auto()
    LIST = enum.auto()
    NULL = enum.auto()


STR, INT, FLOAT, BOOL, DICT, LIST, NULL = T.STR, T.INT, T.FLOAT, T.BOOL, T.DICT, T.LIST, T.NULL
NUM = INT | FLOAT
ANY = STR | NUM | BOOL | DICT | LIST | NULL
STRS = STR | LIST  # Sesam often takes "a string or a list of strings"

_TYPE_NAMES = [(T.STR, "string"), (T.INT, "integer"), (T.FLOAT, "number"), (T.BOOL, "boolean"),
               (T.DICT, "object"), (T.LIST, "list"), (T.NULL, "null")]


def type_names(t: T) -> str:
    names = [n for flag, n in _TYPE_NAMES if flag in t]
    if T.INT in t and T.FLOAT in t:
        names.remove("integer")
    return " or ".join(names)


class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True)
class Prop:
    """One documented property. `children` makes an object property closed over its keys."""

    name: str
    types: T = ANY
    default: object = MISSING
    required: bool = False
    enum: tuple | None = None
    minimum: int | float | None = None
    children: MappingProxyType | None = None
    # values that are JSON data of the user's (embedded entities, DTL rules): never walked
    opaque: bool = False


def p(name: str, types: T = ANY, default=MISSING, *, req: bool = False, enum=None,
      min=None, opaque: bool = False) -> Prop:
    """Shorthand used by the catalog tables; a dotted name declares a sub-property."""
    return Prop(name, types, default, req, tuple(enum) if enum else None, min, None, opaque)


def table(*props: Prop) -> MappingProxyType:
    """Builds a read-only property table; `a.b` entries nest under `a` (created if needed)."""
    flat: dict[str, Prop] = {}
    nested: dict[str, list[Prop]] = {}
    for pr in props:
        head, dot, rest = pr.name.partition(".")
        if dot:
            nested.setdefault(head, []).append(
                Prop(rest, pr.types, pr.default, pr.required, pr.enum, pr.minimum, None, pr.opaque))
        else:
            flat[pr.name] = pr  # a later entry overrides an inherited one
    for head, kids in nested.items():
        parent = flat.get(head) or Prop(head, DICT)
        merged = dict(parent.children or {})
        merged.update(table(*kids))
        flat[head] = Prop(parent.name, parent.types | DICT, parent.default, parent.required,
                          parent.enum, parent.minimum, MappingProxyType(merged), parent.opaque)
    return MappingProxyType(flat)


@dataclass(frozen=True)
class Kind:
    """A component type: `dataset` source, `system:url`, the pipe itself ..."""

    role: str                 # "pipe", "pump", "source", "transform", "sink", "system", "metadata"
    name: str                 # the `type` value
    props: MappingProxyType
    priority: str = "P1"      # how far our runtime supports it (spec tables); validated alike
    # at least one of each group must be present (`table` or `query` for a sql source ...)
    one_of: tuple = ()
    # the system kinds a `system` property may name (empty: any)
    system_kinds: tuple = ()
    # continuation support (supports_since, is_since_comparable, is_chronological) of sources
    continuation: tuple | None = None
    extra: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


def kind(role: str, name: str, *props: Prop, base: tuple = (), priority: str = "P1",
         one_of: tuple = (), system_kinds: tuple = (), continuation: tuple | None = None,
         **extra) -> Kind:
    return Kind(role, name, table(*base, *props), priority, one_of, system_kinds, continuation,
                MappingProxyType(extra))
