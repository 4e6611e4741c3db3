"""Sinks: `dataset`, `null`, and the connectors `sql`, `json` (JSON push) and `csv` (ours: a
file); `http_endpoint` / `csv_endpoint` are computed on demand (runtime/sinks/endpoint.py)
and never pumped."""

from __future__ import annotations


def make_connector_sink(hub, pipe):
    t = pipe.sink.type
    if t == "sql":
        from runtime.sinks.sql import SqlSink
        return SqlSink(hub, pipe, pipe.sink.config)
    if t == "json":
        from runtime.sinks.json import JsonSink
        return JsonSink(hub, pipe, pipe.sink.config)
    if t == "csv":
        from runtime.sinks.csv import CsvSink
        return CsvSink(hub, pipe, pipe.sink.config)
    raise ValueError(f"pipe {pipe.id!r}: sink type {t!r} cannot be written offline")
