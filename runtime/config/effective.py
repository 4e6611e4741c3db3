"""Effective configuration: explicit values, then `global_defaults`, then documented defaults.

Decisions where the docs are silent (also in docs/config.md):
- nested defaults are filled for plain-object properties (`compaction`, `dependency_tracking`,
  `trigger_on` ...) but not inside properties that may be a boolean or an object (`trace`)
  unless the user wrote an object;
- "dataset sources" for the 30 s schedule default are the sources that read datasets
  (dataset, merge, merge_datasets, union_datasets); the jitter belongs to the scheduler;
- pipe `name` is not invented; when given, source/sink/pump names default to it plus
  " source"/" sink"/" pump".
"""

from __future__ import annotations

import copy

from runtime.config.catalog import GLOBAL_DEFAULT_TARGETS, MISSING, PIPE, PUMP, SYSTEMS, Kind, T

DATASET_SOURCES = ("dataset", "merge", "merge_datasets", "union_datasets", "diff_datasets")
# spec entities-and-datasets.md §3: where add_/remove_namespaces default to true
ADDS_NAMESPACES = ("csv", "kafka", "ldap", "sql", "embedded", "http_endpoint", "json")
REMOVES_NAMESPACES = ("csv_endpoint", "elasticsearch", "mail", "rest", "sms", "solr", "kafka",
                      "sql", "http_endpoint", "json")


def fill(data: dict, props, overrides: dict | None = None, nested: bool = False) -> dict:
    """Fill absent properties in place: `overrides` (global defaults) before catalog defaults.

    With `nested`, absent plain-object properties with documented sub-properties are created
    (pipe `compaction` ...); elsewhere an absent object can mean "off" (`trigger_on`)."""
    for name, prop in props.items():
        if name not in data and overrides and name in overrides:
            data[name] = copy.deepcopy(overrides[name])
        if name not in data:
            if prop.default is not MISSING:
                data[name] = copy.deepcopy(prop.default)
            elif nested and prop.children is not None and prop.types == T.DICT:
                data[name] = {}
        value = data.get(name)
        if prop.children is not None and isinstance(value, dict) and not prop.opaque:
            fill(value, prop.children, nested=nested)
    return data


def _globals_for(role: str, global_defaults: dict) -> dict:
    return {k: v for k, v in global_defaults.items() if GLOBAL_DEFAULT_TARGETS.get(k) == role}


def effective_component(data: dict, kind: Kind, global_defaults: dict) -> dict:
    return fill(data, kind.props, _globals_for(kind.role, global_defaults))


def effective_pipe(pipe: dict, source, transforms, sink, metadata: dict) -> dict:
    """`source`/`transforms`/`sink` are (dict, Kind) pairs already resolved from conditionals."""
    gd = metadata.get("global_defaults", {})
    pid = pipe["_id"]
    out = dict(pipe)
    src_data, src_kind = source
    if src_kind is not None:
        out["source"] = effective_component(src_data, src_kind, gd)
    out["transform"] = [effective_component(d, k, gd) if k is not None else d
                        for d, k in transforms]
    if not out["transform"]:
        del out["transform"]
    sink_data, sink_kind = sink
    if sink_kind is not None:
        if sink_kind.name in ("dataset", "replicated_dataset"):
            sink_data.setdefault("dataset", pid)
        out["sink"] = effective_component(sink_data, sink_kind, gd)
    src_type = src_data.get("type") if isinstance(src_data, dict) else None
    sink_type = out.get("sink", {}).get("type")

    out.setdefault("batch_size", 1 if sink_type == "rest" else 100)
    bs = out["batch_size"] if isinstance(out["batch_size"], int) else 100
    out.setdefault("checkpoint_interval", 1 if bs == 1 else max(1, 10000 // max(bs, 1)))
    fill(out, PIPE.props, _globals_for("pipe", gd), nested=True)

    ni = out.setdefault("namespaced_identifiers", bool(metadata.get("namespaced_identifiers",
                                                                     False)))
    ns = out.setdefault("namespaces", {})
    if isinstance(ns, dict):
        ns.setdefault("identity", pid)
        ns.setdefault("property", pid)
    if "add_namespaces" not in out:
        explicit = out.get("source", {}).get("add_namespaces")
        out["add_namespaces"] = explicit if explicit is not None else \
            bool(ni and src_type in ADDS_NAMESPACES)
    if "remove_namespaces" not in out:
        explicit = out.get("sink", {}).get("remove_namespaces")
        out["remove_namespaces"] = explicit if explicit is not None else \
            bool(ni and sink_type in REMOVES_NAMESPACES)

    pump = dict(out.get("pump") or {})
    if "cron_expression" not in pump and "schedule_interval" not in pump:
        both_datasets = src_type in DATASET_SOURCES and sink_type == "dataset"
        pump["schedule_interval"] = 30 if both_datasets else 900
    out["pump"] = fill(pump, PUMP.props, _globals_for("pump", gd))

    name = out.get("name")
    if isinstance(name, str):
        for key, suffix in (("source", " source"), ("sink", " sink"), ("pump", " pump")):
            if isinstance(out.get(key), dict):
                out[key].setdefault("name", name + suffix)
    return out


def effective_system(data: dict, kind_name: str, metadata: dict) -> dict:
    kind = SYSTEMS[kind_name]
    return fill(dict(data), kind.props, _globals_for("system", metadata.get("global_defaults", {})))
