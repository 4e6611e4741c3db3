"""The evaluation environment that compiled closures receive, and per-run context."""

from __future__ import annotations

from dataclasses import dataclass, field

from dtl.provider import DatasetProvider, NullProvider

# Transform closures return None to go on, or one of these to stop the rule.
FILTERED = "filtered"
DISCARDED = "discarded"


@dataclass
class Options:
    """Compile-time options (pipe settings that change DTL behaviour)."""

    namespaced_identifiers: bool = False
    identity_namespace: str | None = None
    property_namespace: str | None = None

    @classmethod
    def from_dict(cls, d: dict | None) -> Options:
        d = d or {}
        ns = d.get("namespaces") or {}
        return cls(bool(d.get("namespaced_identifiers", False)), ns.get("identity"),
                   ns.get("property"))


@dataclass
class Context:
    """What is shared by every evaluation of one compiled transform."""

    provider: DatasetProvider = field(default_factory=NullProvider)
    options: Options = field(default_factory=Options)
    rules: dict = field(default_factory=dict)  # rule name -> tuple of transform closures
    fast_rules: dict = field(default_factory=dict)  # rule name -> generated function
    services: dict = field(default_factory=dict)  # runtime hooks: previous-version lookup etc.


class Env:
    """Variables in scope: _S, _T, _ (U), _P (a dict), the root env (for _R), _B, hop aliases.

    `out` is the list that `create` appends to; nested envs share it. `R` is None in the root
    scope itself: a reference to self would be a cycle that only the cyclic GC could free,
    and bulk runs switch that GC off.
    """

    __slots__ = ("S", "T", "U", "P", "R", "B", "aliases", "ctx", "out")

    def __init__(self, S, T, ctx, *, P=None, R=None, B=None, U=None, aliases=None, out=None):
        self.S = S
        self.T = T
        self.U = U
        self.P = P
        self.R = R
        self.B = B if B is not None else {}
        self.aliases = aliases
        self.ctx = ctx
        self.out = out if out is not None else []

    def with_u(self, u) -> Env:
        """The same scope with ``_`` bound to `u` (for function expressions)."""
        e = Env.__new__(Env)
        e.S, e.T, e.U, e.P, e.R, e.B = self.S, self.T, u, self.P, self.R, self.B
        e.aliases, e.ctx, e.out = self.aliases, self.ctx, self.out
        return e

    def with_aliases(self, aliases: dict) -> Env:
        e = self.with_u(self.U)
        e.aliases = aliases
        return e

    def child(self, source, target) -> Env:
        """A nested rule's scope (apply): _P is this scope's _S/_T/_P, _R stays the root."""
        parent = {"_S": self.S, "_T": self.T}
        if self.P is not None:
            parent["_P"] = self.P
        return Env(source, target, self.ctx, P=parent, R=self.R or self, B=self.B, out=self.out)

    def root_dict(self) -> dict:
        root = self.R or self
        return {"_S": root.S, "_T": root.T}
