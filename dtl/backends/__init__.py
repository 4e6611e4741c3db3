"""Backends that run compiled DTL: `closure` (every function), `pysource` (generated Python
source for rules, delegating to closures where it has no code of its own) and `vector` (Arrow
batches with pyarrow/numba kernels, per-row fallback to the registry's implementations)."""


def backends_of(spec) -> list[str]:
    """The backends that run a function natively, e.g. ["closure", "pysource (inline)"]."""
    from dtl.backends.pysource.compiler import handles
    if not spec.implemented:
        return []
    out = ["closure"]
    how = handles(spec)
    if how is not None:
        out.append(f"pysource ({how})")
    if "vector" in spec.backends:
        out.append("vector (kernel)" if spec.kind == "expression" else "vector (columnar)")
    return out
