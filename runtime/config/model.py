"""The loaded configuration as a small typed model for the pump engine and the service.

Values are frozen: objects are `FrozenDict`s (still `dict`s, so `json.dumps` works) and lists are
tuples. Secret-derived strings are `Secret`s; use `reveal()` where a connector needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from dtl.errors import Diagnostic, Span


class FrozenDict(dict):
    """A dict that refuses changes after construction."""

    def _refuse(self, *_, **__):
        raise TypeError("configuration values are read-only; copy with thaw() to change them")

    __setitem__ = __delitem__ = clear = pop = popitem = _refuse  # type: ignore
    setdefault = update = _refuse  # type: ignore
    __ior__ = _refuse  # type: ignore

    def __hash__(self):  # frozen, so hashable like a tuple of items
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))


def freeze(value):
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value):
    """A plain mutable copy (Secrets stay Secrets)."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Component:
    """A source, transform or sink: its `type` and effective properties (defaults filled)."""

    type: str
    config: FrozenDict
    span: Span
    # set when the component was a `type: conditional` one: the condition value that chose it
    condition: str | None = None

    def get(self, key, default=None):
        return self.config.get(key, default)

    def __getitem__(self, key):
        return self.config[key]


@dataclass(frozen=True)
class DtlTransform(Component):
    """A `dtl` transform with its plan (`dtl.plan.Plan`: the rules lowered once, with their
    positions in the configuration file, checked, and a backend chosen for the pipe's
    options); explain, hops, dependency tracking and the pump all read that one plan."""

    plan: object = field(default=None, repr=False, compare=False)
    hops: tuple = ()   # (dataset, alias) pairs its hops and lookup-entity read

    @property
    def program(self):
        """The lowered program (dtl.ir.nodes.Program), or None if the rules had errors."""
        return self.plan.programs[0].program if self.plan is not None else None

    def compile(self, **kw):
        """A runnable `dtl.Transform` for these rules (keyword arguments as for dtl.compile),
        compiled from the plan: run-time errors point at file:line:col of the rules."""
        import dtl
        if self.plan is not None:
            return dtl.compile(self.plan, **kw)
        return dtl.compile(thaw(self.config["rules"]), file=self.span.file, **kw)


@dataclass(frozen=True)
class Pipe:
    id: str
    source: Component | None
    transforms: tuple
    sink: Component | None
    pump: FrozenDict
    effective: FrozenDict          # the whole effective entity
    original: FrozenDict           # as written (before substitution, defaults, conditionals)
    span: Span
    reads: tuple = ()              # datasets the source reads
    hops: tuple = ()               # datasets the transforms hop to / look up
    writes: tuple = ()             # datasets the sink writes
    valid: bool = True             # False only when loaded with force=True despite errors

    @property
    def file(self) -> str | None:
        return self.span.file

    def get(self, key, default=None):
        return self.effective.get(key, default)

    @property
    def inputs(self) -> tuple:
        """Every dataset the pipe depends on: source datasets, then hop datasets."""
        return tuple(dict.fromkeys(self.reads + self.hops))

    @property
    def pumped(self) -> bool:
        """False for pipes the scheduler never runs (receivers and publishers)."""
        src = self.source.type if self.source else None
        snk = self.sink.type if self.sink else None
        return src != "http_endpoint" and not (snk or "").endswith("_endpoint")

    @property
    def role(self) -> str:
        """input / endpoint / internal / output (test-runner.md §2)."""
        src, snk = self.source, self.sink
        if src is not None and src.type == "embedded":
            return "input"
        if snk is not None and snk.type.endswith("_endpoint"):
            return "endpoint"
        src_reads = src is not None and ("dataset" in src.config or "datasets" in src.config)
        sink_ds = snk is not None and "dataset" in snk.config
        if src_reads and sink_ds:
            return "internal"
        if not sink_ds:
            return "output"
        return "internal"


@dataclass(frozen=True)
class System:
    id: str
    type: str                      # the kind, without "system:"
    config: FrozenDict             # effective (secrets are Secret objects)
    original: FrozenDict
    span: Span
    valid: bool = True

    def get(self, key, default=None):
        return self.config.get(key, default)


@dataclass(frozen=True)
class Metadata:
    config: FrozenDict = field(default_factory=FrozenDict)
    span: Span | None = None

    @property
    def namespaced_identifiers(self) -> bool:
        return bool(self.config.get("namespaced_identifiers", False))

    @property
    def namespaces(self) -> FrozenDict:
        return self.config.get("namespaces", {}).get("default", FrozenDict())

    @property
    def global_defaults(self) -> FrozenDict:
        return self.config.get("global_defaults", FrozenDict())


@dataclass(frozen=True)
class Config:
    pipes: MappingProxyType        # _id -> Pipe, in configuration order
    systems: MappingProxyType      # _id -> System
    metadata: Metadata
    order: tuple                   # pipe ids, upstream before downstream (cycles: config order)
    warnings: tuple = ()           # Diagnostics
    errors: tuple = ()             # non-empty only when loaded with force=True
    texts: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), repr=False)
    env: MappingProxyType = field(default_factory=lambda: MappingProxyType({}), repr=False)
    secrets: object = field(default=None, repr=False)  # loader.Secrets; for DTL $SECRET(...)
    root: str | None = None        # the configuration folder (spans are relative to it)
    refused: tuple = ()            # errors of the whole configuration (see Problems.unscoped)

    def secret(self, name: str, system_id: str | None = None):
        """A secret's value (a Secret or str), or None; never logged or printed by us."""
        return self.secrets.lookup(name, system_id) if self.secrets is not None else None

    def pipes_in_order(self) -> list[Pipe]:
        return [self.pipes[i] for i in self.order]

    def writer(self, dataset: str) -> Pipe | None:
        """The pipe whose sink writes `dataset` (there is at most one)."""
        for p in self.pipes.values():
            if dataset in p.writes:
                return p
        return None

    def readers(self, dataset: str) -> list[Pipe]:
        """Pipes that read `dataset` through their source or their hops."""
        return [p for p in self.pipes.values() if dataset in p.inputs]

    def upstream(self, pipe_id: str) -> list[Pipe]:
        out = []
        for ds in self.pipes[pipe_id].inputs:
            w = self.writer(ds)
            if w is not None and w.id != pipe_id and w not in out:
                out.append(w)
        return out

    def render_warnings(self) -> str:
        from runtime.config.problems import render_problems
        return render_problems([], self.warnings, dict(self.texts))


__all__ = ["Config", "Pipe", "System", "Metadata", "Component", "DtlTransform", "FrozenDict",
           "freeze", "thaw", "Diagnostic"]
