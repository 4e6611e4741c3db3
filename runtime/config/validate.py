"""Checking entities against the property catalog: unknown, mistyped, missing and invalid values,
unknown component types, and references to systems that do not exist."""

from __future__ import annotations

from dtl.syntax.jsontree import JList, JNode, JObject, JScalar
from runtime.config.catalog import (COMPONENTS, METADATA, PIPE, PUMP, SYSTEMS, Kind, Prop, T,
                                    type_names)
from runtime.config.problems import Problems, did_you_mean
from runtime.config.refs import has_refs
from runtime.config.secret import Secret

# pipe properties validated as components of their own
_PIPE_PARTS = ("source", "transform", "sink", "pump")


def json_type(value) -> T:
    if isinstance(value, str | Secret):
        return T.STR
    if isinstance(value, bool):
        return T.BOOL
    if isinstance(value, int):
        return T.INT
    if isinstance(value, float):
        return T.FLOAT
    if value is None:
        return T.NULL
    return T.STR  # transit-decoded values do not occur in configuration


def node_type(node: JNode) -> T:
    if isinstance(node, JObject):
        return T.DICT
    if isinstance(node, JList):
        return T.LIST
    return json_type(node.value)


def _article(what: str) -> str:
    return "an" if what[:1] in "aeiou" else "a"


def coerce_scalar(value, accepted: T):
    """The value a string stands for when the property wants a number or a boolean (a node
    reads `"600"` as 600), else `_NO`."""
    if not isinstance(value, str) or isinstance(value, Secret):
        return _NO
    text = value.strip()
    if text[:2] in ("~f", "~d"):   # a transit decimal/float written as a string
        text = text[2:]
    if T.BOOL in accepted and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if T.INT in accepted:
        try:
            return int(text)
        except ValueError:
            pass
    if T.FLOAT in accepted:
        try:
            f = float(text)
            if f == f and f not in (float("inf"), float("-inf")):
                return f
        except ValueError:
            pass
    return _NO


_NO = object()


def apply_coercions(node: JNode, coerced: dict) -> JNode:
    """`node` with the scalars in `coerced` (id of the node -> value) replaced."""
    if not coerced:
        return node
    if isinstance(node, JScalar):
        v = coerced.get(id(node), _NO)
        return node if v is _NO else JScalar(v, node.span)
    if isinstance(node, JList):
        return JList(tuple(apply_coercions(c, coerced) for c in node.items), node.span)
    return JObject(tuple((k, ks, apply_coercions(v, coerced)) for k, ks, v in node.items),
                   node.span)


