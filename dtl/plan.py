"""The compiled plan of a DTL transform: built once, read by everything.

`build(source, options=, backend=)` runs the passes of PASSES (pure functions, Draft ->
Draft) over a document:

- ``lower``: JSON tree -> IR (dtl.ir.lower), every node with its span;
- ``sugar``: shorthand forms rewritten to core forms (dtl.ir.sugar: `case` as nested `if`),
  so the backends run (and generate code and kernels for) the core forms only;
- ``check``: the checks that need the whole IR (hops join planning, `dict` arity), so that
  every consumer (`dtl compile`, `dtl config validate`, the pipes) refuses the same rules
  with the same diagnostics;
- ``choose``: the backend of each rule for the given options and backend.

The result is a frozen `Plan`. `dtl.compile` builds a Transform from it (and from nothing
else), `dtl explain` prints it, the configuration loader keeps one per dtl transform, and the
runtime compiles the pipe's transforms from that one plan. `Plan.replan(options, backend)`
reruns only the ``choose`` pass: a plan is lowered once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dtl.errors import Diagnostic, DTLCompileError, Span
from dtl.ir.nodes import Call, HopsSpec, Program, walk

BACKENDS = ("auto", "closure", "vector")


@dataclass(frozen=True)
class HopsPlan:
    """One hops spec, planned: its join steps in order and the remaining filters."""

    spec: HopsSpec
    steps: tuple
    filters: tuple


@dataclass(frozen=True)
class RulePlan:
    """How one rule runs. `entity`: one entity at a time, "generated" (Python source
    generated for the rule, with closures for what it does not write as code) or "closure".
    `batches` (the default rule only, else None): how a list of entities runs, "vector"
    (column kernels over the whole batch) or "rows" (entity by entity)."""

    name: str
    span: Span
    entity: str
    batches: str | None = None


@dataclass(frozen=True)
class ProgramPlan:
    """One dtl transform of a document (a pipe may chain several).

    `columnar`: every transform of the default rule has a column kernel (a vector stage can
    run it). `pays`: columnar with a columnar hops join, where a batch probe beats per-entity
    index lookups (what backend="auto" runs columnar for lists of entities).
    `arrow`: how Arrow batches run (columnar pipes): "vector" or "rows"."""

    program: Program
    hops: tuple[HopsPlan, ...]
    columnar: bool
    pays: bool
    rules: tuple[RulePlan, ...]
    arrow: str = "rows"
    source: Program | None = None  # as written (before ``sugar``): what `dtl explain` shows

    @property
    def written(self) -> Program:
        return self.source if self.source is not None else self.program

    @property
    def batches(self) -> str:
        """How a list of entities runs: "vector" or "rows" (the default rule's plan)."""
        for r in self.rules:
            if r.batches is not None:
                return r.batches
        return "rows"

    def hops_plan(self, spec: HopsSpec) -> HopsPlan | None:
        for h in self.hops:
            if h.spec is spec:
                return h
        return None


@dataclass(frozen=True)
class Plan:
    """A lowered, checked DTL document with a backend chosen per rule; immutable."""

    programs: tuple[ProgramPlan, ...]
    options: tuple = ()            # the options as sorted (key, value) items (see `opts`)
    backend: str = "auto"
    file: str | None = None
    text: str | None = field(default=None, repr=False, compare=False)

    @property
    def opts(self) -> dict:
        """The options as given to dtl.compile (namespaced_identifiers, namespaces)."""
        return {k: (dict(v) if isinstance(v, tuple) else v) for k, v in self.options}

    @property
    def namespaced(self) -> bool:
        return bool(self.opts.get("namespaced_identifiers", False))

    @property
    def irs(self) -> list[Program]:
        return [p.program for p in self.programs]

    def replan(self, options: dict | None = None, backend: str | None = None) -> Plan:
        """The same lowered programs for other options or another backend (``choose`` only)."""
        items = _items(options) if options is not None else self.options
        backend = backend or self.backend
        if items == self.options and backend == self.backend:
            return self
        check_backend(backend)
        ns = bool(dict(items).get("namespaced_identifiers", False))
        return replace(self, options=items, backend=backend,
                       programs=tuple(_choose(p.program, p.hops, ns, backend, p.source)
                                      for p in self.programs))

    def labels(self, index: int) -> dict:
        """Rule name -> per transform how it runs (what `dtl explain` prints)."""
        from dtl.ir.explain import transform_labels
        return transform_labels(self, index)


def _items(options: dict | None) -> tuple:
    out = []
    for k, v in sorted((options or {}).items()):
        out.append((k, tuple(sorted(v.items())) if isinstance(v, dict) else v))
    return tuple(out)


def check_backend(backend: str):
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")


def build(source, *, file: str | None = None, text: str | None = None,
          options: dict | None = None, backend: str = "auto", after: str | None = None):
    """The plan of a DTL document (JSON text, a path, Python objects or a positioned JSON
    tree; `text` is the tree's source text, for rendering diagnostics). Raises
    DTLCompileError with every problem found. `after`: stop after that pass of PASSES and
    return the `Draft` it left (`dtl explain --after`)."""
    from dtl.api import _too_deep, _tree, find_rules
    try:
        tree, src = _tree(source, file)
        nodes = find_rules(tree)
        if not nodes:
            raise DTLCompileError([Diagnostic("no DTL transform found in the document",
                                              tree.span, "no-dtl")], src)
        return build_rules(nodes, file=file or tree.span.file, text=text or src,
                           options=options, backend=backend, after=after)
    except RecursionError:
        raise _too_deep(file) from None


@dataclass(frozen=True)
class Draft:
    """A document between passes: what the passes so far (`done`) made of it. `programs`:
    the rule objects (positioned JSON) before ``lower``, the IR after; `hops`: per program
    its hops plans (``check``); `chosen`: the ProgramPlans (``choose``)."""

    done: tuple[str, ...]
    programs: tuple
    options: tuple = ()
    backend: str = "auto"
    file: str | None = None
    text: str | None = field(default=None, repr=False, compare=False)
    hops: tuple | None = None
    chosen: tuple | None = None
    source: tuple | None = None    # the programs as lowered, before ``sugar``


def _lower(d: Draft) -> Draft:
    """JSON tree -> IR, every node with its span."""
    from dtl.ir.lower import Lowerer
    programs, diags = [], []
    for node in d.programs:
        low = Lowerer(d.text)
        programs.append(low.program(node))
        diags.extend(low.diagnostics)
    if diags:
        raise _refused(diags, d.text)
    return replace(d, programs=tuple(programs), source=tuple(programs))


def _sugar(d: Draft) -> Draft:
    """Shorthand forms rewritten to core forms (dtl.ir.sugar): `case` as nested `if`s."""
    from dtl.ir.sugar import desugar
    return replace(d, programs=tuple(desugar(p) for p in d.programs))


def _check(d: Draft) -> Draft:
    """The whole-program checks (hops join planning, `dict` arity): every consumer refuses
    the same rules with the same diagnostics."""
    hops, diags = [], []
    for p in d.programs:
        h, found = check(p)
        diags.extend(found)
        hops.append(h)
    if diags:
        raise _refused(diags, d.text)
    return replace(d, hops=tuple(hops))


def _choose_pass(d: Draft) -> Draft:
    """Each rule's backend for these options."""
    ns = bool(dict(d.options).get("namespaced_identifiers", False))
    return replace(d, chosen=tuple(_choose(p, h, ns, d.backend, s)
                                   for p, h, s in zip(d.programs, d.hops, d.source)))


PASSES = (("lower", _lower), ("sugar", _sugar), ("check", _check), ("choose", _choose_pass))
PASS_NAMES = tuple(name for name, _ in PASSES)


def build_rules(nodes, *, file: str | None = None, text: str | None = None,
                options: dict | None = None, backend: str = "auto", after: str | None = None):
    """The plan of one or several chained rule objects (positioned JSON trees): the passes
    of PASSES in order; with `after`, the Draft that pass left."""
    check_backend(backend)
    if after is not None and after not in PASS_NAMES:
        raise ValueError(f"unknown pass {after!r}; choose from {', '.join(PASS_NAMES)}")
    d = Draft((), tuple(nodes), _items(options), backend, file, text)
    for name, run in PASSES:
        d = replace(run(d), done=d.done + (name,))
        if name == after:
            return d
    return Plan(d.chosen, d.options, backend, file, text)


def _refused(diags, text) -> DTLCompileError:
    """Every diagnostic, in reading order (as `dtl config validate` lists them)."""
    return DTLCompileError(sorted(diags, key=lambda d: (d.span.line or 0, d.span.column or 0)),
                           text)


def check(program: Program) -> tuple[tuple[HopsPlan, ...], list[Diagnostic]]:
    """The whole-program checks: every hops spec planned (its joins reach every alias), and
    `dict` called with a pair count. Returns the hops plans and the diagnostics."""
    from dtl.functions.hops import plan_hops
    hops, diags = [], []
    for n in walk(program):
        if isinstance(n, HopsSpec):
            try:
                steps, filters = plan_hops(n)
            except DTLCompileError as e:
                diags.extend(e.diagnostics)
                continue
            hops.append(HopsPlan(n, tuple(steps), tuple(filters)))
        elif isinstance(n, Call) and n.name == "dict" and n.kind == "expression" and \
                len(n.args) > 1 and len(n.args) % 2:
            diags.append(Diagnostic(
                f"'dict' takes no arguments, one list of pairs, or KEY, VALUE pairs; got "
                f"{len(n.args)} arguments", n.span, "arity", 'e.g. ["dict", "a", 1, "b", 2]'))
    return tuple(hops), diags


def _choose(program: Program, hops, namespaced: bool, backend: str,
            source: Program | None = None) -> ProgramPlan:
    """The ``choose`` pass: each rule's backend for these options."""
    from dtl.backends.vector.analysis import pays_in_batches, transform_reason
    default = program.rule("default")
    calls = default.transforms if default is not None else ()
    columnar = not any(transform_reason(c, namespaced) for c in calls)
    pays = columnar and pays_in_batches(program, namespaced)
    if backend == "closure":
        entity, batches, arrow = "closure", "rows", "rows"
    else:
        entity = "generated"
        vec = columnar if backend == "vector" else pays
        batches = "vector" if vec else "rows"
        arrow = "vector" if columnar else "rows"
    rules = tuple(RulePlan(r.name, r.span, entity, batches if r.name == "default" else None)
                  for r in program.rules)
    return ProgramPlan(program, tuple(hops), columnar, pays, rules, arrow,
                       None if source is program else source)


__all__ = ["Plan", "ProgramPlan", "RulePlan", "HopsPlan", "Draft", "build", "build_rules",
           "check", "check_backend", "PASSES", "PASS_NAMES", "BACKENDS"]
