"""The library API: compile DTL documents and expressions, run them on entities."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from dtl.backends.closure.compiler import Compiler, run_rule
from dtl.backends.closure.env import DISCARDED, FILTERED, Context, Env, Options
from dtl.backends.pysource.compiler import compile_entity, compile_rule
from dtl.errors import Diagnostic, DTLCompileError, DTLError, DTLRuntimeError, Span
from dtl.ir.lower import lower_expression, lower_program
from dtl.ir.nodes import Program
from dtl.plan import BACKENDS, Plan  # noqa: F401 - BACKENDS: dtl.api's public name
from dtl.plan import build as build_plan
from dtl.provider import DatasetProvider, InMemoryProvider, NullProvider
from dtl.syntax.jsontree import JList, JNode, JObject, JScalar, from_python, parse_json_text

from dtl.functions import load_all

load_all()


def _tree(source, file: str | None) -> tuple[JNode, str | None]:
    """Accept JSON text, a path to a JSON file, or an already-loaded Python object."""
    if isinstance(source, FsPath):
        file = file or str(source)
        source = source.read_text(encoding="utf-8")
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    if isinstance(source, str):
        return parse_json_text(source, file), source
    if isinstance(source, JScalar | JList | JObject):
        return source, None  # already positioned (e.g. a subtree of a config file)
    return from_python(source, file), None


def find_rules(node: JNode) -> list[JNode]:
    """The DTL rule objects in a document: a pipe config, a dtl transform, or bare rules.

    A pipe with several chained dtl transforms yields them in order.
    """
    if isinstance(node, JObject):
        keys = node.keys()
        if "rules" in keys:
            return [node.get("rules")]
        if "transform" in keys:
            t = node.get("transform")
            items = t.items if isinstance(t, JList) else (t,)
            out = []
            for it in items:
                if isinstance(it, JObject) and _is_dtl(it):
                    out.append(it.get("rules"))
            return out
        return [node]
    if isinstance(node, JList) and node.items and not (
            isinstance(node.items[0], JScalar) and isinstance(node.items[0].value, str)):
        # a bare list of transforms is the default rule
        return [JObject((("default", node.span, node),), node.span)]
    return [node]


def _is_dtl(node: JObject) -> bool:
    t = node.get("type")
    return isinstance(t, JScalar) and t.value == "dtl" and node.get("rules") is not None


@dataclass
class Transform:
    """A compiled DTL transform (one or several chained rule sets).

    >>> t = compile({"default": [["copy", "_id"], ["add", "n", ["upper", "_S.name"]]]})
    >>> t.apply({"_id": "1", "name": "ann"})
    [{'_id': '1', 'n': 'ANN'}]
    """

    programs: list[Program]
    stages: list = field(default_factory=list)  # (Context, default closures, fast fn) per program
    mark_filtered: bool = False
    backend: str = "auto"
    # per program: a VectorStage (backend="vector"; "auto" where a columnar join pays), or None
    vector: list = field(default_factory=list)
    plan: object = field(default=None, repr=False)  # the dtl.plan.Plan it was compiled from
    # generated loops over a list of entities ("all" / "each", see compile_entity), or None
    loops: dict = field(default_factory=dict, repr=False)

    def apply(self, entity: dict, *, bindings: dict | None = None) -> list[dict]:
        """Run the transform on one source entity; returns the target (unless filtered)
        followed by the entities emitted by `create`, in order."""
        # backend="vector" too: its stages hold the same closures and generated code as
        # "auto" (exactly the closure backend's results), cheaper for one entity than a batch
        if len(self.stages) == 1:
            ctx, default, fast = self.stages[0]
            return self._apply_one(ctx, default, fast, entity, bindings)
        batch = [entity]
        for ctx, default, fast in self.stages:
            nxt = []
            for src in batch:
                nxt.extend(self._apply_one(ctx, default, fast, src, bindings))
            batch = nxt
        return batch

    def _apply_one(self, ctx, default, fast, entity, bindings):
        target: dict = {}
        if fast is not None and not fast.needs_env and type(entity) is dict:
            # a rule made only of generated code needs no Env: the common fast path
            try:
                stop = fast(entity, target, None)
            except Exception:
                stop = _ERROR  # rerun below with the closures, for a positioned error
            if stop is None:
                return [target]
            if stop == FILTERED and self.mark_filtered:
                target["_filtered"] = True
                return [target]
            if stop is not _ERROR:
                return []
            target = {}
        env = Env(entity, target, ctx, B=bindings)
        try:
            if fast is None:
                stop = run_rule(default, env)
            else:
                try:
                    stop = fast(entity, target, env)
                except Exception as e:
                    if isinstance(e, DTLError) and getattr(e, "span", True) is not None:
                        raise
                    # the generated code does not position errors: rerun the closures for that
                    target = {}
                    env = Env(entity, target, ctx, B=bindings)
                    stop = run_rule(default, env)
        except DTLRuntimeError as e:
            if e.entity_id is None and isinstance(entity, dict):
                e.entity_id = entity.get("_id")
            raise
        except RecursionError as e:
            raise DTLRuntimeError("recursion too deep while transforming",
                                  entity_id=entity.get("_id") if isinstance(entity, dict) else None) from e
        out = []
        if stop is None:
            out.append(target)
        elif stop == FILTERED and self.mark_filtered:
            target["_filtered"] = True
            out.append(target)
        out.extend(env.out)
        return out

    def apply_each(self, entities, *, bindings: dict | None = None) -> list:
        """Run the transform on each entity of a list; returns, per input entity, its list of
        output entities (as `apply` returns it) or the Exception `apply` raises for it, so a
        caller can report failing entities and go on.

        Compiled with backend="vector" (or "auto" for a rule with a columnar hops join), a
        single program whose default rule is columnar runs the whole list as one batch; if
        the batch raises, every entity runs on its own (so the results and errors are always
        those of `apply`)."""
        if not isinstance(entities, list):
            entities = list(entities)
        if len(self.stages) == 1 and self._columnar(0) and \
                len(entities) > 1 and all(type(e) is dict for e in entities):
            got = self._columnar_each(entities, bindings)
            if got is not None:
                return got
        if "each" in self.loops and bindings is None:
            return self.loops["each"](entities)
        out = []
        for e in entities:
            try:
                out.append(self.apply(e, bindings=bindings))
            except Exception as ex:  # noqa: BLE001 - reported per entity
                out.append(ex)
        return out

    def _columnar_each(self, entities, bindings):
        """Per input entity its outputs from one columnar run, or None if the batch raised."""
        from dtl.backends.vector import runner
        b = runner.batch_from_dicts(entities, self.stages[0][0], bindings)
        try:
            return self.vector[0].each(b, self.mark_filtered)
        except Exception:
            if runner.STRICT:
                raise
            return None

    def _columnar(self, i: int) -> bool:
        """Whether program i runs batches columnar (a VectorStage with a columnar rule)."""
        return i < len(self.vector) and self.vector[i] is not None and \
            self.vector[i].run is not None

    @property
    def batched(self) -> bool:
        """Whether some program gains from whole batches (apply_each / apply_batch)."""
        return any(self._columnar(i) for i in range(len(self.stages)))

    def apply_many(self, entities, batch_size: int = 4096):
        """Stream: yields every output entity of every input entity."""
        if not self.batched:
            for e in entities:
                yield from self.apply(e)
            return
        chunk = []
        for e in entities:
            chunk.append(e)
            if len(chunk) == batch_size:
                yield from self.apply_batch(chunk)
                chunk = []
        if chunk:
            yield from self.apply_batch(chunk)

    def apply_batch(self, batch, *, output: str = "dicts", prefix: str = "", decode_body=None,
                    bindings: dict | None = None):
        """Run the transform over a batch: a list of entities, or an Arrow RecordBatch/Table
        of JSON-level values (column `<prefix><name>` is property `name`; `decode_body(batch)`
        gives the entities of a storage batch whose other properties are in a body column).

        Returns the output entities in input order, as a list of dicts, or with
        output="arrow" as a pyarrow.Table (values that have no one Arrow type become
        transit-JSON text). Columnar rules run on the vector backend when it was compiled
        with backend="vector" (with "auto": rules with a columnar hops join); other rules,
        and a batch where a kernel raises, run entity by entity, so results and errors are
        always the closure backend's."""
        if output == "dicts" and bindings is None and type(batch) is list and \
                "all" in self.loops and not self.batched:
            return self.loops["all"](batch)
        from dtl.backends.vector import runner
        import pyarrow as pa
        rows = None
        for i, (ctx, default, fast) in enumerate(self.stages):
            stage = self.vector[i] if self._columnar(i) else None
            if rows is None and not isinstance(batch, list):
                if isinstance(batch, pa.Table):
                    batch = batch.combine_chunks().to_batches()[0] if batch.num_rows else \
                        pa.RecordBatch.from_pylist([])
                b = runner.batch_from_arrow(batch, ctx, prefix=prefix, decode_body=decode_body,
                                            bindings=bindings)
            else:
                rows = batch if rows is None else rows
                b = runner.batch_from_dicts(rows, ctx, bindings)
            out = None
            if output == "arrow" and len(self.stages) == 1 and not self.mark_filtered and \
                    stage is not None and stage.run is not None:
                try:
                    stage.run(b, None)
                    return runner.to_table(b)
                except Exception:
                    if runner.STRICT:
                        raise
                    b = runner.batch_from_arrow(batch, ctx, prefix=prefix, decode_body=decode_body,
                                                bindings=bindings) if rows is None else \
                        runner.batch_from_dicts(rows, ctx, bindings)
            if stage is not None and stage.run is not None:
                try:
                    out = stage.rows(b, self.mark_filtered, bindings)
                except Exception:
                    if runner.STRICT:
                        raise
                    out = None  # rerun entity by entity: the closure path raises it properly
            if out is None:
                src = b.source_rows() if rows is None else rows
                out = []
                for e in src:
                    out.extend(self._apply_one(ctx, default, fast, e, bindings))
            rows = out
        if output == "arrow":
            return _to_arrow(rows)
        return rows


