"""Backends that run compiled DTL: `closure` (every function) and `pysource` (generated
Python source for rules, delegating to closures where it has no code of its own)."""


def backends_of(spec) -> list[str]:
    """The backends that run a function natively, e.g. ["closure", "pysource (inline)"]."""
    from dtl.backends.pysource.compiler import handles
    out = sorted(spec.backends)
    how = handles(spec)
    if how is not None and spec.implemented:
        out.append(f"pysource ({how})")
    return out
