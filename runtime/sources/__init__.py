"""Sources: dataset, embedded, merge (v2), merge_datasets, union_datasets, the
http_endpoint inbox (Hub.post), and the connectors sql, json and csv. A conditional source is resolved by the configuration layer."""

from __future__ import annotations


def make_source(hub, pipe):
    s = _make(hub, pipe)
    s.dataset_populated = hub.dataset_populated
    s.dataset_exists = hub.dataset_exists
    return s


def _make(hub, pipe):
    src = pipe.source
    bs = int(pipe.get("batch_size", 100) or 100)
    t = src.type if src is not None else "embedded"
    if t == "embedded":
        from runtime.sources.embedded import EmbeddedSource
        return EmbeddedSource(pipe, src, bs)
    if t == "dataset":
        from runtime.sources.dataset import DatasetSource
        return DatasetSource(pipe, src, bs, hub.store)
    if t == "merge":
        from runtime.sources.merge import MergeSource
        return MergeSource(pipe, src, bs, hub.store)
    if t in ("union_datasets", "merge_datasets"):
        from runtime.sources.union import UnionSource
        return UnionSource(pipe, src, bs, hub.store, merge=(t == "merge_datasets"))
    if t == "empty":
        from runtime.sources.base import Source
        s = Source(pipe, bs)
        s.read = lambda since: iter(())
        return s
    if t == "http_endpoint":
        from runtime.sources.base import Source
        s = Source(pipe, bs)
        s.read = lambda since: iter(())   # entities arrive through Hub.post
        return s
    if t in ("sql", "json", "csv"):
        from importlib import import_module
        mod = import_module(f"runtime.sources.{t}")
        cls = {"sql": "SqlSource", "json": "JsonSource", "csv": "CsvSource"}[t]
        return getattr(mod, cls)(pipe, src, bs, hub)
    raise ValueError(f"pipe {pipe.id!r}: source type {t!r} is not supported offline yet")