class Validator:
    def __init__(self, problems: Problems, systems: dict):
        self.problems = problems
        self.systems = systems   # system _id -> kind name ("url", "postgresql", ...; "" unknown)
        self.coerced: dict = {}  # id(JScalar) -> value: strings read as numbers/booleans

    # -- generic --------------------------------------------------------------------------
    def check_object(self, node: JObject, props, what: str, *, ignore=(), one_of=()):
        """Unknown keys, required keys and each known value of `node` against `props`."""
        seen = set()
        for key, key_span, value in node.items:
            if key in seen:
                self.problems.error(f"property {key!r} is given twice in {what}", key_span,
                                    "duplicate-property")
            seen.add(key)
            if key in ignore:
                continue
            prop = props.get(key)
            if prop is None:
                # a node ignores properties it does not know: a warning
                self.problems.warn(f"unknown property {key!r} of {what}", key_span,
                                   "unknown-property", did_you_mean(key, props))
                continue
            self.check_value(value, prop, f"{key!r} of {what}")
        for prop in props.values():
            if prop.required and prop.name not in seen:
                self.problems.error(f"{what} is missing the required property {prop.name!r}",
                                    node.span, "missing-property")
        for group in one_of:
            if not any(k in seen for k in group):
                self.problems.error(f"{what} needs one of " + ", ".join(map(repr, group)),
                                    node.span, "missing-property")

    def check_value(self, node: JNode, prop: Prop, what: str):
        t = node_type(node)
        accepted = prop.types
        if T.FLOAT in accepted:
            accepted |= T.INT  # a JSON number is a number, with or without a fraction
        if isinstance(node, JScalar) and isinstance(node.value, str) and \
                has_refs(node.value):
            return   # an $ENV/$SECRET left unresolved: already a warning, its type is unknown
        if not (t & accepted):
            v = coerce_scalar(node.value, accepted) if isinstance(node, JScalar) else _NO
            if v is not _NO:
                self.coerced[id(node)] = v
                self.problems.warn(f"{what} should be {_article(type_names(prop.types))} "
                                   f"{type_names(prop.types)}, not {_article(type_names(t))} "
                                   f"{type_names(t)}; read as {_show(v)}", node.span,
                                   "wrong-type")
                return
            self.problems.error(f"{what} must be {_article(type_names(prop.types))} "
                                f"{type_names(prop.types)}, not {_article(type_names(t))} "
                                f"{type_names(t)}", node.span, "wrong-type")
            return
        if isinstance(node, JScalar):
            v = node.value
            if prop.enum is not None and not isinstance(v, Secret) and v not in prop.enum \
                    and not isinstance(v, bool):
                hint = did_you_mean(v, prop.enum) if isinstance(v, str) else None
                self.problems.error(
                    f"{what} must be one of {', '.join(map(_show, prop.enum))}, not {_show(v)}",
                    node.span, "invalid-value", hint)
            if prop.minimum is not None and t & (T.INT | T.FLOAT) and v < prop.minimum:
                self.problems.error(f"{what} must be at least {prop.minimum}, not {v}",
                                    node.span, "invalid-value")
        elif isinstance(node, JObject) and prop.children is not None and not prop.opaque:
            self.check_object(node, prop.children, what)

    # -- components -----------------------------------------------------------------------
    def component_kind(self, node: JNode, role: str, what: str) -> Kind | None:
        if not isinstance(node, JObject):
            self.problems.error(f"{what} must be an object", node.span, "wrong-type")
            return None
        t = node.get("type")
        kinds = COMPONENTS[role]
        if t is None and role == "sink":
            return kinds["dataset"]   # a sink without a type is the default, a dataset sink
        if t is None:
            self.problems.error(f"{what} is missing the required property 'type'", node.span,
                                "missing-property")
            return None
        if not (isinstance(t, JScalar) and isinstance(t.value, str)) or t.value not in kinds:
            shown = _show(t.value) if isinstance(t, JScalar) else "this"
            self.problems.error(f"unknown {role} type {shown}", t.span, "unknown-type",
                                did_you_mean(t.value, kinds) if isinstance(t, JScalar) and
                                isinstance(t.value, str) else None)
            return None
        return kinds[t.value]

    def check_component(self, node: JNode, role: str, what: str) -> Kind | None:
        kind = self.component_kind(node, role, what)
        if kind is None:
            return None
        label = f"{_article(kind.name)} {kind.name} {role}"
        self.check_object(node, kind.props, label, one_of=kind.one_of)
        self.check_system_refs(node, kind, label)
        return kind

    def check_system_refs(self, node: JObject, kind: Kind, label: str):
        for key in ("system", "rest_system"):
            ref = node.get(key)
            if key not in kind.props or not (isinstance(ref, JScalar)
                                             and isinstance(ref.value, str)):
                continue
            sys_kind = self.systems.get(ref.value)
            if sys_kind is None:
                self.problems.error(f"{label} refers to system {ref.value!r}, which does not exist",
                                    ref.span, "unknown-system",
                                    did_you_mean(ref.value, self.systems))
            elif sys_kind and kind.system_kinds and sys_kind not in kind.system_kinds:
                want = " or ".join(f"system:{k}" for k in kind.system_kinds)
                self.problems.error(f"{label} needs {want}; {ref.value!r} is system:{sys_kind}",
                                    ref.span, "wrong-system")

    # -- entities -------------------------------------------------------------------------
    def check_pipe(self, node: JObject, parts: dict):
        """`parts` holds the resolved source, transforms and sink (conditionals chosen)."""
        self.check_object(node, PIPE.props, "a pipe", ignore=_PIPE_PARTS)
        if node.get("source") is None:
            pass  # reported by check_object as a missing required property
        elif parts.get("source") is not None:
            self.check_component(parts["source"], "source", "the source")
        t = node.get("transform")
        if t is not None and not isinstance(t, JObject | JList):
            self.problems.error("'transform' of a pipe must be an object or a list", t.span,
                                "wrong-type")
        for i, tr in enumerate(parts.get("transforms", ())):
            if tr is not None:
                self.check_component(tr, "transform", f"transform #{i + 1}")
        if parts.get("sink") is not None:
            self.check_component(parts["sink"], "sink", "the sink")
        pump = node.get("pump")
        if pump is not None:
            if isinstance(pump, JObject):
                self.check_object(pump, PUMP.props, "the pump")
                if pump.get("rescan_run_count") is not None and \
                        pump.get("rescan_cron_expression") is not None:
                    self.problems.error("the pump sets both 'rescan_run_count' and "
                                        "'rescan_cron_expression'; use one",
                                        pump.get("rescan_cron_expression").span, "conflict")
            else:
                self.problems.error("'pump' of a pipe must be an object", pump.span, "wrong-type")

    def check_system(self, node: JObject, kind_name: str | None):
        if not kind_name:
            return
        kind = SYSTEMS[kind_name]
        label = f"a system:{kind_name} system"
        self.check_object(node, kind.props, label, one_of=kind.one_of)

    def check_metadata(self, node: JObject):
        self.check_object(node, METADATA.props, "the service metadata")
        i = node.get("_id")
        if isinstance(i, JScalar) and i.value != "node":
            self.problems.error(f"the service metadata must have _id 'node', not {_show(i.value)}",
                                i.span, "invalid-value")


def _show(v) -> str:
    if isinstance(v, Secret):
        return "a secret value"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)
