"""Sinks: `dataset`, `null`; `http_endpoint` / `csv_endpoint` are computed on demand
(runtime/sinks/endpoint.py) and never pumped."""
