"""Immutable IR of a DTL program. Every node carries the span it was lowered from.

Passes and backends never mutate nodes; they build new ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dtl.errors import Span

VARIABLES = ("_S", "_T", "_P", "_R", "_B", "_")


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: a JSON scalar, a dict literal ``{"a": 1}``, or a `literal`'s argument.

    Strings are already transit-decoded: ``"~t2015-01-01T00:00:00Z"`` is a DateTime here.
    """

    value: object
    span: Span


@dataclass(frozen=True, slots=True)
class Path:
    """A property path string: ``"_S.orders.amount"``, ``"_S."``, ``"o.cust_id"``.

    `head` is a variable of VARIABLES or a hop alias (`is_alias`); `elements` the property names.
    """

    head: str
    elements: tuple[str, ...]
    span: Span
    is_alias: bool = False
    text: str = field(default="", compare=False)  # as written; spelling is not identity


@dataclass(frozen=True, slots=True)
class Lambda:
    """A function-expression argument: `body` is evaluated with ``_`` bound to each value."""

    body: object
    span: Span


@dataclass(frozen=True, slots=True)
class HopsSpec:
    """One HOPS_SPEC dict of `hops`/`apply-hops`.

    `datasets` holds (dataset id, alias) pairs; `where` the conjuncts; `options` the other keys
    (recurse, exclude_root, max_depth, track-dependencies, trace) as constants; `returns` is
    None (last alias), a tuple of aliases, or an expression node; `subsets` maps alias -> node.
    """

    datasets: tuple[tuple[str, str], ...]
    where: tuple
    returns: object
    options: tuple[tuple[str, object], ...]
    subsets: tuple[tuple[str, object], ...]
    span: Span

    def option(self, name, default=None):
        for k, v in self.options:
            if k == name:
                return v
        return default


@dataclass(frozen=True, slots=True)
class Call:
    """A function application ``["name", args...]`` of an expression or transform function.

    `params` gives the signature parameter each argument was matched to (same length as args).
    """

    name: str
    kind: str
    args: tuple
    params: tuple
    span: Span

    @property
    def spec(self):
        from dtl.functions.registry import REGISTRY
        return REGISTRY.get(self.name, self.kind)


@dataclass(frozen=True, slots=True)
class TransformList:
    """A `transforms` argument: one transform or a list of them, in order."""

    items: tuple[Call, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Rule:
    """A named transform rule: ``"default": [transforms...]``."""

    name: str
    transforms: tuple[Call, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Program:
    """A DTL transform: its rules by name, `default` first."""

    rules: tuple[Rule, ...]
    span: Span

    def rule(self, name: str) -> Rule | None:
        for r in self.rules:
            if r.name == name:
                return r
        return None


def children(node) -> tuple:
    """The direct child nodes of a node, for generic walks."""
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Lambda):
        return (node.body,)
    if isinstance(node, TransformList):
        return node.items
    if isinstance(node, HopsSpec):
        out = list(node.where)
        if node.returns is not None and not isinstance(node.returns, tuple):
            out.append(node.returns)
        out.extend(n for _, n in node.subsets)
        return tuple(out)
    if isinstance(node, Rule):
        return node.transforms
    if isinstance(node, Program):
        return node.rules
    return ()


def label(node) -> str:
    """A short name for a node in explanations: the function, the path's variable, or
    "constant"."""
    if isinstance(node, Call):
        return node.name
    if isinstance(node, Path):
        return node.head
    return "constant"


def walk(node):
    """Every node of a tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