def compile(source, *, file: str | None = None, options: dict | None = None,
            provider: DatasetProvider | None = None, datasets: dict | None = None,
            mark_filtered: bool = False, services: dict | None = None,
            backend: str | None = None) -> Transform:
    """Compile DTL rules (JSON text, a file path, Python objects, or a `dtl.plan.Plan`) into
    a Transform.

    Accepts a pipe config, a ``{"type": "dtl", "rules": ...}`` transform, a rules object or a
    list of transforms (the default rule). Raises DTLCompileError with every problem found.
    A Plan is not lowered again: with other `options` or `backend` (default: the plan's) only
    its backend choice is redone.
    """
    if isinstance(source, Plan):
        plan = source.replan(options, backend)
    else:
        plan = build_plan(source, file=file, options=options, backend=backend or "auto")
    try:
        return from_plan(plan, provider=provider, datasets=datasets,
                         mark_filtered=mark_filtered, services=services)
    except RecursionError:
        raise _too_deep(file) from None


def _too_deep(file):
    return DTLCompileError([Diagnostic("the document is nested too deeply to compile",
                                       Span(file), "too-deep")])


def from_plan(plan: Plan, *, provider: DatasetProvider | None = None,
              datasets: dict | None = None, mark_filtered: bool = False,
              services: dict | None = None) -> Transform:
    """The Transform that runs a plan: every rule on the backend the plan chose for it."""
    if provider is None:
        provider = InMemoryProvider(datasets) if datasets else NullProvider()
    opts = Options.from_dict(plan.opts)
    t = Transform(plan.irs, mark_filtered=mark_filtered, backend=plan.backend, plan=plan)
    for pp in plan.programs:
        p = pp.program
        ctx = Context(provider=provider, options=opts, services=dict(services or {}))
        comp = Compiler(ctx)
        default = comp.program(p)
        fast = None
        if pp.batches == "vector" or plan.backend == "vector":
            # on "vector" a rule the plan found not columnar gets a stage without a run
            from dtl.backends.vector.runner import VectorStage
            t.vector.append(VectorStage(p, comp))
        elif plan.backend != "closure":
            t.vector.append(None)  # this program's batches run row at a time
        for rule, rp in zip(p.rules, pp.rules):
            if rp.entity == "generated":
                ctx.fast_rules[rule.name] = compile_rule(rule, comp, _runner(ctx.rules[rule.name]))
        fast = ctx.fast_rules.get("default")
        t.stages.append((ctx, default, fast))
    if len(t.stages) == 1 and fast is not None and not fast.needs_env:
        rule = next(r for r in plan.programs[0].program.rules if r.name == "default")
        general = Transform.apply.__get__(t)
        entity = compile_entity(rule, comp, general, mark_filtered)
        if entity is not None:
            t.apply = entity  # one Python call per entity; the method is its general case
            t.loops["all"] = compile_entity(rule, comp, general, mark_filtered, "all")
            t.loops["each"] = compile_entity(rule, comp, _or_error(general), mark_filtered,
                                             "each")
    return t


