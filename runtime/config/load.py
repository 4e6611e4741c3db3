"""Loading a whole configuration: read, substitute, resolve conditionals, validate, fill defaults.

Every problem of every file is collected before anything is raised, so one run of
`dtl config validate` shows them all.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from dtl.errors import DTLSyntaxError, Span
from dtl.functions.hops import hops_datasets
from dtl.plan import build_rules
from dtl.syntax.jsontree import JList, JObject, JScalar, to_python
from runtime.config.catalog import SINKS, SOURCES, SYSTEMS, TRANSFORMS
from runtime.config.conditionals import resolve_component, resolve_properties
from runtime.config.effective import effective_pipe, effective_system
from runtime.config.graph import order_and_cycles, source_datasets
from runtime.config.loader import load_files
from runtime.config.model import (Component, Config, DtlTransform, Metadata, Pipe, System,
                                  freeze)
from runtime.config.problems import ConfigError, Problems, did_you_mean
from runtime.config.substitute import Substituter
from runtime.config.validate import Validator, apply_coercions

ENTITY_TYPES = ("pipe", "metadata", "system:<kind>")


def load_config(path, *, profile: str | None = None, env: dict | None = None,
                secrets: dict | None = None, secrets_file=None, force: bool = False,
                lenient: bool = False) -> Config:
    """Load a configuration folder (Sesam repository layout) or a JSON array file.

    `env` adds to/overrides the profile's `<profile>-env.json`; `secrets` maps names (or
    `system-id/name` for system-local ones) to values, as does the secrets file. Raises
    `ConfigError` with every problem unless `force`, which returns a model where pipes and
    systems with errors have `valid=False` and `Config.errors` lists the problems.
    `lenient` is how a Sesam node takes a configuration (`dtl run`, `dtl test`, `dtl serve`):
    as `force`, but a configuration that cannot be read as a whole (`Config.refused`: not
    JSON, not entities, duplicate `_id`s) still raises.
    """
    problems = Problems()
    loaded = load_files(Path(path), problems, profile=profile, env=env, secrets=secrets,
                        secrets_file=Path(secrets_file) if secrets_file else None)
    cfg = _Builder(loaded, problems, force or lenient).build()
    if lenient and cfg.refused:
        raise ConfigError(list(cfg.errors), list(cfg.warnings), dict(cfg.texts))
    return cfg


class _Builder:
    def __init__(self, loaded, problems: Problems, force: bool):
        self.loaded = loaded
        self.problems = problems
        self.force = force
        self.subst = Substituter(loaded.env, loaded.secrets, problems, loaded.env_file)

    def text(self, file):
        return self.loaded.texts.get(file)

    def build(self) -> Config:
        entities = self._sort_entities()
        system_kinds = {eid: kind for role, eid, kind, _, _ in entities if role == "system"}
        # a system of a type we do not know still exists (pipes may name it): kind ""
        self.validator = Validator(self.problems, {k: v or "" for k, v in system_kinds.items()})
        metadata = Metadata()
        pipes_raw, systems = [], {}
        for role, eid, kind, node, file in entities:
            self.problems.entity = eid
            if role == "metadata":
                metadata = self._metadata(node)
            elif role == "system":
                systems[eid] = self._system(eid, kind, node)
            else:
                pipes_raw.append(self._pipe(eid, node, file, metadata))
        self.problems.entity = None
        spans = {p.id: p.span for p in pipes_raw}
        order = order_and_cycles(pipes_raw, self.problems, spans)
        if self.problems.errors and not self.force:
            raise ConfigError(self.problems.errors, self.problems.warnings, self.loaded.texts)
        invalid = self.problems.invalid
        pipes = {}
        for p in pipes_raw:
            pipes[p.id] = _replace(p, valid=p.id not in invalid)
        systems = {k: _replace(s, valid=k not in invalid) for k, s in systems.items()}
        return Config(MappingProxyType(pipes), MappingProxyType(systems), metadata, order,
                      tuple(self.problems.warnings), tuple(self.problems.errors),
                      MappingProxyType(dict(self.loaded.texts)),
                      MappingProxyType(dict(self.loaded.env)), self.loaded.secrets,
                      root=str(self.loaded.root), refused=tuple(self.problems.unscoped))

    # -- entities -------------------------------------------------------------------------
    def _sort_entities(self):
        """(role, _id, system kind, node, file) for every well-formed entity; metadata first."""
        out, seen = [], {}
        for node, file in self.loaded.entities:
            if not isinstance(node, JObject):
                self.problems.error("a configuration entity must be a JSON object", node.span,
                                    "wrong-type")
                continue
            i, t = node.get("_id"), node.get("type")
            if not (isinstance(i, JScalar) and isinstance(i.value, str) and i.value):
                self.problems.error("the entity has no string '_id'",
                                    i.span if i is not None else node.span, "missing-property")
                continue
            eid = i.value
            self.problems.entity = eid
            if "/" in eid:
                self.problems.error(f"_id {eid!r} contains '/'", i.span, "invalid-value",
                                    "ids are used in URLs and dataset names")
            if eid in seen:
                self.problems.error(f"duplicate _id {eid!r}", i.span, "duplicate-id",
                                    f"first defined at {seen[eid]}", whole=True)
                continue
            seen[eid] = i.span
            role, kind = self._role(node, t)
            if role is not None:
                out.append((role, eid, kind, node, file))
        self.problems.entity = None
        metas = [e for e in out if e[0] == "metadata"]
        for extra in metas[1:]:
            self.problems.error("there can be only one service metadata entity",
                                extra[3].span, "duplicate-metadata")
        return metas[:1] + [e for e in out if e[0] != "metadata"]

    def _role(self, node, t):
        if not (isinstance(t, JScalar) and isinstance(t.value, str)):
            self.problems.error("the entity has no string 'type'",
                                t.span if t is not None else node.span, "missing-property",
                                f"one of {', '.join(ENTITY_TYPES)}")
            return None, None
        v = t.value
        if v in ("pipe", "metadata"):
            return v, None
        if v.startswith("system:"):
            kind = v[len("system:"):]
            if kind in SYSTEMS:
                return "system", kind
            # a node keeps such a system; it cannot be connected to here: a warning
            self.problems.warn(f"unknown system type {v!r}: pipes using it fail when they run",
                               t.span, "unknown-type",
                               did_you_mean(v, [f"system:{k}" for k in SYSTEMS]))
            return "system", None
        cands = ["pipe", "metadata"] + [f"system:{k}" for k in SYSTEMS]
        self.problems.error(f"unknown entity type {v!r}", t.span, "unknown-type",
                            did_you_mean(v, cands) or f"one of {', '.join(ENTITY_TYPES)}")
        return None, None

    def _resolved(self, node, role, eid, skip=frozenset()):
        node = self.subst.entity(node, role, eid)
        return resolve_properties(node, self.problems, skip=skip)

    def _metadata(self, node) -> Metadata:
        resolved = self._resolved(node, "metadata", "node")
        self.validator.check_metadata(resolved)
        resolved = apply_coercions(resolved, self.validator.coerced)
        data = to_python(resolved)
        return Metadata(freeze(data), node.span)

    def _system(self, eid, kind, node) -> System:
        resolved = self._resolved(node, "system", eid)
        self.validator.check_system(resolved, kind)
        resolved = apply_coercions(resolved, self.validator.coerced)
        data = to_python(resolved)
        eff = effective_system(data, kind, {}) if kind else data
        return System(eid, kind or "", freeze(eff), freeze(to_python(node)), node.span)

    def _pipe(self, eid, node, file, metadata: Metadata) -> Pipe:
        resolved = self._resolved(node, "pipe", eid, skip=frozenset({"transform"}))
        # conditional sources/transforms/sinks
        src, src_cond = self._component(resolved.get("source"), "source")
        t = resolved.get("transform")
        transforms = [self._component(x, "transform") for x in _transform_items(t)]
        sink_node = resolved.get("sink")
        snk, sink_cond = self._component(sink_node, "sink") if sink_node is not None else \
            (None, None)
        if isinstance(snk, JObject) and snk.get("type") is None:
            # a sink without a type is the default one, a dataset sink
            snk = JObject((("type", snk.span, JScalar("dataset", snk.span)),) + snk.items,
                          snk.span)
        parts = {"source": src, "transforms": [x for x, _ in transforms], "sink": snk}
        self.validator.check_pipe(resolved, parts)
        co = self.validator.coerced
        if co:
            resolved = apply_coercions(resolved, co)
            src = apply_coercions(src, co) if src is not None else None
            transforms = [(apply_coercions(x, co) if x is not None else None, c)
                          for x, c in transforms]
            snk = apply_coercions(snk, co) if snk is not None else None

        md = _thaw(metadata.config)
        src_kind = SOURCES.get(_type(src))
        sink_kind = SINKS.get(_type(snk)) if snk is not None else SINKS["dataset"]
        sink_data = to_python(snk) if snk is not None else {"type": "dataset"}
        t_pairs = [(to_python(x) if x is not None else {}, TRANSFORMS.get(_type(x)))
                   for x, _ in transforms]
        eff = effective_pipe(to_python(resolved),
                             (to_python(src) if src is not None else {}, src_kind),
                             t_pairs, (sink_data, sink_kind), md)

        components = []
        hops = []
        for i, ((x, cond), (_, kind)) in enumerate(zip(transforms, t_pairs)):
            data = eff["transform"][i] if "transform" in eff else {}
            span = x.span if x is not None else Span(file)
            if kind is not None and kind.name == "dtl" and isinstance(x.get("rules"), JObject):
                plan = self._dtl(x.get("rules"), file, _dtl_options(eff))
                found = tuple(hops_datasets(plan.programs[0].program)) if plan is not None \
                    else ()
                hops.extend(ds for ds, _ in found)
                components.append(DtlTransform("dtl", freeze(data), span, cond, plan, found))
            else:
                components.append(Component(_type(x) or "", freeze(data), span, cond))
        source = Component(_type(src) or "", freeze(eff.get("source", {})),
                           src.span if src is not None else node.span, src_cond) \
            if src is not None else None
        sink = Component(eff.get("sink", {}).get("type", ""), freeze(eff.get("sink", {})),
                         snk.span if snk is not None else node.span, sink_cond)
        writes = ()
        if sink_kind is not None and sink_kind.extra.get("writes") == "dataset" and \
                isinstance(sink.get("dataset"), str):
            writes = (sink.get("dataset"),)
            if writes[0].startswith("system:"):
                self.problems.error(f"a sink may not write the system dataset {writes[0]!r}",
                                    sink.span, "invalid-value")
        return Pipe(eid, source, tuple(components), sink, freeze(eff.get("pump", {})),
                    freeze(eff), freeze(to_python(node)), node.span,
                    reads=source_datasets(eff.get("source")), hops=tuple(dict.fromkeys(hops)),
                    writes=writes)

    def _component(self, node, what):
        if node is None:
            return None, None
        return resolve_component(node, self.problems, what)

    def _dtl(self, rules, file, options):
        """The rules' plan (lowered once, checked as `dtl compile` checks them), or None."""
        try:
            return build_rules([rules], file=file, text=self.text(file), options=options)
        except DTLSyntaxError as e:  # DTLCompileError too: spans already point into the file
            self.problems.extend(e.diagnostics)
            return None


def _dtl_options(eff) -> dict:
    """The DTL options of a pipe (what the runtime compiles its transforms with)."""
    return {"namespaced_identifiers": bool(eff.get("namespaced_identifiers", False)),
            "namespaces": dict(eff.get("namespaces") or {})}


def _transform_items(t) -> list:
    """A pipe's transforms as one list: a single transform or a list of them, with `chained`
    transforms (a list in one transform; hub/documentation/data-synchronization) flattened in
    place, as the node runs them one after the other."""
    items = t.items if isinstance(t, JList) else ((t,) if isinstance(t, JObject) else ())
    out = []
    for x in items:
        if _type(x) == "chained":
            out.extend(_transform_items(x.get("transforms")))
        else:
            out.append(x)
    return out


def _type(node):
    if isinstance(node, JObject):
        t = node.get("type")
        if isinstance(t, JScalar) and isinstance(t.value, str):
            return t.value
    return None


def _thaw(v):
    from runtime.config.model import thaw
    return thaw(v)


def _replace(obj, **kw):
    import dataclasses
    return dataclasses.replace(obj, **kw)



