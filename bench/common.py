"""Shared helpers for the DTL closure-backend benchmark (bench/run.py, verify.py, profile_t1.py).

The reference transforms, their hand-written Python versions and the data generator live in
/work/shared/bench (read-only); they are imported from there at run time, never copied.
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("DTL_BENCH_SHARED") or os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
DATA = os.path.join(HERE, "data")
TRANSFORMS = os.path.join(HERE, "transforms")

if SHARED not in sys.path:
    sys.path.append(SHARED)

import impls  # noqa: E402  (shared/bench/impls.py: py_t1/py_t2/py_t3, read_ndjson, COMPETITORS)

import dtl  # noqa: E402
from dtl.provider import InMemoryProvider  # noqa: E402
from dtl.transit import loads as transit_loads  # noqa: E402

T3_DATASET = "orders"


def data_dir(n):
    return os.path.join(DATA, f"n{n}")


def rules(t):
    with open(os.path.join(TRANSFORMS, f"{t}.json")) as f:
        return json.load(f)


def read_transit_ndjson(path):
    """NDJSON -> DTL values, one dtl.transit.loads per line (the CLI's input path)."""
    loads = transit_loads
    with open(path, "rb") as f:
        return [loads(line) for line in f]


# --------------------------------------------------------------------------- dtl-closure

# competitor name -> dtl.compile(backend=...); None = the library default
BACKENDS = {"dtl-closure": "closure", "dtl-auto": "auto"}


def compile_t(t, provider=None, backend="closure"):
    kw = {}
    if provider is not None:
        kw["provider"] = provider
    if backend is not None:
        kw["backend"] = backend
    return dtl.compile(rules(t), **kw)


class DtlState:
    """What the DTL competitor holds after loading: persons, and for T3 the provider."""

    def __init__(self, t, persons, provider=None, provider_build=None, index_build=None,
                 backend="closure"):
        self.t = t
        self.persons = persons
        self.provider = provider
        self.provider_build = provider_build
        self.index_build = index_build
        self.transform = compile_t(t, provider, backend)


def build_provider(orders):
    """InMemoryProvider over the orders, plus its ("person",) join index built eagerly.

    Returns (provider, provider_build_s, index_build_s). The index is what `hops` with
    ["eq", "_S._id", "o.person"] looks up; InMemoryProvider builds it lazily on first use, so
    it is forced here (through the public lookup()) to keep it out of the timed transform.
    """
    t0 = time.perf_counter()
    prov = InMemoryProvider({T3_DATASET: orders})
    t1 = time.perf_counter()
    prov.lookup(T3_DATASET, ("person",), ["person-0"])
    t2 = time.perf_counter()
    return prov, t1 - t0, t2 - t1


def dtl_load(t, d, backend="closure"):
    persons = read_transit_ndjson(os.path.join(d, "persons.ndjson"))
    if t != "t3":
        return DtlState(t, persons, backend=backend)
    orders = read_transit_ndjson(os.path.join(d, "orders.ndjson"))
    prov, pb, ib = build_provider(orders)
    return DtlState(t, persons, prov, pb, ib, backend=backend)


def dtl_run(tr, entities):
    """Apply a compiled Transform to every entity; all outputs, materialized, in order.

    `apply_batch` (the library's call for a list of entities) when the transform runs row at
    a time; one with columnar stages (T3 on auto: a columnar join) is applied entity by
    entity, so that these figures stay row-at-a-time ones (bench/vector_bench.py has the
    columnar ones)."""
    if not tr.batched:
        return tr.apply_batch(entities)
    out = []
    ext = out.extend
    apply = tr.apply
    for e in entities:
        ext(apply(e))
    return out


def dtl_transform(st):
    return dtl_run(st.transform, st.persons)


def dtl_e2e(t, d, backend="closure"):
    """NDJSON files -> list of output dicts (parse, provider+index for T3, compile, apply)."""
    return dtl_transform(dtl_load(t, d, backend))