def _or_error(apply):
    """`apply`, returning the exception it raises instead (apply_each reports it)."""
    def one(entity):
        try:
            return apply(entity)
        except Exception as e:  # noqa: BLE001 - reported per entity
            return e
    return one


def _to_arrow(rows: list):
    """Output entities as a pyarrow.Table: one column per property (in first-seen order)."""
    import pyarrow as pa
    from dtl.backends.vector.columns import from_values
    from dtl.transit import dumps
    keys = {}
    for r in rows:
        for k in r:
            keys[k] = None
    cols = {}
    for k in keys:
        c = from_values([r.get(k) for r in rows])
        cols[k] = c.arr if c.arr is not None else pa.array([dumps(v) for v in c.values()])
    return pa.table(cols)
_ERROR = object()


def _runner(fns):
    return lambda env: run_rule(fns, env)


@dataclass
class Expression:
    """A compiled DTL expression."""

    node: object
    ctx: Context
    fn: object

    def __call__(self, source: dict | None = None, target: dict | None = None, bindings=None):
        env = Env(source if source is not None else {}, target if target is not None else {},
                  self.ctx, B=bindings)
        try:
            return self.fn(env)
        except RecursionError as e:
            raise DTLRuntimeError("recursion too deep while evaluating") from e


def compile_expression(source, *, file: str | None = None, options: dict | None = None,
                       provider: DatasetProvider | None = None, datasets: dict | None = None,
                       rules: dict | None = None, services: dict | None = None) -> Expression:
    """Compile one DTL expression (JSON text or a Python value)."""
    try:
        return _compile_expression(source, file, options, provider, datasets, rules, services)
    except RecursionError:
        raise _too_deep(file) from None


def _compile_expression(source, file, options, provider, datasets, rules, services):
    if isinstance(source, str) and not _looks_like_json(source):
        source = json.dumps(source)  # a bare string such as _S.name
    tree, text = _tree(source, file)
    node = lower_expression(tree, text)
    if provider is None:
        provider = InMemoryProvider(datasets) if datasets else NullProvider()
    ctx = Context(provider=provider, options=Options.from_dict(options),
                  services=dict(services or {}))
    comp = Compiler(ctx)
    if rules:
        comp.program(lower_program(from_python(rules), None))
    return Expression(node, ctx, comp.expr(node))


def _looks_like_json(text: str) -> bool:
    s = text.strip()
    if not s:
        return False
    try:
        json.loads(s)
        return True
    except ValueError:
        return s[0] in "[{\""


def evaluate(expr, source: dict | None = None, **kw):
    """Evaluate one DTL expression with ``_S`` bound to `source`.

    >>> evaluate(["concat", "Hello ", "_S.name"], {"name": "Ann"})
    'Hello Ann'
    """
    return compile_expression(expr, **kw)(source)


__all__ = ["compile", "compile_expression", "evaluate", "Transform", "Expression", "find_rules",
           "DTLError", "Span"]
